//! Layered rules and trusted devices through the engine, beyond the
//! conformance scenarios: builder conflicts, what a refusal tells, what the
//! admin's lock status says of scoped records, and tokens an attacker can
//! bring.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::sync::Arc;
use std::time::Duration;

use axes_core::rules::parse_rules_env;
use axes_core::store::ListQuery;
use axes_core::{
    Attempt, AuthError, Axes, ConfigError, Field, Handler, LockoutParameters, LockoutReason,
    ManualClock, Secret, Settings, describe_scope,
};

const IP: &str = "203.0.113.20";
const KEY: &str = "a secret key for device tokens";

fn from(ip: &str, user: &str) -> Attempt {
    Attempt::new()
        .ip_address(ip.parse().unwrap())
        .username(user)
        .method("POST")
}

async fn login(axes: &Axes, a: &Attempt, ok: bool) -> Result<(), AuthError<()>> {
    axes.authenticate(a, || async move { Ok::<_, ()>(ok.then_some(())) })
        .await
}

fn rules(text: &str) -> Settings {
    Settings {
        handler: Handler::Memory,
        lockout_rules: parse_rules_env(text).unwrap(),
        ..Settings::default()
    }
}

fn devices() -> Settings {
    Settings {
        handler: Handler::Memory,
        failure_limit: 2,
        cooloff_time: Some(Duration::from_secs(600)),
        lockout_parameters: LockoutParameters::any_of(&[Field::Username]),
        trusted_device: true,
        secret_key: Some(Secret::new(KEY)),
        ..Settings::default()
    }
}

#[test]
fn the_builder_refuses_what_would_have_no_effect() {
    let hook = Axes::builder(rules("ip_address:5/1h"))
        .failure_limit(|_| 3)
        .build()
        .unwrap_err();
    assert!(matches!(hook, ConfigError::Conflict(ref m) if m.contains("with lockout_rules")));
    let hook = Axes::builder(rules("ip_address:5/1h"))
        .cooloff(|_| None)
        .build()
        .unwrap_err();
    assert!(matches!(hook, ConfigError::Conflict(_)));
    let keyless = Axes::builder(Settings {
        secret_key: None,
        ..devices()
    })
    .build()
    .unwrap_err();
    assert!(keyless.to_string().contains("needs a key"), "{keyless}");
    // A key passed to the builder is enough.
    let axes = Axes::builder(Settings {
        secret_key: None,
        ..devices()
    })
    .device_key(KEY)
    .build()
    .unwrap();
    assert!(axes.issue_device_token("alice").is_some());
    // Off: no token, and a token sent changes nothing.
    let off = Axes::builder(Settings {
        trusted_device: false,
        ..devices()
    })
    .build()
    .unwrap();
    assert_eq!(off.issue_device_token("alice"), None);
}

#[tokio::test]
async fn a_rule_refusal_tells_that_rules_limit_and_time() {
    let clock = ManualClock::new(chrono::Utc::now());
    let axes = Axes::builder(rules("ip_address:10/1h, ip_address+username:2/5m"))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    assert_eq!(axes.failure_limit(), 2);
    let a = from(IP, "alice");
    assert!(matches!(
        login(&axes, &a, false).await,
        Err(AuthError::InvalidCredentials)
    ));
    match login(&axes, &a, false).await {
        Err(AuthError::LockedOut(l)) => {
            assert_eq!(l.reason, LockoutReason::TooManyFailures);
            assert_eq!(l.failure_limit, 2);
            assert_eq!(l.retry_after_secs(), Some(300));
        }
        other => panic!("{other:?}"),
    }
    let check = axes.check(&a).await;
    assert_eq!(check.failure_limit, 2);
    assert_eq!(check.failures, 2);
    // The admin's view of each stored record: the engine's answer, with
    // the rule that locks.
    let records = axes.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(records.total, 2, "one record per rule");
    let mut described: Vec<String> = records
        .items
        .iter()
        .filter_map(|r| describe_scope(&r.key.scope))
        .collect();
    described.sort();
    assert_eq!(
        described,
        ["rule ip_address+username/5m", "rule ip_address/1h"]
    );
    for r in &records.items {
        let status = axes.lockout_status(&r.key).await.unwrap();
        assert!(status.is_locked(), "{r:?}");
        assert_eq!(status.locking.len(), 1);
        assert_eq!(
            status.locking[0].rule.as_deref(),
            Some("ip_address+username:2/5m")
        );
        assert_eq!(status.locking[0].failure_limit, 2);
    }
    // Another user from the address: the address rule has room.
    assert!(login(&axes, &from(IP, "bob"), true).await.is_ok());
    // The purge window is the longest rule's.
    assert_eq!(axes.purge_window(), Some(chrono::Duration::hours(1)));
    let until_reset = Axes::builder(rules("ip_address:10/1h, username:3"))
        .build()
        .unwrap();
    assert_eq!(until_reset.purge_window(), None);
}

