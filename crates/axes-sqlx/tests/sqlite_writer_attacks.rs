#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Attacks on the SQLite writer (`src/sqlite/writer.rs`): cancellation at
//! its await points, a write lock held elsewhere, two stores on one file,
//! current_thread runtimes, the on-demand count indexes. Written by a
//! red-team pass on 2026-12-02; the five it found failing (a lead lost
//! with a dropped submitter, slots freed before their jobs ran, a read
//! waiting for the write lock) are fixed and all hold now.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axes_core::parameters::Field;
use axes_core::store::{FailureQuery, ListQuery, NewAccessLog, Store};
use axes_sqlx::SqliteStore;

/// Every wait of these tests is bounded by this: a stall fails.
const PATIENCE: Duration = Duration::from_secs(20);

fn access_log(i: u64) -> NewAccessLog {
    NewAccessLog {
        key: common::key(Some("u"), Some("192.0.2.1"), "ua"),
        path: format!("/login/{i}"),
        http_accept: "text/html".into(),
        attempt_time: common::t0(),
        session_hash: String::new(),
    }
}

async fn access_logs(store: &SqliteStore) -> u64 {
    store
        .list_access_logs(&ListQuery::all())
        .await
        .unwrap()
        .total
}

/// Polls `f` once with a waker that does nothing.
fn poll_once<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    f.poll(&mut cx)
}

/// Writes access logs in a loop on its own thread (and runtime) until
/// `stop`; returns how many it wrote.
fn hammer(store: Arc<SqliteStore>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                store
                    .insert_access_log(&access_log(1_000_000 + n))
                    .await
                    .unwrap();
                n += 1;
            }
            n
        })
    })
}

/// A submitter queues behind a running leader (first poll: pending), the
/// leader finishes and hands it the lead (`Answer::Lead` sent into its
/// oneshot), and the submitter is dropped before it is polled again (a
/// client hanging up, a `timeout`, an aborted task, a runtime shut down).
/// The lead was lost with the receiver (its job never ran and every later
/// write queued forever); the submitter's drop now takes the lead up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_handed_to_a_dropped_submitter_is_taken_up() {
    let store = Arc::new(common_store().await);
    let mut next = 0u64;
    for attempt in 0..200 {
        let before = access_logs(&store).await;
        let stop = Arc::new(AtomicBool::new(false));
        let writer = hammer(store.clone(), stop.clone());
        let mut ready = 0u64;
        // A submitter that queued behind the hammer's leader.
        let mut queued = None;
        for _ in 0..1_000_000 {
            next += 1;
            let entry = access_log(next);
            let store = store.clone();
            let mut f = Box::pin(async move { store.insert_access_log(&entry).await });
            match poll_once(f.as_mut()) {
                Poll::Ready(r) => {
                    r.unwrap();
                    ready += 1;
                }
                Poll::Pending => {
                    queued = Some(f);
                    break;
                }
            }
        }
        stop.store(true, Ordering::SeqCst);
        let hammered = writer.join().unwrap();
        let Some(queued) = queued else { continue };
        // The hammer is done: its leader answered the queued job (it ran in
        // its group) or handed it the lead (it did not run yet).
        let ran = access_logs(&store).await - before - hammered - ready;
        drop(queued);
        if ran == 1 {
            continue;
        }
        assert_eq!(ran, 0);
        let after = tokio::time::timeout(PATIENCE, store.insert_access_log(&access_log(0))).await;
        assert!(
            after.is_ok(),
            "attempt {attempt}: the writer stalled after a lead was handed to a dropped submitter \
             (whose job was lost)"
        );
        after.unwrap().unwrap();
        return;
    }
    panic!("never caught a submitter holding the lead");
}

async fn common_store() -> SqliteStore {
    axes_sqlx::testing::fresh_sqlite_store().await
}

