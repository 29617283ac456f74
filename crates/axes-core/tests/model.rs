//! Property tests: the engine on the memory store against a small model.
//!
//! Random interleavings of `begin` / finish-as-success / finish-as-failure /
//! `abandon` / `reset` / `check` / `purge_expired` / clock advances, for
//! several lockout parameters, limits, cool-offs and small sets of clients,
//! with several tickets open at once. After every step the engine's answers
//! (`begin`, `check`, the lockouts, `list_attempts`) are compared with the
//! model, and the safety property is checked on the tickets themselves.
//!
//! # What the model assumes
//!
//! The model is the store semantics of `axes_core::store` (module docs of
//! `store.rs`), written as plainly as possible: a map from record key
//! (canonical IP, normalised username) to `(failures, time)`, no indexes.
//!
//! - A record is live while `time > now - cooloff` (always without a
//!   cool-off); the count of an alternative is the sum of the live records
//!   matching the attempt on every field of the alternative.
//! - An attempt is counted only by the alternatives whose fields it has (a
//!   missing IP or username is never a value of its own); with none left,
//!   `begin` and `check` refuse it as unidentified and nothing is recorded.
//! - `begin` admits when no alternative has reached the limit. When it admits,
//!   or when it refuses and `reset_cool_off_on_failure_during_lockout` is on,
//!   one failure is added to the attempt's record (restarted at one, as a new
//!   "generation", when the record was no longer live) and its time becomes
//!   now. With a cool-off, a reservation first drops the records that are no
//!   longer live (the memory store does so, up to 64 at a time; the pools here
//!   have at most 9 keys).
//! - Finishing as a failure changes nothing in the store (the failure was
//!   counted in advance); the lockout it returns is decided by the counts seen
//!   when the ticket was taken.
//! - A success with `reset_on_success` deletes every record matching the
//!   client on any alternative and, when it has a username, that username. A success without it, and `abandon`, give the
//!   ticket's failure back: one off its record, the record deleted at zero.
//!   When no failure was counted on the record after the ticket's, the
//!   record's time goes back to what it was before the ticket's reservation
//!   (a given-back attempt is not a failure and does not extend the cool-off
//!   of earlier ones; see `given_back_login_refreshes_earlier_failures`).
//! - A give-back only applies to the generation of the record the ticket was
//!   counted on: once that record was deleted (reset, reset on success,
//!   purge) or restarted after its cool-off, the ticket's failure is no
//!   longer there and giving it back leaves the new record alone (see
//!   `stale_give_back_*` below).
//!
//! Usernames and IPs come in several spellings per identity (case, spaces,
//! full-width letters, IPv4-mapped IPv6, IPv6 addresses in one /64) so the
//! model also checks that the engine counts them under one canonical key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axes_core::store::{AttemptRecord, ListQuery};
use axes_core::{
    Alternative, Attempt, Axes, Error, Field, Handler, Lockout, LockoutParameters, LockoutReason,
    ManualClock, MemoryStore, Settings, Ticket,
};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;

/// Client IPs as given, and the canonical text the engine counts them under.
const IPS: &[(Option<&str>, Option<&str>)] = &[
    (Some("192.0.2.1"), Some("192.0.2.1")),
    (Some("::ffff:192.0.2.1"), Some("192.0.2.1")),
    (Some("198.51.100.7"), Some("198.51.100.7")),
    (Some("2001:db8:1:2::1"), Some("2001:db8:1:2::/64")),
    (Some("2001:db8:1:2:ffff::9"), Some("2001:db8:1:2::/64")),
    (Some("2001:db8:9::1"), Some("2001:db8:9::/64")),
    (None, None),
];

