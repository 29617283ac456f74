//! Rows as the statements return them, and their conversion to records.
//!
//! Each tuple is generic over the dialect's time type `T`; the dialect passes
//! its conversion to `DateTime<Utc>`.

use axes_core::error::StoreError;
use axes_core::store::{
    AccessLogRecord, AttemptDetails, AttemptRecord, FailureLogRecord, NewAccessLog, NewFailureLog,
    RecordKey,
};
use chrono::{DateTime, Utc};

use crate::common::{count, opt};

/// `id, scope, username, ip_address, user_agent, http_accept, path_info,
/// get_data, post_data, failures_since_start, attempt_time`
pub(crate) type AttemptRow<T> = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    T,
);

/// `id, username, ip_address, user_agent, http_accept, path_info,
/// attempt_time, logout_time, session_hash`
pub(crate) type AccessLogRow<T> = (
    i64,
    String,
    String,
    String,
    String,
    String,
    T,
    Option<T>,
    String,
);

/// `id, username, ip_address, user_agent, http_accept, path_info,
/// attempt_time, locked_out`
pub(crate) type FailureLogRow<T> = (i64, String, String, String, String, String, T, bool);

/// A stored key back to a [`RecordKey`]; `scope` is `""` for the logs,
/// which keep none.
fn key(scope: String, username: String, ip: String, user_agent: String) -> RecordKey {
    RecordKey {
        scope,
        username: opt(username),
        ip_address: opt(ip),
        user_agent,
    }
}

pub(crate) fn attempt<T>(
    row: AttemptRow<T>,
    time: impl Fn(T) -> Result<DateTime<Utc>, StoreError>,
) -> Result<AttemptRecord, StoreError> {
    let (id, scope, username, ip, user_agent, http_accept, path, get_data, post_data, failures, at) =
        row;
    Ok(AttemptRecord {
        id: id.to_string(),
        key: key(scope, username, ip, user_agent),
        details: AttemptDetails {
            path,
            http_accept,
            get_data,
            post_data,
        },
        failures: count(failures)?,
        attempt_time: time(at)?,
    })
}

pub(crate) fn access_log<T>(
    row: AccessLogRow<T>,
    time: impl Fn(T) -> Result<DateTime<Utc>, StoreError>,
) -> Result<AccessLogRecord, StoreError> {
    let (id, username, ip, user_agent, http_accept, path, at, logout, session_hash) = row;
    Ok(AccessLogRecord {
        id: id.to_string(),
        entry: NewAccessLog {
            key: key(String::new(), username, ip, user_agent),
            path,
            http_accept,
            attempt_time: time(at)?,
            session_hash,
        },
        logout_time: logout.map(&time).transpose()?,
    })
}

pub(crate) fn failure_log<T>(
    row: FailureLogRow<T>,
    time: impl Fn(T) -> Result<DateTime<Utc>, StoreError>,
) -> Result<FailureLogRecord, StoreError> {
    let (id, username, ip, user_agent, http_accept, path, at, locked_out) = row;
    Ok(FailureLogRecord {
        id: id.to_string(),
        entry: NewFailureLog {
            key: key(String::new(), username, ip, user_agent),
            path,
            http_accept,
            attempt_time: time(at)?,
            locked_out,
        },
    })
}

/// Converts a page of rows.
pub(crate) fn all<R, T>(
    rows: Vec<R>,
    f: impl Fn(R) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(f).collect()
}
