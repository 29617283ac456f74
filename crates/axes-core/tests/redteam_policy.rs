//! Red team of the layered rules, trusted devices and scopes, at the
//! engine level on the memory store. Each `#[ignore = "finding: …"]` test
//! fails today and shows one weakness; the others are attacks that held.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axes_core::device::DeviceKey;
use axes_core::memory::MemoryLimits;
use axes_core::rules::parse_rules_env;
use axes_core::store::*;
use axes_core::{
    Attempt, AuthError, Axes, Handler, LockoutReason, ManualClock, MemoryStore, Secret, Settings,
    StoreError,
};
use chrono::{DateTime, Utc};

const KEY: &str = "a secret key for device tokens";
const ATTACKER: &str = "198.51.100.66";
const HOME: &str = "203.0.113.20";

fn from(ip: &str, user: &str) -> Attempt {
    Attempt::new()
        .ip_address(ip.parse().unwrap())
        .username(user)
        .method("POST")
}

fn clock() -> ManualClock {
    ManualClock::new(chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap())
}

fn rules(text: &str) -> Settings {
    Settings {
        handler: Handler::Memory,
        lockout_rules: parse_rules_env(text).unwrap(),
        trusted_device: true,
        secret_key: Some(Secret::new(KEY)),
        ..Settings::default()
    }
}

fn engine(settings: Settings, clock: &ManualClock, max_records: usize) -> (Axes, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::with_limits(MemoryLimits {
        max_records,
        max_log_rows: 100,
    }));
    let axes = Axes::builder(settings)
        .store(store.clone())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    (axes, store)
}

async fn login(axes: &Axes, a: &Attempt, ok: bool) -> Result<(), AuthError<()>> {
    axes.authenticate(a, || async move { Ok::<_, ()>(ok.then_some(())) })
        .await
}

/// Wrong passwords until refused (at most `max`); how many were admitted.
async fn admitted_failures(axes: &Axes, a: &Attempt, max: u32) -> u32 {
    let mut n = 0;
    for _ in 0..max {
        match axes.begin(a).await {
            Ok(t) => {
                n += 1;
                let _ = t.failed().await;
            }
            Err(_) => break,
        }
    }
    n
}

// ---------------------------------------------------------------- findings

/// FINDING (medium): one address with one account of its own, chaining
/// trusted devices (each successful device login gets a new cookie), makes
/// unbounded records — past what the per-address rule lets plain attempts
/// make — and each device's strict rule locks, so the memory store fills
/// with records it may not evict. Then a new client is not tracked and,
/// with `fail_closed = false` (the default), a guesser against `alice` from
/// another address is never counted.
#[tokio::test]
async fn device_chaining_from_one_address_cannot_disable_counting() {
    let clock = clock();
    let (axes, store) = engine(
        rules("ip_address:6/1day, ip_address+username:3/15m"),
        &clock,
        40,
    );
    // Plain attempts: the address rule caps what one address can make.
    assert_eq!(admitted_failures(&axes, &from(ATTACKER, "x0"), 50).await, 3);
    assert_eq!(admitted_failures(&axes, &from(ATTACKER, "x1"), 50).await, 3);
    assert_eq!(admitted_failures(&axes, &from(ATTACKER, "x2"), 50).await, 0);
    let plain_records = store.len();
    // Devices: a first cookie from a success before the address locked
    // (here: issued directly), then each device logs in once (a new cookie)
    // and fails three times (its own strict rule locks).
    let mut token = axes.issue_device_token("mallory").unwrap();
    for _ in 0..60 {
        clock.advance(chrono::Duration::seconds(1));
        let device = from(ATTACKER, "mallory").device_token(&token);
        let _ = login(&axes, &device, true).await;
        let next = axes.issue_device_token("mallory").unwrap();
        admitted_failures(&axes, &device, 10).await;
        token = next;
    }
    // Another attacker guesses alice's password from elsewhere.
    let guesser = from("192.0.2.99", "alice");
    let guesses = admitted_failures(&axes, &guesser, 20).await;
    assert!(
        guesses <= 3,
        "alice guessed {guesses} times; the store holds {} records (plain attempts from the \
         address made {plain_records})",
        store.len()
    );
}

