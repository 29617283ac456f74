//! The scenario table: one entry per rule of SPEC §2–§4.

use std::time::Duration;

use super::Ending::{Abandoned, Failed, Succeeded};
use super::Outcome::{Denied, Invalid, Locked, Ok, Unidentified};
use super::{Scenario, Step, fail, login, who};
use crate::events::EventKind;
use crate::parameters::{Alternative, Field, LockoutParameters};
use crate::settings::Settings;

fn s(f: impl FnOnce(&mut Settings)) -> Settings {
    let mut settings = Settings::default();
    f(&mut settings);
    settings
}

fn params(alts: &[&[Field]]) -> LockoutParameters {
    LockoutParameters::new(
        alts.iter()
            .filter_map(|a| Alternative::new(a.iter().copied())),
    )
    .unwrap_or_default()
}

fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
    list.iter()
        .filter_map(|n| {
            n.parse::<ipnet::IpNet>()
                .ok()
                .or_else(|| n.parse::<std::net::IpAddr>().ok().map(Into::into))
        })
        .collect()
}

fn sc(name: &'static str, settings: Settings, steps: Vec<Step>) -> Scenario {
    Scenario {
        name,
        settings,
        steps,
    }
}

fn cooloff(secs: u64) -> Option<Duration> {
    Some(Duration::from_secs(secs))
}

const IP: &str = "10.0.0.1";

/// A client from `ip` that gives no username.
fn nobody(ip: &'static str) -> super::Who {
    super::Who {
        ip: Some(ip),
        user: None,
        ua: "ua1",
        device: None,
    }
}

/// `user` from an IP that could not be determined.
fn unknown_ip(user: &'static str) -> super::Who {
    super::Who {
        ip: None,
        user: Some(user),
        ua: "ua1",
        device: None,
    }
}
const IP2: &str = "10.0.0.2";

/// Every scenario: the rules, then the progressive cool-off and blocks,
/// the flood scenarios last.
pub fn all() -> Vec<Scenario> {
    let mut all = rules();
    all.extend(super::escalation::all());
    all.extend(super::policy::all());
    all.extend(super::floods::all());
    all
}

