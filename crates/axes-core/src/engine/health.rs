//! Store health: one log line per outage, counters for operators, and a
//! breaker that stops every request from waiting out `store_timeout` while
//! the store is known to be down.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::StoreError;

/// What the engine knows of its store's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StoreStatus {
    /// False from the first call that found the store unreachable or timed
    /// out ([`StoreError::is_outage`]) until the next successful one.
    pub available: bool,
    /// Outages seen since start (transitions to unavailable).
    pub outages: u64,
    /// Failed store calls since start (calls answered at once while the
    /// store was down are not counted).
    pub errors: u64,
}

/// The `tracing` target of the outage log lines ("store unreachable", "store
/// is reachable again"), for filtering.
pub const LOG_TARGET: &str = "axes::store";

/// The longest wait between two tries of a store that is down.
const MAX_RETRY_WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub(crate) struct Health {
    down: AtomicBool,
    outages: AtomicU64,
    errors: AtomicU64,
    /// Milliseconds since [`epoch`] of the last failed call.
    last_failure_ms: AtomicU64,
    /// A call is trying the store while it is down.
    probing: AtomicBool,
    /// Milliseconds since [`epoch`] of the last logged error that was not
    /// an outage (0: none yet).
    last_error_log_ms: AtomicU64,
}

/// Errors that are not outages are logged at most this often.
const ERROR_LOG_INTERVAL_MS: u64 = 60_000;

/// A monotonic origin for `last_failure_ms`.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Permission to try a store that is down; ends the probe when dropped
/// (also when the call is cancelled).
pub(crate) struct Probe<'a>(Option<&'a AtomicBool>);

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        if let Some(flag) = self.0 {
            flag.store(false, Ordering::Release);
        }
    }
}

impl Health {
    /// Whether a call may go to the store now. While the store is down, one
    /// call at a time tries it, and only once `retry_window` (at most a
    /// second) has passed since the last failure; the others are answered
    /// at once with [`StoreError::Unavailable`].
    pub(crate) fn admit(&self, store_timeout: Duration) -> Result<Probe<'_>, StoreError> {
        if !self.down.load(Ordering::Acquire) {
            return Ok(Probe(None));
        }
        let window =
            u64::try_from(store_timeout.min(MAX_RETRY_WINDOW).as_millis()).unwrap_or(u64::MAX);
        let since = now_ms().saturating_sub(self.last_failure_ms.load(Ordering::Acquire));
        if since >= window
            && self
                .probing
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            return Ok(Probe(Some(&self.probing)));
        }
        Err(StoreError::Unavailable(
            "the store is down (not retried yet)".into(),
        ))
    }

    pub(crate) fn ok(&self, kind: &str) {
        if self.down.load(Ordering::Relaxed) && self.down.swap(false, Ordering::AcqRel) {
            tracing::warn!(target: LOG_TARGET, store = kind, "axes: store is reachable again");
        }
    }

    pub(crate) fn failed(&self, kind: &str, error: &StoreError, fail_closed: bool) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if !error.is_outage() {
            // The store answered, with an error for this call only (a
            // memory store full of lockouts, a bad row): that call follows
            // `fail_closed`, but the store is not taken for down — else one
            // client provoking such errors would switch the protection of
            // every other client off. Logged at most once a minute.
            let now = now_ms();
            let last = self.last_error_log_ms.load(Ordering::Acquire);
            if (last == 0 || now.saturating_sub(last) >= ERROR_LOG_INTERVAL_MS)
                && self
                    .last_error_log_ms
                    .compare_exchange(last, now.max(1), Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                tracing::error!(target: LOG_TARGET, store = kind, %error, "axes: store call failed");
            }
            return;
        }
        self.last_failure_ms.store(now_ms(), Ordering::Release);
        if !self.down.swap(true, Ordering::AcqRel) {
            self.outages.fetch_add(1, Ordering::Relaxed);
            let mode = if fail_closed {
                "refusing logins with 503 (fail_closed = true)"
            } else {
                "allowing logins without protection (fail_closed = false)"
            };
            tracing::error!(target: LOG_TARGET, store = kind, %error, "axes: store unreachable; {mode} until it answers again");
        }
    }

    pub(crate) fn status(&self) -> StoreStatus {
        StoreStatus {
            available: !self.down.load(Ordering::Relaxed),
            outages: self.outages.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}