/// FINDING (medium, same cause as above, any store): the records one
/// address can make grow with the number of devices it chains — 2 per
/// device here — where plain attempts from it stop at 4 (refused attempts
/// add nothing). SQL and Redis have no bound at all.
#[tokio::test]
async fn device_chaining_does_not_grow_the_store_past_the_address_rule() {
    let clock = clock();
    let (axes, store) = engine(
        rules("ip_address:6/1day, ip_address+username:3/15m"),
        &clock,
        100_000,
    );
    for u in 0..5 {
        admitted_failures(&axes, &from(ATTACKER, &format!("x{u}")), 50).await;
    }
    let plain = store.len();
    let mut token = axes.issue_device_token("mallory").unwrap();
    for _ in 0..200 {
        let device = from(ATTACKER, "mallory").device_token(&token);
        let _ = login(&axes, &device, true).await;
        token = axes.issue_device_token("mallory").unwrap();
        admitted_failures(&axes, &device, 10).await;
    }
    assert!(
        store.len() <= 4 * plain,
        "one address made {} records through devices; {plain} through plain attempts",
        store.len()
    );
}

/// FINDING (low, memory store): eviction judges a record "part of a
/// lockout" by every alternative indexed — also those of *other* rules —
/// against the record's own limit. With `ip_address:1000/1day,
/// username:5/1day`, a record of the username rule is pinned once its
/// address has 5 failures in that rule's scope, though no name is near 5:
/// a spray below every limit (4 + 1 failures on two names per address)
/// keeps half the store for a day while newer clients' records go. It
/// halves what a flood needs to evict a guesser's count (records of two
/// scopes per triple, only one pinned, so no full takeover was found).
#[tokio::test]
async fn a_spray_below_every_limit_pins_no_record() {
    let clock = clock();
    let (axes, _) = engine(rules("ip_address:1000/1day, username:5/1day"), &clock, 40);
    for i in 0..10 {
        let ip = format!("10.1.0.{i}");
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(
            admitted_failures(&axes, &from(&ip, &format!("u{i}a")), 4).await,
            4
        );
        assert_eq!(
            admitted_failures(&axes, &from(&ip, &format!("u{i}b")), 1).await,
            1
        );
    }
    // Newer clients, one failure each, fill the store over again.
    for j in 0..40 {
        clock.advance(chrono::Duration::seconds(1));
        let a = from(&format!("10.2.0.{j}"), &format!("s{j}"));
        assert_eq!(admitted_failures(&axes, &a, 1).await, 1);
    }
    // No client reached any limit: the oldest records go first.
    let oldest = axes.check(&from("10.1.0.0", "u0a")).await;
    assert!(oldest.lockout.is_none());
    let newest = axes.check(&from("10.2.0.39", "s39")).await;
    assert_eq!(newest.failures, 1);
    let newer = axes.check(&from("10.2.0.25", "s25")).await;
    assert_eq!(
        (oldest.failures, newer.failures),
        (0, 1),
        "the spray's old records below every limit were kept, newer clients' evicted"
    );
}

/// FINDING (medium, older than this branch): `purge_expired` purges by
/// `cooloff_time` (`purge_window`), but the engine's `cooloff` hook may give
/// a client a longer cool-off: the purge deletes records that still lock
/// that client, and frees its lockout.
#[tokio::test]
async fn a_purge_keeps_what_the_cooloff_hook_still_counts() {
    let clock = clock();
    let axes = Axes::builder(Settings {
        handler: Handler::Memory,
        failure_limit: 3,
        cooloff_time: Some(Duration::from_secs(3600)),
        ..Settings::default()
    })
    .cooloff(|_| Some(Duration::from_secs(86_400)))
    .clock(Arc::new(clock.clone()))
    .build()
    .unwrap();
    let a = from(ATTACKER, "alice");
    assert_eq!(admitted_failures(&axes, &a, 9).await, 3);
    clock.advance(chrono::Duration::hours(2));
    assert!(axes.check(&a).await.lockout.is_some(), "the hook's day");
    axes.purge_expired().await.unwrap();
    assert!(
        axes.check(&a).await.lockout.is_some(),
        "the purge freed a lockout the cooloff hook still holds"
    );
}

