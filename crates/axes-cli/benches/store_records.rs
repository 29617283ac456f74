//! Store micro benches: one reservation and its release (`Store::reserve`
//! then `Store::release`, as for a right password) and one recorded failure
//! (`Store::reserve` of a new client), on a store that already holds 1,
//! 1 000 and 1 000 000 records of other clients. Lockout parameters
//! `[["ip_address", "username"]]`, limit 5, no cool-off.
//!
//! ```text
//! AXES_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//! AXES_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test \
//! AXES_TEST_REDIS_URL=redis://127.0.0.1:6379 \
//!   cargo bench -p axes-cli --bench store_records
//! ```
//!
//! Prints a Markdown table (run by `scripts/bench/run.py`). Each store is
//! fresh and isolated (as in `store_attempt`); a store whose variable is not
//! set is skipped. The records are made through `Store::reserve` itself, 16
//! at a time, within a fill budget per size (30 s; `AXES_BENCH_QUICK=1`:
//! sizes up to 1 000 and 5 s): the row says how many records were added
//! when a slow store did not reach the size in time. (A store with a bound
//! on its records, like the memory store, may hold fewer.)
//! Wall-clock figures on a shared machine: compare rows of one run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axes_core::store::{AttemptDetails, RecordKey, Reservation, Store};
use axes_core::{Alternative, Field, LockoutParameters, MemoryStore};
use chrono::Utc;

/// Timed operations per size.
fn samples() -> usize {
    if quick() { 200 } else { 1000 }
}

fn quick() -> bool {
    std::env::var_os("AXES_BENCH_QUICK").is_some()
}

fn sizes() -> Vec<usize> {
    if quick() {
        vec![1, 1_000]
    } else {
        vec![1, 1_000, 1_000_000]
    }
}

fn fill_budget() -> Duration {
    Duration::from_secs(if quick() { 5 } else { 30 })
}

fn parameters() -> LockoutParameters {
    LockoutParameters::new([
        Alternative::new([Field::IpAddress, Field::Username]).expect("alternative")
    ])
    .expect("parameters")
}

/// The n-th client of a series (`series` keeps fills and timed keys apart).
fn key(series: u8, n: usize) -> RecordKey {
    let n = n as u32;
    RecordKey {
        scope: String::new(),
        username: Some(format!("user{series}-{n}")),
        ip_address: Some(format!(
            "10.{}.{}.{}",
            (n >> 16) & 0xff,
            (n >> 8) & 0xff,
            n & 0xff
        )),
        user_agent: "bench".into(),
    }
}

struct Ctx {
    store: Arc<dyn Store>,
    parameters: LockoutParameters,
    details: AttemptDetails,
}

impl Ctx {
    async fn reserve(&self, key: &RecordKey) -> axes_core::store::ReserveOutcome {
        self.store
            .reserve(&Reservation {
                key,
                details: &self.details,
                parameters: &self.parameters,
                limit: Some(5),
                window: None,
                count_when_locked: true,
                now: Utc::now(),
                blocks: &[],
                manual_only: false,
            })
            .await
            .expect("reserve")
    }
}

/// Adds records until the store holds `target` (or the budget is spent);
/// returns how many it holds.
async fn fill(ctx: &Arc<Ctx>, from: usize, target: usize) -> usize {
    let deadline = Instant::now() + fill_budget();
    let mut at = from;
    while at < target && Instant::now() < deadline {
        let batch = (target - at).min(16);
        let tasks: Vec<_> = (at..at + batch)
            .map(|n| {
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    ctx.reserve(&key(0, n)).await;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        at += batch;
    }
    at
}

fn median_us(mut times: Vec<Duration>) -> f64 {
    times.sort_unstable();
    times[times.len() / 2].as_secs_f64() * 1e6
}

async fn measure(name: &str, store: Arc<dyn Store>) {
    let ctx = Arc::new(Ctx {
        store,
        parameters: parameters(),
        details: AttemptDetails {
            path: "/login".into(),
            ..AttemptDetails::default()
        },
    });
    let mut held = 0;
    let mut series = 1u8;
    for size in sizes() {
        held = fill(&ctx, held, size).await;
        // Right password: reserve, then give the failure back (the record
        // goes again).
        let mut round = Vec::with_capacity(samples());
        for n in 0..samples() {
            let k = key(series, n);
            let t = Instant::now();
            let out = ctx.reserve(&k).await;
            if let Some(token) = &out.token {
                ctx.store.release(&k, token).await.expect("release");
            }
            round.push(t.elapsed());
        }
        series += 1;
        // Wrong password: one failure recorded on a new record.
        let mut failure = Vec::with_capacity(samples());
        for n in 0..samples() {
            let k = key(series, n);
            let t = Instant::now();
            ctx.reserve(&k).await;
            failure.push(t.elapsed());
        }
        series += 1;
        let reached = if held < size {
            format!(" (reached {held} in {} s)", fill_budget().as_secs())
        } else {
            String::new()
        };
        println!(
            "| {name} | {size}{reached} | {:.1} | {:.1} |",
            median_us(round),
            median_us(failure)
        );
        held += samples();
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!(
            "| store | records added first | reserve + release µs (median) | reserve of a new client µs (median) |"
        );
        println!("|---|---|---|---|");
        measure("memory", Arc::new(MemoryStore::new())).await;
        if let Some(s) = axes_sqlx::testing::fresh_sqlite().await {
            measure("SQLite (file, WAL)", s).await;
        }
        if let Some(s) = axes_sqlx::testing::fresh_postgres().await {
            measure("PostgreSQL", s).await;
        }
        if let Some(s) = axes_sqlx::testing::fresh_mysql().await {
            measure("MySQL/MariaDB", s).await;
        }
        if let Some(s) = axes_redis::testing::fresh_store().await {
            measure("Redis", Arc::new(s.clone())).await;
            let _ = s.wipe().await;
        }
    });
}
