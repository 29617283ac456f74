//! `list` and `list --json`.

mod common;

use std::collections::BTreeSet;

use axes_core::Attempt;
use common::{Sandbox, attempt, fail, seed_original_fixture};

fn lines(text: &str) -> BTreeSet<&str> {
    text.lines().collect()
}

#[tokio::test]
async fn list_prints_ip_username_failures() {
    let sb = Sandbox::new();
    seed_original_fixture(&sb).await;
    let axes = sb.axes().await;
    fail(&axes, &attempt("foo", "127.1.0.2")).await;
    let run = sb.run(&["list"]);
    assert_eq!(
        lines(run.ok()),
        BTreeSet::from([
            "127.0.0.1\tdefault\t1",
            "127.1.0.1\tfoo\t1",
            "127.1.0.2\tfoo\t2",
            "127.1.0.1\tbar\t1",
            "127.1.0.2\tbar\t1",
        ])
    );
    assert_eq!(run.stdout.lines().count(), 5);
}

#[tokio::test]
async fn list_of_nothing_prints_nothing() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["list"]).ok(), "");
    assert_eq!(sb.run(&["list", "--json"]).ok(), "[]\n");
}

#[tokio::test]
async fn absent_values_are_empty_fields() {
    let sb = Sandbox::new();
    let axes = sb.axes().await;
    // No username.
    fail(
        &axes,
        &Attempt::new().ip_address("198.51.100.4".parse().unwrap()),
    )
    .await;
    assert_eq!(sb.run(&["list"]).ok(), "198.51.100.4\t\t1\n");
}

#[tokio::test]
async fn list_json_has_the_record_fields() {
    let sb = Sandbox::new();
    let axes = sb.axes().await;
    let a = attempt("alice", "203.0.113.7");
    fail(&axes, &a).await;
    fail(&axes, &a).await;
    fail(&axes, &attempt("bob", "2001:db8::1")).await;
    let run = sb.run(&["list", "--json"]);
    let value: serde_json::Value = serde_json::from_str(run.ok()).unwrap();
    let records = value.as_array().unwrap();
    assert_eq!(records.len(), 2, "{value:#}");
    let alice = records.iter().find(|r| r["username"] == "alice").unwrap();
    assert_eq!(alice["ip_address"], "203.0.113.7");
    assert_eq!(alice["user_agent"], "test-agent");
    assert_eq!(alice["path"], "/login");
    assert_eq!(alice["failures"], 2);
    let time = alice["attempt_time"].as_str().unwrap();
    let parsed = chrono::DateTime::parse_from_rfc3339(time).unwrap();
    let age = chrono::Utc::now() - parsed.with_timezone(&chrono::Utc);
    assert!(age.num_seconds().abs() < 300, "{time}");
    let bob = records.iter().find(|r| r["username"] == "bob").unwrap();
    // IPv6 clients are counted per /64.
    assert!(
        bob["ip_address"]
            .as_str()
            .unwrap()
            .starts_with("2001:db8::"),
        "{bob}"
    );
    assert_eq!(bob["failures"], 1);
}

#[tokio::test]
async fn list_pages_through_more_than_one_page() {
    let sb = Sandbox::new();
    let axes = sb.axes().await;
    let n = axes_core::store::ListQuery::MAX_LIMIT as usize + 5;
    for i in 0..n {
        let ip = format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256);
        fail(&axes, &attempt("user", &ip)).await;
    }
    let out = sb.run(&["list"]);
    let got = lines(out.ok());
    assert_eq!(got.len(), n, "every record exactly once");
    assert_eq!(out.stdout.lines().count(), n);
    let json: serde_json::Value = serde_json::from_str(sb.run(&["list", "--json"]).ok()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), n);
}

#[tokio::test]
async fn control_characters_in_usernames_stay_on_one_line() {
    let sb = Sandbox::new();
    let axes = sb.axes().await;
    fail(&axes, &attempt("eve\tx\n\u{1b}[31m", "192.0.2.9")).await;
    let out = sb.run(&["list"]);
    assert_eq!(out.ok().lines().count(), 1, "{out:#?}");
    assert!(!out.stdout.contains('\u{1b}'), "{out:#?}");
    assert_eq!(out.stdout.matches('\t').count(), 2, "{out:#?}");
    // JSON keeps the exact value.
    let json: serde_json::Value = serde_json::from_str(sb.run(&["list", "--json"]).ok()).unwrap();
    assert_eq!(json[0]["username"], "eve\tx\n\u{1b}[31m");
}

#[tokio::test]
async fn without_stored_ips_none_is_shown() {
    // An old record with an IP, listed after switching to GDPR mode.
    let sb = Sandbox::new();
    let axes = sb.axes().await;
    fail(&axes, &attempt("alice", "203.0.113.7")).await;
    let sb = sb
        .env("AXES_STORE_IP_ADDRESS", "false")
        .env("AXES_LOCKOUT_PARAMETERS", "username");
    assert_eq!(sb.run(&["list"]).ok(), "\talice\t1\n");
    let json: serde_json::Value = serde_json::from_str(sb.run(&["list", "--json"]).ok()).unwrap();
    assert_eq!(json[0]["ip_address"], serde_json::Value::Null);
    assert_eq!(json[0]["username"], "alice");
}

/// `--locked` and the JSON `locked` field are the engine's answer: IPv6
/// clients (stored per /64) included, limits from the settings in force.
#[tokio::test]
async fn list_locked_asks_the_engine() {
    let sb = Sandbox::new().env("AXES_COOLOFF_TIME", "1h");
    let axes = sb.axes().await;
    for _ in 0..3 {
        fail(&axes, &attempt("alice", "203.0.113.7")).await;
        fail(&axes, &attempt("carol", "2001:db8:1:2::7")).await;
    }
    fail(&axes, &attempt("bob", "198.51.100.4")).await;
    assert_eq!(
        lines(sb.run(&["list", "--locked"]).ok()),
        BTreeSet::from(["203.0.113.7\talice\t3", "2001:db8:1:2::/64\tcarol\t3"])
    );
    let json: serde_json::Value = serde_json::from_str(sb.run(&["list", "--json"]).ok()).unwrap();
    let records = json.as_array().unwrap();
    assert_eq!(records.len(), 3);
    for r in records {
        let locked = r["username"] != "bob";
        assert_eq!(r["locked"], locked, "{r}");
        if locked {
            let secs = r["retry_after"].as_u64().unwrap();
            assert!(secs > 3000 && secs <= 3600, "{r}");
        } else {
            assert_eq!(r["retry_after"], serde_json::Value::Null);
        }
    }
    // A higher limit in force: nobody is locked.
    let sb = sb.env("AXES_FAILURE_LIMIT", "4");
    assert_eq!(sb.run(&["list", "--locked"]).ok(), "");
}
