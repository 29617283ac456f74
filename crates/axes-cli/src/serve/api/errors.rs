//! Every error of `/api/v1` is JSON: `{"error": CODE, "detail": TEXT}`
//! with a fitting status. `detail` names the offending field when there is
//! one; it never echoes a secret.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: `invalid_input`, `not_found`, `method_not_allowed`,
    /// `conflict`, `unauthorized`, `payload_too_large`,
    /// `unsupported_media_type`, `unavailable`.
    #[schema(example = "invalid_input")]
    pub error: String,
    /// What was wrong, for people.
    #[schema(example = "ip_address: not an IP address")]
    pub detail: String,
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: &'static str,
    pub detail: String,
}

impl ApiError {
    fn new(status: StatusCode, error: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            error,
            detail: detail.into(),
        }
    }

    /// 422: a field's value is malformed or out of bounds.
    pub fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!("{field}: {why}"),
        )
    }

    /// 422: the body or query as a whole cannot be read.
    pub fn unreadable(why: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", why)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// 405.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this path does not answer this method",
        )
    }

    /// 409.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", detail)
    }

    /// 401, with `WWW-Authenticate: Bearer`.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this API needs `Authorization: Bearer <api_token>`",
        )
    }

    /// 413.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    /// 415.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as `Content-Type: application/json`",
        )
    }

    /// 503.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }

    /// The answer to an engine error: 422 for bad input, else 503 (the
    /// store failed or timed out; its error is logged, not shown).
    pub fn from_engine(e: &axes_core::Error) -> Self {
        match e {
            axes_core::Error::InvalidInput(why) => Self::unreadable(why.clone()),
            other => {
                tracing::error!("axes serve: API store call failed: {other}");
                Self::unavailable("the store is unavailable; try again later")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let mut resp = (
            self.status,
            Json(ErrorBody {
                error: self.error.to_owned(),
                detail: self.detail,
            }),
        )
            .into_response();
        if unauthorized {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"axes\""),
            );
        }
        resp
    }
}

/// The answer for paths under `/api/v1` that name no route.
pub async fn no_route() -> ApiError {
    ApiError::not_found("no such API route (see /api/v1/openapi.json)")
}

/// Turns axum's empty `405` of a known path into the JSON error (keeping
/// its `Allow` header).
pub async fn json_405(resp: Response) -> Response {
    if resp.status() != StatusCode::METHOD_NOT_ALLOWED
        || resp.headers().contains_key(header::CONTENT_TYPE)
    {
        return resp;
    }
    let allow = resp.headers().get(header::ALLOW).cloned();
    let mut out = ApiError::method_not_allowed().into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}

/// The error answers of the calls with a JSON body (for the OpenAPI
/// document).
#[derive(Debug, utoipa::IntoResponses)]
#[allow(dead_code)] // described, never built: ApiError is what is sent
pub enum BodyErrors {
    #[response(status = 401, description = "Missing or wrong bearer token")]
    Unauthorized(ErrorBody),
    #[response(status = 413, description = "Body over 16 KiB")]
    TooLarge(ErrorBody),
    #[response(status = 415, description = "Body not `application/json`")]
    NotJson(ErrorBody),
    #[response(status = 422, description = "Invalid input; `detail` names the field")]
    Invalid(ErrorBody),
}

/// The error answers of the calls with a query (for the OpenAPI document).
#[derive(Debug, utoipa::IntoResponses)]
#[allow(dead_code)] // described, never built: ApiError is what is sent
pub enum QueryErrors {
    #[response(status = 401, description = "Missing or wrong bearer token")]
    Unauthorized(ErrorBody),
    #[response(
        status = 422,
        description = "Invalid query; `detail` names the parameter"
    )]
    Invalid(ErrorBody),
    #[response(status = 503, description = "The store is unavailable")]
    Unavailable(ErrorBody),
}
