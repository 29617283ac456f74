//! Progressive cool-off, permanent lockout and manual blocks through the
//! engine, on a manual clock: the Nth lockout of a key lasts what the
//! settings say and `Retry-After` tells it; a manual block refuses the
//! right password and counts nothing; resets forgive the history.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axes_core::store::ListQuery;
use axes_core::{
    Attempt, AuthError, Axes, BlockKind, EventKind, Field, Handler, LockoutParameters,
    LockoutReason, ManualClock, MemoryStore, Settings,
};

const IP: &str = "203.0.113.9";

fn settings(limit: u32, cooloff: u64) -> Settings {
    Settings {
        handler: Handler::Memory,
        failure_limit: limit,
        cooloff_time: Some(Duration::from_secs(cooloff)),
        lockout_parameters: LockoutParameters::any_of(&[Field::IpAddress]),
        ..Settings::default()
    }
}

fn engine(s: Settings, clock: &ManualClock) -> Axes {
    Axes::builder(s)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
}

fn from(ip: &str, user: &str) -> Attempt {
    Attempt::new()
        .ip_address(ip.parse().unwrap())
        .username(user)
        .method("POST")
}

/// A login with the right (`ok`) or a wrong password.
async fn login(axes: &Axes, a: &Attempt, ok: bool) -> Result<(), AuthError<()>> {
    axes.authenticate(a, || async move { Ok::<_, ()>(ok.then_some(())) })
        .await
}

/// Wrong passwords until the lockout; the `Retry-After` (seconds) of the
/// lockout the last one got (`None`: permanent).
async fn lock_out(axes: &Axes, a: &Attempt, limit: u32) -> Option<u64> {
    for i in 1..limit {
        assert!(
            matches!(
                login(axes, a, false).await,
                Err(AuthError::InvalidCredentials)
            ),
            "failure {i} is not yet a lockout"
        );
    }
    match login(axes, a, false).await {
        Err(AuthError::LockedOut(l)) => {
            assert_eq!(l.reason, LockoutReason::TooManyFailures);
            assert_eq!(l.is_permanent(), l.retry_after_secs().is_none());
            l.retry_after_secs()
        }
        other => panic!("the failure that reaches the limit got {other:?}"),
    }
}

/// The `Retry-After` `check` gives now (`None`: permanent); panics when
/// not refused.
async fn retry_after(axes: &Axes, a: &Attempt) -> Option<u64> {
    match axes.check(a).await.lockout {
        Some(l) => l.retry_after_secs(),
        None => panic!("not refused"),
    }
}

