//! Scenarios run against every SQL store (see `sqlite.rs`, `postgres.rs`,
//! `mysql.rs`), each on a fresh store.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use axes_core::parameters::{Alternative, Field, LockoutParameters};
use axes_core::store::{
    AttemptDetails, FailureQuery, ListQuery, NewAccessLog, NewFailureLog, Order, RecordKey,
    Reservation, ResetFilter, Store,
};
use chrono::{DateTime, Duration, TimeZone, Utc};

pub type S = Arc<dyn Store>;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
}

pub fn key(username: Option<&str>, ip: Option<&str>, ua: &str) -> RecordKey {
    RecordKey {
        scope: String::new(),
        username: username.map(str::to_owned),
        ip_address: ip.map(str::to_owned),
        user_agent: ua.to_owned(),
    }
}

/// A SQLite store on a fresh file in `dir` with `busy_timeout`, migrated,
/// and the file's URL (for a second connection or store on it).
#[cfg(feature = "sqlite")]
pub async fn file_store(
    dir: &tempfile::TempDir,
    busy_timeout: std::time::Duration,
) -> (axes_sqlx::SqliteStore, String) {
    let url = format!("sqlite://{}", dir.path().join("axes.db").display());
    let options = axes_sqlx::ConnectOptions {
        busy_timeout,
        ..Default::default()
    };
    let store = axes_sqlx::SqliteStore::connect_with(&url, &options)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (store, url)
}

/// Another connection to the file at `url` that holds its write lock
/// (`BEGIN IMMEDIATE`, until `COMMIT` on it), and its pool.
#[cfg(feature = "sqlite")]
pub async fn hold_write_lock(
    url: &str,
) -> (sqlx::SqlitePool, sqlx::pool::PoolConnection<sqlx::Sqlite>) {
    let other = sqlx::SqlitePool::connect(url).await.unwrap();
    let mut holder = other.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    (other, holder)
}

pub fn by(fields: &[&[Field]]) -> LockoutParameters {
    LockoutParameters::new(
        fields
            .iter()
            .map(|f| Alternative::new(f.iter().copied()).unwrap()),
    )
    .unwrap()
}

pub fn details() -> AttemptDetails {
    AttemptDetails {
        path: "/login".into(),
        http_accept: "text/html".into(),
        get_data: "next=/".into(),
        post_data: "username=x&password=********".into(),
    }
}

pub struct R {
    pub key: RecordKey,
    pub details: AttemptDetails,
    pub parameters: LockoutParameters,
    pub limit: Option<u32>,
    pub window: Option<Duration>,
    pub count_when_locked: bool,
}

impl R {
    pub fn new(key: RecordKey) -> Self {
        Self {
            key,
            details: details(),
            parameters: LockoutParameters::default(),
            limit: Some(3),
            window: None,
            count_when_locked: false,
        }
    }

    pub fn at(&self, now: DateTime<Utc>) -> Reservation<'_> {
        Reservation {
            key: &self.key,
            details: &self.details,
            parameters: &self.parameters,
            limit: self.limit,
            window: self.window,
            count_when_locked: self.count_when_locked,
            now,
            blocks: &[],
            manual_only: false,
        }
    }

    pub async fn failures(&self, store: &S, now: DateTime<Utc>) -> Vec<u32> {
        let f = store
            .failures(&FailureQuery {
                key: &self.key,
                parameters: &self.parameters,
                window: self.window,
                now,
                blocks: &[],
                manual_only: false,
            })
            .await
            .unwrap();
        f.per_alternative.iter().map(|c| c.failures).collect()
    }
}

async fn total_failures(store: &S) -> u32 {
    let page = store.list_attempts(&ListQuery::all()).await.unwrap();
    page.items.iter().map(|r| r.failures).sum()
}

