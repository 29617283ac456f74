//! The SQLite store: an embedded file in WAL mode.

pub(crate) mod blocks;
mod file;
mod sql;
mod writer;

use std::any::Any;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use async_trait::async_trait;
use axes_core::error::StoreError;
use axes_core::parameters::LockoutParameters;
use axes_core::store::{
    AccessLogRecord, AttemptRecord, FailureLogRecord, FailureQuery, Failures, ListQuery,
    NewAccessLog, NewFailureLog, Order, Page, RecordKey, Reservation, ReservationToken,
    ReserveOutcome, ResetFilter, Store,
};
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use tokio::sync::{Mutex, MutexGuard};

use crate::common::{
    self, ACCEPT_LEN, DATA_LEN, KeyCols, PATH_LEN, SESSION_HASH_LEN, clip, like_pattern, micros,
    paging, parse_id, parse_ids, threshold,
};
use crate::error::{map_migrate, map_sqlx};
use crate::rows::{self, AccessLogRow, AttemptRow, FailureLogRow};
use crate::{ConnectOptions, migrate};

/// The statement counting the alternative `alt` (for query-plan tests).
#[cfg(feature = "testing")]
pub(crate) fn count_statement(alt: &axes_core::parameters::Alternative) -> &'static str {
    sql::COUNT[common::alt_index(alt)]
}

/// For query-plan tests: the reset of attempts, their listing (newest
/// first) and its count, as run for a filter on `ip_address` and
/// `username`.
#[cfg(feature = "testing")]
pub(crate) fn admin_statements(
    ip_address: Option<&str>,
    username: Option<&str>,
) -> [&'static str; 3] {
    [
        sql::by_filter(&sql::RESET, ip_address, username),
        sql::by_filter(&sql::LIST_ATTEMPTS, ip_address, username)[0],
        sql::by_filter(&sql::COUNT_ATTEMPTS, ip_address, username),
    ]
}

static MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| migrate::migrator(migrate::SQLITE));

/// A store in a SQLite database file (`sqlite://axes.db`), created on first
/// use (on Unix with mode 0600, which SQLite passes on to the `-wal` and
/// `-shm` files), in WAL mode with `synchronous=NORMAL`.
///
/// Writes are serialised across processes by `BEGIN IMMEDIATE` transactions
/// (waiting up to the busy timeout), which makes [`Store::reserve`] exact.
/// For a database file, the writes of the login path (reservations,
/// give-backs, clearing a client, the logs) and the purge are committed in
/// groups by one writer with prepared statements, each answered after the
/// commit (see `writer.rs`); the admin's other writes take turns in process
/// on a mutex. An in-memory database, or a
/// store made [`from_pool`](SqliteStore::from_pool), runs reservations on
/// the pool.
pub struct SqliteStore {
    pool: SqlitePool,
    /// One writer at a time in this process: waiting on a mutex is cheaper
    /// and fairer than SQLite's busy-sleep loop.
    writer: Mutex<()>,
    /// The thread that commits reservations and give-backs in groups, for a
    /// database file (`None`: in memory, or a pool given from outside).
    committer: Option<Arc<writer::Writer>>,
    /// Anything that must live as long as the store (a test's temp dir).
    keep_alive: Option<Box<dyn Any + Send + Sync>>,
    /// The on-demand count indexes known to exist (bit `alt_index`; see
    /// [`sql::ON_DEMAND_INDEX`]).
    indexed: Arc<AtomicU8>,
    /// The writer is making some (one request at a time).
    indexing: Arc<AtomicBool>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

/// A time as stored: unix microseconds.
/// Whether `e` is SQLITE_BUSY (or one of its extended codes).
fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(|c| c & 0xff == 5),
        _ => false,
    }
}

