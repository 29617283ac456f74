//! Scenarios of floods: a locked client that keeps trying new usernames or
//! user agents grows nothing (S1), and purging removes exactly the expired
//! records.

use std::time::Duration;

use super::Outcome::{Invalid, Locked, Ok};
use super::{Scenario, Step, Who, fail, login, who};
use crate::parameters::{Field, LockoutParameters};
use crate::settings::Settings;

const IP: &str = "10.0.0.9";

/// A name that lives as long as the test run (the steps hold `&'static str`).
fn name(prefix: &str, i: usize) -> &'static str {
    Box::leak(format!("{prefix}{i}").into_boxed_str())
}

/// `n` refused attempts from `base`'s address, each with a new username
/// (or, with `by_ua`, a new user agent), one second apart.
fn spray(base: Who, n: usize, by_ua: bool) -> Vec<Step> {
    (0..n)
        .flat_map(|i| {
            let w = if by_ua {
                base.ua(name("agent-", i))
            } else {
                who(IP, name("sprayed-", i))
            };
            [fail(w, Locked), Step::Advance(1)]
        })
        .collect()
}

fn locked_ip(limit: u32, cooloff: u64) -> Settings {
    Settings {
        failure_limit: limit,
        cooloff_time: Some(Duration::from_secs(cooloff)),
        lockout_parameters: LockoutParameters::any_of(&[Field::IpAddress]),
        reset_cool_off_on_failure_during_lockout: true,
        ..Settings::default()
    }
}

/// The flood scenarios (part of [`super::all_scenarios`]).
pub fn all() -> Vec<Scenario> {
    let a = who(IP, "alice");
    let mut out = Vec::new();

    // S1, usernames: 50 refused attempts with new usernames add no record;
    // each still restarts the cool-off (on the newest record that locks).
    let mut steps = vec![fail(a, Invalid), fail(a, Locked), Step::Records(1)];
    steps.extend(spray(a, 50, false));
    steps.extend([
        Step::Records(1),
        Step::StoredFailures(52),
        // The last refused attempt was 1 s ago: 59 s of cool-off left.
        Step::RetryAfter {
            who: a,
            secs: Some(59),
        },
        Step::Advance(58),
        login(a, Locked),
        // That refused login restarted the cool-off once more.
        Step::Advance(59),
        Step::Check {
            who: a,
            refused: true,
        },
        Step::Advance(2),
        login(a, Ok),
    ]);
    out.push(Scenario {
        name: "flood: a locked address trying 50 new usernames adds no record and stays locked, the cool-off restarted",
        settings: locked_ip(2, 60),
        steps,
    });

    // S1, user agents.
    let mut steps = vec![fail(a, Invalid), fail(a, Locked)];
    steps.extend(spray(a, 50, true));
    steps.extend([
        Step::Records(1),
        Step::StoredFailures(52),
        Step::Check {
            who: a,
            refused: true,
        },
    ]);
    out.push(Scenario {
        name: "flood: a locked address trying 50 new user agents adds no record",
        settings: locked_ip(2, 60),
        steps,
    });

    // S1 with two records locking: the newest one takes the failure.
    out.push(Scenario {
        name: "flood: a refused attempt without a record of its own adds its failure to the newest record that locks it",
        settings: locked_ip(3, 60),
        steps: vec![
            fail(a, Invalid),
            Step::Advance(10),
            fail(who(IP, "bob"), Invalid),
            fail(who(IP, "bob"), Locked),
            Step::Advance(10),
            fail(who(IP, "carol"), Locked),
            Step::Records(2),
            Step::StoredFailures(4),
            // alice's record is 20 s old, bob's was just refreshed: the
            // lockout runs 60 s from now.
            Step::RetryAfter {
                who: a,
                secs: Some(60),
            },
            // Refused with a record of its own: counted on it.
            login(a, Locked),
            Step::StoredFailures(5),
            Step::Records(2),
        ],
    });

    // Without count_when_locked, a refused attempt changes nothing at all.
    let mut settings = locked_ip(2, 60);
    settings.reset_cool_off_on_failure_during_lockout = false;
    let mut steps = vec![fail(a, Invalid), fail(a, Locked)];
    steps.extend(spray(a, 10, false));
    steps.extend([Step::Records(1), Step::StoredFailures(2)]);
    out.push(Scenario {
        name: "flood: without reset_cool_off_on_failure_during_lockout a refused attempt changes nothing",
        settings,
        steps,
    });

    // Purge: exactly the expired records go; a live lockout stays.
    let victim = who("10.0.0.10", "victim");
    let mut steps: Vec<Step> = (0..20)
        .map(|i| fail(who(name("192.0.2.", i + 1), name("passer-", i)), Invalid))
        .collect();
    steps.extend([
        Step::Advance(30),
        fail(victim, Invalid),
        fail(victim, Locked),
        Step::Records(21),
        Step::Advance(31),
        Step::Purge(20),
        Step::Records(1),
        Step::Check {
            who: victim,
            refused: true,
        },
        Step::Purge(0),
        Step::Advance(30),
        Step::Purge(1),
        Step::Records(0),
        login(victim, Ok),
    ]);
    out.push(Scenario {
        name: "purge: a flood of expired clients is removed, a live lockout is kept",
        settings: locked_ip(2, 60),
        steps,
    });
    out
}
