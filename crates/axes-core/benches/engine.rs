//! Per-attempt overhead of the engine on the memory store.
//!
//! `cargo bench -p axes-core --bench engine` prints a Markdown table;
//! `scripts/bench/run.py` copies it into BENCHMARKS.md. Wall-clock figures on a
//! shared machine: compare runs from the same session only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axes_core::{Attempt, Axes, Field, LockoutParameters, MemoryStore, Settings};

const N: u32 = 200_000;

fn engine(settings: Settings) -> Axes {
    Axes::builder(settings)
        .store(Arc::new(MemoryStore::new()))
        .build()
        .expect("valid settings")
}

fn attempt(i: u32) -> Attempt {
    Attempt::new()
        .ip_address(std::net::Ipv4Addr::from(0x0a00_0000 + (i % 50_000)).into())
        .username(format!("user{}", i % 1000))
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) bench")
        .path("/login")
}

fn row(name: &str, runs: u32, elapsed: Duration) {
    let per = elapsed.as_secs_f64() * 1e6 / f64::from(runs);
    println!(
        "| {name} | {runs} | {per:.2} | {:.0} |",
        f64::from(runs) / elapsed.as_secs_f64()
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let settings = Settings {
        failure_limit: 5,
        lockout_parameters: LockoutParameters::any_of(&[Field::IpAddress, Field::Username]),
        ..Settings::default()
    };
    println!("| operation (memory store, one thread) | runs | µs per attempt | attempts/s |");
    println!("|---|---|---|---|");
    rt.block_on(async {
        // Wrong password from many clients: reserve + record.
        let axes = engine(Settings {
            lock_out_at_failure: false,
            ..settings.clone()
        });
        let attempts: Vec<Attempt> = (0..N).map(attempt).collect();
        let t = Instant::now();
        for a in &attempts {
            let r = axes
                .authenticate(a, || async { Ok::<Option<()>, ()>(None) })
                .await;
            black_box(r.is_err());
        }
        row(
            "failed login; 50 000 clients, each username tried from 50 IPs",
            N,
            t.elapsed(),
        );

        // Wrong password, one record per client (the common case).
        let axes = engine(Settings {
            lock_out_at_failure: false,
            ..settings.clone()
        });
        let distinct: Vec<Attempt> = (0..N)
            .map(|i| {
                Attempt::new()
                    .ip_address(std::net::Ipv4Addr::from(0x0b00_0000 + i).into())
                    .username(format!("user{i}"))
                    .user_agent("Mozilla/5.0 (X11; Linux x86_64) bench")
                    .path("/login")
            })
            .collect();
        let t = Instant::now();
        for a in &distinct {
            let r = axes
                .authenticate(a, || async { Ok::<Option<()>, ()>(None) })
                .await;
            black_box(r.is_err());
        }
        row("failed login; one record per client", N, t.elapsed());

        // Right password: reserve + give back.
        let axes = engine(settings.clone());
        let t = Instant::now();
        for a in &attempts {
            let r = axes
                .authenticate(a, || async { Ok::<Option<()>, ()>(Some(())) })
                .await;
            black_box(r.is_ok());
        }
        row("successful login (reserve, release)", N, t.elapsed());

        // A locked-out client is refused before its credentials are checked.
        let axes = engine(settings.clone());
        let locked = attempt(7);
        for _ in 0..5 {
            let _ = axes
                .authenticate(&locked, || async { Ok::<Option<()>, ()>(None) })
                .await;
        }
        let axes_quiet = engine(Settings {
            reset_cool_off_on_failure_during_lockout: false,
            ..settings.clone()
        });
        for _ in 0..5 {
            let _ = axes_quiet
                .authenticate(&locked, || async { Ok::<Option<()>, ()>(None) })
                .await;
        }
        let t = Instant::now();
        for _ in 0..N {
            let r = axes_quiet
                .authenticate(&locked, || async { Ok::<Option<()>, ()>(Some(())) })
                .await;
            black_box(r.is_err());
        }
        row("locked-out client refused", N, t.elapsed());

        // Read-only check (what the tower layer does before the handler).
        let t = Instant::now();
        for a in &attempts {
            black_box(axes.check(a).await.lockout.is_some());
        }
        row("check() before the handler", N, t.elapsed());
    });
}
