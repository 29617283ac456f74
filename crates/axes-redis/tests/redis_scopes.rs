//! Scopes in the Redis store (beyond the conformance scenarios): records
//! written by the layout before scopes existed, per-scope key names, and
//! resets and filtered listings across scopes.
//!
//! Needs `AXES_TEST_REDIS_URL`; every test skips loudly without it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axes_core::parameters::{Field, LockoutParameters};
use axes_core::store::{
    AttemptDetails, FailureQuery, ListQuery, Order, RecordKey, Reservation, ReserveOutcome,
    ResetFilter, Store,
};
use axes_redis::RedisStore;
use axes_redis::testing::{discard, fresh_store, test_url};
use chrono::{DateTime, Duration, Utc};

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap()
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn key(scope: &str, ip: &str, user: &str) -> RecordKey {
    RecordKey {
        scope: scope.to_owned(),
        username: Some(user.to_owned()),
        ip_address: Some(ip.to_owned()),
        user_agent: "ua".to_owned(),
    }
}

fn params() -> LockoutParameters {
    LockoutParameters::any_of(&[Field::IpAddress, Field::Username])
}

async fn reserve(store: &dyn Store, k: &RecordKey, now: DateTime<Utc>) -> ReserveOutcome {
    let details = AttemptDetails::default();
    let parameters = params();
    store
        .reserve(&Reservation {
            key: k,
            details: &details,
            parameters: &parameters,
            limit: Some(5),
            window: Some(Duration::hours(1)),
            count_when_locked: true,
            now,
            blocks: &[],
            manual_only: false,
        })
        .await
        .expect("reserve")
}

async fn counts(store: &dyn Store, k: &RecordKey, now: DateTime<Utc>) -> Vec<u32> {
    let parameters = params();
    store
        .failures(&FailureQuery {
            key: k,
            parameters: &parameters,
            window: Some(Duration::hours(1)),
            now,
            blocks: &[],
            manual_only: false,
        })
        .await
        .expect("failures")
        .per_alternative
        .iter()
        .map(|c| c.failures)
        .collect()
}

