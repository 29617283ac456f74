//! # axes-admin — the admin web UI of axes
//!
//! Server-rendered HTML pages to see every attempt, lockout and login, and to
//! reset with a click: a dashboard (counts, the clients locked out now and
//! when each lockout lifts, a chart of failures and lockouts), the access
//! attempts, the access log and the failure log, each filterable, searchable,
//! sortable and paged, with a detail view per record; delete selected rows,
//! unlock an IP, a username or both, prune old logs; block an IP, a
//! username or the pair at once (for a while or until unblocked) and lift
//! such blocks. Every change is a POST with a CSRF token and a
//! confirmation step, and is written to the log
//! (`tracing`, target `axes_admin`) with the admin's name.
//!
//! The admin is an axum [`Router`] the host application mounts where it
//! likes, guarded by an [`Authorize`] hook the host supplies: its own notion
//! of staff users.
//!
//! ```
//! use axes_admin::{AdminConfig, AdminIdentity};
//! use axes_core::{Axes, Handler, Settings};
//! use axum::Router;
//!
//! let axes = Axes::builder(Settings { handler: Handler::Memory, ..Settings::default() })
//!     .build()
//!     .unwrap();
//! let admin = AdminConfig::new(axes, |parts: &http::request::Parts| {
//!     // The host's session check goes here.
//!     let staff = parts.headers.get("x-staff-user")?.to_str().ok()?;
//!     Some(AdminIdentity::new(staff))
//! })
//! .secret_key(b"a secret of the host application")
//! .login_url("/login");
//! let app: Router = Router::new().nest_service("/admin", axes_admin::router(admin));
//! ```
//!
//! Mount it with `nest_service` (then both `/admin` and `/admin/` answer), or
//! with `nest` in a `Router<()>`. Links inside the admin follow the path it
//! is mounted at ([`axum::extract::NestedPath`]); behind a proxy that strips
//! a prefix, set it with [`AdminConfig::base_path`].

pub mod auth;
mod chart;
pub mod csrf;
mod lockouts;
mod pages;
pub mod query;
mod render;

mod actions;

use std::fmt;
use std::sync::Arc;

use axes_core::Axes;
use axum::Router;
use axum::extract::{DefaultBodyLimit, NestedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub use auth::{AdminIdentity, AsyncAuthorize, Authorize, AuthorizeFuture, authorize_async};
pub use lockouts::{LockedClient, locked_clients};

use render::Ctx;

/// The largest form body the admin reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The admin's stylesheet (also served at `<base>/static/admin.css`).
pub const STYLESHEET: &str = include_str!("../static/admin.css");
/// The admin's optional script ("select all"; everything works without it).
pub const SCRIPT: &str = include_str!("../static/admin.js");

/// How the admin is set up: the engine, who may use it, and a few choices.
pub struct AdminConfig {
    axes: Axes,
    authorize: Box<dyn Authorize>,
    secret: Vec<u8>,
    login_url: Option<String>,
    logout_url: Option<String>,
    base_path: Option<String>,
    title: String,
}

impl fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminConfig")
            .field("login_url", &self.login_url)
            .field("logout_url", &self.logout_url)
            .field("base_path", &self.base_path)
            .field("title", &self.title)
            .finish_non_exhaustive()
    }
}

impl AdminConfig {
    /// The admin over `axes`, for the staff users `authorize` recognises.
    ///
    /// CSRF tokens are signed with the engine's `secret_key` when it is set,
    /// else with a random key made now (tokens then die with the process);
    /// [`AdminConfig::secret_key`] overrides both.
    pub fn new(axes: Axes, authorize: impl Authorize) -> Self {
        let secret = match &axes.settings().secret_key {
            Some(s) if !s.expose().is_empty() => s.expose().as_bytes().to_vec(),
            _ => random_key(),
        };
        Self {
            axes,
            authorize: Box::new(authorize),
            secret,
            login_url: None,
            logout_url: None,
            base_path: None,
            title: "axes admin".into(),
        }
    }