/// Usernames as typed, and their normalised form (NFKC, lowercase, trimmed;
/// empty means none).
const USERS: &[(Option<&str>, Option<&str>)] = &[
    (Some("alice"), Some("alice")),
    (Some(" Alice "), Some("alice")),
    (Some("ＡＬＩＣＥ"), Some("alice")),
    (Some("bob"), Some("bob")),
    (Some("BOB"), Some("bob")),
    (Some("   "), None),
    (None, None),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Params {
    Ip,
    Username,
    IpAndUsername,
    IpOrUsername,
}

impl Params {
    fn alternatives(self) -> Vec<Vec<Field>> {
        use Field::{IpAddress, Username};
        match self {
            Params::Ip => vec![vec![IpAddress]],
            Params::Username => vec![vec![Username]],
            Params::IpAndUsername => vec![vec![IpAddress, Username]],
            Params::IpOrUsername => vec![vec![IpAddress], vec![Username]],
        }
    }

    fn setting(self) -> LockoutParameters {
        LockoutParameters::new(
            self.alternatives()
                .into_iter()
                .map(|fields| Alternative::new(fields).unwrap()),
        )
        .unwrap()
    }
}

#[derive(Debug, Clone)]
struct Config {
    params: Params,
    limit: u32,
    /// Cool-off in seconds.
    cooloff: Option<i64>,
    reset_on_success: bool,
    count_when_locked: bool,
    /// Indices into `IPS` / `USERS`: the clients of this run.
    ips: Vec<usize>,
    users: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
enum How {
    Success,
    Failure,
    Abandon,
}

#[derive(Debug, Clone)]
enum Op {
    /// Take a ticket for client (`ips[ip % n]`, `users[user % n]`).
    Begin {
        ip: usize,
        user: usize,
    },
    /// Finish the open ticket `ticket % open`.
    Finish {
        ticket: usize,
        how: How,
    },
    Check {
        ip: usize,
        user: usize,
    },
    /// Reset with any spelling from the tables (`None` = any).
    Reset {
        ip: Option<usize>,
        user: Option<usize>,
    },
    Advance {
        secs: i64,
    },
    /// Advance to one second before, at or after a cool-off since the
    /// latest failure (to hit the edges of the window).
    AdvanceToEdge {
        offset: i64,
    },
    Purge,
}

fn config() -> impl Strategy<Value = Config> {
    (
        prop_oneof![
            Just(Params::Ip),
            Just(Params::Username),
            Just(Params::IpAndUsername),
            Just(Params::IpOrUsername),
        ],
        1..=4u32,
        proptest::option::of(10..=60i64),
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(0..IPS.len(), 1..=3),
        proptest::collection::vec(0..USERS.len(), 1..=3),
    )
        .prop_map(
            |(params, limit, cooloff, reset_on_success, count_when_locked, ips, users)| Config {
                params,
                limit,
                cooloff,
                reset_on_success,
                count_when_locked,
                ips,
                users,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    let how = prop_oneof![Just(How::Success), Just(How::Failure), Just(How::Abandon)];
    prop_oneof![
        6 => (0..3usize, 0..3usize).prop_map(|(ip, user)| Op::Begin { ip, user }),
        4 => (0..8usize, how).prop_map(|(ticket, how)| Op::Finish { ticket, how }),
        2 => (0..3usize, 0..3usize).prop_map(|(ip, user)| Op::Check { ip, user }),
        1 => (
            proptest::option::of(0..IPS.len()),
            proptest::option::of(0..USERS.len())
        )
            .prop_map(|(ip, user)| Op::Reset { ip, user }),
        2 => (0..90i64).prop_map(|secs| Op::Advance { secs }),
        1 => (-1..=1i64).prop_map(|offset| Op::AdvanceToEdge { offset }),
        1 => Just(Op::Purge),
    ]
}

// ---------------------------------------------------------------------------
// The model

/// A record key: canonical IP and normalised username (the user agent is
/// always empty here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    ip: Option<&'static str>,
    user: Option<&'static str>,
}

impl Key {
    fn get(self, f: Field) -> Option<&'static str> {
        match f {
            Field::IpAddress => self.ip,
            Field::Username => self.user,
            Field::UserAgent => Some(""),
        }
    }

    fn project(self, alt: &[Field]) -> Vec<Option<&'static str>> {
        alt.iter().map(|f| self.get(*f)).collect()
    }

    fn matches(self, other: Key, alt: &[Field]) -> bool {
        self.project(alt) == other.project(alt)
    }

    /// Whether the attempt can be counted by `alt`: every field of it is
    /// known (a missing IP or username is never a value of its own).
    fn can_count(self, alt: &[Field]) -> bool {
        alt.iter().all(|f| self.get(*f).is_some())
    }
}

#[derive(Debug, Clone)]
struct Rec {
    failures: u32,
    /// Seconds since the start of the run.
    time: i64,
    generation: u64,
    /// The serial of the latest failure counted on the record.
    serial: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Count {
    failures: u32,
    last: Option<i64>,
}

fn max_failures(counts: &[Count]) -> u32 {
    counts.iter().map(|c| c.failures).max().unwrap_or(0)
}

struct Reserved {
    /// Refused without asking the store (see `Model::unidentified`).
    unidentified: bool,
    admitted: bool,
    counts: Vec<Count>,
    token: Option<Token>,
}

/// The failure a reservation counted: what a give-back takes off.
#[derive(Debug, Clone, Copy)]
struct Token {
    generation: u64,
    serial: u64,
    reserved_at: i64,
    /// The record's time before the reservation (`None`: it created or
    /// restarted the record).
    previous: Option<i64>,
}

struct Model {
    alts: Vec<Vec<Field>>,
    limit: u32,
    window: Option<i64>,
    reset_on_success: bool,
    count_when_locked: bool,
    now: i64,
    records: BTreeMap<Key, Rec>,
    next_generation: u64,
    next_serial: u64,
    /// The key of every failure ever added to a record.
    recorded: Vec<Key>,
}

impl Model {
    fn new(c: &Config) -> Self {
        Model {
            alts: c.params.alternatives(),
            limit: c.limit,
            window: c.cooloff,
            reset_on_success: c.reset_on_success,
            count_when_locked: c.count_when_locked,
            now: 0,
            records: BTreeMap::new(),
            next_generation: 0,
            next_serial: 0,
            recorded: Vec::new(),
        }
    }

    fn live_at(&self, time: i64, at: i64) -> bool {
        self.window.is_none_or(|w| time > at - w)
    }

    /// Whether no alternative can count `key`: the engine refuses it.
    fn unidentified(&self, key: Key) -> bool {
        !self.alts.iter().any(|alt| key.can_count(alt))
    }

    /// The counts of the alternatives that can count `key`.
    fn counts_at(&self, key: Key, at: i64) -> Vec<Count> {
        self.alts
            .iter()
            .filter(|alt| key.can_count(alt))
            .map(|alt| {
                let mut c = Count {
                    failures: 0,
                    last: None,
                };
                for (k, r) in &self.records {
                    if self.live_at(r.time, at) && key.matches(*k, alt) {
                        c.failures += r.failures;
                        c.last = c.last.max(Some(r.time));
                    }
                }
                c
            })
            .collect()
    }

    fn counts(&self, key: Key) -> Vec<Count> {
        self.counts_at(key, self.now)
    }

    fn reached(&self, counts: &[Count]) -> bool {
        counts.iter().any(|c| c.failures >= self.limit)
    }

    /// Seconds until the lockout lifts at the latest: a cool-off after the
    /// latest failure of the alternatives that reached the limit.
    fn retry_after(&self, counts: &[Count]) -> Option<i64> {
        let w = self.window?;
        let last = counts
            .iter()
            .filter(|c| c.failures >= self.limit)
            .filter_map(|c| c.last)
            .max();
        Some(last.map_or(w, |l| (l + w - self.now).max(0)))
    }

    fn drop_dead(&mut self) -> u64 {
        let Some(w) = self.window else { return 0 };
        let now = self.now;
        let before = self.records.len();
        self.records.retain(|_, r| r.time > now - w);
        (before - self.records.len()) as u64
    }

    fn reserve(&mut self, key: Key) -> Reserved {
        if self.unidentified(key) {
            return Reserved {
                unidentified: true,
                admitted: false,
                counts: Vec::new(),
                token: None,
            };
        }
        self.drop_dead();
        let mut counts = self.counts(key);
        let admitted = !self.reached(&counts);
        let mut token = None;
        if !admitted && self.count_when_locked && !self.records.contains_key(&key) {
            // Refused with no record of its own: the newest live record of
            // each alternative that reached the limit takes the failure
            // (between equal times the greatest username, then IP); nothing
            // is created.
            let now = self.now;
            let mut touched: Vec<Key> = Vec::new();
            for alt in self.alts.iter().filter(|alt| key.can_count(alt)) {
                let sum: u32 = self
                    .records
                    .iter()
                    .filter(|(k, r)| self.live_at(r.time, now) && key.matches(**k, alt))
                    .map(|(_, r)| r.failures)
                    .sum();
                if sum < self.limit {
                    continue;
                }
                let newest = self
                    .records
                    .iter()
                    .filter(|(k, r)| self.live_at(r.time, now) && key.matches(**k, alt))
                    .max_by_key(|(k, r)| (r.time, k.user, k.ip))
                    .map(|(k, _)| *k);
                if let Some(k) = newest
                    && !touched.contains(&k)
                {
                    touched.push(k);
                }
            }
            for k in touched {
                self.next_serial += 1;
                let serial = self.next_serial;
                if let Some(rec) = self.records.get_mut(&k) {
                    rec.failures += 1;
                    rec.time = now;
                    rec.serial = serial;
                }
                self.recorded.push(k);
            }
            counts = self.counts(key);
        } else if admitted || self.count_when_locked {
            let now = self.now;
            let live = self
                .records
                .get(&key)
                .is_some_and(|r| self.live_at(r.time, now));
            let next = self.next_generation;
            self.next_serial += 1;
            let serial = self.next_serial;
            let rec = self.records.entry(key).or_insert(Rec {
                failures: 0,
                time: now,
                generation: next,
                serial,
            });
            let previous = if live {
                rec.failures += 1;
                Some(rec.time)
            } else {
                *rec = Rec {
                    failures: 1,
                    time: now,
                    generation: next,
                    serial,
                };
                self.next_generation += 1;
                None
            };
            rec.time = now;
            rec.serial = serial;
            token = Some(Token {
                generation: rec.generation,
                serial,
                reserved_at: now,
                previous,
            });
            self.recorded.push(key);
            for c in &mut counts {
                c.failures += 1;
                c.last = Some(now);
            }
        }
        Reserved {
            unidentified: false,
            admitted,
            counts,
            token,
        }
    }

    /// Gives a ticket's failure back: only to its own generation of the
    /// record, restoring the record's time when no failure came after it.
    fn give_back(&mut self, key: Key, token: Token) {
        let Some(r) = self.records.get_mut(&key) else {
            return;
        };
        if r.generation != token.generation {
            return;
        }
        if r.failures <= 1 {
            self.records.remove(&key);
            return;
        }
        r.failures -= 1;
        if let Some(previous) = token.previous
            && r.serial == token.serial
            && r.time == token.reserved_at
        {
            r.time = previous;
        }
    }

    fn clear_client(&mut self, key: Key) {
        let alts: Vec<Vec<Field>> = self
            .alts
            .iter()
            .filter(|alt| key.can_count(alt))
            .cloned()
            .collect();
        // Only that username's failures (when it has one): the password
        // proved that account, not the address.
        self.records.retain(|k, _| {
            !(alts.iter().any(|alt| key.matches(*k, alt))
                && (key.user.is_none() || k.user == key.user))
        });
    }

    fn reset(&mut self, ip: Option<&str>, user: Option<&str>) -> u64 {
        let before = self.records.len();
        self.records.retain(|k, _| {
            !(ip.is_none_or(|ip| k.ip == Some(ip)) && user.is_none_or(|u| k.user == Some(u)))
        });
        (before - self.records.len()) as u64
    }

    fn purge(&mut self) -> u64 {
        self.drop_dead()
    }

    fn listing(&self) -> Vec<Row> {
        self.records
            .iter()
            .map(|(k, r)| Row {
                ip: k.ip.map(str::to_owned),
                user: k.user.map(str::to_owned),
                failures: r.failures,
                time: r.time,
            })
            .collect()
    }
}

/// One attempt record, as compared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    ip: Option<String>,
    user: Option<String>,
    failures: u32,
    time: i64,
}

// ---------------------------------------------------------------------------
// The harness

/// An admitted ticket, not finished yet.
struct Open {
    ticket: Ticket,
    key: Key,
    token: Token,
    /// Counts when the ticket was taken (this failure included).
    counts: Vec<Count>,
}

/// An admitted attempt whose failure was not given back (open, failed, or
/// left unfinished): what "admitted failing attempts" counts.
struct Held {
    key: Key,
    generation: u64,
}

struct Harness {
    cfg: Config,
    axes: Axes,
    clock: ManualClock,
    start: DateTime<Utc>,
    model: Model,
    open: Vec<Open>,
    held: Vec<Held>,
}

fn secs(s: i64) -> Duration {
    Duration::from_secs(u64::try_from(s).unwrap())
}

impl Harness {
    fn new(cfg: Config) -> Self {
        let settings = Settings {
            handler: Handler::Memory,
            failure_limit: cfg.limit,
            cooloff_time: cfg.cooloff.map(secs),
            lockout_parameters: cfg.params.setting(),
            reset_on_success: cfg.reset_on_success,
            reset_cool_off_on_failure_during_lockout: cfg.count_when_locked,
            ..Settings::default()
        };
        let clock = ManualClock::fixed();
        let axes = Axes::builder(settings)
            .store(Arc::new(MemoryStore::new()))
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap();
        Harness {
            model: Model::new(&cfg),
            start: axes.now(),
            cfg,
            axes,
            clock,
            open: Vec::new(),
            held: Vec::new(),
        }
    }

    /// The attempt of client (ip, user) of this run, and its model key.
    fn client(&self, ip: usize, user: usize) -> (Attempt, Key) {
        let (ip_text, ip_key) = IPS[self.cfg.ips[ip % self.cfg.ips.len()]];
        let (user_text, user_key) = USERS[self.cfg.users[user % self.cfg.users.len()]];
        let mut a = Attempt::new();
        if let Some(ip) = ip_text {
            a = a.ip_address(ip.parse().unwrap());
        }
        if let Some(u) = user_text {
            a = a.username(u);
        }
        (
            a,
            Key {
                ip: ip_key,
                user: user_key,
            },
        )
    }

    async fn listing(&self) -> Vec<Row> {
        let page = self.axes.list_attempts(&ListQuery::all()).await.unwrap();
        let mut rows: Vec<Row> = page.items.iter().map(|r| self.row(r)).collect();
        rows.sort();
        rows
    }

    fn row(&self, r: &AttemptRecord) -> Row {
        assert_eq!(r.key.user_agent, "");
        Row {
            ip: r.key.ip_address.clone(),
            user: r.key.username.clone(),
            failures: r.failures,
            time: (r.attempt_time - self.start).num_seconds(),
        }
    }

    /// Properties of every lockout: reason, limit, failures, cool-off and
    /// `Retry-After` (never in the past while the lockout is in effect, never
    /// longer than the cool-off, and the lockout is indeed over by then).
    fn check_lockout(
        &self,
        l: &Lockout,
        counts: &[Count],
        key: Key,
        in_effect: bool,
    ) -> TestCaseResult {
        let m = &self.model;
        prop_assert_eq!(l.reason, LockoutReason::TooManyFailures);
        prop_assert_eq!(l.failure_limit, m.limit);
        prop_assert_eq!(l.failures, max_failures(counts));
        match m.window {
            None => {
                prop_assert_eq!(l.cooloff, None);
                prop_assert_eq!(l.retry_after, None);
                prop_assert!(l.is_permanent());
            }
            Some(w) => {
                prop_assert_eq!(l.cooloff, Some(secs(w)));
                let ra = l
                    .retry_after
                    .expect("a cool-off applies: Retry-After is set");
                prop_assert!(ra <= secs(w), "Retry-After {:?} > cool-off {}s", ra, w);
                prop_assert!(l.retry_after_secs().unwrap() <= w.unsigned_abs());
                prop_assert_eq!(Some(ra), m.retry_after(counts).map(secs));
                if in_effect {
                    prop_assert!(ra > Duration::ZERO, "Retry-After in the past: {:?}", l);
                    let then = m.now + i64::try_from(ra.as_secs()).unwrap();
                    prop_assert!(
                        !m.reached(&m.counts_at(key, then)),
                        "still locked out after Retry-After"
                    );
                }
            }
        }
        Ok(())
    }

    async fn step(&mut self, op: &Op) -> TestCaseResult {
        match *op {
            Op::Begin { ip, user } => {
                let (attempt, key) = self.client(ip, user);
                let got = self.axes.begin(&attempt).await;
                let want = self.model.reserve(key);
                prop_assert_eq!(got.is_ok(), want.admitted, "begin for {:?}", key);
                match got {
                    Ok(ticket) => {
                        prop_assert!(ticket.is_counted());
                        prop_assert_eq!(ticket.failures(), max_failures(&want.counts));
                        let token = want.token.unwrap();
                        self.held.push(Held {
                            key,
                            generation: token.generation,
                        });
                        self.open.push(Open {
                            ticket,
                            key,
                            token,
                            counts: want.counts,
                        });
                    }
                    Err(l) if want.unidentified => {
                        prop_assert_eq!(l.reason, LockoutReason::Unidentified);
                        prop_assert_eq!(l.failures, 0);
                    }
                    Err(l) => self.check_lockout(&l, &want.counts, key, true)?,
                }
            }
            Op::Finish { ticket, how } => {
                if self.open.is_empty() {
                    return Ok(());
                }
                let t = self.open.remove(ticket % self.open.len());
                let position = self
                    .held
                    .iter()
                    .position(|h| h.key == t.key && h.generation == t.token.generation)
                    .unwrap();
                match how {
                    How::Failure => {
                        let got = t.ticket.failed().await;
                        prop_assert_eq!(got.is_some(), self.model.reached(&t.counts));
                        if let Some(l) = got {
                            self.check_lockout(&l, &t.counts, t.key, false)?;
                        }
                    }
                    How::Success => {
                        t.ticket.succeeded().await;
                        self.held.remove(position);
                        if self.model.reset_on_success {
                            self.model.clear_client(t.key);
                        } else {
                            self.model.give_back(t.key, t.token);
                        }
                    }
                    How::Abandon => {
                        t.ticket.abandon().await;
                        self.held.remove(position);
                        self.model.give_back(t.key, t.token);
                    }
                }
            }
            Op::Check { ip, user } => {
                let (attempt, key) = self.client(ip, user);
                let got = self.axes.check(&attempt).await;
                if self.model.unidentified(key) {
                    prop_assert_eq!(
                        got.lockout.map(|l| l.reason),
                        Some(LockoutReason::Unidentified)
                    );
                    prop_assert_eq!(got.failures, 0);
                    return Ok(());
                }
                let counts = self.model.counts(key);
                prop_assert_eq!(got.failure_limit, self.model.limit);
                prop_assert_eq!(got.failures, max_failures(&counts), "check for {:?}", key);
                // Never more than were ever recorded for the client (no
                // wrap-around, no double counting).
                let recorded = self
                    .model
                    .alts
                    .iter()
                    .map(|alt| {
                        self.model
                            .recorded
                            .iter()
                            .filter(|k| key.matches(**k, alt))
                            .count()
                    })
                    .max()
                    .unwrap_or(0);
                prop_assert!(got.failures as usize <= recorded);
                prop_assert_eq!(got.lockout.is_some(), self.model.reached(&counts));
                if let Some(l) = &got.lockout {
                    self.check_lockout(l, &counts, key, true)?;
                }
            }
            Op::Reset { ip, user } => {
                let (ip_text, ip_key) = ip.map_or((None, None), |i| IPS[i]);
                let (user_text, user_key) = user.map_or((None, None), |i| USERS[i]);
                let before = self.listing().await;
                let got = self.axes.reset(ip_text, user_text).await;
                let after = self.listing().await;
                if user_text.is_some() && user_key.is_none() {
                    // A username that normalises to nothing is an input error.
                    prop_assert!(matches!(got, Err(Error::InvalidInput(_))), "{:?}", got);
                    prop_assert_eq!(before, after);
                    return Ok(());
                }
                let removed = got.unwrap();
                // AND semantics, read off the listings alone: exactly the
                // records matching both given values are gone, the rest is
                // untouched.
                let matches = |r: &Row| {
                    ip_key.is_none_or(|ip| r.ip.as_deref() == Some(ip))
                        && user_key.is_none_or(|u| r.user.as_deref() == Some(u))
                };
                let kept: Vec<Row> = before.iter().filter(|r| !matches(r)).cloned().collect();
                prop_assert_eq!(&after, &kept, "reset({:?}, {:?})", ip_text, user_text);
                prop_assert_eq!(removed, (before.len() - after.len()) as u64);
                prop_assert_eq!(removed, self.model.reset(ip_key, user_key));
            }
            Op::Advance { secs } => {
                self.clock.advance(chrono::Duration::seconds(secs));
                self.model.now += secs;
            }
            Op::AdvanceToEdge { offset } => {
                let m = &self.model;
                let latest = m.records.values().map(|r| r.time).max().unwrap_or(m.now);
                let target = latest + m.window.unwrap_or(30) + offset;
                let secs = (target - m.now).max(0);
                self.clock.advance(chrono::Duration::seconds(secs));
                self.model.now += secs;
            }
            Op::Purge => {
                let got = self.axes.purge_expired().await.unwrap();
                prop_assert_eq!(got, self.model.purge());
            }
        }
        Ok(())
    }

    /// After every step: the records agree with the model, none holds a
    /// count of zero or more than were recorded, and no class holds more
    /// than `limit` admitted attempts whose failure still counts.
    async fn invariants(&self) -> TestCaseResult {
        let rows = self.listing().await;
        prop_assert_eq!(&rows, &self.model.listing());
        for r in &rows {
            let recorded = self
                .model
                .recorded
                .iter()
                .filter(|k| k.ip == r.ip.as_deref() && k.user == r.user.as_deref())
                .count();
            prop_assert!(
                r.failures >= 1 && r.failures as usize <= recorded,
                "{:?}",
                r
            );
        }
        let m = &self.model;
        for alt in &m.alts {
            let mut per_class: BTreeMap<Vec<Option<&str>>, u32> = BTreeMap::new();
            for h in self.held.iter().filter(|h| h.key.can_count(alt)) {
                let still_counts = m
                    .records
                    .get(&h.key)
                    .is_some_and(|r| r.generation == h.generation && m.live_at(r.time, m.now));
                if still_counts {
                    *per_class.entry(h.key.project(alt)).or_default() += 1;
                }
            }
            for (class, n) in per_class {
                prop_assert!(
                    n <= m.limit,
                    "{} admitted failing attempts of {:?} on {:?} (limit {})",
                    n,
                    class,
                    alt,
                    m.limit
                );
            }
        }
        Ok(())
    }
}

fn run(cfg: Config, ops: Vec<Op>) -> TestCaseResult {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async move {
        let mut h = Harness::new(cfg);
        for op in &ops {
            h.step(op).await?;
            h.invariants().await?;
        }
        Ok(())
    })
}

