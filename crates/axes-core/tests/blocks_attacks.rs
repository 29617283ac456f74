//! Attacks on manual blocks and the progressive cool-off, through the
//! engine and the memory store on a manual clock: variants of a blocked
//! client, a stale lockout history under `lock_out_at_failure = false`, a
//! flood that fills the block table, and times at the edge of the calendar.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::sync::Arc;
use std::time::Duration;

use axes_core::blocks::Escalation;
use axes_core::memory::MemoryLimits;
use axes_core::store::ListQuery;
use axes_core::{
    Attempt, AuthError, Axes, BlockKind, Field, Handler, LockoutParameters, LockoutReason,
    ManualClock, MemoryStore, Settings, Store,
};
use chrono::{DateTime, Utc};

const IP: &str = "203.0.113.9";

fn settings(limit: u32, cooloff: u64) -> Settings {
    Settings {
        handler: Handler::Memory,
        failure_limit: limit,
        cooloff_time: Some(Duration::from_secs(cooloff)),
        lockout_parameters: LockoutParameters::any_of(&[Field::IpAddress, Field::Username]),
        ..Settings::default()
    }
}

fn engine_on(s: Settings, clock: &ManualClock, store: Arc<dyn Store>) -> Axes {
    Axes::builder(s)
        .clock(Arc::new(clock.clone()))
        .store(store)
        .build()
        .unwrap()
}

fn engine(s: Settings, clock: &ManualClock) -> Axes {
    engine_on(s, clock, Arc::new(MemoryStore::new()))
}

fn from(ip: &str, user: &str) -> Attempt {
    Attempt::new()
        .ip_address(ip.parse().unwrap())
        .username(user)
        .method("POST")
}

async fn login(axes: &Axes, a: &Attempt, ok: bool) -> Result<(), AuthError<()>> {
    axes.authenticate(a, || async move { Ok::<_, ()>(ok.then_some(())) })
        .await
}

/// Both `begin` (with the right password) and `check` refuse `a` as
/// blocked.
async fn assert_blocked(axes: &Axes, a: &Attempt, what: &str) {
    match login(axes, a, true).await {
        Err(AuthError::LockedOut(l)) => assert_eq!(l.reason, LockoutReason::Blocked, "{what}"),
        other => panic!("{what}: begin let a blocked client through: {other:?}"),
    }
    let c = axes.check(a).await;
    assert_eq!(
        c.lockout.map(|l| l.reason),
        Some(LockoutReason::Blocked),
        "{what}: check disagrees with begin"
    );
}

#[tokio::test]
async fn a_username_block_holds_for_every_spelling_of_the_name() {
    let clock = ManualClock::fixed();
    let axes = engine(settings(5, 60), &clock);
    axes.block(None, Some("Alice"), None, "test").await.unwrap();
    for name in ["alice", "  ALICE ", "ＡＬＩＣＥ", "Alice\t"] {
        assert_blocked(&axes, &from(IP, name), name).await;
    }
    // Not someone else.
    assert!(login(&axes, &from(IP, "alicia"), true).await.is_ok());
    // Nothing was counted for the refused attempts.
    assert_eq!(
        axes.list_attempts(&ListQuery::all()).await.unwrap().total,
        0
    );
}