    /// The key CSRF tokens are signed with.
    pub fn secret_key(mut self, key: impl AsRef<[u8]>) -> Self {
        if !key.as_ref().is_empty() {
            self.secret = key.as_ref().to_vec();
        }
        self
    }

    /// Where a request without an admin is sent (303, with `?next=` the
    /// page asked for). Without it, such a request gets 403.
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = Some(url.into());
        self
    }

    /// Shows a "Log out" button that POSTs (with the admin's CSRF token in
    /// the field [`csrf::FIELD`]) to `url`.
    pub fn logout_url(mut self, url: impl Into<String>) -> Self {
        self.logout_url = Some(url.into());
        self
    }

    /// The path the admin is reached at, when the mount path it sees is not
    /// the one the browser sees (a proxy strips a prefix). E.g. `/ops/admin`.
    pub fn base_path(mut self, path: impl Into<String>) -> Self {
        self.base_path = Some(path.into().trim_end_matches('/').to_owned());
        self
    }

    /// The name in the page header (default "axes admin").
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }
}

fn random_key() -> Vec<u8> {
    let mut key = vec![0u8; 32];
    if getrandom::fill(&mut key).is_err() {
        // No OS randomness: derive something unguessable enough from the
        // address space and time; tokens only live as long as the process.
        let seed = format!("{:p}{:?}", &key, std::time::SystemTime::now());
        key = csrf::hmac_sha256(seed.as_bytes(), &[b"axes-admin"]).to_vec();
    }
    key
}

pub(crate) struct State {
    pub(crate) axes: Axes,
    authorize: Box<dyn Authorize>,
    pub(crate) key: Vec<u8>,
    login_url: Option<String>,
    pub(crate) logout_url: Option<String>,
    base_path: Option<String>,
    pub(crate) title: String,
}

pub(crate) type Shared = Arc<State>;

/// The admin router. Mount it with `nest_service("/admin", …)` (or `nest`).
pub fn router(config: AdminConfig) -> Router {
    let state: Shared = Arc::new(State {
        axes: config.axes,
        authorize: config.authorize,
        key: config.secret,
        login_url: config.login_url,
        logout_url: config.logout_url,
        base_path: config.base_path,
        title: config.title,
    });
    let protected = Router::new()
        .route("/", get(pages::dashboard::page))
        .route("/attempts", get(pages::attempts::list))
        .route("/attempts/{id}", get(pages::attempts::detail))
        .route("/attempts/delete", post(actions::delete_attempts))
        .route("/access-logs", get(pages::access_logs::list))
        .route("/access-logs/{id}", get(pages::access_logs::detail))
        .route("/access-logs/delete", post(actions::delete_access_logs))
        .route("/failure-logs", get(pages::failure_logs::list))
        .route("/failure-logs/{id}", get(pages::failure_logs::detail))
        .route("/failure-logs/delete", post(actions::delete_failure_logs))
        .route("/unlock", post(actions::unlock))
        .route("/blocks", get(pages::blocks::list))
        .route("/blocks/add", post(actions::block))
        .route("/blocks/remove", post(actions::unblock))
        .route("/prune", post(actions::prune))
        .route("/purge", post(actions::purge))
        .route_layer(middleware::from_fn_with_state(state.clone(), guard));
    Router::new()
        .merge(protected)
        .fallback(not_found)
        .route("/static/admin.css", get(stylesheet))
        .route("/static/admin.js", get(script))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(headers))
        .with_state(state)
}

