//! Shared by the `outage_*` tests: SPEC §10 reliability on a store server
//! of the test's own, stopped abruptly and started again under two running
//! `axes demo` processes — one with `fail_closed = false`, one with
//! `fail_closed = true`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::process_support::{
    AxesEnv, DemoProcess, PASSWORD, checks, client, healthz, login, stats, wait_healthy,
};

/// `failure_limit` of the scenario.
pub const LIMIT: usize = 3;
/// `store_timeout` of the scenario.
pub const STORE_TIMEOUT: &str = "300ms";
/// The longest a request may take while the store is down: a few store
/// calls, each bounded by `store_timeout`, and some slack for a loaded CI.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(3);
/// The log line of an outage (one per outage and process).
pub const UNREACHABLE: &str = "store unreachable";
/// The log line of a recovery.
pub const REACHABLE: &str = "store is reachable again";

/// A store server the test owns.
pub trait StoreServer {
    /// Stops it abruptly (SIGKILL, `pg_ctl -m immediate`).
    fn stop(&mut self);
    /// Starts it again on the same port; returns once it answers.
    fn start(&mut self);
}

const OPEN_USER: &str = "open-victim";
const CLOSED_USER: &str = "closed-victim";

/// What the scenario saw, for the report.
#[derive(Debug, Default)]
pub struct Observed {
    /// Slowest answer of a login or `/healthz` while the store was down.
    pub slowest_while_down: Duration,
    /// Every answer time while the store was down: (what, how long).
    pub times_while_down: Vec<(&'static str, Duration)>,
    /// Time from the store answering again to `/healthz` 200.
    pub recovery: Duration,
    /// The outage log lines of the fail-open process.
    pub open_lines: Vec<String>,
    /// The outage log lines of the fail-closed process.
    pub closed_lines: Vec<String>,
}

impl Observed {
    fn track(&mut self, label: &str, what: &'static str, took: Duration) {
        assert!(
            took < ANSWER_WITHIN,
            "{label}: {what} took {took:?} while the store was down (store_timeout {STORE_TIMEOUT})"
        );
        self.slowest_while_down = self.slowest_while_down.max(took);
        self.times_while_down.push((what, took));
    }
}

/// Wrong passwords until the lockout: `LIMIT - 1 - prior` times 401, then
/// 429; then the right password is refused too (429).
async fn lock_out(
    http: &reqwest::Client,
    label: &str,
    demo: &DemoProcess,
    user: &str,
    prior: usize,
) {
    let mut seen = Vec::new();
    for _ in prior..LIMIT {
        seen.push(login(http, &demo.url, user, "wrong").await.0);
    }
    let mut expected = vec![401; LIMIT - 1 - prior];
    expected.push(429);
    assert_eq!(seen, expected, "{label}: {} locks out again", demo.name);
    assert_eq!(
        login(http, &demo.url, user, PASSWORD).await.0,
        429,
        "{label}: {} refuses the right password while locked out",
        demo.name
    );
}

/// The scenario. `env` names the store; `durable` says whether records
/// written before the stop survive it (a database does; this Redis, run
/// without persistence, does not).
pub async fn run(
    label: &str,
    server: &mut dyn StoreServer,
    env: AxesEnv,
    durable: bool,
) -> Observed {
    let env = env
        .set("AXES_FAILURE_LIMIT", &LIMIT.to_string())
        .set("AXES_LOCKOUT_PARAMETERS", "username")
        .set("AXES_STORE_TIMEOUT", STORE_TIMEOUT);
    let open = env
        .clone()
        .set("AXES_FAIL_CLOSED", "false")
        .demo_as("fail-open", OPEN_USER);
    let closed = env
        .clone()
        .set("AXES_FAIL_CLOSED", "true")
        .demo_as("fail-closed", CLOSED_USER);
    let http = client();
    let mut seen = Observed::default();
    for d in [&open, &closed] {
        wait_healthy(&http, &d.url, Duration::from_secs(20)).await;
    }

    // Before: two counted failures each.
    for (d, user) in [(&open, OPEN_USER), (&closed, CLOSED_USER)] {
        for _ in 0..2 {
            assert_eq!(login(&http, &d.url, user, "wrong").await.0, 401, "{label}");
        }
    }

    // Outage 1.
    server.stop();
    // fail_closed = false: answered, allowed, not counted. With two
    // failures counted before, a counted third would be the lockout (429).
    for n in 0..3 {
        let (status, took) = login(&http, &open.url, OPEN_USER, "wrong").await;
        seen.track(label, "a wrong login (fail open)", took);
        assert_eq!(
            status, 401,
            "{label}: wrong password {n} while down, fail open"
        );
    }
    let (status, took) = login(&http, &open.url, OPEN_USER, PASSWORD).await;
    seen.track(label, "a right login (fail open)", took);
    assert_eq!(status, 303, "{label}: right password while down, fail open");
    assert_eq!(checks(&http, &open.url).await, 2 + 4, "{label}");
    // fail_closed = true: refused with 503 before the credential check.
    for password in [PASSWORD, "wrong"] {
        let (status, took) = login(&http, &closed.url, CLOSED_USER, password).await;
        seen.track(label, "a login (fail closed)", took);
        assert_eq!(status, 503, "{label}: login while down, fail closed");
    }
    assert_eq!(checks(&http, &closed.url).await, 2, "{label}");
    for d in [&open, &closed] {
        let (status, took) = healthz(&http, &d.url).await;
        seen.track(label, "/healthz", took);
        assert_eq!(status, 503, "{label}: {} /healthz while down", d.name);
        let st = stats(&http, &d.url).await;
        assert_eq!(st["store"]["available"], false, "{label}: {st}");
        assert_eq!(st["store"]["outages"], 1, "{label}: {st}");
        assert_eq!(
            d.wait_log(UNREACHABLE, 1),
            1,
            "{label}: {}: one outage line expected:\n{}",
            d.name,
            d.log_text()
        );
    }
    let line = |d: &DemoProcess| {
        d.log_lines()
            .into_iter()
            .filter(|l| l.contains(UNREACHABLE))
            .collect::<Vec<_>>()
    };
    assert!(
        line(&open)[0].contains("fail_closed = false"),
        "{label}: {:?}",
        line(&open)
    );
    assert!(
        line(&closed)[0].contains("fail_closed = true"),
        "{label}: {:?}",
        line(&closed)
    );

    // Back: no restart of axes needed.
    server.start();
    let started = std::time::Instant::now();
    for d in [&open, &closed] {
        wait_healthy(&http, &d.url, Duration::from_secs(20)).await;
    }
    seen.recovery = started.elapsed();
    // Counting and lockouts work again. A database kept the two failures
    // of before the outage; this Redis lost them.
    let prior = if durable { 2 } else { 0 };
    lock_out(&http, label, &open, OPEN_USER, prior).await;
    assert_eq!(
        login(&http, &closed.url, CLOSED_USER, PASSWORD).await.0,
        303,
        "{label}: fail closed lets the right password in again"
    );
    lock_out(&http, label, &closed, CLOSED_USER, prior).await;
    for d in [&open, &closed] {
        let st = stats(&http, &d.url).await;
        assert_eq!(st["store"]["available"], true, "{label}: {st}");
        assert!(
            d.wait_log(REACHABLE, 1) >= 1,
            "{label}: {}: no recovery line:\n{}",
            d.name,
            d.log_text()
        );
    }

    // Outage 2: one more line each, however many requests.
    server.stop();
    for _ in 0..3 {
        let (status, took) = login(&http, &open.url, OPEN_USER, PASSWORD).await;
        seen.track(label, "a login (outage 2)", took);
        assert_eq!(
            status, 303,
            "{label}: locked out, but the store is down: fail open"
        );
        let (status, _) = login(&http, &closed.url, CLOSED_USER, PASSWORD).await;
        assert_eq!(status, 503, "{label}: fail closed, outage 2");
    }
    for d in [&open, &closed] {
        assert_eq!(
            d.wait_log(UNREACHABLE, 2),
            2,
            "{label}: {}: one line per outage:\n{}",
            d.name,
            d.log_text()
        );
        assert_eq!(stats(&http, &d.url).await["store"]["outages"], 2);
        assert_eq!(d.count_log("panicked"), 0, "{label}: {}", d.log_text());
    }
    seen.open_lines = line(&open);
    seen.closed_lines = line(&closed);
    eprintln!(
        "{label}: slowest answer while down {:?}; /healthz 200 {:?} after the store was back\n  \
         answers while down: {:?}\n  fail open:   {:#?}\n  fail closed: {:#?}",
        seen.slowest_while_down,
        seen.recovery,
        seen.times_while_down,
        seen.open_lines,
        seen.closed_lines
    );
    seen
}
