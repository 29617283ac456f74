//! Settings (SPEC §4): every knob, its default, and its validation.
//!
//! [`Settings::default`] gives the documented defaults; [`Settings::load`]
//! reads `axes.toml` (or a given file) and `AXES_*` environment variables,
//! the environment winning. Unknown keys and bad values are errors that name
//! the key.

mod duration;
mod load;

use std::fmt;
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::{IpNet, Ipv6Net};

pub use duration::{MAX_DURATION, iso8601, parse_duration, to_chrono};
pub use load::{ENV_NOT_SETTINGS, ENV_PREFIX, SETTING_KEYS};

use crate::error::ConfigError;
use crate::parameters::{Field, LockoutParameters};

/// Which store keeps the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Handler {
    /// A SQL database (`database_url`).
    #[default]
    Database,
    /// Redis (`cache_url`).
    Cache,
    /// In-process memory (lost on restart; one process only).
    Memory,
    /// Nothing is stored and nothing is refused.
    Dummy,
}

impl Handler {
    /// The setting's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Handler::Database => "database",
            Handler::Cache => "cache",
            Handler::Memory => "memory",
            Handler::Dummy => "dummy",
        }
    }
}

impl std::str::FromStr for Handler {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "database" => Ok(Handler::Database),
            "cache" => Ok(Handler::Cache),
            "memory" => Ok(Handler::Memory),
            "dummy" => Ok(Handler::Dummy),
            other => Err(format!(
                "unknown handler `{other}` (expected database, cache, memory or dummy)"
            )),
        }
    }
}

/// A secret value: shown as `[redacted]` in `Debug` output and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// All settings, with the defaults of SPEC §4.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Off: axes records nothing and refuses nothing.
    pub enabled: bool,
    /// Failures before lockout (at least 1).
    pub failure_limit: u32,
    /// Off: count and log, never refuse.
    pub lock_out_at_failure: bool,
    /// How long failures count; `None` = until reset.
    pub cooloff_time: Option<Duration>,
    /// Which properties identify an attacker.
    pub lockout_parameters: LockoutParameters,
    /// A successful login deletes the client's failures.
    pub reset_on_success: bool,
    /// A failed attempt during lockout restarts the cool-off.
    pub reset_cool_off_on_failure_during_lockout: bool,
    /// Which store keeps the records.
    pub handler: Handler,
    /// `sqlite://…`, `postgres://…` or `mysql://…`.
    pub database_url: Secret,
    /// `redis://…`, for the cache handler.
    pub cache_url: Secret,
    /// GET requests are never refused.
    pub never_lockout_get: bool,
    /// IPs of `ip_whitelist` are never refused.
    pub never_lockout_whitelist: bool,
    /// Only IPs of `ip_whitelist` may authenticate.
    pub only_whitelist: bool,
    /// Allowed IPs or CIDR blocks.
    pub ip_whitelist: Vec<IpNet>,
    /// Always refused IPs or CIDR blocks.
    pub ip_blacklist: Vec<IpNet>,
    /// Proxies whose forwarded header is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// The forwarded header read from trusted proxies.
    pub client_ip_header: String,
    /// IPv6 addresses are counted per prefix of this length.
    pub ipv6_prefix: u8,
    /// False: no IP is stored, shown or logged.
    pub store_ip_address: bool,
    /// Form field holding the username.
    pub username_form_field: String,
    /// Form field holding the password (never stored, never logged).
    pub password_form_field: String,
    /// Status of the lockout response.
    pub http_response_code: u16,
    /// Redirect there (with `?username=`) instead of a page.
    pub lockout_url: Option<String>,
    /// A template file for the lockout page.
    pub lockout_template: Option<PathBuf>,
    /// Message while a cool-off applies.
    pub cooloff_message: String,
    /// Message when the lockout lasts until reset.
    pub permalock_message: String,
    /// No access-log rows.
    pub disable_access_log: bool,
    /// Write failure-log rows.
    pub enable_access_failure_log: bool,
    /// Failure-log rows kept per username.
    pub access_failure_log_per_user_limit: u32,
    /// Request fields masked as `********` wherever stored.
    pub sensitive_parameters: Vec<String>,
    /// Key prefix in Redis.
    pub cache_prefix: String,
    /// Store unreachable: false = allow and log, true = refuse with 503.
    pub fail_closed: bool,
    /// Bound on one store call.
    pub store_timeout: Duration,
    /// Signs cookies, CSRF tokens and webhook payloads.
    pub secret_key: Option<Secret>,
    /// Bearer token for the service API.
    pub api_token: Option<Secret>,
    /// `name:argon2-hash` entries for the service's admin UI.
    pub admin_users: Vec<String>,
    /// POST lock events there.
    pub webhook_url: Option<String>,
    /// HMAC key for webhook payloads.
    pub webhook_secret: Option<Secret>,
    /// Progressive cool-off multiplier (1 = off).
    pub cooloff_multiplier: f64,
    /// Progressive cool-off cap.
    pub cooloff_max: Option<Duration>,
    /// OWASP device cookies.
    pub trusted_device: bool,
}

