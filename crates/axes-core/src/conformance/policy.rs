//! Scenarios of the layered `lockout_rules` and of trusted devices, through
//! the engine, and exact admission across rules under concurrency.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::Outcome::{Blocked, Invalid, Locked, Ok};
use super::{Scenario, Step, fail, fresh, login, who};
use crate::engine::Axes;
use crate::parameters::{Field, LockoutParameters};
use crate::rules::parse_rules_env;
use crate::settings::{Secret, Settings};
use crate::store::{ListQuery, Store};

const IP: &str = "10.0.3.1";
const IP2: &str = "10.0.3.2";

fn rules(text: &str, f: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings {
        lockout_rules: parse_rules_env(text).unwrap_or_default(),
        ..Settings::default()
    };
    f(&mut s);
    s
}

/// Username lockout (limit `limit`, cool-off 1 h) with trusted devices.
fn devices(limit: u32, f: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings {
        failure_limit: limit,
        cooloff_time: Some(Duration::from_secs(3600)),
        lockout_parameters: LockoutParameters::any_of(&[Field::Username]),
        trusted_device: true,
        trusted_device_ttl: Duration::from_secs(86_400),
        secret_key: Some(Secret::new("conformance secret for device tokens")),
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
    let c = who(IP, "carol");
    let d = who(IP, "dave");
    let elsewhere = who(IP2, "alice");
    let laptop = who(IP, "alice").device("laptop");
    vec![
        Scenario {
            name: "rules: each rule counts apart, and the rule that refuses longest answers",
            settings: rules("ip_address:4/1h, ip_address+username:2/10m", |_| {}),
            steps: vec![
                fail(a, Invalid),
                fail(a, Locked),
                retry(a, Some(600)),
                // Refused by the pair rule: the address rule gives its slot back.
                login(a, Locked),
                fail(b, Invalid),
                // 4 failures from the address: both rules refuse, the
                // address rule's hour is the longer.
                fail(b, Locked),
                retry(b, Some(3600)),
                retry(c, Some(3600)),
                login(c, Locked),
                login(elsewhere, Ok),
                Step::Advance(601),
                // The pair rule's window has passed; the address rule's not.
                retry(a, Some(2999)),
                Step::Advance(3000),
                login(a, Ok),
            ],
        },
        Scenario {
            name: "rules: an attempt refused by a later rule counts in no earlier one",
            settings: rules("ip_address:3/1h, ip_address+username:1/1h", |s| {
                s.reset_cool_off_on_failure_during_lockout = false;
            }),
            steps: vec![
                fail(a, Locked),
                login(a, Locked),
                login(a, Locked),
                login(a, Locked),
                // One failure per rule: the refusals gave their slots back.
                Step::StoredFailures(2),
                Step::Records(2),
                fail(b, Locked),
                Step::StoredFailures(4),
                fail(c, Locked),
                Step::StoredFailures(6),
                // The address rule has reached 3: refused before counting.
                login(d, Locked),
                Step::StoredFailures(6),
                Step::Reset {
                    ip: Some(IP),
                    user: None,
                    removed: 6,
                },
                login(d, Ok),
            ],
        },
        Scenario {
            name: "rules: a rule the attempt lacks the fields of is skipped; purge waits for the longest rule",
            settings: rules("ip_address:2/10m, username:3/1h", |_| {}),
            steps: vec![
                fail(
                    super::Who {
                        ip: None,
                        user: Some("erin"),
                        ua: "ua1",
                        device: None,
                    },
                    Invalid,
                ),
                Step::Records(1),
                fail(a, Invalid),
                fail(a, Locked),
                Step::Records(3),
                // The address rule's window has passed, the username
                // rule's not: a purge waits for the longest.
                Step::Advance(601),
                Step::Check {
                    who: b,
                    refused: false,
                },
                Step::Purge(0),
                Step::Advance(3000),
                Step::Purge(3),
                Step::Records(0),
                login(b, Ok),
            ],
        },
        Scenario {
            name: "devices: a lockout caused without the device does not refuse it; the device locks on its own",
            settings: devices(2, |_| {}),
            steps: vec![
                Step::TrustDevice {
                    name: "laptop",
                    user: "alice",
                },
                Step::TrustDevice {
                    name: "bobs",
                    user: "bob",
                },
                // Someone else locks alice out by guessing.
                fail(elsewhere, Invalid),
                fail(elsewhere, Locked),
                login(elsewhere, Locked),
                login(a, Locked),
                // Her browser still gets in.
                login(laptop, Ok),
                // Forged, foreign: counted as without a device.
                login(a.device("not-a-token"), Locked),
                login(a.device("bobs"), Locked),
                // The device fails on its own, and locks on its own.
                fail(laptop, Invalid),
                fail(laptop, Locked),
                login(laptop, Locked),
                retry(laptop, Some(3600)),
                Step::Advance(3601),
                login(laptop, Ok),
                login(a, Ok),
                // A manual block refuses the device too.
                Step::Block {
                    ip: None,
                    user: Some("alice"),
                    secs: None,
                },
                login(laptop, Blocked),
                Step::Unblock {
                    ip: None,
                    user: Some("alice"),
                    removed: true,
                },
                // Expired: counted as without a device.
                fail(elsewhere, Invalid),
                fail(elsewhere, Locked),
                login(laptop, Ok),
                Step::Advance(86_400),
                fail(elsewhere, Invalid),
                fail(elsewhere, Locked),
                login(laptop, Locked),
            ],
        },
        Scenario {
            name: "devices: lockout history does not refuse a device; its success resets only its own",
            settings: devices(1, |s| {
                s.permanent_lockout_after = Some(1);
                s.reset_on_success = true;
            }),
            steps: vec![
                Step::TrustDevice {
                    name: "laptop",
                    user: "alice",
                },
                fail(elsewhere, Locked),
                retry(elsewhere, None),
                Step::BlockRows(1),
                login(laptop, Ok),
                login(laptop, Ok),
                login(elsewhere, Locked),
                retry(a, None),
                Step::Advance(7200),
                login(elsewhere, Locked),
                login(laptop, Ok),
            ],
        },
    ]
}

/// Exact admission across rules: with `ip_address:5/1h,
/// ip_address+username:3/1h`, 60 concurrent wrong attempts of one client
/// run exactly 3 credential checks; the attempts the pair rule refused gave
/// their address-rule slots back, so the address still admits another
/// username. 10 rounds.
pub async fn run_layered_rules_concurrency<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<Arc<dyn Store>>>,
{
    let Some(store) = fresh(&make).await else {
        return;
    };
    let settings = rules("ip_address:5/1h, ip_address+username:3/1h", |s| {
        s.reset_cool_off_on_failure_during_lockout = false;
        s.store_timeout = Duration::from_secs(30);
    });
    let axes = match Axes::builder(settings).store(store.clone()).build() {
        Result::Ok(a) => a,
        Err(e) => panic!("{e}"),
    };
    for round in 0..10 {
        let checks = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..60 {
            let axes = axes.clone();
            let checks = checks.clone();
            tasks.push(tokio::spawn(async move {
                let attempt = who("198.51.100.9", "victim").attempt("POST");
                axes.authenticate(&attempt, || async {
                    checks.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    Result::Ok::<Option<()>, std::convert::Infallible>(None)
                })
                .await
                .is_err()
            }));
        }
        for t in tasks {
            assert!(matches!(t.await, Result::Ok(true)));
        }
        assert_eq!(checks.load(Ordering::SeqCst), 3, "round {round}: checks");
        let page = store.list_attempts(&ListQuery::all()).await.expect("list");
        let stored: u32 = page.items.iter().map(|r| r.failures).sum();
        assert_eq!(stored, 6, "round {round}: 3 per rule, {:?}", page.items);
        // The address rule holds 3 of 5: another username is admitted.
        let other = who("198.51.100.9", "someone").attempt("POST");
        let ticket = axes
            .begin(&other)
            .await
            .expect("another username is admitted");
        ticket.abandon().await;
        axes.reset(None, None).await.expect("reset");
    }
}
