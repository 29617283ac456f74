//! Fresh, empty, migrated and isolated stores for tests (feature `testing`).
//!
//! - SQLite: a new database file in a temporary directory that lives as long
//!   as the store.
//! - PostgreSQL: a new schema `axes_t_<time>_<random>` in the database of
//!   `AXES_TEST_POSTGRES_URL`, used through `search_path`.
//! - MySQL/MariaDB: a new database `axes_t_<time>_<random>` on the server of
//!   `AXES_TEST_MYSQL_URL`.
//!
//! Without the environment variable a helper prints `SKIPPED: …` and returns
//! `None` — unless `CI` is set, where it panics, so that a misconfigured CI
//! cannot pass by skipping. Schemas and databases older than an hour left by
//! earlier runs are dropped.
//!
//! Failures to set up a store panic: these are test helpers.

#![allow(clippy::panic)]

use std::sync::Arc;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use std::time::{SystemTime, UNIX_EPOCH};

use axes_core::store::Store;

#[cfg(any(feature = "postgres", feature = "mysql"))]
use crate::ConnectOptions;

/// The environment variable naming the test PostgreSQL database.
pub const POSTGRES_URL_VAR: &str = "AXES_TEST_POSTGRES_URL";
/// The environment variable naming the test MySQL/MariaDB database.
pub const MYSQL_URL_VAR: &str = "AXES_TEST_MYSQL_URL";

/// Prefix of the schemas and databases created here.
#[cfg(any(feature = "postgres", feature = "mysql"))]
const PREFIX: &str = "axes_t_";

/// Scratch schemas/databases older than this are dropped by later runs.
#[cfg(any(feature = "postgres", feature = "mysql"))]
const STALE_AFTER_SECS: u64 = 3600;

/// The URL in `var`, or `None` after a loud skip notice (a panic under CI).
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn env_url(var: &str, what: &str, example: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{var} is not set, but CI is: the {what} store tests must run in CI");
            }
            eprintln!(
                "SKIPPED: {var} not set — {what} store tests are not run \
                 (e.g. {var}={example}; with CI set this is an error)"
            );
            None
        }
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A fresh scratch name: `axes_t_<unix seconds>_<12 random hex digits>`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn scratch_name() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};

    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!(
        "{PREFIX}{}_{:012x}",
        unix_secs(),
        h.finish() & 0xffff_ffff_ffff
    )
}

/// Whether `name` is one of ours and older than [`STALE_AFTER_SECS`]. Also
/// vouches that it is a plain identifier, safe to splice into DDL.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn is_stale_scratch(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(PREFIX) else {
        return false;
    };
    let plain = rest
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase() || c == '_');
    let created = rest.split('_').next().and_then(|s| s.parse::<u64>().ok());
    plain && created.is_some_and(|t| unix_secs().saturating_sub(t) > STALE_AFTER_SECS)
}

/// Pool settings for tests: enough connections for the concurrency tests.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn test_options() -> ConnectOptions {
    ConnectOptions {
        max_connections: 16,
        ..ConnectOptions::default()
    }
}

/// A fresh SQLite store in a temporary directory.
#[cfg(feature = "sqlite")]
pub async fn fresh_sqlite() -> Option<Arc<dyn Store>> {
    Some(Arc::new(fresh_sqlite_store().await))
}

/// [`fresh_sqlite`], as the concrete type.
#[cfg(feature = "sqlite")]
pub async fn fresh_sqlite_store() -> crate::SqliteStore {
    use axes_core::store::Store as _;
    use sqlx::sqlite::SqliteConnectOptions;

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
    let connect = SqliteConnectOptions::new().filename(dir.path().join("axes.db"));
    let store = crate::SqliteStore::open(connect, &crate::ConnectOptions::default())
        .await
        .unwrap_or_else(|e| panic!("cannot open a SQLite test store: {e}"))
        .keep_alive(dir);
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("cannot migrate a SQLite test store: {e}"));
    store
}

