//! The request and answer bodies of `/api/v1`, with their bounds and their
//! OpenAPI schemas.

use std::net::IpAddr;

use axes_core::{Attempt, Lockout};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
use utoipa::{IntoParams, ToSchema};

use super::errors::ApiError;

/// The longest username accepted, in characters (the engine counts the
/// first 255 of its normalised form).
pub const MAX_USERNAME_CHARS: usize = 1024;
/// The longest user agent, path or session id accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 1024;
/// The longest `device_token` accepted, in characters.
pub const MAX_DEVICE_TOKEN_CHARS: usize = axes_core::device::MAX_TOKEN_CHARS;

/// One login attempt, as the app saw it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptInput {
    /// The client's IP address (IPv4 or IPv6), as the app resolved it.
    #[schema(schema_with = ip_schema)]
    pub ip_address: String,
    /// The username as typed; normalised by axes (trimmed, lowercased,
    /// NFKC) exactly as the Rust integration does. May be empty when
    /// locking out by IP only. At most 1024 characters.
    #[schema(
        example = "alice",
        max_length = 1024,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub username: String,
    /// The client's `User-Agent`. At most 1024 characters.
    #[schema(max_length = 1024, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub user_agent: Option<String>,
    /// The login path. At most 1024 characters.
    #[schema(
        example = "/login",
        max_length = 1024,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub path: Option<String>,
    /// The value of the client's `axes_device` cookie, if it sent one
    /// (`trusted_device`): the `device_token` a successful `finish`
    /// answered earlier. A valid one for this username is counted on its
    /// own, so a lockout others caused does not refuse it; a forged,
    /// expired or foreign one counts as none. At most 128 characters.
    #[serde(default)]
    #[schema(max_length = 128, pattern = "^[A-Za-z0-9_-]*$")]
    pub device_token: Option<String>,
}

/// An IP address field: an IPv4 or an IPv6 address.
fn ip_schema() -> RefOr<Schema> {
    let text = |format: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom(format.to_owned())))
    };
    OneOfBuilder::new()
        .item(text("ipv4"))
        .item(text("ipv6"))
        .description(Some("An IPv4 or IPv6 address"))
        .examples([serde_json::json!("203.0.113.7")])
        .into()
}

fn bounded(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("longer than {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::invalid(field, "contains control characters"));
    }
    Ok(())
}

/// The client IP of a field: a plain IPv4 or IPv6 address.
pub fn parse_ip(field: &str, text: &str) -> Result<IpAddr, ApiError> {
    if text.len() > 64 {
        return Err(ApiError::invalid(field, "not an IP address"));
    }
    text.parse::<IpAddr>()
        .map_err(|_| ApiError::invalid(field, "not an IP address"))
}

impl AttemptInput {
    /// Validates every field and builds the engine's attempt.
    pub fn attempt(&self) -> Result<Attempt, ApiError> {
        let ip = parse_ip("ip_address", &self.ip_address)?;
        bounded("username", &self.username, MAX_USERNAME_CHARS)?;
        let mut attempt = Attempt::new().ip_address(ip).username(&self.username);
        if let Some(ua) = &self.user_agent {
            bounded("user_agent", ua, MAX_TEXT_CHARS)?;
            attempt = attempt.user_agent(ua);
        }
        if let Some(path) = &self.path {
            bounded("path", path, MAX_TEXT_CHARS)?;
            attempt = attempt.path(path);
        }
        if let Some(token) = &self.device_token {
            bounded("device_token", token, MAX_DEVICE_TOKEN_CHARS)?;
            attempt = attempt.device_token(token);
        }
        Ok(attempt)
    }
}

/// An after-the-fact report of a login or logout.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// The client's IP address.
    #[schema(schema_with = ip_schema)]
    pub ip_address: String,
    /// The username that signed in or out.
    #[schema(
        example = "alice",
        max_length = 1024,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub username: String,
    /// The client's `User-Agent`.
    #[schema(max_length = 1024, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub user_agent: Option<String>,
    /// The path.
    #[schema(max_length = 1024, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub path: Option<String>,
    /// The app's session id: stored only as its SHA-256 hash, so that a
    /// logout closes the access-log row of that session.
    #[schema(max_length = 1024, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub session_id: Option<String>,
}

