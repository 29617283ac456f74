//! Turning an [`Attempt`] into the canonical form the store sees.

use std::net::IpAddr;

use crate::attempt::Attempt;
use crate::identity::{
    MAX_ACCEPT_CHARS, MAX_DATA_CHARS, MAX_FIELD_CHARS, UsernameRule, bounded, canonical_ip,
    fold_mapped,
};
use crate::settings::Settings;
use crate::store::{AttemptDetails, RecordKey};

/// The most characters of a given username the username rule sees (after
/// trimming); bounds its cost. Longer names are counted by their first
/// this many characters (names sharing them share a count: never fewer
/// failures than were made).
pub const MAX_USERNAME_INPUT_CHARS: usize = 1024;

/// The mask written in place of sensitive values.
pub const MASK: &str = "********";

/// An attempt after canonicalisation: what hooks and the store see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The record key (IP absent when IPs are not stored).
    pub key: RecordKey,
    /// Stored details (sensitive values masked).
    pub details: AttemptDetails,
    /// The resolved client IP, for allow/deny lists. Never stored when
    /// `store_ip_address` is off.
    pub ip: Option<IpAddr>,
    /// The username as given, bounded (for responses).
    pub given_username: Option<String>,
    /// The HTTP method, upper case.
    pub method: String,
}

pub(crate) fn prepare(attempt: &Attempt, settings: &Settings, rule: &UsernameRule) -> Prepared {
    let ip = attempt.ip_address.map(fold_mapped);
    let given_username = attempt
        .username
        .as_deref()
        .map(|u| bounded(u, MAX_FIELD_CHARS))
        .filter(|u| !u.is_empty());
    // Normalised before it is cut: cut first, a name padded with 255 blanks
    // would be counted as no name at all while an app that trims checks it.
    let username = attempt
        .username
        .as_deref()
        .map(|u| {
            bounded(
                &rule(&bounded(u.trim(), MAX_USERNAME_INPUT_CHARS)),
                MAX_FIELD_CHARS,
            )
        })
        .filter(|u| !u.is_empty());
    let key = RecordKey {
        username,
        ip_address: if settings.store_ip_address {
            ip.map(|ip| canonical_ip(ip, settings.ipv6_prefix))
        } else {
            None
        },
        user_agent: bounded(attempt.user_agent.as_deref().unwrap_or(""), MAX_FIELD_CHARS),
    };
    let details = AttemptDetails {
        path: bounded(&attempt.path, MAX_FIELD_CHARS),
        http_accept: bounded(&attempt.http_accept, MAX_ACCEPT_CHARS),
        get_data: render_params(&attempt.query, settings),
        post_data: render_params(&attempt.form, settings),
    };
    Prepared {
        key,
        details,
        ip,
        given_username,
        method: bounded(&attempt.method, 16).to_ascii_uppercase(),
    }
}

/// `key=value` lines with sensitive values masked, bounded.
fn render_params(params: &[(String, String)], settings: &Settings) -> String {
    let mut out = String::new();
    for (k, v) in params.iter().take(64) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&bounded(k, 64));
        out.push('=');
        if settings.is_sensitive(k) {
            out.push_str(MASK);
        } else {
            out.push_str(&bounded(v, MAX_DATA_CHARS));
        }
        if out.len() > MAX_DATA_CHARS * 4 {
            break;
        }
    }
    bounded(&out, MAX_DATA_CHARS)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::identity::normalize_username;

    #[test]
    fn passwords_are_masked_and_fields_bounded() {
        let settings = Settings::default();
        let rule: UsernameRule = Arc::new(normalize_username);
        let a = Attempt::new()
            .username(" Alice\0 ")
            .user_agent("x".repeat(1000))
            .form(vec![
                ("username".into(), "Alice".into()),
                ("password".into(), "hunter2".into()),
            ]);
        let p = prepare(&a, &settings, &rule);
        assert_eq!(p.key.username.as_deref(), Some("alice"));
        assert_eq!(p.key.user_agent.chars().count(), 255);
        assert!(!p.details.post_data.contains("hunter2"));
        assert!(p.details.post_data.contains("password=********"));
    }

    #[test]
    fn usernames_are_normalised_before_they_are_cut() {
        let settings = Settings::default();
        let rule: UsernameRule = Arc::new(normalize_username);
        let padded = format!("{}alice", " ".repeat(255));
        let p = prepare(&Attempt::new().username(padded), &settings, &rule);
        assert_eq!(p.key.username.as_deref(), Some("alice"));
        let p = prepare(&Attempt::new().username("   "), &settings, &rule);
        assert_eq!(p.key.username, None);
    }

    #[test]
    fn no_ip_when_not_stored() {
        let settings = Settings {
            store_ip_address: false,
            ..Settings::default()
        };
        let rule: UsernameRule = Arc::new(normalize_username);
        let a = Attempt::new().ip_address("192.0.2.1".parse().unwrap());
        let p = prepare(&a, &settings, &rule);
        assert_eq!(p.key.ip_address, None);
        assert!(p.ip.is_some());
    }
}
