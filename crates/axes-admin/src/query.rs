//! Query strings and form bodies: parsed, bounded and validated.
//!
//! Nothing here trusts its input: every value has a length bound, numbers
//! are range-checked, times are parsed strictly, and a bad value becomes a
//! message for the page (never a panic, never a silent no-match).

use axes_core::Axes;
use axes_core::store::{ListQuery, Order};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Default rows per page.
pub const DEFAULT_PER_PAGE: u64 = 25;
/// Most rows per page.
pub const MAX_PER_PAGE: u64 = 100;
/// Highest page number accepted.
pub const MAX_PAGE: u64 = 100_000;
/// Longest IP filter accepted.
pub const MAX_IP_LEN: usize = 64;
/// Longest username filter accepted.
pub const MAX_USERNAME_LEN: usize = 256;
/// Longest free-text search accepted.
pub const MAX_SEARCH_LEN: usize = 200;
/// Longest time value accepted.
const MAX_TIME_LEN: usize = 40;
/// Most key/value pairs read from a query string or form.
pub const MAX_PAIRS: usize = 1100;

/// Parses `application/x-www-form-urlencoded` text into pairs (at most
/// [`MAX_PAIRS`]; the rest is ignored).
pub fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = serde_urlencoded::from_bytes(raw).unwrap_or_default();
    out.truncate(MAX_PAIRS);
    out
}

