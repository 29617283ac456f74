//! Reading API input: JSON bodies (`Content-Type: application/json`, at
//! most [`MAX_BODY`] bytes, unknown or repeated fields refused) and query
//! strings (unknown or repeated parameters refused). Every refusal is a
//! JSON error: 415, 413 or 422.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::errors::ApiError;

/// The largest API request body, in bytes (the server's own bound,
/// `--max-body-size`, is larger).
pub const MAX_BODY: usize = 16 * 1024;

/// A JSON body of type `T`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn is_json(parts: &Parts) -> bool {
    let mut all = parts.headers.get_all(header::CONTENT_TYPE).iter();
    let (Some(ct), None) = (all.next().and_then(|v| v.to_str().ok()), all.next()) else {
        // None, unreadable, or two: which one would the body follow?
        return false;
    };
    let essence = ct.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// Whether `err` (or an error it wraps) is a body over its length limit.
fn over_limit(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cur = e.source();
    }
    false
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let (parts, body): (Parts, Body) = req.into_parts();
        if !is_json(&parts) {
            return Err(ApiError::unsupported_media_type());
        }
        let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(e) => {
                return Err(if over_limit(&e) {
                    ApiError::too_large(MAX_BODY)
                } else {
                    ApiError::unreadable("the request body could not be read")
                });
            }
        };
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::unreadable(format!("the JSON body: {e}")))
    }
}

/// A query string of type `T`.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| ApiError::unreadable(format!("the query string: {e}")))
    }
}
