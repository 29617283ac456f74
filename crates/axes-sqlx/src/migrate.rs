//! Versioned, embedded migrations per dialect.
//!
//! The applied versions are recorded in `_axes_migrations`, so that a host
//! application's own sqlx migrations (`_sqlx_migrations`) never collide with
//! ours.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// The table recording applied migrations.
pub const MIGRATIONS_TABLE: &str = "_axes_migrations";

/// One dialect's migrations, oldest first: (version, description, SQL).
pub(crate) type Steps = &'static [(i64, &'static str, &'static str)];

#[cfg(feature = "sqlite")]
pub(crate) const SQLITE: Steps = &[
    (
        1,
        "initial",
        include_str!("../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "reservation generation",
        include_str!("../migrations/sqlite/0002_reservation_generation.sql"),
    ),
    (
        3,
        "alternative indexes",
        include_str!("../migrations/sqlite/0003_alternative_indexes.sql"),
    ),
    (
        4,
        "blocks",
        include_str!("../migrations/sqlite/0004_blocks.sql"),
    ),
    (
        5,
        "scopes",
        include_str!("../migrations/sqlite/0005_scopes.sql"),
    ),
    (
        6,
        "indexes on demand",
        include_str!("../migrations/sqlite/0006_indexes_on_demand.sql"),
    ),
];

#[cfg(feature = "postgres")]
pub(crate) const POSTGRES: Steps = &[
    (
        1,
        "initial",
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "reservation generation",
        include_str!("../migrations/postgres/0002_reservation_generation.sql"),
    ),
    (
        3,
        "alternative indexes",
        include_str!("../migrations/postgres/0003_alternative_indexes.sql"),
    ),
    (
        4,
        "blocks",
        include_str!("../migrations/postgres/0004_blocks.sql"),
    ),
    (
        5,
        "scopes",
        include_str!("../migrations/postgres/0005_scopes.sql"),
    ),
];

#[cfg(feature = "mysql")]
pub(crate) const MYSQL: Steps = &[
    (
        1,
        "initial",
        include_str!("../migrations/mysql/0001_initial.sql"),
    ),
    (
        2,
        "reservation generation",
        include_str!("../migrations/mysql/0002_reservation_generation.sql"),
    ),
    (
        3,
        "alternative indexes",
        include_str!("../migrations/mysql/0003_alternative_indexes.sql"),
    ),
    (
        4,
        "blocks",
        include_str!("../migrations/mysql/0004_blocks.sql"),
    ),
    (
        5,
        "scopes",
        include_str!("../migrations/mysql/0005_scopes.sql"),
    ),
];

/// The migrator of one dialect.
pub(crate) fn migrator(steps: Steps) -> Migrator {
    let migrations = steps
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    let mut migrator = Migrator::with_migrations(migrations);
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
}
