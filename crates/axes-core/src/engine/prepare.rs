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
    /// The attempt's trusted device (its id), when it carried a valid
    /// device token for its username: it is then counted in the device's
    /// scope (`key.scope`).
    pub device: Option<String>,
}

pub(crate) fn prepare(attempt: &Attempt, settings: &Settings, rule: &UsernameRule) -> Prepared {
    let ip = attempt.ip_address.map(fold_mapped);
    let given_username = attempt
        .username
        .as_deref()
        .map(|u| bound(u, MAX_FIELD_CHARS))
        .filter(|u| !u.is_empty());
    // Normalised before it is cut: cut first, a name padded with 255 blanks
    // would be counted as no name at all while an app that trims checks it.
    let username = attempt
        .username
        .as_deref()
        .map(|u| {
            let trimmed = u.trim();
            let normalised = if fits(trimmed, MAX_USERNAME_INPUT_CHARS) {
                rule(trimmed)
            } else {
                rule(&bounded(trimmed, MAX_USERNAME_INPUT_CHARS))
            };
            bound_owned(normalised, MAX_FIELD_CHARS)
        })
        .filter(|u| !u.is_empty());
    let key = RecordKey {
        scope: String::new(),
        username,
        ip_address: if settings.store_ip_address {
            ip.map(|ip| canonical_ip(ip, settings.ipv6_prefix))
        } else {
            None
        },
        user_agent: bound(attempt.user_agent.as_deref().unwrap_or(""), MAX_FIELD_CHARS),
    };
    let details = AttemptDetails {
        path: bound(&attempt.path, MAX_FIELD_CHARS),
        http_accept: bound(&attempt.http_accept, MAX_ACCEPT_CHARS),
        get_data: render_params(&attempt.query, settings),
        post_data: render_params(&attempt.form, settings),
    };
    let method = &attempt.method;
    Prepared {
        key,
        details,
        ip,
        given_username,
        method: if fits(method, 16) && !method.bytes().any(|b| b.is_ascii_lowercase()) {
            method.clone()
        } else {
            bounded(method, 16).to_ascii_uppercase()
        },
        device: None,
    }
}

/// Whether [`bounded`] would leave `text` as it is: no NUL, and at most
/// `max` bytes (so at most `max` characters).
fn fits(text: &str, max: usize) -> bool {
    text.len() <= max && !text.as_bytes().contains(&0)
}

/// [`bounded`], copying the bytes at once when nothing is cut (every
/// login takes this path for each of its fields).
fn bound(text: &str, max: usize) -> String {
    if fits(text, max) {
        text.to_owned()
    } else {
        bounded(text, max)
    }
}

/// [`bound`] of an owned string: kept as it is when nothing is cut.
fn bound_owned(text: String, max: usize) -> String {
    if fits(&text, max) {
        text
    } else {
        bounded(&text, max)
    }
}

/// Appends [`bounded`]`(text, max)` to `out`.
fn push_bounded(out: &mut String, text: &str, max: usize) {
    if fits(text, max) {
        out.push_str(text);
    } else {
        out.extend(text.chars().filter(|c| *c != '\0').take(max));
    }
}

/// `key=value` lines with sensitive values masked, bounded.
fn render_params(params: &[(String, String)], settings: &Settings) -> String {
    // Sized up front (bounded as the text is): one allocation, not one per
    // doubling.
    let wanted = params
        .iter()
        .take(64)
        .map(|(k, v)| k.len().min(64 * 4) + v.len().max(MASK.len()) + 2)
        .sum::<usize>();
    // The most the loop below writes: past MAX_DATA_CHARS * 4 bytes it
    // stops after one more field (a key of 64 and a value of
    // MAX_DATA_CHARS characters, 4 bytes each at most).
    let most = MAX_DATA_CHARS * 4 + 1 + 4 * (64 + MAX_DATA_CHARS) + 1;
    let mut out = String::with_capacity(wanted.min(most));
    for (k, v) in params.iter().take(64) {
        if !out.is_empty() {
            out.push('\n');
        }
        push_bounded(&mut out, k, 64);
        out.push('=');
        if settings.is_sensitive(k) {
            out.push_str(MASK);
        } else {
            push_bounded(&mut out, v, MAX_DATA_CHARS);
        }
        if out.len() > MAX_DATA_CHARS * 4 {
            break;
        }
    }
    // NULs are gone already: only the length may need cutting.
    bound_owned(out, MAX_DATA_CHARS)
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
    fn fast_paths_match_bounded() {
        let long = "é".repeat(300);
        for text in [
            "",
            "alice",
            "a\0b",
            "\0",
            long.as_str(),
            &long[..254],
            "x\0".repeat(200).as_str(),
        ] {
            for max in [0, 1, 16, 64, 255] {
                assert_eq!(bound(text, max), bounded(text, max), "{text:?} {max}");
                assert_eq!(bound_owned(text.to_owned(), max), bounded(text, max));
                let mut out = "k=".to_owned();
                push_bounded(&mut out, text, max);
                assert_eq!(out, format!("k={}", bounded(text, max)));
            }
        }
    }

    #[test]
    fn details_and_method_are_bounded_as_before() {
        let settings = Settings::default();
        let rule: UsernameRule = Arc::new(normalize_username);
        let a = Attempt::new()
            .method("post")
            .path("/lo\0gin")
            .query(vec![
                ("next".into(), "/\0home".into()),
                ("k".repeat(100), "v".into()),
            ])
            .form(vec![
                ("password".into(), "hunter2".into()),
                ("note".into(), "x".repeat(5000)),
            ]);
        let p = prepare(&a, &settings, &rule);
        assert_eq!(p.method, "POST");
        assert_eq!(p.details.path, "/login");
        assert_eq!(
            p.details.get_data,
            format!("next=/home\n{}=v", "k".repeat(64))
        );
        assert!(
            p.details
                .post_data
                .starts_with("password=********\nnote=xxx")
        );
        assert_eq!(
            p.details.post_data.chars().count(),
            crate::identity::MAX_DATA_CHARS
        );
        let p = prepare(&Attempt::new().method("DELETE"), &settings, &rule);
        assert_eq!(p.method, "DELETE");
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