#[tokio::test]
async fn an_ip_block_holds_for_mapped_and_same_network_addresses() {
    let clock = ManualClock::fixed();
    let axes = engine(
        Settings {
            ipv6_prefix: 64,
            ..settings(5, 60)
        },
        &clock,
    );
    axes.block(Some(IP), None, None, "test").await.unwrap();
    assert_blocked(&axes, &from("::ffff:203.0.113.9", "bob"), "mapped").await;
    axes.block(Some("::ffff:198.51.100.7"), None, None, "test")
        .await
        .unwrap();
    assert_blocked(&axes, &from("198.51.100.7", "bob"), "blocked as mapped").await;
    axes.block(Some("2001:db8:1:2::1"), None, None, "test")
        .await
        .unwrap();
    assert_blocked(&axes, &from("2001:db8:1:2:ffff::7", "bob"), "same /64").await;
    assert!(
        login(&axes, &from("2001:db8:1:3::1", "bob"), true)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_pair_block_and_a_missing_username() {
    let clock = ManualClock::fixed();
    let axes = engine(settings(5, 60), &clock);
    axes.block(Some(IP), Some("alice"), None, "test")
        .await
        .unwrap();
    assert_blocked(&axes, &from(IP, "ALICE"), "pair").await;
    // The pair refuses only the pair: another name from the IP, or the IP
    // without a name, is not that pair.
    assert!(login(&axes, &from(IP, "bob"), true).await.is_ok());
    let anonymous = Attempt::new()
        .ip_address(IP.parse().unwrap())
        .method("POST");
    assert!(login(&axes, &anonymous, true).await.is_ok());
    // An IP block refuses the attempt without a username too.
    axes.block(Some(IP), None, None, "test").await.unwrap();
    assert_blocked(&axes, &anonymous, "ip block, no username").await;
}

#[tokio::test]
async fn hide_lockout_answers_a_block_like_a_wrong_password() {
    let clock = ManualClock::fixed();
    let axes = engine(
        Settings {
            hide_lockout: true,
            ..settings(5, 60)
        },
        &clock,
    );
    axes.block(None, Some("alice"), None, "test").await.unwrap();
    let called = std::sync::atomic::AtomicBool::new(false);
    let r = axes
        .authenticate(&from(IP, "alice"), || async {
            called.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, ()>(Some(()))
        })
        .await;
    assert!(matches!(r, Err(AuthError::InvalidCredentials)));
    assert!(!called.load(std::sync::atomic::Ordering::SeqCst));
}

#[tokio::test]
async fn a_block_refuses_the_next_attempt_after_block_returns_during_a_burst() {
    let clock = ManualClock::fixed();
    let axes = engine(settings(1000, 60), &clock);
    let a = from(IP, "alice");
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let axes = axes.clone();
        let a = a.clone();
        tasks.push(tokio::spawn(async move { login(&axes, &a, false).await }));
    }
    axes.block(Some(IP), None, None, "test").await.unwrap();
    assert_blocked(&axes, &a, "after block() returned").await;
    for t in tasks {
        let _ = t.await.unwrap();
    }
    assert_blocked(&axes, &a, "after the burst").await;
}

/// Two lockouts of IP within the memory: the second one's history row
/// refuses for cool-off × 10.
async fn escalate(axes: &Axes, clock: &ManualClock, a: &Attempt) {
    for _ in 0..2 {
        for _ in 0..2 {
            let _ = login(axes, a, false).await;
        }
        assert!(axes.check(a).await.lockout.is_some());
        clock.advance(chrono::Duration::seconds(61));
    }
    let l = axes.check(a).await.lockout.expect("the history refuses");
    assert_eq!(l.reason, LockoutReason::TooManyFailures);
}

#[tokio::test]
async fn lockout_history_refuses_nothing_when_lock_out_at_failure_is_off() {
    let clock = ManualClock::fixed();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let strict = Settings {
        cooloff_multiplier: 10.0,
        lockout_parameters: LockoutParameters::any_of(&[Field::IpAddress]),
        ..settings(2, 60)
    };
    let axes = engine_on(strict.clone(), &clock, store.clone());
    let a = from(IP, "alice");
    escalate(&axes, &clock, &a).await;

    // The same store, now with "count and log, never refuse".
    let lenient = engine_on(
        Settings {
            lock_out_at_failure: false,
            ..strict
        },
        &clock,
        store.clone(),
    );
    assert!(
        lenient.check(&a).await.lockout.is_none(),
        "check refuses by the history although lock_out_at_failure = false"
    );
    assert!(
        login(&lenient, &a, true).await.is_ok(),
        "begin refuses by the history although lock_out_at_failure = false"
    );
    let status = lenient
        .lockout_status(&lenient.prepare(&a).key)
        .await
        .unwrap();
    assert!(!status.is_locked());
    // A manual block still refuses, also on the very target of the
    // history (and whichever of the two lasts longer).
    lenient.block(Some(IP), None, None, "test").await.unwrap();
    assert_blocked(&lenient, &a, "manual over history").await;
    lenient.unblock(Some(IP), None).await.unwrap();
    lenient
        .block(Some(IP), None, Some(Duration::from_secs(30)), "test")
        .await
        .unwrap();
    assert_blocked(&lenient, &a, "short manual under long history").await;
    lenient.unblock(Some(IP), None).await.unwrap();
    lenient
        .block(None, Some("alice"), Some(Duration::from_secs(30)), "test")
        .await
        .unwrap();
    assert_blocked(&lenient, &a, "manual on another candidate").await;
    lenient.unblock(None, Some("alice")).await.unwrap();
    assert!(login(&lenient, &a, true).await.is_ok());
    // The history is kept for when refusing is turned back on.
    assert!(axes.check(&a).await.lockout.is_some());
}

#[tokio::test]
async fn a_flood_of_lockout_history_does_not_keep_an_operator_from_blocking() {
    let clock = ManualClock::fixed();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::with_limits(MemoryLimits {
        max_records: 40,
        ..MemoryLimits::default()
    }));
    let axes = engine_on(
        Settings {
            cooloff_multiplier: 2.0,
            lockout_parameters: LockoutParameters::any_of(&[Field::Username]),
            ..settings(1, 60)
        },
        &clock,
        store,
    );
    // Each new name locks out at once: one history row each, which refuses
    // nothing (a first lockout) but is remembered for a day.
    for i in 0..100 {
        let _ = login(&axes, &from(IP, &format!("user{i}")), false).await;
        clock.advance(chrono::Duration::seconds(1));
    }
    clock.advance(chrono::Duration::seconds(61));
    let rows = axes
        .list_blocks(Some(BlockKind::Lockout), &ListQuery::all())
        .await
        .unwrap();
    assert!(rows.total > 0 && rows.total <= 40, "{}", rows.total);
    // The operator must still be able to block the attacker.
    axes.block(Some(IP), None, None, "ops")
        .await
        .expect("a manual block is refused while the table is full of history");
    assert_blocked(&axes, &from(IP, "someone"), "flooder").await;
}