async fn raw() -> redis::aio::MultiplexedConnection {
    let url = test_url().expect("url");
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn keys_of(store: &RedisStore) -> Vec<String> {
    let mut names: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", store.prefix()))
        .query_async(&mut raw().await)
        .await
        .unwrap();
    names.sort();
    names
}

/// Writes the record of (alice, 1.2.3.4, "ua") with two failures at `t` the
/// way the store did before scopes existed (no scope field, no cross-scope
/// index). Returns its id.
async fn write_legacy_record(store: &RedisStore, t: DateTime<Utc>) -> String {
    // the id of that key in the old layout (SHA-256 of the length-prefixed
    // triple, truncated)
    let id = "43c8c770c6ac3d821f9d2536fb433f2c";
    let p = store.prefix();
    let (ki, ku, ka) = (
        format!("{p}idx:ip:=1.2.3.4"),
        format!("{p}idx:user:=alice"),
        format!("{p}idx:ua:=ua"),
    );
    let t = micros(t);
    let mut con = raw().await;
    let _: () = redis::pipe()
        .cmd("HSET")
        .arg(format!("{p}rec:{id}"))
        .arg(&[
            ("f", "2"),
            ("t", &t.to_string()),
            ("g", "7"),
            ("s", "8"),
            ("a", "ua"),
            ("u", "alice"),
            ("i", "1.2.3.4"),
            ("path", "/login"),
            ("acc", ""),
            ("get", ""),
            ("post", ""),
            ("ki", &ki),
            ("ku", &ku),
            ("ka", &ka),
        ])
        .ignore()
        .cmd("ZADD")
        .arg(format!("{p}attempts"))
        .arg(t)
        .arg(id)
        .ignore()
        .cmd("ZADD")
        .arg(&ki)
        .arg(t)
        .arg(id)
        .ignore()
        .cmd("ZADD")
        .arg(&ku)
        .arg(t)
        .arg(id)
        .ignore()
        .cmd("ZADD")
        .arg(&ka)
        .arg(t)
        .arg(id)
        .ignore()
        .query_async(&mut con)
        .await
        .unwrap();
    id.to_owned()
}

#[tokio::test]
async fn records_of_the_layout_before_scopes_count_and_list() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let id = write_legacy_record(&store, t0()).await;
    let plain = key("", "1.2.3.4", "alice");
    let device = key("device:abc", "1.2.3.4", "alice");

    // it counts in the default scope, and only there
    assert_eq!(counts(&store, &plain, t0()).await, [2, 2]);
    assert_eq!(counts(&store, &device, t0()).await, [0, 0]);
    let other_user = key("", "1.2.3.4", "bob");
    assert_eq!(counts(&store, &other_user, t0()).await, [2, 0]);

    // it lists and is found by id, in the scope ""
    let rec = store.get_attempt(&id).await.unwrap().expect("listed");
    assert_eq!((rec.key.clone(), rec.failures), (plain.clone(), 2));
    let page = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(page.items, vec![rec]);

    // the next failure of the same key goes on in the same record
    let out = reserve(&store, &plain, t0() + Duration::seconds(1)).await;
    assert!(out.admitted);
    assert_eq!(out.token.as_ref().map(|t| t.record_id.as_str()), Some(&*id));
    assert_eq!(out.token.map(|t| t.generation), Some(7));
    assert_eq!(out.failures.max(), 3);

    // a scoped record of the same values is a record of its own
    let scoped = reserve(&store, &device, t0() + Duration::seconds(2)).await;
    assert_eq!(scoped.failures.max(), 1);
    assert_ne!(scoped.token.map(|t| t.record_id), Some(id.clone()));

    // a filtered listing finds both, a filtered reset takes both and every
    // index with them
    let by_user = store
        .list_attempts(&ListQuery {
            username: Some("alice".into()),
            ..ListQuery::all()
        })
        .await
        .unwrap();
    assert_eq!(by_user.total, 2);
    let scopes: Vec<&str> = by_user.items.iter().map(|r| &*r.key.scope).collect();
    assert_eq!(scopes, ["device:abc", ""], "newest first");
    let filter = ResetFilter {
        ip_address: Some("1.2.3.4".into()),
        username: None,
    };
    assert_eq!(store.reset(&filter).await.unwrap(), 2);
    assert_eq!(
        keys_of(&store).await,
        [format!("{}attempts:serial", store.prefix())]
    );
    discard(&store).await;
}

#[tokio::test]
async fn scoped_records_use_their_scopes_keys_and_leave_none_behind() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let p = store.prefix().to_owned();
    let k = key("rule:ip:2/10m", "10.0.0.1", "carol");
    let out = reserve(&store, &k, t0()).await;
    assert!(out.admitted);
    let mut want = vec![
        format!("{p}attempts"),
        format!("{p}attempts:serial"),
        format!("{p}idx:=rule%3Aip%3A2%2F10m:ip:=10.0.0.1"),
        format!("{p}idx:=rule%3Aip%3A2%2F10m:ua:=ua"),
        format!("{p}idx:=rule%3Aip%3A2%2F10m:user:=carol"),
        format!("{p}rec:{}", out.token.expect("token").record_id),
        format!("{p}sidx:ip:=10.0.0.1"),
        format!("{p}sidx:user:=carol"),
    ];
    want.sort();
    assert_eq!(keys_of(&store).await, want);

    // clear_client in another scope touches nothing of it
    let plain = key("", "10.0.0.1", "carol");
    assert_eq!(store.clear_client(&plain, &params()).await.unwrap(), 0);
    assert_eq!(keys_of(&store).await, want);
    // in its own scope it takes the record and every index
    assert_eq!(store.clear_client(&k, &params()).await.unwrap(), 1);
    assert_eq!(keys_of(&store).await, [format!("{p}attempts:serial")]);

    // deletion by id and purges clean up a scope's indexes too
    reserve(&store, &k, t0()).await;
    let id = store.list_attempts(&ListQuery::all()).await.unwrap().items[0]
        .id
        .clone();
    assert_eq!(store.delete_attempts(&[id]).await.unwrap(), 1);
    assert_eq!(keys_of(&store).await, [format!("{p}attempts:serial")]);
    reserve(&store, &k, t0()).await;
    assert_eq!(store.purge_attempts(t0()).await.unwrap(), 1);
    assert_eq!(keys_of(&store).await, [format!("{p}attempts:serial")]);
    discard(&store).await;
}

