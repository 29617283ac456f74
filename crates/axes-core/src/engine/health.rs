//! Store health: one log line per outage, counters for operators.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::Serialize;

use crate::error::StoreError;

/// What the engine knows of its store's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StoreStatus {
    /// False from the first failed call until the next successful one.
    pub available: bool,
    /// Outages seen since start (transitions to unavailable).
    pub outages: u64,
    /// Failed store calls since start.
    pub errors: u64,
}

/// The `tracing` target of the outage log lines ("store unreachable", "store
/// is reachable again"), for filtering.
pub const LOG_TARGET: &str = "axes::store";

#[derive(Debug, Default)]
pub(crate) struct Health {
    down: AtomicBool,
    outages: AtomicU64,
    errors: AtomicU64,
}

impl Health {
    pub(crate) fn ok(&self, kind: &str) {
        if self.down.load(Ordering::Relaxed) && self.down.swap(false, Ordering::AcqRel) {
            tracing::warn!(target: LOG_TARGET, store = kind, "axes: store is reachable again");
        }
    }

    pub(crate) fn failed(&self, kind: &str, error: &StoreError, fail_closed: bool) {
        self.errors.fetch_add(1, Ordering::Relaxed);
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