/// 100 concurrent reservations with limit 5 admit exactly 5, 20 times over.
pub async fn concurrent_reserve_is_exact(store: S) {
    for round in 0..20 {
        let ip = format!("10.0.0.{round}");
        let r = Arc::new({
            let mut r = R::new(key(Some("alice"), Some(&ip), "ua"));
            r.limit = Some(5);
            r.window = Some(Duration::minutes(30));
            r
        });
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let (store, r) = (store.clone(), r.clone());
            tasks.push(tokio::spawn(async move {
                store.reserve(&r.at(t0())).await.unwrap()
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
                assert_eq!(out.failures.max(), 5);
            }
        }
        assert_eq!(admitted, 5, "round {round}");
        let page = store
            .list_attempts(&ListQuery {
                ip_address: Some(ip.clone()),
                ..ListQuery::all()
            })
            .await
            .unwrap();
        assert_eq!(page.total, 1);
        assert_eq!(page.items[0].failures, 5, "round {round}");
    }
}

/// Concurrency across records: one username from many IPs shares a count.
pub async fn concurrent_reserve_across_records(store: S) {
    let parameters = by(&[&[Field::Username], &[Field::IpAddress, Field::UserAgent]]);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = store.clone();
        let parameters = parameters.clone();
        tasks.push(tokio::spawn(async move {
            let mut r = R::new(key(Some("bob"), Some(&format!("10.1.0.{}", i % 7)), "ua"));
            r.parameters = parameters;
            r.limit = Some(4);
            store.reserve(&r.at(t0())).await.unwrap().admitted
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        admitted += u32::from(t.await.unwrap());
    }
    assert_eq!(admitted, 4);
    assert_eq!(total_failures(&store).await, 4);
}

/// Failures expire once the window has passed; a new one restarts at one.
pub async fn window_expiry(store: S) {
    let mut r = R::new(key(Some("carol"), Some("192.0.2.1"), "ua"));
    r.window = Some(Duration::minutes(10));
    for i in 1..=3u32 {
        let out = store.reserve(&r.at(t0())).await.unwrap();
        assert!(out.admitted && out.counted);
        assert_eq!(out.failures.max(), i);
        assert_eq!(out.failures.per_alternative[0].last_failure, Some(t0()));
    }
    let out = store
        .reserve(&r.at(t0() + Duration::minutes(1)))
        .await
        .unwrap();
    assert!(!out.admitted && !out.counted);
    assert_eq!(out.failures.max(), 3);

    assert_eq!(
        r.failures(&store, t0() + Duration::minutes(9)).await,
        vec![3]
    );
    let later = t0() + Duration::minutes(10);
    assert_eq!(r.failures(&store, later).await, vec![0]);

    let out = store.reserve(&r.at(later)).await.unwrap();
    assert!(out.admitted);
    assert_eq!(out.failures.max(), 1);
    assert_eq!(out.failures.per_alternative[0].last_failure, Some(later));
    let page = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].failures, 1);
    assert_eq!(page.items[0].attempt_time, later);

    // Without a window nothing expires.
    r.window = None;
    assert_eq!(
        r.failures(&store, later + Duration::days(365)).await,
        vec![1]
    );
}

/// A locked client with count_when_locked keeps counting (restarting the
/// cool-off); without it the records stay untouched.
pub async fn count_when_locked(store: S) {
    let mut r = R::new(key(None, Some("192.0.2.2"), ""));
    r.limit = Some(1);
    r.window = Some(Duration::minutes(10));
    assert!(store.reserve(&r.at(t0())).await.unwrap().admitted);
    let out = store
        .reserve(&r.at(t0() + Duration::minutes(5)))
        .await
        .unwrap();
    assert!(!out.admitted && !out.counted);
    r.count_when_locked = true;
    let out = store
        .reserve(&r.at(t0() + Duration::minutes(8)))
        .await
        .unwrap();
    assert!(!out.admitted && out.counted);
    assert_eq!(out.failures.max(), 2);
    // The cool-off restarted at minute 8.
    assert_eq!(
        r.failures(&store, t0() + Duration::minutes(17)).await,
        vec![2]
    );
    assert_eq!(
        r.failures(&store, t0() + Duration::minutes(18)).await,
        vec![0]
    );

    // No limit: always admitted, always counted.
    r.limit = None;
    let out = store
        .reserve(&r.at(t0() + Duration::minutes(9)))
        .await
        .unwrap();
    assert!(out.admitted && out.counted);
    assert_eq!(out.failures.max(), 3);
}

/// Issue 8 (S1): a locked-out client that keeps trying new usernames and
/// user agents adds no record; every refused attempt still restarts the
/// cool-off (on the newest record that locks it), so it stays locked.
pub async fn locked_client_adds_no_rows(store: S) {
    let window = Duration::minutes(10);
    let rows =
        |store: S| async move { store.list_attempts(&ListQuery::all()).await.unwrap().total };
    // By IP address: 203.0.113.5 locks after 3 failures as alice.
    let mut r = R::new(key(Some("alice"), Some("203.0.113.5"), "ua"));
    r.window = Some(window);
    r.count_when_locked = true;
    for _ in 0..3 {
        assert!(store.reserve(&r.at(t0())).await.unwrap().admitted);
    }
    assert_eq!(rows(store.clone()).await, 1);
    let mut last = t0();
    for i in 0..200 {
        let mut other = R::new(key(
            Some(&format!("user{i}")),
            Some("203.0.113.5"),
            &format!("agent{i}"),
        ));
        other.window = Some(window);
        other.count_when_locked = true;
        last = t0() + Duration::seconds(10 + i);
        let out = store.reserve(&other.at(last)).await.unwrap();
        assert!(!out.admitted, "attempt {i}: {out:?}");
        assert!(out.counted && out.token.is_none(), "attempt {i}: {out:?}");
        assert_eq!(out.failures.max(), 4 + u32::try_from(i).unwrap());
    }
    assert_eq!(rows(store.clone()).await, 1, "no row per username tried");
    // Still locked just before the restarted cool-off ends, free after.
    let probe = {
        let mut p = R::new(key(Some("new"), Some("203.0.113.5"), "new"));
        p.window = Some(window);
        p
    };
    assert_eq!(
        probe
            .failures(&store, last + window - Duration::seconds(1))
            .await,
        vec![203]
    );
    assert_eq!(probe.failures(&store, last + window).await, vec![0]);

    // By username, or by address and user agent: bob is locked by
    // username; 200 new addresses trying bob add no record either.
    let parameters = by(&[&[Field::Username], &[Field::IpAddress, Field::UserAgent]]);
    for i in 0..3 {
        let mut r = R::new(key(Some("bob"), Some(&format!("198.51.100.{i}")), "ua"));
        r.parameters = parameters.clone();
        r.window = Some(window);
        assert!(store.reserve(&r.at(t0())).await.unwrap().admitted);
    }
    assert_eq!(rows(store.clone()).await, 4);
    for i in 0..200 {
        let mut r = R::new(key(Some("bob"), Some(&format!("192.0.2.{i}")), "ua"));
        r.parameters = parameters.clone();
        r.window = Some(window);
        r.count_when_locked = true;
        let out = store
            .reserve(&r.at(t0() + Duration::seconds(i)))
            .await
            .unwrap();
        assert!(
            !out.admitted && out.counted && out.token.is_none(),
            "{out:?}"
        );
        // The username alternative counts the refreshed record; the
        // address has none of its own.
        assert_eq!(
            out.failures.per_alternative[0].failures,
            4 + u32::try_from(i).unwrap()
        );
        assert_eq!(out.failures.per_alternative[1].failures, 0);
    }
    assert_eq!(rows(store.clone()).await, 4, "no row per address tried");

    // Without count_when_locked nothing changes at all.
    let mut r = R::new(key(Some("carol"), Some("203.0.113.5"), "x"));
    r.window = Some(window);
    let out = store.reserve(&r.at(last)).await.unwrap();
    assert!(!out.admitted && !out.counted && out.token.is_none());
    assert_eq!(rows(store.clone()).await, 4);
}

/// Absent username and IP are one value each, and read back as absent.
pub async fn absent_values(store: S) {
    let r = R::new(key(None, None, "agent"));
    store.reserve(&r.at(t0())).await.unwrap();
    store.reserve(&r.at(t0())).await.unwrap();
    let page = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(page.total, 1);
    let rec = &page.items[0];
    assert_eq!(rec.key, key(None, None, "agent"));
    assert_eq!(rec.failures, 2);
    assert_eq!(rec.details, details());

    // A record with an IP does not count for the absent-IP alternative.
    let other = R::new(key(None, Some("192.0.2.3"), "agent"));
    store.reserve(&other.at(t0())).await.unwrap();
    assert_eq!(r.failures(&store, t0()).await, vec![2]);
    assert_eq!(other.failures(&store, t0()).await, vec![1]);
}

/// Alternatives sum over records that match on their fields.
pub async fn alternatives_sum(store: S) {
    let parameters = by(&[&[Field::IpAddress], &[Field::Username, Field::UserAgent]]);
    for (u, ip, ua) in [
        ("dave", "192.0.2.4", "a"),
        ("erin", "192.0.2.4", "b"),
        ("dave", "192.0.2.5", "a"),
    ] {
        let mut r = R::new(key(Some(u), Some(ip), ua));
        r.parameters = parameters.clone();
        r.limit = None;
        store.reserve(&r.at(t0())).await.unwrap();
    }
    let mut probe = R::new(key(Some("dave"), Some("192.0.2.4"), "a"));
    probe.parameters = parameters.clone();
    assert_eq!(probe.failures(&store, t0()).await, vec![2, 2]);
    let mut probe = R::new(key(Some("dave"), Some("192.0.2.9"), "b"));
    probe.parameters = parameters;
    assert_eq!(probe.failures(&store, t0()).await, vec![0, 0]);
}

/// Release gives a slot back and deletes the record at zero.
pub async fn release(store: S) {
    let r = R::new(key(Some("frank"), Some("192.0.2.6"), "ua"));
    let first = store.reserve(&r.at(t0())).await.unwrap().token.unwrap();
    let second = store.reserve(&r.at(t0())).await.unwrap().token.unwrap();
    store.release(&r.key, &second).await.unwrap();
    assert_eq!(r.failures(&store, t0()).await, vec![1]);
    store.release(&r.key, &first).await.unwrap();
    assert_eq!(r.failures(&store, t0()).await, vec![0]);
    assert_eq!(
        store.list_attempts(&ListQuery::all()).await.unwrap().total,
        0
    );
    // Releasing what is not there is harmless.
    store.release(&r.key, &first).await.unwrap();
    // So is a token that names no row of this store.
    let mut bogus = first.clone();
    for id in ["x", "", "-1", &"9".repeat(100)] {
        bogus.record_id = id.into();
        store.release(&r.key, &bogus).await.unwrap();
    }
    bogus.record_id = first.record_id.clone();
    bogus.generation = u64::MAX;
    bogus.serial = u64::MAX;
    store.release(&r.key, &bogus).await.unwrap();
}

/// clear_client deletes records matching on ANY alternative.
pub async fn clear_client(store: S) {
    for (u, ip) in [
        ("gina", "192.0.2.7"),
        ("gina", "192.0.2.8"),
        ("hank", "192.0.2.7"),
        ("ivan", "192.0.2.9"),
    ] {
        store
            .reserve(&R::new(key(Some(u), Some(ip), "ua")).at(t0()))
            .await
            .unwrap();
    }
    let n = store
        .clear_client(
            &key(Some("gina"), Some("192.0.2.7"), "ua"),
            &by(&[&[Field::Username], &[Field::IpAddress]]),
        )
        .await
        .unwrap();
    assert_eq!(n, 3);
    let left = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(left.total, 1);
    assert_eq!(left.items[0].key.username.as_deref(), Some("ivan"));
}

/// reset with both filters deletes only records matching BOTH.
pub async fn reset_and_semantics(store: S) {
    for (u, ip) in [
        ("u1", "192.0.2.10"),
        ("u1", "192.0.2.11"),
        ("u2", "192.0.2.10"),
        ("u3", "192.0.2.12"),
    ] {
        store
            .reserve(&R::new(key(Some(u), Some(ip), "ua")).at(t0()))
            .await
            .unwrap();
    }
    let both = ResetFilter {
        ip_address: Some("192.0.2.10".into()),
        username: Some("u1".into()),
    };
    assert_eq!(store.reset(&both).await.unwrap(), 1);
    assert_eq!(store.reset(&both).await.unwrap(), 0);
    let ip_only = ResetFilter {
        ip_address: Some("192.0.2.10".into()),
        username: None,
    };
    assert_eq!(store.reset(&ip_only).await.unwrap(), 1);
    let user_only = ResetFilter {
        ip_address: None,
        username: Some("u1".into()),
    };
    assert_eq!(store.reset(&user_only).await.unwrap(), 1);
    assert_eq!(store.reset(&ResetFilter::all()).await.unwrap(), 1);
    assert_eq!(
        store.list_attempts(&ListQuery::all()).await.unwrap().total,
        0
    );
}

/// purge_attempts deletes records at or before the time.
pub async fn purge(store: S) {
    for (i, ip) in ["192.0.2.20", "192.0.2.21", "192.0.2.22"]
        .iter()
        .enumerate()
    {
        let r = R::new(key(None, Some(ip), ""));
        store
            .reserve(&r.at(t0() + Duration::hours(i as i64)))
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .purge_attempts(t0() + Duration::hours(1))
            .await
            .unwrap(),
        2
    );
    let left = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(left.items[0].key.ip_address.as_deref(), Some("192.0.2.22"));
}

/// Filters, search (case-insensitive, wildcards literal), order and paging.
pub async fn listing(store: S) {
    let rows = [
        ("Alice", "192.0.2.30", "Mozilla/5.0"),
        ("bob", "192.0.2.31", "curl/8.0"),
        ("carol", "2001:db8:1:2::/64", "100%_agent"),
        ("dave", "192.0.2.30", "Wget"),
    ];
    for (i, (u, ip, ua)) in rows.iter().enumerate() {
        let r = R::new(key(Some(u), Some(ip), ua));
        store
            .reserve(&r.at(t0() + Duration::minutes(i as i64)))
            .await
            .unwrap();
    }
    let q = |f: &dyn Fn(&mut ListQuery)| {
        let mut q = ListQuery::all();
        f(&mut q);
        q
    };
    let names = |page: &axes_core::store::Page<axes_core::store::AttemptRecord>| {
        page.items
            .iter()
            .map(|r| r.key.username.clone().unwrap())
            .collect::<Vec<_>>()
    };

    let all = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(names(&all), ["dave", "carol", "bob", "Alice"]);
    assert_eq!(all.total, 4);

    let p = store
        .list_attempts(&q(&|q| q.order = Order::OldestFirst))
        .await
        .unwrap();
    assert_eq!(names(&p), ["Alice", "bob", "carol", "dave"]);

    let p = store
        .list_attempts(&q(&|q| {
            q.offset = 1;
            q.limit = 2;
        }))
        .await
        .unwrap();
    assert_eq!(names(&p), ["carol", "bob"]);
    assert_eq!(p.total, 4);

    let p = store
        .list_attempts(&q(&|q| q.ip_address = Some("192.0.2.30".into())))
        .await
        .unwrap();
    assert_eq!(names(&p), ["dave", "Alice"]);

    let p = store
        .list_attempts(&q(&|q| q.username = Some("bob".into())))
        .await
        .unwrap();
    assert_eq!(names(&p), ["bob"]);

    for (needle, want) in [
        ("ALICE", vec!["Alice"]),
        ("mozilla", vec!["Alice"]),
        ("2001:DB8", vec!["carol"]),
        ("%", vec!["carol"]),
        ("_a", vec!["carol"]),
        ("0%_", vec!["carol"]),
        ("192.0.2.3", vec!["dave", "bob", "Alice"]),
        ("nobody", vec![]),
    ] {
        let p = store
            .list_attempts(&q(&|q| q.search = Some(needle.into())))
            .await
            .unwrap();
        assert_eq!(names(&p), want, "search {needle:?}");
        assert_eq!(p.total as usize, want.len());
    }

    let p = store
        .list_attempts(&q(&|q| {
            q.since = Some(t0() + Duration::minutes(1));
            q.until = Some(t0() + Duration::minutes(3));
        }))
        .await
        .unwrap();
    assert_eq!(names(&p), ["carol", "bob"]);

    // limit 0 is bounded up to 1.
    let p = store.list_attempts(&q(&|q| q.limit = 0)).await.unwrap();
    assert_eq!(p.items.len(), 1);
    // An offset past the end: no rows, the total still counts.
    let p = store.list_attempts(&q(&|q| q.offset = 10)).await.unwrap();
    assert!(p.items.is_empty());
    assert_eq!(p.total, 4);
}

/// Access log: insert, list, close by username and session.
pub async fn access_log(store: S) {
    let entry = |u: &str, session: &str, minute: i64| NewAccessLog {
        key: key(Some(u), Some("192.0.2.40"), "ua"),
        path: "/login".into(),
        http_accept: "*/*".into(),
        attempt_time: t0() + Duration::minutes(minute),
        session_hash: session.into(),
    };
    store
        .insert_access_log(&entry("jill", "s1", 0))
        .await
        .unwrap();
    store
        .insert_access_log(&entry("jill", "s2", 1))
        .await
        .unwrap();
    store
        .insert_access_log(&entry("kate", "s1", 2))
        .await
        .unwrap();
    let logout = t0() + Duration::hours(1);
    assert_eq!(
        store.close_access_log("jill", "s1", logout).await.unwrap(),
        1
    );
    assert_eq!(
        store.close_access_log("jill", "s1", logout).await.unwrap(),
        0
    );
    let page = store.list_access_logs(&ListQuery::all()).await.unwrap();
    assert_eq!(page.total, 3);
    let jill_s1 = page
        .items
        .iter()
        .find(|r| r.entry.session_hash == "s1" && r.entry.key.username.as_deref() == Some("jill"))
        .unwrap();
    assert_eq!(jill_s1.logout_time, Some(logout));
    assert_eq!(jill_s1.entry, entry("jill", "s1", 0));
    assert_eq!(
        page.items
            .iter()
            .filter(|r| r.logout_time.is_none())
            .count(),
        2
    );
    // Reset by age: `before` is inclusive.
    assert_eq!(
        store
            .reset_access_logs(Some(t0() + Duration::minutes(1)))
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.reset_access_logs(None).await.unwrap(), 1);
}

/// Failure log: the oldest rows of a username beyond the cap go.
pub async fn failure_log_cap(store: S) {
    let entry = |u: Option<&str>, minute: i64| NewFailureLog {
        key: key(u, Some("192.0.2.50"), "ua"),
        path: "/login".into(),
        http_accept: "*/*".into(),
        attempt_time: t0() + Duration::minutes(minute),
        locked_out: minute >= 2,
    };
    for m in 0..5 {
        store
            .insert_failure_log(&entry(Some("lena"), m), 3)
            .await
            .unwrap();
        store.insert_failure_log(&entry(None, m), 2).await.unwrap();
    }
    store
        .insert_failure_log(&entry(Some("mike"), 9), 3)
        .await
        .unwrap();
    let page = store
        .list_failure_logs(&ListQuery {
            username: Some("lena".into()),
            order: Order::OldestFirst,
            ..ListQuery::all()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.items[0].entry, entry(Some("lena"), 2));
    assert!(page.items[0].entry.locked_out);
    let all = store.list_failure_logs(&ListQuery::all()).await.unwrap();
    assert_eq!(all.total, 3 + 2 + 1);
    assert_eq!(
        all.items
            .iter()
            .filter(|r| r.entry.key.username.is_none())
            .count(),
        2
    );
    // A cap of zero keeps nothing of that username.
    store
        .insert_failure_log(&entry(Some("mike"), 10), 0)
        .await
        .unwrap();
    let mike = store
        .list_failure_logs(&ListQuery {
            username: Some("mike".into()),
            ..ListQuery::all()
        })
        .await
        .unwrap();
    assert_eq!(mike.total, 0);
    assert_eq!(
        store
            .reset_failure_logs(Some(t0() + Duration::minutes(3)))
            .await
            .unwrap(),
        3
    );
    assert_eq!(store.reset_failure_logs(None).await.unwrap(), 2);
}

/// Deletes by id skip ids that are not there or not ids.
pub async fn delete_by_id(store: S) {
    for ip in ["192.0.2.60", "192.0.2.61", "192.0.2.62"] {
        store
            .reserve(&R::new(key(None, Some(ip), "")).at(t0()))
            .await
            .unwrap();
        store
            .insert_access_log(&NewAccessLog {
                key: key(Some("u"), Some(ip), ""),
                path: String::new(),
                http_accept: String::new(),
                attempt_time: t0(),
                session_hash: String::new(),
            })
            .await
            .unwrap();
        store
            .insert_failure_log(
                &NewFailureLog {
                    key: key(Some("u"), Some(ip), ""),
                    path: String::new(),
                    http_accept: String::new(),
                    attempt_time: t0(),
                    locked_out: false,
                },
                100,
            )
            .await
            .unwrap();
    }
    let attempts = store.list_attempts(&ListQuery::all()).await.unwrap();
    let mut ids: Vec<String> = attempts.items[..2].iter().map(|r| r.id.clone()).collect();
    ids.extend(["nope".to_owned(), "999999".to_owned(), ids[0].clone()]);
    assert_eq!(store.delete_attempts(&ids).await.unwrap(), 2);
    assert_eq!(
        store.list_attempts(&ListQuery::all()).await.unwrap().total,
        1
    );

    let logs = store.list_access_logs(&ListQuery::all()).await.unwrap();
    let ids = vec![logs.items[0].id.clone(), "x".into()];
    assert_eq!(store.delete_access_logs(&ids).await.unwrap(), 1);
    let logs = store.list_failure_logs(&ListQuery::all()).await.unwrap();
    let ids: Vec<String> = logs.items.iter().map(|r| r.id.clone()).collect();
    assert_eq!(store.delete_failure_logs(&ids).await.unwrap(), 3);
    assert_eq!(store.delete_failure_logs(&[]).await.unwrap(), 0);
}

/// A scope longer than a store keeps is an error of every keyed operation,
/// never cut (two scopes would count together); the longest is kept.
pub async fn scope_too_long(store: S) {
    use axes_core::store::MAX_SCOPE_CHARS;

    let mut r = R::new(key(Some("u"), Some("192.0.2.90"), "ua"));
    r.key.scope = "s".repeat(MAX_SCOPE_CHARS);
    let token = store.reserve(&r.at(t0())).await.unwrap().token.unwrap();
    r.key.scope.push('x');
    let err = store.reserve(&r.at(t0())).await.unwrap_err();
    assert!(!err.is_outage(), "{err:?}");
    assert!(err.to_string().contains("scope"), "{err}");
    let q = FailureQuery {
        key: &r.key,
        parameters: &r.parameters,
        window: None,
        now: t0(),
        blocks: &[],
        manual_only: false,
    };
    assert!(store.failures(&q).await.is_err());
    assert!(store.release(&r.key, &token).await.is_err());
    assert!(store.clear_client(&r.key, &r.parameters).await.is_err());
    let page = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].key.scope, "s".repeat(MAX_SCOPE_CHARS));
    assert_eq!(page.items[0].failures, 1);
}

