//! The demo site end to end: lockout, cool-off, response variants,
//! reset on success, username normalisation, bounds and escaping.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod demo_support;

use std::time::Duration;

use demo_support::{client, settings, start};
use reqwest::header;

#[tokio::test]
async fn third_wrong_password_is_locked_out_and_then_even_the_right_one() {
    let demo = start(settings()).await;
    let c = client();
    for _ in 0..2 {
        let r = demo.post_login(&c, "demo", "wrong").send().await.unwrap();
        assert_eq!(r.status(), 401);
        let body = r.text().await.unwrap();
        assert!(body.contains("Wrong username or password."), "{body}");
        assert!(body.contains(r#"name="username" value="demo""#), "{body}");
    }
    let r = demo.post_login(&c, "demo", "wrong").send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get(header::RETRY_AFTER).is_none());
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Contact an admin to unlock your account."),
        "{body}"
    );

    assert_eq!(demo.login(&c, "demo", "demo").await, 429);
    // The form is still served to the locked client.
    let r = c.get(format!("{}/login", demo.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // An operator lets the client in again.
    assert!(demo.axes.reset(Some("127.0.0.1"), None).await.unwrap() > 0);
    assert_eq!(demo.login(&c, "demo", "demo").await, 303);
}

#[tokio::test]
async fn right_password_logs_in_with_a_session_cookie() {
    let demo = start(settings()).await;
    let c = client();
    let r = demo
        .post_login(&c, "alice", "wonderland")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[header::LOCATION], "/");
    let cookie = r.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("axes_demo_session="), "{cookie}");
    let mut sent = axum::http::HeaderMap::new();
    sent.insert(
        header::COOKIE,
        cookie.split(';').next().unwrap().parse().unwrap(),
    );
    let id = demo.state.session(&sent).unwrap().id;
    assert_eq!(id.len(), 32, "128-bit hex id");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let home = c.get(format!("{}/", demo.url)).send().await.unwrap();
    let body = home.text().await.unwrap();
    assert!(
        body.contains("logged in as <strong>alice</strong>"),
        "{body}"
    );

    // Unknown users are wrong credentials like any other.
    assert_eq!(demo.login(&client(), "nobody", "x").await, 401);
}

#[tokio::test]
async fn cool_off_expires_and_retry_after_counts_down() {
    let demo = start(axes_core::Settings {
        cooloff_time: Some(Duration::from_secs(30 * 60)),
        reset_cool_off_on_failure_during_lockout: false,
        ..settings()
    })
    .await;
    let c = client();
    assert_eq!(demo.login(&c, "demo", "wrong").await, 401);
    assert_eq!(demo.login(&c, "demo", "wrong").await, 401);
    let r = demo.post_login(&c, "demo", "wrong").send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()[header::RETRY_AFTER], "1800");
    assert!(r.text().await.unwrap().contains("Please try again later."));

    demo.advance_secs(600);
    let r = demo.post_login(&c, "demo", "demo").send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()[header::RETRY_AFTER], "1200");

    demo.advance_secs(1200);
    assert_eq!(demo.login(&c, "demo", "demo").await, 303);
}

#[tokio::test]
async fn failure_during_lockout_restarts_the_cool_off() {
    let demo = start(axes_core::Settings {
        cooloff_time: Some(Duration::from_secs(30 * 60)),
        ..settings()
    })
    .await;
    let c = client();
    for _ in 0..3 {
        demo.login(&c, "demo", "wrong").await;
    }
    demo.advance_secs(600);
    // Refused by the layer, and counted: the cool-off starts again.
    let r = demo.post_login(&c, "demo", "wrong").send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()[header::RETRY_AFTER], "1800");
    // 30 minutes after the lockout it would have lifted; it has not (asked
    // read-only, so as not to restart it again).
    let me = axes_core::Attempt::new().ip_address([127, 0, 0, 1].into());
    demo.advance_secs(1201);
    assert!(demo.axes.check(&me).await.lockout.is_some());
    // 30 minutes after the last refused attempt it has.
    demo.advance_secs(600);
    assert!(demo.axes.check(&me).await.lockout.is_none());
    assert_eq!(demo.login(&c, "demo", "demo").await, 303);
}

#[tokio::test]
async fn json_for_accept_json_and_for_xhr() {
    let demo = start(axes_core::Settings {
        cooloff_time: Some(Duration::from_secs(3600)),
        ..settings()
    })
    .await;
    let c = client();
    for _ in 0..3 {
        demo.login(&c, "Demo", "wrong").await;
    }
    for (name, value) in [
        ("accept", "application/json"),
        ("x-requested-with", "XMLHttpRequest"),
    ] {
        let r = demo
            .post_login(&c, "Demo", "demo")
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 429);
        assert!(
            r.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        assert_eq!(r.headers()[header::RETRY_AFTER], "3600");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "error": "Account locked: too many login attempts. Please try again later.",
                "failure_limit": 3,
                "username": "Demo",
                "cooloff_time": "PT1H",
                "retry_after": 3600,
            })
        );
    }
}