fn minutes(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

#[tokio::test]
async fn each_lockout_within_the_memory_lasts_longer_up_to_the_cap_then_until_reset() {
    let clock = ManualClock::fixed();
    let axes = engine(
        Settings {
            cooloff_multiplier: 3.0,
            cooloff_max: Some(Duration::from_secs(20 * 60)),
            permanent_lockout_after: Some(4),
            ..settings(2, 60)
        },
        &clock,
    );
    let a = from(IP, "alice");
    let messages = axes.settings().clone();

    // 1st: the cool-off.
    assert_eq!(lock_out(&axes, &a, 2).await, Some(60));
    assert_eq!(retry_after(&axes, &a).await, Some(60));
    clock.advance(minutes(1));
    assert!(axes.check(&a).await.lockout.is_none());

    // 2nd within the memory: × 3, told by Retry-After and check, also
    // after the count's own cool-off has passed.
    assert_eq!(lock_out(&axes, &a, 2).await, Some(180));
    clock.advance(chrono::Duration::seconds(61));
    let l = axes
        .check(&a)
        .await
        .lockout
        .expect("still locked by the history");
    assert_eq!(l.reason, LockoutReason::TooManyFailures);
    assert_eq!(l.retry_after_secs(), Some(119));
    assert_eq!(l.message, messages.cooloff_message);
    assert_eq!(l.cooloff, Some(Duration::from_secs(180)));
    // Refused with the right password, and nothing is counted meanwhile.
    let before = axes.list_attempts(&ListQuery::all()).await.unwrap();
    match login(&axes, &a, true).await {
        Err(AuthError::LockedOut(l)) => assert_eq!(l.retry_after_secs(), Some(119)),
        other => panic!("{other:?}"),
    }
    assert_eq!(axes.list_attempts(&ListQuery::all()).await.unwrap(), before);
    let status = axes
        .lockout_status(&before.items[0].key)
        .await
        .expect("status");
    assert!(status.is_locked());
    assert_eq!(status.retry_after(), Some(Duration::from_secs(119)));
    let row = status.block.expect("the history that refuses");
    assert_eq!((row.kind, row.lockouts), (BlockKind::Lockout, 2));
    clock.advance(chrono::Duration::seconds(119));
    assert!(axes.check(&a).await.lockout.is_none());

    // 3rd: × 9 = 9 minutes.
    assert_eq!(lock_out(&axes, &a, 2).await, Some(9 * 60));
    clock.advance(minutes(9));
    // 4th would be × 27 = 27 minutes, capped at 20 — but it is the 4th:
    // until a reset.
    assert_eq!(lock_out(&axes, &a, 2).await, None);
    let l = axes.check(&a).await.lockout.expect("permanent");
    assert!(l.is_permanent());
    assert_eq!(l.message, messages.permalock_message);
    assert_eq!(l.cooloff, None);
    clock.advance(chrono::Duration::days(30));
    assert_eq!(retry_after(&axes, &a).await, None, "a month later");
    assert!(matches!(
        login(&axes, &a, true).await,
        Err(AuthError::LockedOut(_))
    ));

    // A reset lifts it and forgives the history: the next lockout is a
    // first one again.
    axes.reset(Some(IP), None).await.unwrap();
    assert!(login(&axes, &a, true).await.is_ok());
    assert_eq!(lock_out(&axes, &a, 2).await, Some(60));
}

#[tokio::test]
async fn the_cap_bounds_the_progressive_cooloff() {
    let clock = ManualClock::fixed();
    let axes = engine(
        Settings {
            cooloff_multiplier: 10.0,
            cooloff_max: Some(Duration::from_secs(5 * 60)),
            ..settings(1, 60)
        },
        &clock,
    );
    let a = from(IP, "bob");
    let mut seen = Vec::new();
    for _ in 0..4 {
        let r = lock_out(&axes, &a, 1).await.expect("never permanent");
        seen.push(r);
        clock.advance(chrono::Duration::seconds(r as i64));
    }
    assert_eq!(seen, [60, 300, 300, 300]);
}

#[tokio::test]
async fn a_key_quiet_for_the_memory_starts_again_at_its_first_lockout() {
    let clock = ManualClock::fixed();
    let axes = engine(
        Settings {
            cooloff_multiplier: 2.0,
            lockout_memory: Duration::from_secs(3600),
            ..settings(1, 60)
        },
        &clock,
    );
    let a = from(IP, "carol");
    assert_eq!(lock_out(&axes, &a, 1).await, Some(60));
    clock.advance(minutes(1));
    assert_eq!(lock_out(&axes, &a, 1).await, Some(120));
    // The memory runs from the END of that lockout (2 minutes long): a
    // minute before the hour after it ends, a purge keeps it ...
    clock.advance(minutes(61));
    axes.purge_expired().await.expect("purge");
    let history = axes
        .list_blocks(
            Some(axes_core::BlockKind::Lockout),
            &axes_core::store::ListQuery::all(),
        )
        .await
        .expect("list");
    assert_eq!(history.items.first().map(|b| b.lockouts), Some(2));
    // ... an hour after it ends, forgotten.
    clock.advance(minutes(1));
    assert_eq!(lock_out(&axes, &a, 1).await, Some(60));
    // Other keys have their own history.
    clock.advance(minutes(1));
    assert_eq!(lock_out(&axes, &a, 1).await, Some(120));
    assert_eq!(
        lock_out(&axes, &from("203.0.113.10", "carol"), 1).await,
        Some(60)
    );
    // A purge forgets it too, once the memory has passed.
    assert_eq!(
        axes.list_blocks(Some(BlockKind::Lockout), &ListQuery::all())
            .await
            .unwrap()
            .total,
        2
    );
    clock.advance(minutes(59));
    axes.purge_expired().await.unwrap();
    assert_eq!(
        axes.list_blocks(None, &ListQuery::all())
            .await
            .unwrap()
            .total,
        2,
        "still remembered"
    );
    // The 2-minute lockout ended 2 minutes after it began: its memory
    // runs out an hour after that.
    clock.advance(minutes(3));
    axes.purge_expired().await.unwrap();
    assert_eq!(
        axes.list_blocks(None, &ListQuery::all())
            .await
            .unwrap()
            .total,
        0,
        "forgotten"
    );
}

#[tokio::test]
async fn permanent_lockout_lasts_until_a_reset_of_its_target() {
    let clock = ManualClock::fixed();
    // permanent_lockout_after = 1: even the first lockout lasts until a
    // reset, cool-off or not.
    let axes = engine(
        Settings {
            permanent_lockout_after: Some(1),
            ..settings(2, 60)
        },
        &clock,
    );
    let a = from(IP, "dave");
    assert_eq!(lock_out(&axes, &a, 2).await, None);
    clock.advance(chrono::Duration::days(2));
    assert_eq!(retry_after(&axes, &a).await, None);
    // Resetting the username does not touch the IP's history.
    axes.reset(None, Some("dave")).await.unwrap();
    assert_eq!(retry_after(&axes, &a).await, None);
    axes.reset(None, None).await.unwrap();
    assert!(axes.check(&a).await.lockout.is_none());
}

#[tokio::test]
async fn a_successful_login_with_reset_on_success_forgets_the_history() {
    let clock = ManualClock::fixed();
    // By username: the password proved that name, so its history goes.
    let axes = engine(
        Settings {
            cooloff_multiplier: 2.0,
            reset_on_success: true,
            lockout_parameters: LockoutParameters::any_of(&[Field::Username]),
            ..settings(1, 60)
        },
        &clock,
    );
    let a = from(IP, "erin");
    assert_eq!(lock_out(&axes, &a, 1).await, Some(60));
    clock.advance(minutes(1));
    assert!(login(&axes, &a, true).await.is_ok());
    assert_eq!(
        axes.list_blocks(None, &ListQuery::all())
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        lock_out(&axes, &a, 1).await,
        Some(60),
        "a first lockout again"
    );
    // Without the successful login in between, it would have doubled.
    clock.advance(minutes(1));
    assert_eq!(lock_out(&axes, &a, 1).await, Some(120));

    // By address: a login to one account does not forgive the address's
    // history (else an account of one's own would undo every escalation).
    let clock = ManualClock::fixed();
    let axes = engine(
        Settings {
            cooloff_multiplier: 2.0,
            reset_on_success: true,
            ..settings(1, 60)
        },
        &clock,
    );
    let sprayer = from(IP, "victim");
    assert_eq!(lock_out(&axes, &sprayer, 1).await, Some(60));
    clock.advance(minutes(1));
    assert!(login(&axes, &from(IP, "mallory"), true).await.is_ok());
    let rows = axes.list_blocks(None, &ListQuery::all()).await.unwrap();
    assert_eq!(rows.total, 1, "the address's history stays");
    clock.advance(minutes(1));
    assert_eq!(lock_out(&axes, &sprayer, 1).await, Some(120));
}

/// An event's kind, `retry_after` and `refused`.
type Seen = (EventKind, Option<u64>, bool);

#[tokio::test]
async fn a_manual_block_refuses_the_right_password_counts_nothing_and_ends() {
    let clock = ManualClock::fixed();
    let axes = engine(
        Settings {
            enable_access_failure_log: true,
            ..settings(3, 60)
        },
        &clock,
    );
    let events: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let sink = events.clone();
    axes.subscribe(move |e| {
        sink.lock()
            .unwrap()
            .push((e.kind, e.retry_after, e.refused))
    });
    let a = from(IP, "frank");
    let block = axes
        .block(Some(IP), None, Some(Duration::from_secs(300)), "ops")
        .await
        .unwrap();
    assert_eq!(block.until, Some(axes.now() + minutes(5)));
    let checked = Arc::new(AtomicBool::new(false));
    let flag = checked.clone();
    let result = axes
        .authenticate(&a, || async move {
            flag.store(true, Ordering::SeqCst);
            Ok::<_, ()>(Some(()))
        })
        .await;
    match result {
        Err(AuthError::LockedOut(l)) => {
            assert_eq!(l.reason, LockoutReason::Blocked);
            assert_eq!(l.retry_after_secs(), Some(300));
            assert_eq!(l.message, axes.settings().cooloff_message);
        }
        other => panic!("{other:?}"),
    }
    assert!(!checked.load(Ordering::SeqCst), "credentials never checked");
    assert_eq!(
        axes.list_attempts(&ListQuery::all()).await.unwrap().total,
        0,
        "nothing counted"
    );
    let logs = axes.list_failure_logs(&ListQuery::all()).await.unwrap();
    assert_eq!(logs.total, 1);
    assert!(logs.items[0].entry.locked_out);
    // Another IP is not blocked; the check and the status say the same.
    assert!(
        login(&axes, &from("203.0.113.12", "frank"), true)
            .await
            .is_ok()
    );
    let check = axes.check(&a).await;
    assert_eq!(
        check.lockout.as_ref().map(|l| l.reason),
        Some(LockoutReason::Blocked)
    );
    let key = axes.prepare(&a).key;
    let status = axes.lockout_status(&key).await.unwrap();
    assert!(status.is_locked());
    assert_eq!(status.retry_after(), Some(Duration::from_secs(300)));
    let shown = status.block.expect("the manual block");
    assert_eq!(
        (shown.kind, shown.created_by.as_str()),
        (BlockKind::Manual, "ops")
    );
    clock.advance(minutes(5));
    assert!(axes.check(&a).await.lockout.is_none());
    assert!(login(&axes, &a, true).await.is_ok(), "the block ended");

    // A block on a username, until unblocked: the permanent message.
    axes.block(None, Some("Frank"), None, "ops").await.unwrap();
    match login(&axes, &a, true).await {
        Err(AuthError::LockedOut(l)) => {
            assert_eq!(l.reason, LockoutReason::Blocked);
            assert!(l.is_permanent());
            assert_eq!(l.message, axes.settings().permalock_message);
        }
        other => panic!("{other:?}"),
    }
    clock.advance(chrono::Duration::days(365));
    assert!(axes.check(&a).await.lockout.is_some());
    // The pair of another user is not refused; unblock lifts it, once.
    assert!(login(&axes, &from(IP, "grace"), true).await.is_ok());
    assert!(axes.unblock(None, Some("frank")).await.unwrap());
    assert!(!axes.unblock(None, Some("frank")).await.unwrap());
    assert!(login(&axes, &a, true).await.is_ok());

    // A reset does not lift a manual block.
    axes.block(Some(IP), Some("frank"), None, "ops")
        .await
        .unwrap();
    axes.reset(None, None).await.unwrap();
    assert!(
        axes.check(&a).await.lockout.is_some(),
        "only unblock lifts it"
    );
    assert!(axes.unblock(Some(IP), Some("frank")).await.unwrap());

    let seen = events.lock().unwrap().clone();
    let of = |k: EventKind| {
        seen.iter()
            .filter(|(kind, _, _)| *kind == k)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        of(EventKind::Blocked),
        [
            (EventKind::Blocked, Some(300), false),
            (EventKind::Blocked, None, false),
            (EventKind::Blocked, None, false)
        ]
    );
    assert_eq!(of(EventKind::Unblocked).len(), 2);
    let refused = of(EventKind::LockedOut);
    assert_eq!(refused.len(), 2);
    assert!(refused.iter().all(|(_, _, refused)| *refused));
}

#[tokio::test]
async fn a_hidden_block_answers_like_a_wrong_password() {
    let clock = ManualClock::fixed();
    let axes = engine(
        Settings {
            hide_lockout: true,
            ..settings(3, 60)
        },
        &clock,
    );
    let locked = Arc::new(AtomicUsize::new(0));
    let sink = locked.clone();
    axes.subscribe(move |e| {
        if e.kind == EventKind::LockedOut {
            sink.fetch_add(1, Ordering::SeqCst);
        }
    });
    axes.block(None, Some("heidi"), None, "ops").await.unwrap();
    let a = from(IP, "heidi");
    assert!(matches!(
        login(&axes, &a, true).await,
        Err(AuthError::InvalidCredentials)
    ));
    assert_eq!(locked.load(Ordering::SeqCst), 1, "still sent as an event");
    assert_eq!(
        axes.list_attempts(&ListQuery::all()).await.unwrap().total,
        0
    );
}

/// A memory store whose `record_lockout` fails (or counts its calls).
#[derive(Debug, Default)]
struct Flaky {
    inner: MemoryStore,
    fail: bool,
    recorded: AtomicUsize,
}

mod flaky {
    use std::sync::atomic::Ordering;

    use async_trait::async_trait;
    use axes_core::store::*;
    use axes_core::{LockoutParameters, StoreError};
    use chrono::{DateTime, Utc};

    use super::Flaky;

    #[async_trait]
    impl Store for Flaky {
        fn kind(&self) -> &'static str {
            "flaky"
        }
        async fn failures(&self, q: &FailureQuery<'_>) -> Result<Failures, StoreError> {
            self.inner.failures(q).await
        }
        async fn reserve(&self, r: &Reservation<'_>) -> Result<ReserveOutcome, StoreError> {
            self.inner.reserve(r).await
        }
        async fn release(&self, k: &RecordKey, t: &ReservationToken) -> Result<(), StoreError> {
            self.inner.release(k, t).await
        }
        async fn clear_client(
            &self,
            k: &RecordKey,
            p: &LockoutParameters,
        ) -> Result<u64, StoreError> {
            self.inner.clear_client(k, p).await
        }
        async fn reset(&self, f: &ResetFilter) -> Result<u64, StoreError> {
            self.inner.reset(f).await
        }
        async fn purge_attempts(&self, b: DateTime<Utc>) -> Result<u64, StoreError> {
            self.inner.purge_attempts(b).await
        }
        async fn list_attempts(&self, q: &ListQuery) -> Result<Page<AttemptRecord>, StoreError> {
            self.inner.list_attempts(q).await
        }
        async fn insert_access_log(&self, e: &NewAccessLog) -> Result<(), StoreError> {
            self.inner.insert_access_log(e).await
        }
        async fn close_access_log(
            &self,
            u: &str,
            h: &str,
            t: DateTime<Utc>,
        ) -> Result<u64, StoreError> {
            self.inner.close_access_log(u, h, t).await
        }
        async fn insert_failure_log(&self, e: &NewFailureLog, l: u32) -> Result<(), StoreError> {
            self.inner.insert_failure_log(e, l).await
        }
        async fn reset_access_logs(&self, b: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
            self.inner.reset_access_logs(b).await
        }
        async fn reset_failure_logs(&self, b: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
            self.inner.reset_failure_logs(b).await
        }
        async fn list_access_logs(
            &self,
            q: &ListQuery,
        ) -> Result<Page<AccessLogRecord>, StoreError> {
            self.inner.list_access_logs(q).await
        }
        async fn list_failure_logs(
            &self,
            q: &ListQuery,
        ) -> Result<Page<FailureLogRecord>, StoreError> {
            self.inner.list_failure_logs(q).await
        }
        async fn delete_attempts(&self, ids: &[String]) -> Result<u64, StoreError> {
            self.inner.delete_attempts(ids).await
        }
        async fn delete_access_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
            self.inner.delete_access_logs(ids).await
        }
        async fn delete_failure_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
            self.inner.delete_failure_logs(ids).await
        }
        async fn put_block(&self, b: &Block) -> Result<(), StoreError> {
            self.inner.put_block(b).await
        }
        async fn record_lockout(
            &self,
            t: &BlockTarget,
            now: DateTime<Utc>,
            e: &Escalation,
        ) -> Result<Block, StoreError> {
            self.recorded.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err(StoreError::Corrupt("record_lockout failed".into()));
            }
            self.inner.record_lockout(t, now, e).await
        }
        async fn remove_block(&self, k: BlockKind, t: &BlockTarget) -> Result<bool, StoreError> {
            self.inner.remove_block(k, t).await
        }
        async fn reset_blocks(&self, k: BlockKind, f: &ResetFilter) -> Result<u64, StoreError> {
            self.inner.reset_blocks(k, f).await
        }
        async fn list_blocks(
            &self,
            k: Option<BlockKind>,
            q: &ListQuery,
        ) -> Result<Page<Block>, StoreError> {
            self.inner.list_blocks(k, q).await
        }
        async fn purge_blocks(
            &self,
            now: DateTime<Utc>,
            f: DateTime<Utc>,
        ) -> Result<u64, StoreError> {
            self.inner.purge_blocks(now, f).await
        }
    }
}