/// Cases per property: `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1024)))]

    /// The engine agrees with the model under any interleaving (give-backs
    /// of tickets whose record was reset or restarted since included), and
    /// never admits more than `failure_limit` failing attempts per class.
    #[test]
    fn engine_matches_model(cfg in config(), ops in proptest::collection::vec(op(), 1..60)) {
        run(cfg, ops)?;
    }
}

// ---------------------------------------------------------------------------
// Reset: AND semantics on many records

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    /// `reset(ip, username)` removes exactly the records matching both given
    /// values (`None` = any), whatever spelling the operator uses.
    #[test]
    fn reset_removes_exactly_the_matching_records(
        clients in proptest::collection::vec((0..IPS.len(), 0..USERS.len()), 0..25),
        ip in proptest::option::of(0..IPS.len()),
        user in proptest::option::of(0..USERS.len()),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async move {
            let clock = ManualClock::fixed();
            let settings = Settings {
                handler: Handler::Memory,
                failure_limit: 1000,
                lockout_parameters: Params::IpOrUsername.setting(),
                ..Settings::default()
            };
            let axes = Axes::builder(settings).clock(Arc::new(clock.clone())).build().unwrap();
            let mut counted = 0;
            for (i, u) in &clients {
                let mut a = Attempt::new();
                if let Some(ip) = IPS[*i].0 {
                    a = a.ip_address(ip.parse().unwrap());
                }
                if let Some(name) = USERS[*u].0 {
                    a = a.username(name);
                }
                // Neither IP nor username: refused, never pooled.
                let identified = IPS[*i].1.is_some() || USERS[*u].1.is_some();
                match axes.begin(&a).await {
                    Ok(ticket) => {
                        prop_assert!(identified);
                        prop_assert!(ticket.failed().await.is_none());
                        counted += 1;
                    }
                    Err(l) => {
                        prop_assert!(!identified);
                        prop_assert_eq!(l.reason, LockoutReason::Unidentified);
                    }
                }
                clock.advance(chrono::Duration::seconds(1));
            }
            let list = || async {
                let mut rows = axes.list_attempts(&ListQuery::all()).await.unwrap().items;
                rows.sort_by(|a, b| a.id.cmp(&b.id));
                rows
            };
            let before = list().await;
            let total: u32 = before.iter().map(|r| r.failures).sum();
            prop_assert_eq!(total, counted);

            let (ip_text, ip_key) = ip.map_or((None, None), |i| IPS[i]);
            let (user_text, user_key) = user.map_or((None, None), |i| USERS[i]);
            let got = axes.reset(ip_text, user_text).await;
            let after = list().await;
            if user_text.is_some() && user_key.is_none() {
                prop_assert!(matches!(got, Err(Error::InvalidInput(_))));
                prop_assert_eq!(before, after);
                return Ok(());
            }
            let kept: Vec<AttemptRecord> = before
                .iter()
                .filter(|r| {
                    !(ip_key.is_none_or(|ip| r.key.ip_address.as_deref() == Some(ip))
                        && user_key.is_none_or(|u| r.key.username.as_deref() == Some(u)))
                })
                .cloned()
                .collect();
            prop_assert_eq!(got.unwrap(), (before.len() - kept.len()) as u64);
            prop_assert_eq!(&after, &kept);
            if ip.is_none() && user.is_none() {
                prop_assert!(after.is_empty());
            }
            Ok(())
        })?;
    }
}

