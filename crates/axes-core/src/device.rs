//! Trusted devices (`trusted_device`, OWASP's device cookies): after a
//! successful login the browser gets a token, kept in the `axes_device`
//! cookie, that names a random device id, is bound to the username that
//! logged in, expires after `trusted_device_ttl`, and is signed
//! (HMAC-SHA256) with a key only the server knows.
//!
//! An attempt that carries a valid token for its own username is counted in
//! the device's own scope ([`crate::store`], "Scopes") with the same rules,
//! so a lockout caused by attempts without it (an attacker guessing the
//! user's password from elsewhere) does not refuse it, and lockout history
//! is not looked at for it; manual blocks still refuse it. A forged,
//! expired, malformed or foreign token counts as none.
//!
//! A token is `base64url(id ‖ expiry ‖ mac)`: 16 random bytes, the expiry
//! as big-endian seconds since the epoch, and the HMAC of a context label,
//! both and the normalised username — 75 characters.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The scope of a trusted device's records: this and the device id (a
/// layered rule's scope follows after `/`).
pub const DEVICE_SCOPE_PREFIX: &str = "device:";

/// The cookie a browser keeps its device token in.
pub const DEVICE_COOKIE: &str = "axes_device";

/// Label mixed into every MAC: a token is never valid for another use of
/// the same key.
const CONTEXT: &[u8] = b"axes trusted device v1\0";

const ID_LEN: usize = 16;
const TOKEN_BYTES: usize = ID_LEN + 8 + 32;

/// The longest token text looked at (characters); longer is none.
pub const MAX_TOKEN_CHARS: usize = 128;

/// The key that signs device tokens (derived from the server's secret).
#[derive(Clone)]
pub struct DeviceKey(Vec<u8>);

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKey([redacted])")
    }
}

impl DeviceKey {
    /// A key from secret bytes (e.g. `secret_key`).
    pub fn new(secret: &[u8]) -> Self {
        DeviceKey(secret.to_vec())
    }

    /// The key's length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the key is empty (never accepted by the engine).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn mac(&self, id: &[u8], expiry: &[u8], username: &str) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).ok()?;
        mac.update(CONTEXT);
        mac.update(id);
        mac.update(expiry);
        mac.update(username.as_bytes());
        Some(mac)
    }

    /// A new token for `username` (normalised), valid until `expires`.
    /// `None` when the system has no randomness to give.
    pub fn issue(&self, username: &str, expires: DateTime<Utc>) -> Option<String> {
        let mut id = [0u8; ID_LEN];
        getrandom::fill(&mut id).ok()?;
        let expiry = u64::try_from(expires.timestamp())
            .unwrap_or(0)
            .to_be_bytes();
        let tag = self.mac(&id, &expiry, username)?.finalize().into_bytes();
        let mut bytes = Vec::with_capacity(TOKEN_BYTES);
        bytes.extend_from_slice(&id);
        bytes.extend_from_slice(&expiry);
        bytes.extend_from_slice(&tag);
        Some(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The device id of `token` when it is valid for `username` (normalised)
    /// at `now`: well-formed, signed by this key for that username, not
    /// expired, and expiring within `ttl` of `now` (a lifetime shortened
    /// since applies to the tokens already issued). The id is text
    /// (base64url, 22 characters).
    pub fn verify(
        &self,
        token: &str,
        username: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Option<String> {
        if token.len() > MAX_TOKEN_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        if bytes.len() != TOKEN_BYTES {
            return None;
        }
        let (id, rest) = bytes.split_at(ID_LEN);
        let (expiry, tag) = rest.split_at(8);
        // Constant-time comparison of the tag.
        self.mac(id, expiry, username)?.verify_slice(tag).ok()?;
        let expires = u64::from_be_bytes(expiry.try_into().ok()?);
        let latest = u64::try_from(now.checked_add_signed(ttl)?.timestamp()).ok()?;
        let now = u64::try_from(now.timestamp()).unwrap_or(0);
        (expires > now && expires <= latest).then(|| URL_SAFE_NO_PAD.encode(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_valid_for_its_user_until_it_expires() {
        let key = DeviceKey::new(b"0123456789abcdef0123456789abcdef");
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let later = now + chrono::Duration::days(30);
        let token = key.issue("alice", later).unwrap();
        assert_eq!(token.len(), 75);
        let ttl = chrono::Duration::days(30);
        let id = key.verify(&token, "alice", now, ttl).unwrap();
        assert_eq!(id.len(), 22);
        // Another token is another device.
        let other = key.issue("alice", later).unwrap();
        assert_ne!(key.verify(&other, "alice", now, ttl).unwrap(), id);
        // Foreign user, expired, another key, tampered, junk: none.
        assert_eq!(key.verify(&token, "bob", now, ttl), None);
        assert_eq!(key.verify(&token, "alice", later, ttl), None);
        // A lifetime shortened since: the token outlives it, so it is none.
        assert_eq!(
            key.verify(&token, "alice", now, chrono::Duration::days(1)),
            None
        );
        let stranger = DeviceKey::new(b"another key of sixteen+ bytes");
        assert_eq!(stranger.verify(&token, "alice", now, ttl), None);
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[20] ^= 1; // a later expiry, say
        assert_eq!(
            key.verify(&URL_SAFE_NO_PAD.encode(&bytes), "alice", now, ttl),
            None
        );
        for junk in ["", "x", "....", &"A".repeat(75), &"A".repeat(10_000)] {
            assert_eq!(key.verify(junk, "alice", now, ttl), None, "{junk:.20}");
        }
    }
}
