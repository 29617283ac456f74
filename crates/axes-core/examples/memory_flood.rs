//! Floods the memory store with distinct clients and prints the process's
//! memory: what sizes `MemoryLimits::DEFAULT_MAX_RECORDS`.
//!
//! ```text
//! cargo run --release -p axes-core --example memory_flood -- 1000000
//! ```
//!
//! Each client is a new IP address and a new username (one wrong password
//! each, as django-axes' reference flood does), with a browser-like user
//! agent and a login form; `ip_address,username` counted, limit 5, no
//! cool-off. With `distinct-ua` as second argument every client also sends
//! a user agent of its own. Ten usernames locked before the flood must still be locked
//! after it.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use axes_core::{Attempt, Axes, Field, LockoutParameters, MemoryStore, Settings};

fn status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .map(|l| l.trim_start_matches(field).trim().to_owned())
        .unwrap_or_else(|| "?".into())
}

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

fn attempt(i: u32, user: &str) -> Attempt {
    attempt_ua(i, user, UA.into())
}

fn attempt_ua(i: u32, user: &str, ua: String) -> Attempt {
    Attempt::new()
        .ip_address(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)))
        .username(user)
        .user_agent(ua)
        .path("/login")
        .http_accept("text/html")
        .method("POST")
        .form(vec![
            ("username".into(), user.into()),
            ("password".into(), "wrong".into()),
        ])
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let distinct_ua = std::env::args().nth(2).as_deref() == Some("distinct-ua");
    let store = Arc::new(MemoryStore::new());
    let axes = Axes::builder(Settings {
        failure_limit: 5,
        lockout_parameters: LockoutParameters::any_of(&[Field::IpAddress, Field::Username]),
        ..Settings::default()
    })
    .store(store.clone())
    .build()?;
    println!("start: VmRSS {}", status("VmRSS:"));
    // Ten users locked out (five failures each from one address).
    for u in 0..10u32 {
        for _ in 0..5 {
            if let Ok(t) = axes
                .begin(&attempt(u32::MAX - u, &format!("victim{u}")))
                .await
            {
                let _ = t.failed().await;
            }
        }
    }
    for i in 0..n {
        let user = format!("user{i}");
        let a = if distinct_ua {
            attempt_ua(i, &user, format!("{UA} {i}"))
        } else {
            attempt(i, &user)
        };
        if let Ok(t) = axes.begin(&a).await {
            let _ = t.failed().await;
        }
    }
    let mut locked = 0;
    for u in 0..10u32 {
        // From an address the flood used: locked by the username alone.
        let a = attempt(7, &format!("victim{u}"));
        if axes.check(&a).await.lockout.is_some() {
            locked += 1;
        }
    }
    println!(
        "after {n} clients: {} records, VmRSS {}, VmHWM {}, locked victims {locked}/10",
        store.len(),
        status("VmRSS:"),
        status("VmHWM:"),
    );
    Ok(())
}