// ---------------------------------------------------------------------------
// Findings, as minimal failing tests

fn engine(limit: u32, cooloff: Option<u64>, params: Params) -> (Axes, ManualClock) {
    let clock = ManualClock::fixed();
    let settings = Settings {
        handler: Handler::Memory,
        failure_limit: limit,
        cooloff_time: cooloff.map(Duration::from_secs),
        lockout_parameters: params.setting(),
        ..Settings::default()
    };
    let axes = Axes::builder(settings)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    (axes, clock)
}

fn from(ip: &str) -> Attempt {
    Attempt::new().ip_address(ip.parse().unwrap())
}

/// A ticket taken before a reset and given back after it (the login turned
/// out right, or the backend failed) must not take its failure off the
/// record made after the reset: one more failing attempt than the limit
/// would get in.
#[tokio::test]
async fn stale_give_back_after_reset_admits_one_too_many() {
    let (axes, _clock) = engine(1, None, Params::Ip);
    let a = from("192.0.2.1");
    let before_reset = axes.begin(&a).await.unwrap();
    assert_eq!(axes.reset(Some("192.0.2.1"), None).await.unwrap(), 1);
    let first = axes.begin(&a).await.unwrap(); // the one failure allowed
    before_reset.abandon().await; // or .succeeded(): gives back `first`'s failure
    let second = axes.begin(&a).await;
    assert!(
        second.is_err(),
        "limit 1, one failing attempt admitted since the reset, yet a second one is admitted"
    );
    drop(first);
}

