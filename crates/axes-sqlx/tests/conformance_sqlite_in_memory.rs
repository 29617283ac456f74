//! The axes-core store conformance suite on an in-memory SQLite store: the
//! sqlx reservation path, which database files hand to the writer thread
//! instead (tests/conformance_sqlite.rs covers that one).

#![cfg(feature = "sqlite")]

use axes_sqlx::testing::fresh_sqlite_in_memory;

axes_core::store_conformance!(fresh_sqlite_in_memory);
