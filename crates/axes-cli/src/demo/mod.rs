//! The demo site (SPEC §9): a small axum app protected by axes exactly as
//! an application would use the library.
//!
//! | route | does |
//! |---|---|
//! | `GET /` | who is logged in |
//! | `GET /login` | the login form (fields named per `username_form_field` / `password_form_field`) |
//! | `POST /login` | through [`AxesLayer`] and [`AxesAttempt::authenticate`](axes_axum::AxesAttempt::authenticate): 303 to `/` with a session cookie, 401 with the form and an error, or the lockout response |
//! | `POST /logout` | ends the session (`axes.logged_out`), 303 to `/login` |
//! | `GET /locked` | a page for `lockout_url = "/locked"` |
//! | `GET /api/me` | HTTP Basic auth on every request (a GET that carries credentials: `never_lockout_get` applies) |
//! | `/admin/` | the admin UI, when one is mounted ([`DemoState::with_admin`]), for logged-in users |
//! | `GET /demo/stats` | read-only JSON: `{"credential_checks": N, "store": {"kind", "available", "outages", "errors"}}` — how many times the password check actually ran since start, and the engine's [`store_status`](Axes::store_status) |
//! | `GET /healthz` | pings the store (bounded by `store_timeout`): 200 `ok` when it answers, 503 `store unavailable` otherwise; a second line gives the engine's view |
//!
//! Serve it with [`run`], or in a test with [`router`] on `127.0.0.1:0`.
//!
//! Trusted devices (`AXES_TRUSTED_DEVICE=true`): `POST /login` goes through
//! the axes layer, which sets the `axes_device` cookie after a successful
//! login and reads it on the next ones, so a user who logged in once keeps
//! getting in from that browser while others lock the name out from
//! elsewhere. Build the engine with [`engine`]: without `secret_key` it
//! signs the cookies with a random key made at start-up, like the
//! sessions' (so they end with the process too).

mod pages;
mod routes;
mod users;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use argon2::Argon2;
use axes_axum::AxesLayer;
use axes_core::{Axes, Settings};
use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};

pub use crate::session::{Session, Sessions};

use crate::server::Limits;
pub use users::{PasswordHasher, Users};

/// The demo's state: the engine, its layer, the users and the sessions.
/// Cheap to clone; clones share the sessions.
///
/// Sessions ([`crate::session`], cookie `axes_demo_session`) are signed
/// with a random key and bound to the user's password hash, both made at
/// start-up, so they end with the process; logouts are remembered in
/// memory.
#[derive(Debug, Clone)]
pub struct DemoState {
    axes: Axes,
    layer: AxesLayer,
    users: Arc<Users>,
    sessions: Sessions,
    admin: Option<Router>,
}

impl DemoState {
    /// The state for `users` (name, password), passwords hashed with
    /// argon2's default parameters (slow on purpose, slower still in debug
    /// builds).
    pub fn new(axes: Axes, users: Vec<(String, String)>) -> anyhow::Result<Self> {
        Self::with_hasher(axes, users, &Argon2::default())
    }

    /// As [`DemoState::new`], hashing with `hasher`: argon2's default
    /// parameters, or the fast hasher (**for benchmarks only**: one
    /// unsalted SHA-256, see [`crate::password::fast_hash`]).
    pub fn with_password_hasher(
        axes: Axes,
        users: Vec<(String, String)>,
        hasher: PasswordHasher,
    ) -> anyhow::Result<Self> {
        match hasher {
            PasswordHasher::Argon2 => Self::new(axes, users),
            PasswordHasher::Fast => Self::with_users(axes, Users::fast(users)?),
        }
    }

    /// As [`DemoState::new`], hashing with `argon2` (tests use cheap
    /// parameters; verification reads the parameters from each hash).
    pub fn with_hasher(
        axes: Axes,
        users: Vec<(String, String)>,
        argon2: &Argon2<'_>,
    ) -> anyhow::Result<Self> {
        Self::with_users(axes, Users::new(users, argon2)?)
    }

