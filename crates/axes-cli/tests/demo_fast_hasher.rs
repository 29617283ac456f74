#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `axes demo --password-hasher fast` (for benchmarks only): the demo
//! started with it logs alice in with the right password, refuses the wrong
//! one, and says at start that the hasher is for benchmarks only.

mod process_support;

use process_support::{AxesEnv, PASSWORD, client, login};

#[tokio::test]
async fn fast_hasher_logs_in_with_the_right_password_only() {
    let env = AxesEnv::new().set("AXES_HANDLER", "memory");
    let demo = env.demo_with("fast", "alice", &["--password-hasher", "fast"]);
    let http = client();
    let (wrong, _) = login(&http, &demo.url, "alice", "not-the-password").await;
    assert_eq!(wrong, 401, "{}", demo.log_text());
    let (right, _) = login(&http, &demo.url, "alice", PASSWORD).await;
    assert_eq!(right, 303, "{}", demo.log_text());
    assert_eq!(
        demo.wait_log("for benchmarks only", 1),
        1,
        "{}",
        demo.log_text()
    );
}

#[test]
fn an_unknown_hasher_is_refused() {
    let run = AxesEnv::new().run(&["demo", "--password-hasher", "md5"]);
    assert_ne!(run.code, 0, "{run:#?}");
    assert!(run.stderr.contains("fast"), "{run:#?}");
}

#[test]
fn help_says_the_fast_hasher_is_for_benchmarks_only() {
    let run = AxesEnv::new().run(&["demo", "--help"]);
    let help = run.ok();
    assert!(help.contains("--password-hasher"), "{help}");
    assert!(help.contains("benchmarks only"), "{help}");
}
