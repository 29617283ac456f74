//! Focused tests of the Redis store (beyond the shared conformance suite).
//!
//! Needs `AXES_TEST_REDIS_URL`; every test skips loudly without it. Times are
//! synthetic (a fixed start in 2026 plus offsets): the store never reads the
//! clock, and its TTLs (window plus one more window, at least one minute, on
//! Redis's real clock) are long enough that nothing expires under a test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use axes_core::error::StoreError;
use axes_core::parameters::{Alternative, Field, LockoutParameters};
use axes_core::store::{
    AttemptDetails, Block, BlockKind, BlockTarget, Escalation, FailureQuery, ListQuery,
    NewAccessLog, NewFailureLog, Order, RecordKey, Reservation, ReserveOutcome, ResetFilter, Store,
};
use axes_redis::RedisStore;
use axes_redis::testing::{discard, fresh_store, test_url};
use chrono::{DateTime, Duration, Utc};

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap()
}

fn key(ip: Option<&str>, user: Option<&str>, ua: &str) -> RecordKey {
    RecordKey {
        scope: String::new(),
        username: user.map(str::to_owned),
        ip_address: ip.map(str::to_owned),
        user_agent: ua.to_owned(),
    }
}

fn params(alts: &[&[Field]]) -> LockoutParameters {
    LockoutParameters::new(
        alts.iter()
            .filter_map(|a| Alternative::new(a.iter().copied())),
    )
    .unwrap()
}

fn details() -> AttemptDetails {
    AttemptDetails {
        path: "/login".into(),
        ..AttemptDetails::default()
    }
}

struct R<'a> {
    key: &'a RecordKey,
    params: &'a LockoutParameters,
    limit: Option<u32>,
    window: Option<Duration>,
    count_when_locked: bool,
}

impl R<'_> {
    async fn at(&self, store: &dyn Store, now: DateTime<Utc>) -> ReserveOutcome {
        let d = details();
        store
            .reserve(&Reservation {
                key: self.key,
                details: &d,
                parameters: self.params,
                limit: self.limit,
                window: self.window,
                count_when_locked: self.count_when_locked,
                now,
                blocks: &[],
                manual_only: false,
            })
            .await
            .expect("reserve")
    }
}

async fn count(
    store: &dyn Store,
    k: &RecordKey,
    p: &LockoutParameters,
    window: Option<Duration>,
    now: DateTime<Utc>,
) -> Vec<u32> {
    store
        .failures(&FailureQuery {
            key: k,
            parameters: p,
            window,
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

async fn stored_failures(store: &dyn Store) -> u32 {
    store
        .list_attempts(&ListQuery::all())
        .await
        .expect("list")
        .items
        .iter()
        .map(|r| r.failures)
        .sum()
}

async fn raw() -> redis::aio::MultiplexedConnection {
    let url = test_url().expect("url");
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_reserves_admit_exactly_the_limit() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let store = Arc::new(store);
    let k = key(Some("198.51.100.7"), Some("victim"), "ua");
    let p = params(&[&[Field::IpAddress], &[Field::Username]]);
    for round in 0..20 {
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let store = store.clone();
            let k = k.clone();
            let p = p.clone();
            tasks.push(tokio::spawn(async move {
                let d = details();
                store
                    .reserve(&Reservation {
                        key: &k,
                        details: &d,
                        parameters: &p,
                        limit: Some(5),
                        window: Some(Duration::minutes(30)),
                        count_when_locked: false,
                        now: t0() + Duration::seconds(round),
                        blocks: &[],
                        manual_only: false,
                    })
                    .await
                    .expect("reserve")
            }));
        }
        let mut admitted = 0;
        for t in tasks {
            let out = t.await.unwrap();
            if out.admitted {
                admitted += 1;
                assert!(out.counted);
            } else {
                assert!(!out.counted);
                assert!(out.failures.reached(5));
            }
        }
        assert_eq!(admitted, 5, "round {round}");
        let page = store.list_attempts(&ListQuery::all()).await.unwrap();
        assert_eq!(page.total, 1);
        assert_eq!(page.items[0].failures, 5, "round {round}");
        assert_eq!(store.reset(&ResetFilter::all()).await.unwrap(), 1);
    }
    discard(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_reserves_across_usernames_share_the_ip_count() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let store = Arc::new(store);
    let p = params(&[&[Field::IpAddress]]);
    let mut tasks = Vec::new();
    for i in 0..100 {
        let store = store.clone();
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            let k = key(Some("203.0.113.5"), Some(&format!("user{i}")), "ua");
            let d = details();
            store
                .reserve(&Reservation {
                    key: &k,
                    details: &d,
                    parameters: &p,
                    limit: Some(5),
                    window: None,
                    count_when_locked: false,
                    now: t0(),
                    blocks: &[],
                    manual_only: false,
                })
                .await
                .expect("reserve")
                .admitted
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        admitted += usize::from(t.await.unwrap());
    }
    assert_eq!(admitted, 5);
    assert_eq!(stored_failures(store.as_ref()).await, 5);
    discard(&store).await;
}

#[tokio::test]
async fn window_expiry_follows_the_callers_clock() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let k = key(Some("10.1.1.1"), Some("alice"), "ua");
    let p = params(&[&[Field::IpAddress]]);
    let w = Duration::hours(1);
    let r = R {
        key: &k,
        params: &p,
        limit: Some(3),
        window: Some(w),
        count_when_locked: false,
    };
    assert!(r.at(&store, t0()).await.admitted);
    assert!(r.at(&store, t0() + Duration::minutes(10)).await.admitted);
    let third = r.at(&store, t0() + Duration::minutes(20)).await;
    assert!(third.admitted);
    assert_eq!(third.failures.per_alternative[0].failures, 3);
    assert_eq!(
        third.failures.per_alternative[0].last_failure,
        Some(t0() + Duration::minutes(20))
    );
    // locked, not counted
    let fourth = r.at(&store, t0() + Duration::minutes(30)).await;
    assert!(!fourth.admitted && !fourth.counted);
    assert_eq!(fourth.failures.max(), 3);
    // still live one microsecond before the window passes, expired exactly at it
    let last = t0() + Duration::minutes(20);
    assert_eq!(
        count(
            &store,
            &k,
            &p,
            Some(w),
            last + w - Duration::microseconds(1)
        )
        .await,
        [3]
    );
    assert_eq!(count(&store, &k, &p, Some(w), last + w).await, [0]);
    // without a window everything counts
    assert_eq!(count(&store, &k, &p, None, last + w * 10).await, [3]);
    // a failure after the window restarts the record at one
    let again = r.at(&store, last + w + Duration::seconds(1)).await;
    assert!(again.admitted);
    assert_eq!(again.failures.max(), 1);
    assert_eq!(stored_failures(&store).await, 1);
    discard(&store).await;
}

#[tokio::test]
async fn only_live_records_of_other_keys_count() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let p = params(&[&[Field::IpAddress]]);
    let w = Duration::minutes(10);
    let old = key(Some("10.2.2.2"), Some("old"), "ua");
    let new = key(Some("10.2.2.2"), Some("new"), "ua");
    let r_old = R {
        key: &old,
        params: &p,
        limit: None,
        window: Some(w),
        count_when_locked: true,
    };
    r_old.at(&store, t0()).await;
    r_old.at(&store, t0()).await;
    let r_new = R { key: &new, ..r_old };
    let out = r_new.at(&store, t0() + Duration::minutes(5)).await;
    assert_eq!(out.failures.max(), 3);
    let out = r_new.at(&store, t0() + Duration::minutes(11)).await;
    assert_eq!(out.failures.max(), 2, "old record expired, new has 2");
    discard(&store).await;
}

#[tokio::test]
async fn count_when_locked_restarts_the_cool_off() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let k = key(Some("10.3.3.3"), None, "");
    let p = params(&[&[Field::IpAddress]]);
    let w = Duration::minutes(10);
    let r = R {
        key: &k,
        params: &p,
        limit: Some(2),
        window: Some(w),
        count_when_locked: true,
    };
    assert!(r.at(&store, t0()).await.admitted);
    assert!(r.at(&store, t0()).await.admitted);
    let locked = r.at(&store, t0() + Duration::minutes(9)).await;
    assert!(!locked.admitted && locked.counted);
    assert_eq!(locked.failures.max(), 3);
    assert_eq!(
        locked.failures.locking_last_failure(2),
        Some(t0() + Duration::minutes(9))
    );
    // still locked 15 minutes after the first failures
    assert_eq!(
        count(&store, &k, &p, Some(w), t0() + Duration::minutes(15)).await,
        [3]
    );
    discard(&store).await;
}