#[tokio::test]
async fn device_tokens_are_bound_to_the_normalised_username() {
    let axes = Axes::builder(devices()).build().unwrap();
    let token = axes.issue_device_token("  ALICE ").unwrap();
    let attacker = from("198.51.100.66", "alice");
    for _ in 0..3 {
        let _ = login(&axes, &attacker, false).await;
    }
    assert!(matches!(
        login(&axes, &from(IP, "alice"), true).await,
        Err(AuthError::LockedOut(_))
    ));
    // Her browser, whatever case she types her name in.
    let mine = from(IP, "Alice").device_token(&token);
    assert!(login(&axes, &mine, true).await.is_ok());
    let p = axes.prepare(&mine);
    assert!(p.device.is_some());
    assert!(p.key.scope.starts_with("device:"));
    // Junk of every size counts as none, and never panics.
    for junk in [
        String::new(),
        "x".repeat(100_000),
        format!("{token}x"),
        token.to_uppercase(),
    ] {
        let a = from(IP, "alice").device_token(junk);
        assert_eq!(axes.prepare(&a).device, None);
        assert!(matches!(
            login(&axes, &a, true).await,
            Err(AuthError::LockedOut(_))
        ));
    }
    // Another engine's key: none.
    let other = Axes::builder(Settings {
        secret_key: Some(Secret::new("another secret key, 32 bytes...")),
        ..devices()
    })
    .build()
    .unwrap();
    let foreign = other.issue_device_token("alice").unwrap();
    assert_eq!(
        axes.prepare(&from(IP, "alice").device_token(foreign))
            .device,
        None
    );
    // Logs keep no scope; the token is never in a log or an event.
    axes.logged_in(&mine, Some("session")).await;
    let logs = axes.list_access_logs(&ListQuery::all()).await.unwrap();
    assert!(logs.items.iter().all(|r| r.entry.key.scope.is_empty()));
    assert!(!format!("{logs:?}").contains(&token));
    assert!(
        !format!("{mine:?}").contains(&token),
        "Debug redacts the token"
    );
}

#[tokio::test]
async fn a_locked_device_is_locked_in_the_admin_view_and_only_there() {
    let axes = Axes::builder(devices()).build().unwrap();
    let token = axes.issue_device_token("alice").unwrap();
    let device = from(IP, "alice").device_token(&token);
    let _ = login(&axes, &device, false).await;
    assert!(matches!(
        login(&axes, &device, false).await,
        Err(AuthError::LockedOut(_))
    ));
    // The device's lockout is its own: the name is not locked elsewhere.
    assert!(
        login(&axes, &from("198.51.100.7", "alice"), true)
            .await
            .is_ok()
    );
    let records = axes.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(records.total, 1);
    let r = &records.items[0];
    assert!(
        describe_scope(&r.key.scope)
            .unwrap()
            .starts_with("trusted device ")
    );
    assert!(axes.lockout_status(&r.key).await.unwrap().is_locked());
    // A reset by username lifts it.
    assert_eq!(axes.reset(None, Some("alice")).await.unwrap(), 1);
    assert!(login(&axes, &device, true).await.is_ok());
}
