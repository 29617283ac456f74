//! The memory store under floods: eviction never frees a lockout, a store
//! full of lockouts refuses new clients (and the engine follows
//! `fail_closed`), expired records go first, and the work of one attempt
//! does not grow with what its address did before.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use axes_core::memory::{MemoryLimits, MemoryStats};
use axes_core::store::{NewFailureLog, RecordKey};
use axes_core::{
    Attempt, AuthError, Axes, Field, LockoutParameters, ManualClock, MemoryStore, Settings, Store,
};

fn ip(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))
}

fn attempt(i: u32, user: &str) -> Attempt {
    Attempt::new()
        .ip_address(ip(i))
        .username(user)
        .user_agent("flood")
        .path("/login")
}

fn store(max_records: usize) -> Arc<MemoryStore> {
    Arc::new(MemoryStore::with_limits(MemoryLimits {
        max_records,
        max_log_rows: 100,
    }))
}

fn engine(store: &Arc<MemoryStore>, settings: Settings, clock: &ManualClock) -> Axes {
    Axes::builder(settings)
        .store(store.clone())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
}

fn clock() -> ManualClock {
    ManualClock::new(chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap())
}

async fn fail(axes: &Axes, a: &Attempt) {
    if let Ok(t) = axes.begin(a).await {
        let _ = t.failed().await;
    }
}

/// Right password: Ok when let in.
async fn login(axes: &Axes, a: &Attempt) -> Result<(), AuthError<std::convert::Infallible>> {
    axes.authenticate(a, || async { Ok(Some(())) }).await
}

fn by_username(limit: u32) -> Settings {
    Settings {
        failure_limit: limit,
        lockout_parameters: LockoutParameters::any_of(&[Field::Username]),
        ..Settings::default()
    }
}

/// 20 usernames locked (no cool-off: until reset), then 5 000 new clients
/// through a store of 100 records: every lockout holds, the store stays
/// within its bound, and the flood's own records made room for each other.
#[tokio::test]
async fn a_flood_never_frees_a_lockout() {
    let store = store(100);
    let clock = clock();
    let axes = engine(&store, by_username(3), &clock);
    for v in 0..20 {
        for _ in 0..3 {
            fail(&axes, &attempt(1_000_000 + v, &format!("victim{v}"))).await;
        }
    }
    assert_eq!(store.len(), 20);
    for i in 0..5_000 {
        clock.advance(chrono::Duration::seconds(1));
        fail(&axes, &attempt(i, &format!("flood{i}"))).await;
        assert!(store.len() <= 100);
    }
    assert_eq!(store.len(), 100);
    for v in 0..20 {
        let a = attempt(7, &format!("victim{v}"));
        assert!(axes.check(&a).await.lockout.is_some(), "victim{v} unlocked");
        assert!(
            matches!(login(&axes, &a).await, Err(AuthError::LockedOut(_))),
            "victim{v} logged in after the flood"
        );
    }
    // The newest flood records are the ones kept.
    assert!(axes.check(&attempt(4_999, "flood4999")).await.failures == 1);
    assert!(axes.check(&attempt(0, "flood0")).await.failures == 0);
}