/// Over-long values are cut to the column sizes instead of failing.
pub async fn long_values(store: S) {
    let long = "é".repeat(2000);
    let mut r = R::new(key(Some(&long), Some(&long[..100]), &long));
    r.details = AttemptDetails {
        path: long.clone(),
        http_accept: long.clone(),
        get_data: long.clone(),
        post_data: long.clone(),
    };
    store.reserve(&r.at(t0())).await.unwrap();
    let second = store.reserve(&r.at(t0())).await.unwrap().token.unwrap();
    assert_eq!(r.failures(&store, t0()).await, vec![2]);
    let rec = &store.list_attempts(&ListQuery::all()).await.unwrap().items[0];
    assert_eq!(rec.key.username.as_ref().unwrap().chars().count(), 255);
    assert_eq!(rec.details.http_accept.chars().count(), 1025);
    assert_eq!(rec.details.post_data.chars().count(), 1024);
    store.release(&r.key, &second).await.unwrap();
    assert_eq!(r.failures(&store, t0()).await, vec![1]);
}

/// The key of the record [`upgraded_record`] expects: written by the first
/// schema version with 2 failures at [`t0`].
pub fn old_record_key() -> RecordKey {
    key(Some("olga"), Some("192.0.2.80"), "ua")
}

/// After a database of the first schema version (holding the record of
/// [`old_record_key`]) was upgraded by `migrate`: the record keeps its
/// count, and reservations and give-backs on it are exact.
pub async fn upgraded_record(store: S) {
    store.migrate().await.unwrap();
    let mut r = R::new(old_record_key());
    r.limit = None;
    let listed = |store: S| async move {
        let page = store.list_attempts(&ListQuery::all()).await.unwrap();
        assert_eq!(page.total, 1);
        (page.items[0].failures, page.items[0].attempt_time)
    };
    assert_eq!(listed(store.clone()).await, (2, t0()));
    let third = store
        .reserve(&r.at(t0() + Duration::seconds(10)))
        .await
        .unwrap()
        .token
        .unwrap();
    assert_eq!(third.previous_time, Some(t0()));
    store.release(&r.key, &third).await.unwrap();
    assert_eq!(listed(store.clone()).await, (2, t0()), "time restored");
    let stale = store.reserve(&r.at(t0())).await.unwrap().token.unwrap();
    store.reset(&ResetFilter::all()).await.unwrap();
    let fresh = store.reserve(&r.at(t0())).await.unwrap().token.unwrap();
    store.release(&r.key, &stale).await.unwrap();
    assert_eq!(listed(store.clone()).await, (1, t0()), "stale give-back");
    store.release(&r.key, &fresh).await.unwrap();
    assert_eq!(
        store.list_attempts(&ListQuery::all()).await.unwrap().total,
        0
    );
}