/// The shortest `secret_key` accepted (bytes): it signs session cookies and
/// CSRF tokens, so a short one could be guessed.
pub const MIN_SECRET_KEY_LEN: usize = 16;

/// An `api_token` shorter than this (characters) is warned about.
pub const MIN_API_TOKEN_LEN: usize = 32;

/// A `trusted_proxies` IPv4 block with a prefix shorter than this is warned
/// about (`0.0.0.0/0` … `/7`): it covers so much of the Internet that
/// clients inside it can choose their own IP with a forwarded header.
/// `10.0.0.0/8` is not.
pub const BROAD_IPV4_PREFIX: u8 = 8;

/// The same for IPv6 (`::/0` … `/15`), except blocks inside the private
/// `fc00::/7` or the link-local `fe80::/10` ranges.
pub const BROAD_IPV6_PREFIX: u8 = 16;

/// The default cool-off message.
pub const DEFAULT_COOLOFF_MESSAGE: &str =
    "Account locked: too many login attempts. Please try again later.";
/// The default permanent-lockout message.
pub const DEFAULT_PERMALOCK_MESSAGE: &str =
    "Account locked: too many login attempts. Contact an admin to unlock your account.";

impl Default for Settings {
    fn default() -> Self {
        Self {
            enabled: true,
            failure_limit: 3,
            lock_out_at_failure: true,
            cooloff_time: None,
            lockout_parameters: LockoutParameters::default(),
            reset_on_success: false,
            reset_cool_off_on_failure_during_lockout: true,
            handler: Handler::Database,
            database_url: Secret::new("sqlite://axes.db"),
            cache_url: Secret::new("redis://127.0.0.1:6379"),
            never_lockout_get: false,
            never_lockout_whitelist: false,
            only_whitelist: false,
            ip_whitelist: Vec::new(),
            ip_blacklist: Vec::new(),
            trusted_proxies: Vec::new(),
            client_ip_header: "X-Forwarded-For".into(),
            ipv6_prefix: 64,
            store_ip_address: true,
            username_form_field: "username".into(),
            password_form_field: "password".into(),
            http_response_code: 429,
            lockout_url: None,
            lockout_template: None,
            cooloff_message: DEFAULT_COOLOFF_MESSAGE.into(),
            permalock_message: DEFAULT_PERMALOCK_MESSAGE.into(),
            disable_access_log: false,
            enable_access_failure_log: false,
            access_failure_log_per_user_limit: 1000,
            sensitive_parameters: vec!["password".into()],
            cache_prefix: "axes:".into(),
            fail_closed: false,
            store_timeout: Duration::from_secs(2),
            secret_key: None,
            api_token: None,
            admin_users: Vec::new(),
            webhook_url: None,
            webhook_secret: None,
            cooloff_multiplier: 1.0,
            cooloff_max: None,
            trusted_device: false,
        }
    }
}

