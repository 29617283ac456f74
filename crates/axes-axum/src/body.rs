//! Reading a login request's body with a bound, so it can be inspected for
//! the username and then handed on to the handler unchanged.

use std::fmt;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// The default bound on a login request's body: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// A body that could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// Longer than the bound: `413 Payload Too Large`.
    TooLarge {
        /// The bound in bytes.
        limit: usize,
    },
    /// The client's stream failed: `400 Bad Request`.
    Failed(String),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::TooLarge { limit } => {
                write!(f, "request body larger than {limit} bytes")
            }
            BodyError::Failed(e) => write!(f, "failed to read the request body: {e}"),
        }
    }
}

impl std::error::Error for BodyError {}

impl IntoResponse for BodyError {
    fn into_response(self) -> Response {
        let status = match self {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Failed(_) => StatusCode::BAD_REQUEST,
        };
        let msg = match &self {
            BodyError::TooLarge { .. } => "Request body too large.",
            BodyError::Failed(_) => "Could not read the request body.",
        };
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            msg,
        )
            .into_response()
    }
}

/// Reads `body` into memory, refusing more than `limit` bytes. A declared
/// `Content-Length` over the bound is refused before anything is read.
pub async fn read_bounded(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(BodyError::TooLarge { limit }),
        Err(e) => {
            // A body error may wrap the limit error (axum boxes body errors).
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&*e);
            while let Some(err) = source {
                if err.is::<LengthLimitError>() {
                    return Err(BodyError::TooLarge { limit });
                }
                source = err.source();
            }
            Err(BodyError::Failed(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounded_reads() {
        let h = HeaderMap::new();
        let ok = read_bounded(&h, Body::from("abc"), 3).await.unwrap();
        assert_eq!(&ok[..], b"abc");
        let err = read_bounded(&h, Body::from("abcd"), 3).await.unwrap_err();
        assert!(matches!(err, BodyError::TooLarge { limit: 3 }));
        let mut declared = HeaderMap::new();
        declared.insert(header::CONTENT_LENGTH, "100".parse().unwrap());
        let err = read_bounded(&declared, Body::empty(), 3).await.unwrap_err();
        assert!(matches!(err, BodyError::TooLarge { .. }));
        assert_eq!(err.into_response().status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
