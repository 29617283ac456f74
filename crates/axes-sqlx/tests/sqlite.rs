//! The store scenarios on SQLite, plus SQLite-only durability checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "sqlite")]

mod common;

use axes_core::store::{ListQuery, Store};
use axes_sqlx::testing::fresh_sqlite;

scenarios!(fresh_sqlite);

/// The statements that take a fresh database back to schema version 4 (no
/// scopes, migration 0005): the table made again as version 4 had it, with
/// its rows and id sequence.
const UNDO_SCOPES: [&str; 14] = [
    "CREATE TABLE axes_accessattempt_old (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username VARCHAR(255) NOT NULL DEFAULT '',
        ip_address VARCHAR(64) NOT NULL DEFAULT '',
        user_agent VARCHAR(255) NOT NULL DEFAULT '',
        http_accept VARCHAR(1025) NOT NULL DEFAULT '',
        path_info VARCHAR(255) NOT NULL DEFAULT '',
        get_data VARCHAR(1024) NOT NULL DEFAULT '',
        post_data VARCHAR(1024) NOT NULL DEFAULT '',
        failures_since_start INTEGER NOT NULL DEFAULT 0 CHECK (failures_since_start >= 0),
        attempt_time INTEGER NOT NULL,
        generation INTEGER NOT NULL DEFAULT 0 CHECK (generation >= 0),
        failure_serial INTEGER NOT NULL DEFAULT 0 CHECK (failure_serial >= 0),
        CONSTRAINT axes_accessattempt_key UNIQUE (username, ip_address, user_agent)
    )",
    "INSERT INTO axes_accessattempt_old SELECT id, username, ip_address, user_agent, http_accept, \
     path_info, get_data, post_data, failures_since_start, attempt_time, generation, failure_serial \
     FROM axes_accessattempt",
    "UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'axes_accessattempt') \
     WHERE name = 'axes_accessattempt_old'",
    "DROP TABLE axes_accessattempt",
    "ALTER TABLE axes_accessattempt_old RENAME TO axes_accessattempt",
    "CREATE INDEX axes_accessattempt_attempt_time ON axes_accessattempt (attempt_time)",
    "CREATE INDEX axes_accessattempt_ip_time ON axes_accessattempt (ip_address, attempt_time, failures_since_start)",
    "CREATE INDEX axes_accessattempt_username_time ON axes_accessattempt (username, attempt_time, failures_since_start)",
    "CREATE INDEX axes_accessattempt_ip_username_time ON axes_accessattempt (ip_address, username, attempt_time, failures_since_start)",
    "CREATE INDEX axes_accessattempt_ua_time ON axes_accessattempt (user_agent, attempt_time, failures_since_start)",
    "CREATE INDEX axes_accessattempt_ip_ua_time ON axes_accessattempt (ip_address, user_agent, attempt_time, failures_since_start)",
    "CREATE INDEX axes_accessattempt_username_ua_time ON axes_accessattempt (username, user_agent, attempt_time, failures_since_start)",
    "DELETE FROM _axes_migrations WHERE version = 5",
    // Migration 0006 only dropped indexes the table above has again.
    "DELETE FROM _axes_migrations WHERE version = 6",
];

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
        n, 6,
        "initial, reservation generation, alternative indexes, blocks, scopes, indexes on demand"
    );
}