/// A fresh in-memory SQLite store: reservations go through the sqlx
/// transaction path (no writer thread, which serves database files only), so
/// the conformance suite covers both SQLite reservation paths.
#[cfg(feature = "sqlite")]
pub async fn fresh_sqlite_in_memory() -> Option<Arc<dyn Store>> {
    let store = crate::connect("sqlite::memory:")
        .await
        .unwrap_or_else(|e| panic!("cannot open an in-memory SQLite store: {e}"));
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("cannot migrate an in-memory SQLite store: {e}"));
    Some(store)
}

/// A fresh PostgreSQL store in its own schema, or `None` when
/// `AXES_TEST_POSTGRES_URL` is not set.
#[cfg(feature = "postgres")]
pub async fn fresh_postgres() -> Option<Arc<dyn Store>> {
    Some(Arc::new(fresh_postgres_store().await?))
}

/// [`fresh_postgres`], as the concrete type.
#[cfg(feature = "postgres")]
pub async fn fresh_postgres_store() -> Option<crate::PostgresStore> {
    use std::str::FromStr;

    use axes_core::store::Store as _;
    use sqlx::postgres::{PgConnectOptions, PgConnection};
    use sqlx::{AssertSqlSafe, Connection, Executor};

    let url = env_url(
        POSTGRES_URL_VAR,
        "PostgreSQL",
        "postgres://postgres@127.0.0.1:5432/test",
    )?;
    let base = PgConnectOptions::from_str(&url)
        .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR} is not a PostgreSQL URL: {e}"));
    let mut admin = PgConnection::connect_with(&base)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VAR}: {e}"));

    let stale: Vec<(String,)> = sqlx::query_as(
        "SELECT nspname::TEXT FROM pg_namespace WHERE nspname LIKE 'axes!_t!_%' ESCAPE '!'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap_or_default();
    for (name,) in stale.into_iter().filter(|(n,)| is_stale_scratch(n)) {
        // Best effort: a concurrent run may be dropping it too.
        let _ = admin
            .execute(AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS \"{name}\" CASCADE"
            )))
            .await;
    }

    let schema = scratch_name();
    admin
        .execute(AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .await
        .unwrap_or_else(|e| panic!("cannot create schema {schema}: {e}"));
    let _ = admin.close().await;

    let connect = base.options([("search_path", schema.as_str())]);
    let store = crate::PostgresStore::open(connect, &test_options())
        .await
        .unwrap_or_else(|e| panic!("cannot open a PostgreSQL test store: {e}"));
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("cannot migrate a PostgreSQL test store: {e}"));
    Some(store)
}

/// A fresh MySQL/MariaDB store in its own database, or `None` when
/// `AXES_TEST_MYSQL_URL` is not set.
#[cfg(feature = "mysql")]
pub async fn fresh_mysql() -> Option<Arc<dyn Store>> {
    Some(Arc::new(fresh_mysql_store().await?))
}