/// A submitter dropped while its job waits for the thread (another
/// connection holds the write lock) used to give its slot back with its
/// job still in the channel, so a second wave found the channel full and
/// was answered "the SQLite writer thread has stopped". A job now keeps
/// its slot until it has run: the second wave waits for slots and every
/// job of both waves is committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_submitters_keep_their_slots_until_their_jobs_ran() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = common::file_store(&dir, Duration::from_secs(60)).await;
    let store = Arc::new(store);
    let (_other, mut holder) = common::hold_write_lock(&url).await;
    let wave = |from: u64| {
        (from..from + 1024)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { store.insert_access_log(&access_log(i)).await })
            })
            .collect::<Vec<_>>()
    };
    // Wave 1: every job goes to the thread (the lock is held), then every
    // submitter hangs up.
    let first = wave(0);
    tokio::time::sleep(Duration::from_secs(1)).await;
    for t in &first {
        t.abort();
    }
    for t in first {
        assert!(t.await.unwrap_err().is_cancelled());
    }
    // Wave 2: live submitters, waiting for the same lock.
    let second = wave(10_000);
    tokio::time::sleep(Duration::from_secs(1)).await;
    sqlx::query("COMMIT").execute(&mut *holder).await.unwrap();
    let mut failed = Vec::new();
    for t in second {
        let r = tokio::time::timeout(PATIENCE, t)
            .await
            .expect("a submitter stalled")
            .unwrap();
        if let Err(e) = r {
            failed.push(e.to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of 1024 live writes failed while the lock was only held briefly, e.g. {:?}",
        failed.len(),
        failed.first()
    );
    // Both waves' jobs were committed (dropped submitters' jobs still run).
    assert_eq!(access_logs(&store).await, 2048);
}

/// As above, with give-backs: those whose submitters hung up after the
/// writer accepted them still run (they keep their slots until they have),
/// and the live ones queued behind them are answered, none refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_give_backs_are_never_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = common::file_store(&dir, Duration::from_secs(60)).await;
    let store = Arc::new(store);
    let clients: Vec<_> = (0..2048u32)
        .map(|i| {
            let ip = format!("10.{}.{}.1", 100 + i / 256, i % 256);
            let mut r = common::R::new(common::key(Some("frank"), Some(&ip), "ua"));
            r.limit = None;
            Arc::new(r)
        })
        .collect();
    let reserved: Vec<_> = clients
        .iter()
        .map(|r| {
            let (store, r) = (store.clone(), r.clone());
            tokio::spawn(async move { store.reserve(&r.at(common::t0())).await })
        })
        .collect();
    let mut tokens = Vec::new();
    for t in reserved {
        let out = tokio::time::timeout(PATIENCE, t)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        tokens.push(out.token.expect("counted"));
    }
    assert_eq!(
        store.list_attempts(&ListQuery::all()).await.unwrap().total,
        2048
    );
    let (_other, mut holder) = common::hold_write_lock(&url).await;
    // The first wave fills every slot and hangs up: its give-backs were
    // accepted, so they must run. The second wave waits for slots (a
    // submission cancelled before it has one was never accepted: that is
    // the bound) and stays to the end.
    let first: Vec<_> = (0..1024)
        .map(|i| {
            let (store, r, token) = (store.clone(), clients[i].clone(), tokens[i].clone());
            tokio::spawn(async move { store.release(&r.key, &token).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    for t in &first {
        t.abort();
    }
    for t in first {
        let _ = t.await;
    }
    let second: Vec<_> = (1024..2048)
        .map(|i| {
            let (store, r, token) = (store.clone(), clients[i].clone(), tokens[i].clone());
            tokio::spawn(async move { store.release(&r.key, &token).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    sqlx::query("COMMIT").execute(&mut *holder).await.unwrap();
    for t in second {
        tokio::time::timeout(PATIENCE, t)
            .await
            .expect("a give-back was not answered")
            .unwrap()
            .unwrap();
    }
    // The writer did not stall (this is not the lost lead of
    // `a_lead_handed_to_a_dropped_submitter_is_taken_up`).
    tokio::time::timeout(PATIENCE, store.insert_access_log(&access_log(0)))
        .await
        .expect("the writer stalled")
        .unwrap();
    // Every give-back runs eventually: no record is left.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let left = store.list_attempts(&ListQuery::all()).await.unwrap().total;
        if left == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{left} of 2048 give-backs lost"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `failures` is a read (WAL readers never wait for the writer): it used to
/// submit the CREATE INDEX of an on-demand index and wait for it, up to
/// the busy timeout while another connection held the write lock. Reads
/// make no index now; reservations ask the writer thread in the
/// background.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_does_not_wait_for_the_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = common::file_store(&dir, Duration::from_secs(60)).await;
    let (_other, mut holder) = common::hold_write_lock(&url).await;
    let key = common::key(Some("u"), Some("192.0.2.1"), "ua");
    let parameters = common::by(&[&[Field::IpAddress, Field::Username]]);
    let read = tokio::time::timeout(
        PATIENCE,
        store.failures(&FailureQuery {
            key: &key,
            parameters: &parameters,
            window: None,
            now: common::t0(),
            blocks: &[],
            manual_only: false,
        }),
    )
    .await;
    sqlx::query("COMMIT").execute(&mut *holder).await.unwrap();
    let read = read.expect("a read waited for the write lock");
    assert_eq!(read.unwrap().per_alternative[0].failures, 0);
}

/// Concurrent reservations on a fresh store, under alternatives whose
/// indexes are made on demand (the CREATE INDEX on the thread racing the
/// leaders' groups): exactly `limit` admitted, every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exact_while_the_count_indexes_are_made() {
    for round in 0..5 {
        let store = Arc::new(common_store().await);
        let r = Arc::new({
            let mut r = common::R::new(common::key(Some("alice"), Some("10.0.0.1"), "ua"));
            r.parameters = common::by(&[
                &[Field::IpAddress, Field::Username],
                &[Field::UserAgent],
                &[Field::IpAddress, Field::UserAgent],
            ]);
            r.limit = Some(5);
            r.window = Some(chrono::Duration::minutes(30));
            r
        });
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let (store, r) = (store.clone(), r.clone());
                tokio::spawn(async move { store.reserve(&r.at(common::t0())).await })
            })
            .collect();
        let mut admitted = 0;
        for t in tasks {
            let out = tokio::time::timeout(PATIENCE, t)
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            admitted += u32::from(out.admitted);
        }
        assert_eq!(admitted, 5, "round {round}");
        let page = store.list_attempts(&ListQuery::all()).await.unwrap();
        assert_eq!(page.total, 1, "round {round}");
        assert_eq!(page.items[0].failures, 5, "round {round}");
    }
}

/// Two stores on one file in one process (two writers, two leaders, each
/// finding the other's lock taken and going to its thread): exactly
/// `limit` admitted across both.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exact_across_two_stores_on_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let (a, url) = common::file_store(&dir, Duration::from_secs(10)).await;
    let b = SqliteStore::connect_with(
        &url,
        &axes_sqlx::ConnectOptions {
            busy_timeout: Duration::from_secs(10),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let stores = [Arc::new(a), Arc::new(b)];
    for round in 0..10 {
        let r = Arc::new({
            let ip = format!("10.0.1.{round}");
            let mut r = common::R::new(common::key(Some("alice"), Some(&ip), "ua"));
            r.limit = Some(7);
            r
        });
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let (store, r) = (stores[i % 2].clone(), r.clone());
                tokio::spawn(async move { store.reserve(&r.at(common::t0())).await })
            })
            .collect();
        let mut admitted = 0;
        for t in tasks {
            let out = tokio::time::timeout(PATIENCE, t)
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            admitted += u32::from(out.admitted);
        }
        assert_eq!(admitted, 7, "round {round}");
    }
}

/// Another connection takes and frees the write lock over and over while
/// reservations run: groups move between the leader and the thread (and
/// jobs of a failed group run alone), never admitting more than `limit`
/// nor counting a reservation twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exact_while_the_write_lock_flaps() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = common::file_store(&dir, Duration::from_secs(10)).await;
    let store = Arc::new(store);
    let other = sqlx::SqlitePool::connect(&url).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flapper = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut holder = other.acquire().await.unwrap();
            while !stop.load(Ordering::SeqCst) {
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut *holder)
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
                sqlx::query("COMMIT").execute(&mut *holder).await.unwrap();
                tokio::task::yield_now().await;
            }
        }
    });
    for round in 0..10 {
        let r = Arc::new({
            let ip = format!("10.0.2.{round}");
            let mut r = common::R::new(common::key(Some("alice"), Some(&ip), "ua"));
            r.limit = Some(9);
            r.count_when_locked = true;
            r
        });
        let tasks: Vec<_> = (0..150)
            .map(|_| {
                let (store, r) = (store.clone(), r.clone());
                tokio::spawn(async move { store.reserve(&r.at(common::t0())).await })
            })
            .collect();
        let (mut admitted, mut counted) = (0u32, 0u32);
        for t in tasks {
            let out = tokio::time::timeout(PATIENCE, t)
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            admitted += u32::from(out.admitted);
            counted += u32::from(out.counted);
        }
        assert_eq!(admitted, 9, "round {round}");
        // count_when_locked: every answered reservation counted exactly once.
        assert_eq!(counted, 150, "round {round}");
        let f = r
            .failures(&(store.clone() as common::S), common::t0())
            .await;
        assert_eq!(f, vec![150], "round {round}");
    }
    stop.store(true, Ordering::SeqCst);
    flapper.await.unwrap();
}

