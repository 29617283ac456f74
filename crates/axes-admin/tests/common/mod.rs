//! Helpers for the router tests: an engine, the admin mounted at /admin,
//! requests with and without an admin.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::sync::Arc;

use axes_admin::{AdminConfig, AdminIdentity};
use axes_core::{Attempt, Axes, Handler, ManualClock, Settings};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

pub const SECRET: &[u8] = b"test secret key";

/// Memory-store settings with the failure log on.
pub fn settings() -> Settings {
    Settings {
        handler: Handler::Memory,
        enable_access_failure_log: true,
        ..Settings::default()
    }
}

pub fn engine(settings: Settings) -> (Axes, ManualClock) {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let clock = ManualClock::new(chrono::Utc::now());
    let axes = Axes::builder(settings)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    (axes, clock)
}

/// The admin at /admin; the request header `x-admin: NAME` makes an admin.
pub fn app(axes: &Axes) -> Router {
    let config = AdminConfig::new(axes.clone(), |parts: &http::request::Parts| {
        let name = parts.headers.get("x-admin")?.to_str().ok()?;
        Some(AdminIdentity::new(name).with_session("session-1"))
    })
    .secret_key(SECRET)
    .login_url("/login")
    .logout_url("/logout");
    Router::new().nest_service("/admin", axes_admin::router(config))
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The CSRF token of the page's first form.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self.body.find(marker).expect("no CSRF field in the page") + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }
}

async fn send(app: &Router, req: Request<Body>) -> Resp {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub async fn get_as(app: &Router, path: &str, admin: Option<&str>) -> Resp {
    let mut req = Request::get(path);
    if let Some(a) = admin {
        req = req.header("x-admin", a);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

pub async fn get(app: &Router, path: &str) -> Resp {
    get_as(app, path, Some("root")).await
}

pub async fn post_as(app: &Router, path: &str, form: &[(&str, &str)], admin: Option<&str>) -> Resp {
    let body = serde_urlencoded::to_string(form).unwrap();
    let mut req =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(a) = admin {
        req = req.header("x-admin", a);
    }
    send(app, req.body(Body::from(body)).unwrap()).await
}

pub async fn post(app: &Router, path: &str, form: &[(&str, &str)]) -> Resp {
    post_as(app, path, form, Some("root")).await
}

/// A fresh CSRF token for the admin "root".
pub async fn token(app: &Router) -> String {
    get(app, "/admin/").await.csrf()
}

pub fn attempt(ip: &str, user: &str) -> Attempt {
    Attempt::new()
        .ip_address(ip.parse::<IpAddr>().unwrap())
        .username(user)
        .user_agent("test-agent/1.0")
        .path("/login")
}

/// Fails `n` logins of `attempt`.
pub async fn fail(axes: &Axes, attempt: &Attempt, n: usize) {
    for _ in 0..n {
        let _ = axes
            .authenticate(attempt, || async {
                Ok::<Option<()>, std::convert::Infallible>(None)
            })
            .await;
    }
}

pub async fn locked(axes: &Axes, attempt: &Attempt) -> bool {
    axes.check(attempt).await.lockout.is_some()
}
