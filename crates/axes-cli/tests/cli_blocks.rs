//! `block`, `unblock` and `list --blocks` against a SQLite file (SPEC §7):
//! a block refuses a right password at once and counts nothing; unblock
//! lifts it; bad input is exit status 2 with a message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axes_core::LockoutReason;
use chrono::{DateTime, Utc};
use common::{Sandbox, attempt};

const IP: &str = "203.0.113.7";

/// Whether a login with the right password gets through (and how many
/// attempt records there are afterwards).
async fn right_password_passes(sb: &Sandbox, user: &str, ip: &str) -> bool {
    let axes = sb.axes().await;
    let outcome = axes
        .authenticate(&attempt(user, ip), || async {
            Ok::<_, std::convert::Infallible>(Some(()))
        })
        .await;
    outcome.is_ok()
}

#[tokio::test]
async fn block_refuses_a_right_password_at_once_and_unblock_lifts_it() {
    let sb = Sandbox::new();
    assert!(right_password_passes(&sb, "alice", IP).await);

    let run = sb.run(&["block", "--ip", IP]);
    assert_eq!(run.ok(), format!("Blocked ip {IP}.\n"));
    assert_eq!(run.stderr, "", "no log line repeats it");
    let axes = sb.axes().await;
    let check = axes.check(&attempt("alice", IP)).await;
    let lockout = check.lockout.expect("refused by the block");
    assert_eq!(lockout.reason, LockoutReason::Blocked);
    assert_eq!(lockout.retry_after, None, "until unblocked");
    assert!(!right_password_passes(&sb, "alice", IP).await);
    assert!(!right_password_passes(&sb, "bob", IP).await, "any username");
    assert!(
        right_password_passes(&sb, "alice", "198.51.100.1").await,
        "another IP"
    );
    // Nothing was counted for the refused attempts.
    assert_eq!(sb.run(&["list"]).ok(), "");

    // `list --blocks`: who set it, until when.
    assert_eq!(
        sb.run(&["list", "--blocks"]).ok(),
        format!("{IP}\t\tforever\tmanual\tcli\n")
    );
    let json: serde_json::Value =
        serde_json::from_str(sb.run(&["list", "--blocks", "--json"]).ok()).unwrap();
    let items = json.as_array().unwrap();
    assert_eq!(items.len(), 1, "{json}");
    assert_eq!(items[0]["kind"], "manual");
    assert_eq!(items[0]["ip_address"], IP);
    assert_eq!(items[0]["username"], serde_json::Value::Null);
    assert_eq!(items[0]["until"], serde_json::Value::Null);
    assert_eq!(items[0]["created_by"], "cli");
    assert_eq!(items[0]["lockouts"], 0);

    assert_eq!(
        sb.run(&["unblock", "--ip", IP]).ok(),
        format!("Unblocked ip {IP}.\n")
    );
    assert!(right_password_passes(&sb, "alice", IP).await);
    assert_eq!(sb.run(&["unblock", "--ip", IP]).ok(), "No block found.\n");
    assert_eq!(sb.run(&["list", "--blocks"]).ok(), "");
    assert_eq!(sb.run(&["list", "--blocks", "--json"]).ok(), "[]\n");
}

#[tokio::test]
async fn a_username_block_for_a_while_prints_its_end() {
    let sb = Sandbox::new();
    let before = Utc::now();
    let out = sb
        .run(&["block", "--username", " Mallory ", "--for", "2h"])
        .ok()
        .to_owned();
    let after = Utc::now();
    let until = out
        .strip_prefix("Blocked username \"mallory\" until ")
        .and_then(|rest| rest.strip_suffix(".\n"))
        .unwrap_or_else(|| panic!("{out:?}"));
    let until: DateTime<Utc> = until.parse().unwrap();
    let two_hours = chrono::Duration::hours(2);
    // Printed to the second.
    assert!(until >= before + two_hours - chrono::Duration::seconds(1));
    assert!(until <= after + two_hours, "{until} {after}");
    assert!(!right_password_passes(&sb, "mallory", IP).await);
    assert!(!right_password_passes(&sb, "MALLORY", "198.51.100.1").await);
    assert!(right_password_passes(&sb, "alice", IP).await);
    let axes = sb.axes().await;
    let retry = axes
        .check(&attempt("mallory", IP))
        .await
        .lockout
        .unwrap()
        .retry_after_secs()
        .unwrap();
    assert!((7100..=7200).contains(&retry), "{retry}");
    let line = sb.run(&["list", "--blocks"]).ok().to_owned();
    assert!(
        line.starts_with("\tmallory\t") && line.ends_with("\tmanual\tcli\n"),
        "{line:?}"
    );
    // Unblock needs the same target: the IP alone is another block.
    assert_eq!(sb.run(&["unblock", "--ip", IP]).ok(), "No block found.\n");
    assert_eq!(
        sb.run(&["unblock", "--username", "MALLORY"]).ok(),
        "Unblocked username \"mallory\".\n"
    );
}

#[tokio::test]
async fn a_pair_block_refuses_only_the_pair() {
    let sb = Sandbox::new();
    assert_eq!(
        sb.run(&["block", "--ip", IP, "--username", "alice", "--for", "30m"])
            .code,
        0
    );
    assert!(!right_password_passes(&sb, "alice", IP).await);
    assert!(right_password_passes(&sb, "bob", IP).await);
    assert!(right_password_passes(&sb, "alice", "198.51.100.1").await);
    // Blocking again replaces the block (now until unblocked).
    assert_eq!(
        sb.run(&["block", "--username", "alice", "--ip", IP]).ok(),
        format!("Blocked ip {IP} and username \"alice\".\n")
    );
    assert_eq!(
        sb.run(&["list", "--blocks"]).ok(),
        format!("{IP}\talice\tforever\tmanual\tcli\n")
    );
    assert_eq!(
        sb.run(&["unblock", "--ip", IP, "--username", "alice"]).ok(),
        format!("Unblocked ip {IP} and username \"alice\".\n")
    );
    assert!(right_password_passes(&sb, "alice", IP).await);
}

