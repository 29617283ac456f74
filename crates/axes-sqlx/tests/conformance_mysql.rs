//! The axes-core store conformance suite on MySQL/MariaDB (`AXES_TEST_MYSQL_URL`, a fresh database per store).

#![cfg(feature = "mysql")]

use axes_sqlx::testing::fresh_mysql;

axes_core::store_conformance!(fresh_mysql);