/// When every record is part of a lockout, a new client cannot be
/// tracked: the reservation fails and the engine follows `fail_closed`.
/// Tracked clients are still counted and every lockout holds.
#[tokio::test]
async fn a_store_full_of_lockouts_refuses_new_clients() {
    for fail_closed in [false, true] {
        let store = store(10);
        let clock = clock();
        let settings = Settings {
            fail_closed,
            ..by_username(2)
        };
        let axes = engine(&store, settings, &clock);
        for v in 0..9 {
            for _ in 0..2 {
                fail(&axes, &attempt(v, &format!("victim{v}"))).await;
            }
        }
        // One tracked client below the limit, then the store is full.
        fail(&axes, &attempt(50, "tracked")).await;
        assert_eq!(store.len(), 10);
        // The tracked one is evicted to make room for a new client: it
        // was the only record below the limit.
        fail(&axes, &attempt(51, "newcomer")).await;
        assert_eq!(store.len(), 10);
        assert_eq!(axes.check(&attempt(50, "tracked")).await.failures, 0);
        assert_eq!(axes.check(&attempt(51, "newcomer")).await.failures, 1);
        // The newcomer reaches the limit: now all ten records lock.
        fail(&axes, &attempt(51, "newcomer")).await;
        let stranger = attempt(60, "stranger");
        let outcome = login(&axes, &stranger).await;
        if fail_closed {
            assert!(
                matches!(outcome, Err(AuthError::LockedOut(_))),
                "{outcome:?}"
            );
        } else {
            assert!(outcome.is_ok(), "let through uncounted: {outcome:?}");
        }
        assert_eq!(store.len(), 10, "nothing evicted");
        // One client's refusal is not an outage: the store is not taken for
        // down, so nobody else goes unprotected.
        assert!(axes.store_status().available);
        for v in 0..9 {
            let a = attempt(99, &format!("victim{v}"));
            assert!(
                axes.check(&a).await.lockout.is_some(),
                "victim{v} (fail_closed {fail_closed})"
            );
        }
        assert!(axes.check(&attempt(51, "newcomer")).await.lockout.is_some());
        let err = store
            .reserve(&axes_core::store::Reservation {
                key: &RecordKey {
                    scope: String::new(),
                    username: Some("stranger".into()),
                    ip_address: None,
                    user_agent: String::new(),
                },
                details: &Default::default(),
                parameters: &LockoutParameters::any_of(&[Field::Username]),
                limit: Some(2),
                window: None,
                count_when_locked: true,
                now: axes.now(),
                blocks: &[],
                manual_only: false,
            })
            .await
            .unwrap_err();
        assert!(err.to_string().contains("memory store full"), "{err}");
    }
}

/// With a cool-off, expired records go first and a flood whose failures
/// expire keeps the store bounded; a purge then empties it.
#[tokio::test]
async fn expired_records_go_first_and_purge_empties_the_store() {
    let store = store(200);
    let clock = clock();
    let settings = Settings {
        cooloff_time: Some(Duration::from_secs(60)),
        ..by_username(3)
    };
    let axes = engine(&store, settings, &clock);
    for _ in 0..3 {
        fail(&axes, &attempt(1, "victim")).await;
    }
    for i in 0..10_000 {
        if i % 50 == 0 {
            clock.advance(chrono::Duration::seconds(10));
            // The victim keeps trying: each refused attempt restarts its
            // cool-off, so its lockout outlives every flood record.
            fail(&axes, &attempt(1, "victim")).await;
        }
        fail(&axes, &attempt(i + 10, &format!("flood{i}"))).await;
        assert!(store.len() <= 200);
    }
    assert!(axes.check(&attempt(1, "victim")).await.lockout.is_some());
    clock.advance(chrono::Duration::seconds(61));
    let purged = axes.purge_expired().await.unwrap();
    assert!(purged > 0);
    assert!(store.is_empty(), "{} left", store.len());
    assert_eq!(axes.purge_expired().await.unwrap(), 0);
}

/// One address sprays 10 000 usernames (the limit out of reach: counted by
/// IP and username together): the index entries an attempt reads stay the
/// same from the first attempt to the last.
#[tokio::test]
async fn the_work_per_attempt_does_not_grow_with_a_spray() {
    let store = store(100_000);
    let clock = clock();
    let settings = Settings {
        failure_limit: 5,
        lockout_parameters: LockoutParameters::new([
            axes_core::Alternative::new([Field::IpAddress, Field::Username]).unwrap(),
            axes_core::Alternative::new([Field::Username]).unwrap(),
        ])
        .unwrap(),
        ..Settings::default()
    };
    let axes = engine(&store, settings, &clock);
    let visited = |s: MemoryStats| s.visited;
    let mut per_attempt = Vec::new();
    for i in 0..10_000 {
        let before = visited(store.stats());
        fail(&axes, &attempt(1, &format!("user{i}"))).await;
        per_attempt.push(visited(store.stats()) - before);
    }
    let first = per_attempt[0];
    assert!(
        per_attempt.iter().all(|n| *n == first),
        "entries read per attempt changed: first {first}, max {:?}",
        per_attempt.iter().max()
    );
    let stats = store.stats();
    assert_eq!(stats.records, 10_000);
    // One bucket per (IP, username) (mask 3) and per username (mask 2).
    let mut buckets = stats.buckets.clone();
    buckets.sort_unstable();
    assert_eq!(buckets, vec![(2, 10_000), (3, 10_000)]);
}