/// S1: a refused attempt without a record of its own creates none; its
/// failure goes to the newest record that locks it (no token), and the
/// counts it answers include it.
#[tokio::test]
async fn refused_attempts_create_no_record() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let p = params(&[&[Field::IpAddress]]);
    let w = Duration::minutes(10);
    let first = key(Some("10.3.3.4"), Some("alice"), "");
    fn locking<'a>(k: &'a RecordKey, p: &'a LockoutParameters, w: Duration) -> R<'a> {
        R {
            key: k,
            params: p,
            limit: Some(2),
            window: Some(w),
            count_when_locked: true,
        }
    }
    assert!(locking(&first, &p, w).at(&store, t0()).await.admitted);
    assert!(locking(&first, &p, w).at(&store, t0()).await.admitted);
    for i in 0..50 {
        let k = key(Some("10.3.3.4"), Some(&format!("sprayed{i}")), "");
        let out = locking(&k, &p, w)
            .at(&store, t0() + Duration::seconds(i + 1))
            .await;
        assert!(!out.admitted && out.counted, "{i}: {out:?}");
        assert_eq!(out.token, None, "no record of its own, no token");
        assert_eq!(out.failures.max(), 3 + i as u32);
        assert_eq!(
            out.failures.locking_last_failure(2),
            Some(t0() + Duration::seconds(i + 1)),
            "the cool-off restarts"
        );
    }
    let all = store.list_attempts(&ListQuery::all()).await.expect("list");
    assert_eq!(all.total, 1, "one record: {all:?}");
    assert_eq!(stored_failures(&store).await, 52);
    // Without count_when_locked nothing changes.
    let k = key(Some("10.3.3.4"), Some("other"), "");
    let out = R {
        count_when_locked: false,
        ..locking(&k, &p, w)
    }
    .at(&store, t0() + Duration::minutes(2))
    .await;
    assert!(!out.admitted && !out.counted && out.token.is_none());
    assert_eq!(stored_failures(&store).await, 52);
    discard(&store).await;
}

#[tokio::test]
async fn combinations_and_missing_values() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let p = params(&[&[Field::IpAddress, Field::UserAgent], &[Field::Username]]);
    let a = key(Some("10.4.4.4"), None, "firefox");
    let b = key(Some("10.4.4.4"), None, "curl");
    let c = key(Some("10.4.4.5"), Some(""), "firefox");
    for k in [&a, &a, &b, &c] {
        R {
            key: k,
            params: &p,
            limit: None,
            window: None,
            count_when_locked: true,
        }
        .at(&store, t0())
        .await;
    }
    // (ip, ua) of a: 2; username missing: a and b (not c, whose username is "")
    assert_eq!(count(&store, &a, &p, None, t0()).await, [2, 3]);
    assert_eq!(count(&store, &b, &p, None, t0()).await, [1, 3]);
    assert_eq!(count(&store, &c, &p, None, t0()).await, [1, 1]);
    discard(&store).await;
}

#[tokio::test]
async fn counts_are_capped_but_decisions_stay_exact() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let p = params(&[&[Field::IpAddress]]);
    for i in 0..150 {
        R {
            key: &key(Some("10.13.0.1"), Some(&format!("u{i}")), "ua"),
            params: &p,
            limit: None,
            window: Some(Duration::hours(1)),
            count_when_locked: true,
        }
        .at(&store, t0() + Duration::milliseconds(i))
        .await;
    }
    let probe = key(Some("10.13.0.1"), Some("new"), "ua");
    let now = t0() + Duration::seconds(1);
    // a plain count stops after 100 records: a lower bound
    assert_eq!(
        count(&store, &probe, &p, Some(Duration::hours(1)), now).await,
        [100]
    );
    let r = |limit| R {
        key: &probe,
        params: &p,
        limit: Some(limit),
        window: Some(Duration::hours(1)),
        count_when_locked: false,
    };
    // the cap rises to the limit, so the decision is exact
    let refused = r(150).at(&store, now).await;
    assert!(!refused.admitted);
    assert_eq!(refused.failures.max(), 150);
    let admitted = r(151).at(&store, now).await;
    assert!(admitted.admitted);
    assert_eq!(admitted.failures.max(), 151);
    assert_eq!(admitted.failures.per_alternative[0].last_failure, Some(now));
    discard(&store).await;
}

