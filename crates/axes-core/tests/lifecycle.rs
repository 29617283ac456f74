//! Lifecycle events (`reset`, `unlocked`, `expired` besides the login
//! events) and `hide_lockout` in the engine: subscribers see exactly what
//! [`EventKind`] documents.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axes_core::store::ListQuery;
use axes_core::{
    Attempt, AuthError, Axes, Event, EventKind, Field, Handler, LockoutParameters, ManualClock,
    Settings,
};

fn engine(
    limit: u32,
    cooloff: Option<u64>,
    hide: bool,
) -> (Axes, ManualClock, Arc<Mutex<Vec<Event>>>) {
    let clock = ManualClock::fixed();
    let settings = Settings {
        handler: Handler::Memory,
        failure_limit: limit,
        cooloff_time: cooloff.map(Duration::from_secs),
        lockout_parameters: LockoutParameters::any_of(&[Field::IpAddress, Field::Username]),
        hide_lockout: hide,
        ..Settings::default()
    };
    let axes = Axes::builder(settings)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    axes.subscribe(move |e| sink.lock().unwrap().push(e.clone()));
    (axes, clock, seen)
}

fn from(ip: &str, user: &str) -> Attempt {
    Attempt::new()
        .ip_address(ip.parse().unwrap())
        .username(user)
        .method("POST")
}

async fn fail(axes: &Axes, a: &Attempt) {
    if let Ok(t) = axes.begin(a).await {
        let _ = t.failed().await;
    }
}

fn kinds(seen: &Mutex<Vec<Event>>) -> Vec<EventKind> {
    seen.lock().unwrap().drain(..).map(|e| e.kind).collect()
}

#[tokio::test]
async fn a_reset_that_lifts_a_lockout_emits_reset_and_unlocked() {
    let (axes, _clock, seen) = engine(2, None, false);
    let a = from("192.0.2.1", "alice");
    fail(&axes, &a).await;
    fail(&axes, &a).await;
    assert_eq!(
        kinds(&seen),
        [
            EventKind::LoginFailed,
            EventKind::LoginFailed,
            EventKind::LockedOut
        ]
    );

    // A reset matching nothing: a reset event, no unlock.
    assert_eq!(axes.reset(Some("192.0.2.1"), Some("bob")).await.unwrap(), 0);
    let events: Vec<Event> = seen.lock().unwrap().drain(..).collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].kind, EventKind::Reset);
    assert_eq!(events[0].removed, Some(0));
    assert_eq!(events[0].username.as_deref(), Some("bob"));

    assert_eq!(axes.reset(None, Some("Alice")).await.unwrap(), 1);
    let events: Vec<Event> = seen.lock().unwrap().drain(..).collect();
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [EventKind::Reset, EventKind::Unlocked],
        "{events:?}"
    );
    assert_eq!(events[0].removed, Some(1));
    assert_eq!(events[0].username.as_deref(), Some("alice"));
    assert_eq!(events[1].username.as_deref(), Some("alice"));
    assert_eq!(events[1].ip_address.as_deref(), Some("192.0.2.1"));
    assert_eq!(events[1].failures, 2);
    assert!(axes.check(&a).await.lockout.is_none());
}

#[tokio::test]
async fn deleting_a_locking_record_by_id_emits_unlocked() {
    let (axes, _clock, seen) = engine(1, None, false);
    fail(&axes, &from("192.0.2.1", "alice")).await;
    fail(&axes, &from("192.0.2.2", "bob")).await;
    kinds(&seen);
    let page = axes.list_attempts(&ListQuery::all()).await.unwrap();
    let alice: Vec<String> = page
        .items
        .iter()
        .filter(|r| r.key.username.as_deref() == Some("alice"))
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(axes.delete_attempts(&alice).await.unwrap(), 1);
    let events: Vec<Event> = seen.lock().unwrap().drain(..).collect();
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [EventKind::Reset, EventKind::Unlocked]
    );
    assert_eq!(events[1].username.as_deref(), Some("alice"));
}

#[tokio::test]
async fn a_purge_of_a_locking_record_emits_expired() {
    let (axes, clock, seen) = engine(2, Some(60), false);
    let locked = from("192.0.2.1", "alice");
    fail(&axes, &locked).await;
    fail(&axes, &locked).await;
    fail(&axes, &from("192.0.2.2", "bob")).await; // under the limit
    kinds(&seen);
    assert_eq!(axes.purge_expired().await.unwrap(), 0);
    assert!(kinds(&seen).is_empty(), "nothing expired yet");

    clock.advance(chrono::Duration::seconds(61));
    assert_eq!(axes.purge_expired().await.unwrap(), 2);
    let events: Vec<Event> = seen.lock().unwrap().drain(..).collect();
    assert_eq!(events.len(), 1, "only the locking record: {events:?}");
    assert_eq!(events[0].kind, EventKind::Expired);
    assert_eq!(events[0].username.as_deref(), Some("alice"));
    assert_eq!(events[0].failures, 2);
}

#[test]
fn event_kinds_serialise_snake_case() {
    let names: Vec<String> = [
        EventKind::LoginFailed,
        EventKind::LockedOut,
        EventKind::LoggedIn,
        EventKind::LoggedOut,
        EventKind::Reset,
        EventKind::Unlocked,
        EventKind::Expired,
    ]
    .iter()
    .map(|k| serde_json::to_string(k).unwrap())
    .collect();
    assert_eq!(
        names,
        [
            "\"login_failed\"",
            "\"locked_out\"",
            "\"logged_in\"",
            "\"logged_out\"",
            "\"reset\"",
            "\"unlocked\"",
            "\"expired\""
        ]
    );
}

/// With `hide_lockout`, a locked-out client with the right password gets
/// the wrong-password answer, its password is never checked, and the
/// refusal is still counted and sent as `locked_out`.
#[tokio::test]
async fn hidden_lockout_answers_like_a_wrong_password() {
    let (axes, _clock, seen) = engine(2, None, true);
    let a = from("192.0.2.1", "alice");
    let wrong = || async { Ok::<Option<()>, std::convert::Infallible>(None) };
    assert!(matches!(
        axes.authenticate(&a, wrong).await,
        Err(AuthError::InvalidCredentials)
    ));
    // The failure that reaches the limit: still the wrong-password answer.
    assert!(matches!(
        axes.authenticate(&a, wrong).await,
        Err(AuthError::InvalidCredentials)
    ));
    assert_eq!(
        kinds(&seen),
        [
            EventKind::LoginFailed,
            EventKind::LoginFailed,
            EventKind::LockedOut
        ]
    );
    let checked = Arc::new(Mutex::new(false));
    let flag = checked.clone();
    let right = move || async move {
        *flag.lock().unwrap() = true;
        Ok::<Option<()>, std::convert::Infallible>(Some(()))
    };
    assert!(matches!(
        axes.authenticate(&a, right).await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(
        !*checked.lock().unwrap(),
        "the password of a locked client is never checked"
    );
    assert_eq!(kinds(&seen), [EventKind::LockedOut]);
    let r = axes.check(&a).await;
    assert!(r.lockout.is_some());
    assert_eq!(
        r.failures, 3,
        "the refusal still counted (cool-off restarted)"
    );
}
