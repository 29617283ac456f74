//! Store outages: fail open or closed, bounded by `store_timeout`, one log
//! line per outage, recovery without a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axes_core::store::*;
use axes_core::{Attempt, AuthError, Axes, LockoutReason, MemoryStore, Settings, StoreError};
use chrono::{DateTime, Utc};

const UP: u8 = 0;
const DOWN: u8 = 1;
const HANGING: u8 = 2;

/// A memory store that can be switched off (errors) or made to hang.
#[derive(Debug, Default)]
struct Flaky {
    inner: MemoryStore,
    state: AtomicU8,
}

impl Flaky {
    async fn gate(&self) -> Result<(), StoreError> {
        match self.state.load(Ordering::SeqCst) {
            UP => Ok(()),
            DOWN => Err(StoreError::unavailable(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "connection refused",
            ))),
            _ => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            }
        }
    }
}

macro_rules! delegate {
    ($self:ident, $call:expr) => {{
        $self.gate().await?;
        $call.await
    }};
}

#[async_trait]
impl Store for Flaky {
    fn kind(&self) -> &'static str {
        "flaky"
    }
    async fn ping(&self) -> Result<(), StoreError> {
        delegate!(self, self.inner.ping())
    }
    async fn failures(&self, q: &FailureQuery<'_>) -> Result<Failures, StoreError> {
        delegate!(self, self.inner.failures(q))
    }
    async fn reserve(&self, r: &Reservation<'_>) -> Result<ReserveOutcome, StoreError> {
        delegate!(self, self.inner.reserve(r))
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

fn engine(fail_closed: bool) -> (Axes, Arc<Flaky>) {
    let store = Arc::new(Flaky::default());
    let axes = Axes::builder(Settings {
        fail_closed,
        failure_limit: 2,
        store_timeout: Duration::from_millis(100),
        ..Settings::default()
    })
    .store(store.clone())
    .build()
    .unwrap();
    (axes, store)
}

fn attempt() -> Attempt {
    Attempt::new()
        .ip_address("192.0.2.1".parse().unwrap())
        .username("alice")
}

async fn wrong(axes: &Axes) -> Result<(), AuthError<()>> {
    axes.authenticate(&attempt(), || async { Ok::<Option<()>, ()>(None) })
        .await
}

async fn right(axes: &Axes) -> Result<(), AuthError<()>> {
    axes.authenticate(&attempt(), || async { Ok::<Option<()>, ()>(Some(())) })
        .await
}

#[tokio::test]
async fn fail_open_allows_and_recovers() {
    let (axes, store) = engine(false);
    store.state.store(DOWN, Ordering::SeqCst);
    // Unprotected while down: the credential check runs, nothing is counted.
    assert!(matches!(
        wrong(&axes).await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(matches!(
        wrong(&axes).await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(matches!(
        wrong(&axes).await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(right(&axes).await.is_ok());
    assert!(axes.check(&attempt()).await.lockout.is_none());
    let status = axes.store_status();
    assert!(!status.available);
    assert_eq!(status.outages, 1, "one outage, however many failed calls");
    assert!(status.errors >= 1);

    store.state.store(UP, Ordering::SeqCst);
    // A store that is down is tried again once the retry window (here the
    // 100 ms store_timeout) has passed.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(matches!(
        wrong(&axes).await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(axes.store_status().available);
    assert!(matches!(wrong(&axes).await, Err(AuthError::LockedOut(_))));
}

#[tokio::test]
async fn fail_closed_refuses_with_store_unavailable() {
    let (axes, store) = engine(true);
    store.state.store(DOWN, Ordering::SeqCst);
    match right(&axes).await {
        Err(AuthError::LockedOut(l)) => {
            assert_eq!(l.reason, LockoutReason::StoreUnavailable);
            assert!(l.retry_after.is_none());
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let check = axes.check(&attempt()).await;
    assert_eq!(
        check.lockout.map(|l| l.reason),
        Some(LockoutReason::StoreUnavailable)
    );
    store.state.store(UP, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(right(&axes).await.is_ok());
}

#[tokio::test]
async fn while_down_only_one_call_at_a_time_waits_for_the_store() {
    let (axes, store) = engine(false);
    store.state.store(HANGING, Ordering::SeqCst);
    // The first call finds out (after store_timeout) ...
    assert!(right(&axes).await.is_ok());
    assert!(!axes.store_status().available);
    // ... and the next ones are answered without waiting: a hanging store
    // would otherwise hold each for an hour, and the outer timeout fires.
    for _ in 0..20 {
        let r = tokio::time::timeout(Duration::from_secs(5), wrong(&axes)).await;
        assert!(matches!(r, Ok(Err(AuthError::InvalidCredentials))));
    }
    assert_eq!(axes.store_status().outages, 1);
}

#[tokio::test]
async fn ping_notices_recovery_without_logins() {
    let (axes, store) = engine(false);
    store.state.store(DOWN, Ordering::SeqCst);
    assert!(axes.ping().await.is_err());
    assert!(!axes.store_status().available);
    store.state.store(UP, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(axes.ping().await.is_ok());
    assert!(axes.store_status().available);
}

#[tokio::test]
async fn a_hanging_store_is_bounded_by_store_timeout() {
    let (axes, store) = engine(false);
    store.state.store(HANGING, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(10), right(&axes)).await;
    assert!(matches!(r, Ok(Ok(()))), "fail open after the timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!axes.store_status().available);

    let (axes, store) = engine(true);
    store.state.store(HANGING, Ordering::SeqCst);
    let r = tokio::time::timeout(Duration::from_secs(10), right(&axes)).await;
    assert!(matches!(r, Ok(Err(AuthError::LockedOut(_)))));
}

#[tokio::test]
async fn operator_commands_report_store_errors() {
    let (axes, store) = engine(false);
    store.state.store(DOWN, Ordering::SeqCst);
    assert!(matches!(
        axes.reset(None, None).await,
        Err(axes_core::Error::Store(_))
    ));
    assert!(matches!(
        axes.reset(Some("not-an-ip"), None).await,
        Err(axes_core::Error::InvalidInput(_))
    ));
}
