//! Login sessions, shared by `axes serve`'s admin and the demo site.
//!
//! # Design
//!
//! A session is a cookie signed by the [`cookie`] crate (`SignedJar`:
//! HMAC-SHA256, checked with `Mac::verify_slice`), plus a list of the
//! sessions that ended early ([`Revocations`]). Nothing is stored for a live
//! session, so a flood of logins stores nothing; only a logout adds an entry,
//! and it goes when the session would have expired anyway.
//!
//! The signed value is `<purpose>.<id>.<issued>.<expires>.<fingerprint>.<name>`:
//! a random 128-bit id (what CSRF tokens and the access log are bound to),
//! issue and expiry times (seconds, hex), the account's fingerprint and the
//! name (hex). The fingerprint is HMAC-SHA256, under a key derived from the
//! secret, of the account's name and its *current* password hash; a request
//! is signed in only when the fingerprint made from the hash the account has
//! now matches. So changing an admin's password (any new `axes
//! hash-password` output: it is salted) or removing the account ends that
//! admin's sessions everywhere, at once, across restarts, with no list to
//! keep. The hash itself never leaves the server.
//!
//! A request is signed in when, and only when: exactly one cookie of the
//! session's name is present (two are ambiguous: refused), its value is at
//! most [`MAX_COOKIE_LEN`] bytes, verifies under this purpose's key (quotes
//! or any other change break it), names this purpose, has not expired, has
//! not been ended ([`Revocations`]), and its fingerprint matches the
//! account's hash now. Cookies are read only by the `cookie` crate.
//!
//! Why not a server-side session store (tower-sessions)? Every live session
//! would be a record to keep bounded and to share between processes; signed
//! cookies keep working on every `axes serve` that has the same secret, and
//! only logouts need sharing. The admin's cookie also needs `Secure` decided
//! per request (a trusted TLS proxy), and expiry on the engine's clock.
//!
//! Keys: the signing and fingerprint keys are derived (HMAC-SHA256) from the
//! secret and the purpose, so an admin cookie is no demo cookie and neither
//! is a CSRF token.
//!
//! Where logouts live: `axes serve` keeps them in `axes.sessions` in its
//! data folder, next to `axes.secret` ([`Revocations::open`]), so they
//! outlive a restart; the demo keeps them in memory (its key and its users'
//! hashes are made at start-up, so its sessions end with the process). The
//! list is bounded: entries leave when their session would have expired, and
//! at [`MAX_ENDED`] live entries every session issued so far is ended
//! instead of any entry being forgotten. Several processes sharing the data
//! folder share the list; processes with folders of their own (several
//! machines behind a load balancer) do not: a logout there is known only to
//! the process that handled it (see `docs/deployment.md`, "Sessions").

mod revocations;

use std::path::PathBuf;

use axes_core::Settings;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, Utc};
use cookie::{Cookie, CookieJar, Key, SameSite};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use revocations::{FILE_NAME, LOCK_FILE_NAME, MAX_ENDED, Revocations};

/// How long a session lasts.
pub const LIFETIME: chrono::Duration = chrono::Duration::hours(12);

/// The longest cookie value read.
pub const MAX_COOKIE_LEN: usize = 2048;

/// What a session cookie is for, and how it is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieSpec {
    /// The cookie's name.
    pub name: &'static str,
    /// Its `Path`.
    pub path: &'static str,
    /// Its `SameSite`.
    pub same_site: SameSite,
    /// Whether it carries `Max-Age` (else it is a browser-session cookie;
    /// the server-side expiry applies either way).
    pub max_age: bool,
    /// Separates the keys and values of different uses.
    purpose: &'static str,
}

/// `axes serve`'s admin session: `axes_admin_session`, `Path=/admin`,
/// `SameSite=Strict`, `Max-Age` of the lifetime.
pub const ADMIN: CookieSpec = CookieSpec {
    name: "axes_admin_session",
    path: "/admin",
    same_site: SameSite::Strict,
    max_age: true,
    purpose: "admin",
};

/// The demo site's session: `axes_demo_session`, `Path=/`, `SameSite=Lax`.
pub const DEMO: CookieSpec = CookieSpec {
    name: "axes_demo_session",
    path: "/",
    same_site: SameSite::Lax,
    max_age: false,
    purpose: "demo",
};

/// Why a session could not be started or ended.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The operating system gave no randomness.
    #[error("no randomness for a session id: {0}")]
    Random(getrandom::Error),
    /// A file of the revocation list.
    #[error("cannot {action} {}: {cause}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },
    /// The background task writing the list did not finish.
    #[error("ending the session was interrupted")]
    Interrupted,
}