impl ReportInput {
    /// Validates every field: the attempt and the session id.
    pub fn attempt(&self) -> Result<(Attempt, Option<&str>), ApiError> {
        let attempt = AttemptInput {
            ip_address: self.ip_address.clone(),
            username: self.username.clone(),
            user_agent: self.user_agent.clone(),
            path: self.path.clone(),
            device_token: None,
        }
        .attempt()?;
        if let Some(s) = &self.session_id {
            bounded("session_id", s, MAX_TEXT_CHARS)?;
        }
        Ok((attempt, self.session_id.as_deref()))
    }
}

/// Whether a client may try to log in now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Decision {
    /// `false`: refuse the login (locked out, denied, or the store is down
    /// with `fail_closed`).
    pub allowed: bool,
    /// Failures counted for the client.
    pub failures: u32,
    /// The failure limit that applies.
    pub failure_limit: u32,
    /// Seconds until the lockout lifts (absent: not locked, or until reset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The message to show a refused client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Decision {
    /// Allowed, with `failures` counted.
    pub fn allowed(failures: u32, failure_limit: u32) -> Self {
        Self {
            allowed: true,
            failures,
            failure_limit,
            retry_after: None,
            message: None,
        }
    }

    /// Refused by `lockout`.
    pub fn refused(lockout: &Lockout) -> Self {
        Self {
            allowed: false,
            failures: lockout.failures,
            failure_limit: lockout.failure_limit,
            retry_after: lockout.retry_after_secs(),
            message: Some(lockout.message.clone()),
        }
    }
}

/// The answer of `attempts/begin`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BeginAnswer {
    /// The reservation to finish (only when admitted): 32 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "9f1c2e0b7a4d4c5e8f6a1b2c3d4e5f60")]
    pub id: Option<String>,
    /// `true`: check the password of exactly the username sent, then
    /// finish. `false`: refuse the login without checking it.
    pub admitted: bool,
    /// Failures counted for the client, this attempt included.
    pub failures: u32,
    /// The failure limit that applies.
    pub failure_limit: u32,
    /// Seconds until the lockout lifts (refused only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The message to show a refused client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The outcome of the password check of a reservation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishInput {
    /// `true`: the password was right.
    pub success: bool,
    /// Optional: the username checked. When sent it must be the one the
    /// reservation was made for (after normalisation), else 409.
    #[schema(max_length = 1024, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub username: Option<String>,
}

/// The answer of `attempts/{id}/finish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FinishAnswer {
    /// `true`: this failure reached the limit; the client is now locked out.
    pub locked_out: bool,
    /// Failures counted for the client (failures only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures: Option<u32>,
    /// Seconds until the lockout lifts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The message to show a locked-out client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// After a success with `trusted_device` on: a new device token for
    /// the username. Set it as the client's cookie (`axes_device`,
    /// HttpOnly, SameSite=Lax, Secure over HTTPS, Max-Age
    /// `trusted_device_ttl`) and send its value as `device_token` to
    /// `begin` next time. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}

/// How many records a reset removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Removed {
    /// Records removed.
    pub removed: u64,
}

/// An after-the-fact report was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Recorded {
    /// Always `true`.
    pub recorded: bool,
}

/// Filters of `GET /api/v1/attempts` (AND semantics; empty = absent).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this IP address.
    #[param(schema_with = ip_schema)]
    pub ip_address: Option<String>,
    /// Only this username (normalised as logins are).
    #[param(max_length = 1024)]
    pub username: Option<String>,
    /// Page size, 1 – 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// Records to skip, at most 1 000 000 000.
    #[param(maximum = 1_000_000_000)]
    pub offset: Option<u64>,
}

/// Filters of `DELETE /api/v1/attempts` (AND semantics; empty = absent).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResetParams {
    /// Only this IP address.
    #[param(schema_with = ip_schema)]
    pub ip_address: Option<String>,
    /// Only this username (normalised as logins are).
    #[param(max_length = 1024)]
    pub username: Option<String>,
    /// `true`: with no filter, delete every attempt (with a filter it
    /// changes nothing). Without a filter and without `all=true` the call
    /// is refused (422).
    pub all: Option<bool>,
}

