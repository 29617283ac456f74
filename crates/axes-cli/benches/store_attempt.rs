//! Time of one attempt per store: `Axes::authenticate` with a wrong
//! password (admission reservation + outcome, engine and store; no HTTP, no
//! password hashing), 1000 sequential attempts after a warm-up, on memory,
//! SQLite, PostgreSQL, MySQL/MariaDB and Redis.
//!
//! ```text
//! AXES_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//! AXES_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test \
//! AXES_TEST_REDIS_URL=redis://127.0.0.1:6379 \
//!   cargo bench -p axes-cli --bench store_attempt
//! ```
//!
//! Prints a Markdown table. Each store is fresh and isolated (a temporary
//! SQLite file, a scratch PostgreSQL schema, a scratch MySQL database, a
//! scratch Redis prefix); a store whose variable is not set is reported as
//! skipped. Wall-clock figures on a shared machine, servers on the same
//! host: compare rows of one run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axes_core::store::Store;
use axes_core::{Attempt, Axes, MemoryStore, Settings};

/// Timed attempts per store and case.
const N: usize = 1000;
/// Untimed attempts first (connections, caches, query plans).
const WARM_UP: usize = 100;

fn engine(store: Arc<dyn Store>) -> Axes {
    // Defaults (lockout by IP), but a limit no case reaches: every attempt
    // takes the full path (count, admit, record the failure).
    Axes::builder(Settings {
        failure_limit: 1_000_000,
        ..Settings::default()
    })
    .store(store)
    .build()
    .unwrap()
}

fn attempt(ip: u32) -> Attempt {
    Attempt::new()
        .ip_address(Ipv4Addr::from(ip).into())
        .username("victim")
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) bench")
        .path("/login")
}

async fn wrong(axes: &Axes, a: &Attempt) -> Duration {
    let t = Instant::now();
    let r = axes
        .authenticate(a, || async { Ok::<Option<()>, ()>(None) })
        .await;
    let took = t.elapsed();
    assert!(
        matches!(r, Err(axes_core::AuthError::InvalidCredentials)),
        "every attempt must be admitted and fail"
    );
    took
}

/// Sorted times → (median, p90, p99) in µs.
fn quantiles(mut times: Vec<Duration>) -> (f64, f64, f64) {
    times.sort_unstable();
    let at = |q: f64| {
        let i = ((times.len() - 1) as f64 * q).round() as usize;
        times[i].as_secs_f64() * 1e6
    };
    (at(0.5), at(0.9), at(0.99))
}

struct Row {
    /// One client failing over and over: its record is updated.
    same: (f64, f64, f64),
    /// A new client each attempt: a record is inserted.
    fresh: (f64, f64, f64),
    errors: u64,
}

async fn measure(store: Arc<dyn Store>) -> Row {
    let axes = engine(store);
    let one = attempt(0x0a00_0001);
    for _ in 0..WARM_UP {
        wrong(&axes, &one).await;
    }
    let mut times = Vec::with_capacity(N);
    for _ in 0..N {
        times.push(wrong(&axes, &one).await);
    }
    let same = quantiles(times);

    for i in 0..WARM_UP {
        wrong(&axes, &attempt(0x0b00_0000 + i as u32)).await;
    }
    let mut times = Vec::with_capacity(N);
    for i in 0..N {
        times.push(wrong(&axes, &attempt(0x0c00_0000 + i as u32)).await);
    }
    Row {
        same,
        fresh: quantiles(times),
        errors: axes.store_status().errors,
    }
}

fn print_row(name: &str, row: Option<Row>, why: &str) {
    match row {
        Some(r) => println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} |{}",
            r.same.0,
            r.same.1,
            r.same.2,
            r.fresh.0,
            r.fresh.2,
            1e6 / r.same.0,
            if r.errors > 0 {
                format!(" ({} store errors!)", r.errors)
            } else {
                String::new()
            }
        ),
        None => println!("| {name} | skipped: {why} | | | | | |"),
    }
}

fn main() {
    // Two workers, as a small app server would have; the attempts are
    // sequential anyway.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!(
            "| store | median µs (same client) | p90 µs | p99 µs | median µs (new client each attempt) | p99 µs (new client) | attempts/s (sequential, same client) |"
        );
        println!("|---|---|---|---|---|---|---|");
        print_row(
            "memory",
            Some(measure(Arc::new(MemoryStore::new())).await),
            "",
        );
        let sqlite = axes_sqlx::testing::fresh_sqlite().await;
        print_row(
            "SQLite (file, WAL)",
            match sqlite {
                Some(s) => Some(measure(s).await),
                None => None,
            },
            "",
        );
        let pg = axes_sqlx::testing::fresh_postgres().await;
        print_row(
            "PostgreSQL",
            match pg {
                Some(s) => Some(measure(s).await),
                None => None,
            },
            "AXES_TEST_POSTGRES_URL not set",
        );
        let my = axes_sqlx::testing::fresh_mysql().await;
        print_row(
            "MySQL/MariaDB",
            match my {
                Some(s) => Some(measure(s).await),
                None => None,
            },
            "AXES_TEST_MYSQL_URL not set",
        );
        let redis = axes_redis::testing::fresh_store().await;
        let row = match &redis {
            Some(s) => Some(measure(Arc::new(s.clone())).await),
            None => None,
        };
        if let Some(s) = redis {
            let _ = s.wipe().await;
        }
        print_row("Redis", row, "AXES_TEST_REDIS_URL not set");
    });
}