#[tokio::test]
async fn reset_uses_and_semantics() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let p = params(&[&[Field::IpAddress]]);
    let keys = [
        key(Some("10.5.0.1"), Some("u1"), "ua"),
        key(Some("10.5.0.1"), Some("u2"), "ua"),
        key(Some("10.5.0.2"), Some("u1"), "ua"),
        key(Some("10.5.0.2"), Some("u2"), "ua"),
        key(Some("10.5.0.3"), Some("u3"), "ua"),
    ];
    for k in &keys {
        R {
            key: k,
            params: &p,
            limit: None,
            window: None,
            count_when_locked: true,
        }
        .at(&store, t0())
        .await;
    }
    let f = |ip: Option<&str>, user: Option<&str>| ResetFilter {
        ip_address: ip.map(str::to_owned),
        username: user.map(str::to_owned),
    };
    assert_eq!(
        store.reset(&f(Some("10.5.0.1"), Some("u1"))).await.unwrap(),
        1
    );
    assert_eq!(
        store.reset(&f(Some("10.5.0.1"), Some("u1"))).await.unwrap(),
        0
    );
    assert_eq!(
        store.reset(&f(Some("10.5.0.9"), Some("u2"))).await.unwrap(),
        0
    );
    assert_eq!(store.reset(&f(Some("10.5.0.1"), None)).await.unwrap(), 1);
    assert_eq!(store.reset(&f(None, Some("u2"))).await.unwrap(), 1);
    let left = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(left.total, 2);
    assert_eq!(store.reset(&ResetFilter::all()).await.unwrap(), 2);
    assert_eq!(store.reset(&ResetFilter::all()).await.unwrap(), 0);
    // the indexes went with the records; only the serial counter stays (so
    // a ticket held across the reset never matches a record made after it)
    let mut con = raw().await;
    let left: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", store.prefix()))
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(left, [format!("{}attempts:serial", store.prefix())]);
    // wipe takes everything
    store.wipe().await.unwrap();
    let left: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", store.prefix()))
        .query_async(&mut con)
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
    discard(&store).await;
}

#[tokio::test]
async fn resets_and_purges_go_beyond_one_batch() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let p = params(&[&[Field::IpAddress]]);
    // 1200 records: 600 for ip A (half of them user "x"), 600 for ip B
    for i in 0..1200 {
        let ip = if i % 2 == 0 { "10.6.0.1" } else { "10.6.0.2" };
        let user = if i % 4 < 2 {
            "x".to_owned()
        } else {
            format!("u{i}")
        };
        let k = key(Some(ip), Some(&user), &format!("ua{i}"));
        R {
            key: &k,
            params: &p,
            limit: None,
            window: None,
            count_when_locked: true,
        }
        .at(&store, t0() + Duration::seconds(i))
        .await;
    }
    let both = ResetFilter {
        ip_address: Some("10.6.0.1".into()),
        username: Some("x".into()),
    };
    assert_eq!(store.reset(&both).await.unwrap(), 300);
    assert_eq!(
        store
            .purge_attempts(t0() + Duration::seconds(599))
            .await
            .unwrap(),
        450,
        "records at t0…t0+599 minus the 150 already reset"
    );
    let rest = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(rest.total, 450);
    assert_eq!(store.reset(&ResetFilter::all()).await.unwrap(), 450);
    discard(&store).await;
}

#[tokio::test]
async fn expired_hashes_are_tolerated() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let p = params(&[&[Field::IpAddress]]);
    let gone = key(Some("10.7.0.1"), Some("gone"), "ua");
    let kept = key(Some("10.7.0.1"), Some("kept"), "ua");
    let mut tokens = Vec::new();
    for k in [&gone, &kept] {
        let out = R {
            key: k,
            params: &p,
            limit: None,
            window: Some(Duration::hours(1)),
            count_when_locked: true,
        }
        .at(&store, t0())
        .await;
        tokens.push(out.token.unwrap());
    }
    // Simulate the TTL: drop the hash, leave the ids in the sorted sets.
    let page = store
        .list_attempts(&ListQuery {
            username: Some("gone".into()),
            ..ListQuery::all()
        })
        .await
        .unwrap();
    let id = page.items[0].id.clone();
    let mut con = raw().await;
    let _: () = redis::cmd("DEL")
        .arg(format!("{}rec:{id}", store.prefix()))
        .query_async(&mut con)
        .await
        .unwrap();

    assert_eq!(
        count(&store, &kept, &p, Some(Duration::hours(1)), t0()).await,
        [1]
    );
    let all = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(all.total, 1);
    assert_eq!(all.items.len(), 1);
    let by_ip = store
        .list_attempts(&ListQuery {
            ip_address: Some("10.7.0.1".into()),
            search: Some("e".into()),
            ..ListQuery::all()
        })
        .await
        .unwrap();
    assert_eq!(by_ip.total, 1);
    assert_eq!(store.delete_attempts(&[id]).await.unwrap(), 0);
    assert_eq!(store.release(&gone, &tokens[0]).await.ok(), Some(()));
    assert_eq!(store.reset(&ResetFilter::all()).await.unwrap(), 1);
    discard(&store).await;
}

#[tokio::test]
async fn ttls_follow_the_window() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let p = params(&[&[Field::IpAddress]]);
    let k = key(Some("10.8.0.1"), Some("t"), "ua");
    let r = R {
        key: &k,
        params: &p,
        limit: None,
        window: Some(Duration::hours(1)),
        count_when_locked: true,
    };
    r.at(&store, t0()).await;
    let id = store.list_attempts(&ListQuery::all()).await.unwrap().items[0]
        .id
        .clone();
    let con = raw().await;
    let ttl_cmd = |cmd: &'static str, key: String| {
        let mut con = con.clone();
        async move {
            redis::cmd(cmd)
                .arg(key)
                .query_async::<i64>(&mut con)
                .await
                .unwrap()
        }
    };
    let pttl = |key: String| ttl_cmd("PTTL", key);
    let rec = pttl(format!("{}rec:{id}", store.prefix())).await;
    assert!(rec > 7_100_000 && rec <= 7_200_000, "{rec}");
    // absolute expiry times (PEXPIRETIME, Redis 7): the index outlives the record
    let rec_at = ttl_cmd("PEXPIRETIME", format!("{}rec:{id}", store.prefix())).await;
    let idx_at = ttl_cmd("PEXPIRETIME", format!("{}idx:ip:=10.8.0.1", store.prefix())).await;
    assert!(idx_at >= rec_at, "{idx_at} < {rec_at}");
    assert_eq!(pttl(format!("{}attempts", store.prefix())).await, -1);
    // a failure without window makes them persistent
    R { window: None, ..r }.at(&store, t0()).await;
    assert_eq!(pttl(format!("{}rec:{id}", store.prefix())).await, -1);
    assert_eq!(
        pttl(format!("{}idx:ip:=10.8.0.1", store.prefix())).await,
        -1
    );
    discard(&store).await;
}