impl Settings {
    /// Checks the settings against each other and the rules no single value
    /// can break alone (durations within [`MAX_DURATION`], a cool-off longer
    /// than zero, a `secret_key` of at least [`MIN_SECRET_KEY_LEN`] bytes).
    /// Called by [`Settings::load`] and by [`Axes::builder`](crate::Axes::builder),
    /// so `axes check`, `axes serve` and `axes demo` all apply the same
    /// rules; call it yourself when you build settings in code.
    /// Messages never contain secret values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.store_ip_address && self.lockout_parameters.uses(Field::IpAddress) {
            return Err(ConfigError::Conflict(format!(
                "store_ip_address = false cannot lock out by IP address, but lockout_parameters = \"{}\" uses ip_address; \
                 lock out by username instead (lockout_parameters = [\"username\"])",
                self.lockout_parameters
            )));
        }
        if self.only_whitelist && self.ip_whitelist.is_empty() {
            return Err(ConfigError::Conflict(
                "only_whitelist = true with an empty ip_whitelist would refuse every login".into(),
            ));
        }
        if self.username_form_field == self.password_form_field {
            return Err(ConfigError::Conflict(
                "username_form_field and password_form_field must differ".into(),
            ));
        }
        for (key, value) in [
            ("cooloff_time", self.cooloff_time),
            ("cooloff_max", self.cooloff_max),
            ("store_timeout", Some(self.store_timeout)),
        ] {
            if let Some(d) = value {
                duration::within_cap(d)
                    .map_err(|reason| ConfigError::Conflict(format!("{key}: {reason}")))?;
            }
        }
        if self.cooloff_time.is_some_and(|d| d.is_zero()) {
            return Err(ConfigError::Conflict(format!(
                "cooloff_time: {}",
                load::ZERO_COOLOFF
            )));
        }
        if self.store_timeout.is_zero() {
            return Err(ConfigError::Conflict(
                "store_timeout: must be longer than zero".into(),
            ));
        }
        if let Some(key) = &self.secret_key
            && key.expose().len() < MIN_SECRET_KEY_LEN
        {
            return Err(ConfigError::Conflict(format!(
                "secret_key is shorter than {MIN_SECRET_KEY_LEN} bytes; use a long random value \
                 (e.g. `openssl rand -hex 32`), or leave it unset for a generated one"
            )));
        }
        Ok(())
    }

    /// Settings that are valid but probably a mistake, one sentence each:
    /// those with no effect yet, a `trusted_proxies` block so broad that
    /// clients can choose their own IP ([`BROAD_IPV4_PREFIX`],
    /// [`BROAD_IPV6_PREFIX`]), a short `api_token` ([`MIN_API_TOKEN_LEN`]).
    /// `axes check` prints them as `warning: …`; `axes serve` and `axes demo`
    /// log them at start-up. They never contain secret values.
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .inactive_settings()
            .into_iter()
            .map(|inactive| format!("{inactive} is set but has no effect in this version"))
            .collect();
        for net in self.trusted_proxies.iter().filter(|n| is_broad(n)) {
            out.push(format!(
                "trusted_proxies: {net} covers so many addresses that any client in it can \
                 choose its own IP by sending {}; list only your proxies' addresses",
                self.client_ip_header
            ));
        }
        if let Some(token) = &self.api_token
            && token.expose().chars().count() < MIN_API_TOKEN_LEN
        {
            out.push(format!(
                "api_token is shorter than {MIN_API_TOKEN_LEN} characters; use a long random value \
                 (e.g. `openssl rand -hex 32`)"
            ));
        }
        out
    }

    /// The cool-off as a `chrono` duration (saturating at [`MAX_DURATION`]:
    /// a long cool-off never turns into none).
    pub fn cooloff(&self) -> Option<chrono::Duration> {
        self.cooloff_time.map(to_chrono)
    }

    /// Whether `name` is a request field whose value must be masked.
    pub fn is_sensitive(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case("password")
            || name == self.password_form_field
            || self
                .sensitive_parameters
                .iter()
                .any(|p| p.eq_ignore_ascii_case(name))
    }

    /// Settings that are accepted but have no effect yet in this version,
    /// with their non-default values (for `axes check` and start-up warnings).
    pub fn inactive_settings(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.cooloff_multiplier != 1.0 || self.cooloff_max.is_some() {
            out.push("cooloff_multiplier/cooloff_max (progressive cool-off)");
        }
        if self.trusted_device {
            out.push("trusted_device");
        }
        if self.webhook_url.is_some() {
            out.push("webhook_url");
        }
        out
    }
}

/// Whether a trusted proxy block is so broad that clients inside it could
/// choose their own IP (see [`BROAD_IPV4_PREFIX`], [`BROAD_IPV6_PREFIX`]).
fn is_broad(net: &IpNet) -> bool {
    // Unique local (fc00::/7) and link-local (fe80::/10): private however
    // short the prefix. Checked at compile time.
    const PRIVATE_V6: [Ipv6Net; 2] = [
        Ipv6Net::new_assert(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
        Ipv6Net::new_assert(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
    ];
    match net {
        IpNet::V4(v4) => v4.prefix_len() < BROAD_IPV4_PREFIX,
        IpNet::V6(v6) => {
            v6.prefix_len() < BROAD_IPV6_PREFIX && !PRIVATE_V6.iter().any(|p| p.contains(v6))
        }
    }
}
