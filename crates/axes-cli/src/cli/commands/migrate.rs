//! `migrate`: create or upgrade the schema.

use axes_core::{Handler, Settings};

use crate::cli::output::print_line;
use crate::cli::store;

/// Connects, migrates, and says so.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let db = store::connect(&settings).await?;
    if settings.handler != Handler::Database {
        return Ok(print_line(&format!(
            "Nothing to migrate: handler = {} keeps no schema.",
            settings.handler.as_str()
        ))?);
    }
    store::migrate(&db, &settings).await?;
    Ok(print_line(&format!(
        "Schema is up to date ({}).",
        db.kind()
    ))?)
}