/// A database of the first schema version upgrades: made here by undoing
/// the later migrations of a fresh one, with a record written as the first
/// version wrote it.
#[tokio::test]
async fn upgrades_from_the_first_schema() {
    let store = axes_sqlx::testing::fresh_sqlite_store().await;
    undo!(
        store.pool(),
        UNDO_SCOPES.into_iter().chain([
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
        ])
    );
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

upgrade_from_schema_three!(
    async { Some(axes_sqlx::testing::fresh_sqlite_store().await) },
    UNDO_SCOPES
);

upgrade_from_schema_four!(
    async { Some(axes_sqlx::testing::fresh_sqlite_store().await) },
    UNDO_SCOPES
);

/// A purge larger than the writer's slice removes every expired record
/// (slice after slice) and nothing live; logs written through the writer
/// are read back by the pool.
#[tokio::test]
async fn purge_in_slices_removes_everything_expired() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("axes.db").display());
    let store = axes_sqlx::SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let old = common::t0();
    let new = old + chrono::Duration::hours(2);
    let n = 4_500;
    for i in 0..n {
        let ip = format!("10.0.{}.{}", i / 256, i % 256);
        let r = common::R::new(common::key(Some("u"), Some(&ip), "ua"));
        store.reserve(&r.at(old)).await.unwrap();
    }
    let live = common::R::new(common::key(Some("live"), Some("192.0.2.1"), "ua"));
    store.reserve(&live.at(new)).await.unwrap();
    let removed = store
        .purge_attempts(old + chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(removed, n);
    let left = store.list_attempts(&ListQuery::default()).await.unwrap();
    assert_eq!(left.total, 1);
    assert_eq!(left.items[0].key.username.as_deref(), Some("live"));
}

/// While another connection holds the write lock, a reservation waits for
/// it (the leader never waits: its group goes to the writer thread, which
/// does) and is counted once the lock is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_write_lock_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = common::file_store(&dir, std::time::Duration::from_secs(10)).await;
    let store = std::sync::Arc::new(store);
    let (_other, mut holder) = common::hold_write_lock(&url).await;
    let r = common::R::new(common::key(Some("u"), Some("192.0.2.1"), "ua"));
    let waiting = tokio::spawn({
        let store = store.clone();
        async move {
            let r = common::R::new(common::key(Some("u"), Some("192.0.2.1"), "ua"));
            store.reserve(&r.at(common::t0())).await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "reserved through a held write lock");
    sqlx::query("COMMIT").execute(&mut *holder).await.unwrap();
    let out = waiting.await.unwrap().unwrap();
    assert!(out.admitted && out.counted);
    // And the leader's own connection writes again afterwards.
    let again = store.reserve(&r.at(common::t0())).await.unwrap();
    assert_eq!(again.failures.per_alternative[0].failures, 2);
}

/// A write lock held past the busy timeout: the reservation is refused as
/// an outage (never admitted uncounted), and the store works again once
/// the lock is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_past_the_busy_timeout_is_an_outage() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = common::file_store(&dir, std::time::Duration::from_millis(200)).await;
    let (_other, mut holder) = common::hold_write_lock(&url).await;
    let r = common::R::new(common::key(Some("u"), Some("192.0.2.1"), "ua"));
    let refused = store.reserve(&r.at(common::t0())).await;
    assert!(
        matches!(refused, Err(axes_core::error::StoreError::Unavailable(_))),
        "{refused:?}"
    );
    sqlx::query("COMMIT").execute(&mut *holder).await.unwrap();
    let out = store.reserve(&r.at(common::t0())).await.unwrap();
    assert_eq!(out.failures.per_alternative[0].failures, 1);
}

/// Submitters dropped at any point (a client that hangs up) never leave
/// the writer without a leader: reservations made afterwards are answered,
/// and every answered reservation was counted exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dropped_submitters_never_stall_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::file_store(&dir, std::time::Duration::from_secs(10)).await;
    let store = std::sync::Arc::new(store);
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut tasks = Vec::new();
    for i in 0..400u64 {
        let store = store.clone();
        let answered = answered.clone();
        tasks.push(tokio::spawn(async move {
            let mut r = common::R::new(common::key(Some("u"), Some("192.0.2.1"), "ua"));
            r.limit = None;
            let reservation = r.at(common::t0());
            let reserve = store.reserve(&reservation);
            let patience = std::time::Duration::from_micros(i * 37 % 900);
            if let Ok(out) = tokio::time::timeout(patience, reserve).await {
                out.unwrap();
                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut r = common::R::new(common::key(Some("u"), Some("192.0.2.1"), "ua"));
    r.limit = None;
    let last = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        store.reserve(&r.at(common::t0())),
    )
    .await
    .expect("the writer stalled")
    .unwrap();
    // Dropped submitters' jobs may or may not have run; answered ones did.
    let counted = last.failures.per_alternative[0].failures - 1;
    let answered = answered.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        counted >= answered,
        "{counted} counted, {answered} answered"
    );
    assert!(counted <= 400);
}
