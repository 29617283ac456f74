//! Reading settings from a TOML file and `AXES_*` environment variables,
//! and the parser of each kind of value (named by the definition in
//! `mod.rs`).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;

use super::duration::{hours_to_duration, parse_duration};
use super::{Handler, Secret, Settings, define, unsupported};
use crate::error::ConfigError;
use crate::events::EventKind;
use crate::parameters::LockoutParameters;

/// The prefix of environment variables that set settings.
pub const ENV_PREFIX: &str = "AXES_";

/// Environment variables with the prefix that are not settings: test
/// fixtures (`AXES_TEST_…`), the log filter (`AXES_LOG`) and the config
/// path (`AXES_CONFIG`). Only the first is a prefix: `AXES_LOGGER` (a
/// django-axes name) is read as a setting, and refused with a hint.
pub fn is_setting_var(name: &str) -> bool {
    name.starts_with(ENV_PREFIX)
        && !name.starts_with("AXES_TEST_")
        && !matches!(name, "AXES_LOG" | "AXES_CONFIG")
}

/// Why a zero `cooloff_time` is refused: the engine would read it as no
/// cool-off, a lockout until reset.
pub(crate) const ZERO_COOLOFF: &str = "must be longer than zero; for lockouts that last \
     until reset, leave cooloff_time unset (or \"none\")";

/// A raw value: typed from TOML, or text from the environment.
pub(super) enum Raw<'a> {
    Toml(&'a toml::Value),
    Text(&'a str),
}

impl Raw<'_> {
    fn shown(&self, key: &str) -> String {
        if define::is_secret(key) {
            return "[redacted]".into();
        }
        let s = match self {
            Raw::Toml(v) => v.to_string(),
            Raw::Text(t) => format!("{t:?}"),
        };
        // Bound what we echo back.
        if s.chars().count() > 80 {
            format!("{}…", s.chars().take(80).collect::<String>())
        } else {
            s
        }
    }

    fn text(&self) -> Result<&str, String> {
        match self {
            Raw::Text(t) => Ok(t),
            Raw::Toml(toml::Value::String(s)) => Ok(s),
            Raw::Toml(_) => Err("expected a string".into()),
        }
    }

    fn duration(&self) -> Result<Duration, String> {
        match self {
            Raw::Toml(toml::Value::Integer(n)) => hours_to_duration(*n as f64),
            Raw::Toml(toml::Value::Float(f)) => hours_to_duration(*f),
            Raw::Toml(toml::Value::String(s)) => parse_duration(s),
            Raw::Toml(_) => Err("expected a duration such as \"30m\"".into()),
            Raw::Text(t) => parse_duration(t),
        }
    }

    fn is_none_word(&self) -> bool {
        match self {
            Raw::Text(t) => matches!(t.trim().to_ascii_lowercase().as_str(), "" | "none"),
            Raw::Toml(toml::Value::String(s)) => {
                matches!(s.trim().to_ascii_lowercase().as_str(), "" | "none")
            }
            Raw::Toml(_) => false,
        }
    }

    fn optional_text(&self) -> Result<Option<String>, String> {
        if self.is_none_word() {
            return Ok(None);
        }
        self.text().map(|s| Some(s.to_owned()))
    }
}

// The parsers the definition names: `fn(&Raw) -> Result<T, String>`, the
// error a reason that `ConfigError::InvalidValue` puts after the key.

/// `true`/`false` in TOML; also `1/0`, `yes/no`, `on/off` as text.
pub(super) fn boolean(raw: &Raw<'_>) -> Result<bool, String> {
    match raw {
        Raw::Toml(toml::Value::Boolean(b)) => Ok(*b),
        Raw::Toml(_) => Err("expected true or false".into()),
        Raw::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err("expected true or false".into()),
        },
    }
}

/// A whole number from `MIN` to `MAX` (which must fit `T`).
pub(super) fn integer<T: TryFrom<i64>, const MIN: i64, const MAX: i64>(
    raw: &Raw<'_>,
) -> Result<T, String> {
    let n = match raw {
        Raw::Toml(toml::Value::Integer(n)) => *n,
        Raw::Toml(_) => return Err("expected a whole number".into()),
        Raw::Text(t) => t
            .trim()
            .parse::<i64>()
            .map_err(|_| "expected a whole number".to_owned())?,
    };
    if !(MIN..=MAX).contains(&n) {
        return Err(format!("must be between {MIN} and {MAX}"));
    }
    T::try_from(n).map_err(|_| format!("must be between {MIN} and {MAX}"))
}