/// Where the accounts' current password hashes come from.
pub trait Credentials {
    /// The password hash (PHC string) of `name` now, `None` if there is no
    /// such account.
    fn password_hash(&self, name: &str) -> Option<&str>;
}

/// A signed-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who is signed in.
    pub username: String,
    /// Random id (hex): CSRF tokens and the access log are bound to it.
    pub id: String,
    /// When it started (whole seconds).
    pub issued: DateTime<Utc>,
    /// When it ends (whole seconds).
    pub expires: DateTime<Utc>,
}

/// A new session and the value of its cookie (signed).
#[derive(Debug, Clone)]
pub struct Issued {
    /// The session.
    pub session: Session,
    value: String,
}

/// Issues, checks and ends sessions of one [`CookieSpec`]. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    spec: CookieSpec,
    key: Key,
    fingerprint_key: [u8; 32],
    revocations: Revocations,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("cookie", &self.spec.name)
            .field("revocations", &self.revocations)
            .finish_non_exhaustive()
    }
}

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of the parts, keyed with `key`.
fn hmac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC takes keys of any length: `new_from_slice` cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    for p in parts {
        mac.update(p);
    }
    mac
}

fn derive(secret: &[u8], label: &str, purpose: &str) -> [u8; 32] {
    hmac(
        secret,
        &[
            b"axes-session\0",
            label.as_bytes(),
            b"\0",
            purpose.as_bytes(),
        ],
    )
    .finalize()
    .into_bytes()
    .into()
}

fn fingerprint_mac(key: &[u8], name: &str, password_hash: &str) -> HmacSha256 {
    hmac(
        key,
        &[
            b"axes-session-account\0",
            name.as_bytes(),
            b"\0",
            password_hash.as_bytes(),
        ],
    )
}

fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// The payload of a verified cookie.
struct Payload<'a> {
    id: &'a str,
    issued: DateTime<Utc>,
    expires: DateTime<Utc>,
    fingerprint: Vec<u8>,
    username: String,
}

impl<'a> Payload<'a> {
    fn parse(purpose: &str, value: &'a str) -> Option<Self> {
        let mut parts = value.split('.');
        let mut next = || parts.next();
        let (p, id, issued, expires, fingerprint, name) =
            (next()?, next()?, next()?, next()?, next()?, next()?);
        if next().is_some() || p != purpose {
            return None;
        }
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let time =
            |hex: &str| DateTime::<Utc>::from_timestamp(i64::from_str_radix(hex, 16).ok()?, 0);
        Some(Payload {
            id,
            issued: time(issued)?,
            expires: time(expires)?,
            fingerprint: hex::decode(fingerprint).ok()?,
            username: String::from_utf8(hex::decode(name).ok()?).ok()?,
        })
    }
}

/// The one cookie called `name` in the request, `None` when there is none
/// or more than one (in one `Cookie` header or several).
fn only_cookie(headers: &HeaderMap, name: &str) -> Option<Cookie<'static>> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for cookie in Cookie::split_parse(value).flatten() {
            if cookie.name() == name {
                if found.is_some() {
                    return None;
                }
                found = Some(cookie.into_owned());
            }
        }
    }
    found
}

impl Sessions {
    /// Sessions of `spec`, signed with keys derived from `secret`, ended
    /// early through `revocations`.
    pub fn new(secret: &[u8], spec: CookieSpec, revocations: Revocations) -> Self {
        let mut master = [0u8; 64];
        master[..32].copy_from_slice(&derive(secret, "cookie-1", spec.purpose));
        master[32..].copy_from_slice(&derive(secret, "cookie-2", spec.purpose));
        Sessions {
            spec,
            key: Key::from(&master),
            fingerprint_key: derive(secret, "fingerprint", spec.purpose),
            revocations,
        }
    }

