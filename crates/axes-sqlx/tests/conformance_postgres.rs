//! The axes-core store conformance suite on PostgreSQL (`AXES_TEST_POSTGRES_URL`, a fresh schema per store).

#![cfg(feature = "postgres")]

use axes_sqlx::testing::fresh_postgres;

axes_core::store_conformance!(fresh_postgres);
