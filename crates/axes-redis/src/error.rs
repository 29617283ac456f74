//! Mapping redis-rs errors onto [`StoreError`].

use axes_core::error::StoreError;
use redis::{ErrorKind, RedisError, ServerErrorKind};

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
