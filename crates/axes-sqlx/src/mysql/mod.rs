//! The MySQL / MariaDB store.

pub(crate) mod blocks;
mod sql;

use std::str::FromStr;
use std::sync::LazyLock;

use async_trait::async_trait;
use axes_core::error::StoreError;
use axes_core::parameters::LockoutParameters;
use axes_core::store::{
    AccessLogRecord, AlternativeCount, AttemptRecord, FailureLogRecord, FailureQuery, Failures,
    ListQuery, NewAccessLog, NewFailureLog, Order, Page, RecordKey, Reservation, ReservationToken,
    ReserveOutcome, ResetFilter, Store,
};
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{Connection, MySqlConnection};
use tokio::sync::OnceCell;

use crate::common::{
    self, ACCEPT_LEN, DATA_LEN, KeyCols, PATH_LEN, SESSION_HASH_LEN, clip, like_pattern, lock_keys,
    micros, paging, parse_id, parse_ids, threshold,
};
use crate::error::{Error, map_migrate, map_sqlx};
use crate::guard::CloseGuard;
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
pub(crate) fn admin_statements() -> [&'static str; 3] {
    [sql::RESET, sql::LIST_ATTEMPTS[0], sql::COUNT_ATTEMPTS]
}

static MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| migrate::migrator(migrate::MYSQL));

/// A store in a MySQL or MariaDB database (`mysql://user@host/db`, or
/// `mariadb://…`), shared by any number of servers. Needs MySQL 5.7+ or
/// MariaDB 10.5+ (several named locks per session).
///
/// [`Store::reserve`] takes one named lock (`GET_LOCK`) per lockout
/// alternative (a hash of the alternative's values, taken in sorted order),
/// counts, upserts, and releases the locks — so the count is exact across
/// servers. A connection that fails or is cancelled while holding locks is
/// closed, which releases them.
#[derive(Debug)]
pub struct MySqlStore {
    pool: MySqlPool,
    /// The database, hashed into the lock names (named locks are server-wide).
    namespace: OnceCell<String>,
    /// `GET_LOCK` timeout, in whole seconds.
    lock_timeout_secs: i64,
    lock_timeout: std::time::Duration,
}

fn ok(t: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
    Ok(t)
}

