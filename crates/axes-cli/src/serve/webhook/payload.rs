//! The JSON body of a webhook and its signature (SPEC §8).

use axes_core::Event;
use chrono::SecondsFormat;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Axes-Signature";

/// The body: `{"event", "username", "ip_address", "failures",
/// "failure_limit", "retry_after", "at"}`; `ip_address` left out when IPs
/// are not stored.
#[derive(Debug, Serialize)]
struct Payload<'a> {
    event: &'a str,
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_address: Option<&'a str>,
    failures: u32,
    failure_limit: u32,
    retry_after: Option<u64>,
    /// For `reset`: the attempt records deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    removed: Option<u64>,
    at: String,
}

/// The JSON bytes for `event`; `store_ip_address = false` leaves the IP
/// out (the engine never sets it then; this is the second lock).
pub fn body(event: &Event, store_ip_address: bool) -> Vec<u8> {
    let payload = Payload {
        event: event.kind.as_str(),
        username: event.username.as_deref(),
        ip_address: event.ip_address.as_deref().filter(|_| store_ip_address),
        failures: event.failures,
        failure_limit: event.failure_limit,
        retry_after: event.retry_after,
        removed: event.removed,
        at: event.time.to_rfc3339_opts(SecondsFormat::Millis, true),
    };
    // Strings and numbers only: serialising cannot fail.
    serde_json::to_vec(&payload).unwrap_or_default()
}

/// `sha256=<hex HMAC-SHA256 of body with secret>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axes_core::EventKind;
    use chrono::TimeZone as _;

    fn event() -> Event {
        Event {
            kind: EventKind::LockedOut,
            username: Some("alice".into()),
            ip_address: Some("203.0.113.7".into()),
            path: "/login".into(),
            failures: 3,
            failure_limit: 3,
            retry_after: Some(1800),
            refused: false,
            time: chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            removed: None,
        }
    }

    #[test]
    fn the_body_has_the_documented_fields() {
        let v: serde_json::Value = serde_json::from_slice(&body(&event(), true)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "event": "locked_out", "username": "alice", "ip_address": "203.0.113.7",
                "failures": 3, "failure_limit": 3, "retry_after": 1800,
                "at": "2026-01-02T03:04:05.000Z"
            })
        );
        let v: serde_json::Value = serde_json::from_slice(&body(&event(), false)).unwrap();
        assert!(v.get("ip_address").is_none(), "{v}");
    }

    #[test]
    fn the_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
