//! Errors of this crate and the mapping of sqlx errors onto [`StoreError`].

use axes_core::error::StoreError;
use sqlx::migrate::MigrateError;

/// Errors raised by the SQL stores themselves (as opposed to the database).
///
/// They reach callers wrapped in a [`StoreError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database URL has a scheme this crate does not know.
    #[error(
        "unsupported database URL scheme `{0}` (expected sqlite:, postgres://, postgresql://, mysql:// or mariadb://)"
    )]
    UnsupportedScheme(String),
    /// The URL names a backend whose cargo feature is not enabled.
    #[error("{0} support is not compiled in (enable the `{0}` feature of axes-sqlx)")]
    FeatureDisabled(&'static str),
    /// A lock serialising admissions could not be taken in time.
    #[error("could not take the admission lock within {0:?}")]
    LockTimeout(std::time::Duration),
    /// A record key's scope is longer than the store keeps
    /// ([`axes_core::store::MAX_SCOPE_CHARS`] characters): refused rather
    /// than cut, so that two scopes never count together.
    #[error(
        "a scope of {0} characters is longer than the {max} a store keeps",
        max = axes_core::store::MAX_SCOPE_CHARS
    )]
    ScopeTooLong(usize),
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::LockTimeout(_) => StoreError::unavailable(e),
            other => StoreError::backend(other),
        }
    }
}

/// Maps a sqlx error: connection, pool and I/O trouble (and a database too
/// busy to answer) is an outage; anything else is a backend error.
pub(crate) fn map_sqlx(e: sqlx::Error) -> StoreError {
    if is_outage(&e) {
        StoreError::unavailable(e)
    } else {
        StoreError::backend(e)
    }
}

/// Maps a migration error like [`map_sqlx`].
pub(crate) fn map_migrate(e: MigrateError) -> StoreError {
    match e {
        MigrateError::Execute(inner) => map_sqlx(inner),
        other => StoreError::backend(other),
    }
}

fn is_outage(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| is_outage_code(&code)),
        _ => false,
    }
}

/// Database error codes that mean "not reachable / too busy right now".
fn is_outage_code(code: &str) -> bool {
    // SQLite reports its (extended) numeric result code; SQLSTATEs have five characters.
    if code.len() <= 4 {
        return code.parse::<u32>().is_ok_and(|n| {
            // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN
            matches!(n & 0xff, 5 | 6 | 10 | 13 | 14)
        });
    }
    // Class 08: connection exception; class 53: insufficient resources
    // (too many connections, out of memory or disk); 57P01-03: shutting down
    // or starting up; 55P03: PostgreSQL lock timeout; 40001 includes the
    // MySQL/MariaDB deadlock victim.
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(code, "57P01" | "57P02" | "57P03" | "55P03" | "40001")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_timeouts_are_outages() {
        assert!(map_sqlx(sqlx::Error::PoolTimedOut).is_outage());
        assert!(map_sqlx(sqlx::Error::PoolClosed).is_outage());
        assert!(!map_sqlx(sqlx::Error::RowNotFound).is_outage());
    }

    #[test]
    fn outage_codes() {
        assert!(is_outage_code("08006"));
        assert!(is_outage_code("53100"));
        assert!(is_outage_code("5"));
        assert!(is_outage_code("517"));
        assert!(!is_outage_code("19"));
        assert!(!is_outage_code("23505"));
        assert!(!is_outage_code("42P01"));
    }
}
