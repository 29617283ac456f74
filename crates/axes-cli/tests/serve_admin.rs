//! `axes serve`'s admin: its accounts, its login (protected by axes),
//! signed session cookies, logout, `/healthz`, and the loopback rule.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use argon2::password_hash::{PasswordHasher as _, SaltString};
use axes_cli::serve::{self, Accounts};
use axes_core::{Axes, Handler, Secret, Settings};
use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

const KEY: &[u8] = b"a test secret key, long enough";

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

fn settings() -> Settings {
    Settings {
        handler: Handler::Memory,
        admin_users: vec![format!("root:{}", phc("hunter22"))],
        ..Settings::default()
    }
}

fn app_with(settings: Settings, peer: [u8; 4]) -> (Router, Axes) {
    let axes = Axes::builder(settings).build().unwrap();
    let accounts = Accounts::from_settings(axes.settings()).unwrap();
    let app = serve::router(axes.clone(), accounts, KEY.to_vec())
        .unwrap()
        .layer(MockConnectInfo(SocketAddr::from((peer, 40000))));
    (app, axes)
}

fn default_app() -> (Router, Axes) {
    app_with(settings(), [127, 0, 0, 1])
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Resp {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
    fn set_cookie(&self) -> &str {
        self.headers
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
    /// The `name=value` part of the Set-Cookie header.
    fn cookie(&self) -> String {
        self.set_cookie().split(';').next().unwrap().to_owned()
    }
    fn csrf(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self.body.find(marker).unwrap() + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }
}

async fn send(app: &Router, req: Request<Body>) -> Resp {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

async fn get(app: &Router, path: &str, cookie: Option<&str>) -> Resp {
    let mut req = Request::get(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

async fn post(app: &Router, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Resp {
    let mut req =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let body = serde_urlencoded::to_string(form).unwrap();
    send(app, req.body(Body::from(body)).unwrap()).await
}

async fn login(app: &Router, user: &str, password: &str) -> Resp {
    post(
        app,
        "/admin/login",
        &[
            ("username", user),
            ("password", password),
            ("next", "/admin/attempts"),
        ],
        None,
    )
    .await
}

#[tokio::test]
async fn root_redirects_and_health_answers() {
    let (app, _) = default_app();
    let r = get(&app, "/", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/admin/");
    let h = get(&app, "/healthz", None).await;
    assert_eq!(h.status, StatusCode::OK);
    assert!(h.body.starts_with("ok\n"), "{}", h.body);
    assert!(h.body.contains("store: memory available"));
}

#[tokio::test]
async fn the_admin_needs_a_login() {
    let (app, _) = default_app();
    for path in ["/admin/", "/admin", "/admin/attempts?ip=1.2.3.4"] {
        let r = get(&app, path, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            r.location().starts_with("/admin/login?next=%2Fadmin"),
            "{}",
            r.location()
        );
    }
    let form = get(&app, "/admin/login?next=%2Fadmin%2Fattempts", None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"password\""));
    assert!(form.body.contains("value=\"&#x2f;admin&#x2f;attempts\""));
    assert!(form.headers.contains_key("content-security-policy"));
    let forged = get(
        &app,
        "/admin/",
        Some("axes_admin_session=726f6f74.00.ffffffff.00"),
    )
    .await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn login_sets_a_signed_strict_cookie_and_is_logged() {
    let (app, axes) = default_app();
    let wrong = login(&app, "root", "nope").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong username or password."));
    assert!(wrong.set_cookie().is_empty());

    let unknown = login(&app, "nobody", "hunter22").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);

    // A third failure would lock 127.0.0.1 out: reset first.
    axes.reset(None, None).await.unwrap();
    let ok = login(&app, "root", "hunter22").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location(), "/admin/attempts");
    let sc = ok.set_cookie();
    assert!(sc.starts_with("axes_admin_session="), "{sc}");
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/admin",
        "Max-Age=43200",
    ] {
        assert!(sc.contains(part), "{sc}");
    }
    assert!(!sc.contains("Secure"), "plain HTTP: no Secure flag");
    let cookie = ok.cookie();

    let dash = get(&app, "/admin/", Some(&cookie)).await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(dash.body.contains("Signed in as <strong>root</strong>"));
    // The admin login is in the access log.
    let logs = axes
        .list_access_logs(&axes_core::store::ListQuery::all())
        .await
        .unwrap();
    assert_eq!(logs.total, 1);
    assert_eq!(logs.items[0].entry.key.username.as_deref(), Some("root"));
    // Logged in: the form sends you on.
    let again = get(&app, "/admin/login", Some(&cookie)).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);

    // Unsafe `next` values go to the dashboard.
    axes.reset(None, None).await.unwrap();
    let r = post(
        &app,
        "/admin/login",
        &[
            ("username", "root"),
            ("password", "hunter22"),
            ("next", "//evil.example/"),
        ],
        None,
    )
    .await;
    assert_eq!(r.location(), "/admin/");
}

#[tokio::test]
async fn the_admin_login_is_protected_by_axes() {
    let (app, axes) = default_app();
    assert_eq!(
        login(&app, "root", "a").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "root", "b").await.status,
        StatusCode::UNAUTHORIZED
    );
    let third = login(&app, "root", "c").await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        third.body.contains("too many login attempts"),
        "{}",
        third.body
    );
    let right = login(&app, "root", "hunter22").await;
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "refused before the check"
    );
    assert!(right.set_cookie().is_empty());
    assert_eq!(axes.reset(Some("127.0.0.1"), None).await.unwrap(), 1);
    assert_eq!(
        login(&app, "root", "hunter22").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_cookie_is_secure_behind_a_trusted_tls_proxy() {
    let settings = Settings {
        trusted_proxies: vec!["10.0.0.1/32".parse().unwrap()],
        ..settings()
    };
    let (app, _) = app_with(settings, [10, 0, 0, 1]);
    let req = Request::post("/admin/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-forwarded-proto", "https")
        .body(Body::from("username=root&password=hunter22"))
        .unwrap();
    let r = send(&app, req).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.set_cookie().contains("; Secure"), "{}", r.set_cookie());

    // An untrusted peer cannot claim TLS.
    let (plain, _) = default_app();
    let req = Request::post("/admin/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-proto", "https")
        .body(Body::from("username=root&password=hunter22"))
        .unwrap();
    let r = send(&plain, req).await;
    assert!(!r.set_cookie().contains("Secure"));
}

#[tokio::test]
async fn logout_needs_the_csrf_token_and_ends_the_session() {
    let (app, axes) = default_app();
    let cookie = login(&app, "root", "hunter22").await.cookie();
    let page = get(&app, "/admin/", Some(&cookie)).await;
    let token = page.csrf();

    let refused = post(&app, "/admin/logout", &[], Some(&cookie)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&app, "/admin/", Some(&cookie)).await.status,
        StatusCode::OK
    );

    let out = post(
        &app,
        "/admin/logout",
        &[("csrf_token", &token)],
        Some(&cookie),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/admin/login?bye=1");
    assert!(out.set_cookie().contains("Max-Age=0"));
    // The old cookie no longer works.
    assert_eq!(
        get(&app, "/admin/", Some(&cookie)).await.status,
        StatusCode::SEE_OTHER
    );
    let bye = get(&app, "/admin/login?bye=1", None).await;
    assert!(bye.body.contains("You have signed out."));
    // The logout closed the access-log row.
    let logs = axes
        .list_access_logs(&axes_core::store::ListQuery::all())
        .await
        .unwrap();
    assert!(logs.items[0].logout_time.is_some());
}

#[tokio::test]
async fn admin_actions_work_through_the_service() {
    let (app, axes) = default_app();
    let cookie = login(&app, "root", "hunter22").await.cookie();
    let victim = axes_core::Attempt::new()
        .ip_address("198.51.100.7".parse().unwrap())
        .username("alice");
    for _ in 0..3 {
        let _ = axes
            .authenticate(&victim, || async {
                Ok::<Option<()>, std::convert::Infallible>(None)
            })
            .await;
    }
    assert!(axes.check(&victim).await.lockout.is_some());
    let token = get(&app, "/admin/", Some(&cookie)).await.csrf();
    let done = post(
        &app,
        "/admin/unlock",
        &[
            ("csrf_token", &token),
            ("ip", "198.51.100.7"),
            ("confirm", "yes"),
        ],
        Some(&cookie),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(axes.check(&victim).await.lockout.is_none());
}

#[test]
fn listening_beyond_loopback_needs_an_api_token() {
    let axes = Axes::builder(settings()).build().unwrap();
    for ok in ["127.0.0.1:8000", "[::1]:8000", "127.0.0.2:80"] {
        assert!(
            serve::check_listen(&axes, ok.parse().unwrap()).is_ok(),
            "{ok}"
        );
    }
    for bad in ["0.0.0.0:8000", "[::]:8000", "192.0.2.1:8000"] {
        let err = serve::check_listen(&axes, bad.parse().unwrap()).unwrap_err();
        assert!(err.to_string().contains("api_token"), "{err}");
    }
    let with_token = Axes::builder(Settings {
        api_token: Some(Secret::new("t0ken")),
        ..settings()
    })
    .build()
    .unwrap();
    assert!(serve::check_listen(&with_token, "0.0.0.0:8000".parse().unwrap()).is_ok());
}

#[test]
fn admin_users_entries_are_validated() {
    let with = |entries: &[&str]| {
        Accounts::from_settings(&Settings {
            admin_users: entries.iter().map(|s| (*s).to_owned()).collect(),
            ..Settings::default()
        })
    };
    assert!(with(&[]).unwrap().is_empty());
    let good = format!("root:{}", phc("x"));
    assert_eq!(with(&[&good]).unwrap().names(), ["root"]);
    for bad in [
        "root",
        ":$argon2id$v=19$m=8,t=1,p=1$abc$def",
        "root:plaintext",
    ] {
        let err = with(&[bad]).unwrap_err().to_string();
        assert!(err.contains("admin_users entry 1"), "{err}");
        assert!(!err.contains("plaintext"), "the hash is not echoed: {err}");
    }
    assert!(with(&[&good, &good]).is_err(), "duplicates");
}

#[test]
fn next_is_kept_inside_the_admin() {
    assert_eq!(
        serve::safe_next(Some("/admin/attempts?ip=1")),
        "/admin/attempts?ip=1"
    );
    assert_eq!(serve::safe_next(Some("/admin")), "/admin");
    for bad in [
        "//evil.example",
        "https://evil.example/admin/",
        "/admin/..//x",
        "/other",
        "/admin\\x",
        "/admin/login",
    ] {
        assert_eq!(serve::safe_next(Some(bad)), "/admin/", "{bad}");
    }
    assert_eq!(serve::safe_next(None), "/admin/");
}

/// `hide_lockout`: the locked admin login answers the right password like
/// a wrong one (same status, same page), and the lockout is still counted
/// and sent as an event.
#[tokio::test]
async fn a_hidden_lockout_of_the_admin_login_looks_like_a_wrong_password() {
    let (app, axes) = app_with(
        Settings {
            hide_lockout: true,
            ..settings()
        },
        [127, 0, 0, 1],
    );
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    axes.subscribe(move |e| sink.lock().unwrap().push(e.kind));
    let wrong = login(&app, "root", "a").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong username or password."));
    for password in ["b", "c", "hunter22"] {
        let r = login(&app, "root", password).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{password}");
        assert_eq!(r.body, wrong.body, "{password}");
        assert!(r.headers.get(header::RETRY_AFTER).is_none());
        assert!(r.set_cookie().is_empty());
    }
    assert!(
        seen.lock()
            .unwrap()
            .contains(&axes_core::EventKind::LockedOut)
    );
    assert!(
        axes.check(&axes_core::Attempt::new().ip_address("127.0.0.1".parse().unwrap()))
            .await
            .lockout
            .is_some()
    );
    assert_eq!(axes.reset(Some("127.0.0.1"), None).await.unwrap(), 1);
    assert_eq!(
        login(&app, "root", "hunter22").await.status,
        StatusCode::SEE_OTHER
    );
}
