//! The bearer token of `/api/v1`: with `api_token` set, every call needs
//! `Authorization: Bearer <api_token>`, compared in constant time (SHA-256
//! of both sides, then `subtle`: neither content nor length leaks through
//! timing). Without a token the API is open: `axes serve` then listens on
//! loopback only (see [`crate::serve::check_listen`]).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::errors::ApiError;

/// The SHA-256 of the configured token, if any.
#[derive(Clone)]
pub struct Token(Option<Arc<[u8; 32]>>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Token(set)"
        } else {
            "Token(none)"
        })
    }
}

impl Token {
    /// From `api_token`.
    pub fn new(token: Option<&str>) -> Self {
        Token(token.map(|t| Arc::new(Sha256::digest(t.as_bytes()).into())))
    }

    /// Whether the request's headers carry the token (always, when none
    /// is configured). `/metrics` uses it too.
    pub fn admits_headers(&self, headers: &axum::http::HeaderMap) -> bool {
        self.admits(headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()))
    }

    /// Whether the request's `Authorization` header carries the token.
    fn admits(&self, authorization: Option<&[u8]>) -> bool {
        let Some(expected) = &self.0 else {
            return true;
        };
        let Some(value) = authorization else {
            return false;
        };
        let Some(given) = strip_bearer(value) else {
            return false;
        };
        let given: [u8; 32] = Sha256::digest(given).into();
        bool::from(given.ct_eq(expected.as_ref()))
    }
}

/// The credentials of `Bearer <credentials>` (scheme case-insensitive).
fn strip_bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    scheme
        .eq_ignore_ascii_case(b"bearer ")
        .then(|| rest.trim_ascii())
        .filter(|t| !t.is_empty())
}

/// The middleware: 401 (JSON, `WWW-Authenticate: Bearer`) without the token.
pub async fn require(State(token): State<Token>, req: Request, next: Next) -> Response {
    if token.admits_headers(req.headers()) {
        next.run(req).await
    } else {
        ApiError::unauthorized().into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_admitted() {
        let t = Token::new(Some("s3cret-token"));
        assert!(t.admits(Some(b"Bearer s3cret-token")));
        assert!(t.admits(Some(b"bearer s3cret-token")));
        for bad in [
            &b"Bearer s3cret-tokeN"[..],
            b"Bearer s3cret-token2",
            b"Bearer ",
            b"Basic s3cret-token",
            b"s3cret-token",
            b"",
        ] {
            assert!(!t.admits(Some(bad)), "{}", String::from_utf8_lossy(bad));
        }
        assert!(!t.admits(None));
        assert!(Token::new(None).admits(None));
    }
}