/// The last value of `key`, trimmed; `None` when absent or empty.
pub fn last<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Every value of `key`, in order.
pub fn all<'a>(pairs: &'a [(String, String)], key: &str) -> impl Iterator<Item = &'a str> {
    pairs
        .iter()
        .filter(move |(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Parses a time as typed into a filter: RFC 3339, or `YYYY-MM-DDTHH:MM[:SS]`
/// and `YYYY-MM-DD` (both in UTC, as every time in the admin).
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if s.len() > MAX_TIME_LEN {
        return Err("the time is too long".into());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(format!(
        "“{s}” is not a time (expected e.g. 2024-05-01T13:30, in UTC)"
    ))
}

/// A time as the filter form's `datetime-local` input shows it.
pub fn format_input_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

/// The filters, sort and page of a listing, as the admin typed them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    /// IP filter as typed (trimmed).
    pub ip: Option<String>,
    /// Username filter as typed (trimmed).
    pub username: Option<String>,
    /// Free-text search.
    pub q: Option<String>,
    /// Only rows at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only rows before this time.
    pub until: Option<DateTime<Utc>>,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
    /// Page number, from 1.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
}

fn bounded(v: Option<&str>, max: usize, what: &str, errors: &mut Vec<String>) -> Option<String> {
    let v = v?;
    if v.chars().count() > max {
        errors.push(format!("The {what} is longer than {max} characters."));
        return None;
    }
    Some(v.to_owned())
}

fn number(
    v: Option<&str>,
    default: u64,
    range: (u64, u64),
    what: &str,
    errors: &mut Vec<String>,
) -> u64 {
    match v {
        None => default,
        Some(s) => match s.parse::<u64>() {
            Ok(n) if n >= range.0 && n <= range.1 => n,
            _ => {
                errors.push(format!(
                    "The {what} must be a number from {} to {}.",
                    range.0, range.1
                ));
                default
            }
        },
    }
}

impl ListParams {
    /// Parses a query string. Problems are returned as messages for the
    /// page; the offending value is dropped.
    pub fn parse(raw: &[u8], store_ip: bool) -> (Self, Vec<String>) {
        let pairs = pairs(raw);
        let mut errors = Vec::new();
        let ip = if store_ip {
            bounded(last(&pairs, "ip"), MAX_IP_LEN, "IP address", &mut errors)
        } else {
            None
        };
        let username = bounded(
            last(&pairs, "username"),
            MAX_USERNAME_LEN,
            "username",
            &mut errors,
        );
        let q = bounded(last(&pairs, "q"), MAX_SEARCH_LEN, "search", &mut errors);
        let mut time = |key: &str| match last(&pairs, key).map(parse_time) {
            Some(Ok(t)) => Some(t),
            Some(Err(e)) => {
                errors.push(e);
                None
            }
            None => None,
        };
        let since = time("since");
        let until = time("until");
        let oldest_first = match last(&pairs, "sort") {
            None | Some("newest") => false,
            Some("oldest") => true,
            Some(_) => {
                errors.push("The sort order must be “newest” or “oldest”.".into());
                false
            }
        };
        let page = number(last(&pairs, "page"), 1, (1, MAX_PAGE), "page", &mut errors);
        let per_page = number(
            last(&pairs, "per_page"),
            DEFAULT_PER_PAGE,
            (1, MAX_PER_PAGE),
            "page size",
            &mut errors,
        );
        (
            Self {
                ip,
                username,
                q,
                since,
                until,
                oldest_first,
                page,
                per_page,
            },
            errors,
        )
    }

    /// The store query: IP and username in canonical form (a malformed IP
    /// is an error).
    pub fn to_list_query(&self, axes: &Axes) -> Result<ListQuery, String> {
        let filter = axes
            .reset_filter(self.ip.as_deref(), None)
            .map_err(|e| format!("IP address: {e}"))?;
        let username = match self.username.as_deref() {
            Some(u) => axes
                .reset_filter(None, Some(u))
                .ok()
                .and_then(|f| f.username),
            None => None,
        };
        Ok(ListQuery {
            ip_address: filter.ip_address,
            username,
            search: self.q.clone(),
            since: self.since,
            until: self.until,
            order: if self.oldest_first {
                Order::OldestFirst
            } else {
                Order::NewestFirst
            },
            offset: (self.page - 1) * self.per_page,
            limit: self.per_page,
        })
    }

    /// Whether any filter is set.
    pub fn filtered(&self) -> bool {
        self.ip.is_some()
            || self.username.is_some()
            || self.q.is_some()
            || self.since.is_some()
            || self.until.is_some()
    }

    /// The query string for these parameters with `page` and sort replaced
    /// (URL-encoded; defaults left out).
    pub fn query_string(&self, page: u64, oldest_first: bool) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(v) = &self.ip {
            pairs.push(("ip", v.clone()));
        }
        if let Some(v) = &self.username {
            pairs.push(("username", v.clone()));
        }
        if let Some(v) = &self.q {
            pairs.push(("q", v.clone()));
        }
        if let Some(t) = self.since {
            pairs.push(("since", format_input_time(t)));
        }
        if let Some(t) = self.until {
            pairs.push(("until", format_input_time(t)));
        }
        if oldest_first {
            pairs.push(("sort", "oldest".into()));
        }
        if self.per_page != DEFAULT_PER_PAGE {
            pairs.push(("per_page", self.per_page.to_string()));
        }
        if page != 1 {
            pairs.push(("page", page.to_string()));
        }
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if qs.is_empty() { qs } else { format!("?{qs}") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_bounds() {
        let (p, errors) = ListParams::parse(
            b"ip=+10.0.0.1+&username=Alice&q=&since=2024-05-01T13:30&sort=oldest&page=2&per_page=50",
            true,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(p.ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(p.username.as_deref(), Some("Alice"));
        assert_eq!(p.q, None);
        assert_eq!(p.since.unwrap().to_rfc3339(), "2024-05-01T13:30:00+00:00");
        assert!(p.oldest_first);
        assert_eq!((p.page, p.per_page), (2, 50));

        let (p, errors) = ListParams::parse(b"per_page=1000&page=0&since=yesterday&sort=x", true);
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert_eq!((p.page, p.per_page), (1, DEFAULT_PER_PAGE));
        assert_eq!(p.since, None);

        let long = format!("q={}", "x".repeat(MAX_SEARCH_LEN + 1));
        let (p, errors) = ListParams::parse(long.as_bytes(), true);
        assert_eq!(p.q, None);
        assert_eq!(errors.len(), 1);

        let (p, _) = ListParams::parse(b"ip=10.0.0.1", false);
        assert_eq!(p.ip, None);
    }

    #[test]
    fn query_string_round_trips() {
        let (p, _) = ListParams::parse(b"username=a%26b&since=2024-05-01&per_page=10", true);
        let qs = p.query_string(3, true);
        assert_eq!(
            qs,
            "?username=a%26b&since=2024-05-01T00%3A00&sort=oldest&per_page=10&page=3"
        );
        let (back, errors) = ListParams::parse(&qs.as_bytes()[1..], true);
        assert!(errors.is_empty());
        assert_eq!(back.username.as_deref(), Some("a&b"));
        assert_eq!(back.page, 3);
    }

    #[test]
    fn times() {
        assert!(parse_time("2024-05-01").is_ok());
        assert!(parse_time("2024-05-01T10:00:00Z").is_ok());
        assert!(parse_time("2024-05-01T10:00:00+02:00").is_ok());
        assert!(parse_time("2024-13-01").is_err());
        assert!(parse_time(&"1".repeat(100)).is_err());
    }
}
