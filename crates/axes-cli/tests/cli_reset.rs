//! `reset`, `reset-ip`, `reset-username`, `reset-ip-username` against a
//! SQLite file, with the fixture of django-axes' management command tests.

mod common;

use common::{Sandbox, attempt, fail, seed_original_fixture};

#[tokio::test]
async fn reset_removes_every_attempt() {
    let sb = Sandbox::new();
    seed_original_fixture(&sb).await;
    assert_eq!(sb.run(&["reset"]).ok(), "5 attempts removed.\n");
    assert_eq!(sb.run(&["reset"]).ok(), "No attempts found.\n");
}

#[tokio::test]
async fn reset_on_an_empty_store() {
    let sb = Sandbox::new();
    let run = sb.run(&["reset"]);
    assert_eq!(run.ok(), "No attempts found.\n");
    assert_eq!(run.stderr, "");
}

#[tokio::test]
async fn reset_username_removes_that_users_attempts() {
    let sb = Sandbox::new();
    seed_original_fixture(&sb).await;
    assert_eq!(
        sb.run(&["reset-username", "foo"]).ok(),
        "2 attempts removed.\n"
    );
    assert_eq!(
        sb.run(&["reset-username", "foo"]).ok(),
        "No attempts found.\n"
    );
    // Usernames are normalised as at login.
    assert_eq!(
        sb.run(&["reset-username", " BAR "]).ok(),
        "2 attempts removed.\n"
    );
}

#[tokio::test]
async fn reset_username_sums_over_several_names() {
    let sb = Sandbox::new();
    seed_original_fixture(&sb).await;
    assert_eq!(
        sb.run(&["reset-username", "foo", "bar", "nobody"]).ok(),
        "4 attempts removed.\n"
    );
}

#[tokio::test]
async fn reset_ip_removes_that_ips_attempts() {
    let sb = Sandbox::new();
    seed_original_fixture(&sb).await;
    assert_eq!(
        sb.run(&["reset-ip", "127.1.0.1"]).ok(),
        "2 attempts removed.\n"
    );
    assert_eq!(
        sb.run(&["reset-ip", "127.1.0.1"]).ok(),
        "No attempts found.\n"
    );
}

#[tokio::test]
async fn reset_ip_sums_over_several_ips() {
    let sb = Sandbox::new();
    seed_original_fixture(&sb).await;
    assert_eq!(
        sb.run(&["reset-ip", "127.1.0.1", "127.1.0.2", "10.9.9.9"])
            .ok(),
        "4 attempts removed.\n"
    );
}

#[tokio::test]
async fn one_attempt_keeps_the_original_grammar() {
    let sb = Sandbox::new();
    seed_original_fixture(&sb).await;
    assert_eq!(
        sb.run(&["reset-ip", "127.0.0.1"]).ok(),
        "1 attempts removed.\n"
    );
}

#[tokio::test]
async fn ipv4_mapped_ipv6_is_the_same_client() {
    let sb = Sandbox::new();
    seed_original_fixture(&sb).await;
    assert_eq!(
        sb.run(&["reset-ip", "::ffff:127.1.0.2"]).ok(),
        "2 attempts removed.\n"
    );
}

#[tokio::test]
async fn reset_ip_username_needs_both_to_match() {
    let sb = Sandbox::new();
    seed_original_fixture(&sb).await;
    assert_eq!(
        sb.run(&["reset-ip-username", "127.1.0.1", "foo"]).ok(),
        "1 attempts removed.\n"
    );
    // AND, not OR: foo's other IP and the IP's other user are kept.
    assert_eq!(
        sb.run(&["reset-ip-username", "127.1.0.1", "foo"]).ok(),
        "No attempts found.\n"
    );
    assert_eq!(
        sb.run(&["reset-ip-username", "127.0.0.1", "foo"]).ok(),
        "No attempts found.\n"
    );
    assert_eq!(sb.run(&["reset"]).ok(), "4 attempts removed.\n");
}

#[tokio::test]
async fn reset_ip_username_takes_exactly_two_arguments() {
    let sb = Sandbox::new();
    seed_original_fixture(&sb).await;
    for args in [
        &["reset-ip-username"][..],
        &["reset-ip-username", "127.1.0.1"],
        &["reset-ip-username", "127.1.0.1", "foo", "bar"],
    ] {
        let run = sb.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert_eq!(run.stdout, "");
    }
    assert_eq!(sb.run(&["reset"]).ok(), "5 attempts removed.\n");
}

#[tokio::test]
async fn reset_ip_and_reset_username_need_an_argument() {
    let sb = Sandbox::new();
    for cmd in ["reset-ip", "reset-username"] {
        let run = sb.run(&[cmd]);
        assert_eq!(run.code, 2, "{cmd}: {run:#?}");
        assert!(run.stderr.contains("Usage"), "{cmd}: {run:#?}");
    }
}

#[tokio::test]
async fn a_malformed_ip_is_an_error_not_a_silent_no_match() {
    let sb = Sandbox::new();
    seed_original_fixture(&sb).await;
    for bad in ["300.1.1.1", "abc", "", "127.1.0.1/33"] {
        let run = sb.run(&["reset-ip", bad]);
        assert_eq!(run.code, 2, "{bad:?}: {run:#?}");
        assert_eq!(run.stdout, "", "{bad:?}");
        assert!(run.stderr.contains("not a valid IP address"), "{run:#?}");
        let run = sb.run(&["reset-ip-username", bad, "foo"]);
        assert_eq!(run.code, 2, "{bad:?}: {run:#?}");
    }
    // Checked before anything is deleted: the good IP before the bad one
    // keeps its records.
    let run = sb.run(&["reset-ip", "127.1.0.1", "300.1.1.1"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("300.1.1.1"), "{run:#?}");
    assert_eq!(sb.run(&["reset"]).ok(), "5 attempts removed.\n");
}

#[tokio::test]
async fn an_empty_username_is_an_error() {
    let sb = Sandbox::new();
    seed_original_fixture(&sb).await;
    let run = sb.run(&["reset-username", "foo", "  "]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("empty"), "{run:#?}");
    assert_eq!(sb.run(&["reset"]).ok(), "5 attempts removed.\n");
}

#[tokio::test]
async fn reset_lifts_a_lockout() {
    let sb = Sandbox::new();
    let axes = sb.axes().await;
    let a = attempt("alice", "203.0.113.7");
    for _ in 0..3 {
        fail(&axes, &a).await;
    }
    assert!(axes.check(&a).await.lockout.is_some());
    assert_eq!(
        sb.run(&["reset-ip", "203.0.113.7"]).ok(),
        "1 attempts removed.\n"
    );
    assert!(axes.check(&a).await.lockout.is_none());
}