#[tokio::test]
async fn lockout_url_redirects_with_the_username() {
    let demo = start(axes_core::Settings {
        lockout_url: Some("/locked".into()),
        ..settings()
    })
    .await;
    let c = client();
    let name = "Bob & <Co>";
    demo.login(&c, name, "x").await;
    demo.login(&c, name, "x").await;
    let r = demo.post_login(&c, name, "x").send().await.unwrap();
    assert_eq!(r.status(), 302);
    let location = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(location, "/locked?username=Bob+%26+%3CCo%3E");
    // XHR gets JSON even so.
    let r = demo
        .post_login(&c, name, "x")
        .header("x-requested-with", "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    // The page it points at escapes the name.
    let page = c
        .get(format!("{}{location}", demo.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Bob &amp; &lt;Co&gt;"), "{page}");
}

#[tokio::test]
async fn reset_on_success_forgets_earlier_failures() {
    let demo = start(axes_core::Settings {
        reset_on_success: true,
        ..settings()
    })
    .await;
    let c = client();
    assert_eq!(demo.login(&c, "demo", "wrong").await, 401);
    assert_eq!(demo.login(&c, "demo", "wrong").await, 401);
    assert_eq!(demo.login(&c, "demo", "demo").await, 303);
    assert_eq!(demo.login(&c, "demo", "wrong").await, 401);
    assert_eq!(demo.login(&c, "demo", "wrong").await, 401);
    assert_eq!(demo.login(&c, "demo", "wrong").await, 429);
}

#[tokio::test]
async fn without_reset_on_success_failures_keep_counting() {
    let demo = start(settings()).await;
    let c = client();
    assert_eq!(demo.login(&c, "demo", "wrong").await, 401);
    assert_eq!(demo.login(&c, "demo", "wrong").await, 401);
    assert_eq!(demo.login(&c, "demo", "demo").await, 303);
    assert_eq!(demo.login(&c, "demo", "wrong").await, 429);
}

#[tokio::test]
async fn usernames_are_normalised_when_locking_by_username() {
    let demo = start(axes_core::Settings {
        lockout_parameters: "username".parse().unwrap(),
        ..settings()
    })
    .await;
    assert_eq!(demo.login(&client(), "Alice ", "x").await, 401);
    assert_eq!(demo.login(&client(), "ALICE", "x").await, 401);
    assert_eq!(demo.login(&client(), "alice", "x").await, 429);
    assert_eq!(demo.login(&client(), " alice", "wonderland").await, 429);
    // Another user is not affected.
    assert_eq!(demo.login(&client(), "demo", "demo").await, 303);
}

#[tokio::test]
async fn oversized_body_is_413() {
    let demo = start(settings()).await;
    let huge = "x".repeat(70 * 1024);
    let r = demo.post_login(&client(), &huge, "x").send().await.unwrap();
    assert_eq!(r.status(), 413);
    // The server is fine afterwards.
    assert_eq!(demo.login(&client(), "demo", "demo").await, 303);
}

#[tokio::test]
async fn hostile_username_is_escaped() {
    let demo = start(settings()).await;
    let evil = r#""><script>alert(1)</script>"#;
    let r = demo.post_login(&client(), evil, "x").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body = r.text().await.unwrap();
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(
        body.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{body}"
    );
    let r = client()
        .get(format!("{}/login", demo.url))
        .query(&[("username", evil)])
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(!body.contains("<script>alert"), "{body}");
}

#[tokio::test]
async fn form_fields_follow_the_settings() {
    let demo = start(axes_core::Settings {
        username_form_field: "email".into(),
        password_form_field: "secret".into(),
        ..settings()
    })
    .await;
    let page = client()
        .get(format!("{}/login", demo.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"name="email""#) && page.contains(r#"name="secret""#));
    let post = |pw: &str| {
        client()
            .post(format!("{}/login", demo.url))
            .form(&[("email", "Demo"), ("secret", pw)])
    };
    for expected in [401, 401, 429] {
        assert_eq!(post("no").send().await.unwrap().status(), expected);
    }
    // The username was read from `email`: the attempt is recorded under it.
    let page = demo
        .axes
        .list_attempts(&axes_core::store::ListQuery::all())
        .await
        .unwrap();
    assert_eq!(page.items[0].key.username.as_deref(), Some("demo"));
    assert!(!page.items[0].details.post_data.contains("no"));
}

/// `hide_lockout`: the locked demo login answers the right password with
/// the wrong-password page (same status, same body), and the lockout is
/// still in the failure log and sent as an event.
#[tokio::test]
async fn a_hidden_lockout_answers_the_right_password_like_a_wrong_one() {
    let demo = start(axes_core::Settings {
        hide_lockout: true,
        enable_access_failure_log: true,
        ..settings()
    })
    .await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    demo.axes
        .subscribe(move |e| sink.lock().unwrap().push(e.kind));
    let c = client();
    let first = demo.post_login(&c, "demo", "wrong").send().await.unwrap();
    assert_eq!(first.status(), 401);
    let wrong = first.text().await.unwrap();
    assert!(wrong.contains("Wrong username or password."), "{wrong}");
    for password in ["wrong", "wrong", "demo"] {
        let r = demo.post_login(&c, "demo", password).send().await.unwrap();
        assert_eq!(r.status(), 401, "{password}");
        assert!(r.headers().get(header::RETRY_AFTER).is_none());
        assert!(r.headers().get(header::SET_COOKIE).is_none());
        assert_eq!(r.text().await.unwrap(), wrong, "{password}");
    }
    assert!(
        seen.lock()
            .unwrap()
            .contains(&axes_core::EventKind::LockedOut)
    );
    let log = demo
        .axes
        .list_failure_logs(&axes_core::store::ListQuery::all())
        .await
        .unwrap();
    assert!(log.items.iter().any(|r| r.entry.locked_out), "{log:?}");
    assert!(demo.axes.reset(Some("127.0.0.1"), None).await.unwrap() > 0);
    assert_eq!(demo.login(&c, "demo", "demo").await, 303);
}