/// Block targets keep absent fields apart from empty ones (a lockout of
/// the empty user agent is not one of every user agent), and long values
/// are cut to the column sizes the same way when blocking and when looking
/// up, so a long username is still refused.
pub async fn block_targets_as_stored(store: S) {
    use axes_core::blocks::{Block, BlockKind, BlockTarget, Escalation};

    let refusing = |store: S, k: RecordKey| async move {
        let candidates = BlockTarget::candidates(&k);
        let r = R::new(k);
        let out = store
            .reserve(&Reservation {
                blocks: &candidates,
                manual_only: false,
                ..r.at(t0())
            })
            .await
            .unwrap();
        out.failures.block.map(|b| b.target)
    };
    let forever = Escalation {
        cooloff: Some(Duration::minutes(1)),
        multiplier: 1.0,
        max: None,
        memory: Duration::hours(1),
        permanent_after: Some(1),
    };
    let no_agent = BlockTarget::new(Some("10.0.0.1".into()), None, Some(String::new())).unwrap();
    let row = store
        .record_lockout(&no_agent, t0(), &forever)
        .await
        .unwrap();
    assert_eq!((row.lockouts, row.until), (1, None));
    assert_eq!(
        refusing(store.clone(), key(Some("x"), Some("10.0.0.1"), "")).await,
        Some(no_agent.clone())
    );
    assert_eq!(
        refusing(store.clone(), key(Some("x"), Some("10.0.0.1"), "curl")).await,
        None
    );
    let ip_only = BlockTarget::new(Some("10.0.0.1".into()), None, None).unwrap();
    assert!(
        !store
            .remove_block(BlockKind::Lockout, &ip_only)
            .await
            .unwrap()
    );
    assert!(
        store
            .remove_block(BlockKind::Lockout, &no_agent)
            .await
            .unwrap()
    );

    let long = "é".repeat(300);
    let target = BlockTarget::new(None, Some(long.clone()), None).unwrap();
    let block = Block {
        kind: BlockKind::Manual,
        target: target.clone(),
        until: None,
        created_at: t0(),
        created_by: "x".repeat(400),
        lockouts: 0,
    };
    store.put_block(&block).await.unwrap();
    let refused = refusing(store.clone(), key(Some(&long), Some("10.0.0.2"), "ua")).await;
    let stored = refused.unwrap().username.unwrap();
    assert_eq!(stored.chars().count(), 255);
    assert!(long.starts_with(&stored));
    let listed = store.list_blocks(None, &ListQuery::all()).await.unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.items[0].created_by.len(), 255);
    assert!(
        store
            .remove_block(BlockKind::Manual, &target)
            .await
            .unwrap()
    );
}

