//! Redis store for axes.
//!
//! [`RedisStore`] keeps attempt records, the access log and the failure log
//! in one Redis server, under a key prefix (`cache_prefix`, default
//! `axes:`). Several app servers sharing it see one count: every counter
//! update is one Lua script, so [`Store::reserve`] is exact under
//! concurrency — with limit N, exactly N of any number of simultaneous
//! attempts are admitted.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use axes_core::store::Store;
//! use axes_redis::RedisStore;
//!
//! # async fn demo() -> Result<(), axes_core::error::StoreError> {
//! let store = RedisStore::connect("redis://127.0.0.1:6379", "axes:").await?;
//! store.ping().await?;
//! let store: Arc<dyn Store> = Arc::new(store);
//! # let _ = store;
//! # Ok(())
//! # }
//! ```
//!
//! # Data model
//!
//! One hash per attempt record (`{prefix}rec:{id}`, the id being a digest of
//! scope, username, IP and user agent), a sorted set of all record ids by
//! time (`{prefix}attempts`) and, per scope, one sorted set per IP, username
//! and user agent (`{prefix}idx:ip:…` for the default scope `""`,
//! `{prefix}idx:{scope}:ip:…` for another; values and scopes are encoded so
//! no input can forge a key name). The count of an alternative reads the
//! smallest index of its fields in the attempt's scope, so a scope's count
//! never reads another scope's records. Records of scopes other than `""`
//! are also in one cross-scope set per IP and username (`{prefix}sidx:…`),
//! which resets and filtered listings read besides the default scope's
//! index. The default scope keeps the key names of the layout before scopes
//! existed: an upgrade needs no migration. Nothing ever uses `KEYS` or
//! `SCAN`. See the `keys` module for the full layout.
//!
//! Blocks (manual blocks and lockout history) are one hash per (kind,
//! target), `{prefix}blk:m:…` and `{prefix}blk:l:…`, the target's three
//! fields encoded the same way, and one sorted set per kind by `created_at`
//! (`{prefix}blocks:manual`, `{prefix}blocks:lockout`). The reserve and
//! failures scripts look up the rows of the attempt's candidate targets
//! (at most fourteen keys; only the manual rows for a `manual_only` attempt)
//! in the same script as the count, so a refusing
//! block is seen atomically with it: reserve stops before counting
//! anything, failures reports the counts and the block. `record_lockout` computes the
//! progressive cool-off in Rust and writes the row with a compare-and-set
//! script (retried while concurrent lockouts of the same target change the
//! row), so concurrent lockouts are each counted once.
//!
//! # Expiry
//!
//! With a cool-off window, record and index keys get a TTL of the window
//! plus a grace of one more window (at least one minute), refreshed on every
//! failure. Whether a failure still counts never depends on the TTL: the
//! scripts compare its time with the caller's `now − window` (stores never
//! read the clock). The TTL only frees memory, and the grace keeps records
//! that are still live for a caller with a lagging clock. Ids left in the
//! sorted sets after a hash expired are dropped whenever they are met.
//! Without a window records stay until they are reset or purged.
//!
//! Block rows get a TTL, measured the same way from the caller's time, of
//! how long they are still needed, plus as much again (at least a minute):
//! a manual block until its `until`, a lockout row until `lockout_memory`
//! after its `until` (the memory runs from the end of the latest lockout). Rows that refuse forever (and
//! rows needed more than ten years) have no TTL and stay until an unblock,
//! a reset or `axes purge`; so do lockout rows set with `put_block`. Redis
//! thus stays bounded by itself, `purge_blocks` only tidies earlier.
//!
//! # Bounds
//!
//! The count of an alternative reads its index newest first, in pages, and
//! stops after 100 matching records (or the limit, if that is higher) or
//! 10 000 index entries. Since every record holds at least one failure, the
//! lockout decision stays exact; only the reported count of an alternative
//! with more live records than that is a lower bound. This keeps one
//! `reserve` cheap while an attacker sprays usernames from one address
//! (without the cap every attempt would read every record of that address).
//! The entry bound only matters for combination alternatives (a warning is
//! logged if it stops a count early). Filtered listings scan at most 100 000
//! candidates. Resets and purges run in batches of 500 records.
//!
//! # Deployment
//!
//! The scripts build key names from the prefix, so they need one Redis
//! server (or a proxy that sends every key of the prefix to one shard); Redis
//! Cluster is not supported. Run it with `maxmemory-policy noeviction`: an
//! evicted index or record silently lowers counts (the store tolerates the
//! gaps, but cannot count what is gone).