/// The failure log's per-username cap keeps the newest rows of that
/// username and never touches another's.
#[tokio::test]
async fn the_failure_log_cap_is_per_username() {
    let store = MemoryStore::with_limits(MemoryLimits {
        max_records: 10,
        max_log_rows: 1_000,
    });
    let t0 = chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap();
    let row = |user: &str, i: i64| NewFailureLog {
        key: RecordKey {
            scope: String::new(),
            username: Some(user.into()),
            ip_address: None,
            user_agent: String::new(),
        },
        path: "/login".into(),
        http_accept: String::new(),
        attempt_time: t0 + chrono::Duration::seconds(i),
        locked_out: false,
    };
    store.insert_failure_log(&row("bob", 0), 5).await.unwrap();
    for i in 0..5_000 {
        store.insert_failure_log(&row("alice", i), 5).await.unwrap();
    }
    let all = store
        .list_failure_logs(&axes_core::store::ListQuery::all())
        .await
        .unwrap();
    assert_eq!(all.total, 6);
    let alice: Vec<_> = all
        .items
        .iter()
        .filter(|r| r.entry.key.username.as_deref() == Some("alice"))
        .map(|r| r.entry.attempt_time)
        .collect();
    assert_eq!(alice.len(), 5);
    assert_eq!(alice[0], t0 + chrono::Duration::seconds(4_999));
    // A row deleted by id leaves the queue too: the cap still keeps five.
    let id = all.items[0].id.clone();
    assert_eq!(store.delete_failure_logs(&[id]).await.unwrap(), 1);
    store
        .insert_failure_log(&row("alice", 6_000), 5)
        .await
        .unwrap();
    store
        .insert_failure_log(&row("alice", 6_001), 5)
        .await
        .unwrap();
    let all = store
        .list_failure_logs(&axes_core::store::ListQuery::all())
        .await
        .unwrap();
    assert_eq!(all.total, 6, "{all:?}");
}

/// `memory_max_records` bounds the memory store the engine builds, and its
/// default is the store's own.
#[tokio::test]
async fn memory_max_records_is_the_bound_of_the_engines_store() {
    assert_eq!(
        Settings::default().memory_max_records as usize,
        MemoryLimits::DEFAULT_MAX_RECORDS
    );
    let toml = |text: &str| Settings::from_sources(Some(text), "axes.toml", Vec::new());
    let settings = toml("handler = \"memory\"\nmemory_max_records = 1000\n").unwrap();
    assert_eq!(settings.memory_max_records, 1000);
    let axes = Axes::builder(Settings {
        lock_out_at_failure: false,
        ..settings
    })
    .build()
    .unwrap();
    for i in 0..2_500 {
        fail(&axes, &attempt(i, &format!("user{i}"))).await;
    }
    let listed = axes
        .store()
        .list_attempts(&axes_core::store::ListQuery::all())
        .await
        .unwrap();
    assert_eq!(listed.total, 1000);
    for bad in ["memory_max_records = 999", "memory_max_records = 0"] {
        assert!(toml(bad).is_err(), "{bad}");
    }
}

mod block_table {
    use axes_core::blocks::{Block, BlockKind, BlockTarget, Escalation};
    use axes_core::store::ListQuery;
    use axes_core::{MemoryStore, Store};
    use chrono::{DateTime, Duration, Utc};

