//! Building the store and the engine from the settings (shared by every
//! command that touches records, and by `demo`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axes_core::dummy::DummyStore;
use axes_core::{Axes, Handler, MemoryStore, Settings, Store, StoreError};

use super::output::display_url;

/// The least time given to opening a connection, whatever `store_timeout`
/// says (it bounds single store calls, and a first TLS handshake or a new
/// SQLite file may take longer than one call).
const MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the store of `settings` lives, fit for messages (no password).
pub fn describe(settings: &Settings) -> String {
    match settings.handler {
        Handler::Database => format!(
            "database store at {}",
            display_url(settings.database_url.expose())
        ),
        Handler::Cache => format!(
            "cache store at {}",
            display_url(settings.cache_url.expose())
        ),
        Handler::Memory => "memory store".to_owned(),
        Handler::Dummy => "dummy store".to_owned(),
    }
}

/// Connects to the store the settings name, without touching its schema.
pub async fn connect(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let timeout = settings.store_timeout.max(MIN_CONNECT_TIMEOUT);
    let connecting = async {
        let store: Arc<dyn Store> = match settings.handler {
            Handler::Database => axes_sqlx::connect(settings.database_url.expose()).await?,
            Handler::Cache => Arc::new(
                axes_redis::RedisStore::connect(
                    settings.cache_url.expose(),
                    &settings.cache_prefix,
                )
                .await?,
            ),
            Handler::Memory => Arc::new(MemoryStore::from_settings(settings)),
            Handler::Dummy => Arc::new(DummyStore),
        };
        Ok::<_, StoreError>(store)
    };
    let result = match tokio::time::timeout(timeout, connecting).await {
        Ok(r) => r,
        Err(_) => Err(StoreError::Timeout(timeout)),
    };
    result.with_context(|| format!("cannot connect to the {}", describe(settings)))
}

/// Creates or upgrades the schema of `store`.
pub async fn migrate(store: &Arc<dyn Store>, settings: &Settings) -> anyhow::Result<()> {
    store
        .migrate()
        .await
        .with_context(|| format!("cannot migrate the {}", describe(settings)))
}

/// Connects to the store and brings its schema up to date (the SQLite
/// default `sqlite://axes.db` is created on first use).
pub async fn open(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let store = connect(settings).await?;
    migrate(&store, settings).await?;
    Ok(store)
}

/// The engine over the store of `settings` (connected and migrated),
/// device tokens signed with `device_key` when given, else with
/// `secret_key`.
pub async fn engine_with(settings: Settings, device_key: Option<Vec<u8>>) -> anyhow::Result<Axes> {
    let store = open(&settings).await?;
    let builder = Axes::builder(settings);
    let builder = match device_key {
        Some(key) => builder.device_key(key),
        None => builder,
    };
    Ok(builder.store(store).build()?)
}

/// The engine of the one-shot commands (`list`, `reset`, `block`, …):
/// they never issue nor check a device token, so with `trusted_device` on
/// and `secret_key` unset a key of this run ([`run_device_key`]) stands in
/// for the one `serve` signs with.
pub async fn engine(settings: Settings) -> anyhow::Result<Axes> {
    let key = run_device_key(&settings)?;
    engine_with(settings, key).await
}

/// A random key made now, when `trusted_device` is on and `secret_key`
/// unset; `None` otherwise (the engine then uses `secret_key`).
pub fn run_device_key(settings: &Settings) -> anyhow::Result<Option<Vec<u8>>> {
    if !settings.trusted_device || settings.secret_key.is_some() {
        return Ok(None);
    }
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| anyhow::anyhow!("no randomness for the device key: {e}"))?;
    Ok(Some(key))
}
