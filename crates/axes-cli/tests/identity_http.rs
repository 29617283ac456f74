//! One identity, over real HTTP: every request that used to be counted under
//! one username and checked under another — against `axes demo` and `axes
//! serve`'s admin login — is now refused or counted under the checked name;
//! and attempts whose client cannot be told apart are refused, not pooled.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod demo_support;

use std::net::SocketAddr;

use argon2::password_hash::{PasswordHasher as _, SaltString};
use axes_cli::serve::{self, Accounts};
use axes_core::store::ListQuery;
use axes_core::{Axes, Field, Handler, LockoutParameters, Settings};
use demo_support::{client, start};

fn by(fields: &[Field]) -> LockoutParameters {
    LockoutParameters::new(axes_core::parameters::Alternative::new(
        fields.iter().copied(),
    ))
    .unwrap()
}

/// Every variant of the crafted login bodies: (content type, body).
/// `user`/`pass` are the account under attack and its right password.
fn crafted(user: &str, pass: &str) -> Vec<(String, String)> {
    let form = format!("username={user}&password={pass}");
    let many: String = (0..64).map(|i| format!("a{i:02}=1&")).collect();
    let many_json: String = (0..64).map(|i| format!("\"a{i:02}\":1,")).collect();
    vec![
        // The layer read JSON (`+json`), axum's Form a form.
        (
            "application/x-www-form-urlencoded+json".into(),
            format!(r#"{{"username":"d1","x":"&username={user}&password={pass}&y="}}"#),
        ),
        // A junk suffix: axum's Form takes any type that starts right.
        ("application/x-www-form-urlencodedX".into(), form.clone()),
        (
            "application/x-www-form-urlencoded-x; charset=utf-8".into(),
            form.clone(),
        ),
        // A second content type in one header.
        (
            "application/x-www-form-urlencoded, application/json".into(),
            form.clone(),
        ),
        // Duplicate fields, in both orders.
        (
            "application/x-www-form-urlencoded".into(),
            format!("username=decoy&username={user}&password={pass}"),
        ),
        (
            "application/x-www-form-urlencoded".into(),
            format!("username={user}&password={pass}&username=decoy"),
        ),
        // The username after many fields.
        (
            "application/x-www-form-urlencoded".into(),
            format!("{many}username={user}&password={pass}"),
        ),
        (
            "application/json".into(),
            format!(r#"{{{many_json}"username":"{user}","password":"{pass}"}}"#),
        ),
        // Duplicate JSON keys.
        (
            "application/json".into(),
            format!(r#"{{"username":"decoy","username":"{user}","password":"{pass}"}}"#),
        ),
        // A JSON type with a form body.
        ("application/json".into(), form.clone()),
        ("application/json; charset=utf-8".into(), form),
        // No type at all, with a body.
        (String::new(), format!("username={user}&password={pass}")),
    ]
}

async fn send(url: &str, content_type: &str, body: &str) -> u16 {
    let mut req = client().post(url).body(body.to_owned());
    if !content_type.is_empty() {
        req = req.header("content-type", content_type);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn records(axes: &Axes) -> Vec<(Option<String>, Option<String>, u32)> {
    axes.list_attempts(&ListQuery::all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| (r.key.ip_address, r.key.username, r.failures))
        .collect()
}

#[tokio::test]
async fn demo_crafted_logins_are_refused_while_a_username_is_locked() {
    for parameters in [
        by(&[Field::Username]),
        by(&[Field::IpAddress, Field::Username]),
    ] {
        let demo = start(Settings {
            lockout_parameters: parameters.clone(),
            ..demo_support::settings()
        })
        .await;
        let c = client();
        assert_eq!(demo.login(&c, "alice", "x").await, 401);
        assert_eq!(demo.login(&c, "alice", "x").await, 401);
        assert_eq!(demo.login(&c, "alice", "x").await, 429);
        let url = format!("{}/login", demo.url);
        for (ct, body) in crafted("alice", "wonderland") {
            let status = send(&url, &ct, &body).await;
            assert!(
                matches!(status, 400 | 415),
                "{parameters}: {ct:?} {body:?} got {status}"
            );
        }
        // An upper-case type with a charset is an ordinary form: still locked.
        let status = send(
            &url,
            "APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8",
            "username=alice&password=wonderland",
        )
        .await;
        assert_eq!(status, 429);
        assert_eq!(demo.login(&c, "alice", "wonderland").await, 429);
        // Nothing was counted under a decoy name.
        for (_, user, _) in records(&demo.axes).await {
            assert_eq!(user.as_deref(), Some("alice"));
        }
    }
}

#[tokio::test]
async fn demo_basic_auth_counts_the_header_username() {
    let demo = start(Settings {
        lockout_parameters: by(&[Field::Username]),
        ..demo_support::settings()
    })
    .await;
    let c = client();
    let me = |user: &str, pass: &str| {
        c.get(format!("{}/api/me", demo.url))
            .basic_auth(user, Some(pass))
            .send()
    };
    assert_eq!(me("alice", "x").await.unwrap().status(), 401);
    assert_eq!(me("alice", "x").await.unwrap().status(), 401);
    assert_eq!(me("alice", "x").await.unwrap().status(), 429);
    assert_eq!(me("alice", "wonderland").await.unwrap().status(), 429);
    // The form login for alice is locked too: one name, one count.
    assert_eq!(demo.login(&c, "alice", "wonderland").await, 429);
}

#[tokio::test]
async fn demo_unknown_client_behind_a_proxy_is_refused_not_pooled() {
    let demo = start(Settings {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..demo_support::settings()
    })
    .await;
    for bad in [
        "unknown",
        "3405803783",
        "203.000.113.007",
        "fe80::1%eth0",
        "_x",
    ] {
        for _ in 0..4 {
            assert_eq!(demo.login_via(bad, "alice", "x").await, 400, "{bad}");
        }
    }
    assert!(records(&demo.axes).await.is_empty());
    // Everyone else behind the proxy is unaffected.
    assert_eq!(
        demo.login_via("198.51.100.1", "alice", "wonderland").await,
        303
    );
    // A well-formed client is counted as itself.
    assert_eq!(demo.login_via("198.51.100.2", "alice", "x").await, 401);
    let recs = records(&demo.axes).await;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].0.as_deref(), Some("198.51.100.2"));
}

fn phc(password: &str) -> String {
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8, 1, 1, None).unwrap(),
    );
    let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
    argon
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

/// `axes serve`'s router on a real socket.
async fn serve_admin(settings: Settings) -> (String, Axes, tokio::task::JoinHandle<()>) {
    let axes = Axes::builder(settings).build().unwrap();
    let accounts = Accounts::from_settings(axes.settings()).unwrap();
    let app = serve::router(
        axes.clone(),
        accounts,
        b"a test secret key, long enough".to_vec(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    (format!("http://{addr}"), axes, server)
}

#[tokio::test]
async fn serve_admin_login_cannot_be_guessed_past_a_username_lockout() {
    let (url, axes, server) = serve_admin(Settings {
        handler: Handler::Memory,
        lockout_parameters: by(&[Field::Username]),
        admin_users: vec![format!("root:{}", phc("hunter22"))],
        ..Settings::default()
    })
    .await;
    let login = format!("{url}/admin/login");
    let form = |user: &str, pass: &str| format!("username={user}&password={pass}&next=/admin/");
    for _ in 0..2 {
        let s = send(
            &login,
            "application/x-www-form-urlencoded",
            &form("root", "x"),
        )
        .await;
        assert_eq!(s, 401);
    }
    let s = send(
        &login,
        "application/x-www-form-urlencoded",
        &form("root", "x"),
    )
    .await;
    assert_eq!(s, 429);
    // The reported attack: a decoy first, the admin last — with guesses and
    // with the right password. Each used to be checked (401, then 303).
    for i in 0..5 {
        let body = format!("username=decoy{i}&username=root&password=guess{i}");
        let s = send(&login, "application/x-www-form-urlencoded", &body).await;
        assert_eq!(s, 400, "{body}");
    }
    let s = send(
        &login,
        "application/x-www-form-urlencoded",
        "username=decoy&username=root&password=hunter22",
    )
    .await;
    assert_eq!(s, 400);
    for (ct, body) in crafted("root", "hunter22") {
        let s = send(&login, &ct, &body).await;
        assert!(matches!(s, 400 | 415), "{ct:?} {body:?} got {s}");
    }
    let s = send(
        &login,
        "application/x-www-form-urlencoded",
        &form("root", "hunter22"),
    )
    .await;
    assert_eq!(s, 429);
    // The audit trail names the admin, never a decoy.
    for (_, user, _) in records(&axes).await {
        assert_eq!(user.as_deref(), Some("root"));
    }
    server.abort();
}

#[tokio::test]
async fn forwarded_bytes_that_are_not_text_are_an_unknown_client_not_the_proxy() {
    let demo = start(Settings {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..demo_support::settings()
    })
    .await;
    let post = |xff: &'static [u8]| {
        demo.post_login(&client(), "alice", "x")
            .header(
                "x-forwarded-for",
                reqwest::header::HeaderValue::from_bytes(xff).unwrap(),
            )
            .send()
    };
    for xff in [&b"\x80"[..], b"\xff\xfe", b"", b" , ,"] {
        for _ in 0..4 {
            assert_eq!(post(xff).await.unwrap().status(), 400, "{xff:?}");
        }
    }
    assert!(
        records(&demo.axes).await.is_empty(),
        "nothing under the proxy"
    );
    // Garbage left of a real client is the client's own business.
    assert_eq!(post(b"\x80, 198.51.100.7").await.unwrap().status(), 401);
    let recs = records(&demo.axes).await;
    assert_eq!(recs[0].0.as_deref(), Some("198.51.100.7"));
    // Everyone else behind the proxy is unaffected.
    assert_eq!(
        demo.login_via("198.51.100.1", "alice", "wonderland").await,
        303
    );
}

#[tokio::test]
async fn padded_and_control_character_usernames_are_not_a_way_around_a_lockout() {
    let demo = start(Settings {
        lockout_parameters: by(&[Field::Username]),
        ..demo_support::settings()
    })
    .await;
    let c = client();
    for _ in 0..3 {
        demo.login(&c, "alice", "x").await;
    }
    assert_eq!(demo.login(&c, "alice", "wonderland").await, 429);
    // 255 blanks before the name used to be counted as no name at all.
    let padded = format!("{}alice", " ".repeat(255));
    assert_eq!(demo.login(&c, &padded, "wonderland").await, 429);
    assert_eq!(demo.login(&c, "ALICE ", "wonderland").await, 429);
    // A NUL (a C backend would check "alice") or line break: refused.
    let url = format!("{}/login", demo.url);
    for body in [
        "username=alice%00x&password=wonderland",
        "username=alice%0A&password=wonderland",
    ] {
        assert_eq!(
            send(&url, "application/x-www-form-urlencoded", body).await,
            400,
            "{body}"
        );
    }
}