/// A duration longer than zero, or `none`.
pub(super) fn cooloff(raw: &Raw<'_>) -> Result<Option<Duration>, String> {
    if raw.is_none_word() {
        return Ok(None);
    }
    let d = raw.duration()?;
    if d.is_zero() {
        return Err(ZERO_COOLOFF.into());
    }
    Ok(Some(d))
}

/// A duration longer than zero, or `none`.
pub(super) fn optional_positive_duration(raw: &Raw<'_>) -> Result<Option<Duration>, String> {
    if raw.is_none_word() {
        return Ok(None);
    }
    positive_duration(raw).map(Some)
}

/// A whole number from `MIN` to `MAX`, or `none`.
pub(super) fn optional_integer<const MIN: i64, const MAX: i64>(
    raw: &Raw<'_>,
) -> Result<Option<u32>, String> {
    if raw.is_none_word() {
        return Ok(None);
    }
    integer::<u32, MIN, MAX>(raw).map(Some)
}

/// A number from 1 to [`MAX_COOLOFF_MULTIPLIER`](super::MAX_COOLOFF_MULTIPLIER)
/// (`2`, `1.5`).
pub(super) fn multiplier(raw: &Raw<'_>) -> Result<f64, String> {
    let m = match raw {
        Raw::Toml(toml::Value::Integer(n)) => *n as f64,
        Raw::Toml(toml::Value::Float(f)) => *f,
        Raw::Toml(_) => return Err("expected a number such as 2 or 1.5".into()),
        Raw::Text(t) => t
            .trim()
            .parse::<f64>()
            .map_err(|_| "expected a number such as 2 or 1.5".to_owned())?,
    };
    let max = super::MAX_COOLOFF_MULTIPLIER;
    if !m.is_finite() || !(1.0..=max).contains(&m) {
        return Err(format!("must be between 1 and {max}"));
    }
    Ok(m)
}

/// A duration longer than zero.
pub(super) fn positive_duration(raw: &Raw<'_>) -> Result<Duration, String> {
    let d = raw.duration()?;
    if d.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(d)
}

/// A TOML list of alternatives, or the text form `a,b+c`.
pub(super) fn lockout_parameters(raw: &Raw<'_>) -> Result<LockoutParameters, String> {
    use serde::Deserialize;
    match raw {
        Raw::Text(t) => LockoutParameters::parse_env(t),
        Raw::Toml(v) => LockoutParameters::deserialize((*v).clone()).map_err(|e| e.to_string()),
    }
}

/// Layered rules: the environment's text form, or TOML tables.
pub(super) fn lockout_rules(raw: &Raw<'_>) -> Result<Vec<crate::rules::LockoutRule>, String> {
    match raw {
        Raw::Text(t) => crate::rules::parse_rules_env(t),
        Raw::Toml(toml::Value::String(s)) => crate::rules::parse_rules_env(s),
        Raw::Toml(v) => crate::rules::parse_rules_toml(v),
    }
}

/// `database`, `cache`, `memory` or `dummy`.
pub(super) fn handler(raw: &Raw<'_>) -> Result<Handler, String> {
    Handler::from_str(raw.text()?)
}

/// A `sqlite:`, `postgres://` or `mysql://` URL.
pub(super) fn database_url(raw: &Raw<'_>) -> Result<Secret, String> {
    let url = raw.text()?.trim();
    if ![
        "sqlite:",
        "postgres://",
        "postgresql://",
        "mysql://",
        "mariadb://",
    ]
    .iter()
    .any(|p| url.starts_with(p))
    {
        return Err("expected a sqlite://, postgres:// or mysql:// URL".into());
    }
    Ok(Secret::new(url))
}

/// A `redis://` or `rediss://` URL.
pub(super) fn cache_url(raw: &Raw<'_>) -> Result<Secret, String> {
    let url = raw.text()?.trim();
    if !url.starts_with("redis://") && !url.starts_with("rediss://") {
        return Err("expected a redis:// URL".into());
    }
    Ok(Secret::new(url))
}