#[tokio::test]
async fn hostile_values_stay_in_their_keys() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let p = params(&[&[Field::Username]]);
    let nasty = [
        "~",
        "=",
        "a:b",
        "idx:ip:~",
        "x\r\nDEL *",
        "ünïcödé",
        "%3A",
        &"long".repeat(100),
    ];
    for (i, u) in nasty.iter().enumerate() {
        for _ in 0..=i {
            R {
                key: &key(Some("10.9.0.1"), Some(u), "ua"),
                params: &p,
                limit: None,
                window: None,
                count_when_locked: true,
            }
            .at(&store, t0())
            .await;
        }
    }
    for (i, u) in nasty.iter().enumerate() {
        let k = key(Some("10.9.0.1"), Some(u), "ua");
        assert_eq!(
            count(&store, &k, &p, None, t0()).await,
            [i as u32 + 1],
            "{u}"
        );
        let page = store
            .list_attempts(&ListQuery {
                username: Some((*u).to_owned()),
                ..ListQuery::all()
            })
            .await
            .unwrap();
        assert_eq!(page.total, 1, "{u}");
        assert_eq!(page.items[0].key, k);
    }
    let mut con = raw().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", store.prefix()))
        .query_async(&mut con)
        .await
        .unwrap();
    assert!(
        keys.iter().all(|k| !k.contains('\n') && k.len() < 200),
        "{keys:?}"
    );
    discard(&store).await;
}

#[tokio::test]
async fn listing_pages_filters_and_precision() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let p = params(&[&[Field::IpAddress]]);
    let base = t0() + Duration::microseconds(123_456);
    for i in 0..30 {
        let k = key(
            Some(&format!("10.10.0.{}", i % 3)),
            Some(&format!("User{i}")),
            if i % 2 == 0 { "Mozilla" } else { "curl" },
        );
        R {
            key: &k,
            params: &p,
            limit: None,
            window: None,
            count_when_locked: true,
        }
        .at(&store, base + Duration::seconds(i))
        .await;
    }
    let newest = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(newest.total, 30);
    assert_eq!(newest.items[0].attempt_time, base + Duration::seconds(29));
    let page = store
        .list_attempts(&ListQuery {
            ip_address: Some("10.10.0.1".into()),
            search: Some("MOZ".into()),
            order: Order::OldestFirst,
            offset: 1,
            limit: 2,
            ..ListQuery::all()
        })
        .await
        .unwrap();
    // ip .1: i = 1, 4, 7, …, 28 (10); Mozilla = even i: 4, 10, 16, 22, 28
    assert_eq!(page.total, 5);
    let users: Vec<_> = page
        .items
        .iter()
        .map(|r| r.key.username.clone().unwrap())
        .collect();
    assert_eq!(users, ["User10", "User16"]);
    let both = store
        .list_attempts(&ListQuery {
            ip_address: Some("10.10.0.1".into()),
            username: Some("User4".into()),
            ..ListQuery::all()
        })
        .await
        .unwrap();
    assert_eq!(both.total, 1);
    let none = store
        .list_attempts(&ListQuery {
            ip_address: Some("10.10.0.2".into()),
            username: Some("User4".into()),
            ..ListQuery::all()
        })
        .await
        .unwrap();
    assert_eq!(none.total, 0);
    let ranged = store
        .list_attempts(&ListQuery {
            since: Some(base + Duration::seconds(10)),
            until: Some(base + Duration::seconds(20)),
            limit: 0,
            ..ListQuery::all()
        })
        .await
        .unwrap();
    assert_eq!(ranged.total, 10);
    assert_eq!(ranged.items.len(), 1, "limit 0 is clamped to 1");
    discard(&store).await;
}

#[tokio::test]
async fn failure_log_cap_keeps_the_newest_even_with_equal_times() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let entry = |user: Option<&str>, path: &str| NewFailureLog {
        key: key(Some("10.11.0.1"), user, "ua"),
        path: path.into(),
        http_accept: String::new(),
        attempt_time: t0(),
        locked_out: false,
    };
    for i in 0..12 {
        store
            .insert_failure_log(&entry(Some("bob"), &format!("/p{i}")), 5)
            .await
            .unwrap();
        store
            .insert_failure_log(&entry(None, &format!("/n{i}")), 5)
            .await
            .unwrap();
    }
    store
        .insert_failure_log(&entry(Some("alice"), "/a"), 5)
        .await
        .unwrap();
    let bob = store
        .list_failure_logs(&ListQuery {
            username: Some("bob".into()),
            order: Order::OldestFirst,
            ..ListQuery::all()
        })
        .await
        .unwrap();
    let paths: Vec<_> = bob.items.iter().map(|r| r.entry.path.as_str()).collect();
    assert_eq!(paths, ["/p7", "/p8", "/p9", "/p10", "/p11"]);
    let all = store.list_failure_logs(&ListQuery::all()).await.unwrap();
    assert_eq!(all.total, 11, "5 bob, 5 without username, 1 alice");
    // ids are plain numbers, newest first on equal times
    assert_eq!(all.items[0].entry.path, "/a");
    assert!(all.items.iter().all(|r| r.id.parse::<u64>().is_ok()));
    assert_eq!(store.reset_failure_logs(None).await.unwrap(), 11);
    let mut con = raw().await;
    let left: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}flog:*", store.prefix()))
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(left, [format!("{}flog:seq", store.prefix())]);
    discard(&store).await;
}