/// The statements that take a database of schema version 4 back to
/// version 3: no blocks table (migration 0004). A fresh database is first
/// taken back to version 4 by its dialect's `UNDO_SCOPES`.
pub const UNDO_BLOCKS: [&str; 2] = [
    "DROP TABLE axes_blocks",
    "DELETE FROM _axes_migrations WHERE version = 4",
];

/// Writes what a database of schema version 3 holds before it is taken
/// back there by [`UNDO_BLOCKS`]: two failures of [`old_record_key`].
pub async fn before_blocks(store: &S) -> R {
    let r = R::new(old_record_key());
    for _ in 0..2 {
        assert!(store.reserve(&r.at(t0())).await.unwrap().admitted);
    }
    r
}

/// After a database of schema version 3 (see [`before_blocks`]) was
/// upgraded by `migrate`: the record keeps its count, and blocks refuse
/// and are listed.
pub async fn upgraded_to_blocks(store: S, r: R) {
    use axes_core::blocks::{Block, BlockKind, BlockTarget, Escalation};

    store.migrate().await.unwrap();
    assert_eq!(r.failures(&store, t0()).await, vec![2]);
    let candidates = BlockTarget::candidates(&r.key);
    let looked_up = |now| Reservation {
        blocks: &candidates,
        manual_only: false,
        ..r.at(now)
    };
    let out = store.reserve(&looked_up(t0())).await.unwrap();
    assert!(out.admitted && out.failures.block.is_none(), "{out:?}");
    let block = Block {
        kind: BlockKind::Manual,
        target: BlockTarget::new(r.key.ip_address.clone(), None, None).unwrap(),
        until: None,
        created_at: t0(),
        created_by: "cli".into(),
        lockouts: 0,
    };
    store.put_block(&block).await.unwrap();
    let out = store.reserve(&looked_up(t0())).await.unwrap();
    assert!(!out.admitted && !out.counted, "{out:?}");
    assert_eq!(out.failures.block, Some(block.clone()));
    assert_eq!(r.failures(&store, t0()).await, vec![3], "nothing counted");
    let escalation = Escalation {
        cooloff: Some(Duration::minutes(1)),
        multiplier: 2.0,
        max: None,
        memory: Duration::hours(1),
        permanent_after: None,
    };
    let target = BlockTarget::new(None, r.key.username.clone(), None).unwrap();
    store
        .record_lockout(&target, t0(), &escalation)
        .await
        .unwrap();
    let page = store.list_blocks(None, &ListQuery::all()).await.unwrap();
    assert_eq!(page.total, 2, "{page:?}");
}