impl MySqlStore {
    /// Connects with default options.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &ConnectOptions::default()).await
    }

    /// Connects to `url` (`mysql://…` or `mariadb://…`).
    pub async fn connect_with(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let url = match url.split_once(':') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mariadb") => {
                format!("mysql:{rest}")
            }
            _ => url.to_owned(),
        };
        let connect = MySqlConnectOptions::from_str(&url).map_err(map_sqlx)?;
        Self::open(connect, options).await
    }

    /// Connects with explicit connection options.
    pub async fn open(
        connect: MySqlConnectOptions,
        options: &ConnectOptions,
    ) -> Result<Self, StoreError> {
        let pool = MySqlPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout);
        let pool = if options.lazy {
            pool.connect_lazy_with(connect)
        } else {
            pool.connect_with(connect).await.map_err(map_sqlx)?
        };
        Ok(Self::from_pool(pool, options))
    }

    /// Wraps an existing pool (only `lock_timeout` of `options` applies).
    pub fn from_pool(pool: MySqlPool, options: &ConnectOptions) -> Self {
        let secs = options.lock_timeout.as_secs_f64().ceil().max(1.0);
        Self {
            pool,
            namespace: OnceCell::new(),
            // At most a day: far beyond any sensible timeout, and exact in f64.
            lock_timeout_secs: secs.min(86_400.0) as i64,
            lock_timeout: options.lock_timeout,
        }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// Closes the pool, waiting for its connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn namespace(&self) -> Result<&str, StoreError> {
        self.namespace
            .get_or_try_init(|| async {
                let (ns,): (String,) = sqlx::query_as(sql::NAMESPACE)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(map_sqlx)?;
                Ok::<_, StoreError>(ns)
            })
            .await
            .map(String::as_str)
    }

    async fn execute(&self, q: MyQuery<'_>) -> Result<u64, StoreError> {
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
        let mut tx = self.pool.begin().await.map_err(map_sqlx)?;
        let mut n = 0;
        for id in ids {
            n += sqlx::query(sql)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map_sqlx)?
                .rows_affected();
        }
        tx.commit().await.map_err(map_sqlx)?;
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
        R: for<'r> sqlx::FromRow<'r, MySqlRow> + Send + Unpin,
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
        sql: &'static [&'static str; 2],
        count_sql: &'static str,
        query: &ListQuery,
        convert: impl Fn(R) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError>
    where
        R: for<'r> sqlx::FromRow<'r, MySqlRow> + Send + Unpin,
    {
        let pattern = query.search.as_deref().map(like_pattern);
        let since = query.since.map(micros);
        let until = query.until.map(micros);
        let (limit, offset) = paging(query.bounded_limit(), query.offset);
        let sql = match query.order {
            Order::NewestFirst => sql[0],
            Order::OldestFirst => sql[1],
        };
        let items: Vec<R> = sqlx::query_as(sql)
            .bind(query.ip_address.as_deref())
            .bind(query.ip_address.as_deref())
            .bind(query.username.as_deref())
            .bind(query.username.as_deref())
            .bind(pattern.as_deref())
            .bind(pattern.as_deref())
            .bind(pattern.as_deref())
            .bind(pattern.as_deref())
            .bind(since)
            .bind(since)
            .bind(until)
            .bind(until)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .map_err(map_sqlx)?;
        let (total,): (i64,) = sqlx::query_as(count_sql)
            .bind(query.ip_address.as_deref())
            .bind(query.ip_address.as_deref())
            .bind(query.username.as_deref())
            .bind(query.username.as_deref())
            .bind(pattern.as_deref())
            .bind(pattern.as_deref())
            .bind(pattern.as_deref())
            .bind(pattern.as_deref())
            .bind(since)
            .bind(since)
            .bind(until)
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

type MyQuery<'q> = sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments>;

common::count_alternatives_fn!(MySqlConnection, Option<DateTime<Utc>>, DateTime<Utc>, ok);

common::delete_matching_fn!(MySqlConnection);

/// The name of the named lock of a lock key (server-wide; 21 characters).
fn lock_name(key: u64) -> String {
    format!("axes:{key:016x}")
}

impl MySqlStore {
    /// Takes the named lock `name` for this session, waiting up to the lock
    /// timeout.
    async fn take_lock(&self, conn: &mut MySqlConnection, name: &str) -> Result<(), StoreError> {
        let taken: Option<i64> = sqlx::query_scalar(sql::GET_LOCK)
            .bind(name)
            .bind(self.lock_timeout_secs)
            .fetch_one(&mut *conn)
            .await
            .map_err(map_sqlx)?;
        if taken == Some(1) {
            Ok(())
        } else {
            Err(Error::LockTimeout(self.lock_timeout).into())
        }
    }

    /// Releases every named lock of this session.
    async fn release_locks(&self, conn: &mut MySqlConnection) -> Result<(), StoreError> {
        let _released: Option<i64> = sqlx::query_scalar(sql::RELEASE_LOCKS)
            .fetch_one(&mut *conn)
            .await
            .map_err(map_sqlx)?;
        Ok(())
    }

    /// Counts the failure of an admitted attempt, or of a refused one under
    /// `count_when_locked`, in one transaction, with the named locks held.
    /// The record before and after is read for the token. A refused attempt
    /// with no record of its own refreshes the records that lock it and
    /// inserts none (a locked client cannot grow the table).
    #[allow(clippy::too_many_arguments)]
    async fn count_failure(
        &self,
        conn: &mut MySqlConnection,
        key: &KeyCols<'_>,
        r: &Reservation<'_>,
        counts: Vec<AlternativeCount>,
        admitted: bool,
        threshold: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<ReserveOutcome, StoreError> {
        let mut tx = conn.begin().await.map_err(map_sqlx)?;
        let before: Option<DateTime<Utc>> = sqlx::query_scalar(sql::OWN_TIME)
            .bind(key.ip)
            .bind(key.username)
            .bind(key.user_agent)
            .bind(key.scope)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        if !admitted && before.is_none() {
            let rows = refresh_locking(&mut tx, key, r, &counts, threshold, now).await?;
            tx.commit().await.map_err(map_sqlx)?;
            return Ok(ReserveOutcome {
                admitted,
                counted: !rows.is_empty(),
                failures: common::refreshed(counts, r.parameters, key, &rows, now),
                token: None,
            });
        }
        sqlx::query(sql::UPSERT)
            .bind(key.ip)
            .bind(key.username)
            .bind(key.user_agent)
            .bind(clip(&r.details.http_accept, ACCEPT_LEN))
            .bind(clip(&r.details.path, PATH_LEN))
            .bind(clip(&r.details.get_data, DATA_LEN))
            .bind(clip(&r.details.post_data, DATA_LEN))
            .bind(now)
            .bind(key.scope)
            .bind(threshold)
            .bind(threshold)
            .bind(threshold)
            .bind(threshold)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        let row: common::Upserted<DateTime<Utc>> = sqlx::query_as(sql::UPSERTED)
            .bind(key.ip)
            .bind(key.username)
            .bind(key.user_agent)
            .bind(key.scope)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)?;
        Ok(ReserveOutcome {
            admitted,
            counted: true,
            failures: common::plus_one(counts, now),
            token: Some(common::token(row, before)?),
        })
    }
}

common::refresh_locking_fn!(
    MySqlConnection,
    Option<DateTime<Utc>>,
    |q: sqlx::query::Query<'static, sqlx::MySql, _>, id: i64, now: DateTime<Utc>| q
        .bind(now)
        .bind(id)
);

#[async_trait]
impl Store for MySqlStore {
    fn kind(&self) -> &'static str {
        "mysql"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        // sqlx's own migration lock is `GET_LOCK(name, -1)`, which MariaDB
        // answers with NULL at once: processes migrating together would race.
        // Take a lock of our own, with a real timeout, on the connection that
        // runs the migrations.
        let mut conn = self.pool.acquire().await.map_err(map_sqlx)?;
        let got: Option<i64> =
            sqlx::query_scalar("SELECT GET_LOCK(CONCAT('axes_migrate:', DATABASE()), 60)")
                .fetch_one(&mut *conn)
                .await
                .map_err(map_sqlx)?;
        if got != Some(1) {
            return Err(StoreError::Unavailable(
                "another process held the migration lock for 60 s".into(),
            ));
        }
        // `run_direct` is `run` on a connection we hold (sqlx keeps it public for
        // exactly this).
        let result = MIGRATOR
            .run_direct(None, &mut *conn, false)
            .await
            .map_err(map_migrate);
        let released = sqlx::query("SELECT RELEASE_LOCK(CONCAT('axes_migrate:', DATABASE()))")
            .execute(&mut *conn)
            .await;
        if released.is_err() {
            // Closing the connection frees the lock.
            let _ = conn.detach();
        }
        result
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
        let threshold = threshold(micros(query.now), query.window);
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
        let key = KeyCols::of(r.key)?;
        let now = micros(r.now);
        let threshold = threshold(now, r.window);
        let names: Vec<String> = lock_keys(self.namespace().await?, &key, r.parameters)
            .into_iter()
            .map(lock_name)
            .collect();

        // Closed rather than reused if anything below fails or is cancelled:
        // closing the session releases its named locks.
        let mut conn = CloseGuard::new(self.pool.acquire().await.map_err(map_sqlx)?);
        for name in &names {
            self.take_lock(&mut conn, name).await?;
        }
        // The blocks and the counts are read while the locks are held; the
        // failure is written in one transaction that also reads the record
        // before and after (for the token).
        let outcome = match blocks::refusing_block(&mut conn, r.blocks, r.manual_only, r.now)
            .await?
        {
            Some(block) => crate::blocks::blocked(block),
            None => {
                let counts = count_alternatives(&mut conn, &key, r.parameters, threshold).await?;
                let admitted = common::admits(r.limit, &counts);
                if admitted || r.count_when_locked {
                    self.count_failure(&mut conn, &key, r, counts, admitted, threshold, now)
                        .await?
                } else {
                    common::refused(counts)
                }
            }
        };
        self.release_locks(&mut conn).await?;
        conn.release();
        Ok(outcome)
    }

    async fn release(&self, key: &RecordKey, token: &ReservationToken) -> Result<(), StoreError> {
        let Some((id, generation, serial)) = common::token_columns(token) else {
            return Ok(());
        };
        let key = KeyCols::of(key)?;
        let previous = token.previous_time.map(micros);
        let mut tx = self.pool.begin().await.map_err(map_sqlx)?;
        sqlx::query(sql::GIVE_BACK)
            .bind(previous)
            .bind(serial)
            .bind(micros(token.reserved_at))
            .bind(previous)
            .bind(id)
            .bind(generation)
            .bind(key.ip)
            .bind(key.username)
            .bind(key.user_agent)
            .bind(key.scope)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        sqlx::query(sql::DELETE_EMPTY)
            .bind(id)
            .bind(generation)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)
    }

    async fn clear_client(
        &self,
        key: &RecordKey,
        parameters: &LockoutParameters,
    ) -> Result<u64, StoreError> {
        let key = KeyCols::of(key)?;
        let mut tx = self.pool.begin().await.map_err(map_sqlx)?;
        let n = delete_matching(&mut tx, &key, parameters).await?;
        tx.commit().await.map_err(map_sqlx)?;
        Ok(n)
    }

    async fn reset(&self, filter: &ResetFilter) -> Result<u64, StoreError> {
        self.execute(
            sqlx::query(sql::RESET)
                .bind(filter.ip_address.as_deref())
                .bind(filter.ip_address.as_deref())
                .bind(filter.username.as_deref())
                .bind(filter.username.as_deref()),
        )
        .await
    }

    async fn purge_attempts(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.execute(sqlx::query(sql::PURGE).bind(micros(before)))
            .await
    }

    async fn list_attempts(&self, query: &ListQuery) -> Result<Page<AttemptRecord>, StoreError> {
        self.list(
            &sql::LIST_ATTEMPTS,
            sql::COUNT_ATTEMPTS,
            query,
            |r: AttemptRow<DateTime<Utc>>| rows::attempt(r, ok),
        )
        .await
    }

    async fn get_attempt(&self, id: &str) -> Result<Option<AttemptRecord>, StoreError> {
        self.get(sql::GET_ATTEMPT, id, |r: AttemptRow<DateTime<Utc>>| {
            rows::attempt(r, ok)
        })
        .await
    }

    async fn insert_access_log(&self, entry: &NewAccessLog) -> Result<(), StoreError> {
        let key = KeyCols::unscoped(&entry.key);
        self.execute(
            sqlx::query(sql::INSERT_ACCESS_LOG)
                .bind(key.ip)
                .bind(key.username)
                .bind(key.user_agent)
                .bind(clip(&entry.http_accept, ACCEPT_LEN))
                .bind(clip(&entry.path, PATH_LEN))
                .bind(micros(entry.attempt_time))
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
        self.execute(
            sqlx::query(sql::CLOSE_ACCESS_LOG)
                .bind(micros(logout_time))
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
        let key = KeyCols::unscoped(&entry.key);
        let mut tx = self.pool.begin().await.map_err(map_sqlx)?;
        sqlx::query(sql::INSERT_FAILURE_LOG)
            .bind(key.ip)
            .bind(key.username)
            .bind(key.user_agent)
            .bind(clip(&entry.http_accept, ACCEPT_LEN))
            .bind(clip(&entry.path, PATH_LEN))
            .bind(micros(entry.attempt_time))
            .bind(entry.locked_out)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        let cutoff: Option<(i64,)> = sqlx::query_as(sql::FAILURE_LOG_CUTOFF)
            .bind(key.username)
            .bind(i64::from(per_user_limit))
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        if let Some((cutoff,)) = cutoff {
            sqlx::query(sql::FAILURE_LOG_TRIM)
                .bind(key.username)
                .bind(cutoff)
                .execute(&mut *tx)
                .await
                .map_err(map_sqlx)?;
        }
        tx.commit().await.map_err(map_sqlx)
    }

    async fn reset_access_logs(&self, before: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        self.execute(match before {
            Some(t) => sqlx::query(sql::RESET_ACCESS_LOGS[0]).bind(micros(t)),
            None => sqlx::query(sql::RESET_ACCESS_LOGS[1]),
        })
        .await
    }

    async fn reset_failure_logs(&self, before: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        self.execute(match before {
            Some(t) => sqlx::query(sql::RESET_FAILURE_LOGS[0]).bind(micros(t)),
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
            sql::COUNT_ACCESS_LOGS,
            query,
            |r: AccessLogRow<DateTime<Utc>>| rows::access_log(r, ok),
        )
        .await
    }

    async fn list_failure_logs(
        &self,
        query: &ListQuery,
    ) -> Result<Page<FailureLogRecord>, StoreError> {
        self.list(
            &sql::LIST_FAILURE_LOGS,
            sql::COUNT_FAILURE_LOGS,
            query,
            |r: FailureLogRow<DateTime<Utc>>| rows::failure_log(r, ok),
        )
        .await
    }

    async fn get_access_log(&self, id: &str) -> Result<Option<AccessLogRecord>, StoreError> {
        self.get(sql::GET_ACCESS_LOG, id, |r: AccessLogRow<DateTime<Utc>>| {
            rows::access_log(r, ok)
        })
        .await
    }

    async fn get_failure_log(&self, id: &str) -> Result<Option<FailureLogRecord>, StoreError> {
        self.get(
            sql::GET_FAILURE_LOG,
            id,
            |r: FailureLogRow<DateTime<Utc>>| rows::failure_log(r, ok),
        )
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
