//! Lockouts recorded in SQLite survive a restart: recorded by one engine,
//! seen and reset by the `axes` process, then seen by a fresh engine.

mod common;

use common::{Sandbox, attempt, fail};

#[tokio::test]
async fn lockouts_survive_a_restart() {
    let sb = Sandbox::new();
    let a = attempt("alice", "203.0.113.7");
    {
        let axes = sb.axes().await;
        for _ in 0..3 {
            fail(&axes, &a).await;
        }
        assert!(axes.check(&a).await.lockout.is_some(), "locked out");
    } // The first engine and its connections are gone.

    // Another process sees the lockout.
    assert_eq!(sb.run(&["list"]).ok(), "203.0.113.7\talice\t3\n");

    // A fresh engine over the same file still refuses.
    let axes = sb.axes().await;
    let check = axes.check(&a).await;
    assert!(check.lockout.is_some(), "{check:?}");
    assert_eq!(check.failures, 3);
    assert!(axes.begin(&a).await.is_err());
    drop(axes);

    // The operator lets the client in from the command line ...
    assert_eq!(
        sb.run(&["reset-ip-username", "203.0.113.7", "alice"]).ok(),
        "1 attempts removed.\n"
    );
    // ... and yet another engine admits it again.
    let axes = sb.axes().await;
    assert!(axes.check(&a).await.lockout.is_none());
    assert_eq!(sb.run(&["list"]).ok(), "");
}
