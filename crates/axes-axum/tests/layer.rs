//! The layer and the lockout response variants, driven with `oneshot`
//! through a Router with `MockConnectInfo`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axes_axum::{AuthRejection, AxesAttempt, AxesLayer, ClientIp, LockoutResponder, RequestInfo};
use axes_core::{Axes, Handler, Lockout, LockoutReason, ManualClock, Settings};
use axum::body::{Body, to_bytes};
use axum::extract::connect_info::MockConnectInfo;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use http::{Request, StatusCode, header};
use tower::ServiceExt;

const PEER: [u8; 4] = [203, 0, 113, 7];

async fn login(attempt: AxesAttempt, Form(form): Form<Vec<(String, String)>>) -> Response {
    let field = |name: &str| {
        form.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let password = field("password");
    let username = field("username").unwrap_or_default();
    match attempt
        .authenticate(&username, |_| async move {
            Ok::<_, std::convert::Infallible>((password.as_deref() == Some("right")).then_some(()))
        })
        .await
    {
        Ok(()) => "welcome".into_response(),
        Err(AuthRejection::InvalidCredentials) => {
            (StatusCode::UNAUTHORIZED, "try again").into_response()
        }
        Err(e) => e.into_response(),
    }
}

fn settings() -> Settings {
    Settings {
        handler: Handler::Memory,
        ..Settings::default()
    }
}

fn app_with(layer: AxesLayer, peer: [u8; 4]) -> Router {
    Router::new()
        .route("/login", post(login).get(|| async { "the form" }))
        .route(
            "/echo",
            post(|ClientIp(ip): ClientIp, body: String| async move {
                format!("{}|{body}", ip.map(|i| i.to_string()).unwrap_or_default())
            }),
        )
        .route_layer(layer)
        .layer(MockConnectInfo(SocketAddr::from((peer, 5000))))
}

fn app(settings: Settings) -> (Router, Axes) {
    let axes = Axes::builder(settings).build().unwrap();
    (app_with(AxesLayer::new(axes.clone()).unwrap(), PEER), axes)
}

fn form(password: &str) -> Request<Body> {
    form_with(password, &[])
}

fn form_with(password: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::post("/login").header("content-type", "application/x-www-form-urlencoded");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::from(format!(
        "username=Bob+%3Cx%3E&password={password}"
    )))
    .unwrap()
}

async fn lock(app: &Router) {
    for _ in 0..3 {
        app.clone().oneshot(form("wrong")).await.unwrap();
    }
}

async fn text(r: Response) -> String {
    String::from_utf8(to_bytes(r.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
}

#[tokio::test]
async fn html_lockout_after_the_limit() {
    let (app, _) = app(settings());
    assert_eq!(
        app.clone().oneshot(form("wrong")).await.unwrap().status(),
        401
    );
    assert_eq!(
        app.clone().oneshot(form("wrong")).await.unwrap().status(),
        401
    );
    let r = app.clone().oneshot(form("wrong")).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.headers().get(header::RETRY_AFTER).is_none(),
        "no cool-off"
    );
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = text(r).await;
    assert!(body.contains("Contact an admin"), "{body}");
    // Refused by the layer now, before the handler.
    let r = app.clone().oneshot(form("right")).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // The login page itself is still served.
    let r = app
        .clone()
        .oneshot(Request::get("/login").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn json_for_accept_and_xhr_with_retry_after() {
    let clock = ManualClock::fixed();
    let axes = Axes::builder(Settings {
        cooloff_time: Some(Duration::from_secs(1800)),
        http_response_code: 403,
        ..settings()
    })
    .clock(Arc::new(clock.clone()))
    .build()
    .unwrap();
    let app = app_with(AxesLayer::new(axes).unwrap(), PEER);
    lock(&app).await;
    clock.advance(chrono::Duration::seconds(100));
    for headers in [
        &[("accept", "application/json")][..],
        &[("x-requested-with", "XMLHttpRequest")][..],
    ] {
        let r = app
            .clone()
            .oneshot(form_with("right", headers))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // This refused attempt restarted the cool-off.
        assert_eq!(r.headers()[header::RETRY_AFTER], "1800");
        let v: serde_json::Value = serde_json::from_str(&text(r).await).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "error": axes_core::settings::DEFAULT_COOLOFF_MESSAGE,
                "failure_limit": 3,
                "username": "Bob <x>",
                "cooloff_time": "PT30M",
                "retry_after": 1800,
            })
        );
    }
}