fn enc(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn dec(us: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| StoreError::Corrupt(format!("time {us} µs out of range")))
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` with default options.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &ConnectOptions::default()).await
    }

    /// Opens (creating if missing) the database at `url`.
    ///
    /// An in-memory database (`sqlite::memory:`) lives as long as the store
    /// and uses a single connection.
    pub async fn connect_with(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let connect = SqliteConnectOptions::from_str(url).map_err(map_sqlx)?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        Self::open_with(connect, options, in_memory).await
    }

    /// Opens (creating if missing) the database file of `connect`, e.g.
    /// `SqliteConnectOptions::new().filename(path)`.
    pub async fn open(
        connect: SqliteConnectOptions,
        options: &ConnectOptions,
    ) -> Result<Self, StoreError> {
        Self::open_with(connect, options, false).await
    }

    async fn open_with(
        connect: SqliteConnectOptions,
        options: &ConnectOptions,
        in_memory: bool,
    ) -> Result<Self, StoreError> {
        if !in_memory && file::is_on_disk(connect.get_filename()) {
            file::prepare(connect.get_filename());
        }
        let connect = connect
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(options.busy_timeout);
        // The pool's connections serve look-ups and the rarer writes; a
        // broken connection shows on use (no test query on every acquire).
        let mut pool = SqlitePoolOptions::new()
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(false);
        pool = if in_memory {
            // Every connection to a shared in-memory database would contend
            // on table locks (which ignore the busy timeout), and the data
            // vanishes with the last connection: keep exactly one, forever.
            pool.max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            pool.max_connections(options.max_connections.max(1))
        };
        let committer = if in_memory || !file::is_on_disk(connect.get_filename()) {
            None
        } else {
            Some(writer::Writer::start(
                connect.get_filename().to_path_buf(),
                options.busy_timeout,
            )?)
        };
        if options.lazy {
            return Ok(Self::from_pool(pool.connect_lazy_with(connect)).with_committer(committer));
        }
        // Switching a brand-new file to WAL needs a lock that SQLite does not
        // wait for (the busy timeout does not apply): when several processes
        // open a fresh file at once, the losers get SQLITE_BUSY. Try again.
        let mut attempt = 0u64;
        loop {
            match pool.clone().connect_with(connect.clone()).await {
                Ok(pool) => return Ok(Self::from_pool(pool).with_committer(committer)),
                Err(e) if is_busy(&e) && attempt < 20 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(25 * attempt)).await;
                }
                Err(e) => return Err(map_sqlx(e)),
            }
        }
    }

    /// Wraps an existing pool (configure WAL and a busy timeout on it).
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self {
            pool,
            writer: Mutex::new(()),
            committer: None,
            keep_alive: None,
            indexed: Arc::new(AtomicU8::new(0)),
            indexing: Arc::new(AtomicBool::new(false)),
        }
    }

    fn with_committer(mut self, committer: Option<writer::Writer>) -> Self {
        self.committer = committer.map(Arc::new);
        self
    }

    /// The underlying pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes the pool, waiting for its connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Keeps `value` alive as long as the store (e.g. a temporary directory
    /// holding the database file).
    #[doc(hidden)]
    pub fn keep_alive(mut self, value: impl Any + Send + Sync) -> Self {
        self.keep_alive = Some(Box::new(value));
        self
    }

    /// Makes the count indexes `parameters` read that are made on demand
    /// and not known to exist yet (once per alternative and process: then
    /// one atomic load). Counts are right without the index, only slower:
    /// so with a writer the index is made in the background (a reservation
    /// never waits for it, nor for the write lock it needs), and a failure
    /// is logged and tried again by a later reservation.
    async fn ensure_indexes(&self, parameters: &LockoutParameters) {
        let wanted = parameters
            .alternatives()
            .iter()
            .map(common::alt_index)
            .filter(|&i| sql::ON_DEMAND_INDEX[i].is_some())
            .fold(0u8, |mask, i| mask | (1 << i));
        let missing = wanted & !self.indexed.load(Ordering::Acquire);
        if missing == 0 {
            return;
        }
        let Some(committer) = &self.committer else {
            // In memory (or a pool given from outside): made here.
            match self.create_indexes_on_pool(missing).await {
                Ok(()) => {
                    self.indexed.fetch_or(missing, Ordering::AcqRel);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not create a count index; counting without it")
                }
            }
            return;
        };
        if self.indexing.swap(true, Ordering::AcqRel) {
            return;
        }
        let (committer, indexed, indexing) = (
            committer.clone(),
            self.indexed.clone(),
            self.indexing.clone(),
        );
        tokio::spawn(async move {
            match committer.create_indexes(missing).await {
                Ok(()) => {
                    indexed.fetch_or(missing, Ordering::AcqRel);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not create a count index; counting without it")
                }
            }
            indexing.store(false, Ordering::Release);
        });
    }

    async fn create_indexes_on_pool(&self, missing: u8) -> Result<(), StoreError> {
        let mut w = self.begin_write().await?;
        for statement in sql::on_demand_indexes(missing) {
            sqlx::query(statement)
                .execute(&mut *w.tx)
                .await
                .map_err(map_sqlx)?;
        }
        w.commit().await
    }

    /// Starts a `BEGIN IMMEDIATE` transaction, holding the writer mutex.
    async fn begin_write(&self) -> Result<WriteTx<'_>, StoreError> {
        let writer = self.writer.lock().await;
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_sqlx)?;
        Ok(WriteTx {
            tx,
            _writer: writer,
        })
    }

    /// Runs one writing statement under the writer mutex (autocommit).
    async fn execute(&self, q: SqliteQuery<'_>) -> Result<u64, StoreError> {
        let _writer = self.writer.lock().await;
        q.execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(map_sqlx)
    }

    async fn delete_ids(&self, sql: &'static str, ids: &[String]) -> Result<u64, StoreError> {
        let ids = parse_ids(ids);
        if ids.is_empty() {
            return Ok(0);
        }
        let mut w = self.begin_write().await?;
        let mut n = 0;
        for id in ids {
            n += sqlx::query(sql)
                .bind(id)
                .execute(&mut *w.tx)
                .await
                .map_err(map_sqlx)?
                .rows_affected();
        }
        w.commit().await?;
        Ok(n)
    }

    /// The row with id `id` of a look-up statement (`None`: no such row, or
    /// not an id).
    async fn get<R, T>(
        &self,
        sql: &'static str,
        id: &str,
        convert: impl Fn(R) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
    {
        let Some(id) = parse_id(id) else {
            return Ok(None);
        };
        let row: Option<R> = sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_sqlx)?;
        row.map(convert).transpose()
    }

    async fn list<R, T>(
        &self,
        sql: &'static [[&'static str; 2]; 4],
        count_sql: &'static [&'static str; 4],
        query: &ListQuery,
        convert: impl Fn(R) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
    {
        let pattern = query.search.as_deref().map(like_pattern);
        let since = query.since.map(micros).map(enc);
        let until = query.until.map(micros).map(enc);
        let (limit, offset) = paging(query.bounded_limit(), query.offset);
        let (ip, username) = (query.ip_address.as_deref(), query.username.as_deref());
        let count_sql = sql::by_filter(count_sql, ip, username);
        let sql = sql::by_filter(sql, ip, username);
        let sql = match query.order {
            Order::NewestFirst => sql[0],
            Order::OldestFirst => sql[1],
        };
        let items: Vec<R> = sqlx::query_as(sql)
            .bind(query.ip_address.as_deref())
            .bind(query.username.as_deref())
            .bind(pattern.as_deref())
            .bind(since)
            .bind(until)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .map_err(map_sqlx)?;
        let (total,): (i64,) = sqlx::query_as(count_sql)
            .bind(query.ip_address.as_deref())
            .bind(query.username.as_deref())
            .bind(pattern.as_deref())
            .bind(since)
            .bind(until)
            .fetch_one(&self.pool)
            .await
            .map_err(map_sqlx)?;
        Ok(Page {
            items: rows::all(items, convert)?,
            total: common::rows(total),
        })
    }
}

/// A write transaction; dropping it rolls back, then frees the writer mutex.
struct WriteTx<'a> {
    tx: Transaction<'static, Sqlite>,
    _writer: MutexGuard<'a, ()>,
}

impl WriteTx<'_> {
    async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(map_sqlx)
    }
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>;

common::count_alternatives_fn!(sqlx::SqliteConnection, Option<i64>, i64, dec);

common::delete_matching_fn!(sqlx::SqliteConnection);

common::refresh_locking_fn!(
    sqlx::SqliteConnection,
    Option<i64>,
    |q: sqlx::query::Query<'static, sqlx::Sqlite, _>, id: i64, now: DateTime<Utc>| q
        .bind(id)
        .bind(enc(now))
);

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        // sqlx's SQLite migrator takes no lock: run it inside a write
        // transaction so that processes migrating one file at the same time
        // take turns (the migrator's own transaction becomes a savepoint).
        let _writer = self.writer.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_sqlx)?;
        MIGRATOR
            .run_direct(None, &mut *tx, false)
            .await
            .map_err(map_migrate)?;
        tx.commit().await.map_err(map_sqlx)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(map_sqlx)
    }

    async fn failures(&self, query: &FailureQuery<'_>) -> Result<Failures, StoreError> {
        let key = KeyCols::of(query.key)?;
        let threshold = threshold(micros(query.now), query.window).map(enc);
        let mut conn = self.pool.acquire().await.map_err(map_sqlx)?;
        let block =
            blocks::refusing_block(&mut conn, query.blocks, query.manual_only, query.now).await?;
        let per_alternative =
            count_alternatives(&mut conn, &key, query.parameters, threshold).await?;
        Ok(Failures {
            per_alternative,
            block,
        })
    }

    async fn reserve(&self, r: &Reservation<'_>) -> Result<ReserveOutcome, StoreError> {
        self.ensure_indexes(r.parameters).await;
        if let Some(committer) = &self.committer {
            return committer.reserve(r).await;
        }
        let key = KeyCols::of(r.key)?;
        let now = micros(r.now);
        let threshold = threshold(now, r.window).map(enc);
        let mut w = self.begin_write().await?;
        if let Some(block) =
            blocks::refusing_block(&mut w.tx, r.blocks, r.manual_only, r.now).await?
        {
            w.commit().await?;
            return Ok(crate::blocks::blocked(block));
        }
        let counts = count_alternatives(&mut w.tx, &key, r.parameters, threshold).await?;
        let admitted = common::admits(r.limit, &counts);
        if !admitted && !r.count_when_locked {
            w.commit().await?;
            return Ok(common::refused(counts));
        }
        let own: Option<(i64, i64)> = sqlx::query_as(sql::OWN_TIME)
            .bind(key.ip)
            .bind(key.username)
            .bind(key.user_agent)
            .bind(key.scope)
            .fetch_optional(&mut *w.tx)
            .await
            .map_err(map_sqlx)?;
        if !admitted && own.is_none() {
            // Refused, with no record of its own: refresh the records that
            // lock it, never insert one (a locked client cannot grow the
            // table).
            let rows = refresh_locking(&mut w.tx, &key, r, &counts, threshold, now).await?;
            w.commit().await?;
            return Ok(ReserveOutcome {
                admitted,
                counted: !rows.is_empty(),
                failures: common::refreshed(counts, r.parameters, &key, &rows, now),
                token: None,
            });
        }
        let accept = clip(&r.details.http_accept, ACCEPT_LEN);
        let path = clip(&r.details.path, PATH_LEN);
        let get_data = clip(&r.details.get_data, DATA_LEN);
        let post_data = clip(&r.details.post_data, DATA_LEN);
        let query = match own {
            None => sqlx::query_as(sql::INSERT_NEW)
                .bind(key.ip)
                .bind(key.username)
                .bind(key.user_agent)
                .bind(accept)
                .bind(path)
                .bind(get_data)
                .bind(post_data)
                .bind(enc(now))
                .bind(key.scope),
            Some((_, id)) => sqlx::query_as(sql::UPDATE_OWN)
                .bind(id)
                .bind(accept)
                .bind(path)
                .bind(get_data)
                .bind(post_data)
                .bind(enc(now))
                .bind(threshold),
        };
        let (id, generation, serial, failures, time): common::Upserted<i64> =
            query.fetch_one(&mut *w.tx).await.map_err(map_sqlx)?;
        w.commit().await?;
        let before = own.map(|(t, _)| dec(t)).transpose()?;
        let token = common::token((id, generation, serial, failures, dec(time)?), before)?;
        Ok(ReserveOutcome {
            admitted,
            counted: true,
            failures: common::plus_one(counts, now),
            token: Some(token),
        })
    }

    async fn release(&self, key: &RecordKey, token: &ReservationToken) -> Result<(), StoreError> {
        if let Some(committer) = &self.committer {
            return committer.release(key, token).await;
        }
        let Some((id, generation, serial)) = common::token_columns(token) else {
            return Ok(());
        };
        // Usually the record holds just the given-back failure: one delete.
        // Each statement is atomic on its own; no transaction is needed (a
        // record left at zero by a race between processes counts nothing).
        let key = KeyCols::of(key)?;
        let statement = |sql: &'static str| {
            sqlx::query(sql)
                .bind(id)
                .bind(generation)
                .bind(key.ip)
                .bind(key.username)
                .bind(key.user_agent)
                .bind(key.scope)
        };
        if self.execute(statement(sql::DELETE_LAST)).await? == 0 {
            let previous = token.previous_time.map(micros).map(enc);
            self.execute(
                statement(sql::GIVE_BACK)
                    .bind(previous)
                    .bind(serial)
                    .bind(enc(micros(token.reserved_at))),
            )
            .await?;
        }
        Ok(())
    }

    async fn clear_client(
        &self,
        key: &RecordKey,
        parameters: &LockoutParameters,
    ) -> Result<u64, StoreError> {
        if let Some(committer) = &self.committer {
            return committer.clear_client(key, parameters).await;
        }
        let key = KeyCols::of(key)?;
        let mut w = self.begin_write().await?;
        let n = delete_matching(&mut w.tx, &key, parameters).await?;
        w.commit().await?;
        Ok(n)
    }

    async fn reset(&self, filter: &ResetFilter) -> Result<u64, StoreError> {
        self.execute(
            sqlx::query(sql::by_filter(
                &sql::RESET,
                filter.ip_address.as_deref(),
                filter.username.as_deref(),
            ))
            .bind(filter.ip_address.as_deref())
            .bind(filter.username.as_deref()),
        )
        .await
    }

    async fn purge_attempts(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        if let Some(committer) = &self.committer {
            return committer.purge_attempts(before).await;
        }
        self.execute(sqlx::query(sql::PURGE).bind(enc(micros(before))))
            .await
    }

    async fn list_attempts(&self, query: &ListQuery) -> Result<Page<AttemptRecord>, StoreError> {
        self.list(
            &sql::LIST_ATTEMPTS,
            &sql::COUNT_ATTEMPTS,
            query,
            |r: AttemptRow<i64>| rows::attempt(r, dec),
        )
        .await
    }

    async fn get_attempt(&self, id: &str) -> Result<Option<AttemptRecord>, StoreError> {
        self.get(sql::GET_ATTEMPT, id, |r: AttemptRow<i64>| {
            rows::attempt(r, dec)
        })
        .await
    }

    async fn insert_access_log(&self, entry: &NewAccessLog) -> Result<(), StoreError> {
        if let Some(committer) = &self.committer {
            return committer.insert_access_log(entry).await;
        }
        let key = KeyCols::unscoped(&entry.key);
        self.execute(
            sqlx::query(sql::INSERT_ACCESS_LOG)
                .bind(key.ip)
                .bind(key.username)
                .bind(key.user_agent)
                .bind(clip(&entry.http_accept, ACCEPT_LEN))
                .bind(clip(&entry.path, PATH_LEN))
                .bind(enc(micros(entry.attempt_time)))
                .bind(clip(&entry.session_hash, SESSION_HASH_LEN)),
        )
        .await
        .map(drop)
    }

    async fn close_access_log(
        &self,
        username: &str,
        session_hash: &str,
        logout_time: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if let Some(committer) = &self.committer {
            return committer
                .close_access_log(username, session_hash, logout_time)
                .await;
        }
        self.execute(
            sqlx::query(sql::CLOSE_ACCESS_LOG)
                .bind(enc(micros(logout_time)))
                .bind(clip(username, common::USERNAME_LEN))
                .bind(clip(session_hash, SESSION_HASH_LEN)),
        )
        .await
    }

    async fn insert_failure_log(
        &self,
        entry: &NewFailureLog,
        per_user_limit: u32,
    ) -> Result<(), StoreError> {
        if let Some(committer) = &self.committer {
            return committer.insert_failure_log(entry, per_user_limit).await;
        }
        let key = KeyCols::unscoped(&entry.key);
        let mut w = self.begin_write().await?;
        sqlx::query(sql::INSERT_FAILURE_LOG)
            .bind(key.ip)
            .bind(key.username)
            .bind(key.user_agent)
            .bind(clip(&entry.http_accept, ACCEPT_LEN))
            .bind(clip(&entry.path, PATH_LEN))
            .bind(enc(micros(entry.attempt_time)))
            .bind(entry.locked_out)
            .execute(&mut *w.tx)
            .await
            .map_err(map_sqlx)?;
        let cutoff: Option<(i64,)> = sqlx::query_as(sql::FAILURE_LOG_CUTOFF)
            .bind(key.username)
            .bind(i64::from(per_user_limit))
            .fetch_optional(&mut *w.tx)
            .await
            .map_err(map_sqlx)?;
        if let Some((cutoff,)) = cutoff {
            sqlx::query(sql::FAILURE_LOG_TRIM)
                .bind(key.username)
                .bind(cutoff)
                .execute(&mut *w.tx)
                .await
                .map_err(map_sqlx)?;
        }
        w.commit().await
    }

    async fn reset_access_logs(&self, before: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        self.execute(match before {
            Some(t) => sqlx::query(sql::RESET_ACCESS_LOGS[0]).bind(enc(micros(t))),
            None => sqlx::query(sql::RESET_ACCESS_LOGS[1]),
        })
        .await
    }

    async fn reset_failure_logs(&self, before: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        self.execute(match before {
            Some(t) => sqlx::query(sql::RESET_FAILURE_LOGS[0]).bind(enc(micros(t))),
            None => sqlx::query(sql::RESET_FAILURE_LOGS[1]),
        })
        .await
    }

    async fn list_access_logs(
        &self,
        query: &ListQuery,
    ) -> Result<Page<AccessLogRecord>, StoreError> {
        self.list(
            &sql::LIST_ACCESS_LOGS,
            &sql::COUNT_ACCESS_LOGS,
            query,
            |r: AccessLogRow<i64>| rows::access_log(r, dec),
        )
        .await
    }

    async fn list_failure_logs(
        &self,
        query: &ListQuery,
    ) -> Result<Page<FailureLogRecord>, StoreError> {
        self.list(
            &sql::LIST_FAILURE_LOGS,
            &sql::COUNT_FAILURE_LOGS,
            query,
            |r: FailureLogRow<i64>| rows::failure_log(r, dec),
        )
        .await
    }

    async fn get_access_log(&self, id: &str) -> Result<Option<AccessLogRecord>, StoreError> {
        self.get(sql::GET_ACCESS_LOG, id, |r: AccessLogRow<i64>| {
            rows::access_log(r, dec)
        })
        .await
    }

    async fn get_failure_log(&self, id: &str) -> Result<Option<FailureLogRecord>, StoreError> {
        self.get(sql::GET_FAILURE_LOG, id, |r: FailureLogRow<i64>| {
            rows::failure_log(r, dec)
        })
        .await
    }

    async fn delete_attempts(&self, ids: &[String]) -> Result<u64, StoreError> {
        self.delete_ids(sql::DELETE_ATTEMPT, ids).await
    }

    async fn delete_access_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
        self.delete_ids(sql::DELETE_ACCESS_LOG, ids).await
    }

    async fn delete_failure_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
        self.delete_ids(sql::DELETE_FAILURE_LOG, ids).await
    }

    crate::blocks::store_block_methods!();
}