/// The two clients [`before_scopes`] writes.
fn scopes_clients() -> [R; 2] {
    let mut by_ip = R::new(old_record_key());
    by_ip.parameters = by(&[&[Field::IpAddress], &[Field::Username]]);
    by_ip.limit = Some(3);
    let mut other = R::new(key(Some("pavel"), Some("192.0.2.80"), "other-agent"));
    other.parameters = by_ip.parameters.clone();
    other.limit = Some(3);
    [by_ip, other]
}

/// Writes what a database of schema version 4 holds before it is taken
/// back there: two records of one address (two failures and one), and a
/// third record deleted (so the id sequence is ahead of the ids). Returns
/// the listing and the deleted record's id.
pub async fn before_scopes(store: &S) -> (Vec<axes_core::store::AttemptRecord>, i64) {
    let [a, b] = scopes_clients();
    for _ in 0..2 {
        assert!(store.reserve(&a.at(t0())).await.unwrap().admitted);
    }
    assert!(
        store
            .reserve(&b.at(t0() + Duration::seconds(1)))
            .await
            .unwrap()
            .admitted
    );
    let gone = R::new(key(Some("gone"), Some("198.51.100.99"), ""));
    store.reserve(&gone.at(t0())).await.unwrap();
    let page = store.list_attempts(&ListQuery::all()).await.unwrap();
    let id = page
        .items
        .iter()
        .find(|r| r.key == gone.key)
        .unwrap()
        .id
        .clone();
    assert_eq!(
        store
            .delete_attempts(std::slice::from_ref(&id))
            .await
            .unwrap(),
        1
    );
    let listed = store.list_attempts(&ListQuery::all()).await.unwrap().items;
    (listed, id.parse().unwrap())
}

