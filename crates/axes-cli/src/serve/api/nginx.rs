//! `GET /api/v1/auth` for nginx `auth_request`: 204 when the client may try
//! to log in, 403 when it is refused. Read-only (counts nothing).
//!
//! - The client IP comes from the connection: the socket peer, or — when
//!   the peer is in `trusted_proxies` — the right-most untrusted address of
//!   `client_ip_header` (nginx: `proxy_set_header X-Forwarded-For
//!   $proxy_add_x_forwarded_for`). List nginx's address in
//!   `trusted_proxies`, or every client is nginx.
//! - The username, optional, from [`USERNAME_HEADER`] (nginx cannot read a
//!   POST body in `auth_request`; set it from a query argument or a
//!   header of the app's login when there is one).
//! - The path from `X-Original-URI`, when sent.

use axes_axum::ClientIpSource;
use axes_core::Attempt;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};

use super::ApiState;
use super::errors::{ApiError, ErrorBody};
use super::model::{MAX_TEXT_CHARS, MAX_USERNAME_CHARS};

/// The header nginx passes the username in (optional).
pub const USERNAME_HEADER: &str = "x-axes-username";
/// The header nginx passes the original request path in (optional).
pub const URI_HEADER: &str = "x-original-uri";

fn header_text<'a>(parts: &'a Parts, name: &str, max: usize) -> Result<Option<&'a str>, ApiError> {
    let mut values = parts.headers.get_all(name).iter();
    let Some(v) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        // Two usernames: which one would be checked? Refuse (one identity).
        return Err(ApiError::invalid(name, "sent more than once"));
    }
    // UTF-8 (a username need not be ASCII); never guessed at otherwise.
    let text =
        std::str::from_utf8(v.as_bytes()).map_err(|_| ApiError::invalid(name, "not UTF-8"))?;
    if text.chars().any(char::is_control) {
        return Err(ApiError::invalid(name, "contains control characters"));
    }
    if text.chars().count() > max {
        return Err(ApiError::invalid(
            name,
            format!("longer than {max} characters"),
        ));
    }
    Ok(Some(text))
}

/// The decision for the request nginx is about to pass on.
#[utoipa::path(
    get,
    path = "/api/v1/auth",
    tag = "nginx",
    params(
        ("X-Axes-Username" = Option<String>, Header, description = "The username, when nginx knows it"),
        ("X-Original-URI" = Option<String>, Header, description = "The original request URI"),
    ),
    responses(
        (status = 204, description = "Allowed"),
        (status = 403, description = "Refused (locked out or denied); `Retry-After` when it lifts"),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 422, description = "A header is malformed or repeated", body = ErrorBody),
    )
)]
pub async fn auth(State(state): State<ApiState>, parts: Parts) -> Result<Response, ApiError> {
    let mut attempt = Attempt::new().method("POST");
    if let Some(ip) = state.client_ip.resolve(&parts) {
        attempt = attempt.ip_address(ip);
    }
    // An empty header (nginx's `$arg_username` without the argument) is
    // no username.
    if let Some(user) =
        header_text(&parts, USERNAME_HEADER, MAX_USERNAME_CHARS)?.filter(|u| !u.trim().is_empty())
    {
        attempt = attempt.username(user);
    }
    // nginx passes the client's headers on to the subrequest, its cookies
    // among them: a trusted device's `axes_device` cookie counts here as
    // it does at the app (read the same way: one, bounded, or none).
    if let Some(token) = axes_axum::device::device_token(&parts.headers) {
        attempt = attempt.device_token(token);
    }
    if let Some(path) = header_text(&parts, URI_HEADER, MAX_TEXT_CHARS)? {
        attempt = attempt.path(path);
    }
    if let Some(ua) = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
    {
        attempt = attempt.user_agent(ua);
    }
    let r = state.axes.check(&attempt).await;
    Ok(match r.lockout {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(l) => {
            let mut resp = StatusCode::FORBIDDEN.into_response();
            if let Some(secs) = l.retry_after_secs()
                && let Ok(v) = HeaderValue::from_str(&secs.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
    })
}

/// The client IP source of the settings (`trusted_proxies`,
/// `client_ip_header`).
pub fn client_ip(settings: &axes_core::Settings) -> anyhow::Result<ClientIpSource> {
    Ok(ClientIpSource::from_settings(settings)?)
}