/// On a current_thread runtime, many reservations and give-backs at once:
/// every one answered (no leader waiting on its own runtime), and every
/// give-back run.
#[test]
fn current_thread_reserve_and_give_back() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store: common::S = Arc::new(common_store().await);
        let r = Arc::new({
            let mut r = common::R::new(common::key(Some("bob"), Some("10.0.3.1"), "ua"));
            r.limit = None;
            r
        });
        let tasks: Vec<_> = (0..300)
            .map(|_| {
                let (store, r) = (store.clone(), r.clone());
                tokio::spawn(async move {
                    let out = store.reserve(&r.at(common::t0())).await.unwrap();
                    tokio::task::yield_now().await;
                    store
                        .release(&r.key, &out.token.expect("counted"))
                        .await
                        .unwrap();
                })
            })
            .collect();
        for t in tasks {
            tokio::time::timeout(PATIENCE, t).await.unwrap().unwrap();
        }
        assert_eq!(r.failures(&store, common::t0()).await, vec![0]);
    });
}

/// Jobs sent to the thread while another connection holds the lock, their
/// submitters gone and then the store itself dropped: the thread still
/// commits every one once the lock is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_store_still_commits_the_jobs_it_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = common::file_store(&dir, Duration::from_secs(30)).await;
    let store = Arc::new(store);
    let (other, mut holder) = common::hold_write_lock(&url).await;
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_access_log(&access_log(i)).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for t in &tasks {
        t.abort();
    }
    for t in tasks {
        let _ = t.await;
    }
    drop(store);
    sqlx::query("COMMIT").execute(&mut *holder).await.unwrap();
    drop(holder);
    // The thread drains its channel (it ends once empty): wait for all rows.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM axes_accesslog")
            .fetch_one(&other)
            .await
            .unwrap();
        if n == 300 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} of 300 jobs committed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Tasks aborted at random points of a reservation and its give-back