mod attempts;
mod blocks;
mod error;
mod keys;
mod listing;
mod logs;
mod scripts;
mod time;

#[doc(hidden)]
pub mod testing;

use std::fmt;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use axes_core::error::StoreError;
use axes_core::parameters::LockoutParameters;
use axes_core::store::{
    AccessLogRecord, AttemptRecord, Block, BlockKind, BlockTarget, Escalation, FailureLogRecord,
    FailureQuery, Failures, ListQuery, NewAccessLog, NewFailureLog, Page, RecordKey, Reservation,
    ReservationToken, ReserveOutcome, ResetFilter, Store,
};
use chrono::{DateTime, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use crate::error::BlockError;
use crate::error::map;
use crate::keys::{Keys, Log};

/// Connection settings of a [`RedisStore`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisOptions {
    /// Bound on establishing one connection (default 1 s).
    pub connection_timeout: StdDuration,
    /// Bound on one command's answer (default 2 s).
    pub response_timeout: StdDuration,
    /// Do not connect before the first command (default false: connect, and
    /// fail, at once).
    pub lazy: bool,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            connection_timeout: StdDuration::from_secs(1),
            response_timeout: StdDuration::from_secs(2),
            lazy: false,
        }
    }
}

impl RedisOptions {
    /// Sets [`RedisOptions::lazy`].
    pub fn lazy(mut self, lazy: bool) -> Self {
        self.lazy = lazy;
        self
    }

    /// Sets [`RedisOptions::response_timeout`].
    pub fn response_timeout(mut self, t: StdDuration) -> Self {
        self.response_timeout = t;
        self
    }

    /// Sets [`RedisOptions::connection_timeout`].
    pub fn connection_timeout(mut self, t: StdDuration) -> Self {
        self.connection_timeout = t;
        self
    }
}

/// The Redis store. Cheap to clone: clones share one multiplexed connection,
/// which reconnects by itself after an outage.
#[derive(Clone)]
pub struct RedisStore {
    con: ConnectionManager,
    keys: Keys,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // no URL: it may hold a password
        f.debug_struct("RedisStore")
            .field("prefix", &self.keys.prefix())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to `url` (`redis://[user:password@]host[:port][/db]` or
    /// `redis+unix:///path/to/socket`) with keys under `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, prefix, RedisOptions::default()).await
    }

    /// [`RedisStore::connect`] with explicit options.
    pub async fn connect_with(
        url: &str,
        prefix: &str,
        options: RedisOptions,
    ) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(StoreError::backend)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connection_timeout))
            .set_response_timeout(Some(options.response_timeout))
            .set_number_of_retries(3)
            .set_max_delay(StdDuration::from_secs(1));
        let con = if options.lazy {
            client.get_connection_manager_lazy(config).map_err(map)?
        } else {
            client
                .get_connection_manager_with_config(config)
                .await
                .map_err(map)?
        };
        Ok(Self {
            con,
            keys: Keys::new(prefix),
        })
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        self.keys.prefix()
    }

    /// Deletes everything this store wrote under its prefix — attempt
    /// records, blocks, both logs and their counters — by walking its own
    /// sets.
    ///
    /// Unlike a reset it also drops the failure serial counter. The counter
    /// starts again at the caller's time in microseconds, above the values
    /// it handed out before (unless more failures were counted than
    /// microseconds passed, or the clocks disagree by more than that), so a
    /// ticket held across a wipe still gives nothing back from a record made
    /// after it.
    pub async fn wipe(&self) -> Result<(), StoreError> {
        self.do_reset(&ResetFilter::all()).await?;
        self.drop_blocks().await?;
        self.reset_log(Log::Access, None).await?;
        self.reset_log(Log::Failure, None).await?;
        self.drop_log_counters().await?;
        self.drop_attempt_serial().await
    }

    fn con(&self) -> ConnectionManager {
        self.con.clone()
    }
}