#[tokio::test]
async fn a_failed_record_lockout_keeps_the_lockout_of_the_count() {
    let clock = ManualClock::fixed();
    let store = Arc::new(Flaky {
        fail: true,
        ..Flaky::default()
    });
    let axes = Axes::builder(Settings {
        cooloff_multiplier: 2.0,
        ..settings(2, 60)
    })
    .store(store.clone())
    .clock(Arc::new(clock.clone()))
    .build()
    .unwrap();
    let a = from(IP, "ivan");
    assert_eq!(lock_out(&axes, &a, 2).await, Some(60));
    assert_eq!(retry_after(&axes, &a).await, Some(60));
    clock.advance(minutes(1));
    assert_eq!(lock_out(&axes, &a, 2).await, Some(60), "not escalated");
    assert_eq!(store.recorded.load(Ordering::SeqCst), 2);
    assert_eq!(retry_after(&axes, &a).await, Some(60), "still locked");
}

#[tokio::test]
async fn without_escalation_no_lockout_is_recorded() {
    let clock = ManualClock::fixed();
    let store = Arc::new(Flaky::default());
    let axes = Axes::builder(settings(1, 60))
        .store(store.clone())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let a = from(IP, "judy");
    for _ in 0..3 {
        assert_eq!(lock_out(&axes, &a, 1).await, Some(60));
        clock.advance(minutes(1));
    }
    assert_eq!(store.recorded.load(Ordering::SeqCst), 0);
    assert_eq!(store.block_rows(), 0);
}