#[tokio::test]
async fn access_logs_close_by_username_and_session() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let login = |user: Option<&str>, session: &str, secs: i64| NewAccessLog {
        key: key(Some("10.12.0.1"), user, "ua"),
        path: "/login".into(),
        http_accept: "text/html".into(),
        attempt_time: t0() + Duration::seconds(secs),
        session_hash: session.into(),
    };
    store
        .insert_access_log(&login(Some("al"), "s1", 0))
        .await
        .unwrap();
    store
        .insert_access_log(&login(Some("al"), "s1", 1))
        .await
        .unwrap();
    store
        .insert_access_log(&login(Some("al"), "s2", 2))
        .await
        .unwrap();
    store
        .insert_access_log(&login(Some("bo"), "s1", 3))
        .await
        .unwrap();
    store
        .insert_access_log(&login(None, "s1", 4))
        .await
        .unwrap();
    let out = t0() + Duration::seconds(10);
    assert_eq!(store.close_access_log("al", "s1", out).await.unwrap(), 2);
    assert_eq!(store.close_access_log("al", "s1", out).await.unwrap(), 0);
    assert_eq!(
        store.close_access_log("nobody", "s1", out).await.unwrap(),
        0
    );
    let logs = store.list_access_logs(&ListQuery::all()).await.unwrap();
    assert_eq!(logs.total, 5);
    let closed: Vec<_> = logs
        .items
        .iter()
        .filter(|r| r.logout_time == Some(out))
        .map(|r| r.entry.attempt_time)
        .collect();
    assert_eq!(closed, [t0() + Duration::seconds(1), t0()]);
    assert_eq!(
        store
            .reset_access_logs(Some(t0() + Duration::seconds(2)))
            .await
            .unwrap(),
        3
    );
    // deleting a row that is still open cleans its open set
    let rest = store.list_access_logs(&ListQuery::all()).await.unwrap();
    let ids: Vec<String> = rest.items.iter().map(|r| r.id.clone()).collect();
    assert_eq!(
        store
            .delete_access_logs(&[ids.clone(), vec!["x".into(), "-1".into()]].concat())
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.close_access_log("bo", "s1", out).await.unwrap(), 0);
    discard(&store).await;
}

#[tokio::test]
async fn unreachable_server_is_unavailable() {
    // Port 1 on loopback: nothing listens there.
    let err = RedisStore::connect("redis://127.0.0.1:1", "axes:")
        .await
        .expect_err("nothing listens on port 1");
    assert!(
        matches!(err, StoreError::Unavailable(_)),
        "{err:?} should be Unavailable"
    );
    assert!(err.is_outage());
    let lazy = RedisStore::connect_with(
        "redis://127.0.0.1:1",
        "axes:",
        axes_redis::RedisOptions::default().lazy(true),
    )
    .await
    .expect("lazy connect does not touch the network");
    let err = lazy.ping().await.expect_err("no server");
    assert!(err.is_outage(), "{err:?}");
    let bad = RedisStore::connect("http://nope", "axes:")
        .await
        .unwrap_err();
    assert!(matches!(bad, StoreError::Backend(_)), "{bad:?}");
}

#[tokio::test]
async fn kind_ping_migrate() {
    let Some(store) = fresh_store().await else {
        return;
    };
    assert_eq!(store.kind(), "redis");
    store.ping().await.unwrap();
    store.migrate().await.unwrap();
    assert!(format!("{store:?}").contains("axes-test-"));
    discard(&store).await;
}

/// Median latency of one `reserve` over 1000 sequential calls (not a test;
/// run with `--ignored --nocapture`, preferably with `--release`).
#[tokio::test]
#[ignore = "benchmark"]
async fn bench_reserve_median() {
    let Some(store) = fresh_store().await else {
        return;
    };
    // Default parameters (IP only), limit 3, one failure per client.
    let ip_only = LockoutParameters::default();
    let mut times = Vec::with_capacity(1000);
    for i in 0..1000 {
        let k = key(
            Some(&format!("10.199.{}.{}", i / 250, i % 250)),
            Some("alice"),
            "Mozilla/5.0",
        );
        let r = R {
            key: &k,
            params: &ip_only,
            limit: Some(3),
            window: Some(Duration::minutes(30)),
            count_when_locked: true,
        };
        let start = Instant::now();
        r.at(&store, t0() + Duration::milliseconds(i)).await;
        times.push(start.elapsed());
    }
    report("reserve (ip_address, new client each call)", &mut times);

    // IP or username, usernames reused (up to 20 records per username).
    let p = params(&[&[Field::IpAddress], &[Field::Username]]);
    let mut times = Vec::with_capacity(1000);
    for i in 0..1000 {
        let k = key(
            Some(&format!("10.200.{}.{}", i / 250, i % 250)),
            Some(&format!("user{}", i % 50)),
            "Mozilla/5.0",
        );
        let r = R {
            key: &k,
            params: &p,
            limit: Some(1_000_000),
            window: Some(Duration::minutes(30)),
            count_when_locked: false,
        };
        let start = Instant::now();
        r.at(&store, t0() + Duration::milliseconds(i)).await;
        times.push(start.elapsed());
    }
    report("reserve (ip_address | username, all admitted)", &mut times);

    // An attacker spraying usernames from one IP while locked out (limit 5,
    // refused failures still counted): the IP's records grow to 1000, and
    // each count stops at the match cap.
    let mut times = Vec::with_capacity(1000);
    for i in 0..1000 {
        let k = key(
            Some("10.201.0.1"),
            Some(&format!("spray{i}")),
            "Mozilla/5.0",
        );
        let r = R {
            key: &k,
            params: &p,
            limit: Some(5),
            window: Some(Duration::minutes(30)),
            count_when_locked: true,
        };
        r.at(&store, t0() + Duration::milliseconds(i)).await;
        let start = Instant::now();
        r.at(&store, t0() + Duration::milliseconds(i)).await;
        times.push(start.elapsed());
    }
    report(
        "reserve (locked IP spraying usernames, up to 1000 records)",
        &mut times,
    );

    let mut times = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let start = Instant::now();
        store.ping().await.unwrap();
        times.push(start.elapsed());
    }
    report("PING round trip", &mut times);
    discard(&store).await;
}

fn report(what: &str, times: &mut [std::time::Duration]) {
    times.sort();
    println!(
        "{what}, 1000 sequential calls: median {:?}, p90 {:?}, p99 {:?}, max {:?}",
        times[500], times[900], times[990], times[999]
    );
}

/// Records written before give-backs named their generation (no `g` and `s`
/// fields) keep counting, and a give-back of a failure counted on them after
/// the upgrade is exact (time restored, sets rescored).
#[tokio::test]
async fn records_without_a_generation_are_upgraded_on_their_next_failure() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let p = params(&[&[Field::IpAddress]]);
    let k = key(Some("10.9.0.1"), Some("old"), "ua");
    let r = R {
        key: &k,
        params: &p,
        limit: None,
        window: Some(Duration::hours(1)),
        count_when_locked: true,
    };
    r.at(&store, t0()).await;
    r.at(&store, t0()).await;
    let id = store.list_attempts(&ListQuery::all()).await.unwrap().items[0]
        .id
        .clone();
    let mut con = raw().await;
    let _: i64 = redis::cmd("HDEL")
        .arg(format!("{}rec:{id}", store.prefix()))
        .arg("g")
        .arg("s")
        .query_async(&mut con)
        .await
        .unwrap();

    let later = t0() + Duration::minutes(5);
    let token = r.at(&store, later).await.token.unwrap();
    assert_eq!(token.previous_time, Some(t0()));
    assert_eq!(count(&store, &k, &p, r.window, later).await, [3]);
    store.release(&k, &token).await.unwrap();
    let rec = store.get_attempt(&id).await.unwrap().unwrap();
    assert_eq!((rec.failures, rec.attempt_time), (2, t0()));
    // The global set is scored by the restored time again: a purge at t0
    // takes the record.
    assert_eq!(store.purge_attempts(t0()).await.unwrap(), 1);
    discard(&store).await;
}