/// The path the admin is mounted at, as links need it ("" at the root).
fn base_of(state: &State, req: &Request) -> String {
    if let Some(b) = &state.base_path {
        return b.clone();
    }
    req.extensions()
        .get::<NestedPath>()
        .map(|p| p.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

/// Asks the host's hook; sends strangers to the login page (or 403).
async fn guard(
    axum::extract::State(state): axum::extract::State<Shared>,
    req: Request,
    next: Next,
) -> Response {
    let base = base_of(&state, &req);
    let (parts, body) = req.into_parts();
    let who = state.authorize.authorize(&parts).await;
    let mut req = Request::from_parts(parts, body);
    match who {
        Some(identity) => {
            let csrf = csrf::token(&state.key, &identity, state.axes.now());
            req.extensions_mut().insert(Ctx {
                identity,
                base,
                csrf,
            });
            next.run(req).await
        }
        None => match &state.login_url {
            Some(login) if req.method() == http::Method::GET => {
                let here = req
                    .extensions()
                    .get::<axum::extract::OriginalUri>()
                    .map(|u| u.0.path().to_owned())
                    .unwrap_or_else(|| format!("{base}{}", req.uri().path()));
                let sep = if login.contains('?') { '&' } else { '?' };
                let next_q =
                    serde_urlencoded::to_string([("next", here.as_str())]).unwrap_or_default();
                Redirect::to(&format!("{login}{sep}{next_q}")).into_response()
            }
            _ => state.message(
                None,
                StatusCode::FORBIDDEN,
                "Not authorized",
                "You need to be signed in as an administrator to see this page.",
            ),
        },
    }
}

async fn not_found(axum::extract::State(state): axum::extract::State<Shared>) -> Response {
    state.message(
        None,
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such page in the admin.",
    )
}

async fn headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    render::harden(&mut resp);
    resp
}

async fn stylesheet() -> Response {
    static_file(STYLESHEET, "text/css; charset=utf-8")
}

async fn script() -> Response {
    static_file(SCRIPT, "text/javascript; charset=utf-8")
}

fn static_file(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

/// The admin's login page, in the admin's look, for hosts (like `axes
/// serve`) that have their own admin accounts. `action` is where the form
/// POSTs; `error` is shown above it; `next` is carried in a hidden field.
#[derive(Debug, Clone, Default)]
pub struct LoginPage<'a> {
    /// Where the admin is mounted ("" or e.g. "/admin").
    pub base: &'a str,
    /// The form's action.
    pub action: &'a str,
    /// A message above the form (wrong password, lockout).
    pub error: Option<&'a str>,
    /// The username to fill in again.
    pub username: Option<&'a str>,
    /// Where to go after login (validated by the host).
    pub next: Option<&'a str>,
    /// A notice above the form (signed out).
    pub notice: Option<&'a str>,
    /// The username field's name ("username" when empty).
    pub username_field: &'a str,
    /// The password field's name ("password" when empty).
    pub password_field: &'a str,
}

/// Renders [`LoginPage`] as HTML.
pub fn login_page(page: &LoginPage<'_>) -> String {
    let ctx = minijinja::context! {
        base => page.base,
        action => page.action,
        error => page.error,
        notice => page.notice,
        username => page.username.unwrap_or(""),
        next => page.next.unwrap_or(""),
        username_field => if page.username_field.is_empty() { "username" } else { page.username_field },
        password_field => if page.password_field.is_empty() { "password" } else { page.password_field },
        title => "Sign in",
        nav => "",
        admin => minijinja::Value::from(()),
        csrf_field => csrf::FIELD,
        csrf => "",
        store_ip => false,
        logout_url => minijinja::Value::from(()),
        app_title => "axes admin",
    };
    match render::templates()
        .get_template("login.html")
        .and_then(|t| t.render(ctx))
    {
        Ok(html) => html,
        Err(e) => {
            tracing::error!("axes admin: cannot render the login page: {e:#}");
            "<!doctype html><title>Sign in</title><p>The login page could not be rendered.</p>"
                .to_owned()
        }
    }
}

/// The security headers of the admin's pages (CSP, no framing, no caching),
/// for hosts that serve pages next to it (a login form).
pub fn harden_response(resp: &mut Response) {
    render::harden(resp);
}