    /// Sessions with a random key (the demo: they end with the process).
    pub fn random(spec: CookieSpec) -> Result<Self, SessionError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(SessionError::Random)?;
        Ok(Self::new(&secret, spec, Revocations::in_memory()))
    }

    /// The cookie's description.
    pub fn spec(&self) -> &CookieSpec {
        &self.spec
    }

    /// The list of ended sessions.
    pub fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    /// Starts a session for `username`, whose password hash is now
    /// `password_hash`.
    pub fn issue(
        &self,
        username: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Issued, SessionError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(SessionError::Random)?;
        let id = hex::encode(bytes);
        let issued = whole_seconds(now);
        let expires = whole_seconds(now + LIFETIME);
        let fingerprint = fingerprint_mac(&self.fingerprint_key, username, password_hash)
            .finalize()
            .into_bytes();
        let payload = format!(
            "{}.{id}.{:x}.{:x}.{}.{}",
            self.spec.purpose,
            issued.timestamp(),
            expires.timestamp(),
            hex::encode(fingerprint),
            hex::encode(username.as_bytes()),
        );
        let mut jar = CookieJar::new();
        jar.signed_mut(&self.key)
            .add(Cookie::new(self.spec.name, payload));
        let value = jar
            .get(self.spec.name)
            .map(|c| c.value().to_owned())
            .unwrap_or_default();
        Ok(Issued {
            session: Session {
                username: username.to_owned(),
                id,
                issued,
                expires,
            },
            value,
        })
    }

    /// The session of a request, if it is signed in (see the module docs
    /// for every condition); `accounts` gives the current password hashes.
    pub fn check(
        &self,
        headers: &HeaderMap,
        now: DateTime<Utc>,
        accounts: &(impl Credentials + ?Sized),
    ) -> Option<Session> {
        let cookie = only_cookie(headers, self.spec.name)?;
        if cookie.value().len() > MAX_COOKIE_LEN {
            return None;
        }
        let verified = CookieJar::new().signed(&self.key).verify(cookie)?;
        let payload = Payload::parse(self.spec.purpose, verified.value())?;
        if payload.expires <= now
            || self
                .revocations
                .is_ended(payload.id, payload.issued.timestamp(), now.timestamp())
        {
            return None;
        }
        let hash = accounts.password_hash(&payload.username)?;
        fingerprint_mac(&self.fingerprint_key, &payload.username, hash)
            .verify_slice(&payload.fingerprint)
            .ok()?;
        Some(Session {
            username: payload.username,
            id: payload.id.to_owned(),
            issued: payload.issued,
            expires: payload.expires,
        })
    }

    /// Ends `session` (logout) until it would have expired anyway: in this
    /// process at once, and in the revocation file when there is one (off
    /// the async runtime). An error means the file could not be written:
    /// this process refuses the session all the same.
    pub async fn end(&self, session: &Session, now: DateTime<Utc>) -> Result<(), SessionError> {
        let revocations = self.revocations.clone();
        let id = session.id.clone();
        let expires = session.expires.timestamp();
        tokio::task::spawn_blocking(move || revocations.end(&id, expires, now.timestamp()))
            .await
            .map_err(|_| SessionError::Interrupted)?
    }

    fn cookie(&self, value: String, secure: bool) -> Cookie<'static> {
        let mut cookie = Cookie::build((self.spec.name, value))
            .path(self.spec.path)
            .http_only(true)
            .same_site(self.spec.same_site)
            .build();
        if secure {
            cookie.set_secure(true);
        }
        cookie
    }

    /// The `Set-Cookie` value that starts `issued`; `Secure` when `secure`.
    pub fn set_cookie(&self, issued: &Issued, secure: bool) -> Option<HeaderValue> {
        let mut cookie = self.cookie(issued.value.clone(), secure);
        if self.spec.max_age {
            cookie.set_max_age(cookie::time::Duration::seconds(LIFETIME.num_seconds()));
        }
        HeaderValue::from_str(&cookie.to_string()).ok()
    }

    /// The `Set-Cookie` value that removes the cookie.
    pub fn clear_cookie(&self, secure: bool) -> Option<HeaderValue> {
        let mut cookie = self.cookie(String::new(), secure);
        cookie.set_max_age(cookie::time::Duration::ZERO);
        HeaderValue::from_str(&cookie.to_string()).ok()
    }
}

