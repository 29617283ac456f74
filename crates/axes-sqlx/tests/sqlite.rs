//! The store scenarios on SQLite, plus SQLite-only durability checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "sqlite")]

mod common;

use axes_core::store::{ListQuery, Store};
use axes_sqlx::testing::fresh_sqlite;

scenarios!(fresh_sqlite);

/// Records survive closing the pool and reopening the same file.
#[tokio::test]
async fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("axes.db").display());
    {
        let store = axes_sqlx::SqliteStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let r = common::R::new(common::key(Some("zoe"), Some("192.0.2.90"), "ua"));
        store.reserve(&r.at(common::t0())).await.unwrap();
        store.reserve(&r.at(common::t0())).await.unwrap();
        store.close().await;
    }
    let store = axes_sqlx::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let page = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].failures, 2);
    assert_eq!(page.items[0].key.username.as_deref(), Some("zoe"));
}

/// The file is created on first use, in WAL mode; migrations are recorded in
/// `_axes_migrations`.
#[tokio::test]
async fn creates_file_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let url = format!("sqlite://{}", path.display());
    let store = axes_sqlx::SqliteStore::connect(&url).await.unwrap();
    assert!(path.exists());
    store.migrate().await.unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _axes_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        n, 4,
        "initial, reservation generation, alternative indexes, blocks"
    );
}

/// A database of the first schema version upgrades: made here by undoing
/// the later migrations of a fresh one, with a record written as the first
/// version wrote it.
#[tokio::test]
async fn upgrades_from_the_first_schema() {
    let store = axes_sqlx::testing::fresh_sqlite_store().await;
    for statement in [
        "DROP TABLE axes_blocks",
        "DELETE FROM _axes_migrations WHERE version = 4",
        "DROP INDEX axes_accessattempt_ip_time",
        "DROP INDEX axes_accessattempt_username_time",
        "DROP INDEX axes_accessattempt_ip_username_time",
        "DROP INDEX axes_accessattempt_ua_time",
        "DROP INDEX axes_accessattempt_ip_ua_time",
        "DROP INDEX axes_accessattempt_username_ua_time",
        "CREATE INDEX axes_accessattempt_ip_address ON axes_accessattempt (ip_address)",
        "CREATE INDEX axes_accessattempt_user_agent ON axes_accessattempt (user_agent)",
        "DELETE FROM _axes_migrations WHERE version = 3",
        "ALTER TABLE axes_accessattempt DROP COLUMN generation",
        "ALTER TABLE axes_accessattempt DROP COLUMN failure_serial",
        "DELETE FROM _axes_migrations WHERE version = 2",
    ] {
        sqlx::query(statement).execute(store.pool()).await.unwrap();
    }
    let old = common::old_record_key();
    sqlx::query(
        "INSERT INTO axes_accessattempt \
         (ip_address, username, user_agent, failures_since_start, attempt_time) \
         VALUES (?1, ?2, ?3, 2, ?4)",
    )
    .bind(old.ip_address.as_deref())
    .bind(old.username.as_deref())
    .bind(&old.user_agent)
    .bind(common::t0().timestamp_micros())
    .execute(store.pool())
    .await
    .unwrap();
    let store: common::S = std::sync::Arc::new(store);
    common::upgraded_record(store).await;
}

/// In-memory databases work (one connection, shared by the pool).
#[tokio::test]
async fn in_memory() {
    let store = axes_sqlx::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    common::concurrent_reserve_is_exact(store).await;
}

#[tokio::test]
async fn unknown_scheme_is_an_error() {
    let err = axes_sqlx::connect("redis://127.0.0.1").await.unwrap_err();
    assert!(err.to_string().contains("unsupported"), "{err}");
}

/// An unreachable store is an outage, not a backend error.
#[tokio::test]
async fn unopenable_file_is_an_outage() {
    let err = axes_sqlx::connect("sqlite:///nonexistent-dir/x/axes.db")
        .await
        .unwrap_err();
    assert!(err.is_outage(), "{err:?}");
}

upgrade_from_schema_three!(async { Some(axes_sqlx::testing::fresh_sqlite_store().await) });
