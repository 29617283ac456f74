//! What subscribers and the store observer see: the limit, the time until
//! a lockout lifts, whether an attempt was refused unchecked, and every
//! store call.

#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axes_core::{Attempt, Axes, Event, EventKind, Handler, Settings};

fn engine() -> Axes {
    let settings = Settings {
        handler: Handler::Memory,
        failure_limit: 2,
        cooloff_time: Some(Duration::from_secs(600)),
        ..Settings::default()
    };
    Axes::builder(settings).build().unwrap()
}

fn attempt() -> Attempt {
    Attempt::new()
        .ip_address(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 9)))
        .username("Ann")
}

#[tokio::test]
async fn lockout_events_carry_limit_retry_after_and_refused() {
    let axes = engine();
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = seen.clone();
    axes.subscribe(move |e| sink.lock().unwrap().push(e.clone()));
    for _ in 0..2 {
        let ticket = axes.begin(&attempt()).await.unwrap();
        let _ = ticket.failed().await;
    }
    assert!(axes.begin(&attempt()).await.is_err());
    let seen = seen.lock().unwrap();
    let kinds: Vec<(EventKind, bool)> = seen.iter().map(|e| (e.kind, e.refused)).collect();
    assert_eq!(
        kinds,
        [
            (EventKind::LoginFailed, false),
            (EventKind::LoginFailed, false),
            (EventKind::LockedOut, false),
            (EventKind::LockedOut, true),
        ]
    );
    for e in seen.iter() {
        assert_eq!(e.failure_limit, 2, "{e:?}");
        assert_eq!(e.username.as_deref(), Some("ann"));
    }
    let lockout = &seen[2];
    assert_eq!(lockout.failures, 2);
    assert!(
        lockout.retry_after.is_some_and(|s| (1..=600).contains(&s)),
        "{lockout:?}"
    );
    assert_eq!(seen[0].retry_after, None);
}

#[tokio::test]
async fn the_store_observer_sees_every_call_and_is_set_once() {
    let axes = engine();
    let calls: Arc<Mutex<Vec<(&'static str, bool)>>> = Arc::default();
    let sink = calls.clone();
    assert!(axes.observe_store(move |kind, _took, ok| sink.lock().unwrap().push((kind, ok))));
    assert!(!axes.observe_store(|_, _, _| {}));
    let ticket = axes.begin(&attempt()).await.unwrap();
    let _ = ticket.failed().await;
    axes.ping().await.unwrap();
    let calls = calls.lock().unwrap();
    assert!(calls.len() >= 2, "{calls:?}");
    assert!(
        calls.iter().all(|&(kind, ok)| kind == "memory" && ok),
        "{calls:?}"
    );
}