/// (what a server does to the request futures of clients that hang up):
/// in most runs a task is aborted after its lead was handed over and
/// before it was polled (see `a_lead_handed_to_a_dropped_submitter_is_taken_up`);
/// the next reservation is still answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn aborted_storm_then_the_writer_still_answers() {
    let store: common::S = Arc::new(common_store().await);
    let r = Arc::new({
        let mut r = common::R::new(common::key(Some("carol"), Some("10.0.4.1"), "ua"));
        r.limit = None;
        r
    });
    for round in 0..200u64 {
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (store, r) = (store.clone(), r.clone());
                tokio::spawn(async move {
                    let out = store.reserve(&r.at(common::t0())).await.unwrap();
                    store
                        .release(&r.key, &out.token.expect("counted"))
                        .await
                        .unwrap();
                })
            })
            .collect();
        for _ in 0..(round % 7) {
            tokio::task::yield_now().await;
        }
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
    }
    let last = tokio::time::timeout(PATIENCE, store.reserve(&r.at(common::t0())))
        .await
        .expect("the writer stalled")
        .unwrap();
    // Dropped submitters' jobs may or may not have run; at most 64 × 200.
    let counted = last.failures.max() - 1;
    assert!(counted <= 64 * 200, "{counted}");
}

/// Purge slices (on the thread, holding the write lock while the leaders'
/// groups find it taken and follow them there) racing reservations: every
/// reservation answered, exactly `limit` admitted, and the purge removes
/// only what expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exact_while_purging() {
    let store = Arc::new(common_store().await);
    let old = common::t0() - chrono::Duration::days(30);
    // Expired records: more than one purge slice.
    for i in 0..2_500u32 {
        let mut r = common::R::new(common::key(
            Some(&format!("old{i}")),
            Some("10.9.9.9"),
            "ua",
        ));
        r.limit = None;
        store.reserve(&r.at(old)).await.unwrap();
    }
    let r = Arc::new({
        let mut r = common::R::new(common::key(Some("dave"), Some("10.0.5.1"), "ua"));
        r.limit = Some(4);
        r
    });
    let purge = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .purge_attempts(common::t0() - chrono::Duration::days(1))
                .await
        }
    });
    let tasks: Vec<_> = (0..120)
        .map(|_| {
            let (store, r) = (store.clone(), r.clone());
            tokio::spawn(async move { store.reserve(&r.at(common::t0())).await })
        })
        .collect();
    let mut admitted = 0;
    for t in tasks {
        let out = tokio::time::timeout(PATIENCE, t)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        admitted += u32::from(out.admitted);
    }
    assert_eq!(admitted, 4);
    let purged = tokio::time::timeout(PATIENCE, purge)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(purged, 2_500);
    let page = store.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].failures, 4);
}

