//! Mapping redis-rs errors onto [`StoreError`].

use axes_core::error::StoreError;
use redis::{ErrorKind, RedisError, ServerErrorKind};

/// Errors of the block operations that are not Redis errors (wrapped in
/// [`StoreError::Backend`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// A block target that names no field (it would refuse everyone).
    #[error("a block target must name an IP address, a username or a user agent")]
    EmptyTarget,
    /// `record_lockout` found the row changed by other writers at each of
    /// its attempts (compare-and-set), which only sustained contention on
    /// one target causes.
    #[error("the lockout row of {target} kept changing: {attempts} attempts to record a lockout")]
    Contention {
        /// The target, as displayed.
        target: String,
        /// How many times the write was tried.
        attempts: usize,
    },
}

/// Connection problems, time-outs and a server that cannot serve right now
/// (loading, read-only replica, busy script, …) become
/// [`StoreError::Unavailable`]; everything else is [`StoreError::Backend`].
pub(crate) fn map(e: RedisError) -> StoreError {
    if is_outage(&e) {
        StoreError::unavailable(e)
    } else {
        StoreError::backend(e)
    }
}

fn is_outage(e: &RedisError) -> bool {
    if e.is_io_error() || e.is_connection_refusal() || e.is_timeout() || e.is_connection_dropped() {
        return true;
    }
    match e.kind() {
        ErrorKind::Server(
            ServerErrorKind::BusyLoading
            | ServerErrorKind::TryAgain
            | ServerErrorKind::ClusterDown
            | ServerErrorKind::MasterDown
            | ServerErrorKind::ReadOnly,
        )
        | ErrorKind::ClusterConnectionNotFound => true,
        _ => matches!(
            e.code(),
            Some("BUSY" | "LOADING" | "MASTERDOWN" | "READONLY")
        ),
    }
}

/// A reply that does not have the expected shape.
pub(crate) fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}
