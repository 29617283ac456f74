//! `/api/v1`: the JSON service API of `axes serve` (SPEC §8), for apps in
//! any language and for nginx `auth_request`.
//!
//! | route | file |
//! |---|---|
//! | `POST /api/v1/check`, `login-failed`, `logged-in`, `logged-out` | [`decide`] |
//! | `POST /api/v1/attempts/begin`, `/api/v1/attempts/{id}/finish` | [`attempts`] (table: [`reservations`]) |
//! | `GET`/`DELETE /api/v1/attempts`, `DELETE /api/v1/logs` | [`records`] |
//! | `GET /api/v1/auth` | [`nginx`] |
//! | `GET /api/v1/openapi.json` | [`openapi`] |
//!
//! Every call needs `Authorization: Bearer <api_token>` when `api_token`
//! is set ([`auth`]); without it the API is open, and `axes serve` listens
//! on loopback only. Input is bounded and validated ([`body`], [`model`]);
//! every error is JSON ([`errors`]). The OpenAPI document is generated
//! from the handlers' `#[utoipa::path]` annotations, which also register
//! the routes: the two cannot drift.

pub mod attempts;
pub mod auth;
pub mod body;
pub mod decide;
pub mod errors;
pub mod model;
pub mod nginx;
pub mod openapi;
pub mod records;
pub mod reservations;

use std::sync::Arc;

use axes_axum::ClientIpSource;
use axes_core::Axes;
use axum::Router;
use axum::routing::any;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use body::MAX_BODY;
pub use reservations::Reservations;

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub axes: Axes,
    pub reservations: Arc<Reservations>,
    pub client_ip: ClientIpSource,
}

impl ApiState {
    /// The failure limit of `axes serve` (no per-attempt hooks there).
    pub fn failure_limit(&self) -> u32 {
        self.axes.settings().failure_limit.max(1)
    }
}

/// The documented routes (paths and handlers together).
pub(crate) fn documented() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(decide::check))
        .routes(routes!(decide::login_failed))
        .routes(routes!(decide::logged_in))
        .routes(routes!(decide::logged_out))
        .routes(routes!(attempts::begin))
        .routes(routes!(attempts::finish))
        .routes(routes!(records::list, records::reset))
        .routes(routes!(records::reset_logs))
        .routes(routes!(nginx::auth))
        .routes(routes!(openapi::document))
}

/// The API's router (paths include [`PREFIX`]), with the reservation
/// sweeper running on the current runtime while the router lives.
pub fn router(axes: Axes) -> anyhow::Result<Router> {
    let s = axes.settings();
    let reservations = Arc::new(Reservations::new(
        usize::try_from(s.api_max_reservations).unwrap_or(usize::MAX),
        s.api_reservation_timeout,
    ));
    reservations::spawn_sweeper(&reservations);
    let state = ApiState {
        client_ip: nginx::client_ip(s)?,
        reservations,
        axes: axes.clone(),
    };
    let token = auth::Token::new(s.api_token.as_ref().map(|t| t.expose()));
    let (routes, _doc) = documented().split_for_parts();
    Ok(routes
        .route(PREFIX, any(errors::no_route))
        .route(&format!("{PREFIX}/"), any(errors::no_route))
        .route(&format!("{PREFIX}/{{*rest}}"), any(errors::no_route))
        .layer(axum::middleware::map_response(errors::json_405))
        .layer(axum::middleware::from_fn_with_state(token, auth::require))
        .with_state(state))
}
