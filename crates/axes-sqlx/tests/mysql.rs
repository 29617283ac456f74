//! The store scenarios on MySQL or MariaDB (`AXES_TEST_MYSQL_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "mysql")]

mod common;

use axes_sqlx::testing::fresh_mysql;

scenarios!(fresh_mysql);

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
