//! Settings (SPEC §4): every knob, its default, and its validation.
//!
//! Each setting is defined once, in the `settings!` invocation below: its
//! field, default, documented default, whether it is a secret, its parser
//! and its meaning. The [`Settings`] struct, its `Default`,
//! [`SETTING_KEYS`], the setter used by [`Settings::load`], the secrets
//! ([`Settings::secret_values`]) and the tables of `docs/settings.md`
//! ([`REFERENCE`], [`reference_table`]; a test compares them) all follow.
//!
//! [`Settings::default`] gives the documented defaults; [`Settings::load`]
//! reads `axes.toml` (or a given file) and `AXES_*` environment variables,
//! the environment winning. Unknown keys and bad values are errors that name
//! the key; django-axes names that axes replaced, and settings this version
//! does not have, are errors that say what to write instead.

mod define;
mod duration;
mod load;
mod unsupported;

use std::fmt;
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::{IpNet, Ipv6Net};

pub use define::{Reference, SECRET_NOTE, Section, UNSET_WORDS, table as reference_table};
pub use duration::{MAX_DURATION, iso8601, parse_duration, to_chrono};
pub use load::{ENV_PREFIX, is_setting_var};
pub use unsupported::{DJANGO_HANDLERS, UNSUPPORTED};

use define::{push_secret, secret_flag, settings};

use crate::error::ConfigError;
use crate::events::EventKind;
use crate::parameters::{Field, LockoutParameters};
use crate::rules::LockoutRule;

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
            other => Err(
                match DJANGO_HANDLERS.iter().find(|(class, _)| *class == other) {
                    Some((_, ours)) => {
                        format!("`{other}` is a django-axes handler; write handler = \"{ours}\"")
                    }
                    None => format!(
                        "unknown handler `{other}` (expected database, cache, memory or dummy)"
                    ),
                },
            ),
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