impl Flaky {
    fn block_rows(&self) -> usize {
        self.inner.block_rows()
    }
}

#[tokio::test]
async fn every_alternative_that_locks_has_its_own_history() {
    let clock = ManualClock::fixed();
    let axes = engine(
        Settings {
            cooloff_multiplier: 2.0,
            lockout_parameters: LockoutParameters::any_of(&[Field::IpAddress, Field::Username]),
            ..settings(2, 60)
        },
        &clock,
    );
    // kim locks out both her IP and her username.
    let a = from(IP, "kim");
    assert_eq!(lock_out(&axes, &a, 2).await, Some(60));
    let rows = axes
        .list_blocks(Some(BlockKind::Lockout), &ListQuery::all())
        .await
        .unwrap();
    assert_eq!(rows.total, 2, "{rows:?}");
    clock.advance(minutes(1));
    // Her username from elsewhere: the username's 2nd lockout, the new
    // IP's 1st.
    let b = from("203.0.113.13", "kim");
    assert_eq!(lock_out(&axes, &b, 2).await, Some(120));
    // The first IP is free again: its count expired and its history's
    // row refuses nothing; but kim's username is locked from anywhere.
    let other = from(IP, "leo");
    assert!(axes.check(&other).await.lockout.is_none());
    assert_eq!(retry_after(&axes, &a).await, Some(120));
}

#[tokio::test]
async fn blocks_on_a_dummy_store_refuse_nothing() {
    let axes = Axes::builder(Settings {
        handler: Handler::Dummy,
        ..Settings::default()
    })
    .build()
    .unwrap();
    axes.block(Some(IP), None, None, "ops").await.unwrap();
    assert!(axes.check(&from(IP, "mia")).await.lockout.is_none());
    assert_eq!(
        axes.list_blocks(None, &ListQuery::all())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(!axes.unblock(Some(IP), None).await.unwrap());
}