/// The scenarios of SPEC §2–§4.
fn rules() -> Vec<Scenario> {
    use Field::{IpAddress, UserAgent, Username};
    let a = who(IP, "alice");
    let b = who(IP, "bob");
    let a2 = who(IP2, "alice");
    let c2 = who(IP2, "carol");
    vec![
        sc(
            "default: the third failure from one IP already gets the lockout",
            Settings::default(),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Locked),
                login(a, Locked),
                Step::StoredFailures(4),
            ],
        ),
        sc(
            "default: another IP is not affected by an IP lockout",
            Settings::default(),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Locked),
                login(a2, Ok),
            ],
        ),
        sc(
            "ip_address: failures are summed over every username tried from the IP",
            Settings::default(),
            vec![
                fail(a, Invalid),
                fail(b, Invalid),
                fail(who(IP, "carol"), Locked),
                Step::Records(3),
                login(who(IP, "dave"), Locked),
            ],
        ),
        sc(
            "username: a username is locked from anywhere",
            s(|s| s.lockout_parameters = params(&[&[Username]])),
            vec![
                fail(a, Invalid),
                fail(a2, Invalid),
                fail(who("10.0.0.3", "alice"), Locked),
                login(who("10.0.0.4", "alice"), Locked),
                login(b, Ok),
            ],
        ),
        sc(
            "username+ip_address: only the pair is locked",
            s(|s| s.lockout_parameters = params(&[&[Username, IpAddress]])),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Locked),
                login(a2, Ok),
                login(b, Ok),
                login(a, Locked),
            ],
        ),
        sc(
            "username or ip_address: either alternative locks",
            s(|s| s.lockout_parameters = params(&[&[Username], &[IpAddress]])),
            vec![
                fail(a, Invalid),
                fail(a2, Invalid),
                fail(c2, Invalid),
                fail(who("10.0.0.9", "alice"), Locked),
                Step::Check {
                    who: who("10.0.0.9", "zed"),
                    refused: false,
                },
                fail(who(IP2, "dave"), Locked),
            ],
        ),
        sc(
            "username or ip_address: the username alternative locks across IPs",
            s(|s| {
                s.lockout_parameters = params(&[&[Username], &[IpAddress]]);
                s.failure_limit = 2;
            }),
            vec![
                fail(a, Invalid),
                fail(a2, Locked),
                login(who("10.0.0.9", "alice"), Locked),
                login(who("10.0.0.9", "zed"), Ok),
            ],
        ),
        sc(
            "ip_address+user_agent: another browser on the same IP is not locked",
            s(|s| s.lockout_parameters = params(&[&[IpAddress, UserAgent]])),
            vec![
                fail(a, Invalid),
                fail(b, Invalid),
                fail(a, Locked),
                login(a.ua("ua2"), Ok),
                login(b, Locked),
            ],
        ),
        sc(
            "user_agent alone: one user agent is locked everywhere",
            s(|s| s.lockout_parameters = params(&[&[UserAgent]])),
            vec![
                fail(a, Invalid),
                fail(a2, Invalid),
                fail(c2, Locked),
                login(who("10.0.0.5", "x"), Locked),
                login(who("10.0.0.5", "x").ua("other"), Ok),
            ],
        ),
        sc(
            "username or ip_address+user_agent (the SPEC's example)",
            s(|s| s.lockout_parameters = params(&[&[Username], &[IpAddress, UserAgent]])),
            vec![
                fail(a, Invalid),
                fail(b, Invalid),
                fail(who(IP, "carol"), Locked),
                login(who(IP, "dave").ua("ua2"), Ok),
                login(who(IP2, "erin"), Ok),
            ],
        ),
        sc(
            "failure_limit = 1: the first failure locks",
            s(|s| s.failure_limit = 1),
            vec![fail(a, Locked), login(a, Locked)],
        ),
        sc(
            "failure_limit = 5",
            s(|s| s.failure_limit = 5),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Locked),
            ],
        ),
        sc(
            "lock_out_at_failure = false: counted and logged, never refused",
            s(|s| {
                s.lock_out_at_failure = false;
                s.enable_access_failure_log = true;
            }),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Invalid),
                login(a, Ok),
                Step::StoredFailures(4),
                Step::FailureLogs {
                    total: 4,
                    locked: 0,
                },
                Step::Check {
                    who: a,
                    refused: false,
                },
            ],
        ),
        sc(
            "cool-off: the lockout lifts once the window has passed",
            s(|s| {
                s.failure_limit = 2;
                s.cooloff_time = cooloff(60);
            }),
            vec![
                fail(a, Invalid),
                fail(a, Locked),
                Step::Advance(61),
                login(a, Ok),
            ],
        ),
        sc(
            "cool-off: still locked just before the window ends",
            s(|s| {
                s.failure_limit = 2;
                s.cooloff_time = cooloff(60);
            }),
            vec![
                fail(a, Invalid),
                fail(a, Locked),
                Step::Advance(59),
                Step::Check {
                    who: a,
                    refused: true,
                },
                Step::Advance(1),
                Step::Check {
                    who: a,
                    refused: false,
                },
            ],
        ),
        sc(
            "cool-off: Retry-After counts down from the last failure",
            s(|s| {
                s.failure_limit = 2;
                s.cooloff_time = cooloff(60);
            }),
            vec![
                fail(a, Invalid),
                Step::Advance(10),
                fail(a, Locked),
                Step::RetryAfter {
                    who: a,
                    secs: Some(60),
                },
                Step::Advance(20),
                Step::RetryAfter {
                    who: a,
                    secs: Some(40),
                },
            ],
        ),
        sc(
            "cool-off: each failure refreshes the window of its record",
            s(|s| {
                s.failure_limit = 3;
                s.cooloff_time = cooloff(60);
            }),
            vec![
                fail(a, Invalid),
                Step::Advance(50),
                fail(a, Invalid),
                Step::Advance(50),
                fail(a, Locked),
            ],
        ),
        sc(
            "cool-off: an expired record starts again at one",
            s(|s| {
                s.failure_limit = 3;
                s.cooloff_time = cooloff(60);
            }),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                Step::Advance(61),
                fail(a, Invalid),
                Step::StoredFailures(1),
                fail(a, Invalid),
                fail(a, Locked),
            ],
        ),
        sc(
            "cool-off: windows are per record (an IP's older record expires first)",
            s(|s| {
                s.failure_limit = 3;
                s.cooloff_time = cooloff(60);
            }),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                Step::Advance(50),
                fail(b, Locked),
                Step::Advance(11),
                Step::Check {
                    who: b,
                    refused: false,
                },
                fail(b, Invalid),
                fail(b, Locked),
            ],
        ),
        sc(
            "reset_cool_off_on_failure_during_lockout = true: refused attempts extend the lockout",
            s(|s| {
                s.failure_limit = 2;
                s.cooloff_time = cooloff(60);
            }),
            vec![
                fail(a, Invalid),
                fail(a, Locked),
                Step::Advance(30),
                login(a, Locked),
                Step::Advance(40),
                login(a, Locked),
                Step::StoredFailures(4),
                Step::Advance(61),
                login(a, Ok),
            ],
        ),
        sc(
            "reset_cool_off_on_failure_during_lockout = false: the lockout ends a cool-off after the failure that caused it",
            s(|s| {
                s.failure_limit = 2;
                s.cooloff_time = cooloff(60);
                s.reset_cool_off_on_failure_during_lockout = false;
            }),
            vec![
                fail(a, Invalid),
                fail(a, Locked),
                Step::Advance(30),
                login(a, Locked),
                fail(a, Locked),
                Step::StoredFailures(2),
                Step::Advance(31),
                login(a, Ok),
            ],
        ),
        sc(
            "no cool-off: the lockout is permanent until reset",
            Settings::default(),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Locked),
                Step::Advance(86_400 * 30),
                Step::RetryAfter { who: a, secs: None },
                login(a, Locked),
            ],
        ),
        sc(
            "reset(): deletes everything and lifts every lockout",
            Settings::default(),
            vec![
                fail(a, Invalid),
                fail(b, Invalid),
                fail(a, Locked),
                fail(c2, Invalid),
                Step::Reset {
                    ip: None,
                    user: None,
                    removed: 3,
                },
                login(a, Ok),
                Step::Records(0),
            ],
        ),
        sc(
            "reset(ip): only that IP's records",
            Settings::default(),
            vec![
                fail(a, Invalid),
                fail(b, Invalid),
                fail(a, Locked),
                fail(c2, Invalid),
                Step::Reset {
                    ip: Some(IP),
                    user: None,
                    removed: 2,
                },
                login(a, Ok),
                Step::Records(1),
            ],
        ),
        sc(
            "reset(username): only that username's records, any IP",
            s(|s| s.lockout_parameters = params(&[&[Username]])),
            vec![
                fail(a, Invalid),
                fail(a2, Invalid),
                fail(b, Invalid),
                Step::Reset {
                    ip: None,
                    user: Some("ALICE"),
                    removed: 2,
                },
                Step::Records(1),
            ],
        ),
        sc(
            "reset(ip, username): AND, not OR (the original's fixture)",
            s(|s| s.lock_out_at_failure = false),
            vec![
                fail(who("127.0.0.1", "default"), Invalid),
                fail(who("127.1.0.1", "foo"), Invalid),
                fail(who("127.1.0.2", "foo"), Invalid),
                fail(who("127.1.0.1", "bar"), Invalid),
                fail(who("127.1.0.2", "bar"), Invalid),
                Step::Reset {
                    ip: Some("127.1.0.1"),
                    user: Some("foo"),
                    removed: 1,
                },
                Step::Reset {
                    ip: Some("127.1.0.1"),
                    user: None,
                    removed: 1,
                },
                Step::Reset {
                    ip: None,
                    user: Some("foo"),
                    removed: 1,
                },
                Step::Reset {
                    ip: None,
                    user: None,
                    removed: 2,
                },
            ],
        ),
        sc(
            "reset of an unknown client removes nothing",
            Settings::default(),
            vec![
                fail(a, Invalid),
                Step::Reset {
                    ip: Some("192.0.2.200"),
                    user: None,
                    removed: 0,
                },
                Step::Records(1),
            ],
        ),
        sc(
            "reset_on_success = true: a login deletes the client's failures",
            s(|s| s.reset_on_success = true),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                login(a, Ok),
                Step::Records(0),
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Locked),
            ],
        ),
        sc(
            "reset_on_success = false: failures survive a login",
            Settings::default(),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                login(a, Ok),
                fail(a, Locked),
            ],
        ),
        sc(
            "reset_on_success = true: forgives the failures of the name that logged in, not the address's others",
            s(|s| s.reset_on_success = true),
            vec![
                fail(a, Invalid),
                fail(b, Invalid),
                // A sprayer's own account: its success resets nothing of
                // the names it sprayed.
                login(who(IP, "carol"), Ok),
                Step::Records(2),
                fail(who(IP, "dave"), Locked),
                // The name that logged in is forgiven.
                Step::Reset {
                    ip: None,
                    user: None,
                    removed: 3,
                },
                fail(a, Invalid),
                fail(b, Invalid),
                login(a, Ok),
                Step::Records(1),
                fail(b, Invalid),
                fail(b, Locked),
            ],
        ),
        sc(
            "successful logins never count as failures (the reservation is given back)",
            Settings::default(),
            vec![
                login(a, Ok),
                login(a, Ok),
                login(a, Ok),
                login(a, Ok),
                fail(a, Invalid),
                fail(a, Invalid),
                Step::StoredFailures(2),
            ],
        ),
        sc(
            "give-back after a reset: the ticket taken before it does not free a slot of the new record",
            s(|s| s.failure_limit = 1),
            vec![
                Step::BeginHold("before reset", a),
                Step::Reset {
                    ip: Some(IP),
                    user: None,
                    removed: 1,
                },
                Step::BeginHold("after reset", a),
                Step::Finish("before reset", Abandoned),
                Step::Failures(a, 1),
                login(a, Locked),
                Step::Finish("after reset", Failed(Locked)),
            ],
        ),
        sc(
            "give-back after a reset of everything, by a right password",
            s(|s| s.failure_limit = 2),
            vec![
                Step::BeginHold("before reset", a),
                Step::Reset {
                    ip: None,
                    user: None,
                    removed: 1,
                },
                Step::BeginHold("first", b),
                Step::BeginHold("second", a),
                Step::Finish("before reset", Succeeded),
                Step::StoredFailures(2),
                fail(a, Locked),
                Step::Finish("first", Failed(Invalid)),
                Step::Finish("second", Failed(Locked)),
            ],
        ),
        sc(
            "give-back after the cool-off restarted the record: the new count keeps its failure",
            s(|s| {
                s.failure_limit = 1;
                s.cooloff_time = cooloff(60);
            }),
            vec![
                Step::BeginHold("old", a),
                Step::Advance(61),
                Step::BeginHold("new", a),
                Step::Finish("old", Succeeded),
                Step::Check {
                    who: a,
                    refused: true,
                },
                fail(a, Locked),
                Step::Finish("new", Failed(Locked)),
            ],
        ),
        sc(
            "give-back after the cool-off, abandoned, with failures of the new window",
            s(|s| {
                s.failure_limit = 3;
                s.cooloff_time = cooloff(60);
            }),
            vec![
                fail(a, Invalid),
                Step::BeginHold("old", a),
                Step::Advance(61),
                fail(a, Invalid),
                fail(a, Invalid),
                Step::Finish("old", Abandoned),
                Step::Failures(a, 2),
                Step::StoredFailures(2),
                fail(a, Locked),
            ],
        ),
        sc(
            "a right password does not extend the cool-off of earlier failures",
            s(|s| {
                s.failure_limit = 3;
                s.cooloff_time = cooloff(30 * 60);
            }),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                Step::Advance(29 * 60),
                login(a, Ok),
                Step::Failures(a, 2),
                Step::Advance(2 * 60),
                Step::Failures(a, 0),
                Step::Check {
                    who: a,
                    refused: false,
                },
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Locked),
            ],
        ),
        sc(
            "an abandoned check does not extend the cool-off either",
            s(|s| {
                s.failure_limit = 2;
                s.cooloff_time = cooloff(60);
            }),
            vec![
                fail(a, Invalid),
                Step::Advance(50),
                Step::BeginHold("t", a),
                Step::Advance(5),
                Step::Finish("t", Abandoned),
                Step::Advance(6),
                Step::Failures(a, 0),
                fail(a, Invalid),
            ],
        ),
        sc(
            "a give-back leaves the time of a failure counted after it, even at the same instant",
            s(|s| {
                s.failure_limit = 4;
                s.cooloff_time = cooloff(60);
            }),
            vec![
                fail(a, Invalid),
                Step::Advance(10),
                Step::BeginHold("t", a),
                fail(a, Invalid),
                Step::Finish("t", Succeeded),
                Step::Advance(55),
                Step::Failures(a, 2),
                Step::Advance(5),
                Step::Failures(a, 0),
            ],
        ),
        sc(
            "deny list: refused at once, even with the right password, and not recorded",
            s(|s| s.ip_blacklist = nets(&[IP])),
            vec![
                login(a, Denied),
                fail(a, Denied),
                Step::Records(0),
                login(a2, Ok),
            ],
        ),
        sc(
            "deny list: CIDR blocks",
            s(|s| s.ip_blacklist = nets(&["10.0.0.0/30"])),
            vec![
                login(a, Denied),
                login(a2, Denied),
                login(who("10.0.0.9", "x"), Ok),
            ],
        ),
        sc(
            "allow list with never_lockout_whitelist: never refused, never counted",
            s(|s| {
                s.ip_whitelist = nets(&[IP]);
                s.never_lockout_whitelist = true;
            }),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Invalid),
                login(a, Ok),
                Step::Records(0),
                fail(a2, Invalid),
                Step::Records(1),
            ],
        ),
        sc(
            "allow list alone (never_lockout_whitelist off) changes nothing",
            s(|s| s.ip_whitelist = nets(&[IP])),
            vec![fail(a, Invalid), fail(a, Invalid), fail(a, Locked)],
        ),
        sc(
            "only_whitelist: only listed IPs may authenticate",
            s(|s| {
                s.ip_whitelist = nets(&["10.0.0.0/31"]);
                s.only_whitelist = true;
            }),
            vec![
                login(a, Ok),
                login(a2, Denied),
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Invalid),
                login(a, Ok),
                login(
                    super::Who {
                        ip: None,
                        user: Some("x"),
                        ua: "",
                        device: None,
                    },
                    Denied,
                ),
            ],
        ),
        sc(
            "never_lockout_get: GET attempts are never refused nor counted",
            s(|s| s.never_lockout_get = true),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Locked),
                Step::Login {
                    who: a,
                    ok: true,
                    method: "GET",
                    expect: Ok,
                },
                Step::Login {
                    who: a,
                    ok: false,
                    method: "GET",
                    expect: Invalid,
                },
                Step::StoredFailures(3),
                login(a, Locked),
            ],
        ),
        sc(
            "never_lockout_get off: GET attempts are refused like any other",
            Settings::default(),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Locked),
                Step::Login {
                    who: a,
                    ok: true,
                    method: "GET",
                    expect: Locked,
                },
            ],
        ),
        sc(
            "enabled = false: nothing recorded, nothing refused",
            s(|s| {
                s.enabled = false;
                s.ip_blacklist = nets(&[IP]);
            }),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Invalid),
                login(a, Ok),
                Step::Records(0),
                Step::AccessLogs { total: 0, open: 0 },
            ],
        ),
        sc(
            "usernames are normalised: case, spaces and width share one count",
            s(|s| s.lockout_parameters = params(&[&[Username]])),
            vec![
                fail(who(IP, "Alice "), Invalid),
                fail(who(IP2, "ALICE"), Invalid),
                fail(who("10.0.0.3", "ａｌｉｃｅ"), Locked),
                Step::Records(3),
                login(who("10.0.0.4", "alice"), Locked),
            ],
        ),
        sc(
            "IPv4-mapped IPv6 is folded to IPv4",
            Settings::default(),
            vec![
                fail(who("::ffff:10.0.0.1", "a"), Invalid),
                fail(a, Invalid),
                fail(who("::ffff:10.0.0.1", "b"), Locked),
                Step::Reset {
                    ip: Some(IP),
                    user: None,
                    removed: 3,
                },
            ],
        ),
        sc(
            "IPv6 clients are counted per /64 by default",
            Settings::default(),
            vec![
                fail(who("2001:db8:1:2::1", "a"), Invalid),
                fail(who("2001:db8:1:2::2", "a"), Invalid),
                fail(who("2001:db8:1:2:ffff::3", "a"), Locked),
                login(who("2001:db8:1:3::1", "a"), Ok),
                Step::Reset {
                    ip: Some("2001:db8:1:2::99"),
                    user: None,
                    removed: 1,
                },
            ],
        ),
        sc(
            "ipv6_prefix = 128 counts each IPv6 address alone",
            s(|s| s.ipv6_prefix = 128),
            vec![
                fail(who("2001:db8::1", "a"), Invalid),
                fail(who("2001:db8::2", "a"), Invalid),
                fail(who("2001:db8::3", "a"), Invalid),
                Step::Records(3),
            ],
        ),
        sc(
            "store_ip_address = false: lock by username, no IP stored anywhere",
            s(|s| {
                s.store_ip_address = false;
                s.lockout_parameters = params(&[&[Username]]);
                s.enable_access_failure_log = true;
            }),
            vec![
                fail(a, Invalid),
                fail(a2, Invalid),
                fail(a, Locked),
                Step::NoIpStored,
                Step::Records(1),
                login(b, Ok),
            ],
        ),
        sc(
            "store_ip_address = false: IP lists still apply",
            s(|s| {
                s.store_ip_address = false;
                s.lockout_parameters = params(&[&[Username]]);
                s.ip_blacklist = nets(&[IP2]);
            }),
            vec![login(a2, Denied), login(a, Ok)],
        ),
        sc(
            "ip_address+username: attempts without a username are refused, never pooled",
            s(|s| s.lockout_parameters = params(&[&[IpAddress, Username]])),
            vec![
                fail(
                    super::Who {
                        ip: Some(IP),
                        user: None,
                        ua: "ua1",
                        device: None,
                    },
                    Unidentified,
                ),
                fail(
                    super::Who {
                        ip: Some(IP),
                        user: Some("   "),
                        ua: "ua1",
                        device: None,
                    },
                    Unidentified,
                ),
                Step::Records(0),
                fail(a, Invalid),
                Step::Records(1),
            ],
        ),
        sc(
            "ip_address or username: a missing username is counted by IP only, not as a shared username",
            s(|s| {
                s.lockout_parameters = params(&[&[IpAddress], &[Username]]);
                s.failure_limit = 3;
            }),
            vec![
                fail(nobody("10.0.1.1"), Invalid),
                fail(nobody("10.0.1.2"), Invalid),
                fail(nobody("10.0.1.3"), Invalid),
                // Three username-less failures from three IPs: no bucket of
                // their own reached the limit.
                fail(nobody("10.0.1.4"), Invalid),
                fail(nobody("10.0.1.4"), Invalid),
                fail(nobody("10.0.1.4"), Locked),
                login(who("10.0.1.5", "alice"), Ok),
            ],
        ),
        sc(
            "ip_address: an attempt from an unknown IP is refused, never pooled",
            Settings::default(),
            vec![
                fail(unknown_ip("alice"), Unidentified),
                login(unknown_ip("alice"), Unidentified),
                Step::Check {
                    who: unknown_ip("bob"),
                    refused: true,
                },
                Step::Records(0),
                fail(a, Invalid),
            ],
        ),
        sc(
            "ip_address or username: an unknown IP is counted by username only",
            s(|s| {
                s.lockout_parameters = params(&[&[IpAddress], &[Username]]);
                s.failure_limit = 2;
            }),
            vec![
                fail(unknown_ip("alice"), Invalid),
                fail(unknown_ip("bob"), Invalid),
                // Not one shared "no IP" bucket: carol starts at nothing.
                fail(unknown_ip("carol"), Invalid),
                fail(unknown_ip("alice"), Locked),
                // alice's username lockout holds from a known IP too.
                login(a, Locked),
                login(who(IP2, "bob"), Ok),
            ],
        ),
        sc(
            "records are kept per (username, ip_address, user_agent)",
            s(|s| s.lock_out_at_failure = false),
            vec![
                fail(a, Invalid),
                fail(a.ua("ua2"), Invalid),
                fail(b, Invalid),
                fail(a, Invalid),
                Step::Records(3),
                Step::StoredFailures(4),
            ],
        ),
        sc(
            "access log: a login opens a row, the logout closes it",
            Settings::default(),
            vec![
                login(a, Ok),
                login(b, Ok),
                Step::AccessLogs { total: 2, open: 2 },
                Step::Logout {
                    user: "alice",
                    session: "s1",
                },
                Step::AccessLogs { total: 2, open: 1 },
                Step::Logout {
                    user: "bob",
                    session: "wrong-session",
                },
                Step::AccessLogs { total: 2, open: 1 },
            ],
        ),
        sc(
            "disable_access_log: no rows",
            s(|s| s.disable_access_log = true),
            vec![login(a, Ok), Step::AccessLogs { total: 0, open: 0 }],
        ),
        sc(
            "failure log: one row per failure, the one reaching the limit marked locked",
            s(|s| s.enable_access_failure_log = true),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Locked),
                Step::FailureLogs {
                    total: 3,
                    locked: 1,
                },
                login(a, Locked),
                Step::FailureLogs {
                    total: 4,
                    locked: 2,
                },
            ],
        ),
        sc(
            "failure log: capped per username, oldest dropped",
            s(|s| {
                s.enable_access_failure_log = true;
                s.access_failure_log_per_user_limit = 2;
                s.lock_out_at_failure = false;
            }),
            vec![
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Invalid),
                fail(b, Invalid),
                Step::FailureLogs {
                    total: 3,
                    locked: 0,
                },
            ],
        ),
        sc(
            "failure log is off by default",
            Settings::default(),
            vec![
                fail(a, Invalid),
                Step::FailureLogs {
                    total: 0,
                    locked: 0,
                },
            ],
        ),
        sc(
            "reset_logs: by age in days",
            Settings::default(),
            vec![
                login(a, Ok),
                Step::Advance(86_400 * 10),
                login(b, Ok),
                Step::ResetLogs {
                    age_days: Some(30),
                    removed: 0,
                },
                Step::ResetLogs {
                    age_days: Some(5),
                    removed: 1,
                },
                Step::ResetLogs {
                    age_days: None,
                    removed: 1,
                },
            ],
        ),
        sc(
            "purge_expired removes records past the cool-off",
            s(|s| {
                s.cooloff_time = cooloff(60);
                s.lock_out_at_failure = false;
            }),
            vec![
                fail(a, Invalid),
                fail(c2, Invalid),
                Step::Advance(30),
                fail(b, Invalid),
                Step::Advance(40),
                Step::Purge(2),
                Step::Records(1),
            ],
        ),
        sc(
            "events: login_failed, locked_out, logged_in, logged_out",
            Settings::default(),
            vec![
                login(a2, Ok),
                Step::Logout {
                    user: "alice",
                    session: "s1",
                },
                fail(a, Invalid),
                fail(a, Invalid),
                fail(a, Locked),
                login(a, Locked),
                Step::Events(EventKind::LoginFailed, 3),
                Step::Events(EventKind::LockedOut, 2),
                Step::Events(EventKind::LoggedIn, 1),
                Step::Events(EventKind::LoggedOut, 1),
            ],
        ),
        sc(
            "check() is read-only",
            Settings::default(),
            vec![
                fail(a, Invalid),
                Step::Check {
                    who: a,
                    refused: false,
                },
                Step::Check {
                    who: a,
                    refused: false,
                },
                Step::StoredFailures(1),
                fail(a, Invalid),
                fail(a, Locked),
                Step::Check {
                    who: a,
                    refused: true,
                },
                Step::StoredFailures(3),
            ],
        ),
    ]
}
