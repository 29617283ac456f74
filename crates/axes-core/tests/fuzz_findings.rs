//! Bugs found by the fuzz targets (fuzz/), as minimal failing tests. Each is
//! ignored until fixed; the fuzz targets skip these inputs unless
//! `FUZZ_KNOWN_BUGS=1` (see fuzz/src/lib.rs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use axes_core::identity::{ClientIpResolver, normalize_username};
use axes_core::store::ListQuery;
use axes_core::{Attempt, Axes, Handler, LockoutParameters, Settings};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `resolve` keeps the LEFT-most 64 entries of the forwarded header and
/// walks those from the right. The right-most entries are the ones the
/// trusted proxies appended; the left ones are whatever the client sent. A
/// client that sends 64 entries of its choice is counted under an address it
/// chose (a new one per attempt escapes every IP lockout).
#[test]
fn forwarded_header_longer_than_64_entries_lets_the_client_choose_its_ip() {
    let resolver = ClientIpResolver::new(vec!["10.0.0.0/8".parse().unwrap()]);
    let sent_by_client = vec!["6.6.6.6"; 64].join(", ");
    // The trusted proxy 10.0.0.1 appended the address it saw.
    let header = format!("{sent_by_client}, 198.51.100.7");
    let got = resolver.resolve(Some("10.0.0.1".parse().unwrap()), [header.as_str()]);
    assert_eq!(got, Some("198.51.100.7".parse::<IpAddr>().unwrap()));
}

/// NFKC, then lowercase, then trim: lowercasing can leave text that NFKC
/// changes again (a lowercase letter has a precomposed form its capital
/// lacks: y + ring above = ẙ, j + caron = ǰ; or İ lowercases to i + dot
/// above, which then reorders with a following mark). So the stored
/// username does not normalise to itself.
#[test]
fn normalize_username_is_idempotent() {
    for raw in ["Y\u{30A}", "J\u{30C}", "\u{130}\u{316}"] {
        let once = normalize_username(raw);
        assert_eq!(normalize_username(&once), once, "{raw:?}");
    }
}

/// The consequence: the username listed for a record, typed back into a
/// reset, does not reach the record.
#[tokio::test]
async fn a_listed_username_can_be_reset_by_name() {
    let settings = Settings {
        handler: Handler::Memory,
        lockout_parameters: LockoutParameters::parse_env("username").unwrap(),
        ..Settings::default()
    };
    let axes = Axes::builder(settings).build().unwrap();
    let attempt = Attempt::new().username("Y\u{30A}");
    assert!(axes.begin(&attempt).await.unwrap().failed().await.is_none());
    let listed = axes.list_attempts(&ListQuery::all()).await.unwrap().items;
    let name = listed[0].key.username.clone().unwrap();
    assert_eq!(axes.reset(None, Some(&name)).await.unwrap(), 1);
}

/// Durations written as text are not bounded (bare numbers of hours are, to
/// 100 years, "so nothing downstream overflows"): a cool-off of 300 000
/// years loads, and every `begin` then panics on `now - cooloff`
/// (`DateTime - TimeDelta overflowed`, memory.rs `reserve`).
#[tokio::test]
async fn an_overlong_cooloff_is_refused_or_harmless() {
    let loaded = Settings::from_sources(
        None,
        "",
        env(&[
            ("AXES_HANDLER", "memory"),
            ("AXES_COOLOFF_TIME", "300000 years"),
        ]),
    );
    let Ok(settings) = loaded else { return };
    let axes = Axes::builder(settings).build().unwrap();
    let attempt = Attempt::new().ip_address("192.0.2.1".parse().unwrap());
    let _ = axes.begin(&attempt).await;
}

/// Values of secret settings are never echoed in error messages, except in
/// a syntax error of the file: the TOML parser quotes the line.
#[test]
fn a_syntax_error_does_not_echo_a_secret() {
    let err = Settings::from_sources(
        Some("database_url = \"postgres://axes:hunter2@db/axes\" x\n"),
        "axes.toml",
        env(&[]),
    )
    .unwrap_err()
    .to_string();
    assert!(!err.contains("hunter2"), "{err}");
}
