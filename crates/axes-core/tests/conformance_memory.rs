//! The conformance suite on the in-process memory store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axes_core::{MemoryStore, Store};

async fn make_store() -> Option<Arc<dyn Store>> {
    Some(Arc::new(MemoryStore::new()))
}

axes_core::store_conformance!(make_store);

#[tokio::test]
async fn memory_is_bounded() {
    use axes_core::memory::MemoryLimits;
    use axes_core::{Attempt, Axes, Settings};
    let store = Arc::new(MemoryStore::with_limits(MemoryLimits {
        max_records: 100,
        max_log_rows: 10,
    }));
    let axes = Axes::builder(Settings {
        lock_out_at_failure: false,
        ..Settings::default()
    })
    .store(store.clone())
    .build()
    .unwrap();
    for i in 0..1000u32 {
        let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i);
        let t = axes
            .begin(&Attempt::new().ip_address(ip.into()))
            .await
            .unwrap();
        assert!(t.failed().await.is_none());
    }
    assert_eq!(store.len(), 100);
}

/// A store that implements only the required methods (a memory store
/// underneath), so the look-ups by id are the trait's defaults, which page
/// through the listings. Counts the listing calls.
#[derive(Debug, Default)]
struct ListOnly {
    inner: MemoryStore,
    listings: std::sync::atomic::AtomicUsize,
}

mod list_only {
    use std::sync::atomic::Ordering;

    use async_trait::async_trait;
    use axes_core::store::*;
    use axes_core::{LockoutParameters, StoreError};
    use chrono::{DateTime, Utc};

    use super::ListOnly;

    #[async_trait]
    impl Store for ListOnly {
        fn kind(&self) -> &'static str {
            "list-only"
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
            self.listings.fetch_add(1, Ordering::SeqCst);
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
            self.listings.fetch_add(1, Ordering::SeqCst);
            self.inner.list_access_logs(q).await
        }
        async fn list_failure_logs(
            &self,
            q: &ListQuery,
        ) -> Result<Page<FailureLogRecord>, StoreError> {
            self.listings.fetch_add(1, Ordering::SeqCst);
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

async fn make_list_only() -> Option<Arc<dyn Store>> {
    Some(Arc::new(ListOnly::default()))
}

/// The default look-ups by id pass the store API conformance test.
#[tokio::test]
async fn default_lookups_conform() {
    axes_core::conformance::run_store_api(make_list_only).await;
}

/// The default look-up pages past the first listing page, and answers
/// malformed ids without listing at all.
#[tokio::test]
async fn default_lookup_pages_through_the_listing() {
    use std::sync::atomic::Ordering;

    use axes_core::store::{ListQuery, NewAccessLog, Order, RecordKey};

    let store = ListOnly::default();
    let t0 = chrono::DateTime::<chrono::Utc>::from_timestamp(1_767_225_600, 0).unwrap();
    let rows = 2 * ListQuery::MAX_LIMIT + 500;
    for i in 0..rows {
        store
            .insert_access_log(&NewAccessLog {
                key: RecordKey {
                    scope: String::new(),
                    username: Some(format!("user{i}")),
                    ip_address: None,
                    user_agent: String::new(),
                },
                path: "/login".into(),
                http_accept: String::new(),
                attempt_time: t0 + chrono::Duration::seconds(i as i64),
                session_hash: String::new(),
            })
            .await
            .unwrap();
    }
    let oldest = store
        .list_access_logs(&ListQuery {
            order: Order::OldestFirst,
            limit: 1,
            ..ListQuery::all()
        })
        .await
        .unwrap()
        .items
        .remove(0);
    store.listings.store(0, Ordering::SeqCst);
    assert_eq!(
        store.get_access_log(&oldest.id).await.unwrap(),
        Some(oldest.clone())
    );
    assert_eq!(store.listings.load(Ordering::SeqCst), 3, "three pages");

    store.listings.store(0, Ordering::SeqCst);
    assert_eq!(store.get_access_log("no-such-id").await.unwrap(), None);
    assert_eq!(store.listings.load(Ordering::SeqCst), 3, "exhausted");

    store.listings.store(0, Ordering::SeqCst);
    for bad in [String::new(), "1".repeat(10_000)] {
        assert_eq!(store.get_access_log(&bad).await.unwrap(), None);
        assert_eq!(store.get_attempt(&bad).await.unwrap(), None);
        assert_eq!(store.get_failure_log(&bad).await.unwrap(), None);
    }
    assert_eq!(store.listings.load(Ordering::SeqCst), 0, "never listed");
}
