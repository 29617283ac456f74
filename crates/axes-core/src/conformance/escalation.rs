//! Scenarios of the progressive cool-off, the permanent lockout and manual
//! blocks, through the engine: what `Retry-After` says, what a block
//! refuses and counts, what resets and purges remove.

use std::time::Duration;

use super::Outcome::{Blocked, Invalid, Locked, Ok};
use super::{Scenario, Step, fail, login, who};
use crate::events::EventKind;
use crate::parameters::{Field, LockoutParameters};
use crate::settings::Settings;

const IP: &str = "10.0.2.1";
const IP2: &str = "10.0.2.2";

fn by_ip(limit: u32, cooloff: u64, f: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings {
        failure_limit: limit,
        cooloff_time: Some(Duration::from_secs(cooloff)),
        lockout_parameters: LockoutParameters::any_of(&[Field::IpAddress]),
        ..Settings::default()
    };
    f(&mut s);
    s
}

fn retry(who: super::Who, secs: Option<u64>) -> Step {
    Step::RetryAfter { who, secs }
}

/// The scenarios (part of [`super::all_scenarios`]).
pub fn all() -> Vec<Scenario> {
    let a = who(IP, "alice");
    let b = who(IP, "bob");
    let a2 = who(IP2, "alice");
    vec![
        Scenario {
            name: "escalation: the 2nd lockout within lockout_memory lasts cool-off × m, the 3rd × m² up to cooloff_max",
            settings: by_ip(2, 60, |s| {
                s.cooloff_multiplier = 3.0;
                s.cooloff_max = Some(Duration::from_secs(400));
            }),
            steps: vec![
                fail(a, Invalid),
                fail(a, Locked),
                retry(a, Some(60)),
                Step::Advance(60),
                fail(a, Invalid),
                fail(a, Locked),
                retry(a, Some(180)),
                // The count's cool-off has passed; the history still refuses,
                // and counts nothing.
                Step::Advance(61),
                retry(a, Some(119)),
                login(a, Locked),
                Step::StoredFailures(2),
                Step::Advance(119),
                login(a, Ok),
                fail(a, Invalid),
                fail(a, Locked),
                retry(a, Some(400)),
                Step::Advance(400),
                login(b, Ok),
            ],
        },
        Scenario {
            name: "escalation: the Nth lockout within lockout_memory lasts until a reset, which forgives the history",
            settings: by_ip(1, 60, |s| s.permanent_lockout_after = Some(2)),
            steps: vec![
                fail(a, Locked),
                retry(a, Some(60)),
                Step::Advance(60),
                fail(a, Locked),
                retry(a, None),
                Step::Advance(3 * 86_400),
                login(b, Locked),
                retry(a, None),
                Step::Reset {
                    ip: Some(IP),
                    user: None,
                    removed: 1,
                },
                login(a, Ok),
                fail(a, Locked),
                retry(a, Some(60)),
            ],
        },
        Scenario {
            name: "escalation: a key quiet for lockout_memory starts again at its first lockout",
            settings: by_ip(1, 60, |s| {
                s.cooloff_multiplier = 2.0;
                s.lockout_memory = Duration::from_secs(600);
            }),
            steps: vec![
                fail(a, Locked),
                Step::Advance(60),
                fail(a, Locked),
                retry(a, Some(120)),
                Step::Advance(120 + 600),
                fail(a, Locked),
                retry(a, Some(60)),
            ],
        },
        Scenario {
            name: "block: a manual block refuses the right password, counts nothing, and ends",
            settings: by_ip(3, 60, |_| {}),
            steps: vec![
                Step::Block {
                    ip: Some(IP),
                    user: None,
                    secs: Some(300),
                },
                login(a, Blocked),
                fail(b, Blocked),
                Step::Records(0),
                retry(a, Some(300)),
                login(a2, Ok),
                Step::Advance(300),
                login(a, Ok),
                Step::Events(EventKind::Blocked, 1),
                Step::Events(EventKind::LockedOut, 2),
            ],
        },
        Scenario {
            name: "block: pair and username blocks refuse only what they name; only unblock lifts them",
            settings: by_ip(3, 60, |_| {}),
            steps: vec![
                Step::Block {
                    ip: Some(IP),
                    user: Some("alice"),
                    secs: None,
                },
                login(a, Blocked),
                login(b, Ok),
                login(a2, Ok),
                Step::Block {
                    ip: None,
                    user: Some("ALICE"),
                    secs: None,
                },
                login(a2, Blocked),
                retry(a2, None),
                Step::Unblock {
                    ip: None,
                    user: Some("alice"),
                    removed: true,
                },
                login(a2, Ok),
                login(a, Blocked),
                Step::Reset {
                    ip: None,
                    user: None,
                    removed: 0,
                },
                login(a, Blocked),
                Step::Unblock {
                    ip: Some(IP),
                    user: None,
                    removed: false,
                },
                Step::Unblock {
                    ip: Some(IP),
                    user: Some("alice"),
                    removed: true,
                },
                Step::Unblock {
                    ip: Some(IP),
                    user: Some("alice"),
                    removed: false,
                },
                login(a, Ok),
                Step::Events(EventKind::Unblocked, 2),
            ],
        },
        Scenario {
            name: "purge: ended blocks and forgotten lockout history go, remembered history stays",
            settings: by_ip(1, 60, |s| {
                s.cooloff_multiplier = 2.0;
                s.lockout_memory = Duration::from_secs(600);
            }),
            steps: vec![
                Step::Block {
                    ip: Some(IP2),
                    user: None,
                    secs: Some(100),
                },
                fail(a, Locked),
                Step::BlockRows(2),
                Step::Advance(100),
                Step::Purge(1),
                Step::BlockRows(1),
                Step::Advance(600),
                Step::Purge(0),
                Step::BlockRows(0),
            ],
        },
        Scenario {
            name: "purge: ended blocks go also without a cool-off",
            settings: Settings {
                cooloff_time: None,
                ..Settings::default()
            },
            steps: vec![
                Step::Block {
                    ip: None,
                    user: Some("alice"),
                    secs: Some(10),
                },
                login(a, Blocked),
                Step::Advance(10),
                Step::Purge(0),
                Step::BlockRows(0),
                login(a, Ok),
            ],
        },
    ]
}