#[tokio::test]
async fn a_huge_multiplier_stays_within_a_hundred_years_and_never_panics() {
    let clock = ManualClock::fixed();
    let axes = engine(
        Settings {
            cooloff_multiplier: 1000.0,
            lockout_memory: Duration::from_secs(100 * 366 * 86_400),
            lockout_parameters: LockoutParameters::any_of(&[Field::IpAddress]),
            ..settings(1, 60)
        },
        &clock,
    );
    let a = from(IP, "x");
    let mut last = 0;
    for _ in 0..6 {
        match login(&axes, &a, false).await {
            Err(AuthError::LockedOut(l)) => {
                let secs = l.retry_after_secs().expect("never permanent");
                assert!(secs <= 100 * 366 * 86_400, "{secs}");
                assert!(secs >= last, "{secs} < {last}");
                last = secs;
            }
            other => panic!("{other:?}"),
        }
        // Jump past this lockout, within the memory.
        let until = axes
            .list_blocks(Some(BlockKind::Lockout), &ListQuery::all())
            .await
            .unwrap()
            .items[0]
            .until
            .unwrap();
        clock.set(until.max(clock_now(&axes)) + chrono::Duration::seconds(61));
    }
}

fn clock_now(axes: &Axes) -> DateTime<Utc> {
    axes.now()
}

#[test]
fn escalation_at_the_end_of_the_calendar_neither_panics_nor_turns_permanent() {
    let e = Escalation {
        cooloff: Some(chrono::Duration::minutes(10)),
        multiplier: 2.0,
        max: None,
        memory: chrono::Duration::days(36_525),
        permanent_after: None,
    };
    let late = DateTime::<Utc>::MAX_UTC - chrono::Duration::days(1);
    // A lockout that cannot end within the calendar ends at its end, not
    // "until a reset" (which only permanent_lockout_after may ask for).
    assert!(e.until(5, late).is_some());
    assert!(e.remembers(late, DateTime::<Utc>::MAX_UTC));
    assert!(e.remembers(late, late));
}

