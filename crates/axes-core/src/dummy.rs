//! A store that keeps nothing (`handler = dummy`): nobody is ever counted.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::blocks::{Block, BlockKind, BlockTarget, Escalation};
use crate::error::StoreError;
use crate::parameters::LockoutParameters;
use crate::store::{
    AccessLogRecord, AlternativeCount, AttemptRecord, FailureLogRecord, FailureQuery, Failures,
    ListQuery, NewAccessLog, NewFailureLog, Page, RecordKey, Reservation, ReservationToken,
    ReserveOutcome, ResetFilter, Store,
};

/// Keeps nothing; admits everyone.
#[derive(Debug, Clone, Copy, Default)]
pub struct DummyStore;

fn zero(parameters: &LockoutParameters) -> Failures {
    Failures {
        per_alternative: parameters
            .alternatives()
            .iter()
            .map(|_| AlternativeCount {
                failures: 0,
                last_failure: None,
            })
            .collect(),
        block: None,
    }
}

fn empty<T>() -> Page<T> {
    Page {
        items: Vec::new(),
        total: 0,
    }
}

#[async_trait]
impl Store for DummyStore {
    fn kind(&self) -> &'static str {
        "dummy"
    }
    async fn failures(&self, q: &FailureQuery<'_>) -> Result<Failures, StoreError> {
        Ok(zero(q.parameters))
    }
    async fn reserve(&self, r: &Reservation<'_>) -> Result<ReserveOutcome, StoreError> {
        Ok(ReserveOutcome {
            admitted: true,
            counted: false,
            failures: zero(r.parameters),
            token: None,
        })
    }
    async fn release(&self, _: &RecordKey, _: &ReservationToken) -> Result<(), StoreError> {
        Ok(())
    }
    async fn clear_client(&self, _: &RecordKey, _: &LockoutParameters) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn reset(&self, _: &ResetFilter) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn purge_attempts(&self, _: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn list_attempts(&self, _: &ListQuery) -> Result<Page<AttemptRecord>, StoreError> {
        Ok(empty())
    }
    async fn get_attempt(&self, _: &str) -> Result<Option<AttemptRecord>, StoreError> {
        Ok(None)
    }
    async fn insert_access_log(&self, _: &NewAccessLog) -> Result<(), StoreError> {
        Ok(())
    }
    async fn close_access_log(
        &self,
        _: &str,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn insert_failure_log(&self, _: &NewFailureLog, _: u32) -> Result<(), StoreError> {
        Ok(())
    }
    async fn reset_access_logs(&self, _: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn reset_failure_logs(&self, _: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn list_access_logs(&self, _: &ListQuery) -> Result<Page<AccessLogRecord>, StoreError> {
        Ok(empty())
    }
    async fn list_failure_logs(&self, _: &ListQuery) -> Result<Page<FailureLogRecord>, StoreError> {
        Ok(empty())
    }
    async fn get_access_log(&self, _: &str) -> Result<Option<AccessLogRecord>, StoreError> {
        Ok(None)
    }
    async fn get_failure_log(&self, _: &str) -> Result<Option<FailureLogRecord>, StoreError> {
        Ok(None)
    }
    async fn delete_attempts(&self, _: &[String]) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn delete_access_logs(&self, _: &[String]) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn delete_failure_logs(&self, _: &[String]) -> Result<u64, StoreError> {
        Ok(0)
    }
    /// Keeps nothing: the block refuses nothing.
    async fn put_block(&self, _: &Block) -> Result<(), StoreError> {
        Ok(())
    }
    /// Keeps nothing: every lockout is a first one (which the escalation
    /// leaves to the failure count, and a dummy store counts none).
    async fn record_lockout(
        &self,
        target: &BlockTarget,
        now: DateTime<Utc>,
        escalation: &Escalation,
    ) -> Result<Block, StoreError> {
        Ok(Block {
            kind: BlockKind::Lockout,
            target: target.clone(),
            until: escalation.until(1, now),
            created_at: now,
            created_by: String::new(),
            lockouts: 1,
        })
    }
    async fn remove_block(&self, _: BlockKind, _: &BlockTarget) -> Result<bool, StoreError> {
        Ok(false)
    }
    async fn reset_blocks(&self, _: BlockKind, _: &ResetFilter) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn list_blocks(
        &self,
        _: Option<BlockKind>,
        _: &ListQuery,
    ) -> Result<Page<Block>, StoreError> {
        Ok(empty())
    }
    async fn purge_blocks(&self, _: DateTime<Utc>, _: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(0)
    }
}
