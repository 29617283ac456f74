//! `/api/v1`: the JSON service API of `axes serve` (SPEC §8), for apps in
//! any language and for nginx `auth_request`.
//!
//! | route | file |
//! |---|---|
//! | `POST /api/v1/check`, `login-failed`, `logged-in`, `logged-out` | [`decide`] |
//! | `POST /api/v1/attempts/begin`, `/api/v1/attempts/{id}/finish` | [`attempts`] (table: [`reservations`]) |
//! | `GET`/`DELETE /api/v1/attempts`, `DELETE /api/v1/logs` | [`records`] |
//! | `GET`/`POST`/`DELETE /api/v1/blocks` | [`blocks`] |
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
pub mod blocks;
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
    /// The failure limit of `axes serve` (no per-attempt hooks there; with
    /// layered rules, the smallest rule limit).
    pub fn failure_limit(&self) -> u32 {
        self.axes.failure_limit()
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
        .routes(routes!(records::purge))
        .routes(routes!(blocks::list, blocks::create, blocks::remove))
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

#[cfg(test)]
mod tests {
    //! The OpenAPI document and the router agree: every documented
    //! operation is served, every other method of a documented path is 405,
    //! and paths outside the document are the JSON 404.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use axes_core::{Handler, Settings};
    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use tower::ServiceExt as _;

    use super::*;

    async fn answer(app: &Router, method: &Method, path: &str) -> (StatusCode, serde_json::Value) {
        let mut req = Request::builder().method(method.clone()).uri(path);
        let body = if *method == Method::POST {
            req = req.header("content-type", "application/json");
            Body::from("{}")
        } else {
            Body::empty()
        };
        let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let json = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("a JSON answer")
        };
        (status, json)
    }

    fn is_no_route(status: StatusCode, body: &serde_json::Value) -> bool {
        status == StatusCode::NOT_FOUND
            && body["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("no such API route"))
    }

    #[tokio::test]
    async fn every_route_is_documented_and_every_documented_route_is_served() {
        let axes = Axes::builder(Settings {
            handler: Handler::Memory,
            ..Settings::default()
        })
        .build()
        .unwrap();
        let app = router(axes).unwrap();
        let doc: serde_json::Value = serde_json::from_str(openapi::document_json()).unwrap();
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            doc["openapi"]
        );
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 10, "{:?}", paths.keys());
        let all = [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ];
        let mut operations = 0;
        for (path, item) in paths {
            assert!(path.starts_with(PREFIX), "{path}");
            let concrete = path.replace("{id}", &"0".repeat(32));
            for method in &all {
                let documented = item.get(method.as_str().to_ascii_lowercase()).is_some();
                let (status, body) = answer(&app, method, &concrete).await;
                if documented {
                    operations += 1;
                    assert!(
                        status != StatusCode::METHOD_NOT_ALLOWED && !is_no_route(status, &body),
                        "{method} {path} is documented but not served: {status} {body}"
                    );
                } else {
                    assert_eq!(
                        status,
                        StatusCode::METHOD_NOT_ALLOWED,
                        "{method} {path} is served but not documented: {body}"
                    );
                    assert_eq!(body["error"], "method_not_allowed");
                }
            }
        }
        assert_eq!(operations, 15);
        for path in [
            "/api/v1",
            "/api/v1/",
            "/api/v1/nope",
            "/api/v1/check/more",
            "/api/v1/attempts/x",
            "/api/v1/attempts/begin/x",
            "/api/v2/check",
        ] {
            for method in &all {
                let (status, body) = answer(&app, method, path).await;
                if path.starts_with(PREFIX) {
                    assert!(
                        is_no_route(status, &body),
                        "{method} {path}: {status} {body}"
                    );
                } else {
                    assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
                }
            }
        }
    }
}
