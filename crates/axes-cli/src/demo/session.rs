//! The demo's sessions: random ids in a cookie, users in memory.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue, header};

/// The session cookie's name.
pub const COOKIE: &str = "axes_demo_session";

/// The most sessions kept; the oldest go first when more log in.
const MAX_SESSIONS: usize = 10_000;

/// A logged-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session id (the cookie value).
    pub id: String,
    /// Who is logged in.
    pub username: String,
}

/// Sessions in memory: id → username.
#[derive(Debug, Default)]
pub struct Sessions {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<String, String>,
    order: std::collections::VecDeque<String>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a session for `username`: a new random 128-bit id.
    pub fn create(&self, username: &str) -> anyhow::Result<Session> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|e| anyhow::anyhow!("no randomness for a session id: {e}"))?;
        let id = hex::encode(bytes);
        let mut inner = self.lock();
        while inner.by_id.len() >= MAX_SESSIONS {
            match inner.order.pop_front() {
                Some(old) => {
                    inner.by_id.remove(&old);
                }
                None => break,
            }
        }
        inner.by_id.insert(id.clone(), username.to_owned());
        inner.order.push_back(id.clone());
        Ok(Session {
            id,
            username: username.to_owned(),
        })
    }

    /// The session a request's cookie names, if it is live.
    pub fn get(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, COOKIE)?;
        let inner = self.lock();
        inner.by_id.get(id).map(|username| Session {
            id: id.to_owned(),
            username: username.clone(),
        })
    }

    /// Ends a session.
    pub fn remove(&self, id: &str) -> Option<String> {
        let mut inner = self.lock();
        let user = inner.by_id.remove(id)?;
        inner.order.retain(|s| s != id);
        Some(user)
    }

    /// How many sessions are live.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether no session is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// The `Set-Cookie` value that starts a session.
pub fn set_cookie(session: &Session) -> Option<HeaderValue> {
    HeaderValue::try_from(format!(
        "{COOKIE}={}; HttpOnly; SameSite=Lax; Path=/",
        session.id
    ))
    .ok()
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("axes_demo_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_get_remove() {
        let s = Sessions::default();
        let a = s.create("ann").unwrap();
        assert_eq!(a.id.len(), 32);
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            format!("other=1; {COOKIE}={}", a.id).parse().unwrap(),
        );
        assert_eq!(s.get(&h), Some(a.clone()));
        assert_eq!(s.remove(&a.id).as_deref(), Some("ann"));
        assert_eq!(s.get(&h), None);
        assert!(s.is_empty());
        let cookie = set_cookie(&a).unwrap();
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    }
}