// ---------------------------------------------------------------- blocks

fn btarget(ip: Option<&str>, user: Option<&str>, ua: Option<&str>) -> BlockTarget {
    BlockTarget::new(
        ip.map(str::to_owned),
        user.map(str::to_owned),
        ua.map(str::to_owned),
    )
    .unwrap()
}

fn manual_block(t: &BlockTarget, until: Option<DateTime<Utc>>, created: DateTime<Utc>) -> Block {
    Block {
        kind: BlockKind::Manual,
        target: t.clone(),
        until,
        created_at: created,
        created_by: "test".into(),
        lockouts: 0,
    }
}

fn hour_escalation(permanent_after: Option<u32>) -> Escalation {
    Escalation {
        cooloff: Some(Duration::minutes(10)),
        multiplier: 2.0,
        max: None,
        memory: Duration::hours(1),
        permanent_after,
    }
}

/// A reservation of `k` at `now` that looks up its candidate blocks.
async fn reserve_blocked(store: &dyn Store, k: &RecordKey, now: DateTime<Utc>) -> ReserveOutcome {
    let p = params(&[&[Field::IpAddress], &[Field::Username]]);
    let d = details();
    let candidates = BlockTarget::candidates(k);
    store
        .reserve(&Reservation {
            key: k,
            details: &d,
            parameters: &p,
            limit: Some(1000),
            window: Some(Duration::hours(1)),
            count_when_locked: true,
            now,
            blocks: &candidates,
            manual_only: false,
        })
        .await
        .expect("reserve")
}

async fn block_keys(store: &RedisStore) -> Vec<String> {
    let mut con = raw().await;
    redis::cmd("KEYS")
        .arg(format!("{}blk*", store.prefix()))
        .query_async(&mut con)
        .await
        .unwrap()
}

#[tokio::test]
async fn block_targets_with_hostile_values_keep_their_own_rows() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let long_ua = "Mozilla/5.0 ".repeat(40);
    // pairs that a naive `ip:user:ua` join would confuse
    let targets = [
        btarget(None, Some("a:b"), None),
        btarget(Some("a"), Some("b"), None),
        btarget(Some("a:b"), None, None),
        btarget(Some("x"), None, Some("y:z")),
        btarget(Some("x:y"), None, Some("z")),
        btarget(None, Some("~"), None),
        btarget(None, Some(""), None),
        btarget(None, None, Some("")),
        btarget(None, Some("line\r\nDEL *"), None),
        btarget(Some("10.0.0.1"), None, Some(long_ua.as_str())),
    ];
    for (i, t) in targets.iter().enumerate() {
        store
            .put_block(&manual_block(t, None, t0() + Duration::seconds(i as i64)))
            .await
            .unwrap();
    }
    let listed = store
        .list_blocks(Some(BlockKind::Manual), &ListQuery::all())
        .await
        .unwrap();
    assert_eq!(listed.total, targets.len() as u64);
    let mut got: Vec<BlockTarget> = listed.items.into_iter().map(|b| b.target).collect();
    got.reverse();
    assert_eq!(got, targets, "every target round-trips exactly");
    let keys = block_keys(&store).await;
    assert_eq!(keys.len(), targets.len(), "{keys:?}");
    assert!(
        keys.iter().all(|k| !k.contains('\n') && k.len() < 600),
        "{keys:?}"
    );

    // Only exact targets refuse.
    let now = t0() + Duration::minutes(1);
    let out = reserve_blocked(&store, &key(None, Some("a:b"), "ua"), now).await;
    assert_eq!(
        out.failures.block.map(|b| b.target),
        Some(targets[0].clone())
    );
    let out = reserve_blocked(&store, &key(Some("a"), Some("c"), "b"), now).await;
    assert!(out.admitted && out.failures.block.is_none(), "{out:?}");
    let out = reserve_blocked(&store, &key(Some("x"), Some("u"), "y:z"), now).await;
    assert_eq!(
        out.failures.block.map(|b| b.target),
        Some(targets[3].clone())
    );
    let out = reserve_blocked(&store, &key(Some("x"), Some("u"), "z"), now).await;
    assert!(out.admitted, "{out:?}");
    let out = reserve_blocked(&store, &key(Some("10.0.0.1"), None, &long_ua), now).await;
    assert_eq!(
        out.failures.block.map(|b| b.target),
        Some(targets[9].clone())
    );
    let out = reserve_blocked(&store, &key(Some("10.0.0.1"), None, &long_ua[1..]), now).await;
    assert!(out.admitted, "{out:?}");
    // the empty username and the empty user agent are values too
    let out = reserve_blocked(&store, &key(Some("9.9.9.9"), Some(""), "ua"), now).await;
    assert_eq!(
        out.failures.block.map(|b| b.target),
        Some(targets[6].clone())
    );
    let out = reserve_blocked(&store, &key(Some("9.9.9.9"), None, ""), now).await;
    assert_eq!(
        out.failures.block.map(|b| b.target),
        Some(targets[7].clone())
    );

    for t in &targets {
        assert!(
            store.remove_block(BlockKind::Manual, t).await.unwrap(),
            "{t}"
        );
    }
    assert!(block_keys(&store).await.is_empty());
    discard(&store).await;
}