    fn with_users(axes: Axes, users: Users) -> anyhow::Result<Self> {
        let layer = AxesLayer::new(axes.clone()).context("configuring axes for the demo")?;
        Ok(Self {
            axes,
            layer,
            users: Arc::new(users),
            sessions: Sessions::random(crate::session::DEMO)?,
            admin: None,
        })
    }

    /// Mounts `admin` at `/admin` (behind a login: visitors without a
    /// session are sent to `/login`). The admin's own authorization can
    /// ask [`DemoState::session`] who is logged in.
    pub fn with_admin(mut self, admin: Router) -> Self {
        self.admin = Some(admin);
        self
    }

    /// The engine.
    pub fn axes(&self) -> &Axes {
        &self.axes
    }

    /// The live session of a request (its `axes_demo_session` cookie).
    pub fn session(&self, headers: &HeaderMap) -> Option<Session> {
        self.sessions
            .check(headers, self.axes.now(), self.users.as_ref())
    }

    /// How many times the credential check (password verification) ran
    /// since start (`GET /demo/stats`).
    pub fn credential_checks(&self) -> u64 {
        self.users.checks()
    }

    /// The names of the demo users.
    pub fn user_names(&self) -> Vec<String> {
        self.users.names().into_iter().map(str::to_owned).collect()
    }

    fn has_admin(&self) -> bool {
        self.admin.is_some()
    }

    fn login_page(&self, username: &str, error: Option<&str>, user: Option<&str>) -> String {
        let s = self.axes.settings();
        pages::login(
            &s.username_form_field,
            &s.password_form_field,
            username,
            error,
            user,
        )
    }
}

/// The demo's engine over the store of `settings` (connected and
/// migrated). With `trusted_device` on and `secret_key` unset, device
/// cookies are signed with a random key made now, as the sessions' is
/// ([`device_key`]): they end with the process, like the sessions.
pub async fn engine(settings: Settings) -> anyhow::Result<Axes> {
    let key = crate::cli::store::run_device_key(&settings)?;
    crate::cli::store::engine_with(settings, key).await
}

/// The demo app.
pub fn router(state: DemoState) -> Router {
    let mut app = Router::new()
        .route("/", get(routes::home))
        .route(
            "/login",
            get(routes::login_form)
                .post(routes::login)
                .route_layer(state.layer.clone()),
        )
        .route(
            "/api/me",
            get(routes::api_me).route_layer(state.layer.clone()),
        )
        .route("/logout", post(routes::logout))
        .route("/locked", get(routes::locked))
        .route("/demo/stats", get(routes::stats))
        .route("/healthz", get(routes::healthz))
        .with_state(state.clone());
    // The admin UI (mounted by `axes demo` when available) lives under /admin.
    if let Some(admin) = state.admin.clone() {
        let guarded = admin.layer(axum::middleware::from_fn_with_state(
            state,
            routes::require_login,
        ));
        // As a service, so that `/admin`, `/admin/` and everything below
        // reach it (the admin router sees the path without the prefix).
        app = app.nest_service("/admin", guarded);
    }
    app
}

/// Serves the demo on `listen` with `limits` until Ctrl-C or SIGTERM,
/// printing its URL and users (never their passwords).
pub async fn run(
    axes: Axes,
    listen: SocketAddr,
    users: Vec<(String, String)>,
    limits: &Limits,
) -> anyhow::Result<()> {
    let state = DemoState::new(axes, users)?;
    serve(state, listen, limits).await
}

/// Serves `state` (with whatever admin it has mounted) on `listen` with
/// `limits` until Ctrl-C or SIGTERM (see [`crate::server`]).
pub async fn serve(state: DemoState, listen: SocketAddr, limits: &Limits) -> anyhow::Result<()> {
    let names = state.user_names();
    let admin = state.has_admin();
    let listener =
        crate::server::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    println!("axes demo: http://{addr}/");
    println!("  log in at http://{addr}/login as: {}", names.join(", "));
    if admin {
        println!("  admin:    http://{addr}/admin/");
    }
    println!("  (Ctrl-C to stop)");
    crate::server::serve(listener, router(state), limits).await;
    Ok(())
}