/// A list of strings: a TOML array, or comma-separated text.
pub(super) fn list(raw: &Raw<'_>) -> Result<Vec<String>, String> {
    match raw {
        Raw::Toml(toml::Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                toml::Value::String(s) => Ok(s.trim().to_owned()),
                _ => Err("expected a list of strings".to_owned()),
            })
            .collect(),
        Raw::Toml(toml::Value::String(s)) => Ok(split_list(s)),
        Raw::Toml(_) => Err("expected a list of strings".into()),
        Raw::Text(t) => Ok(split_list(t)),
    }
}

/// A list of IP addresses or CIDR blocks.
pub(super) fn networks(raw: &Raw<'_>) -> Result<Vec<IpNet>, String> {
    list(raw)?.iter().map(|s| parse_network(s)).collect()
}

/// An HTTP header name.
pub(super) fn header_name(raw: &Raw<'_>) -> Result<String, String> {
    let name = raw.text()?.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("expected an HTTP header name".into());
    }
    Ok(name.to_owned())
}

/// A form field name.
pub(super) fn field_name(raw: &Raw<'_>) -> Result<String, String> {
    let name = raw.text()?.trim();
    if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
        return Err("expected a form field name".into());
    }
    Ok(name.to_owned())
}

/// A URL or path without line breaks, or `none`.
pub(super) fn lockout_url(raw: &Raw<'_>) -> Result<Option<String>, String> {
    let url = raw.optional_text()?;
    if let Some(url) = &url
        && (url.contains(['\r', '\n']) || url.len() > 2048)
    {
        return Err("expected a URL or path".into());
    }
    Ok(url)
}

/// A file path, or `none`.
pub(super) fn optional_path(raw: &Raw<'_>) -> Result<Option<PathBuf>, String> {
    Ok(raw.optional_text()?.map(PathBuf::from))
}

/// Text of at most 4096 bytes.
pub(super) fn bounded_text(raw: &Raw<'_>) -> Result<String, String> {
    let text = raw.text()?;
    if text.len() > 4096 {
        return Err("at most 4096 bytes".into());
    }
    Ok(text.to_owned())
}

/// At most 64 characters without spaces.
pub(super) fn cache_prefix(raw: &Raw<'_>) -> Result<String, String> {
    let p = raw.text()?;
    if p.len() > 64 || p.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("expected at most 64 characters without spaces".into());
    }
    Ok(p.to_owned())
}

