//! One address sprays new usernames (issue 8, "cost that does not grow
//! with the attacker"): lockout by `ip_address+username`, a limit out of
//! reach, every attempt a new username. Prints attempts/s for each slice
//! of the run: with the per-alternative indexes the last slice is as fast
//! as the first.
//!
//! ```text
//! cargo run --release -p axes-sqlx --all-features --example spray -- [URL] [ATTEMPTS]
//! ```
//!
//! URL defaults to a fresh SQLite file in a temporary directory (a
//! PostgreSQL or MySQL URL is used as given: point it at a scratch
//! database), ATTEMPTS to 100 000.

use std::time::Instant;

use axes_core::parameters::{Alternative, Field, LockoutParameters};
use axes_core::store::{AttemptDetails, RecordKey, Reservation};
use chrono::{Duration, Utc};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = tempfile::tempdir()?;
    let url = match args.next() {
        Some(url) if url != "-" => url,
        _ => format!("sqlite://{}", dir.path().join("spray.db").display()),
    };
    let attempts: u64 = match args.next() {
        Some(n) => n.parse()?,
        None => 100_000,
    };
    let store = axes_sqlx::connect(&url).await?;
    store.migrate().await?;
    let by_ip_and_username =
        Alternative::new([Field::IpAddress, Field::Username]).ok_or("empty alternative")?;
    let parameters =
        LockoutParameters::new([by_ip_and_username]).ok_or("no lockout alternatives")?;
    let details = AttemptDetails::default();
    let start = Utc::now();
    let slice = (attempts / 10).max(1);
    let mut clock = Instant::now();
    println!(
        "{} store, {attempts} attempts, one address, a new username each",
        store.kind()
    );
    for i in 0..attempts {
        let key = RecordKey {
            scope: String::new(),
            username: Some(format!("user{i}")),
            ip_address: Some("203.0.113.77".into()),
            user_agent: "spray".into(),
        };
        let out = store
            .reserve(&Reservation {
                key: &key,
                details: &details,
                parameters: &parameters,
                limit: Some(1_000_000),
                window: Some(Duration::hours(1)),
                count_when_locked: true,
                now: start + Duration::microseconds(i64::try_from(i)?),
                blocks: &[],
                manual_only: false,
            })
            .await?;
        if !out.admitted {
            return Err(format!("attempt {i} refused").into());
        }
        if (i + 1) % slice == 0 {
            let secs = clock.elapsed().as_secs_f64();
            println!(
                "attempts {:>7}..{:>7}: {:>8.0} attempts/s",
                i + 1 - slice,
                i + 1,
                slice as f64 / secs
            );
            clock = Instant::now();
        }
    }
    Ok(())
}
