//! `purge` against a SQLite file: it deletes exactly the attempt records
//! whose cool-off has passed and prints `N expired attempts removed.`
//! (SPEC §7).

mod common;

use std::sync::Arc;

use axes_core::ManualClock;
use axes_core::{Axes, Settings};
use common::{Sandbox, attempt, fail};

#[tokio::test]
async fn purge_removes_only_expired_attempts() {
    let sb = Sandbox::new().env("AXES_COOLOFF_TIME", "1h");
    // Three clients failed two hours ago, one just now.
    let clock = ManualClock::new(chrono::Utc::now() - chrono::Duration::hours(2));
    let axes = Axes::builder(Settings {
        cooloff_time: Some(std::time::Duration::from_secs(3600)),
        ..sb.settings()
    })
    .store(sb.store().await)
    .clock(Arc::new(clock.clone()))
    .build()
    .unwrap();
    for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        fail(&axes, &attempt("alice", ip)).await;
    }
    clock.advance(chrono::Duration::hours(2));
    fail(&axes, &attempt("bob", "192.0.2.4")).await;

    let run = sb.run(&["purge"]);
    assert_eq!(run.ok(), "3 expired attempts removed.\n");
    assert_eq!(run.stderr, "");
    assert_eq!(sb.run(&["purge"]).ok(), "0 expired attempts removed.\n");
    // bob's live record is kept.
    assert_eq!(sb.run(&["reset"]).ok(), "1 attempts removed.\n");
}

#[tokio::test]
async fn purge_without_a_cool_off_removes_nothing() {
    let sb = Sandbox::new();
    let axes = sb.axes().await;
    fail(&axes, &attempt("alice", "192.0.2.1")).await;
    assert_eq!(sb.run(&["purge"]).ok(), "0 expired attempts removed.\n");
    assert_eq!(sb.run(&["reset"]).ok(), "1 attempts removed.\n");
}

#[tokio::test]
async fn serve_and_demo_take_a_purge_interval() {
    let sb = Sandbox::new();
    for cmd in ["serve", "demo"] {
        let run = sb.run(&[cmd, "--purge-interval", "soon"]);
        assert_eq!(run.code, 2, "{cmd}: {run:#?}");
        assert!(run.stderr.contains("--purge-interval"), "{cmd}: {run:#?}");
        let help = sb.run(&[cmd, "--help"]);
        assert!(help.ok().contains("--purge-interval"), "{cmd}: {help:#?}");
    }
}