/// [`fresh_mysql`], as the concrete type.
#[cfg(feature = "mysql")]
pub async fn fresh_mysql_store() -> Option<crate::MySqlStore> {
    use std::str::FromStr;

    use axes_core::store::Store as _;
    use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
    use sqlx::{AssertSqlSafe, Connection, Executor};

    let url = env_url(MYSQL_URL_VAR, "MySQL", "mysql://root@127.0.0.1:3306/test")?;
    let url = match url.split_once(':') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mariadb") => format!("mysql:{rest}"),
        _ => url,
    };
    let base = MySqlConnectOptions::from_str(&url)
        .unwrap_or_else(|e| panic!("{MYSQL_URL_VAR} is not a MySQL URL: {e}"));
    let mut admin = MySqlConnection::connect_with(&base)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {MYSQL_URL_VAR}: {e}"));

    let stale: Vec<(String,)> = sqlx::query_as(
        "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
         WHERE schema_name LIKE 'axes!_t!_%' ESCAPE '!'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap_or_default();
    for (name,) in stale.into_iter().filter(|(n,)| is_stale_scratch(n)) {
        let _ = admin
            .execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
            .await;
    }

    let database = scratch_name();
    admin
        .execute(AssertSqlSafe(format!(
            "CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        )))
        .await
        .unwrap_or_else(|e| panic!("cannot create database {database}: {e}"));
    let _ = admin.close().await;

    let store = crate::MySqlStore::open(base.database(&database), &test_options())
        .await
        .unwrap_or_else(|e| panic!("cannot open a MySQL test store: {e}"));
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("cannot migrate a MySQL test store: {e}"));
    Some(store)
}

/// The statement that counts the failures of `alt` on `backend` (binds:
/// the threshold, the scope, then the alternative's values in the order
/// ip_address, username, user_agent), for query-plan tests. `None` when the backend is
/// not compiled in.
pub fn count_statement(
    backend: crate::Backend,
    alt: &axes_core::parameters::Alternative,
) -> Option<&'static str> {
    let _ = alt;
    match backend {
        #[cfg(feature = "sqlite")]
        crate::Backend::Sqlite => Some(crate::sqlite::count_statement(alt)),
        #[cfg(feature = "postgres")]
        crate::Backend::Postgres => Some(crate::postgres::count_statement(alt)),
        #[cfg(feature = "mysql")]
        crate::Backend::MySql => Some(crate::mysql::count_statement(alt)),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// The statement that looks up the blocks of an attempt's candidate
/// targets on `backend` (binds: seven target keys) — of both kinds, or
/// only manual ones when `manual_only` — for query-plan tests. `None` when
/// the backend is not compiled in.
pub fn block_lookup_statement(backend: crate::Backend, manual_only: bool) -> Option<&'static str> {
    let i = usize::from(manual_only);
    let _ = i;
    match backend {
        #[cfg(feature = "sqlite")]
        crate::Backend::Sqlite => Some(crate::sqlite::blocks::LOOKUP_BLOCKS[i]),
        #[cfg(feature = "postgres")]
        crate::Backend::Postgres => Some(crate::postgres::blocks::LOOKUP_BLOCKS[i]),
        #[cfg(feature = "mysql")]
        crate::Backend::MySql => Some(crate::mysql::blocks::LOOKUP_BLOCKS[i]),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// The statements of `[reset, listing of attempts (newest first), its
/// count]` on `backend` for a filter on `ip_address` and `username` (each
/// given or not), for query-plan tests. They bind as the store does:
/// PostgreSQL `$1` address, `$2` username, then (listing) search pattern,
/// since, until, limit, offset; SQLite the same as `?1`…`?7`; MySQL each
/// value twice (pattern four times), then limit and offset. `None` when
/// the backend is not compiled in.
pub fn admin_statements(
    backend: crate::Backend,
    ip_address: Option<&str>,
    username: Option<&str>,
) -> Option<[&'static str; 3]> {
    let _ = (ip_address, username);
    match backend {
        #[cfg(feature = "sqlite")]
        crate::Backend::Sqlite => Some(crate::sqlite::admin_statements(ip_address, username)),
        #[cfg(feature = "postgres")]
        crate::Backend::Postgres => Some(crate::postgres::admin_statements()),
        #[cfg(feature = "mysql")]
        crate::Backend::MySql => Some(crate::mysql::admin_statements()),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

#[cfg(all(test, any(feature = "postgres", feature = "mysql")))]
mod tests {
    use super::*;

    #[test]
    fn scratch_names_are_fresh_not_stale() {
        let a = scratch_name();
        let b = scratch_name();
        assert_ne!(a, b);
        assert!(a.len() <= 64);
        assert!(!is_stale_scratch(&a));
        assert!(is_stale_scratch("axes_t_1000_abcdef012345"));
        assert!(!is_stale_scratch("axes_t_1000_x\"; DROP"));
        assert!(!is_stale_scratch("other_1000"));
    }
}