/// After a database of schema version 4 (see [`before_scopes`]) was
/// upgraded by `migrate`: every record is there with its id, the scope
/// `""`, its count and time; counts are as before; a reservation of the
/// default scope continues an old record; another scope counts apart; no
/// id is reused.
pub async fn upgraded_to_scopes(
    store: S,
    (before, deleted): (Vec<axes_core::store::AttemptRecord>, i64),
) {
    store.migrate().await.unwrap();
    let after = store.list_attempts(&ListQuery::all()).await.unwrap().items;
    assert_eq!(after, before, "records kept, in the scope \"\"");
    assert!(after.iter().all(|r| r.key.scope.is_empty()));
    let [a, b] = scopes_clients();
    assert_eq!(a.failures(&store, t0()).await, vec![3, 2], "ip 3, olga 2");
    assert_eq!(b.failures(&store, t0()).await, vec![3, 1]);
    let out = store.reserve(&a.at(t0() + Duration::seconds(2))).await;
    assert!(!out.unwrap().admitted, "the address is still locked");

    let mut scoped = scopes_clients();
    scoped[0].key.scope = "rule:ip_address:3/1h".into();
    let out = store.reserve(&scoped[0].at(t0())).await.unwrap();
    assert!(out.admitted, "another scope counts apart: {out:?}");
    assert_eq!(out.failures.max(), 1);
    let mut b2 = R::new(b.key.clone());
    b2.limit = None;
    store
        .reserve(&b2.at(t0() + Duration::seconds(3)))
        .await
        .unwrap();

    let after = store.list_attempts(&ListQuery::all()).await.unwrap().items;
    assert_eq!(after.len(), 3, "{after:?}");
    let old_b = before.iter().find(|r| r.key == b.key).unwrap();
    let new_b = after.iter().find(|r| r.key == b.key).unwrap();
    assert_eq!((&new_b.id, new_b.failures), (&old_b.id, 2), "continued");
    let new = after.iter().find(|r| !r.key.scope.is_empty()).unwrap();
    let new_id: i64 = new.id.parse().unwrap();
    assert!(
        new_id > deleted,
        "ids are never reused: {new_id} after {deleted}"
    );
}

