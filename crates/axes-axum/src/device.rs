//! Trusted-device cookies over HTTP (`trusted_device`; the engine's side is
//! [`axes_core::device`]).
//!
//! - **Reading**: the layer puts the request's `axes_device` cookie into
//!   [`Attempt::device_token`](axes_core::Attempt::device_token)
//!   ([`device_token`]). Only the `cookie` crate parses it; a value longer
//!   than [`MAX_TOKEN_CHARS`] is ignored, and a request that carries the
//!   cookie more than once (in one `Cookie` header or several) carries none:
//!   which one the browser meant is not for the server to guess. The engine
//!   then checks the token (signature, username, expiry); a bad one counts
//!   as none.
//! - **Setting**: after a login the app's check accepted —
//!   [`AxesAttempt::authenticate`](crate::AxesAttempt::authenticate), the
//!   axum-login `AxesBackend`, or
//!   [`AxesAttempt::trust_device`](crate::AxesAttempt::trust_device) for
//!   flows of their own — the layer appends to the handler's response
//!   `Set-Cookie: axes_device=<token>; HttpOnly; SameSite=Lax; Path=/;
//!   Max-Age=<trusted_device_ttl>` ([`set_cookie`]). Nothing is set when
//!   `trusted_device` is off.
//! - **`Secure`** is added when the request came over HTTPS as far as the
//!   layer can tell ([`over_https`]): only a trusted proxy (the socket peer
//!   is in `trusted_proxies`) can say so, with `X-Forwarded-Proto: https`
//!   (its right-most value, the one our proxy appended). A client's own
//!   claim (the header from an untrusted peer, an absolute `https://` request
//!   target) is not believed. An app that terminates TLS itself tells the
//!   layer with [`AxesLayer::https`](crate::AxesLayer::https).

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use axes_core::Settings;
use axes_core::identity::fold_mapped;
use cookie::{Cookie, SameSite};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, header};

pub use axes_core::device::{DEVICE_COOKIE, MAX_TOKEN_CHARS};

use crate::client_ip::peer_ip;

/// The request's device token: the value of its one `axes_device` cookie.
/// `None` when there is none, more than one, or it is longer than
/// [`MAX_TOKEN_CHARS`].
///
/// ```
/// use axes_axum::device::device_token;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("cookie", "theme=dark; axes_device=abc".parse().unwrap());
/// assert_eq!(device_token(&headers).as_deref(), Some("abc"));
/// headers.append("cookie", "axes_device=other".parse().unwrap());
/// assert_eq!(device_token(&headers), None); // two: none
/// ```
pub fn device_token(headers: &HeaderMap) -> Option<String> {
    let mut found: Option<String> = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for cookie in Cookie::split_parse(value).flatten() {
            if cookie.name() != DEVICE_COOKIE {
                continue;
            }
            if found.is_some() {
                return None;
            }
            found = Some(cookie.value().to_owned());
        }
    }
    found.filter(|v| !v.is_empty() && v.len() <= MAX_TOKEN_CHARS)
}

/// Whether the request came over HTTPS as the layer can tell: the socket
/// peer is a trusted proxy (`trusted_proxies`) and the right-most value of
/// its `X-Forwarded-Proto` is `https`.
pub fn over_https(parts: &Parts, settings: &Settings) -> bool {
    let Some(peer) = peer_ip(parts) else {
        return false;
    };
    if !is_trusted(peer, settings) {
        return false;
    }
    parts
        .headers
        .get_all("x-forwarded-proto")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

fn is_trusted(peer: IpAddr, settings: &Settings) -> bool {
    let peer = fold_mapped(peer);
    settings.trusted_proxies.iter().any(|n| n.contains(&peer))
}

/// The `Set-Cookie` value that keeps `token` for `ttl`: `HttpOnly`,
/// `SameSite=Lax`, `Path=/`, `Max-Age`, and `Secure` when `secure`.
///
/// ```
/// use std::time::Duration;
/// let v = axes_axum::device::set_cookie("tok", Duration::from_secs(60), true).unwrap();
/// assert_eq!(v, "axes_device=tok; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=60");
/// ```
pub fn set_cookie(token: &str, ttl: Duration, secure: bool) -> Option<HeaderValue> {
    let secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
    let mut cookie = Cookie::build((DEVICE_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::seconds(secs))
        .build();
    if secure {
        cookie.set_secure(true);
    }
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// The token issued for this request's response, waiting for the layer.
#[derive(Debug, Default)]
pub(crate) struct Grant(Mutex<Option<String>>);

impl Grant {
    /// Keeps `token` for the response (the last one issued wins).
    pub(crate) fn put(&self, token: String) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
    }

    /// The token to set, if one was issued.
    pub(crate) fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn one_bounded_cookie_or_none() {
        assert_eq!(device_token(&headers(&[])), None);
        assert_eq!(device_token(&headers(&["a=1"])), None);
        assert_eq!(
            device_token(&headers(&["a=1; axes_device=tok"])).as_deref(),
            Some("tok")
        );
        assert_eq!(
            device_token(&headers(&["axes_device=a; axes_device=a"])),
            None
        );
        assert_eq!(
            device_token(&headers(&["axes_device=a", "x=1; axes_device=b"])),
            None
        );
        let long = format!("axes_device={}", "A".repeat(MAX_TOKEN_CHARS + 1));
        assert_eq!(device_token(&headers(&[&long])), None);
        assert_eq!(device_token(&headers(&["axes_device="])), None);
    }

    #[test]
    fn https_only_from_a_trusted_proxy() {
        let settings = Settings {
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            ..Settings::default()
        };
        let parts = |peer: [u8; 4], proto: Option<&str>| {
            let mut b = http::Request::post("/login");
            if let Some(p) = proto {
                b = b.header("x-forwarded-proto", p);
            }
            let (mut parts, ()) = b.body(()).unwrap().into_parts();
            parts
                .extensions
                .insert(axum::extract::connect_info::MockConnectInfo(
                    std::net::SocketAddr::from((peer, 1)),
                ));
            parts
        };
        assert!(over_https(&parts([10, 0, 0, 1], Some("https")), &settings));
        assert!(over_https(
            &parts([10, 0, 0, 1], Some("http, https")),
            &settings
        ));
        assert!(!over_https(
            &parts([10, 0, 0, 1], Some("https, http")),
            &settings
        ));
        assert!(!over_https(&parts([10, 0, 0, 1], None), &settings));
        assert!(!over_https(
            &parts([192, 0, 2, 1], Some("https")),
            &settings
        ));
    }

    #[test]
    fn cookie_attributes() {
        let v = set_cookie("tok", Duration::from_secs(30 * 86400), false).unwrap();
        assert_eq!(
            v,
            "axes_device=tok; HttpOnly; SameSite=Lax; Path=/; Max-Age=2592000"
        );
    }
}