/// `DELETE /api/v1/logs`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogsParams {
    /// Delete access-log rows older than this many days (default 30, as
    /// `axes reset-logs`); 0 deletes them all. At most 36500.
    #[param(maximum = 36500)]
    pub age_days: Option<u32>,
}

/// One attempt record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AttemptItem {
    /// The record's id.
    pub id: String,
    /// The client IP (absent with `store_ip_address = false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The normalised username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The user agent.
    pub user_agent: String,
    /// The path of the last attempt.
    pub path: String,
    /// Failures counted.
    pub failures: u32,
    /// Time of the last failure (RFC 3339).
    pub attempt_time: String,
}

/// A page of attempt records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AttemptList {
    /// The records of this page, newest first.
    pub items: Vec<AttemptItem>,
    /// Records matching the filters in all pages.
    pub total: u64,
}

/// An empty query value means "no filter".
pub fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `POST /api/v1/blocks`: what to block, and for how long.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockInput {
    /// Block this IP address (with `username`: only the pair).
    #[schema(schema_with = ip_schema)]
    pub ip_address: Option<String>,
    /// Block this username (normalised as logins are; with `ip_address`:
    /// only the pair).
    #[schema(
        example = "mallory",
        max_length = 1024,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub username: Option<String>,
    /// How long, in seconds (at most 100 years). Neither this nor
    /// `duration`: until unblocked.
    #[schema(minimum = 1, example = 7200)]
    pub duration_seconds: Option<u64>,
    /// How long, as the settings write durations: `"30m"`, `"2h"`, `"7d"`
    /// (a bare number is hours). Not with `duration_seconds`.
    #[schema(example = "2h", max_length = 64)]
    pub duration: Option<String>,
}

/// A block: a manual one, or a key's lockout history (progressive
/// cool-off).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BlockItem {
    /// `manual` (set by an operator) or `lockout` (lockout history).
    #[schema(example = "manual")]
    pub kind: String,
    /// The blocked IP address (absent: any IP, or `store_ip_address = false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The blocked username (absent: any username).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The blocked user agent (lockout rows of a `user_agent` rule only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Refuses until then (RFC 3339); `null`: until unblocked (or, for a
    /// lockout row, until a reset).
    pub until: Option<String>,
    /// When it was set (lockout rows: the latest lockout), RFC 3339.
    pub created_at: String,
    /// Who set it: `api`, `cli`, an admin's name ("" for lockout rows).
    pub created_by: String,
    /// Lockout rows: the key's lockouts within `lockout_memory`. Manual: 0.
    pub lockouts: u32,
    /// Whether it refuses attempts now.
    pub refuses: bool,
}

/// A page of blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BlockList {
    /// The blocks of this page, newest first.
    pub items: Vec<BlockItem>,
    /// Blocks matching the filters in all pages.
    pub total: u64,
}

/// Filters of `GET /api/v1/blocks` (AND semantics; empty = absent).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BlocksParams {
    /// Only blocks of this IP address.
    #[param(schema_with = ip_schema)]
    pub ip_address: Option<String>,
    /// Only blocks of this username (normalised as logins are).
    #[param(max_length = 1024)]
    pub username: Option<String>,
    /// `manual` or `lockout` (default: both).
    pub kind: Option<String>,
    /// Page size, 1 – 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// Blocks to skip, at most 1 000 000 000.
    #[param(maximum = 1_000_000_000)]
    pub offset: Option<u64>,
}

/// `DELETE /api/v1/blocks`: the exact target of the block to lift.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnblockParams {
    /// The blocked IP address.
    #[param(schema_with = ip_schema)]
    pub ip_address: Option<String>,
    /// The blocked username.
    #[param(max_length = 1024)]
    pub username: Option<String>,
}

/// A block was lifted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Unblocked {
    /// Always `true` (no block: 404).
    pub removed: bool,
}
