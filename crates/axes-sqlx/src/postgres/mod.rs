//! The PostgreSQL store.

pub(crate) mod blocks;
mod sql;

use std::str::FromStr;
use std::sync::LazyLock;

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
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, PgConnection};
use tokio::sync::OnceCell;

use crate::common::{
    self, ACCEPT_LEN, DATA_LEN, KeyCols, PATH_LEN, SESSION_HASH_LEN, clip, like_pattern, lock_keys,
    micros, paging, parse_id, parse_ids, threshold,
};
use crate::error::{map_migrate, map_sqlx};
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

static MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| migrate::migrator(migrate::POSTGRES));

/// A store in a PostgreSQL database (`postgres://user@host/db`), shared by
/// any number of servers.
///
/// [`Store::reserve`] runs one transaction that takes a transaction-scoped
/// advisory lock per lockout alternative (a hash of the alternative's values,
/// taken in sorted order), counts, and upserts — so the count is exact across
/// servers.
#[derive(Debug)]
pub struct PostgresStore {
    pool: PgPool,
    /// Database and schema, hashed into the advisory lock keys.
    namespace: OnceCell<String>,
}

fn ok(t: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
    Ok(t)
}

impl PostgresStore {
    /// Connects with default options.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &ConnectOptions::default()).await
    }

    /// Connects to `url` (`postgres://…` or `postgresql://…`).
    pub async fn connect_with(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(url).map_err(map_sqlx)?;
        Self::open(connect, options).await
    }

    /// Connects with explicit connection options (e.g. a `search_path`).
    pub async fn open(
        connect: PgConnectOptions,
        options: &ConnectOptions,
    ) -> Result<Self, StoreError> {
        let lock_timeout = format!("{}ms", options.lock_timeout.as_millis().max(1));
        let connect = connect.options([("lock_timeout", lock_timeout.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout);
        let pool = if options.lazy {
            pool.connect_lazy_with(connect)
        } else {
            pool.connect_with(connect).await.map_err(map_sqlx)?
        };
        Ok(Self::from_pool(pool))
    }

    /// Wraps an existing pool.
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            namespace: OnceCell::new(),
        }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &PgPool {
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

    async fn execute(&self, q: PgQuery<'_>) -> Result<u64, StoreError> {
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
        self.execute(sqlx::query(sql).bind(ids)).await
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
        R: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
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
        R: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
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

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

common::count_alternatives_fn!(PgConnection, Option<DateTime<Utc>>, DateTime<Utc>, ok);

common::delete_matching_fn!(PgConnection);

common::refresh_locking_fn!(
    PgConnection,
    Option<DateTime<Utc>>,
    |q: sqlx::query::Query<'static, sqlx::Postgres, _>, id: i64, now: DateTime<Utc>| q
        .bind(id)
        .bind(now)
);

#[async_trait]
impl Store for PostgresStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(map_migrate)
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
        let locks = lock_keys(self.namespace().await?, &key, r.parameters);

        // Closed rather than reused if anything below fails or is cancelled.
        let mut conn = CloseGuard::new(self.pool.acquire().await.map_err(map_sqlx)?);
        let mut tx = conn.begin().await.map_err(map_sqlx)?;
        for lock in locks {
            sqlx::query(sql::LOCK)
                .bind(lock.cast_signed())
                .execute(&mut *tx)
                .await
                .map_err(map_sqlx)?;
        }
        if let Some(block) = blocks::refusing_block(&mut tx, r.blocks, r.manual_only, r.now).await?
        {
            tx.commit().await.map_err(map_sqlx)?;
            conn.release();
            return Ok(crate::blocks::blocked(block));
        }
        let counts = count_alternatives(&mut tx, &key, r.parameters, threshold).await?;
        let admitted = common::admits(r.limit, &counts);
        if !admitted && !r.count_when_locked {
            tx.commit().await.map_err(map_sqlx)?;
            conn.release();
            return Ok(common::refused(counts));
        }
        let before: Option<DateTime<Utc>> = sqlx::query_scalar(sql::OWN_TIME)
            .bind(key.ip)
            .bind(key.username)
            .bind(key.user_agent)
            .bind(key.scope)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        if !admitted && before.is_none() {
            // Refused, with no record of its own: refresh the records that
            // lock it, never insert one (a locked client cannot grow the
            // table).
            let rows = refresh_locking(&mut tx, &key, r, &counts, threshold, now).await?;
            tx.commit().await.map_err(map_sqlx)?;
            conn.release();
            return Ok(ReserveOutcome {
                admitted,
                counted: !rows.is_empty(),
                failures: common::refreshed(counts, r.parameters, &key, &rows, now),
                token: None,
            });
        }
        let row: common::Upserted<DateTime<Utc>> = sqlx::query_as(sql::UPSERT)
            .bind(key.ip)
            .bind(key.username)
            .bind(key.user_agent)
            .bind(clip(&r.details.http_accept, ACCEPT_LEN))
            .bind(clip(&r.details.path, PATH_LEN))
            .bind(clip(&r.details.get_data, DATA_LEN))
            .bind(clip(&r.details.post_data, DATA_LEN))
            .bind(now)
            .bind(threshold)
            .bind(key.scope)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        let token = common::token(row, before)?;
        tx.commit().await.map_err(map_sqlx)?;
        conn.release();
        Ok(ReserveOutcome {
            admitted,
            counted: true,
            failures: common::plus_one(counts, now),
            token: Some(token),
        })
    }

    async fn release(&self, key: &RecordKey, token: &ReservationToken) -> Result<(), StoreError> {
        let Some((id, generation, serial)) = common::token_columns(token) else {
            return Ok(());
        };
        let key = KeyCols::of(key)?;
        let mut tx = self.pool.begin().await.map_err(map_sqlx)?;
        sqlx::query(sql::GIVE_BACK)
            .bind(id)
            .bind(generation)
            .bind(key.ip)
            .bind(key.username)
            .bind(key.user_agent)
            .bind(token.previous_time.map(micros))
            .bind(serial)
            .bind(micros(token.reserved_at))
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
        self.delete_ids(sql::DELETE_ATTEMPTS, ids).await
    }

    async fn delete_access_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
        self.delete_ids(sql::DELETE_ACCESS_LOGS, ids).await
    }

    async fn delete_failure_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
        self.delete_ids(sql::DELETE_FAILURE_LOGS, ids).await
    }

    crate::blocks::store_block_methods!();
}
