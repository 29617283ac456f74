//! `axes serve`: the service of SPEC §8. This module serves the JSON API
//! under `/api/v1/` ([`api`]: decisions, reservations, reports, reset,
//! nginx `auth_request`, OpenAPI), the admin UI at `/admin/` with its own
//! admin accounts, `GET /healthz`, and redirects `/` to the admin.
//!
//! - Accounts: `admin_users` entries `name:$argon2id$…` (`axes
//!   hash-password` makes the hash).
//! - Login: `/admin/login`, itself protected by axes (failures count and
//!   lock out like any login; admin logins appear in the access log).
//! - Sessions ([`crate::session`]): signed cookies (HttpOnly,
//!   SameSite=Strict, Secure behind a TLS-terminating trusted proxy), 12
//!   hours, bound to the admin's current password hash, ended by
//!   `/admin/logout` — recorded in `axes.sessions` in the data folder, so a
//!   logout outlives a restart.
//! - Secret: `secret_key`, else a random key generated on first start into
//!   `axes.secret` next to the SQLite database (or in the working directory),
//!   mode 0600. It also signs trusted-device cookies (`trusted_device`):
//!   build the engine with [`engine`], which passes it to
//!   `AxesBuilder::device_key` when `secret_key` is unset.
//! - Trusted devices: the admin login goes through the axes layer, which
//!   reads the `axes_device` cookie and sets it after a successful sign-in
//!   (`Secure` behind a TLS-terminating trusted proxy, like the session);
//!   the API takes and answers `device_token` ([`api::attempts`]).
//! - Listening beyond loopback is refused unless `api_token` is set.
//! - Operations ([`metrics`], [`webhook`]): `GET /metrics`, webhooks.

pub mod accounts;
pub mod api;
mod login;
pub mod metrics;
pub mod purge;
pub mod secret;
pub mod webhook;

use std::net::SocketAddr;

use anyhow::Context as _;
use axes_admin::{AdminConfig, AdminIdentity};
use axes_axum::AxesLayer;
use axes_core::{Axes, ConfigError, Settings};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub use accounts::Accounts;
pub use login::safe_next;

use crate::session::{self, Revocations, Sessions};

use crate::demo::DemoState;
use crate::server::Limits;

/// The engine of `axes serve` over the store of `settings` (connected and
/// migrated). With `trusted_device` on and `secret_key` unset, device
/// cookies are signed with the generated secret ([`secret`]), the key of
/// the admin's sessions: without it the engine would refuse to start.
pub async fn engine(settings: Settings) -> anyhow::Result<Axes> {
    let key = device_key(&settings)?;
    crate::cli::store::engine_with(settings, key).await
}

/// The key `axes serve` signs device cookies with when `secret_key` is
/// unset: the generated secret. `None` when `trusted_device` is off or
/// `secret_key` is set (the engine uses that).
pub fn device_key(settings: &Settings) -> anyhow::Result<Option<Vec<u8>>> {
    if !settings.trusted_device || settings.secret_key.is_some() {
        return Ok(None);
    }
    secret::load_or_create(settings).map(Some)
}

/// Refuses addresses beyond loopback unless `api_token` is set (SPEC §8).
pub fn check_listen(axes: &Axes, listen: SocketAddr) -> Result<(), ConfigError> {
    if listen.ip().is_loopback() || axes.settings().api_token.is_some() {
        return Ok(());
    }
    Err(ConfigError::Conflict(format!(
        "refusing to listen on {listen} without api_token: set api_token (AXES_API_TOKEN) \
         to serve beyond loopback, or listen on 127.0.0.1"
    )))
}

/// The service's router: `/api/v1/…` ([`api::router`]), `/admin/…`
/// (login, logout, the admin UI), `/healthz`, and `/` → `/admin/`. Serve it with connect info. Logouts
/// are remembered in memory only: see [`router_with`].
pub fn router(axes: Axes, accounts: Accounts, secret: Vec<u8>) -> anyhow::Result<Router> {
    router_with(axes, accounts, secret, Revocations::in_memory())
}

