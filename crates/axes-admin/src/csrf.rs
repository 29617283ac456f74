//! CSRF tokens, and the HMAC-SHA256 they are made of.
//!
//! A token is `<issued>.<mac>`: the issue time (seconds since the epoch, in
//! hex) and HMAC-SHA256 over the admin's name, their session binding and that
//! time, keyed with the secret key. It is valid for [`TOKEN_LIFETIME`] and only
//! for the identity it was made for. Nothing is stored on the server.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::AdminIdentity;

/// The form field that carries the token.
pub const FIELD: &str = "csrf_token";

/// How long a token is accepted after it was issued.
pub const TOKEN_LIFETIME: chrono::Duration = chrono::Duration::hours(12);

/// Tolerated clock skew for tokens from the future (several servers).
const FUTURE_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// The longest token accepted (longer input is refused unread).
const MAX_TOKEN_LEN: usize = 128;

fn hmac_of(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    for p in parts {
        mac.update(p);
    }
    mac
}

/// HMAC-SHA256 (RFC 2104) of the concatenation of `parts`, keyed with `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    hmac_of(key, parts).finalize().into_bytes().into()
}

fn mac(key: &[u8], identity: &AdminIdentity, issued: i64) -> Hmac<Sha256> {
    let session = identity.session.as_deref().unwrap_or("");
    hmac_of(
        key,
        &[
            b"axes-admin-csrf\0",
            identity.name.as_bytes(),
            b"\0",
            session.as_bytes(),
            b"\0",
            &issued.to_be_bytes(),
        ],
    )
}

/// A fresh token for `identity`.
pub fn token(key: &[u8], identity: &AdminIdentity, now: DateTime<Utc>) -> String {
    let issued = now.timestamp();
    let tag = mac(key, identity, issued).finalize().into_bytes();
    format!("{issued:x}.{}", hex::encode(tag))
}

/// Whether `token` was made with `key` for `identity` and is still valid.
pub fn verify(key: &[u8], identity: &AdminIdentity, token: &str, now: DateTime<Utc>) -> bool {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return false;
    }
    let Some((issued, given)) = token.split_once('.') else {
        return false;
    };
    let Ok(issued) = i64::from_str_radix(issued, 16) else {
        return false;
    };
    let Some(issued_at) = DateTime::<Utc>::from_timestamp(issued, 0) else {
        return false;
    };
    if issued_at > now + FUTURE_SKEW || now - issued_at > TOKEN_LIFETIME {
        return false;
    }
    let Ok(given) = hex::decode(given) else {
        return false;
    };
    // Constant time: `verify_slice` compares the tags.
    mac(key, identity, issued).verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        let key = [0xaau8; 131];
        let mac = hmac_sha256(
            &key,
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"],
        );
        assert_eq!(
            hex::encode(mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn tokens_are_bound_to_identity_key_and_time() {
        let now = Utc::now();
        let alice = AdminIdentity::new("alice").with_session("s1");
        let t = token(b"k", &alice, now);
        assert!(verify(b"k", &alice, &t, now));
        assert!(verify(b"k", &alice, &t, now + chrono::Duration::hours(11)));
        assert!(!verify(b"k", &alice, &t, now + chrono::Duration::hours(13)));
        assert!(!verify(b"other", &alice, &t, now));
        assert!(!verify(b"k", &AdminIdentity::new("alice"), &t, now));
        assert!(!verify(
            b"k",
            &AdminIdentity::new("bob").with_session("s1"),
            &t,
            now
        ));
        assert!(!verify(b"k", &alice, "", now));
        assert!(!verify(b"k", &alice, "zz.zz", now));
        assert!(!verify(b"k", &alice, &t[..t.len() - 2], now));
        let future = token(b"k", &alice, now + chrono::Duration::hours(1));
        assert!(!verify(b"k", &alice, &future, now));
    }
}