/// migrate is idempotent; ping and kind answer.
pub async fn migrate_twice(store: S) {
    store
        .reserve(&R::new(key(None, Some("192.0.2.70"), "")).at(t0()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
    assert!(["sqlite", "postgres", "mysql"].contains(&store.kind()));
    assert_eq!(
        store.list_attempts(&ListQuery::all()).await.unwrap().total,
        1
    );
}

/// Sub-microsecond parts of times are dropped consistently.
pub async fn time_precision(store: S) {
    let now = t0() + Duration::nanoseconds(123_456_789);
    let r = R::new(key(None, Some("192.0.2.80"), ""));
    let out = store.reserve(&r.at(now)).await.unwrap();
    let stored = store.list_attempts(&ListQuery::all()).await.unwrap().items[0].attempt_time;
    assert_eq!(stored, t0() + Duration::microseconds(123_456));
    assert_eq!(out.failures.per_alternative[0].last_failure, Some(stored));
}

/// Reservations cancelled at any point (a caller's timeout) leave no lock
/// and no open transaction behind: the next reservation goes through.
pub async fn cancelled_reserve_leaves_no_lock(store: S) {
    let r = Arc::new({
        let mut r = R::new(key(Some("olga"), Some("192.0.2.100"), "ua"));
        r.limit = None;
        r.parameters = by(&[&[Field::IpAddress], &[Field::Username]]);
        r
    });
    for i in 0..40u64 {
        let (store2, r2) = (store.clone(), r.clone());
        let _ = tokio::time::timeout(std::time::Duration::from_micros(i * 50), async move {
            store2.reserve(&r2.at(t0())).await
        })
        .await;
    }
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        store.reserve(&r.at(t0())),
    )
    .await
    .expect("a reservation after cancelled ones must not hang on a stale lock")
    .unwrap();
    assert!(out.admitted);
    // Every reservation that committed is counted exactly once.
    let page = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].failures, out.failures.max());
}

/// Prints the median time of one `reserve` over 1000 sequential calls.
pub async fn reserve_latency(store: S) {
    let mut r = R::new(key(Some("bench"), Some("198.51.100.1"), "bench-agent"));
    r.limit = None;
    r.window = Some(Duration::minutes(30));
    for _ in 0..50 {
        store.reserve(&r.at(t0())).await.unwrap();
    }
    let mut times = Vec::with_capacity(1000);
    for i in 0..1000 {
        // A fresh client every 10 calls: inserts and updates both measured.
        r.key.ip_address = Some(format!("198.51.100.{}", i / 10));
        let start = Instant::now();
        store.reserve(&r.at(t0())).await.unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "{}: reserve median {:?}, p90 {:?}, p99 {:?} (1000 sequential calls)",
        store.kind(),
        times[500],
        times[900],
        times[990]
    );
}

/// Declares one `#[tokio::test]` per scenario, each on a fresh store from
/// `$make` (skipped when it returns `None`).
#[macro_export]
macro_rules! scenarios {
    ($make:path) => {
        $crate::scenarios!(@each $make;
            concurrent_reserve_is_exact, concurrent_reserve_across_records, window_expiry,
            count_when_locked, locked_client_adds_no_rows, absent_values, alternatives_sum, release, clear_client,
            reset_and_semantics, purge, listing, access_log, failure_log_cap, delete_by_id,
            long_values, scope_too_long, block_targets_as_stored, migrate_twice, time_precision, cancelled_reserve_leaves_no_lock);

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        #[ignore = "benchmark: cargo test -p axes-sqlx --all-features -- --ignored --nocapture"]
        async fn reserve_latency() {
            if let Some(store) = $make().await {
                common::reserve_latency(store).await;
            }
        }
    };
    (@each $make:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                if let Some(store) = $make().await {
                    common::$name(store).await;
                }
            }
        )*
    };
}

/// Runs the statements `$statements` on one connection of `$pool`, in one
/// transaction (on SQLite, a connection of the pool that has not seen the
/// latest schema change would judge a DDL statement by the schema it
/// knows).
#[macro_export]
macro_rules! undo {
    ($pool:expr, $statements:expr) => {{
        let mut tx = $pool.begin().await.unwrap();
        for statement in $statements {
            sqlx::query(statement).execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    }};
}

/// Declares `upgrades_from_the_third_schema`: a database of schema version
/// 3 (before blocks; `$make` gives a fresh store, `None` to skip, and
/// `$undo_scopes` takes it back to version 4) upgrades, its records stay,
/// and blocks work.
#[macro_export]
macro_rules! upgrade_from_schema_three {
    ($make:expr, $undo_scopes:expr) => {
        #[tokio::test]
        async fn upgrades_from_the_third_schema() {
            let Some(store) = $make.await else {
                return;
            };
            let pool = store.pool().clone();
            let store: common::S = std::sync::Arc::new(store);
            let r = common::before_blocks(&store).await;
            $crate::undo!(&pool, $undo_scopes.into_iter().chain(common::UNDO_BLOCKS));
            common::upgraded_to_blocks(store, r).await;
        }
    };
}

/// Declares `upgrades_from_the_fourth_schema`: a database of schema
/// version 4 (before scopes; `$make` gives a fresh store, `None` to skip,
/// and `$undo_scopes` takes it back there) upgrades, its records stay with
/// the scope `""` and count as before, and scopes count apart.
#[macro_export]
macro_rules! upgrade_from_schema_four {
    ($make:expr, $undo_scopes:expr) => {
        #[tokio::test]
        async fn upgrades_from_the_fourth_schema() {
            let Some(store) = $make.await else {
                return;
            };
            let pool = store.pool().clone();
            let store: common::S = std::sync::Arc::new(store);
            let before = common::before_scopes(&store).await;
            $crate::undo!(&pool, $undo_scopes);
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _axes_migrations")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(n, 4, "back at schema version 4");
            common::upgraded_to_scopes(store, before).await;
        }
    };
}
