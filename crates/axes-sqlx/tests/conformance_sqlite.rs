//! The axes-core store conformance suite on SQLite (a fresh file per store).

#![cfg(feature = "sqlite")]

use axes_sqlx::testing::fresh_sqlite;

axes_core::store_conformance!(fresh_sqlite);
