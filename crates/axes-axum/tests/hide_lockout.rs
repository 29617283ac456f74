//! `hide_lockout` in the layer: a locked-out client with the right
//! password gets the app's wrong-password answer, its password is never
//! checked, and the lockout is still recorded and sent as an event.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axes_axum::{AuthRejection, AxesAttempt, AxesLayer};
use axes_core::{Axes, EventKind, Handler, Settings};
use axum::body::{Body, to_bytes};
use axum::extract::connect_info::MockConnectInfo;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use http::{Request, StatusCode};
use tower::ServiceExt;

static CHECKS: AtomicUsize = AtomicUsize::new(0);

async fn login(attempt: AxesAttempt, Form(form): Form<Vec<(String, String)>>) -> Response {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let password = field("password");
    let username = field("username").unwrap_or_default();
    match attempt
        .authenticate(&username, |_| async move {
            CHECKS.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::convert::Infallible>((password.as_deref() == Some("right")).then_some(()))
        })
        .await
    {
        Ok(()) => "welcome".into_response(),
        Err(AuthRejection::InvalidCredentials) => {
            (StatusCode::UNAUTHORIZED, "wrong username or password").into_response()
        }
        Err(e) => e.into_response(),
    }
}

fn request(user: &str, password: &str, json: bool) -> Request<Body> {
    let mut b = Request::post("/login").header("content-type", "application/x-www-form-urlencoded");
    if json {
        b = b.header("accept", "application/json");
    }
    b.body(Body::from(format!("username={user}&password={password}")))
        .unwrap()
}

async fn answer(app: &Router, req: Request<Body>) -> (StatusCode, String, bool) {
    let r = app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let retry = r.headers().contains_key("retry-after");
    let body = to_bytes(r.into_body(), 1 << 16).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned(), retry)
}

#[tokio::test]
async fn a_hidden_lockout_is_the_wrong_password_answer() {
    let axes = Axes::builder(Settings {
        handler: Handler::Memory,
        failure_limit: 2,
        cooloff_time: Some(std::time::Duration::from_secs(600)),
        hide_lockout: true,
        ..Settings::default()
    })
    .build()
    .unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    axes.subscribe(move |e| sink.lock().unwrap().push(e.kind));
    let app = Router::new()
        .route("/login", post(login))
        .route_layer(AxesLayer::new(axes.clone()).unwrap())
        .layer(MockConnectInfo(SocketAddr::from(([203, 0, 113, 7], 5000))));

    let wrong = answer(&app, request("bob", "wrong", false)).await;
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
    // The failure that reaches the limit answers the same.
    assert_eq!(answer(&app, request("bob", "wrong", false)).await, wrong);
    assert_eq!(CHECKS.load(Ordering::SeqCst), 2);
    events.lock().unwrap().clear();

    // Locked out: the right password, form or JSON, gets the same answer
    // (no Retry-After), and the password is not checked.
    assert_eq!(answer(&app, request("bob", "right", false)).await, wrong);
    assert_eq!(answer(&app, request("bob", "right", true)).await, wrong);
    assert_eq!(
        CHECKS.load(Ordering::SeqCst),
        2,
        "never checked while locked"
    );
    assert_eq!(
        *events.lock().unwrap(),
        [EventKind::LockedOut, EventKind::LockedOut],
        "the refusals are still sent as events"
    );
    let r = axes
        .check(&axes_core::Attempt::new().ip_address("203.0.113.7".parse().unwrap()))
        .await;
    assert!(r.lockout.is_some());
    assert_eq!(r.failures, 4, "the refusals are still recorded");

    // Another name from the same IP: locked by IP, hidden too.
    assert_eq!(answer(&app, request("alice", "right", false)).await, wrong);
    assert_eq!(CHECKS.load(Ordering::SeqCst), 2);
}