settings! {
    /// Off: axes records nothing and refuses nothing.
    enabled: bool = true, Lockout, "true", plain, load::boolean;
    /// Failures before lockout (1 – 1 000 000). The failure that reaches
    /// the limit already gets the lockout response.
    failure_limit: u32 = 3, Lockout, "3", plain, load::integer::<u32, 1, 1_000_000>;
    /// Off: failures are counted and logged, but nobody is refused.
    lock_out_at_failure: bool = true, Lockout, "true", plain, load::boolean;
    /// How long failures count. Each failure refreshes the window of its
    /// record (an attempt given back — right password, or a check that
    /// could not run — does not); the lockout lifts once the count inside
    /// the window drops under the limit. None: a lockout lasts until reset.
    /// Longer than zero (a zero would mean "until reset": write `"none"`
    /// for that) and at most 100 years.
    cooloff_time: Option<Duration> = None, Lockout, "none", plain, load::cooloff;
    /// Which properties identify an attacker; see below.
    lockout_parameters: LockoutParameters = LockoutParameters::default(),
        Lockout, "[\"ip_address\"]", plain, load::lockout_parameters;
    /// Progressive cool-off (1 – 1000): the 2nd lockout of a key within
    /// `lockout_memory` lasts `cooloff_time` × this, the 3rd × this², …, up
    /// to `cooloff_max`; `Retry-After` and the lockout page tell the real
    /// time. 1: every lockout lasts `cooloff_time`. Above 1 it needs
    /// `cooloff_time`.
    cooloff_multiplier: f64 = 1.0, Lockout, "1", plain, load::multiplier;
    /// No progressive cool-off lasts longer than this; at least
    /// `cooloff_time`, and it needs `cooloff_time` and a
    /// `cooloff_multiplier` above 1. None: no cap (but 100 years).
    cooloff_max: Option<Duration> = None, Lockout, "none", plain, load::optional_positive_duration;
    /// How long a key's lockouts count for the next one
    /// (`cooloff_multiplier`, `permanent_lockout_after`), from the end of
    /// its latest lockout; a quiet key starts again at its first. `axes purge` (and
    /// `--purge-interval`) forgets older lockouts.
    lockout_memory: Duration = Duration::from_secs(24 * 60 * 60),
        Lockout, "24h", plain, load::positive_duration;
    /// The Nth lockout of a key within `lockout_memory` lasts until a reset
    /// (permanent-lockout message, no `Retry-After`); 1 makes every lockout
    /// permanent. Needs `cooloff_time` (without one, every lockout lasts
    /// until a reset anyway). None: lockouts end after their cool-off.
    /// Under `username` lockout anyone who knows a name can drive it there
    /// (SECURITY.md, "Blocks and progressive lockouts").
    permanent_lockout_after: Option<u32> = None,
        Lockout, "none", plain, load::optional_integer::<1, 1_000_000>;
    /// Layered rules: several limits at once, each with its own
    /// parameters, failure limit and cool-off, e.g. `ip_address:100/24h,
    /// ip_address+username:5/15m` — in the environment, rules separated by
    /// `,`, fields of a combination by `+`, no `/cool-off` for lockouts
    /// until reset; in TOML, `[[lockout_rules]]` tables with `parameters`,
    /// `failure_limit` and `cooloff_time` ([layered rules](#layered-rules)). Each
    /// rule counts apart, a client is refused when any rule has reached its
    /// limit, and an attempt is admitted only when every rule admits it.
    /// Replaces `lockout_parameters`, `failure_limit` and `cooloff_time`
    /// (setting both is an error); at most 8 rules; not with the progressive
    /// cool-off, nor with the engine's per-attempt limit and cool-off hooks.
    lockout_rules: Vec<LockoutRule> = Vec::new(), Lockout, "[]", plain, load::lockout_rules;
    /// Trusted devices (OWASP's device cookies): after a successful login
    /// the browser gets `axes_device`, a signed cookie (HttpOnly,
    /// SameSite=Lax) bound to that username, expiring after
    /// `trusted_device_ttl`. Attempts that carry a valid one are counted on
    /// their own — same rules and limits, per device — and are not refused
    /// by a lockout that attempts without it caused, nor by lockout history;
    /// manual blocks and the IP lists still refuse them. Forged, expired or
    /// foreign cookies count as none. Signed with `secret_key` (`axes
    /// serve` generates one).
    trusted_device: bool = false, Lockout, "false", plain, load::boolean;
    /// Lifetime of a device cookie (at most 400 days, browsers' cap).
    trusted_device_ttl: Duration = Duration::from_secs(30 * 24 * 60 * 60),
        Lockout, "30d", plain, load::positive_duration;
    /// A successful login deletes the failures of that username from that
    /// client — every record matching it on any alternative, narrowed to
    /// the username: failures on other names from the same address stay
    /// (a sprayer with an account of their own cannot reset its address by
    /// logging in to it), and so does their lockout history.
    reset_on_success: bool = false, Lockout, "false", plain, load::boolean;
    /// A refused attempt during a lockout is counted and restarts the
    /// cool-off. Off: it is refused without being counted, so the lockout
    /// ends a cool-off after the failure that caused it.
    reset_cool_off_on_failure_during_lockout: bool = true,
        Lockout, "true", plain, load::boolean;

    /// `database` (SQL, `database_url`), `cache` (Redis, `cache_url`),
    /// `memory` (in-process, one process only, lost on restart), `dummy`
    /// (keeps nothing, so it counts no failures and locks no one out; the
    /// IP allow and deny lists still apply — `enabled = false` turns axes
    /// off).
    handler: Handler = Handler::Database, Storage, "database", plain, load::handler;
    /// `sqlite://FILE` (created on first use), `postgres://…`, `mysql://…`.
    database_url: Secret = Secret::new("sqlite://axes.db"),
        Storage, "sqlite://axes.db", secret, load::database_url;
    /// Redis for `handler = cache`.
    cache_url: Secret = Secret::new("redis://127.0.0.1:6379"),
        Storage, "redis://127.0.0.1:6379", secret, load::cache_url;
    /// Key prefix in Redis (≤ 64 characters, no spaces).
    cache_prefix: String = "axes:".into(), Storage, "axes:", plain, load::cache_prefix;
    /// When the store is unreachable or times out: `false` lets logins
    /// through unprotected (and logs one line per outage); `true` refuses
    /// them with 503.
    fail_closed: bool = false, Storage, "false", plain, load::boolean;
    /// Bound on one store call.
    store_timeout: Duration = Duration::from_secs(2),
        Storage, "2s", plain, load::positive_duration;
    /// Attempt records `handler = memory` keeps at most (1000–100000000).
    /// At the bound, expired records and then records below the limit make
    /// room, never a record that locks a client; when every record locks,
    /// a new client follows `fail_closed`. About 135–226 MiB per 500 000
    /// records under a flood ([deployment](deployment.md#the-memory-store)).
    memory_max_records: u32 = 500_000,
        Storage, "500000", plain, load::integer::<u32, 1_000, 100_000_000>;

    /// CIDR blocks whose forwarded header is believed. The client IP is the
    /// socket peer unless that peer is a trusted proxy; then it is the
    /// right-most address of `client_ip_header` that is not itself a
    /// trusted proxy. A client cannot choose its IP by sending a header —
    /// unless it is inside a trusted block, so list your proxies only: a
    /// block so broad that clients are inside it is
    /// [warned about](#warnings).
    trusted_proxies: Vec<IpNet> = Vec::new(), Clients, "[]", plain, load::networks;
    /// The forwarded header read from trusted proxies.
    client_ip_header: String = "X-Forwarded-For".into(),
        Clients, "X-Forwarded-For", plain, load::header_name;
    /// IPv6 clients are counted per network of this many bits (1–128); 128
    /// counts each address alone. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is
    /// always folded to IPv4.
    ipv6_prefix: u8 = 64, Clients, "64", plain, load::integer::<u8, 1, 128>;
    /// `false`: no IP address is stored, shown or logged (GDPR mode).
    /// Locking out by IP is then impossible, and `lockout_parameters` using
    /// `ip_address` is refused at start-up. Allow and deny lists still
    /// work: the IP is looked at, never kept.
    store_ip_address: bool = true, Clients, "true", plain, load::boolean;
    /// Form (or JSON) field holding the username.
    username_form_field: String = "username".into(),
        Clients, "username", plain, load::field_name;
    /// Form field holding the password: never stored, never logged.
    password_form_field: String = "password".into(),
        Clients, "password", plain, load::field_name;
    /// Request fields whose values are stored as `********`. The password
    /// field is always masked.
    sensitive_parameters: Vec<String> = vec!["password".into()],
        Clients, "[\"password\"]", plain, load::list;

    /// IPs or CIDR blocks.
    ip_whitelist: Vec<IpNet> = Vec::new(), Lists, "[]", plain, load::networks;
    /// IPs or CIDR blocks that are always refused (with the permanent
    /// message), whatever the password, and never recorded.
    ip_blacklist: Vec<IpNet> = Vec::new(), Lists, "[]", plain, load::networks;
    /// IPs of `ip_whitelist` are never refused and their failures not
    /// counted.
    never_lockout_whitelist: bool = false, Lists, "false", plain, load::boolean;
    /// Only IPs of `ip_whitelist` may authenticate at all; everyone else is
    /// refused. Requires a non-empty `ip_whitelist`.
    only_whitelist: bool = false, Lists, "false", plain, load::boolean;
    /// GET requests are never refused nor counted.
    never_lockout_get: bool = false, Lists, "false", plain, load::boolean;

    /// Status of the lockout response (200–599). A refusal because the
    /// store is down (`fail_closed`) is always 503.
    http_response_code: u16 = 429,
        Responses, "429", plain, load::integer::<u16, 200, 599>;
    /// Redirect refused clients there, with `?username=…`, instead of a
    /// page.
    lockout_url: Option<String> = None, Responses, "none", plain, load::lockout_url;
    /// A template file for the lockout page: Jinja2-style
    /// ([minijinja](https://docs.rs/minijinja)), with `message`,
    /// `failure_limit`, `failures`, `username`, `cooloff_time` and
    /// `retry_after`; escaped; a syntax error stops start-up.
    lockout_template: Option<PathBuf> = None,
        Responses, "built-in", plain, load::optional_path;
    /// Shown while a cool-off applies.
    cooloff_message: String = DEFAULT_COOLOFF_MESSAGE.into(),
        Responses, DEFAULT_COOLOFF_MESSAGE, plain, load::bounded_text;
    /// Shown when the lockout lasts until reset.
    permalock_message: String = DEFAULT_PERMALOCK_MESSAGE.into(),
        Responses, DEFAULT_PERMALOCK_MESSAGE, plain, load::bounded_text;
    /// A refused attempt (locked out, or refused by the IP lists) gets the
    /// same answer as a wrong password, so a guesser cannot tell that the
    /// lockout began (Keycloak's option). The credentials are still not
    /// checked, and the lockout is still recorded, logged and sent as a
    /// `locked_out` event. A store outage (`fail_closed`) and an
    /// unattributable request still get their own answers.
    hide_lockout: bool = false, Responses, "false", plain, load::boolean;

    /// No access-log rows (one row per successful login, with its logout
    /// time and a SHA-256 hash of the session id).
    disable_access_log: bool = false, Logs, "false", plain, load::boolean;
    /// One failure-log row per failed attempt, with whether it was locked
    /// out.
    enable_access_failure_log: bool = false, Logs, "false", plain, load::boolean;
    /// Failure-log rows kept per username; the oldest are dropped.
    access_failure_log_per_user_limit: u32 = 1000,
        Logs, "1000", plain, load::integer::<u32, 1, 10_000_000>;

    /// Signs session cookies and CSRF tokens. At least 16 bytes (shorter is
    /// an error). When unset, `axes serve` generates one (64 hex digits)
    /// into `axes.secret` in the data folder on first start, mode 0600.
    secret_key: Option<Secret> = None, Service, "generated", secret, load::optional_secret;
    /// Bearer token for the service API: when set, every `/api/v1` call
    /// needs `Authorization: Bearer <api_token>` (401 without); required to
    /// listen beyond loopback. Unset, the API answers anyone who can reach
    /// the loopback address. Shorter than 32 characters is
    /// [warned about](#warnings).
    api_token: Option<Secret> = None, Service, "none", secret, load::optional_secret;
    /// How long `axes serve` holds a reservation of the service API
    /// (`POST /api/v1/attempts/begin`) open for its `finish`; one not
    /// finished in time counts as a failed login. Longer than zero, at most
    /// a day.
    api_reservation_timeout: Duration = Duration::from_secs(30),
        Service, "30s", plain, load::positive_duration;
    /// The most reservations of the service API open at once; while that
    /// many are, `begin` answers 503 (an open one is never dropped to make
    /// room).
    api_max_reservations: u32 = 10_000,
        Service, "10000", plain, load::integer::<u32, 1, 1_000_000>;
    /// `name:argon2-hash` entries for the service's admin UI; make a hash
    /// with `axes hash-password`.
    admin_users: Vec<String> = Vec::new(), Service, "[]", secret, load::admin_users;
    /// `axes serve` and `axes demo` POST each event of `webhook_events`
    /// there as JSON ([operations](operations.md#webhooks)): queued,
    /// retried with back-off, never delaying a login. `http://` or
    /// `https://`; a secret, since such URLs often carry a token.
    webhook_url: Option<Secret> = None, Service, "none", secret, load::webhook_url;
    /// Signs each webhook body: header `X-Axes-Signature:
    /// sha256=<hex HMAC-SHA256 of the body>`. At least 16 bytes; needs
    /// `webhook_url`.
    webhook_secret: Option<Secret> = None, Service, "none", secret, load::optional_secret;
    /// The events sent to `webhook_url`, by their snake_case names
    /// ([the list](operations.md#webhooks); an unknown name is refused with
    /// the known ones). Not empty when `webhook_url` is set.
    webhook_events: Vec<EventKind> = vec![EventKind::LockedOut],
        Service, "[\"locked_out\"]", plain, load::event_kinds;
}