/// As [`router`], with logouts recorded in `revocations` (`axes serve`
/// keeps them in the data folder: [`Revocations::open`]).
pub fn router_with(
    axes: Axes,
    accounts: Accounts,
    secret: Vec<u8>,
    revocations: Revocations,
) -> anyhow::Result<Router> {
    let sessions = Sessions::new(&secret, session::ADMIN, revocations);
    let login_state = login::LoginState {
        axes: axes.clone(),
        accounts,
        sessions,
        secret: std::sync::Arc::new(secret.clone()),
    };
    let authorize = {
        let login_state = login_state.clone();
        move |parts: &Parts| {
            let s = login_state.session(parts)?;
            Some(AdminIdentity::new(s.username).with_session(s.id))
        }
    };
    let admin = axes_admin::router(
        AdminConfig::new(axes.clone(), authorize)
            .secret_key(&secret)
            .login_url("/admin/login")
            .logout_url("/admin/logout"),
    );
    let layer = AxesLayer::new(axes.clone()).context("configuring axes for the admin login")?;
    let login_routes = Router::new()
        .route(
            "/login",
            post(login::login).route_layer(layer).get(login::form),
        )
        .route("/logout", post(login::logout))
        .with_state(login_state);
    let api = api::router(axes.clone())?;
    Ok(Router::new()
        .route("/", get(|| async { Redirect::to("/admin/") }))
        .route("/healthz", get(healthz))
        .nest_service("/admin", admin.merge(login_routes))
        .with_state(axes)
        .merge(api))
}

/// `GET /healthz`: "ok" and the store's status; 503 while the store is
/// not answering. It pings the store (bounded by `store_timeout`), so a
/// store that came back is noticed even when no logins arrive.
async fn healthz(State(axes): State<Axes>) -> Response {
    let _ = axes.ping().await;
    let st = axes.store_status();
    let kind = axes.store().kind();
    let body = format!(
        "{}\nstore: {kind} {}, {} outages, {} errors\n",
        if st.available {
            "ok"
        } else {
            "store unavailable"
        },
        if st.available {
            "available"
        } else {
            "unavailable"
        },
        st.outages,
        st.errors
    );
    let status = if st.available {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body).into_response()
}

/// Serves the service on `listen` with `limits` until Ctrl-C or SIGTERM
/// (see [`crate::server`]), printing where it listens and the admin URL.
pub async fn run(
    axes: Axes,
    listen: SocketAddr,
    limits: &Limits,
    purge: &purge::PurgeArgs,
) -> anyhow::Result<()> {
    check_listen(&axes, listen)?;
    // The warnings of `axes check` (the settings were validated on load).
    for warning in axes.settings().warnings() {
        tracing::warn!("{warning}");
    }
    let accounts = Accounts::from_settings(axes.settings())?;
    let secret = secret::load_or_create(axes.settings())?;
    if accounts.is_empty() {
        tracing::warn!(
            "no admin_users configured: nobody can sign in to the admin UI \
             (make an entry with `axes hash-password`)"
        );
    }
    let names = accounts.names().join(", ");
    let revocations = Revocations::open(&secret::data_dir(axes.settings()), axes.now().timestamp())
        .context("opening the list of ended admin sessions")?;
    let metrics = metrics::Metrics::attach(&axes);
    let webhook = webhook::Webhook::start(&axes, &metrics)?;
    let purging = purge::spawn(axes.clone(), purge);
    let app = router_with(axes.clone(), accounts.clone(), secret, revocations)?;
    let app = metrics::install(app, &axes, &metrics);
    let listener =
        crate::server::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    println!("axes serve: listening on http://{addr}/");
    println!("  admin:  http://{addr}/admin/");
    if !names.is_empty() {
        println!("  admins: {names}");
    }
    println!("  api:    http://{addr}/api/v1/ (docs/service.md; /api/v1/openapi.json)");
    println!("  health: http://{addr}/healthz");
    println!("  (Ctrl-C to stop)");
    crate::server::serve(listener, app, limits).await;
    if let Some(task) = purging {
        task.abort();
    }
    webhook.shutdown().await;
    Ok(())
}

/// The demo with the admin mounted at `/admin/` for logged-in demo users
/// (the authorization hook: "has a demo session"; CSRF tokens are bound to
/// that session; "Log out" posts to the demo's `/logout`).
pub fn demo_with_admin(state: DemoState) -> DemoState {
    let sessions = state.clone();
    let admin = axes_admin::router(
        AdminConfig::new(state.axes().clone(), move |parts: &Parts| {
            let s = sessions.session(&parts.headers)?;
            Some(AdminIdentity::new(s.username).with_session(s.id))
        })
        .login_url("/login")
        .logout_url("/logout")
        .title("axes demo admin"),
    );
    state.with_admin(admin)
}