/// FINDING (low, events only): the purge's `expired` events judge each
/// record by the smallest limit of all rules, not its own rule's: a record
/// of `ip_address:100/1h` with 5 failures (one client locked by
/// `username:5/10m`) is reported as a lockout that expired, so one lockout
/// gives two `expired` events (and a record of a never-locked address
/// would give one).
#[tokio::test]
async fn a_purge_reports_each_expired_lockout_once() {
    let clock = clock();
    let (axes, _) = engine(rules("ip_address:100/1h, username:5/10m"), &clock, 1000);
    let expired = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let seen = expired.clone();
    axes.subscribe(move |e| {
        if e.kind == axes_core::EventKind::Expired {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    assert_eq!(admitted_failures(&axes, &from(ATTACKER, "bob"), 9).await, 5);
    clock.advance(chrono::Duration::hours(2));
    axes.purge_expired().await.unwrap();
    assert_eq!(expired.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// FINDING (medium, by design of `reset_on_success`, but it defeats the
/// documented purpose of a per-address rule "against sprays"): a sprayer
/// with one account of its own resets the address rule with every own
/// successful login, and is admitted far past its limit.
#[tokio::test]
async fn an_own_success_does_not_reset_the_address_rule_for_a_sprayer() {
    let clock = clock();
    let (axes, _) = engine(
        Settings {
            reset_on_success: true,
            ..rules("ip_address:5/1day, ip_address+username:3/15m")
        },
        &clock,
        1000,
    );
    let mut wrong = 0;
    for v in 0..40 {
        if let Ok(t) = axes.begin(&from(ATTACKER, &format!("victim{v}"))).await {
            wrong += 1;
            let _ = t.failed().await;
        }
        if v % 4 == 3 {
            let _ = login(&axes, &from(ATTACKER, "mallory"), true).await;
        }
    }
    assert!(
        wrong <= 5,
        "{wrong} wrong passwords admitted from one address in a day"
    );
}

/// FINDING (low–medium, undocumented): changing a rule's limit or cool-off
/// changes its scope, so every lockout under it is freed — also when the
/// operator *tightens* the rule during an attack. docs/settings.md does not
/// say so (only `LockoutRule::scope`'s doc comment does).
#[tokio::test]
async fn tightening_a_rule_keeps_its_lockouts() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let build = |text: &str| {
        Axes::builder(rules(text))
            .store(store.clone())
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap()
    };
    let before = build("ip_address+username:5/1h");
    let a = from(ATTACKER, "alice");
    assert_eq!(admitted_failures(&before, &a, 50).await, 5);
    // Restart with a stricter rule: the attacker should stay locked.
    let after = build("ip_address+username:3/1h");
    assert_eq!(
        admitted_failures(&after, &a, 50).await,
        0,
        "a stricter rule admitted the locked-out attacker again"
    );
}

/// FINDING (low): `AxesBuilder::device_key` takes any key, even an empty
/// one (HMAC accepts it), while `secret_key` must be 16 bytes at least:
/// anyone can then mint device cookies for any user.
#[test]
fn an_empty_device_key_is_refused() {
    let built = Axes::builder(Settings {
        secret_key: None,
        ..rules("username:3/1h")
    })
    .device_key(b"")
    .build();
    if let Ok(axes) = &built {
        // Forged with the empty key, known to all.
        let later = axes.now() + chrono::Duration::days(1);
        let forged = DeviceKey::new(b"").issue("alice", later).unwrap();
        assert!(
            axes.prepare(&from(ATTACKER, "alice").device_token(forged))
                .device
                .is_none(),
            "a forged cookie was taken as alice's trusted device"
        );
    }
    assert!(built.is_err(), "an empty device key was accepted");
}

/// FINDING (low): a device cookie is checked against the username as
/// counted — cut at 255 characters — so an attacker who registers a long
/// name sharing 255 characters with the victim's gets cookies valid for the
/// victim, each a fresh budget (minted at will by logging in to the own
/// account). Only matters where usernames may exceed 255 characters.
#[tokio::test]
async fn a_cookie_is_valid_only_for_the_full_username() {
    let clock = clock();
    let (axes, _) = engine(rules("username:3/1h"), &clock, 1000);
    let stem = "u".repeat(255);
    // No cookie for a name longer than what is counted…
    assert_eq!(axes.issue_device_token(&format!("{stem}mallory")), None);
    // …and the counted stem's cookie is not valid for a longer name.
    let mine = axes.issue_device_token(&stem).unwrap();
    let p = axes.prepare(&from(ATTACKER, &format!("{stem}alice")).device_token(mine.clone()));
    assert!(
        p.device.is_none(),
        "mallory's cookie counts as alice's device"
    );
    assert!(
        axes.prepare(&from(ATTACKER, &stem).device_token(mine))
            .device
            .is_some()
    );
}

/// FINDING (low): lowering `trusted_device_ttl` does not shorten the
/// cookies already issued (the expiry is the one signed in the token): a
/// stolen 30-day cookie stays a fresh guessing budget for 30 days after
/// the operator set 1 hour. Only rotating `secret_key` voids it (SECURITY.md
/// says so, but not that a shorter TTL does not).
#[tokio::test]
async fn a_shorter_ttl_applies_to_cookies_already_issued() {
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let build = |ttl: u64| {
        Axes::builder(Settings {
            trusted_device_ttl: Duration::from_secs(ttl),
            ..rules("username:3/15m")
        })
        .store(store.clone())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
    };
    let token = build(30 * 86_400).issue_device_token("alice").unwrap();
    let after = build(3600);
    clock.advance(chrono::Duration::hours(2));
    assert!(
        after
            .prepare(&from(ATTACKER, "alice").device_token(token))
            .device
            .is_none(),
        "a cookie older than trusted_device_ttl still counts as a device"
    );
}

/// FINDING (low): two rules with the same alternatives in another order
/// are the same rule, but get two scopes and count everything twice; the
/// "given twice" check misses them (a setting with no effect).
#[test]
fn a_rule_given_twice_in_another_order_is_refused() {
    let twice = parse_rules_env("ip_address|username:3/1h, username|ip_address:3/1h");
    assert!(twice.is_err(), "accepted: {twice:?}");
}

/// FINDING (low): `trusted_device_ttl` without `trusted_device`, and a
/// `device_key` given to a builder whose settings have devices off, are
/// accepted and do nothing.
#[test]
fn device_settings_without_devices_are_refused() {
    let ttl = Settings {
        trusted_device: false,
        trusted_device_ttl: Duration::from_secs(3600),
        ..Settings::default()
    };
    assert!(
        ttl.validate().is_err(),
        "trusted_device_ttl without devices"
    );
    let key = Axes::builder(Settings::default()).device_key(KEY).build();
    assert!(key.is_err(), "device_key without devices");
}

// ------------------------------------------------------------- what held

/// Concurrent wrong passwords across two rules: neither rule admits more
/// than its limit, and a refused attempt eats no slot of the other rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrency_across_rules_never_exceeds_a_limit() {
    let clock = clock();
    let (axes, _) = engine(
        rules("ip_address:7/1h, ip_address+username:3/15m"),
        &clock,
        1000,
    );
    let mut tasks = Vec::new();
    for i in 0..60 {
        let axes = axes.clone();
        tasks.push(tokio::spawn(async move {
            let user = format!("u{}", i % 3);
            axes.begin(&from(ATTACKER, &user)).await.ok()
        }));
    }
    let mut held = Vec::new();
    for t in tasks {
        if let Some(ticket) = t.await.unwrap() {
            held.push(ticket);
        }
    }
    assert!(held.len() <= 7, "{} admitted", held.len());
    for t in held {
        let _ = t.failed().await;
    }
    // Give-backs: one success per user would not free more than its slot.
    let total = admitted_failures(&axes, &from(ATTACKER, "fresh"), 50).await;
    assert_eq!(total, 0, "the address rule is full");
}

/// With `reset_cool_off_on_failure_during_lockout`, attempts refused by the
/// strict rule never add to the address rule (give-back), and dropped
/// tickets stay counted.
#[tokio::test]
async fn refusals_and_dropped_tickets_do_not_leak_slots() {
    let clock = clock();
    let (axes, _) = engine(
        rules("ip_address:6/1h, ip_address+username:2/15m"),
        &clock,
        1000,
    );
    let a = from(ATTACKER, "alice");
    for _ in 0..2 {
        let t = axes.begin(&a).await.unwrap();
        drop(t);
    }
    for _ in 0..50 {
        assert!(axes.begin(&a).await.is_err());
    }
    // The address rule holds 2 failures: 4 more for other names.
    let mut others = 0;
    for v in 0..10 {
        others += admitted_failures(&axes, &from(ATTACKER, &format!("v{v}")), 1).await;
    }
    assert_eq!(others, 4);
    // check, lockout_status and begin agree on every stored record.
    let records = axes.list_attempts(&ListQuery::all()).await.unwrap();
    for r in &records.items {
        let status = axes.lockout_status(&r.key).await.unwrap();
        let mut attempt = from(ATTACKER, r.key.username.as_deref().unwrap());
        attempt = attempt.user_agent(r.key.user_agent.clone());
        let check = axes.check(&attempt).await;
        assert_eq!(status.is_locked(), check.lockout.is_some(), "{r:?}");
        assert_eq!(axes.begin(&attempt).await.is_err(), check.lockout.is_some());
    }
}

/// A device cannot be replayed for another name, outlive its expiry, free
/// the non-device lockout with `reset_on_success`, or escape manual blocks
/// and the deny list.
#[tokio::test]
async fn device_cookies_stay_in_their_lane() {
    let clock = clock();
    let (axes, _) = engine(
        Settings {
            reset_on_success: true,
            trusted_device_ttl: Duration::from_secs(3600),
            ..rules("ip_address:50/1day, username:3/15m")
        },
        &clock,
        1000,
    );
    let token = axes.issue_device_token("alice").unwrap();
    // Other name, same cookie: counted as usual.
    assert!(
        axes.prepare(&from(HOME, "bob").device_token(&token))
            .device
            .is_none()
    );
    // Attacker locks alice out; her device logs in, and that frees nothing.
    assert_eq!(
        admitted_failures(&axes, &from(ATTACKER, "alice"), 9).await,
        3
    );
    let device = from(HOME, "alice").device_token(&token);
    login(&axes, &device, true).await.unwrap();
    assert!(axes.check(&from(ATTACKER, "alice")).await.lockout.is_some());
    assert!(axes.begin(&from(HOME, "alice")).await.is_err());
    // Manual block on the name refuses the device too.
    axes.block(None, Some("alice"), None, "ops").await.unwrap();
    let refused = axes.begin(&device).await.unwrap_err();
    assert_eq!(refused.reason, LockoutReason::Blocked);
    assert!(axes.check(&device).await.lockout.is_some());
    axes.unblock(None, Some("alice")).await.unwrap();
    login(&axes, &device, true).await.unwrap();
    // Expired: counted as usual.
    clock.advance(chrono::Duration::seconds(3599));
    assert!(axes.prepare(&device).device.is_some());
    clock.advance(chrono::Duration::seconds(1));
    assert!(axes.prepare(&device).device.is_none());
    // Deny list refuses a device.
    let deny = Axes::builder(Settings {
        ip_blacklist: vec![format!("{HOME}/32").parse().unwrap()],
        ..rules("username:3/15m")
    })
    .build()
    .unwrap();
    let t = deny.issue_device_token("alice").unwrap();
    let refused = deny
        .begin(&from(HOME, "alice").device_token(t))
        .await
        .unwrap_err();
    assert_eq!(refused.reason, LockoutReason::Denied);
}

/// Rules with different windows on a small memory store: a flood and a
/// purge never drop the long rule's locking record.
#[tokio::test]
async fn a_flood_and_a_purge_keep_the_long_rules_lockout() {
    let clock = clock();
    let (axes, store) = engine(
        rules("ip_address:4/1day, ip_address+username:2/15m"),
        &clock,
        30,
    );
    assert_eq!(admitted_failures(&axes, &from(ATTACKER, "a"), 9).await, 2);
    assert_eq!(admitted_failures(&axes, &from(ATTACKER, "b"), 9).await, 2);
    assert!(axes.check(&from(ATTACKER, "c")).await.lockout.is_some());
    for i in 0..500u32 {
        clock.advance(chrono::Duration::seconds(10));
        let ip = format!("10.0.{}.{}", i / 250, i % 250);
        let _ = admitted_failures(&axes, &from(&ip, "x"), 1).await;
        assert!(store.len() <= 30);
    }
    axes.purge_expired().await.unwrap();
    assert!(
        axes.check(&from(ATTACKER, "c")).await.lockout.is_some(),
        "the address lockout (1 day) was freed"
    );
    assert!(axes.begin(&from(ATTACKER, "c")).await.is_err());
}

/// Rule scopes cannot be made equal to each other or to a device's.
#[test]
fn scopes_do_not_collide() {
    let rs = parse_rules_env(
        "ip_address:3/1h, ip_address:3/60m, username+ip_address:3/1h, ip_address+username:3/1h",
    );
    assert!(rs.is_err(), "equal rules in other spellings: {rs:?}");
    let rs = parse_rules_env("ip_address:3/1h, ip_address:03/3600s").unwrap_err();
    assert!(rs.contains("the same parameters"), "{rs}");
    for r in parse_rules_env("ip_address|username+user_agent:1000000/100years, username:1").unwrap()
    {
        assert!(r.scope().starts_with("rule:"));
        assert!(!r.scope().starts_with("device:"));
    }
}

// ------------------------------------------- a store failing between rules

/// A memory store whose reservations in one scope fail (a backend error,
/// not an outage): the store failing between two rules.
#[derive(Debug, Default)]
struct SecondRuleFails {
    inner: MemoryStore,
    failing: std::sync::Mutex<Option<String>>,
}

impl SecondRuleFails {
    async fn gate(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

macro_rules! delegate {
    ($self:ident, $call:expr) => {{
        $self.gate().await?;
        $call.await
    }};
}

#[async_trait]
impl Store for SecondRuleFails {
    fn kind(&self) -> &'static str {
        "second-rule-fails"
    }
    async fn reserve(&self, r: &Reservation<'_>) -> Result<ReserveOutcome, StoreError> {
        let failing = self.failing.lock().unwrap().clone();
        if failing.is_some_and(|s| r.key.scope == s) {
            return Err(StoreError::backend(std::io::Error::other("constraint")));
        }
        self.inner.reserve(r).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        delegate!(self, self.inner.ping())
    }
    async fn failures(&self, q: &FailureQuery<'_>) -> Result<Failures, StoreError> {
        delegate!(self, self.inner.failures(q))
    }
    async fn release(&self, k: &RecordKey, t: &ReservationToken) -> Result<(), StoreError> {
        delegate!(self, self.inner.release(k, t))
    }
    async fn clear_client(
        &self,
        k: &RecordKey,
        p: &axes_core::LockoutParameters,
    ) -> Result<u64, StoreError> {
        delegate!(self, self.inner.clear_client(k, p))
    }
    async fn reset(&self, f: &ResetFilter) -> Result<u64, StoreError> {
        delegate!(self, self.inner.reset(f))
    }
    async fn purge_attempts(&self, b: DateTime<Utc>) -> Result<u64, StoreError> {
        delegate!(self, self.inner.purge_attempts(b))
    }
    async fn list_attempts(&self, q: &ListQuery) -> Result<Page<AttemptRecord>, StoreError> {
        delegate!(self, self.inner.list_attempts(q))
    }
    async fn insert_access_log(&self, e: &NewAccessLog) -> Result<(), StoreError> {
        delegate!(self, self.inner.insert_access_log(e))
    }
    async fn close_access_log(
        &self,
        u: &str,
        h: &str,
        t: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        delegate!(self, self.inner.close_access_log(u, h, t))
    }
    async fn insert_failure_log(&self, e: &NewFailureLog, l: u32) -> Result<(), StoreError> {
        delegate!(self, self.inner.insert_failure_log(e, l))
    }
    async fn reset_access_logs(&self, b: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        delegate!(self, self.inner.reset_access_logs(b))
    }
    async fn reset_failure_logs(&self, b: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        delegate!(self, self.inner.reset_failure_logs(b))
    }
    async fn list_access_logs(&self, q: &ListQuery) -> Result<Page<AccessLogRecord>, StoreError> {
        delegate!(self, self.inner.list_access_logs(q))
    }
    async fn list_failure_logs(&self, q: &ListQuery) -> Result<Page<FailureLogRecord>, StoreError> {
        delegate!(self, self.inner.list_failure_logs(q))
    }
    async fn delete_attempts(&self, ids: &[String]) -> Result<u64, StoreError> {
        delegate!(self, self.inner.delete_attempts(ids))
    }
    async fn delete_access_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
        delegate!(self, self.inner.delete_access_logs(ids))
    }
    async fn delete_failure_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
        delegate!(self, self.inner.delete_failure_logs(ids))
    }
    async fn put_block(&self, block: &Block) -> Result<(), StoreError> {
        delegate!(self, self.inner.put_block(block))
    }
    async fn record_lockout(
        &self,
        target: &BlockTarget,
        now: DateTime<Utc>,
        escalation: &Escalation,
    ) -> Result<Block, StoreError> {
        delegate!(self, self.inner.record_lockout(target, now, escalation))
    }
    async fn remove_block(
        &self,
        kind: BlockKind,
        target: &BlockTarget,
    ) -> Result<bool, StoreError> {
        delegate!(self, self.inner.remove_block(kind, target))
    }
    async fn reset_blocks(&self, kind: BlockKind, filter: &ResetFilter) -> Result<u64, StoreError> {
        delegate!(self, self.inner.reset_blocks(kind, filter))
    }
    async fn list_blocks(
        &self,
        kind: Option<BlockKind>,
        query: &ListQuery,
    ) -> Result<Page<Block>, StoreError> {
        delegate!(self, self.inner.list_blocks(kind, query))
    }
    async fn purge_blocks(
        &self,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        delegate!(self, self.inner.purge_blocks(now, forget_before))
    }
}

/// Rule 2's reservation fails after rule 1 took a slot: rule 1's slot goes
/// back, and the attempt follows `fail_closed` (refused when on; admitted
/// uncounted when off — the documented fail-open, which an attacker able to
/// provoke errors in one rule's scope would get for every attempt).
#[tokio::test]
async fn a_store_error_between_rules_gives_the_first_slot_back() {
    for fail_closed in [true, false] {
        let store = Arc::new(SecondRuleFails::default());
        let clock = clock();
        let axes = Axes::builder(Settings {
            fail_closed,
            ..rules("ip_address:3/1h, ip_address+username:2/15m")
        })
        .store(store.clone())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
        let second = parse_rules_env("ip_address+username:2/15m").unwrap()[0].scope();
        *store.failing.lock().unwrap() = Some(second);
        for _ in 0..10 {
            match axes.begin(&from(ATTACKER, "alice")).await {
                Ok(t) => {
                    assert!(!fail_closed && !t.is_counted());
                    let _ = t.failed().await;
                }
                Err(l) => assert!(fail_closed, "{l:?}"),
            }
        }
        assert_eq!(store.inner.len(), 0, "rule 1's slots were given back");
        *store.failing.lock().unwrap() = None;
        assert_eq!(
            admitted_failures(&axes, &from(ATTACKER, "bob"), 10).await,
            2,
            "fail_closed = {fail_closed}"
        );
    }
}

// ------------------------------------------ check, lockout_status, begin

/// A pseudo-random walk of attempts (two addresses, three names, devices,
/// right and wrong passwords, time passing): at every step `check` and
/// `begin` agree, and `lockout_status` of every stored record agrees with
/// `check` of an attempt with the record's values (and device).
#[tokio::test]
async fn check_status_and_begin_agree_for_rules_and_devices() {
    for count_when_locked in [true, false] {
        let clock = clock();
        let (axes, _) = engine(
            Settings {
                reset_on_success: count_when_locked,
                reset_cool_off_on_failure_during_lockout: count_when_locked,
                ..rules("ip_address:7/1h, ip_address+username:3/10m, username:5/30m")
            },
            &clock,
            1000,
        );
        let ips = [ATTACKER, HOME];
        let users = ["alice", "bob", "carol"];
        let mut tokens: Vec<(String, String)> = Vec::new();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let (mut admitted, mut refused, mut by_device) = (0, 0, 0);
        for step in 0..400 {
            let user = users[next(3) as usize];
            let mut a = from(ips[next(2) as usize], user);
            if next(3) == 0
                && let Some((_, t)) = tokens.iter().find(|(u, _)| u == user)
            {
                a = a.device_token(t.clone());
                by_device += 1;
            }
            let checked = axes.check(&a).await.lockout.is_some();
            match axes.begin(&a).await {
                Ok(t) => {
                    admitted += 1;
                    assert!(!checked, "step {step}: check refused, begin admitted");
                    match next(5) {
                        0 => {
                            t.succeeded().await;
                            if let Some(tok) = axes.issue_device_token(user) {
                                tokens.retain(|(u, _)| u != user);
                                tokens.push((user.to_owned(), tok));
                            }
                        }
                        1 => t.abandon().await,
                        _ => {
                            let _ = t.failed().await;
                        }
                    }
                }
                Err(l) => {
                    refused += 1;
                    assert!(checked, "step {step}: begin refused, check admitted: {l:?}");
                }
            }
            clock.advance(chrono::Duration::seconds(next(40) as i64));
        }
        assert!(
            admitted > 20 && refused > 50 && by_device > 20,
            "{admitted} {refused} {by_device}"
        );
        let records = axes.list_attempts(&ListQuery::all()).await.unwrap();
        assert!(records.total > 0);
        for r in &records.items {
            let status = axes.lockout_status(&r.key).await.unwrap();
            let mut a = Attempt::new()
                .ip_address(r.key.ip_address.as_deref().unwrap().parse().unwrap())
                .username(r.key.username.clone().unwrap())
                .user_agent(r.key.user_agent.clone())
                .method("POST");
            if r.key.scope.starts_with("device:") {
                let device = axes.prepare(&a).device;
                let user = r.key.username.clone().unwrap();
                let Some((_, t)) = tokens.iter().find(|(u, _)| *u == user) else {
                    continue;
                };
                a = a.device_token(t.clone());
                let id = axes.prepare(&a).device.unwrap();
                if !r.key.scope.starts_with(&format!("device:{id}")) {
                    continue; // an older device of that name
                }
                assert!(device.is_none());
            }
            assert_eq!(
                status.is_locked(),
                axes.check(&a).await.lockout.is_some(),
                "{r:?}"
            );
        }
    }
}