#[async_trait]
impl Store for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        redis::cmd("PING")
            .query_async::<String>(&mut self.con())
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn failures(&self, query: &FailureQuery<'_>) -> Result<Failures, StoreError> {
        self.do_failures(query).await
    }

    async fn reserve(&self, reservation: &Reservation<'_>) -> Result<ReserveOutcome, StoreError> {
        self.do_reserve(reservation).await
    }

    async fn release(&self, key: &RecordKey, token: &ReservationToken) -> Result<(), StoreError> {
        self.do_release(key, token).await
    }

    async fn clear_client(
        &self,
        key: &RecordKey,
        parameters: &LockoutParameters,
    ) -> Result<u64, StoreError> {
        self.do_clear_client(key, parameters).await
    }

    async fn reset(&self, filter: &ResetFilter) -> Result<u64, StoreError> {
        self.do_reset(filter).await
    }

    async fn purge_attempts(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.do_purge(before).await
    }

    async fn list_attempts(&self, query: &ListQuery) -> Result<Page<AttemptRecord>, StoreError> {
        self.do_list_attempts(query).await
    }

    async fn get_attempt(&self, id: &str) -> Result<Option<AttemptRecord>, StoreError> {
        self.do_get_attempt(id).await
    }

    async fn insert_access_log(&self, entry: &NewAccessLog) -> Result<(), StoreError> {
        self.do_insert_access_log(entry).await
    }

    async fn close_access_log(
        &self,
        username: &str,
        session_hash: &str,
        logout_time: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.do_close_access_log(username, session_hash, logout_time)
            .await
    }

    async fn insert_failure_log(
        &self,
        entry: &NewFailureLog,
        per_user_limit: u32,
    ) -> Result<(), StoreError> {
        self.do_insert_failure_log(entry, per_user_limit).await
    }

    async fn reset_access_logs(&self, before: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        self.reset_log(Log::Access, before).await
    }

    async fn reset_failure_logs(&self, before: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        self.reset_log(Log::Failure, before).await
    }

    async fn list_access_logs(
        &self,
        query: &ListQuery,
    ) -> Result<Page<AccessLogRecord>, StoreError> {
        self.list_log(Log::Access, query).await
    }

    async fn list_failure_logs(
        &self,
        query: &ListQuery,
    ) -> Result<Page<FailureLogRecord>, StoreError> {
        self.list_log(Log::Failure, query).await
    }

    async fn get_access_log(&self, id: &str) -> Result<Option<AccessLogRecord>, StoreError> {
        self.get_log_row(Log::Access, id).await
    }

    async fn get_failure_log(&self, id: &str) -> Result<Option<FailureLogRecord>, StoreError> {
        self.get_log_row(Log::Failure, id).await
    }

    async fn delete_attempts(&self, ids: &[String]) -> Result<u64, StoreError> {
        self.do_delete_attempts(ids).await
    }

    async fn delete_access_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
        self.delete_log_rows(Log::Access, ids).await
    }

    async fn delete_failure_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
        self.delete_log_rows(Log::Failure, ids).await
    }

    async fn put_block(&self, block: &Block) -> Result<(), StoreError> {
        self.do_put_block(block).await
    }

    async fn record_lockout(
        &self,
        target: &BlockTarget,
        now: DateTime<Utc>,
        escalation: &Escalation,
    ) -> Result<Block, StoreError> {
        self.do_record_lockout(target, now, escalation).await
    }

    async fn remove_block(
        &self,
        kind: BlockKind,
        target: &BlockTarget,
    ) -> Result<bool, StoreError> {
        self.do_remove_block(kind, target).await
    }

    async fn reset_blocks(&self, kind: BlockKind, filter: &ResetFilter) -> Result<u64, StoreError> {
        self.do_reset_blocks(
            kind,
            filter.ip_address.as_deref(),
            filter.username.as_deref(),
        )
        .await
    }

    async fn list_blocks(
        &self,
        kind: Option<BlockKind>,
        query: &ListQuery,
    ) -> Result<Page<Block>, StoreError> {
        self.do_list_blocks(kind, query).await
    }

    async fn purge_blocks(
        &self,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.do_purge_blocks(now, forget_before).await
    }
}
