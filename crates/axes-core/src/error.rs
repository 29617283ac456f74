//! Error types.

use std::error::Error as StdError;

/// A store failed: unreachable, timed out, or answered something unexpected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached or the connection broke.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// The store call took longer than `store_timeout`.
    #[error("store call timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The store answered, but with an error.
    #[error("store error: {0}")]
    Backend(#[source] Box<dyn StdError + Send + Sync>),
    /// The store holds data it cannot read.
    #[error("store data corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Wraps any error as a backend error.
    pub fn backend(e: impl StdError + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(e))
    }

    /// Wraps any error as an availability error.
    pub fn unavailable(e: impl StdError + Send + Sync + 'static) -> Self {
        StoreError::Unavailable(Box::new(e))
    }

    /// Whether this error means the store is unreachable (as opposed to a
    /// logic or data error).
    pub fn is_outage(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Timeout(_))
    }
}

/// A setting is unknown or has a bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key that is not a setting.
    #[error("unknown setting `{key}`{}", source_hint(.origin))]
    UnknownKey {
        /// The key as written.
        key: String,
        /// Where it came from (file or environment variable).
        origin: String,
    },
    /// A key axes knows but does not accept: a django-axes setting that
    /// axes renamed or replaced, or a setting of another version. The
    /// reason says what to write instead.
    #[error("unsupported setting `{key}`{}: {reason}", source_hint(.origin))]
    Unsupported {
        /// The key as written.
        key: String,
        /// Where it came from (file or environment variable).
        origin: String,
        /// What to write instead.
        reason: String,
    },
    /// A value that does not parse or is out of range.
    #[error("invalid value {value} for setting `{key}`{}: {reason}", source_hint(.origin))]
    InvalidValue {
        /// The setting.
        key: String,
        /// The value as written.
        value: String,
        /// Where it came from.
        origin: String,
        /// Why it is wrong.
        reason: String,
    },
    /// Settings that contradict each other.
    #[error("invalid settings: {0}")]
    Conflict(String),
    /// The settings file could not be read or parsed.
    #[error("cannot read settings file {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

fn source_hint(source: &str) -> String {
    if source.is_empty() {
        String::new()
    } else {
        format!(" (from {source})")
    }
}

/// Errors of the engine's operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Bad settings.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Invalid input (a malformed IP address, say).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}
