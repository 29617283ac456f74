//! Opening a store from a database URL.

use std::sync::Arc;
use std::time::Duration;

use axes_core::error::StoreError;
use axes_core::store::Store;

use crate::error::Error;

/// The SQL backends, as named by a database URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:` (`sqlite://axes.db`, `sqlite::memory:`).
    Sqlite,
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `mysql://` or `mariadb://`.
    MySql,
}

impl Backend {
    /// The backend named by `url`'s scheme.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        let scheme = url.split_once(':').map_or("", |(s, _)| s);
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            "mysql" | "mariadb" => Ok(Backend::MySql),
            // Only the scheme: the rest of the URL may hold a password.
            _ => Err(Error::UnsupportedScheme(scheme.chars().take(32).collect())),
        }
    }

    /// Whether this build includes the backend.
    pub fn is_enabled(self) -> bool {
        match self {
            Backend::Sqlite => cfg!(feature = "sqlite"),
            Backend::Postgres => cfg!(feature = "postgres"),
            Backend::MySql => cfg!(feature = "mysql"),
        }
    }
}

/// Pool sizes and timeouts of a store.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Most connections in the pool (SQLite in-memory databases use one).
    pub max_connections: u32,
    /// How long to wait for a pooled connection before reporting the store
    /// unavailable.
    pub acquire_timeout: Duration,
    /// How long a reservation waits for the admission lock of its client
    /// (PostgreSQL `lock_timeout`, MySQL `GET_LOCK` timeout).
    pub lock_timeout: Duration,
    /// SQLite: how long to wait for another process's write lock.
    pub busy_timeout: Duration,
    /// Open connections on first use instead of checking the server now.
    pub lazy: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(10),
            lazy: false,
        }
    }
}

/// Opens the store named by `url` with default options.
///
/// Does not touch the schema: call [`Store::migrate`] (cheap when the schema
/// is current).
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    connect_with(url, &ConnectOptions::default()).await
}

/// Opens the store named by `url`: `sqlite:…`, `postgres://…`,
/// `postgresql://…`, `mysql://…` or `mariadb://…`.
pub async fn connect_with(
    url: &str,
    options: &ConnectOptions,
) -> Result<Arc<dyn Store>, StoreError> {
    let backend = Backend::from_url(url)?;
    match backend {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => Ok(Arc::new(
            crate::SqliteStore::connect_with(url, options).await?,
        )),
        #[cfg(feature = "postgres")]
        Backend::Postgres => Ok(Arc::new(
            crate::PostgresStore::connect_with(url, options).await?,
        )),
        #[cfg(feature = "mysql")]
        Backend::MySql => Ok(Arc::new(
            crate::MySqlStore::connect_with(url, options).await?,
        )),
        #[allow(unreachable_patterns)]
        other => {
            let _ = options;
            Err(Error::FeatureDisabled(match other {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
                Backend::MySql => "mysql",
            })
            .into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(
            Backend::from_url("sqlite://axes.db").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("sqlite::memory:").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgresql://h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("POSTGRES://h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("mariadb://h/db").ok(),
            Some(Backend::MySql)
        );
        let err = Backend::from_url("redis://:secret@h")
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("`redis`") && !e.contains("secret")));
    }
}