#[tokio::test]
async fn block_rows_expire_when_no_longer_needed() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let mut con = raw().await;
    let mut pttl = async |key: String| -> i64 {
        redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut con)
            .await
            .unwrap()
    };
    let row = |kind: &str, member: &str| format!("{}blk:{kind}:{member}", store.prefix());
    let hour = 3_600_000;

    // manual, one hour: needed one hour, plus as much again
    let t = btarget(Some("10.1.1.1"), None, None);
    store
        .put_block(&manual_block(&t, Some(t0() + Duration::hours(1)), t0()))
        .await
        .unwrap();
    let ms = pttl(row("m", "=10.1.1.1:~:~")).await;
    assert!(ms > 2 * hour - 60_000 && ms <= 2 * hour, "{ms}");
    // manual, forever: no TTL
    store
        .put_block(&manual_block(&t, None, t0()))
        .await
        .unwrap();
    assert_eq!(pttl(row("m", "=10.1.1.1:~:~")).await, -1);

    // lockout rows: until, then the memory (one hour) from it
    let e = hour_escalation(Some(3));
    let first = store.record_lockout(&t, t0(), &e).await.unwrap();
    assert_eq!(first.until, Some(t0()));
    let ms = pttl(row("l", "=10.1.1.1:~:~")).await;
    assert!(ms > 2 * hour - 60_000 && ms <= 2 * hour, "memory: {ms}");
    let long = Escalation {
        cooloff: Some(Duration::hours(3)),
        ..e.clone()
    };
    let second = store
        .record_lockout(&t, t0() + Duration::minutes(1), &long)
        .await
        .unwrap();
    assert_eq!(second.lockouts, 2);
    let ms = pttl(row("l", "=10.1.1.1:~:~")).await;
    // until is 6 h away (3 h × 2) and the memory runs an hour past it:
    // needed 7 h, plus as much again
    assert!(ms > 14 * hour - 60_000 && ms <= 14 * hour, "until: {ms}");
    let third = store
        .record_lockout(&t, t0() + Duration::minutes(2), &e)
        .await
        .unwrap();
    assert_eq!((third.lockouts, third.until), (3, None));
    assert_eq!(pttl(row("l", "=10.1.1.1:~:~")).await, -1, "permanent");
    // the indexes never expire (their stale members are swept)
    assert_eq!(pttl(format!("{}blocks:manual", store.prefix())).await, -1);
    assert_eq!(pttl(format!("{}blocks:lockout", store.prefix())).await, -1);
    discard(&store).await;
}

#[tokio::test]
async fn expired_block_rows_are_tolerated() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let targets: Vec<BlockTarget> = (1..=3)
        .map(|i| btarget(Some(&format!("10.2.0.{i}")), None, None))
        .collect();
    for (i, t) in targets.iter().enumerate() {
        store
            .put_block(&manual_block(t, None, t0() + Duration::seconds(i as i64)))
            .await
            .unwrap();
    }
    // Simulate the TTL: drop the row, leave its member in the index.
    let mut con = raw().await;
    let _: () = redis::cmd("DEL")
        .arg(format!("{}blk:m:=10.2.0.2:~:~", store.prefix()))
        .query_async(&mut con)
        .await
        .unwrap();
    let gone = key(Some("10.2.0.2"), Some("u"), "ua");
    assert!(reserve_blocked(&store, &gone, t0()).await.admitted);
    let page = store.list_blocks(None, &ListQuery::all()).await.unwrap();
    assert_eq!((page.total, page.items.len()), (2, 2));
    let zcard = |con: &mut redis::aio::MultiplexedConnection| {
        let key = format!("{}blocks:manual", store.prefix());
        let mut con = con.clone();
        async move {
            redis::cmd("ZCARD")
                .arg(key)
                .query_async::<u64>(&mut con)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        zcard(&mut con).await,
        2,
        "the listing dropped the stale member"
    );
    // again, met by a reset this time
    let _: () = redis::cmd("DEL")
        .arg(format!("{}blk:m:=10.2.0.1:~:~", store.prefix()))
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(
        store
            .reset_blocks(BlockKind::Manual, &ResetFilter::all())
            .await
            .unwrap(),
        1
    );
    assert_eq!(zcard(&mut con).await, 0);
    discard(&store).await;
}

#[tokio::test]
async fn block_listing_resets_and_purges_go_beyond_one_chunk() {
    let Some(store) = fresh_store().await else {
        return;
    };
    // 1100 manual blocks (created at t0 + i s) and 150 lockout rows
    // (t0 + i s + 0.5 s): more than a chunk and a batch of each.
    let user = |i: usize| format!("user{i:04}");
    for i in 0..1100 {
        let t = btarget(None, Some(&user(i)), None);
        let until = (i % 2 == 0).then(|| t0() + Duration::seconds(i as i64 + 10));
        store
            .put_block(&manual_block(&t, until, t0() + Duration::seconds(i as i64)))
            .await
            .unwrap();
    }
    let e = hour_escalation(None);
    for i in 0..150 {
        let t = btarget(Some(&format!("10.3.{}.{}", i / 100, i % 100)), None, None);
        store
            .record_lockout(
                &t,
                t0() + Duration::seconds(i as i64) + Duration::milliseconds(500),
                &e,
            )
            .await
            .unwrap();
    }
    let page = store
        .list_blocks(
            None,
            &ListQuery {
                offset: 1000,
                limit: 100,
                order: Order::OldestFirst,
                ..ListQuery::all()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 1250);
    assert_eq!(page.items.len(), 100);
    // the first 300 rows interleave (manual i, lockout i); then manual only
    assert_eq!(page.items[0].target.username.as_deref(), Some("user0850"));
    assert!(
        page.items
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at)
    );
    let manual_page = store
        .list_blocks(
            Some(BlockKind::Manual),
            &ListQuery {
                offset: 1050,
                limit: 100,
                ..ListQuery::all()
            },
        )
        .await
        .unwrap();
    assert_eq!((manual_page.total, manual_page.items.len()), (1100, 50));
    assert_eq!(
        manual_page.items[0].target.username.as_deref(),
        Some("user0049")
    );
    let searched = store
        .list_blocks(
            None,
            &ListQuery {
                search: Some("USER10".into()),
                limit: 5,
                ..ListQuery::all()
            },
        )
        .await
        .unwrap();
    assert_eq!((searched.total, searched.items.len()), (100, 5));
    assert_eq!(
        searched.items[0].target.username.as_deref(),
        Some("user1099")
    );
    // purge at t0 + 2000 s, forgetting lockouts before t0 + 100 s: the 550
    // bounded manual blocks, and the first 100 lockout rows
    let now = t0() + Duration::seconds(2000);
    assert_eq!(
        store
            .purge_blocks(now, t0() + Duration::seconds(100))
            .await
            .unwrap(),
        650
    );
    assert_eq!(
        store
            .reset_blocks(BlockKind::Lockout, &ResetFilter::all())
            .await
            .unwrap(),
        50
    );
    // one kind left: a listing of both pages in Redis
    let rest = store
        .list_blocks(
            None,
            &ListQuery {
                offset: 540,
                limit: 20,
                ..ListQuery::all()
            },
        )
        .await
        .unwrap();
    assert_eq!((rest.total, rest.items.len()), (550, 10));
    // the 550 left are the odd ones; newest first, the last is user0001
    assert_eq!(
        rest.items.last().unwrap().target.username.as_deref(),
        Some("user0001")
    );
    assert_eq!(
        store
            .reset_blocks(BlockKind::Manual, &ResetFilter::all())
            .await
            .unwrap(),
        550
    );
    assert!(block_keys(&store).await.is_empty());
    discard(&store).await;
}