#[tokio::test]
async fn redirect_with_lockout_url_but_json_wins() {
    let (app, _) = app(Settings {
        lockout_url: Some("/locked".into()),
        ..settings()
    });
    lock(&app).await;
    let r = app.clone().oneshot(form("right")).await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(
        r.headers()[header::LOCATION],
        "/locked?username=Bob+%3Cx%3E"
    );
    let r = app
        .clone()
        .oneshot(form_with(
            "right",
            &[("x-requested-with", "XMLHttpRequest")],
        ))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn template_file_is_rendered_escaped() {
    let dir = std::env::temp_dir().join(format!("axes-axum-tpl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("lockout.html");
    std::fs::write(
        &path,
        "<h1>{{ message }}</h1><p>{{username}} / {{ failure_limit }}</p>",
    )
    .unwrap();
    let (app, _) = app(Settings {
        lockout_template: Some(path),
        cooloff_message: "Slow <down>".into(),
        permalock_message: "Gone <forever>".into(),
        ..settings()
    });
    lock(&app).await;
    let body = text(app.clone().oneshot(form("right")).await.unwrap()).await;
    assert_eq!(
        body,
        "<h1>Gone &lt;forever&gt;</h1><p>Bob &lt;x&gt; / 3</p>"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn hook_replaces_the_response() {
    let axes = Axes::builder(settings()).build().unwrap();
    let layer =
        AxesLayer::new(axes)
            .unwrap()
            .lockout_response(|l: &Lockout, _req: &RequestInfo| {
                (StatusCode::IM_A_TEAPOT, format!("{} failures", l.failures)).into_response()
            });
    let app = app_with(layer, PEER);
    // The failure that reaches the limit already gets the hook's response.
    app.clone().oneshot(form("wrong")).await.unwrap();
    app.clone().oneshot(form("wrong")).await.unwrap();
    let r = app.clone().oneshot(form("wrong")).await.unwrap();
    assert_eq!(r.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(text(r).await, "3 failures");
}

#[test]
fn store_unavailable_is_503_without_redirect() {
    let responder = LockoutResponder::from_settings(&Settings {
        lockout_url: Some("/locked".into()),
        ..Settings::default()
    })
    .unwrap();
    let lockout = Lockout {
        reason: LockoutReason::StoreUnavailable,
        username: None,
        failures: 0,
        failure_limit: 3,
        cooloff: None,
        retry_after: None,
        message: "Login is temporarily unavailable.".into(),
    };
    let r = responder.respond(&lockout, &RequestInfo::default());
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().get(header::LOCATION).is_none());
}

#[tokio::test]
async fn deny_list_refused_before_any_failure() {
    let (app, _) = app(Settings {
        ip_blacklist: vec!["203.0.113.0/24".parse().unwrap()],
        ..settings()
    });
    let r = app.clone().oneshot(form("right")).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn oversized_body_is_413_and_body_is_handed_on() {
    let (app, _) = app(settings());
    let big = "a".repeat(axes_axum::DEFAULT_BODY_LIMIT + 1);
    let r = app
        .clone()
        .oneshot(
            Request::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("username={big}")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Same without a Content-Length: a stream.
    let stream = futures_util::stream::iter(
        (0..100).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'a'; 1024]))),
    );
    let r = app
        .clone()
        .oneshot(
            Request::post("/login")
                .header("content-type", "application/json")
                .body(Body::from_stream(stream))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A JSON body read by the layer still reaches the handler.
    let r = app
        .clone()
        .oneshot(
            Request::post("/echo")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"username":"x"}"#))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(text(r).await, r#"203.0.113.7|{"username":"x"}"#);
}

#[tokio::test]
async fn trusted_proxy_header_and_hook() {
    let axes = Axes::builder(Settings {
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..settings()
    })
    .build()
    .unwrap();
    let app = app_with(AxesLayer::new(axes.clone()).unwrap(), [10, 0, 0, 1]);
    let echo = |xff: &str| {
        Request::post("/echo")
            .header("x-forwarded-for", xff)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("hi"))
            .unwrap()
    };
    let r = app
        .clone()
        .oneshot(echo("1.2.3.4, 198.51.100.9"))
        .await
        .unwrap();
    assert_eq!(text(r).await, "198.51.100.9|hi");

    let hooked = AxesLayer::new(axes)
        .unwrap()
        .client_ip(|_| "192.0.2.200".parse().ok());
    let r = app_with(hooked, [10, 0, 0, 1])
        .oneshot(echo("198.51.100.9"))
        .await
        .unwrap();
    assert_eq!(text(r).await, "192.0.2.200|hi");
}

#[tokio::test]
async fn extractor_without_layer_is_500() {
    let app = Router::new()
        .route("/login", post(|_a: AxesAttempt| async { "unreachable" }))
        .layer(MockConnectInfo(SocketAddr::from((PEER, 5000))));
    let r = app
        .oneshot(Request::post("/login").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn backend_error_is_500_and_not_counted() {
    let axes = Axes::builder(settings()).build().unwrap();
    let app = Router::new()
        .route(
            "/login",
            post(|a: AxesAttempt| async move {
                a.authenticate("bob", |_| async { Err::<Option<()>, _>("db down") })
                    .await
                    .map(|()| "ok")
            }),
        )
        .route_layer(AxesLayer::new(axes.clone()).unwrap())
        .layer(MockConnectInfo(SocketAddr::from((PEER, 5000))));
    for _ in 0..5 {
        let r = app
            .clone()
            .oneshot(Request::post("/login").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
    let page = axes
        .list_attempts(&axes_core::store::ListQuery::all())
        .await
        .unwrap();
    assert_eq!(page.total, 0);
}

/// Total failures stored.
async fn stored(axes: &Axes) -> u32 {
    axes.list_attempts(&axes_core::store::ListQuery::all())
        .await
        .unwrap()
        .items
        .iter()
        .map(|r| r.failures)
        .sum()
}

#[tokio::test]
async fn a_handler_that_checks_no_credentials_counts_nothing() {
    let axes = Axes::builder(settings()).build().unwrap();
    // `/echo` sits behind the layer (which reserves for every POST) but
    // never calls authenticate: the reservation is given back.
    let echo = app_with(AxesLayer::new(axes.clone()).unwrap(), PEER);
    for _ in 0..5 {
        let r = echo
            .clone()
            .oneshot(
                Request::post("/echo")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from("username=bob&password=x"))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert_eq!(stored(&axes).await, 0);
    // And the login route still counts one failure per wrong password.
    let (app, axes) = app(settings());
    let r = app.clone().oneshot(form("wrong")).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(stored(&axes).await, 1);
    let r = app.oneshot(form("right")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        stored(&axes).await,
        1,
        "the right password gives its slot back"
    );
}

#[tokio::test]
async fn a_username_changed_by_the_handler_is_counted_on_the_new_name() {
    let axes = Axes::builder(Settings {
        lockout_parameters: axes_core::LockoutParameters::any_of(&[axes_core::Field::Username]),
        ..settings()
    })
    .build()
    .unwrap();
    let app = Router::new()
        .route(
            "/login",
            post(|attempt: AxesAttempt| async move {
                match attempt
                    .authenticate("from-a-header", |_| async { Ok::<Option<()>, ()>(None) })
                    .await
                {
                    Err(AuthRejection::InvalidCredentials) => StatusCode::UNAUTHORIZED,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                }
            }),
        )
        .route_layer(AxesLayer::new(axes.clone()).unwrap())
        .layer(MockConnectInfo(SocketAddr::from((PEER, 5000))));
    let r = app.oneshot(form("wrong")).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let page = axes
        .list_attempts(&axes_core::store::ListQuery::all())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].key.username.as_deref(), Some("from-a-header"));
    assert_eq!(page.items[0].failures, 1);
}

/// One identity: the bypasses found against the old layer, each now refused
/// or counted under the name that is checked.
mod one_identity {
    use super::*;

    /// alice is locked out by username (3 wrong passwords); the handler
    /// checks the LAST `username` field of axum's own form parser, so any
    /// request on which the layer and the handler disagree would let a
    /// guess through.
    async fn locked_alice() -> (Router, Axes) {
        let axes = Axes::builder(Settings {
            lockout_parameters: axes_core::LockoutParameters::any_of(&[axes_core::Field::Username]),
            ..settings()
        })
        .build()
        .unwrap();
        let app = Router::new()
            .route("/login", post(login))
            .route_layer(AxesLayer::new(axes.clone()).unwrap())
            .layer(MockConnectInfo(SocketAddr::from((PEER, 5000))));
        for _ in 0..3 {
            let r = app
                .clone()
                .oneshot(raw(
                    "application/x-www-form-urlencoded",
                    "username=alice&password=x",
                ))
                .await
                .unwrap();
            assert_ne!(r.status(), StatusCode::OK);
        }
        let r = app
            .clone()
            .oneshot(raw(
                "application/x-www-form-urlencoded",
                "username=alice&password=right",
            ))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        (app, axes)
    }

    fn raw(content_type: &str, body: &str) -> Request<Body> {
        Request::post("/login")
            .header("content-type", content_type)
            .body(Body::from(body.to_owned()))
            .unwrap()
    }

    #[tokio::test]
    async fn crafted_bodies_are_refused_never_checked() {
        let (app, _axes) = locked_alice().await;
        let smuggled = r#"{"username":"d1","x":"&username=alice&password=right&y="}"#;
        let many: String = (0..64).map(|i| format!("a{i:02}=1&")).collect();
        let many_json: String = (0..64).map(|i| format!("\"a{i:02}\":1,")).collect();
        let cases: Vec<(&str, String, StatusCode)> = vec![
            // A content type the layer took for JSON, axum's Form for a form.
            (
                "application/x-www-form-urlencoded+json",
                smuggled.into(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "application/x-www-form-urlencodedX",
                "username=alice&password=right".into(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "application/x-www-form-urlencoded, application/json",
                "username=alice&password=right".into(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            // Duplicate credential fields, in both orders.
            (
                "application/x-www-form-urlencoded",
                "username=decoy&username=alice&password=right".into(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "application/x-www-form-urlencoded",
                "username=alice&password=right&username=decoy".into(),
                StatusCode::BAD_REQUEST,
            ),
            // The username after the old 64-field cap.
            (
                "application/x-www-form-urlencoded",
                format!("{many}username=alice&password=right"),
                StatusCode::BAD_REQUEST,
            ),
            (
                "application/json",
                format!(r#"{{{many_json}"username":"alice","password":"right"}}"#),
                StatusCode::BAD_REQUEST,
            ),
            // A JSON type with a form body.
            (
                "application/json",
                "username=alice&password=right".into(),
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (ct, body, status) in cases {
            let r = app.clone().oneshot(raw(ct, &body)).await.unwrap();
            assert_eq!(r.status(), status, "{ct}: {body}");
        }
        // An upper-case type with a charset is the same form: still locked.
        let r = app
            .clone()
            .oneshot(raw(
                "APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8",
                "username=alice&password=right",
            ))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    }

    #[tokio::test]
    async fn the_checked_name_is_counted_whatever_the_layer_read() {
        let (_, axes) = locked_alice().await;
        // A handler that takes the username from somewhere the layer never
        // reads (the query string here): the layer reserved for "decoy",
        // the handler checks alice — and alice is refused.
        let app = Router::new()
            .route(
                "/login",
                post(
                    |attempt: AxesAttempt,
                     uri: http::Uri,
                     Form(form): Form<Vec<(String, String)>>| async move {
                        let user = uri
                            .query()
                            .unwrap_or("")
                            .trim_start_matches("u=")
                            .to_owned();
                        let password = form
                            .into_iter()
                            .find(|(k, _)| k == "password")
                            .map(|(_, v)| v);
                        match attempt
                            .authenticate(&user, |_| async move {
                                Ok::<_, std::convert::Infallible>(
                                    (password.as_deref() == Some("right")).then_some(()),
                                )
                            })
                            .await
                        {
                            Ok(()) => "welcome".into_response(),
                            Err(AuthRejection::InvalidCredentials) => {
                                StatusCode::UNAUTHORIZED.into_response()
                            }
                            Err(e) => e.into_response(),
                        }
                    },
                ),
            )
            .route_layer(AxesLayer::new(axes.clone()).unwrap())
            .layer(MockConnectInfo(SocketAddr::from((PEER, 5000))));
        let r = app
            .clone()
            .oneshot(
                Request::post("/login?u=alice")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from("username=decoy&password=right"))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        // The decoy's reservation was given back: nothing counted for it.
        let page = axes
            .list_attempts(&axes_core::store::ListQuery::all())
            .await
            .unwrap();
        assert!(
            page.items
                .iter()
                .all(|r| r.key.username.as_deref() == Some("alice")),
            "{:?}",
            page.items
        );
    }

    #[tokio::test]
    async fn unknown_client_ip_is_refused_not_pooled() {
        let axes = Axes::builder(Settings {
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            ..settings()
        })
        .build()
        .unwrap();
        let app = app_with(AxesLayer::new(axes.clone()).unwrap(), [10, 0, 0, 1]);
        for bad in ["unknown", "3405803783", "203.000.113.007", "fe80::1%eth0"] {
            let r = app
                .clone()
                .oneshot(form_with("wrong", &[("x-forwarded-for", bad)]))
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        }
        assert_eq!(stored(&axes).await, 0, "nothing counted under the proxy");
        // A well-formed client behind the proxy is counted as itself.
        let r = app
            .clone()
            .oneshot(form_with("wrong", &[("x-forwarded-for", "198.51.100.9")]))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let page = axes
            .list_attempts(&axes_core::store::ListQuery::all())
            .await
            .unwrap();
        assert_eq!(
            page.items[0].key.ip_address.as_deref(),
            Some("198.51.100.9")
        );

        // A client_ip hook that answers None: refused under IP lockout.
        let hooked = AxesLayer::new(axes.clone()).unwrap().client_ip(|_| None);
        let r = app_with(hooked, PEER).oneshot(form("wrong")).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
}

/// A username the layer cannot read from the body (a header here) is not
/// refused by the layer as unattributable: the handler names it.
#[tokio::test]
async fn a_username_from_a_header_is_not_refused_by_the_layer() {
    let axes = Axes::builder(Settings {
        lockout_parameters: axes_core::LockoutParameters::any_of(&[axes_core::Field::Username]),
        ..settings()
    })
    .build()
    .unwrap();
    let app = Router::new()
        .route(
            "/login",
            post(
                |attempt: AxesAttempt, headers: http::HeaderMap| async move {
                    let user = headers
                        .get("x-user")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    match attempt
                        .authenticate(&user, |_| async { Ok::<Option<()>, &str>(None) })
                        .await
                    {
                        Err(AuthRejection::InvalidCredentials) => {
                            StatusCode::UNAUTHORIZED.into_response()
                        }
                        Err(e) => e.into_response(),
                        Ok(()) => StatusCode::OK.into_response(),
                    }
                },
            ),
        )
        .route_layer(AxesLayer::new(axes.clone()).unwrap())
        .layer(MockConnectInfo(SocketAddr::from((PEER, 5000))));
    let req = |user: Option<&str>| {
        let mut b = Request::post("/login");
        if let Some(u) = user {
            b = b.header("x-user", u);
        }
        b.body(Body::empty()).unwrap()
    };
    assert_eq!(
        app.clone()
            .oneshot(req(Some("carol")))
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.clone()
            .oneshot(req(Some("carol")))
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.clone()
            .oneshot(req(Some("carol")))
            .await
            .unwrap()
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // No name anywhere: refused by authenticate, not pooled.
    assert_eq!(
        app.clone().oneshot(req(None)).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(stored(&axes).await, 3);
}
