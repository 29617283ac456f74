//! placeholder
pub mod clock;
pub mod error;
pub mod parameters;
pub mod settings;
pub mod store;
