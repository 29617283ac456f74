//! Trusted-device cookies through the layer: read from the request, set on
//! the response after a login the check accepted, `Secure` per the rule of
//! `axes_axum::device`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axes_axum::{AuthRejection, AxesAttempt, AxesLayer};
use axes_core::{Axes, Field, Handler, LockoutParameters, ManualClock, Settings};
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use http::{Request, StatusCode, header};
use tower::ServiceExt;

const ALICE_IP: [u8; 4] = [203, 0, 113, 7];
const ATTACKER_IP: [u8; 4] = [198, 51, 100, 9];
const PROXY_IP: [u8; 4] = [10, 0, 0, 1];
const KEY: &[u8] = b"a device key of thirty-two bytes";
const TTL: Duration = Duration::from_secs(7 * 24 * 3600);

async fn login(attempt: AxesAttempt, Form(form): Form<Vec<(String, String)>>) -> Response {
    let field = |name: &str| {
        form.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let password = field("password");
    let username = field("username");
    match attempt
        .authenticate(&username, |name| async move {
            let right = (name == "alice" || name == "bob") && password == "right";
            Ok::<_, std::convert::Infallible>(right.then_some(name))
        })
        .await
    {
        Ok(user) => {
            // The app's own cookie stays next to the device cookie.
            let mut r = format!("welcome {user}").into_response();
            r.headers_mut().insert(
                header::SET_COOKIE,
                "app_session=s1; Path=/".parse().unwrap(),
            );
            r
        }
        Err(AuthRejection::InvalidCredentials) => StatusCode::UNAUTHORIZED.into_response(),
        Err(e) => e.into_response(),
    }
}

fn settings(trusted_device: bool) -> Settings {
    Settings {
        handler: Handler::Memory,
        lockout_parameters: LockoutParameters::any_of(&[Field::Username]),
        trusted_device,
        // The lifetime is a setting of devices only.
        trusted_device_ttl: if trusted_device {
            TTL
        } else {
            Settings::default().trusted_device_ttl
        },
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..Settings::default()
    }
}

struct Site {
    axes: Axes,
    clock: ManualClock,
    layer: AxesLayer,
}

impl Site {
    fn new(trusted_device: bool) -> Self {
        let clock = ManualClock::fixed();
        let builder = Axes::builder(settings(trusted_device)).clock(Arc::new(clock.clone()));
        // A device key only with devices on (else it would have no effect).
        let builder = if trusted_device {
            builder.device_key(KEY)
        } else {
            builder
        };
        let axes = builder.build().unwrap();
        let layer = AxesLayer::new(axes.clone()).unwrap();
        Self { axes, clock, layer }
    }

    fn app(&self, peer: [u8; 4]) -> Router {
        Router::new()
            .route("/login", post(login))
            .route_layer(self.layer.clone())
            .layer(MockConnectInfo(SocketAddr::from((peer, 5000))))
    }

    async fn post(
        &self,
        peer: [u8; 4],
        user: &str,
        password: &str,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut b =
            Request::post("/login").header("content-type", "application/x-www-form-urlencoded");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b
            .body(Body::from(format!("username={user}&password={password}")))
            .unwrap();
        self.app(peer).oneshot(req).await.unwrap()
    }

    /// alice's cookie from a successful login from her own browser.
    async fn alice_logs_in(&self) -> String {
        let r = self.post(ALICE_IP, "alice", "right", &[]).await;
        assert_eq!(r.status(), StatusCode::OK);
        device_cookie(&r).expect("a device cookie")
    }

    /// Someone elsewhere guesses alice's password until she is locked out.
    async fn attacker_locks_alice(&self) {
        for _ in 0..3 {
            let r = self.post(ATTACKER_IP, "alice", "guess", &[]).await;
            assert_ne!(r.status(), StatusCode::OK);
        }
        let r = self.post(ATTACKER_IP, "alice", "right", &[]).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    }

    async fn alice_with(&self, cookie: Option<&str>) -> StatusCode {
        let header;
        let headers: &[(&str, &str)] = match cookie {
            Some(c) => {
                header = c.to_owned();
                &[("cookie", header.as_str())]
            }
            None => &[],
        };
        self.post(ALICE_IP, "alice", "right", headers)
            .await
            .status()
    }
}

/// The `axes_device` Set-Cookie line of a response, if any.
fn set_cookie_line(r: &Response) -> Option<String> {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("axes_device="))
}