    use super::MemoryLimits;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_767_225_600 + secs, 0).unwrap()
    }

    fn target(i: u32) -> BlockTarget {
        BlockTarget::new(Some(format!("10.3.{}.{}", i / 256, i % 256)), None, None).unwrap()
    }

    fn manual(i: u32, until: Option<DateTime<Utc>>) -> Block {
        Block {
            kind: BlockKind::Manual,
            target: target(i),
            until,
            created_at: t(0),
            created_by: "ops".into(),
            lockouts: 0,
        }
    }

    fn escalation() -> Escalation {
        Escalation {
            cooloff: Some(Duration::seconds(60)),
            multiplier: 2.0,
            max: None,
            memory: Duration::seconds(3600),
            permanent_after: Some(3),
        }
    }

    fn small() -> MemoryStore {
        MemoryStore::with_limits(MemoryLimits {
            max_records: 10,
            max_log_rows: 10,
        })
    }

    async fn refusing(store: &MemoryStore, now: DateTime<Utc>) -> usize {
        store
            .list_blocks(None, &ListQuery::all())
            .await
            .unwrap()
            .items
            .iter()
            .filter(|b| b.refuses(now))
            .count()
    }

    /// A full table refuses a new manual block, replaces an existing one,
    /// and makes room only from blocks that have ended.
    #[tokio::test]
    async fn a_full_block_table_refuses_new_manual_blocks() {
        let store = small();
        for i in 0..10 {
            store.put_block(&manual(i, None)).await.unwrap();
        }
        assert_eq!(store.block_rows(), 10);
        let err = store.put_block(&manual(10, None)).await.unwrap_err();
        assert!(err.to_string().contains("memory store full"), "{err}");
        assert!(!err.is_outage());
        store.put_block(&manual(3, Some(t(50)))).await.unwrap();
        assert_eq!(store.block_rows(), 10, "replaced in place");
        // Block 3 ends at 50: a new block made at 60 takes its place.
        let mut new = manual(11, None);
        new.created_at = t(60);
        store.put_block(&new).await.unwrap();
        assert_eq!(store.block_rows(), 10);
        assert_eq!(refusing(&store, t(60)).await, 10);
        // An empty target is never stored.
        let empty = Block {
            target: BlockTarget {
                ip_address: None,
                username: None,
                user_agent: None,
            },
            ..manual(0, None)
        };
        assert!(store.put_block(&empty).await.is_err());
    }

    /// A full table evicts only lockout rows that refuse nothing and are
    /// out of the memory; never a refusing or remembered row.
    #[tokio::test]
    async fn a_full_block_table_never_evicts_a_row_that_refuses_or_remembers() {
        let store = small();
        let e = escalation();
        // Ten first lockouts at 0: they refuse nothing, but are remembered
        // for an hour.
        for i in 0..10 {
            let row = store.record_lockout(&target(i), t(0), &e).await.unwrap();
            assert_eq!(row.lockouts, 1);
        }
        let err = store
            .record_lockout(&target(10), t(10), &e)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("memory store full"), "{err}");
        // A known target still counts its next lockout.
        let row = store.record_lockout(&target(0), t(20), &e).await.unwrap();
        assert_eq!((row.lockouts, row.until), (2, Some(t(140))));
        // Out of the memory, the rows that refuse nothing make room; the
        // refusing one (made permanent now) stays.
        let row = store.record_lockout(&target(0), t(30), &e).await.unwrap();
        assert_eq!((row.lockouts, row.until), (3, None));
        for i in 10..19 {
            store
                .record_lockout(&target(i), t(3600 + 30 + i64::from(i)), &e)
                .await
                .unwrap();
        }
        // Nine made room; now every row is remembered or refusing.
        assert!(
            store
                .record_lockout(&target(19), t(3600 + 50), &e)
                .await
                .is_err()
        );
        assert_eq!(store.block_rows(), 10);
        let rows = store.list_blocks(None, &ListQuery::all()).await.unwrap();
        assert!(
            rows.items
                .iter()
                .any(|b| b.target == target(0) && b.until.is_none()),
            "the permanent row was kept: {rows:?}"
        );
        // Full of rows that are remembered (9 new ones) or refusing (1):
        // a manual block is refused, nothing is evicted.
        let now = t(3600 + 60);
        assert!(store.put_block(&manual(99, None)).await.is_err());
        assert_eq!(refusing(&store, now).await, 1);
        assert_eq!(store.block_rows(), 10);
    }
}