#[tokio::test]
async fn the_memory_boundary_is_exact_and_a_backwards_clock_is_harmless() {
    let clock = ManualClock::fixed();
    let axes = engine(
        Settings {
            cooloff_multiplier: 2.0,
            lockout_memory: Duration::from_secs(3600),
            lockout_parameters: LockoutParameters::any_of(&[Field::IpAddress]),
            ..settings(1, 60)
        },
        &clock,
    );
    let a = from(IP, "x");
    let lockouts = |axes: Axes| async move {
        axes.list_blocks(Some(BlockKind::Lockout), &ListQuery::all())
            .await
            .unwrap()
            .items[0]
            .lockouts
    };
    let _ = login(&axes, &a, false).await;
    assert_eq!(lockouts(axes.clone()).await, 1);
    // Exactly at the end of the memory: forgotten, a first lockout again.
    clock.advance(chrono::Duration::seconds(3600));
    let _ = login(&axes, &a, false).await;
    assert_eq!(lockouts(axes.clone()).await, 1);
    // A second before: remembered.
    clock.advance(chrono::Duration::seconds(3599));
    let _ = login(&axes, &a, false).await;
    assert_eq!(lockouts(axes.clone()).await, 2);
    // Purge at that time keeps the row that still counts.
    axes.purge_expired().await.unwrap();
    assert_eq!(lockouts(axes.clone()).await, 2);
    // The clock goes back an hour: the history still counts, nothing panics.
    clock.advance(chrono::Duration::seconds(-7200));
    let _ = login(&axes, &a, false).await;
    let _ = axes.check(&a).await;
    axes.purge_expired().await.unwrap();
    assert!(lockouts(axes.clone()).await >= 2);
}

#[tokio::test]
async fn the_memory_store_says_when_it_holds_no_blocks_and_a_block_refuses_at_once() {
    let clock = ManualClock::fixed();
    let axes = engine(settings(5, 60), &clock);
    assert!(!axes.store().may_have_blocks());
    assert!(login(&axes, &from(IP, "alice"), true).await.is_ok());
    axes.block(None, Some("alice"), Some(Duration::from_secs(60)), "test")
        .await
        .unwrap();
    assert!(axes.store().may_have_blocks());
    assert_blocked(&axes, &from(IP, "alice"), "the next attempt").await;
    assert!(axes.unblock(None, Some("alice")).await.unwrap());
    assert!(!axes.store().may_have_blocks());
    assert!(login(&axes, &from(IP, "alice"), true).await.is_ok());
}

#[tokio::test]
async fn a_wider_ipv6_network_than_ipv6_prefix_is_refused_not_narrowed() {
    let clock = ManualClock::fixed();
    let axes = engine(
        Settings {
            ipv6_prefix: 64,
            ..settings(5, 60)
        },
        &clock,
    );
    // An operator who means the whole /32 would silently block only its
    // first /64 (2001:db8::/64): refused as an input error instead.
    let err = axes
        .block(Some("2001:db8::/32"), None, None, "ops")
        .await
        .expect_err("a /32 is not a block axes can keep");
    assert!(matches!(err, axes_core::Error::InvalidInput(_)), "{err:?}");
    assert_eq!(
        axes.list_blocks(None, &ListQuery::all())
            .await
            .unwrap()
            .total,
        0
    );
    // An IPv4-mapped network would become one IPv4 address.
    assert!(
        axes.block(Some("::ffff:198.51.100.0/120"), None, None, "ops")
            .await
            .is_err()
    );
    // The network of the prefix itself, or an address in it, is fine.
    axes.block(Some("2001:db8:0:1::/64"), None, None, "ops")
        .await
        .unwrap();
    assert_blocked(&axes, &from("2001:db8:0:1::5", "bob"), "the /64").await;
    axes.block(Some("2001:db8:0:2::/80"), None, None, "ops")
        .await
        .unwrap();
    assert_blocked(&axes, &from("2001:db8:0:2:1::5", "bob"), "in the /64").await;
}

#[tokio::test]
async fn a_manual_block_is_named_over_history_that_lasts_as_long() {
    let clock = ManualClock::fixed();
    let axes = engine(
        Settings {
            permanent_lockout_after: Some(1),
            lockout_parameters: LockoutParameters::any_of(&[Field::IpAddress]),
            ..settings(1, 60)
        },
        &clock,
    );
    let a = from(IP, "alice");
    match login(&axes, &a, false).await {
        Err(AuthError::LockedOut(l)) => assert!(l.is_permanent()),
        other => panic!("{other:?}"),
    }
    axes.block(Some(IP), None, None, "ops").await.unwrap();
    // Both refuse for ever: the answer names the operator's block (as the
    // Redis store does), so that it reads "blocked", not a lockout a reset
    // would lift.
    assert_blocked(&axes, &a, "tie").await;
}
