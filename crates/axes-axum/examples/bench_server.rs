//! The HTTP workload of django-axes' reference benchmark, as a standalone
//! server (`scripts/bench/run.py` measures `axes demo` instead): `POST
//! /login` with form fields `username` and
//! `password`, answering 200 on success, 401 on failure and the lockout
//! response (429) when refused. The client IP comes from `X-Forwarded-For`
//! sent by a trusted proxy (127.0.0.1). Settings come from `AXES_*` as
//! usual; the script sets `failure_limit = 5` and
//! `lockout_parameters = ip_address,username` over SQLite, like the
//! reference. Every username's password is `right` — a plain comparison, as
//! the reference used a cheap hasher so that hashing does not dominate.
//!
//! `cargo run --release -p axes-axum --example bench_server -- 127.0.0.1:8702`

use std::net::SocketAddr;

use axes_axum::{AuthRejection, AxesAttempt, AxesLayer};
use axes_core::{Axes, Handler, Settings};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use http::StatusCode;

#[derive(serde::Deserialize)]
struct Login {
    username: String,
    password: String,
}

async fn login(attempt: AxesAttempt, Form(form): Form<Login>) -> Response {
    match attempt
        .authenticate(&form.username, |username| async move {
            let ok = !username.is_empty() && form.password == "right";
            Ok::<_, std::convert::Infallible>(ok.then_some(()))
        })
        .await
    {
        Ok(()) => StatusCode::OK.into_response(),
        Err(AuthRejection::InvalidCredentials) => StatusCode::UNAUTHORIZED.into_response(),
        Err(refused) => refused.into_response(),
    }
}

async fn login_without_axes(Form(form): Form<Login>) -> StatusCode {
    if !form.username.is_empty() && form.password == "right" {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8702".into())
        .parse()?;
    let settings = Settings::load(None)?;
    let app = if settings.enabled {
        let store = match settings.handler {
            Handler::Database => axes_sqlx::connect(settings.database_url.expose()).await?,
            _ => std::sync::Arc::new(axes_core::MemoryStore::new()),
        };
        store.migrate().await?;
        let axes = Axes::builder(settings).store(store).build()?;
        Router::new()
            .route("/login", post(login))
            .route_layer(AxesLayer::new(axes)?)
    } else {
        Router::new().route("/login", post(login_without_axes))
    };
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("listening on {listen}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
