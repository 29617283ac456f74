//! # axes-core — the lockout engine
//!
//! Brute-force login protection, after django-axes: count failed logins,
//! lock out the IP address, username or combination behind them, let them in
//! again after a cool-off or a reset, keep access logs.
//!
//! This crate is the engine. It knows nothing of HTTP frameworks (see
//! `axes-axum`) and nothing of SQL or Redis (see `axes-sqlx`, `axes-redis`):
//! storage is behind the [`Store`] trait, and this crate ships the in-process
//! [`MemoryStore`].
//!
//! ```
//! use axes_core::{Attempt, Axes, AuthError, Settings, Handler};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let settings = Settings { handler: Handler::Memory, failure_limit: 2, ..Settings::default() };
//! let axes = Axes::builder(settings).build().unwrap();
//!
//! let attempt = Attempt::new().ip_address("203.0.113.7".parse().unwrap()).username("alice");
//! let check = |password: &'static str| async move {
//!     Ok::<_, std::convert::Infallible>((password == "s3cret").then_some("alice"))
//! };
//!
//! // The first wrong password gets "invalid credentials" ...
//! assert!(matches!(axes.authenticate(&attempt, || check("guess")).await,
//!                  Err(AuthError::InvalidCredentials)));
//! // ... the one that reaches the limit already gets the lockout,
//! assert!(matches!(axes.authenticate(&attempt, || check("guess2")).await,
//!                  Err(AuthError::LockedOut(_))));
//! // and from then on even the right password is refused before it is checked.
//! assert!(matches!(axes.authenticate(&attempt, || check("s3cret")).await,
//!                  Err(AuthError::LockedOut(_))));
//!
//! // An operator lets the IP in again.
//! assert_eq!(axes.reset(Some("203.0.113.7"), None).await.unwrap(), 1);
//! assert_eq!(axes.authenticate(&attempt, || check("s3cret")).await.unwrap(), "alice");
//! # }
//! ```

pub mod attempt;
pub mod blocks;
pub mod clock;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod device;
pub mod dummy;
pub mod engine;
pub mod error;
pub mod events;
pub mod identity;
pub mod memory;
pub mod parameters;
pub mod rules;
pub mod settings;
pub mod store;

pub use attempt::Attempt;
pub use blocks::{Block, BlockKind, BlockTarget};
pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{
    AuthError, Axes, AxesBuilder, CheckResult, LockStatus, LockingAlternative, Lockout,
    LockoutReason, Prepared, StoreStatus, Ticket, describe_scope, session_hash,
};
pub use error::{ConfigError, Error, StoreError};
pub use events::{Event, EventKind};
pub use memory::MemoryStore;
pub use parameters::{Alternative, Field, LockoutParameters};
pub use settings::{Handler, Secret, Settings};
pub use store::Store;
