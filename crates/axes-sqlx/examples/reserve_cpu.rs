//! CPU time per wrong login in the store (issue 8, item 2): N reservations,
//! each a new client (a new address and username, `ip_address,username`,
//! limit 5), from 1 and from 4 concurrent clients. Prints the process CPU
//! time (user + system, all threads, from `/proc/self/stat`) per
//! reservation and the wall-clock rate.
//!
//! ```text
//! cargo run --release -p axes-sqlx --example reserve_cpu -- [URL] [N]
//! ```
//!
//! URL defaults to a fresh SQLite file in a temporary directory, N to
//! 20 000. Linux only (reads `/proc`).

use std::sync::Arc;
use std::time::Instant;

use axes_core::parameters::{Alternative, Field, LockoutParameters};
use axes_core::store::{AttemptDetails, RecordKey, Reservation, Store};
use chrono::{Duration, Utc};

/// User + system CPU time of this process, in microseconds.
fn cpu_micros() -> Result<u64, Box<dyn std::error::Error>> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').ok_or("odd /proc/self/stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 here.
    let ticks: u64 = fields.get(11).ok_or("no utime")?.parse::<u64>()?
        + fields.get(12).ok_or("no stime")?.parse::<u64>()?;
    // Clock ticks are 1/100 s on Linux.
    Ok(ticks * 10_000)
}

async fn run(
    store: Arc<dyn Store>,
    clients: u64,
    n: u64,
    offset: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let cpu = cpu_micros()?;
    let clock = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let parameters =
                LockoutParameters::new(Alternative::new([Field::IpAddress, Field::Username]))
                    .ok_or("no lockout alternatives")?;
            let details = AttemptDetails::default();
            let now = Utc::now();
            for i in (c..n).step_by(usize::try_from(clients)?) {
                let j = offset + i;
                let key = RecordKey {
                    scope: String::new(),
                    username: Some(format!("user{j}")),
                    ip_address: Some(format!("10.{}.{}.{}", j >> 16 & 255, j >> 8 & 255, j & 255)),
                    user_agent: "bench".into(),
                };
                store
                    .reserve(&Reservation {
                        key: &key,
                        details: &details,
                        parameters: &parameters,
                        limit: Some(5),
                        window: Some(Duration::hours(1)),
                        count_when_locked: true,
                        now,
                        blocks: &[],
                        manual_only: false,
                    })
                    .await?;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        }));
    }
    for t in tasks {
        t.await?.map_err(|e| e.to_string())?;
    }
    let secs = clock.elapsed().as_secs_f64();
    let cpu = cpu_micros()? - cpu;
    println!(
        "{clients} client(s): {n} reserves, {:.1} µs CPU each, {:.0} reserves/s",
        cpu as f64 / n as f64,
        n as f64 / secs
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = tempfile::tempdir()?;
    let url = match args.next() {
        Some(url) if url != "-" => url,
        _ => format!("sqlite://{}", dir.path().join("cpu.db").display()),
    };
    let n: u64 = match args.next() {
        Some(n) => n.parse()?,
        None => 20_000,
    };
    let store: Arc<dyn Store> = axes_sqlx::connect(&url).await?;
    store.migrate().await?;
    println!("{} store", store.kind());
    run(store.clone(), 1, n, 0).await?;
    run(store, 4, n, n).await?;
    Ok(())
}