/// The `name=value` pair of the device cookie of a response.
fn device_cookie(r: &Response) -> Option<String> {
    set_cookie_line(r).map(|l| l.split(';').next().unwrap().to_owned())
}

#[tokio::test]
async fn the_cookie_lets_alice_in_while_others_locked_her_out() {
    let site = Site::new(true);
    let r = site.post(ALICE_IP, "alice", "right", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let line = set_cookie_line(&r).unwrap();
    assert_eq!(
        line.split_once(';').unwrap().1,
        format!(" HttpOnly; SameSite=Lax; Path=/; Max-Age={}", TTL.as_secs()),
        "{line}"
    );
    // The app's own cookie is still there.
    assert_eq!(r.headers().get_all(header::SET_COOKIE).iter().count(), 2);
    let cookie = device_cookie(&r).unwrap();

    site.attacker_locks_alice().await;
    assert_eq!(site.alice_with(None).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(site.alice_with(Some(&cookie)).await, StatusCode::OK);
    // Among other cookies, too.
    let among = format!("theme=dark; {cookie}; lang=en");
    assert_eq!(site.alice_with(Some(&among)).await, StatusCode::OK);
}

#[tokio::test]
async fn bad_cookies_count_as_none() {
    let site = Site::new(true);
    let cookie = site.alice_logs_in().await;
    let bob = {
        let r = site.post(ALICE_IP, "bob", "right", &[]).await;
        device_cookie(&r).unwrap()
    };
    // A token for alice, valid in every way, but signed with another key.
    let forged = {
        let stranger = Axes::builder(settings(true))
            .clock(Arc::new(site.clock.clone()))
            .device_key(b"another key, also 32 bytes long!")
            .build()
            .unwrap();
        format!(
            "axes_device={}",
            stranger.issue_device_token("alice").unwrap()
        )
    };
    let tampered = {
        let mut bytes = cookie.clone().into_bytes();
        let i = "axes_device=".len() + 20;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    let twice = format!("{cookie}; {cookie}");
    let long = format!("axes_device={}", "A".repeat(200));
    site.attacker_locks_alice().await;
    assert_eq!(site.alice_with(Some(&cookie)).await, StatusCode::OK);
    for bad in [&forged, &tampered, &bob, &twice, &long] {
        assert_eq!(
            site.alice_with(Some(bad)).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{bad}"
        );
    }
    // Two Cookie headers each with one: none either.
    let r = site
        .post(
            ALICE_IP,
            "alice",
            "right",
            &[("cookie", &cookie), ("cookie", &cookie)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Expired: past trusted_device_ttl on the engine's clock.
    site.clock
        .advance(chrono::Duration::from_std(TTL).unwrap() + chrono::Duration::seconds(1));
    assert_eq!(
        site.alice_with(Some(&cookie)).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn no_cookie_when_trusted_device_is_off() {
    let site = Site::new(false);
    let r = site.post(ALICE_IP, "alice", "right", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(set_cookie_line(&r), None);
    // A token the engine would have issued with the feature on is ignored.
    let on = Site::new(true);
    let cookie = on.alice_logs_in().await;
    site.attacker_locks_alice().await;
    assert_eq!(
        site.alice_with(Some(&cookie)).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert!(site.axes.issue_device_token("alice").is_none());
}

#[tokio::test]
async fn no_cookie_for_a_refused_or_wrong_login() {
    let site = Site::new(true);
    let r = site.post(ALICE_IP, "alice", "wrong", &[]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(set_cookie_line(&r), None);
    site.attacker_locks_alice().await;
    let r = site.post(ALICE_IP, "alice", "right", &[]).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(set_cookie_line(&r), None);
}

#[tokio::test]
async fn secure_only_when_a_trusted_proxy_says_https_or_the_app_does() {
    let site = Site::new(true);
    let secure = |r: &Response| set_cookie_line(r).unwrap().contains("; Secure");
    let https = [("x-forwarded-proto", "https")];
    let r = site.post(PROXY_IP, "alice", "right", &https).await;
    assert!(secure(&r));
    let r = site.post(PROXY_IP, "alice", "right", &[]).await;
    assert!(!secure(&r));
    // A client's own claim is not believed.
    let r = site.post(ALICE_IP, "alice", "right", &https).await;
    assert!(!secure(&r));
    // An app that serves HTTPS itself says so.
    let app = Router::new()
        .route("/login", post(login))
        .route_layer(AxesLayer::new(site.axes.clone()).unwrap().https(true))
        .layer(MockConnectInfo(SocketAddr::from((ALICE_IP, 5000))));
    let r = app
        .oneshot(
            Request::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("username=alice&password=right"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(secure(&r));
}

#[tokio::test]
async fn trust_device_for_flows_of_their_own() {
    let site = Site::new(true);
    let app = Router::new()
        .route(
            "/login",
            post(|attempt: AxesAttempt| async move {
                let Ok(ticket) = attempt.begin("alice").await else {
                    return StatusCode::TOO_MANY_REQUESTS;
                };
                ticket.succeeded().await;
                attempt.trust_device("alice");
                StatusCode::OK
            }),
        )
        .route_layer(site.layer.clone())
        .layer(MockConnectInfo(SocketAddr::from((ALICE_IP, 5000))));
    let r = app
        .oneshot(Request::post("/login").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = device_cookie(&r).unwrap();
    site.attacker_locks_alice().await;
    assert_eq!(site.alice_with(Some(&cookie)).await, StatusCode::OK);
}

/// The axum-login decorator: a login its inner backend accepts makes the
/// browser a trusted device too.
#[cfg(feature = "axum-login")]
mod axum_login_backend {
    use axes_axum::{AxesBackend, AxesBackendError, AxesCredentials, CredentialsUsername};
    use axum_login::{AuthUser, AuthnBackend, UserId};

    use super::*;

    #[derive(Clone, Debug)]
    struct User(String);

    impl AuthUser for User {
        type Id = String;
        fn id(&self) -> String {
            self.0.clone()
        }
        fn session_auth_hash(&self) -> &[u8] {
            self.0.as_bytes()
        }
    }

    #[derive(Clone, serde::Deserialize)]
    struct Creds {
        username: String,
        password: String,
    }

    impl CredentialsUsername for Creds {
        fn username(&self) -> &str {
            &self.username
        }
    }

    #[derive(Clone, Debug)]
    struct Inner;

    impl AuthnBackend for Inner {
        type User = User;
        type Credentials = Creds;
        type Error = std::convert::Infallible;

        async fn authenticate(&self, c: Creds) -> Result<Option<User>, Self::Error> {
            Ok((c.username == "alice" && c.password == "right").then_some(User(c.username)))
        }

        async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, Self::Error> {
            Ok(Some(User(id.clone())))
        }
    }

    #[tokio::test]
    async fn the_backend_path_sets_the_cookie() {
        let site = Site::new(true);
        let backend = AxesBackend::new(Inner, site.axes.clone());
        let app = Router::new()
            .route(
                "/login",
                post(
                    move |attempt: AxesAttempt, Form(c): Form<Creds>| async move {
                        match backend
                            .authenticate(AxesCredentials::new(&attempt, c))
                            .await
                        {
                            Ok(Some(_)) => StatusCode::OK.into_response(),
                            Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
                            Err(AxesBackendError::LockedOut(l)) => {
                                attempt.lockout_response(l).into_response()
                            }
                            Err(AxesBackendError::Backend(e)) => match e {},
                        }
                    },
                ),
            )
            .route_layer(site.layer.clone())
            .layer(MockConnectInfo(SocketAddr::from((ALICE_IP, 5000))));
        let post = |cookie: Option<&str>| {
            let mut b =
                Request::post("/login").header("content-type", "application/x-www-form-urlencoded");
            if let Some(c) = cookie {
                b = b.header("cookie", c);
            }
            b.body(Body::from("username=alice&password=right")).unwrap()
        };
        let r = app.clone().oneshot(post(None)).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let cookie = device_cookie(&r).unwrap();
        site.attacker_locks_alice().await;
        let r = app.clone().oneshot(post(None)).await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let r = app.clone().oneshot(post(Some(&cookie))).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
}
