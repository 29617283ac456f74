//! What a refused client is told.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::Failures;

/// Why an attempt was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockoutReason {
    /// An alternative reached the failure limit.
    TooManyFailures,
    /// The IP is on the deny list, or not on the allow list with `only_whitelist`.
    Denied,
    /// The store could not be reached and `fail_closed` is on.
    StoreUnavailable,
    /// The attempt lacks every field the lockout parameters count by (an
    /// unknown client IP under IP lockout, no username under username
    /// lockout): it cannot be counted without pooling it with strangers, so
    /// it is refused (an HTTP front answers `400 Bad Request`).
    Unidentified,
    /// An operator blocked the client's IP address, username or the pair
    /// (`axes block`, the admin UI, the service API): refused before its
    /// credentials are checked, and not counted. `retry_after` is set when
    /// the block has an end.
    Blocked,
}

/// A refusal, with everything a lockout response needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lockout {
    /// Why.
    pub reason: LockoutReason,
    /// The username as given (bounded), for the response and redirect.
    pub username: Option<String>,
    /// Failures counted for the client.
    pub failures: u32,
    /// The limit that applied.
    pub failure_limit: u32,
    /// The cool-off that applies, if any.
    pub cooloff: Option<Duration>,
    /// How long until the lockout lifts, when a cool-off applies.
    pub retry_after: Option<Duration>,
    /// The message for the client.
    pub message: String,
}

impl Lockout {
    /// Whether the refusal lasts until an operator resets it.
    pub fn is_permanent(&self) -> bool {
        self.retry_after.is_none()
    }

    /// `retry_after` in whole seconds, rounded up.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
    }
}

/// When the lockout lifts at the latest: `window` after the latest failure of
/// the alternatives that reached the limit.
pub(crate) fn retry_after(
    failures: &Failures,
    limit: u32,
    window: Option<chrono::Duration>,
    now: DateTime<Utc>,
) -> Option<Duration> {
    let window = window?;
    let remaining = match failures.locking_last_failure(limit) {
        Some(last) => last + window - now,
        None => window,
    };
    Some(remaining.to_std().unwrap_or(Duration::ZERO))
}
