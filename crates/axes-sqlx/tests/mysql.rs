//! The store scenarios on MySQL or MariaDB (`AXES_TEST_MYSQL_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "mysql")]

mod common;

use axes_sqlx::testing::fresh_mysql;

scenarios!(fresh_mysql);

/// The statements that take a fresh database back to schema version 4 (no
/// scopes, migration 0005).
const UNDO_SCOPES: [&str; 2] = [
    "ALTER TABLE axes_accessattempt \
     DROP INDEX axes_accessattempt_key, DROP INDEX axes_accessattempt_ip_time, \
     DROP INDEX axes_accessattempt_username_time, DROP INDEX axes_accessattempt_ip_username_time, \
     DROP INDEX axes_accessattempt_ua_time, DROP INDEX axes_accessattempt_ip_ua_time, \
     DROP INDEX axes_accessattempt_username_ua_time, DROP COLUMN scope, \
     ADD UNIQUE KEY axes_accessattempt_key (username, ip_address, user_agent), \
     ADD INDEX axes_accessattempt_ip_time (ip_address, attempt_time, failures_since_start), \
     ADD INDEX axes_accessattempt_username_time (username, attempt_time, failures_since_start), \
     ADD INDEX axes_accessattempt_ip_username_time (ip_address, username, attempt_time, failures_since_start), \
     ADD INDEX axes_accessattempt_ua_time (user_agent, attempt_time, failures_since_start), \
     ADD INDEX axes_accessattempt_ip_ua_time (ip_address, user_agent, attempt_time, failures_since_start), \
     ADD INDEX axes_accessattempt_username_ua_time (username, user_agent, attempt_time, failures_since_start)",
    "DELETE FROM _axes_migrations WHERE version = 5",
];

/// Two stores on the same schema (two app servers) share one exact count.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_share_the_count() {
    let Some(a) = axes_sqlx::testing::fresh_mysql_store().await else {
        return;
    };
    let b =
        axes_sqlx::MySqlStore::from_pool(a.pool().clone(), &axes_sqlx::ConnectOptions::default());
    two_stores(std::sync::Arc::new(a), std::sync::Arc::new(b)).await;
}

async fn two_stores(a: common::S, b: common::S) {
    let r = std::sync::Arc::new({
        let mut r = common::R::new(common::key(Some("x"), Some("192.0.2.99"), ""));
        r.limit = Some(7);
        r
    });
    let mut tasks = Vec::new();
    for i in 0..80 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let r = r.clone();
        tasks.push(tokio::spawn(async move {
            store.reserve(&r.at(common::t0())).await.unwrap().admitted
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        admitted += u32::from(t.await.unwrap());
    }
    assert_eq!(admitted, 7);
}

/// A reservation cancelled while it holds its lock must not leave the lock
/// behind on a pooled connection: another server (its own pool) gets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelled_reserve_frees_lock_for_other_servers() {
    let Some(a) = axes_sqlx::testing::fresh_mysql_store().await else {
        return;
    };
    let options = (*a.pool().connect_options()).clone();
    let b = axes_sqlx::MySqlStore::open(options, &axes_sqlx::ConnectOptions::default())
        .await
        .unwrap();
    let (a, b): (common::S, common::S) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
    let mut r = common::R::new(common::key(Some("p"), Some("192.0.2.101"), ""));
    r.limit = None;
    let reservation = r.at(common::t0());
    for i in 0..60u64 {
        let fut = a.reserve(&reservation);
        let _ = tokio::time::timeout(std::time::Duration::from_micros(100 + i * 40), fut).await;
        let fut = b.reserve(&reservation);
        tokio::time::timeout(std::time::Duration::from_secs(3), fut)
            .await
            .expect("a lock left behind by a cancelled reservation")
            .unwrap();
    }
}

/// A database of the first schema version upgrades: made here by undoing
/// the later migrations of a fresh one, with a record written as the first
/// version wrote it.
#[tokio::test]
async fn upgrades_from_the_first_schema() {
    let Some(store) = axes_sqlx::testing::fresh_mysql_store().await else {
        return;
    };
    for statement in UNDO_SCOPES.into_iter().chain([
        "DROP TABLE axes_blocks",
        "DELETE FROM _axes_migrations WHERE version = 4",
        "ALTER TABLE axes_accessattempt DROP INDEX axes_accessattempt_ip_time, DROP INDEX axes_accessattempt_username_time, DROP INDEX axes_accessattempt_ip_username_time, DROP INDEX axes_accessattempt_ua_time, DROP INDEX axes_accessattempt_ip_ua_time, DROP INDEX axes_accessattempt_username_ua_time, \
         ADD INDEX axes_accessattempt_ip_address (ip_address), \
         ADD INDEX axes_accessattempt_user_agent (user_agent)",
        "DELETE FROM _axes_migrations WHERE version = 3",
        "ALTER TABLE axes_accessattempt DROP COLUMN generation, DROP COLUMN failure_serial",
        "DELETE FROM _axes_migrations WHERE version = 2",
    ]) {
        sqlx::query(statement).execute(store.pool()).await.unwrap();
    }
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _axes_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
    let old = common::old_record_key();
    sqlx::query(
        "INSERT INTO axes_accessattempt \
         (ip_address, username, user_agent, failures_since_start, attempt_time) \
         VALUES (?, ?, ?, 2, ?)",
    )
    .bind(old.ip_address.as_deref())
    .bind(old.username.as_deref())
    .bind(&old.user_agent)
    .bind(common::t0())
    .execute(store.pool())
    .await
    .unwrap();
    let store: common::S = std::sync::Arc::new(store);
    common::upgraded_record(store).await;
}

upgrade_from_schema_three!(axes_sqlx::testing::fresh_mysql_store(), UNDO_SCOPES);

upgrade_from_schema_four!(axes_sqlx::testing::fresh_mysql_store(), UNDO_SCOPES);
