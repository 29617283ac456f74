//! One identity, differentially: arbitrary content types and bodies go
//! into axes' login-body reader (`BodyKind::of` + `LoginBody::parse`, what
//! `AxesLayer` counts) and into axum's own `Form` and `Json` extractors (what
//! a handler would check). Whenever axes does NOT refuse the request and
//! axum's extractor accepts it, both must name the same username — else a
//! client could be counted under one name and checked under another.
//!
//! Then the whole stack: the request goes through `AxesLayer` to a handler
//! that checks the LAST `username` of axum's `Form` (or the JSON one) via
//! `AxesAttempt::authenticate`; every record the store holds afterwards
//! must be for the checked username (a reservation the layer took for
//! another name must have been given back).

#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use arbitrary::Arbitrary;
use axes_axum::login_body::{BodyKind, LoginBody};
use axes_axum::{AuthRejection, AxesAttempt, AxesLayer};
use axes_core::identity::normalize_username;
use axes_core::store::ListQuery;
use axes_core::{Axes, Field, Handler, LockoutParameters, Settings};
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use http::StatusCode;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

const TYPES: &[&str] = &[
    "application/x-www-form-urlencoded",
    "application/json",
    "application/x-www-form-urlencoded+json",
    "application/x-www-form-urlencodedX",
    "application/vnd.api+json",
    "APPLICATION/JSON; charset=utf-8",
    "Application/X-WWW-Form-Urlencoded;charset=UTF-8",
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/json, application/x-www-form-urlencoded",
];

#[derive(Arbitrary, Debug)]
enum ContentType {
    None,
    Known(u8),
    /// A known type with arbitrary text appended.
    Suffixed(u8, String),
    Free(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    content_type: ContentType,
    second: Option<ContentType>,
    body: Vec<u8>,
}

fn render(ct: &ContentType) -> Option<String> {
    let known = |i: &u8| TYPES[usize::from(*i) % TYPES.len()].to_owned();
    match ct {
        ContentType::None => None,
        ContentType::Known(i) => Some(known(i)),
        ContentType::Suffixed(i, s) => Some(format!("{}{s}", known(i))),
        ContentType::Free(s) => Some(s.clone()),
    }
}

fn request(types: &[String], body: &[u8]) -> Option<Request> {
    let mut b = http::Request::post("/login");
    for t in types {
        b = b.header(http::header::CONTENT_TYPE, http::HeaderValue::from_str(t).ok()?);
    }
    b.body(Body::from(body.to_vec())).ok()
}

#[derive(serde::Deserialize)]
struct Login {
    username: String,
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

fn settings() -> Settings {
    Settings {
        handler: Handler::Memory,
        lockout_parameters: LockoutParameters::any_of(&[Field::Username]),
        failure_limit: 1_000_000,
        ..Settings::default()
    }
}

/// What the handler checks: the last `username` of axum's form, or the
/// JSON object's.
async fn checked_name(req: Request) -> Option<String> {
    let is_json = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
    if is_json {
        match Json::<serde_json::Value>::from_request(req, &()).await {
            Ok(Json(serde_json::Value::Object(m))) => {
                m.get("username").and_then(|v| v.as_str()).map(str::to_owned)
            }
            _ => None,
        }
    } else {
        match Form::<Vec<(String, String)>>::from_request(req, &()).await {
            Ok(Form(pairs)) => pairs
                .into_iter()
                .rev()
                .find(|(k, _)| k == "username")
                .map(|(_, v)| v),
            Err(_) => None,
        }
    }
}

fuzz_target!(|input: Input| {
    let mut types: Vec<String> = Vec::new();
    types.extend(render(&input.content_type));
    if let Some(second) = &input.second {
        types.extend(render(second));
    }
    let Some(req) = request(&types, &input.body) else {
        return; // not a valid header value: never reaches a server
    };
    let s = settings();
    runtime().block_on(async {
        // 1. The reader against axum's extractors.
        let read = match BodyKind::of(req.headers()) {
            Ok(Some(kind)) => LoginBody::parse(kind, &input.body, &s, 64).ok(),
            Ok(None) if input.body.is_empty() => Some(LoginBody::default()),
            _ => None,
        };
        if let Some(read) = &read {
            let again = || request(&types, &input.body).expect("built once already");
            if let Ok(Form(pairs)) = Form::<Vec<(String, String)>>::from_request(again(), &()).await {
                let names: Vec<&String> = pairs
                    .iter()
                    .filter(|(k, _)| k == "username")
                    .map(|(_, v)| v)
                    .collect();
                assert!(names.len() <= 1, "a duplicate username got through: {names:?}");
                assert_eq!(names.first().copied(), read.username.as_ref(), "form differs");
            }
            if let Ok(Form(Login { username })) = Form::<Login>::from_request(again(), &()).await {
                assert_eq!(Some(&username), read.username.as_ref(), "typed form differs");
            }
            if let Ok(Json(v)) = Json::<serde_json::Value>::from_request(again(), &()).await {
                if let serde_json::Value::Object(m) = v {
                    match m.get("username") {
                        None => assert_eq!(read.username, None, "json differs"),
                        Some(serde_json::Value::String(u)) => {
                            assert_eq!(Some(u), read.username.as_ref(), "json differs")
                        }
                        Some(other) => panic!("a non-string username got through: {other}"),
                    }
                }
            }
            if let Ok(Json(Login { username })) = Json::<Login>::from_request(again(), &()).await {
                assert_eq!(Some(&username), read.username.as_ref(), "typed json differs");
            }
        }

        // 2. The whole stack: counted name == checked name.
        let axes = Axes::builder(s.clone()).build().expect("engine");
        let checked: Arc<Mutex<Option<String>>> = Arc::default();
        let seen = checked.clone();
        let app = Router::new()
            .route(
                "/login",
                post(move |attempt: AxesAttempt, req: Request| {
                    let seen = seen.clone();
                    async move {
                        let Some(name) = checked_name(req).await else {
                            return StatusCode::UNPROCESSABLE_ENTITY.into_response();
                        };
                        *seen.lock().expect("lock") = Some(name.clone());
                        let r: Result<(), AuthRejection<&str>> =
                            attempt.authenticate(&name, |_| async { Ok(None) }).await;
                        match r {
                            Ok(()) => StatusCode::OK.into_response(),
                            Err(e) => e.into_response(),
                        }
                    }
                }),
            )
            .route_layer(AxesLayer::new(axes.clone()).expect("layer"))
            .layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 1], 1))));
        let req = request(&types, &input.body).expect("built once already");
        let response: Response = app.oneshot(req).await.expect("infallible");
        let status = response.status();
        // Records whose failures were all given back may linger at zero.
        let records: Vec<_> = axes
            .list_attempts(&ListQuery::all())
            .await
            .expect("list")
            .items
            .into_iter()
            .filter(|r| r.failures > 0)
            .collect();
        let checked = checked.lock().expect("lock").clone();
        match checked {
            None => assert!(
                records.is_empty(),
                "nothing was checked but {records:?} was counted ({status})"
            ),
            Some(name) => {
                // The layer refused nothing the handler went on to check.
                assert!(read.is_some(), "the handler checked a body the reader refuses");
                let want = normalize_username(&name);
                for r in &records {
                    assert_eq!(
                        r.key.username.as_deref().unwrap_or(""),
                        want,
                        "counted {:?}, checked {name:?}",
                        r.key.username
                    );
                }
            }
        }
    });
});
