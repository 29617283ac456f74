//! The engine's code hooks (`allow_user`, `username_rule`, per-attempt
//! `failure_limit` and `cooloff`) and [`Axes::lockout_status`]: each test
//! fails when the hook is ignored, or when the status disagrees with
//! `check`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::sync::Arc;
use std::time::Duration;

use axes_core::store::{ListQuery, RecordKey};
use axes_core::{
    Attempt, Axes, AxesBuilder, Field, Handler, LockoutParameters, LockoutReason, ManualClock,
    Settings,
};

fn settings(limit: u32, cooloff: Option<u64>, params: &[Field]) -> Settings {
    Settings {
        handler: Handler::Memory,
        failure_limit: limit,
        cooloff_time: cooloff.map(Duration::from_secs),
        lockout_parameters: LockoutParameters::any_of(params),
        ..Settings::default()
    }
}

fn builder(s: Settings, clock: &ManualClock) -> AxesBuilder {
    Axes::builder(s).clock(Arc::new(clock.clone()))
}

fn from(ip: &str, user: &str) -> Attempt {
    Attempt::new()
        .ip_address(ip.parse().unwrap())
        .username(user)
        .method("POST")
}

/// One wrong password; `false` when refused before the check.
async fn fail(axes: &Axes, a: &Attempt) -> bool {
    match axes.begin(a).await {
        Ok(t) => {
            let _ = t.failed().await;
            true
        }
        Err(_) => false,
    }
}

#[tokio::test]
async fn allow_user_exempts_exactly_the_users_it_names() {
    let clock = ManualClock::fixed();
    let axes = builder(settings(1, None, &[Field::Username]), &clock)
        .allow_user(|p| p.key.username.as_deref() == Some("vip"))
        .build()
        .unwrap();
    let vip = from("192.0.2.1", "VIP");
    for _ in 0..5 {
        assert!(fail(&axes, &vip).await, "an allowed user is never refused");
    }
    assert!(axes.check(&vip).await.lockout.is_none());
    let listed = axes.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(
        listed.total, 0,
        "an allowed user's failures are not counted"
    );

    let other = from("192.0.2.1", "other");
    assert!(fail(&axes, &other).await);
    assert!(!fail(&axes, &other).await, "the hook exempts no one else");
}

#[tokio::test]
async fn username_rule_decides_which_names_share_a_count() {
    let clock = ManualClock::fixed();
    // Mail addresses of the company domain count as the bare name.
    let axes = builder(settings(2, None, &[Field::Username]), &clock)
        .username_rule(|raw| {
            let lower = raw.trim().to_lowercase();
            lower
                .strip_suffix("@example.com")
                .map(str::to_owned)
                .unwrap_or(lower)
        })
        .build()
        .unwrap();
    assert!(fail(&axes, &from("192.0.2.1", "alice@EXAMPLE.com")).await);
    assert!(fail(&axes, &from("192.0.2.2", "Alice")).await);
    let r = axes.check(&from("192.0.2.3", "alice")).await;
    assert!(r.lockout.is_some(), "both spellings counted as one: {r:?}");
    let listed = axes.list_attempts(&ListQuery::all()).await.unwrap();
    assert!(
        listed
            .items
            .iter()
            .all(|r| r.key.username.as_deref() == Some("alice")),
        "{listed:?}"
    );
    // Another domain is another user under this rule.
    assert!(
        axes.check(&from("192.0.2.3", "alice@example.org"))
            .await
            .lockout
            .is_none()
    );
}

#[tokio::test]
async fn failure_limit_hook_applies_per_attempt() {
    let clock = ManualClock::fixed();
    let axes = builder(settings(3, None, &[Field::IpAddress]), &clock)
        .failure_limit(|p| match p.ip {
            Some(ip) if ip.to_string() == "192.0.2.1" => 1,
            _ => 6,
        })
        .build()
        .unwrap();
    let strict = from("192.0.2.1", "a");
    assert!(fail(&axes, &strict).await);
    let r = axes.check(&strict).await;
    assert_eq!(r.failure_limit, 1);
    assert!(r.lockout.is_some(), "the hook's limit of 1 applies: {r:?}");

    let lenient = from("192.0.2.2", "a");
    for i in 0..5 {
        assert!(
            fail(&axes, &lenient).await,
            "failure {i} is under the hook's 6"
        );
    }
    let r = axes.check(&lenient).await;
    assert_eq!((r.failures, r.failure_limit), (5, 6));
    assert!(r.lockout.is_none(), "not the settings' limit of 3: {r:?}");
    assert!(fail(&axes, &lenient).await);
    assert!(!fail(&axes, &lenient).await, "refused at 6");
}

