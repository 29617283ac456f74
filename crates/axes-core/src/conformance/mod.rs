//! The store conformance suite: the same scenarios for every [`Store`].
//!
//! Each rule of the engine (SPEC §2–§4) is a table-driven [`Scenario`] run
//! through a real [`Axes`] on a fresh store with a [`ManualClock`], so cool-off
//! tests never sleep. A store crate runs the whole suite with one line:
//!
//! ```ignore
//! async fn make_store() -> Option<std::sync::Arc<dyn axes_core::Store>> { /* fresh, empty */ }
//! axes_core::store_conformance!(make_store);
//! ```
//!
//! `make_store` must return a fresh, empty, migrated store on every call, or
//! `None` when the backend is not configured (the tests then skip loudly).

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed expectation is a failed test

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::attempt::Attempt;
use crate::clock::ManualClock;
use crate::engine::{AuthError, Axes, LockoutReason, Ticket};
use crate::events::EventKind;
use crate::parameters::{Field, LockoutParameters};
use crate::settings::Settings;
use crate::store::{
    AttemptDetails, ListQuery, NewAccessLog, NewFailureLog, Order, RecordKey, Reservation,
    ReservationToken, ResetFilter, Store,
};

mod blocks;
mod escalation;
mod floods;
mod policy;
mod scenarios;
mod scopes;

pub use blocks::{run_blocks, run_blocks_concurrency};
pub use policy::run_layered_rules_concurrency;
pub use scenarios::all as all_scenarios;
pub use scopes::{run_manual_only, run_scopes, run_scopes_concurrency};

