//! SQL stores for axes: SQLite (default, embedded), PostgreSQL and
//! MySQL/MariaDB, through sqlx.
//!
//! [`connect`] opens the store named by a database URL; [`Store::migrate`]
//! creates or upgrades its schema (versioned migrations, recorded in
//! `_axes_migrations`; cheap when the schema is current, so call it at
//! start-up).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), axes_core::error::StoreError> {
//! use axes_core::parameters::LockoutParameters;
//! use axes_core::store::{AttemptDetails, RecordKey, Reservation, Store};
//!
//! let store = axes_sqlx::connect("sqlite::memory:").await?;
//! store.migrate().await?;
//!
//! let key = RecordKey {
//!     scope: String::new(),
//!     username: Some("alice".into()),
//!     ip_address: Some("203.0.113.7".into()),
//!     user_agent: "curl/8".into(),
//! };
//! let details = AttemptDetails::default();
//! let parameters = LockoutParameters::default(); // lock out by IP address
//! let reservation = Reservation {
//!     key: &key,
//!     details: &details,
//!     parameters: &parameters,
//!     limit: Some(3),
//!     window: None,
//!     count_when_locked: false,
//!     now: chrono::Utc::now(),
//!     blocks: &[],
//!     manual_only: false,
//! };
//! // Two wrong passwords are admitted, the third attempt is refused.
//! assert!(store.reserve(&reservation).await?.admitted);
//! assert!(store.reserve(&reservation).await?.admitted);
//! assert!(store.reserve(&reservation).await?.admitted);
//! assert!(!store.reserve(&reservation).await?.admitted);
//! # Ok(())
//! # }
//! ```
//!
//! A server-backed store is opened the same way:
//!
//! ```no_run
//! # async fn f() -> Result<(), axes_core::error::StoreError> {
//! let store = axes_sqlx::connect("postgres://axes@db.internal/axes").await?;
//! store.migrate().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Backends
//!
//! | feature | URL | store | exact admission |
//! |---|---|---|---|
//! | `sqlite` (default) | `sqlite://axes.db` | [`SqliteStore`] | `BEGIN IMMEDIATE` |
//! | `postgres` | `postgres://…` | `PostgresStore` | `pg_advisory_xact_lock` per alternative |
//! | `mysql` | `mysql://…`, `mariadb://…` | `MySqlStore` | `GET_LOCK` per alternative |
//!
//! Tables keep django-axes' shape (`axes_accessattempt`, `axes_accesslog`,
//! `axes_accessfailurelog`). An absent username or IP address is stored as
//! `''` (SQL unique keys treat NULLs as distinct) and read back as `None`.
//! Text is cut to the column sizes (username, user agent, path: 255
//! characters; IP: 64; `Accept`: 1025; GET/POST data: 1024). Times are kept
//! to the microsecond.
//!
//! A record's scope ([`RecordKey::scope`](axes_core::store::RecordKey),
//! migration 5) is part of its unique key and of every count index, after
//! the alternative's fields (fields, scope, attempt_time), so a count reads
//! one scope only, and a reset or listing filtered by address or username
//! alone (all scopes) still reads an index that leads with that field. It is kept exactly: a scope longer than
//! [`MAX_SCOPE_CHARS`](axes_core::store::MAX_SCOPE_CHARS) is refused
//! ([`Error::ScopeTooLong`]) rather than cut, so two scopes never merge.
//!
//! [`Store::migrate`]: axes_core::store::Store::migrate

// Without any backend the shared helpers have no users.
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports, unused_macros)
)]

mod blocks;
mod common;
mod connect;
mod error;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod guard;
mod migrate;
mod rows;

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "testing")]
pub mod testing;

pub use connect::{Backend, ConnectOptions, connect, connect_with};
pub use error::Error;
pub use migrate::MIGRATIONS_TABLE;
#[cfg(feature = "mysql")]
pub use mysql::MySqlStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