#[tokio::test]
async fn cooloff_hook_applies_per_attempt() {
    let clock = ManualClock::fixed();
    // No cool-off in the settings (lockouts last until reset), one minute
    // for one client.
    let axes = builder(settings(1, None, &[Field::IpAddress]), &clock)
        .cooloff(|p| {
            (p.key.ip_address.as_deref() == Some("192.0.2.1")).then(|| Duration::from_secs(60))
        })
        .build()
        .unwrap();
    let short = from("192.0.2.1", "a");
    let forever = from("192.0.2.2", "a");
    assert!(fail(&axes, &short).await);
    assert!(fail(&axes, &forever).await);
    let l = axes.check(&short).await.lockout.expect("locked");
    assert_eq!(l.retry_after, Some(Duration::from_secs(60)));
    assert_eq!(l.cooloff, Some(Duration::from_secs(60)));
    let l = axes.check(&forever).await.lockout.expect("locked");
    assert!(l.is_permanent());

    clock.advance(chrono::Duration::seconds(61));
    assert!(
        axes.check(&short).await.lockout.is_none(),
        "the hook's cool-off passed"
    );
    assert!(axes.check(&forever).await.lockout.is_some());
}

/// `lockout_status` of a stored key says what `check` says for an attempt
/// of that client, hooks included — for IPv6 clients too, whose key is a
/// /64 network (the admin's detail view used to re-parse it as an address
/// and got it wrong).
#[tokio::test]
async fn lockout_status_agrees_with_check_for_ipv4_and_ipv6_keys() {
    let clock = ManualClock::fixed();
    let axes = builder(settings(3, Some(600), &[Field::IpAddress]), &clock)
        .failure_limit(|p| if p.method == "POST" { 2 } else { 9 })
        .build()
        .unwrap();
    for ip in ["2001:db8:1:2::7", "192.0.2.9"] {
        let a = from(ip, "a");
        assert!(fail(&axes, &a).await);
        assert!(fail(&axes, &a).await);
        assert!(axes.check(&a).await.lockout.is_some());
    }
    let listed = axes.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(listed.total, 2);
    for record in &listed.items {
        let status = axes.lockout_status(&record.key).await.unwrap();
        assert!(status.is_locked(), "{:?}: {status:?}", record.key);
        assert_eq!(status.check.failure_limit, 2, "the hook applies");
        assert_eq!(status.check.failures, 2);
        assert_eq!(status.retry_after(), Some(Duration::from_secs(600)));
        assert_eq!(status.locking.len(), 1);
        assert_eq!(status.locking[0].alternative.to_string(), "ip_address");
    }
    assert!(
        listed
            .items
            .iter()
            .any(|r| r.key.ip_address.as_deref() == Some("2001:db8:1:2::/64"))
    );

    // An unknown client is not locked; a deny-listed network is, by the list.
    let stranger = RecordKey {
        scope: String::new(),
        username: None,
        ip_address: Some("2001:db8:9::/64".into()),
        user_agent: String::new(),
    };
    assert!(!axes.lockout_status(&stranger).await.unwrap().is_locked());
    let denying = builder(
        Settings {
            ip_blacklist: vec!["2001:db8:9::/48".parse().unwrap()],
            ..settings(3, None, &[Field::IpAddress])
        },
        &clock,
    )
    .build()
    .unwrap();
    let status = denying.lockout_status(&stranger).await.unwrap();
    assert_eq!(
        status.check.lockout.map(|l| l.reason),
        Some(LockoutReason::Denied)
    );
}

/// A stored key the lockout parameters cannot count (no username under
/// username lockout: a record from before the settings changed) is not a
/// client the engine refuses.
#[tokio::test]
async fn a_key_the_parameters_cannot_count_is_not_locked() {
    let clock = ManualClock::fixed();
    let axes = builder(settings(1, None, &[Field::Username]), &clock)
        .build()
        .unwrap();
    let key = RecordKey {
        scope: String::new(),
        username: None,
        ip_address: Some("192.0.2.1".into()),
        user_agent: String::new(),
    };
    let status = axes.lockout_status(&key).await.unwrap();
    assert_eq!(
        status.check.lockout.as_ref().map(|l| l.reason),
        Some(LockoutReason::Unidentified)
    );
    assert!(!status.is_locked());
}
