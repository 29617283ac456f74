//! The demo site end to end: sessions and the access log.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod demo_support;

use axes_core::store::ListQuery;
use demo_support::{client, settings, start};
use reqwest::header;

#[tokio::test]
async fn login_writes_an_access_log_row_and_logout_closes_it() {
    let demo = start(settings()).await;
    let c = client();
    let r = demo
        .post_login(&c, "alice", "wonderland")
        .header(header::USER_AGENT, "demo-test/1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let set_cookie = r.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    // The `name=value` the browser sends back.
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let session_headers = {
        let mut h = axum::http::HeaderMap::new();
        h.insert(header::COOKIE, cookie.parse().unwrap());
        h
    };
    let session_id = demo.state.session(&session_headers).unwrap().id;

    let logs = demo.axes.list_access_logs(&ListQuery::all()).await.unwrap();
    assert_eq!(logs.total, 1);
    let row = &logs.items[0].entry;
    assert_eq!(row.key.username.as_deref(), Some("alice"));
    assert_eq!(row.key.ip_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(row.key.user_agent, "demo-test/1");
    assert_eq!(row.path, "/login");
    assert_eq!(row.session_hash, axes_core::session_hash(&session_id));
    assert_ne!(
        row.session_hash, session_id,
        "the id itself is never stored"
    );
    assert!(
        !cookie.contains(&row.session_hash),
        "the cookie does not give the log row away"
    );
    assert!(logs.items[0].logout_time.is_none());

    demo.advance_secs(60);
    let r = c.post(format!("{}/logout", demo.url)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[header::LOCATION], "/login");
    let logs = demo.axes.list_access_logs(&ListQuery::all()).await.unwrap();
    let row = &logs.items[0];
    assert_eq!(
        row.logout_time,
        Some(row.entry.attempt_time + chrono::Duration::seconds(60))
    );

    // The session is gone.
    let home = c.get(format!("{}/", demo.url)).send().await.unwrap();
    assert!(
        home.text()
            .await
            .unwrap()
            .contains("You are not logged in.")
    );
    assert!(demo.state.session(&session_headers).is_none());
}

#[tokio::test]
async fn logout_without_a_session_just_redirects() {
    let demo = start(settings()).await;
    let r = client()
        .post(format!("{}/logout", demo.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        demo.axes
            .list_access_logs(&ListQuery::all())
            .await
            .unwrap()
            .total,
        0
    );
}

#[tokio::test]
async fn disable_access_log_writes_no_rows() {
    let demo = start(axes_core::Settings {
        disable_access_log: true,
        ..settings()
    })
    .await;
    assert_eq!(demo.login(&client(), "demo", "demo").await, 303);
    assert_eq!(
        demo.axes
            .list_access_logs(&ListQuery::all())
            .await
            .unwrap()
            .total,
        0
    );
}

#[tokio::test]
async fn admin_is_mounted_for_logged_in_users_only() {
    let clock = axes_core::ManualClock::fixed();
    let axes = axes_core::Axes::builder(settings())
        .clock(std::sync::Arc::new(clock.clone()))
        .build()
        .unwrap();
    let admin = axum::Router::new().route("/", axum::routing::get(|| async { "admin home" }));
    let state = axes_cli::demo::DemoState::with_hasher(
        axes.clone(),
        vec![("demo".into(), "demo".into())],
        &demo_support::cheap_argon2(),
    )
    .unwrap()
    .with_admin(admin);
    let demo = demo_support::serve(state, axes, clock).await;
    let c = client();
    let r = c.get(format!("{}/admin/", demo.url)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[header::LOCATION], "/login");
    assert_eq!(demo.login(&c, "demo", "demo").await, 303);
    let r = c.get(format!("{}/admin/", demo.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "admin home");
    let r = c.get(format!("{}/admin", demo.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let home = c.get(format!("{}/", demo.url)).send().await.unwrap();
    assert!(home.text().await.unwrap().contains(r#"href="/admin/""#));
}

#[tokio::test]
async fn default_argon2_parameters_work_end_to_end() {
    let clock = axes_core::ManualClock::fixed();
    let axes = axes_core::Axes::builder(settings()).build().unwrap();
    let state =
        axes_cli::demo::DemoState::new(axes.clone(), vec![("demo".into(), "demo".into())]).unwrap();
    let demo = demo_support::serve(state, axes, clock).await;
    assert_eq!(demo.login(&client(), "demo", "demo").await, 303);
    assert_eq!(demo.login(&client(), "demo", "nope").await, 401);
}