/// The longest `trusted_device_ttl`: browsers cap cookies at 400 days.
pub const MAX_TRUSTED_DEVICE_TTL: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// The largest `cooloff_multiplier`.
pub const MAX_COOLOFF_MULTIPLIER: f64 = 1000.0;

/// The shortest `secret_key` accepted (bytes): it signs session cookies and
/// CSRF tokens, so a short one could be guessed.
pub const MIN_SECRET_KEY_LEN: usize = 16;

/// The longest `api_reservation_timeout` (a day).
pub const MAX_API_RESERVATION_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

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

impl Settings {
    /// Checks the settings against each other and the rules no single value
    /// can break alone (durations within [`MAX_DURATION`], a cool-off longer
    /// than zero, a `secret_key` of at least [`MIN_SECRET_KEY_LEN`] bytes).
    /// Called by [`Settings::load`] and by [`Axes::builder`](crate::Axes::builder),
    /// so `axes check`, `axes serve` and `axes demo` all apply the same
    /// rules; call it yourself when you build settings in code.
    /// Messages never contain secret values.
    /// `lockout_rules` replaces `lockout_parameters`, `failure_limit` and
    /// `cooloff_time`, and the progressive cool-off (which multiplies
    /// `cooloff_time`) does not combine with it.
    fn validate_rules(&self) -> Result<(), ConfigError> {
        if self.trusted_device_ttl > MAX_TRUSTED_DEVICE_TTL {
            return Err(ConfigError::Conflict(
                "trusted_device_ttl: at most 400 days (browsers keep no cookie longer)".into(),
            ));
        }
        let defaults = Settings::default();
        if !self.trusted_device && self.trusted_device_ttl != defaults.trusted_device_ttl {
            return Err(ConfigError::Conflict(
                "trusted_device_ttl is set but trusted_device is off: no device cookie is issued"
                    .into(),
            ));
        }
        if self.lockout_rules.is_empty() {
            return Ok(());
        }
        if self.lockout_parameters != defaults.lockout_parameters
            || self.failure_limit != defaults.failure_limit
            || self.cooloff_time.is_some()
        {
            return Err(ConfigError::Conflict(
                "lockout_rules replaces lockout_parameters, failure_limit and cooloff_time: \
                 set either lockout_rules or those, not both"
                    .into(),
            ));
        }
        if self.cooloff_multiplier > 1.0
            || self.cooloff_max.is_some()
            || self.permanent_lockout_after.is_some()
        {
            return Err(ConfigError::Conflict(
                "cooloff_multiplier, cooloff_max and permanent_lockout_after apply to \
                 cooloff_time and are not available with lockout_rules"
                    .into(),
            ));
        }
        if !self.store_ip_address
            && let Some(rule) = self
                .lockout_rules
                .iter()
                .find(|r| r.parameters.uses(Field::IpAddress))
        {
            return Err(ConfigError::Conflict(format!(
                "store_ip_address = false cannot lock out by IP address, but the lockout rule \
                 `{rule}` uses ip_address"
            )));
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_rules()?;
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
            ("store_timeout", Some(self.store_timeout)),
            (
                "api_reservation_timeout",
                Some(self.api_reservation_timeout),
            ),
        ] {
            if let Some(d) = value {
                duration::within_cap(d)
                    .map_err(|reason| ConfigError::Conflict(format!("{key}: {reason}")))?;
            }
        }
        self.validate_escalation()?;
        if self.cooloff_time.is_some_and(|d| d.is_zero()) {
            return Err(ConfigError::Conflict(format!(
                "cooloff_time: {}",
                load::ZERO_COOLOFF
            )));
        }
        if self.api_reservation_timeout.is_zero()
            || self.api_reservation_timeout > MAX_API_RESERVATION_TIMEOUT
        {
            return Err(ConfigError::Conflict(
                "api_reservation_timeout: must be longer than zero and at most 24h".into(),
            ));
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
        if let Some(secret) = &self.webhook_secret
            && secret.expose().len() < MIN_SECRET_KEY_LEN
        {
            return Err(ConfigError::Conflict(format!(
                "webhook_secret is shorter than {MIN_SECRET_KEY_LEN} bytes; use a long random value \
                 (e.g. `openssl rand -hex 32`)"
            )));
        }
        if self.webhook_url.is_none() && self.webhook_secret.is_some() {
            return Err(ConfigError::Conflict(
                "webhook_secret is set without webhook_url: nothing would be signed".into(),
            ));
        }
        if self.webhook_url.is_some() && self.webhook_events.is_empty() {
            return Err(ConfigError::Conflict(
                "webhook_events is empty: webhook_url would receive nothing".into(),
            ));
        }
        Ok(())
    }

    /// The rules of the progressive cool-off and the permanent lockout:
    /// each setting has an effect, or is refused.
    fn validate_escalation(&self) -> Result<(), ConfigError> {
        let m = self.cooloff_multiplier;
        if !m.is_finite() || !(1.0..=MAX_COOLOFF_MULTIPLIER).contains(&m) {
            return Err(ConfigError::Conflict(format!(
                "cooloff_multiplier: must be between 1 and {MAX_COOLOFF_MULTIPLIER}"
            )));
        }
        for (key, value) in [
            ("cooloff_max", self.cooloff_max),
            ("lockout_memory", Some(self.lockout_memory)),
        ] {
            if let Some(d) = value {
                duration::within_cap(d)
                    .map_err(|reason| ConfigError::Conflict(format!("{key}: {reason}")))?;
                if d.is_zero() {
                    return Err(ConfigError::Conflict(format!(
                        "{key}: must be longer than zero"
                    )));
                }
            }
        }
        if self.permanent_lockout_after == Some(0) {
            return Err(ConfigError::Conflict(
                "permanent_lockout_after: must be at least 1 (or unset)".into(),
            ));
        }
        match (self.cooloff_time, self.cooloff_max) {
            (None, Some(_)) => {
                return Err(ConfigError::Conflict(
                    "cooloff_max is set without cooloff_time: lockouts already last until a \
                     reset, so it would have no effect"
                        .into(),
                ));
            }
            (Some(c), Some(max)) if max < c => {
                return Err(ConfigError::Conflict(format!(
                    "cooloff_max ({}) is shorter than cooloff_time ({}): no lockout could last \
                     that long; raise cooloff_max or leave it unset",
                    humantime::format_duration(max),
                    humantime::format_duration(c)
                )));
            }
            (Some(_), Some(_)) if m <= 1.0 => {
                return Err(ConfigError::Conflict(
                    "cooloff_max is set with cooloff_multiplier = 1: no lockout grows past \
                     cooloff_time, so it would have no effect"
                        .into(),
                ));
            }
            _ => {}
        }
        if self.cooloff_time.is_none() && self.permanent_lockout_after.is_some() {
            return Err(ConfigError::Conflict(
                "permanent_lockout_after is set without cooloff_time: every lockout already \
                 lasts until a reset, so it would have no effect"
                    .into(),
            ));
        }
        if self.cooloff_time.is_none() && m > 1.0 {
            return Err(ConfigError::Conflict(
                "cooloff_multiplier > 1 without cooloff_time: lockouts already last until a \
                 reset, so it would have no effect (use permanent_lockout_after for lockouts \
                 that end in a permanent one)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The progressive cool-off and permanent lockout, with `cooloff` as
    /// the first lockout's cool-off (`cooloff_time`, or the per-attempt
    /// hook's); `None` when neither `cooloff_multiplier > 1` nor
    /// `permanent_lockout_after` is set: lockouts are then never recorded.
    pub fn escalation(
        &self,
        cooloff: Option<chrono::Duration>,
    ) -> Option<crate::blocks::Escalation> {
        if self.cooloff_multiplier <= 1.0 && self.permanent_lockout_after.is_none() {
            return None;
        }
        Some(crate::blocks::Escalation {
            cooloff,
            multiplier: self.cooloff_multiplier,
            max: self.cooloff_max.map(to_chrono),
            memory: to_chrono(self.lockout_memory),
            permanent_after: self.permanent_lockout_after,
        })
    }

    /// Settings that are valid but probably a mistake, one sentence each:
    /// a `trusted_proxies` block so broad that
    /// clients can choose their own IP ([`BROAD_IPV4_PREFIX`],
    /// [`BROAD_IPV6_PREFIX`]), a short `api_token` ([`MIN_API_TOKEN_LEN`]).
    /// `axes check` prints them as `warning: …`; `axes serve` and `axes demo`
    /// log them at start-up. They never contain secret values.
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
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

#[cfg(test)]
mod reference_tests;