/// Whether the request came over TLS: only a trusted proxy can say so
/// (`X-Forwarded-Proto: https`, its right-most value). The rule of the
/// device cookie too ([`axes_axum::device::over_https`]): one rule for every
/// cookie axes sets.
pub fn behind_tls(parts: &Parts, settings: &Settings) -> bool {
    axes_axum::device::over_https(parts, settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct One(&'static str, &'static str);
    impl Credentials for One {
        fn password_hash(&self, name: &str) -> Option<&str> {
            (name == self.0).then_some(self.1)
        }
    }

    const KEY: &[u8] = b"0123456789abcdef0123";

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for c in cookies {
            h.append(header::COOKIE, HeaderValue::from_str(c).unwrap());
        }
        h
    }

    fn pair(s: &Sessions, issued: &Issued) -> String {
        let set = s.set_cookie(issued, false).unwrap();
        set.to_str().unwrap().split(';').next().unwrap().to_owned()
    }

    #[test]
    fn sessions_are_signed_bound_to_the_hash_and_expire() {
        let s = Sessions::new(KEY, ADMIN, Revocations::in_memory());
        let root = One("root", "$argon2id$one");
        let now = Utc::now();
        let issued = s.issue("root", "$argon2id$one", now).unwrap();
        let c = pair(&s, &issued);
        let h = headers(&[&c]);
        assert_eq!(s.check(&h, now, &root), Some(issued.session.clone()));
        assert!(!c.contains("argon2"), "the hash is not in the cookie");
        // Expiry.
        assert_eq!(s.check(&h, issued.session.expires, &root), None);
        // Another key, another purpose.
        let other = Sessions::new(b"another key, also long", ADMIN, Revocations::in_memory());
        assert_eq!(other.check(&h, now, &root), None);
        let demo = Sessions::new(KEY, DEMO, Revocations::in_memory());
        let as_demo = c.replacen(ADMIN.name, DEMO.name, 1);
        assert_eq!(demo.check(&headers(&[&as_demo]), now, &root), None);
        // A new hash or no account.
        assert_eq!(s.check(&h, now, &One("root", "$argon2id$two")), None);
        assert_eq!(s.check(&h, now, &One("admin", "$argon2id$one")), None);
    }

    #[test]
    fn tampered_quoted_and_duplicated_cookies_are_refused() {
        let s = Sessions::new(KEY, ADMIN, Revocations::in_memory());
        let root = One("root", "h");
        let now = Utc::now();
        let issued = s.issue("root", "h", now).unwrap();
        let c = pair(&s, &issued);
        let (name, value) = c.split_once('=').unwrap();
        assert!(s.check(&headers(&[&c]), now, &root).is_some());
        // Every single-character change.
        let bytes = value.as_bytes();
        for i in 0..bytes.len() {
            let mut v = bytes.to_vec();
            v[i] = if v[i] == b'A' { b'B' } else { b'A' };
            let v = String::from_utf8(v).unwrap();
            let cookie = format!("{name}={v}");
            assert_eq!(s.check(&headers(&[&cookie]), now, &root), None, "{i}");
        }
        for bad in [
            format!("{name}=\"{value}\""),
            format!("{name}={value}; {name}={value}"),
            format!("{name}={value}x"),
            format!("{name}="),
            format!("{name}={}", "A".repeat(5000)),
            format!("{name}=é{value}"),
        ] {
            assert_eq!(s.check(&headers(&[&bad]), now, &root), None, "{bad}");
        }
        // Twice in two headers.
        assert_eq!(s.check(&headers(&[&c, &c]), now, &root), None);
        // Among other cookies it is found.
        let mixed = format!("a=1; {c}; b=\"2\"");
        assert!(s.check(&headers(&[&mixed]), now, &root).is_some());
    }

    #[tokio::test]
    async fn ended_sessions_are_refused() {
        let s = Sessions::new(KEY, ADMIN, Revocations::in_memory());
        let root = One("root", "h");
        let now = Utc::now();
        let a = s.issue("root", "h", now).unwrap();
        let b = s.issue("root", "h", now).unwrap();
        let (ha, hb) = (headers(&[&pair(&s, &a)]), headers(&[&pair(&s, &b)]));
        s.end(&a.session, now).await.unwrap();
        assert_eq!(s.check(&ha, now, &root), None);
        assert!(s.check(&hb, now, &root).is_some(), "only that one");
    }

    #[test]
    fn cookie_attributes() {
        let s = Sessions::new(KEY, ADMIN, Revocations::in_memory());
        let issued = s.issue("root", "h", Utc::now()).unwrap();
        let set = s.set_cookie(&issued, true).unwrap();
        let set = set.to_str().unwrap();
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/admin",
            "Max-Age=43200",
            "Secure",
        ] {
            assert!(set.contains(part), "{set}");
        }
        let clear = s.clear_cookie(false).unwrap();
        let clear = clear.to_str().unwrap();
        assert!(clear.starts_with("axes_admin_session=;"), "{clear}");
        assert!(clear.contains("Max-Age=0") && !clear.contains("Secure"));
        let demo = Sessions::new(KEY, DEMO, Revocations::in_memory());
        let issued = demo.issue("ann", "h", Utc::now()).unwrap();
        let set = demo.set_cookie(&issued, false).unwrap();
        let set = set.to_str().unwrap();
        assert!(set.contains("SameSite=Lax") && set.contains("Path=/"));
        assert!(!set.contains("Max-Age") && !set.contains("Secure"), "{set}");
    }
}