#[tokio::test]
async fn block_edge_cases() {
    let Some(store) = fresh_store().await else {
        return;
    };
    // An empty target is refused; removing one finds nothing.
    let empty = BlockTarget {
        ip_address: None,
        username: None,
        user_agent: None,
    };
    assert!(matches!(
        store.put_block(&manual_block(&empty, None, t0())).await,
        Err(StoreError::Backend(_))
    ));
    assert!(
        store
            .record_lockout(&empty, t0(), &hour_escalation(None))
            .await
            .is_err()
    );
    assert!(!store.remove_block(BlockKind::Manual, &empty).await.unwrap());

    // A row whose until is not a time: the look-up refuses to guess.
    let t = btarget(Some("10.4.0.1"), None, None);
    store
        .put_block(&manual_block(&t, Some(t0() + Duration::hours(1)), t0()))
        .await
        .unwrap();
    let mut con = raw().await;
    let _: () = redis::cmd("HSET")
        .arg(format!("{}blk:m:=10.4.0.1:~:~", store.prefix()))
        .arg("n")
        .arg("soon")
        .query_async(&mut con)
        .await
        .unwrap();
    let k = key(Some("10.4.0.1"), Some("u"), "ua");
    let p = params(&[&[Field::IpAddress]]);
    let candidates = BlockTarget::candidates(&k);
    let out = store
        .failures(&FailureQuery {
            key: &k,
            parameters: &p,
            window: None,
            now: t0(),
            blocks: &candidates,
            manual_only: false,
        })
        .await;
    assert!(matches!(out, Err(StoreError::Corrupt(_))), "{out:?}");

    // The prefix isolates blocks, and wipe removes them.
    store
        .put_block(&manual_block(&btarget(None, Some("w"), None), None, t0()))
        .await
        .unwrap();
    let Some(other) = fresh_store().await else {
        return;
    };
    assert_eq!(
        other
            .list_blocks(None, &ListQuery::all())
            .await
            .unwrap()
            .total,
        0
    );
    let w = key(None, Some("w"), "ua");
    assert!(reserve_blocked(&other, &w, t0()).await.admitted);
    assert!(!reserve_blocked(&store, &w, t0()).await.admitted);
    store.wipe().await.unwrap();
    assert!(block_keys(&store).await.is_empty());
    let left: u64 = redis::cmd("EXISTS")
        .arg(format!("{}blocks:manual", store.prefix()))
        .arg(format!("{}blocks:lockout", store.prefix()))
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(left, 0);
    discard(&other).await;
    discard(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn a_block_set_during_a_burst_stops_it_at_once() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let store = Arc::new(store);
    let k = key(Some("10.5.0.1"), Some("burst"), "ua");
    let t = btarget(Some("10.5.0.1"), None, None);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        let k = k.clone();
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            if i == 50 {
                store
                    .put_block(&manual_block(&t, None, t0()))
                    .await
                    .unwrap();
                return None;
            }
            Some(reserve_blocked(&*store, &k, t0()).await)
        }));
    }
    let mut admitted = 0;
    let mut blocked = 0;
    for task in tasks {
        if let Some(out) = task.await.unwrap() {
            if out.admitted {
                admitted += 1;
                assert!(out.counted && out.failures.block.is_none());
            } else {
                blocked += 1;
                assert!(!out.counted && out.token.is_none());
                assert_eq!(out.failures.block.map(|b| b.target), Some(t.clone()));
            }
        }
    }
    assert_eq!(admitted + blocked, 199);
    // every admitted attempt was counted, none of the blocked ones
    assert_eq!(stored_failures(&*store).await, admitted);
    assert!(!reserve_blocked(&*store, &k, t0()).await.admitted);
    discard(&store).await;
}

#[tokio::test]
async fn failures_of_a_blocked_client_still_count() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let k = key(Some("10.6.0.1"), Some("counted"), "ua");
    for _ in 0..2 {
        assert!(reserve_blocked(&store, &k, t0()).await.admitted);
    }
    let t = btarget(None, Some("counted"), None);
    store
        .put_block(&manual_block(&t, None, t0()))
        .await
        .unwrap();
    let p = params(&[&[Field::IpAddress], &[Field::Username]]);
    let candidates = BlockTarget::candidates(&k);
    let f = store
        .failures(&FailureQuery {
            key: &k,
            parameters: &p,
            window: Some(Duration::hours(1)),
            now: t0(),
            blocks: &candidates,
            manual_only: false,
        })
        .await
        .unwrap();
    assert_eq!(f.block.map(|b| b.target), Some(t));
    assert_eq!(
        f.per_alternative
            .iter()
            .map(|c| c.failures)
            .collect::<Vec<_>>(),
        [2, 2]
    );
    // the reservation a block refuses counts nothing
    let out = reserve_blocked(&store, &k, t0()).await;
    assert!(!out.admitted && !out.counted && out.failures.per_alternative.is_empty());
    assert_eq!(stored_failures(&store).await, 2);
    discard(&store).await;
}

#[tokio::test]
async fn writes_sweep_expired_members_even_behind_permanent_rows() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let put = async |i: usize| {
        let t = btarget(None, Some(&format!("u{i:03}")), None);
        store
            .put_block(&manual_block(&t, None, t0() + Duration::seconds(i as i64)))
            .await
            .unwrap();
    };
    // two permanent rows first (the oldest members), then ten that expire
    for i in 0..12 {
        put(i).await;
    }
    let mut con = raw().await;
    for i in 2..12 {
        let _: () = redis::cmd("DEL")
            .arg(format!("{}blk:m:~:=u{i:03}:~", store.prefix()))
            .query_async(&mut con)
            .await
            .unwrap();
    }
    // no listing, no purge: writes alone drop the ten stale members
    for i in 12..22 {
        put(i).await;
    }
    let members: u64 = redis::cmd("ZCARD")
        .arg(format!("{}blocks:manual", store.prefix()))
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(members, 12, "2 permanent + 10 new rows, no stale member");
    discard(&store).await;
    let left: u64 = redis::cmd("EXISTS")
        .arg(format!("{}blocks:manual:sweep", store.prefix()))
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(left, 0, "wipe removes the sweep cursor");
}