#[tokio::test]
async fn filtered_listings_merge_every_scope_in_order() {
    let Some(store) = fresh_store().await else {
        return;
    };
    // dave from three addresses, in three scopes, one second apart
    let scopes = ["", "device:a", "rule:x"];
    let mut made = Vec::new();
    for i in 0..9_i64 {
        let k = key(
            scopes[(i % 3) as usize],
            &format!("10.1.0.{}", i % 2),
            "dave",
        );
        if !made.contains(&k) {
            made.push(k.clone());
        }
        reserve(&store, &k, t0() + Duration::seconds(i)).await;
    }
    reserve(&store, &key("device:a", "10.1.0.0", "erin"), t0()).await;
    let list = |q: ListQuery| {
        let store = &store;
        async move { store.list_attempts(&q).await.unwrap() }
    };
    let all = list(ListQuery {
        username: Some("dave".into()),
        ..ListQuery::all()
    })
    .await;
    assert_eq!(all.total, made.len() as u64);
    let times: Vec<_> = all.items.iter().map(|r| r.attempt_time).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first across scopes");
    let in_scopes: Vec<&str> = all.items.iter().map(|r| &*r.key.scope).collect();
    for s in scopes {
        assert!(in_scopes.contains(&s), "{in_scopes:?}");
    }

    // paging over the merged rows, oldest first
    let mut paged = Vec::new();
    for offset in 0..all.total {
        let page = list(ListQuery {
            username: Some("dave".into()),
            order: Order::OldestFirst,
            offset,
            limit: 1,
            ..ListQuery::all()
        })
        .await;
        assert_eq!(page.total, all.total);
        paged.extend(page.items);
    }
    paged.reverse();
    assert_eq!(paged, all.items);

    // IP and username, and a time range, across scopes
    let both = list(ListQuery {
        username: Some("dave".into()),
        ip_address: Some("10.1.0.0".into()),
        ..ListQuery::all()
    })
    .await;
    assert!(both.items.iter().all(|r| {
        r.key.ip_address.as_deref() == Some("10.1.0.0") && r.key.username.as_deref() == Some("dave")
    }));
    assert_eq!(
        both.total,
        made.iter()
            .filter(|k| k.ip_address.as_deref() == Some("10.1.0.0"))
            .count() as u64
    );
    let by_ip = list(ListQuery {
        ip_address: Some("10.1.0.0".into()),
        since: Some(t0() + Duration::seconds(1)),
        ..ListQuery::all()
    })
    .await;
    assert!(
        by_ip
            .items
            .iter()
            .all(|r| r.key.username.as_deref() == Some("dave"))
    );
    assert!(by_ip.total >= 1);

    // a reset of the username reaches every scope, and only that username
    let n = store
        .reset(&ResetFilter {
            ip_address: None,
            username: Some("dave".into()),
        })
        .await
        .unwrap();
    assert_eq!(n, made.len() as u64);
    let left = list(ListQuery::all()).await;
    assert_eq!(left.total, 1);
    assert_eq!(left.items[0].key, key("device:a", "10.1.0.0", "erin"));
    discard(&store).await;
}