#[test]
fn bad_input_is_exit_status_2_with_a_message() {
    let sb = Sandbox::new();
    for (args, needle) in [
        (&["block", "--ip", "300.1.1.1"][..], "300.1.1.1"),
        (&["unblock", "--ip", "nope"][..], "nope"),
        (&["block", "--ip", IP, "--for", "0"][..], "zero"),
        (&["block", "--ip", IP, "--for", "0s"][..], "zero"),
        (&["block", "--ip", IP, "--for", "200years"][..], "100 years"),
        (&["block", "--ip", IP, "--for", "soon"][..], "--for"),
        (&["block", "--username", "   "][..], ""),
        (&["block"][..], "--ip"),
        (&["unblock"][..], "--ip"),
        (&["block", "--for", "2h"][..], "--ip"),
        (&["list", "--blocks", "--locked"][..], "--locked"),
    ] {
        let run = sb.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }
    // Nothing was blocked by any of them.
    assert_eq!(sb.run(&["list", "--blocks"]).ok(), "");
}

#[test]
fn an_ip_cannot_be_blocked_when_ips_are_not_stored() {
    let sb = Sandbox::new()
        .env("AXES_STORE_IP_ADDRESS", "false")
        .env("AXES_LOCKOUT_PARAMETERS", "username");
    let run = sb.run(&["block", "--ip", IP]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("store_ip_address"), "{}", run.stderr);
    assert_eq!(
        sb.run(&["block", "--username", "eve"]).ok(),
        "Blocked username \"eve\".\n"
    );
}

#[tokio::test]
async fn addresses_are_blocked_in_their_canonical_form() {
    let sb = Sandbox::new();
    // IPv6 by its /64 network (ipv6_prefix), mapped IPv4 as IPv4.
    assert_eq!(
        sb.run(&["block", "--ip", "2001:db8::1", "--for", "90m"])
            .ok()
            .split(" until ")
            .next(),
        Some("Blocked ip 2001:db8::/64")
    );
    assert!(!right_password_passes(&sb, "alice", "2001:db8::2").await);
    assert!(right_password_passes(&sb, "alice", "2001:db8:1::1").await);
    assert_eq!(
        sb.run(&["block", "--ip", "::ffff:203.0.113.7"]).ok(),
        "Blocked ip 203.0.113.7.\n"
    );
    assert!(!right_password_passes(&sb, "alice", IP).await);
    assert_eq!(
        sb.run(&["unblock", "--ip", "2001:db8::ffff"]).ok(),
        "Unblocked ip 2001:db8::/64.\n"
    );
    assert_eq!(
        sb.run(&["unblock", "--ip", IP]).ok(),
        "Unblocked ip 203.0.113.7.\n"
    );
}

/// A lockout lengthened by the progressive cool-off is listed with the
/// blocks (kind `lockout`); a first lockout (its row refuses nothing) is
/// not.
#[tokio::test]
async fn escalated_lockouts_are_listed_with_the_blocks() {
    use std::sync::Arc;
    use std::time::Duration;

    let sb = Sandbox::new();
    let clock = axes_core::ManualClock::new(Utc::now() - chrono::Duration::minutes(20));
    let axes = axes_core::Axes::builder(axes_core::Settings {
        cooloff_time: Some(Duration::from_secs(15 * 60)),
        cooloff_multiplier: 2.0,
        ..sb.settings()
    })
    .store(sb.store().await)
    .clock(Arc::new(clock.clone()))
    .build()
    .unwrap();
    let a = attempt("alice", IP);
    for _ in 0..3 {
        common::fail(&axes, &a).await;
    }
    assert_eq!(sb.run(&["list", "--blocks"]).ok(), "", "a first lockout");
    // Its cool-off passes; the second lockout lasts 30 minutes.
    clock.advance(chrono::Duration::minutes(16));
    for _ in 0..3 {
        common::fail(&axes, &a).await;
    }
    let text = sb.run(&["list", "--blocks"]).ok().to_owned();
    let fields: Vec<&str> = text.trim_end_matches('\n').split('\t').collect();
    assert_eq!(fields.len(), 5, "{text:?}");
    assert_eq!(fields[0], IP, "{text:?}");
    assert_eq!(&fields[3..], ["lockout", "2 lockouts"], "{text:?}");
    let until: DateTime<Utc> = fields[2].parse().unwrap();
    let left = until - Utc::now();
    assert!(
        left > chrono::Duration::minutes(20) && left <= chrono::Duration::minutes(26),
        "{left}"
    );
    let json: serde_json::Value =
        serde_json::from_str(sb.run(&["list", "--blocks", "--json"]).ok()).unwrap();
    assert_eq!(json[0]["kind"], "lockout", "{json}");
    assert_eq!(json[0]["lockouts"], 2, "{json}");
    assert_eq!(json[0]["created_by"], "", "{json}");
    // Unblock lifts manual blocks only; a reset lifts the lockout.
    assert_eq!(sb.run(&["unblock", "--ip", IP]).ok(), "No block found.\n");
    assert_eq!(sb.run(&["reset-ip", IP]).code, 0);
    assert_eq!(sb.run(&["list", "--blocks"]).ok(), "");
}
