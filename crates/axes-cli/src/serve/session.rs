//! Admin sessions of `axes serve`: signed cookies, nothing stored but a
//! short list of sessions ended by logout.
//!
//! The cookie is `<name>.<session id>.<expiry>.<mac>` (name in hex, expiry
//! in seconds since the epoch, hex) with the MAC HMAC-SHA256 over the rest,
//! keyed with the secret key. It is `HttpOnly`, `SameSite=Strict`, scoped to
//! `/admin`, and `Secure` when the request came over TLS through a trusted
//! proxy (`X-Forwarded-Proto: https`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axes_admin::csrf::{constant_time_eq, hmac_sha256};
use axes_core::Settings;
use axum::http::HeaderValue;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};

/// The cookie's name.
pub const COOKIE: &str = "axes_admin_session";

/// How long a session lasts.
pub const LIFETIME: chrono::Duration = chrono::Duration::hours(12);

/// The longest cookie value read.
const MAX_COOKIE_LEN: usize = 1024;

/// Most ended sessions remembered (each only until it would have expired).
const MAX_REVOKED: usize = 10_000;

/// One admin session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSession {
    /// The admin's name.
    pub name: String,
    /// Random id (hex).
    pub id: String,
    /// When it ends.
    pub expires: DateTime<Utc>,
}

/// Signs and checks session cookies.
#[derive(Clone)]
pub struct SessionKeys {
    key: Arc<Vec<u8>>,
    revoked: Arc<Mutex<HashMap<String, DateTime<Utc>>>>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys")
    }
}

fn mac(key: &[u8], name_hex: &str, id: &str, expires: &str) -> [u8; 32] {
    hmac_sha256(
        key,
        &[
            b"axes-admin-session\0",
            name_hex.as_bytes(),
            b".",
            id.as_bytes(),
            b".",
            expires.as_bytes(),
        ],
    )
}

impl SessionKeys {
    /// Keys from the secret.
    pub fn new(key: Vec<u8>) -> Self {
        Self {
            key: Arc::new(key),
            revoked: Arc::default(),
        }
    }

    /// A new session for `name`, and its cookie value.
    pub fn issue(&self, name: &str, now: DateTime<Utc>) -> anyhow::Result<(AdminSession, String)> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|e| anyhow::anyhow!("no randomness for a session id: {e}"))?;
        let id = hex::encode(bytes);
        // Whole seconds, as the cookie carries it.
        let expires = now + LIFETIME;
        let expires = DateTime::<Utc>::from_timestamp(expires.timestamp(), 0).unwrap_or(expires);
        let name_hex = hex::encode(name.as_bytes());
        let exp = format!("{:x}", expires.timestamp());
        let value = format!(
            "{name_hex}.{id}.{exp}.{}",
            hex::encode(mac(&self.key, &name_hex, &id, &exp))
        );
        Ok((
            AdminSession {
                name: name.to_owned(),
                id,
                expires,
            },
            value,
        ))
    }

    /// The session a cookie value stands for, if it is genuine, live and
    /// not ended.
    pub fn check(&self, value: &str, now: DateTime<Utc>) -> Option<AdminSession> {
        if value.len() > MAX_COOKIE_LEN {
            return None;
        }
        let mut parts = value.split('.');
        let (name_hex, id, exp, given) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let given = hex::decode(given).ok()?;
        if !constant_time_eq(&mac(&self.key, name_hex, id, exp), &given) {
            return None;
        }
        let expires = DateTime::<Utc>::from_timestamp(i64::from_str_radix(exp, 16).ok()?, 0)?;
        if expires <= now || self.is_revoked(id) {
            return None;
        }
        let name = String::from_utf8(hex::decode(name_hex).ok()?).ok()?;
        Some(AdminSession {
            name,
            id: id.to_owned(),
            expires,
        })
    }

    fn is_revoked(&self, id: &str) -> bool {
        self.revoked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(id)
    }

    /// Ends a session (logout) until it would have expired anyway.
    pub fn revoke(&self, session: &AdminSession, now: DateTime<Utc>) {
        let mut revoked = self.revoked.lock().unwrap_or_else(|e| e.into_inner());
        revoked.retain(|_, exp| *exp > now);
        if revoked.len() >= MAX_REVOKED {
            // Full of live revocations: drop the soonest to expire.
            if let Some(k) = revoked
                .iter()
                .min_by_key(|(_, e)| **e)
                .map(|(k, _)| k.clone())
            {
                revoked.remove(&k);
            }
        }
        revoked.insert(session.id.clone(), session.expires);
    }

    /// The session of a request (its cookie).
    pub fn from_parts(&self, parts: &Parts, now: DateTime<Utc>) -> Option<AdminSession> {
        self.check(cookie(&parts.headers, COOKIE)?, now)
    }
}

/// The value of cookie `name` in the request headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Whether the request came over TLS: only a trusted proxy can say so.
pub fn behind_tls(parts: &Parts, settings: &Settings) -> bool {
    let Some(peer) = axes_axum::client_ip::peer_ip(parts) else {
        return false;
    };
    if !settings.trusted_proxies.iter().any(|n| n.contains(&peer)) {
        return false;
    }
    parts
        .headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// The `Set-Cookie` value that starts a session.
pub fn set_cookie(value: &str, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        LIFETIME.num_seconds()
    ))
    .ok()
}

/// The `Set-Cookie` value that ends it.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "axes_admin_session=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0; Secure",
        )
    } else {
        HeaderValue::from_static(
            "axes_admin_session=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_signed_expire_and_can_be_revoked() {
        let keys = SessionKeys::new(b"0123456789abcdef0123".to_vec());
        let now = Utc::now();
        let (s, value) = keys.issue("root", now).unwrap();
        assert_eq!(keys.check(&value, now), Some(s.clone()));
        assert_eq!(keys.check(&value, now + LIFETIME), None);
        let other = SessionKeys::new(b"another key, also long".to_vec());
        assert_eq!(other.check(&value, now), None);
        // Tampering with the name breaks the MAC.
        let forged = value.replacen(&hex::encode("root"), &hex::encode("rooT"), 1);
        assert_eq!(keys.check(&forged, now), None);
        assert_eq!(keys.check("a.b.c", now), None);
        assert_eq!(keys.check("", now), None);
        keys.revoke(&s, now);
        assert_eq!(keys.check(&value, now), None);
    }
}