/// Expands to the conformance tests for a store factory
/// `async fn() -> Option<Arc<dyn Store>>`.
#[macro_export]
macro_rules! store_conformance {
    ($make:path) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn conformance_scenarios() {
            $crate::conformance::run_scenarios($make).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn conformance_concurrency_exact_admission() {
            $crate::conformance::run_concurrency($make).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn conformance_store_api() {
            $crate::conformance::run_store_api($make).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn conformance_give_back() {
            $crate::conformance::run_give_back($make).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn conformance_blocks() {
            $crate::conformance::run_blocks($make).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn conformance_blocks_concurrency() {
            $crate::conformance::run_blocks_concurrency($make).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn conformance_scopes() {
            $crate::conformance::run_scopes($make).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn conformance_manual_only() {
            $crate::conformance::run_manual_only($make).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn conformance_layered_rules_concurrency() {
            $crate::conformance::run_layered_rules_concurrency($make).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn conformance_scopes_concurrency() {
            $crate::conformance::run_scopes_concurrency($make).await;
        }
    };
}

/// Who makes an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Who {
    /// Client IP (as text; parsed).
    pub ip: Option<&'static str>,
    /// Username as typed.
    pub user: Option<&'static str>,
    /// User agent.
    pub ua: &'static str,
    /// The trusted-device token it sends: one issued by
    /// [`Step::TrustDevice`] under this name, else this text itself (a
    /// forged token).
    pub device: Option<&'static str>,
}

/// A client from `ip` as `user` with user agent `ua1`.
pub fn who(ip: &'static str, user: &'static str) -> Who {
    Who {
        ip: Some(ip),
        user: Some(user),
        ua: "ua1",
        device: None,
    }
}

impl Who {
    /// The same client with another user agent.
    pub fn ua(self, ua: &'static str) -> Self {
        Who { ua, ..self }
    }

    /// The same client sending the device token named `device`.
    pub fn device(self, device: &'static str) -> Self {
        Who {
            device: Some(device),
            ..self
        }
    }

    fn attempt_with(&self, method: &str, devices: &HashMap<&'static str, String>) -> Attempt {
        let a = self.attempt(method);
        match self.device {
            Some(name) => a.device_token(devices.get(name).map_or(name, String::as_str)),
            None => a,
        }
    }

    fn attempt(&self, method: &str) -> Attempt {
        let mut a = Attempt::new()
            .user_agent(self.ua)
            .method(method)
            .path("/login");
        if let Some(ip) = self.ip
            && let Ok(ip) = ip.parse()
        {
            a = a.ip_address(ip);
        }
        if let Some(u) = self.user {
            a = a.username(u);
        }
        a
    }
}

/// What a login step must end in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Logged in.
    Ok,
    /// Wrong credentials, not locked.
    Invalid,
    /// Refused (or locked by this failure) for too many failures.
    Locked,
    /// Refused by the deny list or allow-list-only.
    Denied,
    /// Refused by an operator's manual block.
    Blocked,
    /// Refused: it lacks every field the alternatives count by.
    Unidentified,
}

/// How a held ticket ([`Step::BeginHold`]) is finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The credentials were right: `Ticket::succeeded`.
    Succeeded,
    /// The check could not run: `Ticket::abandon`.
    Abandoned,
    /// Wrong credentials: `Ticket::failed`, which must give this outcome
    /// ([`Outcome::Invalid`] or [`Outcome::Locked`]).
    Failed(Outcome),
}

/// One step of a scenario.
#[derive(Debug, Clone)]
pub enum Step {
    /// A login attempt with right (`ok`) or wrong credentials.
    Login {
        /// The client.
        who: Who,
        /// Right password?
        ok: bool,
        /// HTTP method.
        method: &'static str,
        /// Expected outcome.
        expect: Outcome,
    },
    /// Takes an admission slot for the client, which must be admitted, and
    /// holds the ticket open under a name (a credential check still running)
    /// across the steps that follow.
    BeginHold(&'static str, Who),
    /// Finishes the ticket held under this name.
    Finish(&'static str, Ending),
    /// `Axes::check` counts this many failures for the client.
    Failures(Who, u32),
    /// Logout of `user` in session `session`.
    Logout {
        /// Username.
        user: &'static str,
        /// Session id used at login (`s<n>` for the n-th successful login step, from 1).
        session: &'static str,
    },
    /// Moves the clock forward by seconds.
    Advance(i64),
    /// `Axes::check` refuses (or not).
    Check {
        /// The client.
        who: Who,
        /// Expected refusal.
        refused: bool,
    },
    /// `Axes::check` gives this `Retry-After` (seconds; None = permanent).
    RetryAfter {
        /// The client.
        who: Who,
        /// Expected seconds.
        secs: Option<u64>,
    },
    /// `Axes::reset` removes exactly this many records.
    Reset {
        /// IP filter.
        ip: Option<&'static str>,
        /// Username filter.
        user: Option<&'static str>,
        /// Expected count.
        removed: u64,
    },
    /// The sum of failures over all stored records.
    StoredFailures(u32),
    /// The number of stored records.
    Records(u64),
    /// Stored records carry no IP address at all.
    NoIpStored,
    /// Access-log rows, and how many have no logout time.
    AccessLogs {
        /// All rows.
        total: u64,
        /// Rows without a logout time.
        open: u64,
    },
    /// Failure-log rows, and how many are marked locked out.
    FailureLogs {
        /// All rows.
        total: u64,
        /// Rows with `locked_out`.
        locked: u64,
    },
    /// `Axes::reset_logs(age)` removes this many rows.
    ResetLogs {
        /// Age in days (None = all).
        age_days: Option<u32>,
        /// Expected count.
        removed: u64,
    },
    /// `Axes::purge_expired` removes this many records.
    Purge(u64),
    /// This many events of `kind` so far.
    Events(EventKind, usize),
    /// `Axes::block` of an IP, a username or the pair (both given), for
    /// `secs` seconds (`None`: until unblocked).
    Block {
        /// IP to block.
        ip: Option<&'static str>,
        /// Username to block.
        user: Option<&'static str>,
        /// How long.
        secs: Option<u64>,
    },
    /// `Axes::unblock` of exactly that target answers `removed`.
    Unblock {
        /// IP.
        ip: Option<&'static str>,
        /// Username.
        user: Option<&'static str>,
        /// Whether there was such a block.
        removed: bool,
    },
    /// Block rows stored (manual blocks and lockout history).
    BlockRows(u64),
    /// `Axes::issue_device_token` for `user`, kept under `name` for the
    /// clients that send it ([`Who::device`]).
    TrustDevice {
        /// The token's name in the scenario.
        name: &'static str,
        /// The username it is issued to.
        user: &'static str,
    },
}

/// A named sequence of steps under some settings.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// What it shows.
    pub name: &'static str,
    /// Settings (store-independent).
    pub settings: Settings,
    /// The steps.
    pub steps: Vec<Step>,
}

/// A wrong password that must give `expect`.
pub fn fail(who: Who, expect: Outcome) -> Step {
    Step::Login {
        who,
        ok: false,
        method: "POST",
        expect,
    }
}

/// The right password that must give `expect`.
pub fn login(who: Who, expect: Outcome) -> Step {
    Step::Login {
        who,
        ok: true,
        method: "POST",
        expect,
    }
}

fn start() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap_or_default()
}

async fn fresh<F, Fut>(make: &F) -> Option<Arc<dyn Store>>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<Arc<dyn Store>>>,
{
    let store = make().await?;
    if let Err(e) = store.migrate().await {
        panic!("migrate failed: {e}");
    }
    Some(store)
}

/// Runs one scenario on `store`; returns the mismatches.
pub async fn run_scenario(scenario: &Scenario, store: Arc<dyn Store>) -> Vec<String> {
    let clock = ManualClock::new(start());
    let axes = match Axes::builder(scenario.settings.clone())
        .store(store.clone())
        .clock(Arc::new(clock.clone()))
        .build()
    {
        Ok(a) => a,
        Err(e) => return vec![format!("{}: settings rejected: {e}", scenario.name)],
    };
    let events: Arc<std::sync::Mutex<Vec<EventKind>>> = Arc::default();
    let sink = events.clone();
    axes.subscribe(move |e| sink.lock().unwrap_or_else(|p| p.into_inner()).push(e.kind));

    let mut errors = Vec::new();
    let mut logins = 0;
    let mut held: HashMap<&'static str, Ticket> = HashMap::new();
    let mut devices: HashMap<&'static str, String> = HashMap::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        let at = format!("{} step {} ({step:?})", scenario.name, i + 1);
        match step {
            Step::Login {
                who,
                ok,
                method,
                expect,
            } => {
                let attempt = who.attempt_with(method, &devices);
                let ok = *ok;
                let result = axes
                    .authenticate(&attempt, || async move {
                        Ok::<_, std::convert::Infallible>(ok.then_some(()))
                    })
                    .await;
                let got = match &result {
                    Ok(()) => Outcome::Ok,
                    Err(AuthError::InvalidCredentials) => Outcome::Invalid,
                    Err(AuthError::LockedOut(l)) if l.reason == LockoutReason::Denied => {
                        Outcome::Denied
                    }
                    Err(AuthError::LockedOut(l)) if l.reason == LockoutReason::Unidentified => {
                        Outcome::Unidentified
                    }
                    Err(AuthError::LockedOut(l)) if l.reason == LockoutReason::Blocked => {
                        Outcome::Blocked
                    }
                    Err(AuthError::LockedOut(_)) => Outcome::Locked,
                    Err(AuthError::Backend(e)) => match *e {},
                };
                if result.is_ok() {
                    logins += 1;
                    axes.logged_in(&attempt, Some(&format!("s{logins}"))).await;
                }
                if got != *expect {
                    errors.push(format!("{at}: got {got:?}"));
                }
            }
            Step::BeginHold(name, who) => {
                match axes.begin(&who.attempt_with("POST", &devices)).await {
                    Ok(ticket) => {
                        if held.insert(name, ticket).is_some() {
                            errors.push(format!("{at}: a ticket of that name was still held"));
                        }
                    }
                    Err(l) => errors.push(format!("{at}: refused: {l:?}")),
                }
            }
            Step::Finish(name, ending) => match (held.remove(name), ending) {
                (None, _) => errors.push(format!("{at}: no ticket of that name is held")),
                (Some(t), Ending::Succeeded) => t.succeeded().await,
                (Some(t), Ending::Abandoned) => t.abandon().await,
                (Some(t), Ending::Failed(expect)) => {
                    let got = match t.failed().await {
                        None => Outcome::Invalid,
                        Some(_) => Outcome::Locked,
                    };
                    if got != *expect {
                        errors.push(format!("{at}: got {got:?}"));
                    }
                }
            },
            Step::Failures(who, n) => {
                let r = axes.check(&who.attempt_with("POST", &devices)).await;
                if r.failures != *n {
                    errors.push(format!("{at}: got {r:?}"));
                }
            }
            Step::Logout { user, session } => axes.logged_out(user, Some(session)).await,
            Step::Advance(secs) => clock.advance(chrono::Duration::seconds(*secs)),
            Step::Check { who, refused } => {
                let r = axes.check(&who.attempt_with("POST", &devices)).await;
                if r.lockout.is_some() != *refused {
                    errors.push(format!("{at}: got {r:?}"));
                }
            }
            Step::RetryAfter { who, secs } => {
                let r = axes.check(&who.attempt_with("POST", &devices)).await;
                match r.lockout {
                    Some(l) if l.retry_after_secs() == *secs => {}
                    other => errors.push(format!("{at}: got {other:?}")),
                }
            }
            Step::Reset { ip, user, removed } => match axes.reset(*ip, *user).await {
                Ok(n) if n == *removed => {}
                other => errors.push(format!("{at}: got {other:?}")),
            },
            Step::StoredFailures(n) => match store.list_attempts(&ListQuery::all()).await {
                Ok(p) => {
                    let sum: u32 = p.items.iter().map(|r| r.failures).sum();
                    if sum != *n {
                        errors.push(format!("{at}: got {sum} in {:?}", p.items));
                    }
                }
                Err(e) => errors.push(format!("{at}: {e}")),
            },
            Step::Records(n) => match store.list_attempts(&ListQuery::all()).await {
                Ok(p) if p.total == *n && p.items.len() as u64 == *n => {}
                other => errors.push(format!("{at}: got {other:?}")),
            },
            Step::NoIpStored => match store.list_attempts(&ListQuery::all()).await {
                Ok(p) if p.items.iter().all(|r| r.key.ip_address.is_none()) && p.total > 0 => {}
                other => errors.push(format!("{at}: got {other:?}")),
            },
            Step::AccessLogs { total, open } => {
                match store.list_access_logs(&ListQuery::all()).await {
                    Ok(p) => {
                        let o = p.items.iter().filter(|r| r.logout_time.is_none()).count() as u64;
                        if p.total != *total || o != *open {
                            errors.push(format!("{at}: got total {} open {o}", p.total));
                        }
                    }
                    Err(e) => errors.push(format!("{at}: {e}")),
                }
            }
            Step::FailureLogs { total, locked } => {
                match store.list_failure_logs(&ListQuery::all()).await {
                    Ok(p) => {
                        let l = p.items.iter().filter(|r| r.entry.locked_out).count() as u64;
                        if p.total != *total || l != *locked {
                            errors.push(format!("{at}: got total {} locked {l}", p.total));
                        }
                    }
                    Err(e) => errors.push(format!("{at}: {e}")),
                }
            }
            Step::ResetLogs { age_days, removed } => match axes.reset_logs(*age_days).await {
                Ok(n) if n == *removed => {}
                other => errors.push(format!("{at}: got {other:?}")),
            },
            Step::Purge(n) => match axes.purge_expired().await {
                Ok(got) if got == *n => {}
                other => errors.push(format!("{at}: got {other:?}")),
            },
            Step::Events(kind, n) => {
                let got = events
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .filter(|k| *k == kind)
                    .count();
                if got != *n {
                    errors.push(format!("{at}: got {got}"));
                }
            }
            Step::Block { ip, user, secs } => {
                let duration = secs.map(Duration::from_secs);
                if let Err(e) = axes.block(*ip, *user, duration, "conformance").await {
                    errors.push(format!("{at}: {e}"));
                }
            }
            Step::Unblock { ip, user, removed } => match axes.unblock(*ip, *user).await {
                Ok(r) if r == *removed => {}
                other => errors.push(format!("{at}: got {other:?}")),
            },
            Step::BlockRows(n) => match axes.list_blocks(None, &ListQuery::all()).await {
                Ok(p) if p.total == *n && p.items.len() as u64 == *n => {}
                other => errors.push(format!("{at}: got {other:?}")),
            },
            Step::TrustDevice { name, user } => match axes.issue_device_token(user) {
                Some(token) => {
                    devices.insert(name, token);
                }
                None => errors.push(format!("{at}: no token issued")),
            },
        }
    }
    errors
}

/// Runs every scenario, each on a fresh store, and panics listing all
/// mismatches.
pub async fn run_scenarios<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<Arc<dyn Store>>>,
{
    let scenarios = all_scenarios();
    let mut errors = Vec::new();
    for s in &scenarios {
        let Some(store) = fresh(&make).await else {
            return;
        };
        errors.extend(run_scenario(s, store).await);
    }
    assert!(
        errors.is_empty(),
        "{} of {} scenarios had mismatches:\n{}",
        errors.len(),
        scenarios.len(),
        errors.join("\n")
    );
    eprintln!("conformance: {} scenarios passed", scenarios.len());
}

/// Exact admission: 100 concurrent wrong attempts for one username from one
/// IP with limit 5 and `reset_cool_off_on_failure_during_lockout = false`
/// run exactly 5 credential checks and leave exactly 5 failures; 20 rounds.
pub async fn run_concurrency<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<Arc<dyn Store>>>,
{
    let Some(store) = fresh(&make).await else {
        return;
    };
    let settings = Settings {
        failure_limit: 5,
        reset_cool_off_on_failure_during_lockout: false,
        lockout_parameters: LockoutParameters::any_of(&[Field::IpAddress, Field::Username]),
        store_timeout: Duration::from_secs(30),
        ..Settings::default()
    };
    let axes = match Axes::builder(settings).store(store.clone()).build() {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    };
    for round in 0..20 {
        let checks = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let axes = axes.clone();
            let checks = checks.clone();
            tasks.push(tokio::spawn(async move {
                let attempt = who("198.51.100.1", "victim").attempt("POST");
                axes.authenticate(&attempt, || async {
                    checks.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    Ok::<Option<()>, std::convert::Infallible>(None)
                })
                .await
                .is_err()
            }));
        }
        for t in tasks {
            assert!(matches!(t.await, Ok(true)));
        }
        let page = match store.list_attempts(&ListQuery::all()).await {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        let stored: u32 = page.items.iter().map(|r| r.failures).sum();
        assert_eq!(
            checks.load(Ordering::SeqCst),
            5,
            "round {round}: credential checks"
        );
        assert_eq!(stored, 5, "round {round}: stored failures");
        match axes.reset(None, None).await {
            Ok(n) => assert_eq!(n, 1, "round {round}: one record"),
            Err(e) => panic!("{e}"),
        }
    }
}

fn key(ip: Option<&str>, user: Option<&str>, ua: &str) -> RecordKey {
    RecordKey {
        scope: String::new(),
        username: user.map(str::to_owned),
        ip_address: ip.map(str::to_owned),
        user_agent: ua.to_owned(),
    }
}

/// Ids that no store may take for one of its own: look-ups by them answer
/// `None` (and never fail).
fn bogus_ids() -> Vec<String> {
    vec![
        "not-an-id".into(),
        String::new(),
        "x".repeat(10_000),
        "9".repeat(10_000),
        "999999".into(),
        "0".repeat(32),
        "-1".into(),
        "../../etc".into(),
    ]
}

/// Look-ups by `bogus_ids` on every kind of row answer `None`.
async fn assert_bogus_ids_unknown(store: &dyn Store) {
    for id in bogus_ids() {
        let shown: String = id.chars().take(40).collect();
        assert_eq!(
            store.get_attempt(&id).await.expect("get_attempt"),
            None,
            "attempt {shown:?}"
        );
        assert_eq!(
            store.get_access_log(&id).await.expect("get_access_log"),
            None,
            "access log {shown:?}"
        );
        assert_eq!(
            store.get_failure_log(&id).await.expect("get_failure_log"),
            None,
            "failure log {shown:?}"
        );
    }
}

/// One failure on `key` at `now` (no limit), and the token naming it.
async fn reserve_at(
    store: &dyn Store,
    key: &RecordKey,
    now: DateTime<Utc>,
    window: Option<chrono::Duration>,
) -> ReservationToken {
    let details = AttemptDetails::default();
    let parameters = LockoutParameters::default();
    let out = store
        .reserve(&Reservation {
            key,
            details: &details,
            parameters: &parameters,
            limit: None,
            window,
            count_when_locked: true,
            now,
            blocks: &[],
            manual_only: false,
        })
        .await
        .expect("reserve");
    assert!(out.admitted && out.counted, "{out:?}");
    out.token.expect("a counted failure has a token")
}

/// The stored failures and time of the record of `key`, if any.
async fn record_of(store: &dyn Store, key: &RecordKey) -> Option<(u32, DateTime<Utc>)> {
    store
        .list_attempts(&ListQuery {
            ip_address: key.ip_address.clone(),
            ..ListQuery::all()
        })
        .await
        .expect("list")
        .items
        .into_iter()
        .find(|r| r.key == *key)
        .map(|r| (r.failures, r.attempt_time))
}

/// [`Store::release`] gives back exactly the failure its token names: not
/// after the record was reset, cleared, deleted by id, purged or restarted
/// (the new record keeps its count), and it puts the record's time back
/// unless another failure was counted on it since.
pub async fn run_give_back<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<Arc<dyn Store>>>,
{
    let Some(store) = fresh(&make).await else {
        return;
    };
    let store = &*store;
    let at = |secs: i64| start() + chrono::Duration::seconds(secs);
    let window = Some(chrono::Duration::seconds(60));
    let client = |ip: &str| key(Some(ip), Some("alice"), "ua");

    // Deleted in any way, then made again at the same instant: a token of
    // the old record gives nothing back from the new one.
    let deletions: [(&str, &str); 4] = [
        ("192.0.2.1", "reset"),
        ("192.0.2.2", "clear_client"),
        ("192.0.2.3", "delete_attempts"),
        ("192.0.2.4", "purge_attempts"),
    ];
    for (ip, how) in deletions {
        let k = client(ip);
        let old = reserve_at(store, &k, at(0), None).await;
        let filter = ResetFilter {
            ip_address: Some(ip.into()),
            username: None,
        };
        let parameters = LockoutParameters::default();
        let n = match how {
            "reset" => store.reset(&filter),
            "clear_client" => store.clear_client(&k, &parameters),
            "delete_attempts" => store.delete_attempts(std::slice::from_ref(&old.record_id)),
            _ => store.purge_attempts(at(0)),
        }
        .await
        .expect(how);
        assert_eq!(n, 1, "{how}");
        let new = reserve_at(store, &k, at(0), None).await;
        store.release(&k, &old).await.expect("release");
        assert_eq!(
            record_of(store, &k).await,
            Some((1, at(0))),
            "after {how}, a stale give-back took a failure off the new record"
        );
        store.release(&k, &new).await.expect("release");
        assert_eq!(record_of(store, &k).await, None, "after {how}");
    }

    // Restarted in place after its window passed: the old generation's
    // failures are gone, and so is the one the old token names.
    let k = client("192.0.2.5");
    let old = reserve_at(store, &k, at(0), window).await;
    let first = reserve_at(store, &k, at(61), window).await;
    assert_eq!(record_of(store, &k).await, Some((1, at(61))), "restarted");
    store.release(&k, &old).await.expect("release");
    assert_eq!(record_of(store, &k).await, Some((1, at(61))), "stale");
    let second = reserve_at(store, &k, at(62), window).await;
    store.release(&k, &old).await.expect("release");
    assert_eq!(record_of(store, &k).await, Some((2, at(62))), "stale");
    store.release(&k, &second).await.expect("release");
    assert_eq!(record_of(store, &k).await, Some((1, at(61))), "current");
    store.release(&k, &first).await.expect("release");
    assert_eq!(record_of(store, &k).await, None, "current");

    // The time goes back to the one before the given-back reservation,
    // unless a failure was counted on the record after it.
    let k = client("192.0.2.6");
    reserve_at(store, &k, at(0), window).await;
    let last = reserve_at(store, &k, at(10), window).await;
    store.release(&k, &last).await.expect("release");
    assert_eq!(record_of(store, &k).await, Some((1, at(0))), "restored");
    let earlier = reserve_at(store, &k, at(20), window).await;
    let later = reserve_at(store, &k, at(30), window).await;
    store.release(&k, &earlier).await.expect("release");
    assert_eq!(
        record_of(store, &k).await,
        Some((2, at(30))),
        "a later failure keeps its time"
    );
    // Back to the time the record had before that reservation, the time of
    // `earlier`: a store keeps one time per record, not one per failure, so
    // an out-of-order give-back leaves the later time (never an earlier one
    // than a failure still counted).
    store.release(&k, &later).await.expect("release");
    assert_eq!(
        record_of(store, &k).await,
        Some((1, at(20))),
        "back to the time before the latest reservation"
    );

    // Two failures at the same instant: giving back the first leaves the
    // time of the second.
    let k = client("192.0.2.7");
    reserve_at(store, &k, at(0), None).await;
    let one = reserve_at(store, &k, at(10), None).await;
    let two = reserve_at(store, &k, at(10), None).await;
    store.release(&k, &one).await.expect("release");
    assert_eq!(
        record_of(store, &k).await,
        Some((2, at(10))),
        "same instant"
    );
    store.release(&k, &two).await.expect("release");
    assert_eq!(
        record_of(store, &k).await,
        Some((1, at(10))),
        "same instant"
    );
}

/// The store API beyond scenarios: listing, paging, search, look-ups and
/// deletes by id, release, log caps and log closing.
pub async fn run_store_api<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<Arc<dyn Store>>>,
{
    let Some(store) = fresh(&make).await else {
        return;
    };
    // Migrations are idempotent.
    store.migrate().await.expect("second migrate");
    store.ping().await.expect("ping");

    let params = LockoutParameters::default();
    let t0 = start();
    let details = AttemptDetails {
        path: "/login".into(),
        http_accept: "text/html".into(),
        get_data: String::new(),
        post_data: "username=x\npassword=********".into(),
    };
    let keys = [
        key(Some("10.0.0.1"), Some("alice"), "Firefox"),
        key(Some("10.0.0.2"), Some("bob"), "curl"),
        key(Some("10.0.0.3"), None, "Chrome"),
        key(None, Some("carol"), "Safari"),
    ];
    let mut tokens = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let r = Reservation {
            key: k,
            details: &details,
            parameters: &params,
            limit: None,
            window: None,
            count_when_locked: true,
            now: t0 + chrono::Duration::seconds(i as i64 * 10),
            blocks: &[],
            manual_only: false,
        };
        let out = store.reserve(&r).await.expect("reserve");
        assert!(out.admitted && out.counted);
        tokens.push(out.token.expect("a counted failure has a token"));
    }
    // Second failure on alice, later.
    let r = Reservation {
        key: &keys[0],
        details: &details,
        parameters: &params,
        limit: None,
        window: None,
        count_when_locked: true,
        now: t0 + chrono::Duration::seconds(100),
        blocks: &[],
        manual_only: false,
    };
    let alice_second = store
        .reserve(&r)
        .await
        .expect("reserve")
        .token
        .expect("a counted failure has a token");

    let all = store.list_attempts(&ListQuery::all()).await.expect("list");
    assert_eq!(all.total, 4);
    assert_eq!(all.items[0].key, keys[0], "newest first");
    assert_eq!(all.items[0].failures, 2);
    assert_eq!(all.items[0].details.path, "/login");
    assert_eq!(
        all.items[0].attempt_time,
        t0 + chrono::Duration::seconds(100)
    );
    assert!(all.items.iter().any(|r| r.key.username.is_none()));
    assert!(all.items.iter().any(|r| r.key.ip_address.is_none()));

    // Look-up by id gives the record as listed.
    for r in &all.items {
        assert_eq!(
            store
                .get_attempt(&r.id)
                .await
                .expect("get_attempt")
                .as_ref(),
            Some(r),
            "get_attempt({:?})",
            r.id
        );
    }
    // The engine reads through the same look-up.
    let axes = Axes::builder(Settings::default())
        .store(store.clone())
        .build()
        .expect("engine");
    assert_eq!(
        axes.get_attempt(&all.items[0].id)
            .await
            .expect("engine get"),
        Some(all.items[0].clone())
    );
    assert_eq!(
        axes.get_attempt(&"x".repeat(10_000))
            .await
            .expect("engine get"),
        None
    );
    assert_bogus_ids_unknown(&*store).await;

    let oldest = store
        .list_attempts(&ListQuery {
            order: Order::OldestFirst,
            limit: 2,
            ..ListQuery::all()
        })
        .await
        .expect("page");
    assert_eq!(oldest.total, 4);
    assert_eq!(oldest.items.len(), 2);
    assert_eq!(oldest.items[0].key, keys[1]);
    let next = store
        .list_attempts(&ListQuery {
            order: Order::OldestFirst,
            limit: 2,
            offset: 2,
            ..ListQuery::all()
        })
        .await
        .expect("page 2");
    assert_eq!(next.items.len(), 2);
    assert_eq!(next.items[1].key, keys[0]);

    let by_ip = store
        .list_attempts(&ListQuery {
            ip_address: Some("10.0.0.2".into()),
            ..ListQuery::all()
        })
        .await
        .expect("ip filter");
    assert_eq!(by_ip.total, 1);
    assert_eq!(by_ip.items[0].key.username.as_deref(), Some("bob"));
    let by_user = store
        .list_attempts(&ListQuery {
            username: Some("carol".into()),
            ..ListQuery::all()
        })
        .await
        .expect("user filter");
    assert_eq!(by_user.total, 1);
    let search = store
        .list_attempts(&ListQuery {
            search: Some("FIRE".into()),
            ..ListQuery::all()
        })
        .await
        .expect("search");
    assert_eq!(
        search.total, 1,
        "search is case-insensitive over user agent"
    );
    let search_pct = store
        .list_attempts(&ListQuery {
            search: Some("%".into()),
            ..ListQuery::all()
        })
        .await
        .expect("search %");
    assert_eq!(search_pct.total, 0, "search wildcards are literal");
    let window = store
        .list_attempts(&ListQuery {
            since: Some(t0 + chrono::Duration::seconds(10)),
            until: Some(t0 + chrono::Duration::seconds(30)),
            ..ListQuery::all()
        })
        .await
        .expect("time range");
    assert_eq!(window.total, 2, "since inclusive, until exclusive");

    // A token under another key gives nothing back.
    store
        .release(&key(Some("192.0.2.99"), None, ""), &alice_second)
        .await
        .expect("release unknown");
    store
        .release(&keys[2], &alice_second)
        .await
        .expect("release another record");
    assert_eq!(
        store.list_attempts(&ListQuery::all()).await.expect("list"),
        all,
        "a token of another key changed nothing"
    );
    // Release: alice 2 → 1 (and back to her first failure's time), bob 1 →
    // gone.
    store
        .release(&keys[0], &alice_second)
        .await
        .expect("release");
    store.release(&keys[1], &tokens[1]).await.expect("release");
    let all = store.list_attempts(&ListQuery::all()).await.expect("list");
    assert_eq!(all.total, 3);
    let alice = all.items.iter().find(|r| r.key == keys[0]).expect("alice");
    assert_eq!((alice.failures, alice.attempt_time), (1, t0));

    // Delete by id.
    let carol = all
        .items
        .iter()
        .find(|r| r.key == keys[3])
        .map(|r| r.id.clone())
        .expect("carol");
    let n = store
        .delete_attempts(&[carol.clone(), "not-an-id".into(), "999999".into()])
        .await
        .expect("delete");
    assert_eq!(n, 1);
    assert_eq!(
        store.get_attempt(&carol).await.expect("get deleted"),
        None,
        "a deleted record is unknown"
    );
    // A record updated after listing is read as it is now.
    let alice = store
        .list_attempts(&ListQuery {
            username: Some("alice".into()),
            ..ListQuery::all()
        })
        .await
        .expect("alice")
        .items
        .pop()
        .expect("alice listed");
    assert_eq!(alice.failures, 1);
    assert_eq!(
        store.get_attempt(&alice.id).await.expect("get alice"),
        Some(alice)
    );

    // clear_client deletes records matching on any alternative.
    let n = store
        .clear_client(
            &key(Some("10.0.0.3"), Some("zed"), "other"),
            &LockoutParameters::any_of(&[Field::IpAddress, Field::Username]),
        )
        .await
        .expect("clear");
    assert_eq!(n, 1);
    assert_eq!(store.reset(&ResetFilter::all()).await.expect("reset"), 1);

    // Access log: close only the matching session.
    for (i, session) in ["h1", "h2"].iter().enumerate() {
        store
            .insert_access_log(&NewAccessLog {
                key: keys[0].clone(),
                path: "/login".into(),
                http_accept: "*/*".into(),
                attempt_time: t0 + chrono::Duration::seconds(i as i64),
                session_hash: (*session).into(),
            })
            .await
            .expect("access log");
    }
    let closed = store
        .close_access_log("alice", "h2", t0 + chrono::Duration::seconds(50))
        .await
        .expect("close");
    assert_eq!(closed, 1);
    let logs = store
        .list_access_logs(&ListQuery::all())
        .await
        .expect("logs");
    assert_eq!(logs.total, 2);
    let h2 = logs
        .items
        .iter()
        .find(|r| r.entry.session_hash == "h2")
        .expect("h2");
    assert_eq!(h2.logout_time, Some(t0 + chrono::Duration::seconds(50)));
    for r in &logs.items {
        assert_eq!(
            store
                .get_access_log(&r.id)
                .await
                .expect("get_access_log")
                .as_ref(),
            Some(r),
            "get_access_log({:?})",
            r.id
        );
    }
    assert_eq!(
        axes.get_access_log(&h2.id).await.expect("engine get"),
        Some(h2.clone())
    );
    assert_bogus_ids_unknown(&*store).await;
    assert_eq!(
        store
            .delete_access_logs(std::slice::from_ref(&h2.id))
            .await
            .expect("delete log"),
        1
    );
    assert_eq!(
        store.get_access_log(&h2.id).await.expect("get deleted log"),
        None
    );
    assert_eq!(store.reset_access_logs(None).await.expect("reset logs"), 1);

    // Failure log cap keeps the newest rows of that username.
    for i in 0..5 {
        store
            .insert_failure_log(
                &NewFailureLog {
                    key: keys[1].clone(),
                    path: "/login".into(),
                    http_accept: "*/*".into(),
                    attempt_time: t0 + chrono::Duration::seconds(i),
                    locked_out: i == 4,
                },
                3,
            )
            .await
            .expect("failure log");
    }
    store
        .insert_failure_log(
            &NewFailureLog {
                key: keys[0].clone(),
                path: "/login".into(),
                http_accept: "*/*".into(),
                attempt_time: t0,
                locked_out: false,
            },
            3,
        )
        .await
        .expect("failure log");
    let fl = store
        .list_failure_logs(&ListQuery {
            username: Some("bob".into()),
            order: Order::OldestFirst,
            ..ListQuery::all()
        })
        .await
        .expect("failure logs");
    assert_eq!(fl.total, 3);
    assert_eq!(
        fl.items[0].entry.attempt_time,
        t0 + chrono::Duration::seconds(2)
    );
    assert!(fl.items[2].entry.locked_out);
    for r in &fl.items {
        assert_eq!(
            store
                .get_failure_log(&r.id)
                .await
                .expect("get_failure_log")
                .as_ref(),
            Some(r),
            "get_failure_log({:?})",
            r.id
        );
    }
    assert_eq!(
        axes.get_failure_log(&fl.items[2].id)
            .await
            .expect("engine get"),
        Some(fl.items[2].clone())
    );
    assert_bogus_ids_unknown(&*store).await;
    let removed = store
        .reset_failure_logs(Some(t0 + chrono::Duration::seconds(2)))
        .await
        .expect("reset failure logs");
    assert_eq!(
        removed, 2,
        "alice's row at t0 and bob's at t0+2 (inclusive)"
    );
    assert_eq!(
        store
            .get_failure_log(&fl.items[0].id)
            .await
            .expect("get removed row"),
        None,
        "a removed row is unknown"
    );
    let id = store
        .list_failure_logs(&ListQuery::all())
        .await
        .expect("fl")
        .items
        .iter()
        .map(|r| r.id.clone())
        .collect::<Vec<_>>();
    assert_eq!(store.delete_failure_logs(&id).await.expect("delete"), 2);
    for id in &id {
        assert_eq!(
            store.get_failure_log(id).await.expect("get deleted row"),
            None
        );
    }
}