/// The block look-up is skipped while `axes_blocks` is empty: a block put
/// by another store on the file (another process) between two
/// reservations of this store's leader, whose prepared statements and
/// connection outlive it, is seen by the very next reservation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_put_elsewhere_is_seen_at_once() {
    use axes_core::blocks::{Block, BlockKind, BlockTarget};
    let dir = tempfile::tempdir().unwrap();
    let (a, url) = common::file_store(&dir, Duration::from_secs(10)).await;
    let b = SqliteStore::connect_with(&url, &axes_sqlx::ConnectOptions::default())
        .await
        .unwrap();
    for round in 0..20 {
        let ip = format!("10.0.6.{round}");
        let mut r = common::R::new(common::key(Some("erin"), Some(&ip), "ua"));
        r.limit = None;
        let targets = [BlockTarget::new(Some(ip.clone()), None, None).unwrap()];
        let reservation = axes_core::store::Reservation {
            blocks: &targets,
            ..r.at(common::t0())
        };
        let before = a.reserve(&reservation).await.unwrap();
        assert!(before.admitted && before.failures.block.is_none());
        b.put_block(&Block {
            kind: BlockKind::Manual,
            target: targets[0].clone(),
            until: None,
            created_at: common::t0(),
            created_by: "test".into(),
            lockouts: 0,
        })
        .await
        .unwrap();
        let after = a.reserve(&reservation).await.unwrap();
        assert!(!after.admitted && !after.counted, "round {round}");
        assert!(after.failures.block.is_some(), "round {round}");
        // Empty again for the next round: the skip is taken again.
        b.remove_block(BlockKind::Manual, &targets[0])
            .await
            .unwrap();
    }
}
