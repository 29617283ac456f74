//! The admin asks the engine whether a client is locked out (hooks
//! included), for IPv6 clients too: it never counts on its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axes_core::{Attempt, Axes, ManualClock};
use axum::http::StatusCode;
use common::*;

fn v6(ip: &str, user: &str) -> Attempt {
    Attempt::new()
        .ip_address(ip.parse().unwrap())
        .username(user)
        .user_agent("test-agent/1.0")
        .path("/login")
        .method("POST")
}

fn first_attempt_link(body: &str) -> String {
    let prefix = "href=\"&#x2f;admin&#x2f;attempts&#x2f;";
    let start = body.find(prefix).expect("a link to a record") + 6;
    let end = start + body[start..].find('"').unwrap();
    body[start..end].replace("&#x2f;", "/")
}

/// An IPv6 client is stored under its /64: the detail view reads that key
/// as it is and says locked, like the engine.
#[tokio::test]
async fn the_detail_view_of_an_ipv6_client_says_locked() {
    let (axes, _clock) = engine(settings());
    let a = v6("2001:db8:1:2::7", "alice");
    fail(&axes, &a, 3).await;
    assert!(axes.check(&a).await.lockout.is_some());
    let app = app(&axes);
    let list = get(&app, "/admin/attempts").await;
    assert!(
        list.body.contains("2001:db8:1:2::&#x2f;64"),
        "{}",
        list.body
    );
    assert!(list.body.contains("badge danger\">locked"), "{}", list.body);
    let d = get(&app, &first_attempt_link(&list.body)).await;
    assert_eq!(d.status, StatusCode::OK);
    assert!(
        d.body
            .contains("Locked out: 3 failures (limit 3), until reset."),
        "{}",
        d.body
    );
    let dash = get(&app, "/admin/").await;
    assert!(
        dash.body.contains("2001:db8:1:2::&#x2f;64"),
        "{}",
        dash.body
    );
    assert!(!dash.body.contains("Nobody is locked out."));
}

/// A per-attempt failure-limit hook the settings know nothing of: the
/// dashboard, the list and the detail view follow it.
#[tokio::test]
async fn the_dashboard_follows_the_engines_hooks() {
    let clock = ManualClock::new(chrono::Utc::now());
    let axes = Axes::builder(settings())
        .clock(Arc::new(clock.clone()))
        .failure_limit(|p| {
            if p.key.ip_address.as_deref() == Some("203.0.113.9") {
                1
            } else {
                10
            }
        })
        .build()
        .unwrap();
    fail(&axes, &attempt("203.0.113.9", "mallory"), 1).await;
    fail(&axes, &attempt("198.51.100.4", "bob"), 4).await;
    let app = app(&axes);
    let dash = get(&app, "/admin/").await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(dash.body.contains("203.0.113.9"), "{}", dash.body);
    assert!(
        !dash.body.contains("198.51.100.4"),
        "4 failures are under the hook's 10: {}",
        dash.body
    );
    let list = get(&app, "/admin/attempts").await;
    assert_eq!(list.body.matches("badge danger\">locked").count(), 1);
    let d = get(
        &app,
        &first_attempt_link(&get(&app, "/admin/attempts?username=bob").await.body),
    )
    .await;
    assert!(
        d.body.contains("Not locked out: 4 of 10 failures."),
        "{}",
        d.body
    );
}
