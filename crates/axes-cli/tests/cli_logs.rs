//! `reset-logs` and `reset-failure-logs`: logs aged 3, 9 and 27 days, as in
//! django-axes' tests.

mod common;

use common::{Sandbox, seed_access_logs, seed_failure_logs};

const AGES: [i64; 3] = [3, 9, 27];

async fn access_logs() -> Sandbox {
    let sb = Sandbox::new();
    seed_access_logs(&sb, &AGES).await;
    sb
}

async fn failure_logs() -> Sandbox {
    let sb = Sandbox::new();
    seed_failure_logs(&sb, &AGES).await;
    sb
}

#[tokio::test]
async fn default_age_is_30_days() {
    let sb = access_logs().await;
    assert_eq!(sb.run(&["reset-logs"]).ok(), "No logs found.\n");
}

#[tokio::test]
async fn ages() {
    for (age, expected) in [
        ("2", "3 logs removed.\n"),
        ("4", "2 logs removed.\n"),
        ("16", "1 logs removed.\n"),
        ("30", "No logs found.\n"),
    ] {
        let sb = access_logs().await;
        assert_eq!(
            sb.run(&["reset-logs", "--age", age]).ok(),
            expected,
            "--age {age}"
        );
        let sb = access_logs().await;
        assert_eq!(
            sb.run(&["reset-logs", &format!("--age={age}")]).ok(),
            expected,
            "--age={age}"
        );
    }
}

#[tokio::test]
async fn age_as_a_positional_argument() {
    let sb = access_logs().await;
    assert_eq!(sb.run(&["reset-logs", "16"]).ok(), "1 logs removed.\n");
    assert_eq!(sb.run(&["reset-logs", "4"]).ok(), "1 logs removed.\n");
    assert_eq!(sb.run(&["reset-logs", "0"]).ok(), "1 logs removed.\n");
    assert_eq!(sb.run(&["reset-logs", "0"]).ok(), "No logs found.\n");
}

#[tokio::test]
async fn successive_resets() {
    let sb = access_logs().await;
    assert_eq!(
        sb.run(&["reset-logs", "--age", "16"]).ok(),
        "1 logs removed.\n"
    );
    assert_eq!(
        sb.run(&["reset-logs", "--age", "4"]).ok(),
        "1 logs removed.\n"
    );
    assert_eq!(
        sb.run(&["reset-logs", "--age", "2"]).ok(),
        "1 logs removed.\n"
    );
    assert_eq!(
        sb.run(&["reset-logs", "--age", "2"]).ok(),
        "No logs found.\n"
    );
}

#[tokio::test]
async fn bad_ages_are_usage_errors() {
    let sb = access_logs().await;
    for args in [
        &["reset-logs", "--age", "4", "16"][..],
        &["reset-logs", "--age", "-1"],
        &["reset-logs", "--age", "many"],
        &["reset-logs", "4", "16"],
        &["reset-logs", "--age"],
        &["reset-failure-logs", "--age", "4", "16"],
    ] {
        let run = sb.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert_eq!(run.stdout, "", "{args:?}");
    }
    // Nothing was deleted.
    assert_eq!(sb.run(&["reset-logs", "0"]).ok(), "3 logs removed.\n");
}

#[tokio::test]
async fn failure_logs_ages() {
    let sb = failure_logs().await;
    assert_eq!(sb.run(&["reset-failure-logs"]).ok(), "No logs found.\n");
    for (age, expected) in [
        ("2", "3 logs removed.\n"),
        ("4", "2 logs removed.\n"),
        ("16", "1 logs removed.\n"),
    ] {
        let sb = failure_logs().await;
        assert_eq!(
            sb.run(&["reset-failure-logs", "--age", age]).ok(),
            expected,
            "--age {age}"
        );
    }
    let sb = failure_logs().await;
    assert_eq!(
        sb.run(&["reset-failure-logs", "16"]).ok(),
        "1 logs removed.\n"
    );
}

#[tokio::test]
async fn the_two_logs_are_separate() {
    let sb = access_logs().await;
    seed_failure_logs(&sb, &[40]).await;
    assert_eq!(sb.run(&["reset-failure-logs"]).ok(), "1 logs removed.\n");
    assert_eq!(sb.run(&["reset-logs", "0"]).ok(), "3 logs removed.\n");
    assert_eq!(
        sb.run(&["reset-failure-logs", "0"]).ok(),
        "No logs found.\n"
    );
}