/// The same through the cool-off: a ticket held across the expiry of its
/// record, given back after a new failure restarted the record.
#[tokio::test]
async fn stale_give_back_after_cooloff_admits_one_too_many() {
    let (axes, clock) = engine(1, Some(60), Params::Ip);
    let a = from("192.0.2.1");
    let old = axes.begin(&a).await.unwrap();
    clock.advance(chrono::Duration::seconds(61));
    let first = axes.begin(&a).await.unwrap();
    old.succeeded().await;
    assert!(
        axes.begin(&a).await.is_err(),
        "limit 1, one failing attempt admitted in this cool-off, yet a second one is admitted"
    );
    drop(first);
}

/// "Each failure refreshes the window of its record" (docs/settings.md): a
/// login that is given back (right password, or abandoned) is not a failure,
/// so it must not leave its reservation's time on the record, or the
/// client's earlier failures would count for another full cool-off.
#[tokio::test]
async fn given_back_login_refreshes_earlier_failures() {
    let (axes, clock) = engine(3, Some(30 * 60), Params::Ip);
    let a = from("192.0.2.1");
    for _ in 0..2 {
        assert!(axes.begin(&a).await.unwrap().failed().await.is_none());
    }
    clock.advance(chrono::Duration::minutes(29));
    axes.begin(&a).await.unwrap().succeeded().await;
    // The two failures are 31 minutes old: out of the 30-minute cool-off.
    clock.advance(chrono::Duration::minutes(2));
    assert_eq!(
        axes.check(&a).await.failures,
        0,
        "expired failures still count"
    );
    let lockout = axes.begin(&a).await.unwrap().failed().await;
    assert!(lockout.is_none(), "locked out by expired failures");
}