/// An `http://` or `https://` URL with a host, or `none` (the full parse
/// is the HTTP client's, at start-up).
pub(super) fn webhook_url(raw: &Raw<'_>) -> Result<Option<Secret>, String> {
    let Some(url) = raw.optional_text()? else {
        return Ok(None);
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.and_then(|r| r.split(['/', '?', '#']).next());
    if url.len() > 2048
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
        || host.is_none_or(|h| h.rsplit('@').next().is_none_or(str::is_empty))
    {
        return Err("expected an http:// or https:// URL with a host".into());
    }
    Ok(Some(Secret::new(url)))
}

/// A list of event names (`locked_out`, `login_failed`, …).
pub(super) fn event_kinds(raw: &Raw<'_>) -> Result<Vec<EventKind>, String> {
    let mut kinds = Vec::new();
    for name in list(raw)? {
        let kind = EventKind::from_name(&name).ok_or_else(|| {
            let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("unknown event `{name}` (expected {})", known.join(", "))
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

/// A secret, or `none`.
pub(super) fn optional_secret(raw: &Raw<'_>) -> Result<Option<Secret>, String> {
    Ok(raw.optional_text()?.map(Secret::new))
}

/// `name:argon2-hash` entries: a TOML array, or text separated by
/// whitespace or `;` (argon2 hashes contain commas: `m=19456,t=2,p=1`).
pub(super) fn admin_users(raw: &Raw<'_>) -> Result<Vec<String>, String> {
    let users = match raw {
        Raw::Toml(toml::Value::Array(_)) => list(raw)?,
        _ => raw
            .text()?
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    if users.iter().any(|u| !u.contains(':')) {
        return Err("expected `name:argon2-hash` entries".into());
    }
    Ok(users)
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses an IP address or CIDR block (`10.0.0.1`, `10.0.0.0/8`, `::1`).
pub(crate) fn parse_network(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(net) = IpNet::from_str(s) {
        return Ok(net.trunc());
    }
    std::net::IpAddr::from_str(s)
        .map(IpNet::from)
        .map_err(|_| format!("`{s}` is not an IP address or CIDR block"))
}

impl Settings {
    /// Loads settings: defaults, then the TOML file, then `AXES_*`
    /// environment variables, then validation.
    ///
    /// With `file = None`, `axes.toml` in the working directory is read when it
    /// exists. A given file that does not exist is an error.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let path: Option<PathBuf> = match file {
            Some(p) => Some(p.to_owned()),
            None => {
                let default = PathBuf::from("axes.toml");
                default.is_file().then_some(default)
            }
        };
        let text = match &path {
            Some(p) => Some(std::fs::read_to_string(p).map_err(|e| ConfigError::File {
                path: p.display().to_string(),
                reason: e.to_string(),
            })?),
            None => None,
        };
        let source = path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        Self::from_sources(text.as_deref(), &source, std::env::vars())
    }

    /// Builds settings from TOML text (if any) and environment pairs.
    /// `source` names the file in error messages.
    pub fn from_sources(
        toml_text: Option<&str>,
        source: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut settings = Settings::default();
        if let Some(text) = toml_text {
            let table: toml::Table =
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::File {
                        path: source.to_owned(),
                        reason: syntax_error(text, &e),
                    })?;
            for (key, value) in &table {
                settings.set(key, Raw::Toml(value), source)?;
            }
        }
        let mut env: Vec<(String, String)> =
            env.into_iter().filter(|(k, _)| is_setting_var(k)).collect();
        env.sort();
        for (var, value) in &env {
            let key = var[ENV_PREFIX.len()..].to_ascii_lowercase();
            settings.set(&key, Raw::Text(value), var)?;
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Sets one setting from its text form, as the environment would.
    pub fn set_text(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        self.set(key, Raw::Text(value), "")
    }

    pub(super) fn set(&mut self, key: &str, raw: Raw<'_>, source: &str) -> Result<(), ConfigError> {
        match self.apply(key, &raw) {
            Some(result) => result.map_err(|reason| ConfigError::InvalidValue {
                key: key.to_owned(),
                value: raw.shown(key),
                origin: source.to_owned(),
                reason,
            }),
            None => Err(match unsupported::reason(key) {
                Some(reason) => ConfigError::Unsupported {
                    key: key.to_owned(),
                    origin: source.to_owned(),
                    reason: reason.to_owned(),
                },
                None => ConfigError::UnknownKey {
                    key: key.to_owned(),
                    origin: source.to_owned(),
                },
            }),
        }
    }
}

/// A TOML syntax error without the quoted source line (which can hold a
/// secret: `database_url = "postgres://user:password@…" x`): the parser's
/// message and where it is.
fn syntax_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim();
    match e.span() {
        Some(span) => {
            // Never slice inside a character.
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("{message} (line {line}, column {column})")
        }
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parameters::Field;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_match_the_spec() {
        let s = Settings::from_sources(None, "", env(&[])).unwrap();
        assert_eq!(s.failure_limit, 3);
        assert_eq!(s.http_response_code, 429);
        assert_eq!(s.cooloff_time, None);
        assert_eq!(s.database_url.expose(), "sqlite://axes.db");
        assert_eq!(s.lockout_parameters.to_string(), "ip_address");
    }

    #[test]
    fn toml_then_env_env_wins() {
        let toml = r#"
            failure_limit = 5
            cooloff_time = "30m"
            lockout_parameters = ["username", ["ip_address", "user_agent"]]
        "#;
        let s = Settings::from_sources(
            Some(toml),
            "axes.toml",
            env(&[("AXES_FAILURE_LIMIT", "7"), ("PATH", "/bin")]),
        )
        .unwrap();
        assert_eq!(s.failure_limit, 7);
        assert_eq!(s.cooloff_time, Some(Duration::from_secs(1800)));
        assert_eq!(s.lockout_parameters.alternatives().len(), 2);
        assert!(s.lockout_parameters.alternatives()[1].uses(Field::UserAgent));
    }

    #[test]
    fn env_form_of_lockout_parameters() {
        let s = Settings::from_sources(
            None,
            "",
            env(&[("AXES_LOCKOUT_PARAMETERS", "ip_address,username+user_agent")]),
        )
        .unwrap();
        assert_eq!(
            s.lockout_parameters.to_string(),
            "ip_address,username+user_agent"
        );
    }

    #[test]
    fn bare_number_cooloff_is_hours() {
        let s = Settings::from_sources(Some("cooloff_time = 2"), "f", env(&[])).unwrap();
        assert_eq!(s.cooloff_time, Some(Duration::from_secs(7200)));
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Settings::from_sources(Some("failure_limt = 3"), "axes.toml", env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("failure_limt"), "{err}");
        let err = Settings::from_sources(None, "", env(&[("AXES_COOLOF_TIME", "1h")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cooloff_time") || err.contains("coolof_time"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_name_key_and_value() {
        let err = Settings::from_sources(None, "", env(&[("AXES_FAILURE_LIMIT", "many")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("failure_limit") && err.contains("many"),
            "{err}"
        );
        let err = Settings::from_sources(Some("ip_whitelist = [\"10.0.0.300\"]"), "f", env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ip_whitelist") && err.contains("10.0.0.300"),
            "{err}"
        );
    }

    #[test]
    fn secrets_are_not_echoed() {
        let err = Settings::from_sources(
            None,
            "",
            env(&[("AXES_DATABASE_URL", "oracle://user:hunter2@db")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("database_url") && !err.contains("hunter2"),
            "{err}"
        );
    }

    #[test]
    fn gdpr_mode_refuses_ip_lockout() {
        let err = Settings::from_sources(None, "", env(&[("AXES_STORE_IP_ADDRESS", "false")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("store_ip_address"), "{err}");
        Settings::from_sources(
            None,
            "",
            env(&[
                ("AXES_STORE_IP_ADDRESS", "false"),
                ("AXES_LOCKOUT_PARAMETERS", "username"),
            ]),
        )
        .unwrap();
    }

    #[test]
    fn admin_users_text_form_keeps_argon2_commas() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
        let s = Settings::from_sources(
            None,
            "",
            env(&[("AXES_ADMIN_USERS", &format!("ann:{hash} bob:{hash}"))]),
        )
        .unwrap();
        assert_eq!(
            s.admin_users,
            vec![format!("ann:{hash}"), format!("bob:{hash}")]
        );
    }

    /// `"99999999999999h"`, `"1000years"` and `"200y"` used to pass and
    /// become a lockout until reset; every form now has the one cap.
    #[test]
    fn over_long_durations_are_errors_naming_the_setting() {
        for text in ["99999999999999h", "1000years", "200y", "1000000"] {
            let err = Settings::from_sources(None, "", env(&[("AXES_COOLOFF_TIME", text)]))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("cooloff_time") && err.contains("100 years"),
                "{text}: {err}"
            );
            let toml = format!("cooloff_time = \"{text}\"");
            let err = Settings::from_sources(Some(&toml), "axes.toml", env(&[]))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("cooloff_time") && err.contains("100 years"),
                "{text}: {err}"
            );
        }
        for toml in [
            "cooloff_time = 1000000",
            "cooloff_time = 1e12",
            "store_timeout = \"1000years\"",
        ] {
            let err = Settings::from_sources(Some(toml), "axes.toml", env(&[]))
                .unwrap_err()
                .to_string();
            let key = toml.split(' ').next().unwrap();
            assert!(err.contains(key) && err.contains("100 years"), "{err}");
        }
        let s = Settings::from_sources(Some("cooloff_time = \"100y\""), "f", env(&[])).unwrap();
        let window = s.cooloff().unwrap();
        assert_eq!(window.num_days(), 36_525);
    }

    #[test]
    fn a_zero_cooloff_is_an_error_not_a_lockout_until_reset() {
        for text in ["0", "0s", "0.0"] {
            let err = Settings::from_sources(None, "", env(&[("AXES_COOLOFF_TIME", text)]))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("cooloff_time") && err.contains("longer than zero"),
                "{text}: {err}"
            );
        }
        let s = Settings::from_sources(None, "", env(&[("AXES_COOLOFF_TIME", "none")])).unwrap();
        assert_eq!(s.cooloff_time, None);
    }

    /// Settings built in code meet the same rules in `validate`.
    #[test]
    fn validate_caps_durations_built_in_code() {
        let over = Settings {
            cooloff_time: Some(Duration::MAX),
            ..Settings::default()
        };
        let err = over.validate().unwrap_err().to_string();
        assert!(
            err.contains("cooloff_time") && err.contains("100 years"),
            "{err}"
        );
        let zero = Settings {
            cooloff_time: Some(Duration::ZERO),
            ..Settings::default()
        };
        assert!(zero.validate().is_err());
        let timeout = Settings {
            store_timeout: super::super::MAX_DURATION + Duration::from_secs(1),
            ..Settings::default()
        };
        assert!(
            timeout
                .validate()
                .unwrap_err()
                .to_string()
                .contains("store_timeout")
        );
        // Unvalidated settings still never turn a long cool-off into none.
        assert_eq!(
            over.cooloff(),
            Some(super::super::to_chrono(super::super::MAX_DURATION))
        );
    }

    #[test]
    fn a_short_secret_key_is_an_error_without_the_value() {
        for secret in ["short", "is", "key", "fifteen-bytes!!"] {
            let err = Settings::from_sources(None, "", env(&[("AXES_SECRET_KEY", secret)]))
                .unwrap_err()
                .to_string();
            assert_eq!(
                err,
                "invalid settings: secret_key is shorter than 16 bytes; use a long random value \
                 (e.g. `openssl rand -hex 32`), or leave it unset for a generated one"
            );
        }
        Settings::from_sources(None, "", env(&[("AXES_SECRET_KEY", "sixteen-bytes!!!")])).unwrap();
        // Unset ("none" or empty) is fine: axes serve generates one.
        Settings::from_sources(None, "", env(&[("AXES_SECRET_KEY", "")])).unwrap();
    }

    #[test]
    fn api_reservation_settings_are_read_and_bounded() {
        let d = Settings::default();
        assert_eq!(d.api_reservation_timeout, Duration::from_secs(30));
        assert_eq!(d.api_max_reservations, 10_000);
        let s = Settings::from_sources(
            Some("api_reservation_timeout = \"500ms\"\napi_max_reservations = 3\n"),
            "axes.toml",
            env(&[]),
        )
        .unwrap();
        assert_eq!(s.api_reservation_timeout, Duration::from_millis(500));
        assert_eq!(s.api_max_reservations, 3);
        for (key, bad) in [
            ("AXES_API_RESERVATION_TIMEOUT", "0s"),
            ("AXES_API_RESERVATION_TIMEOUT", "25h"),
            ("AXES_API_RESERVATION_TIMEOUT", "soon"),
            ("AXES_API_MAX_RESERVATIONS", "0"),
            ("AXES_API_MAX_RESERVATIONS", "1000001"),
        ] {
            let err = Settings::from_sources(None, "", env(&[(key, bad)])).unwrap_err();
            let name = key.trim_start_matches("AXES_").to_ascii_lowercase();
            assert!(err.to_string().contains(&name), "{key}={bad}: {err}");
        }
    }

    #[test]
    fn warnings_for_broad_trusted_proxies_and_short_api_tokens() {
        let warned = |proxies: &str| {
            let s = Settings::from_sources(None, "", env(&[("AXES_TRUSTED_PROXIES", proxies)]))
                .unwrap();
            s.warnings()
        };
        for broad in [
            "0.0.0.0/0",
            "::/0",
            "128.0.0.0/1",
            "10.0.0.0/7",
            "2000::/3",
            "2a00::/15",
        ] {
            let w = warned(&format!("10.0.0.1,{broad}"));
            assert_eq!(w.len(), 1, "{broad}: {w:?}");
            assert!(
                w[0].starts_with(&format!("trusted_proxies: {broad} covers"))
                    && w[0].contains("X-Forwarded-For"),
                "{w:?}"
            );
        }
        for fine in [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "2001:db8::/32",
            "2a00::/16",
            "fc00::/7",
            "fd00::/8",
            "fe80::/10",
            "127.0.0.1",
        ] {
            assert_eq!(warned(fine), Vec::<String>::new(), "{fine}");
        }
        let s = Settings::from_sources(None, "", env(&[("AXES_API_TOKEN", "token")])).unwrap();
        assert_eq!(
            s.warnings(),
            [
                "api_token is shorter than 32 characters; use a long random value (e.g. `openssl rand -hex 32`)"
            ]
        );
        let long = "t".repeat(32);
        let s = Settings::from_sources(None, "", env(&[("AXES_API_TOKEN", &long)])).unwrap();
        assert!(s.warnings().is_empty());
        assert!(Settings::default().warnings().is_empty());
    }

    #[test]
    fn test_variables_are_not_settings() {
        Settings::from_sources(
            None,
            "",
            env(&[
                ("AXES_TEST_POSTGRES_URL", "postgres://x"),
                ("AXES_LOG", "debug"),
            ]),
        )
        .unwrap();
    }
}
