//! Why [`AxesAttempt::authenticate`](crate::AxesAttempt::authenticate) gave
//! no user.

use std::fmt;

use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

use crate::response::LockoutResponse;

/// Why [`AxesAttempt::authenticate`](crate::AxesAttempt::authenticate) gave
/// no user.
///
/// As a response: `LockedOut` is the lockout response; `InvalidCredentials`
/// a bare `401` (render your own login form instead, usually);
/// `Backend` a `500` (the error is logged, not shown).
#[derive(Debug)]
pub enum AuthRejection<E> {
    /// The client is locked out (before the check, or by this failure).
    LockedOut(LockoutResponse),
    /// Wrong credentials; not (yet) locked out.
    InvalidCredentials,
    /// The credential check itself failed; nothing was counted.
    Backend(E),
}

impl<E> AuthRejection<E> {
    /// Whether this is the lockout.
    pub fn is_locked_out(&self) -> bool {
        matches!(self, AuthRejection::LockedOut(_))
    }
}

impl<E: fmt::Display> fmt::Display for AuthRejection<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthRejection::LockedOut(l) => f.write_str(&l.lockout().message),
            AuthRejection::InvalidCredentials => f.write_str("invalid credentials"),
            AuthRejection::Backend(e) => write!(f, "credential check failed: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for AuthRejection<E> {}

impl<E: fmt::Display> IntoResponse for AuthRejection<E> {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::LockedOut(l) => l.into_response(),
            AuthRejection::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "Invalid credentials.",
            )
                .into_response(),
            AuthRejection::Backend(e) => {
                tracing::error!("axes: credential check failed: {e}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "Internal Server Error",
                )
                    .into_response()
            }
        }
    }
}
