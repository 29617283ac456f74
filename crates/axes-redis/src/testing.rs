//! Test support: fresh, isolated stores on the server named by
//! `AXES_TEST_REDIS_URL`. Not part of the public API.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axes_core::store::Store;

use crate::RedisStore;

/// The environment variable naming the test server.
pub const URL_VAR: &str = "AXES_TEST_REDIS_URL";

/// A sorted set (outside every test prefix) of the prefixes handed out, by
/// creation time, so later runs can wipe what earlier runs left.
const REGISTRY: &str = "axes-test-registry";

/// Prefixes older than this are wiped by the next [`fresh_store`].
const STALE_AFTER_SECS: u64 = 15 * 60;

/// The test server's URL, or `None` (with a loud message) when it is not
/// configured. Panics when not configured but `CI` is set.
pub fn test_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{URL_VAR} is not set, but CI is: the Redis store tests must run in CI");
            }
            eprintln!(
                "SKIPPED: {URL_VAR} not set — Redis store tests did not run \
                 (e.g. {URL_VAR}=redis://127.0.0.1:6379)"
            );
            None
        }
    }
}

/// A unique prefix like `axes-test-1f2e3d4c5b6a7988:`.
pub fn unique_prefix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    format!("axes-test-{:016x}:", h.finish())
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A fresh, empty store with a unique prefix on the test server, or `None`
/// when no server is configured.
///
/// # Panics
/// When the server is configured but cannot be reached.
pub async fn fresh_store() -> Option<RedisStore> {
    let url = test_url()?;
    let prefix = unique_prefix();
    let store = match RedisStore::connect(&url, &prefix).await {
        Ok(s) => s,
        Err(e) => panic!("cannot connect to {URL_VAR}: {e}"),
    };
    sweep_stale(&url).await;
    let mut con = store.con();
    let registered: Result<(), _> = redis::cmd("ZADD")
        .arg(REGISTRY)
        .arg(unix_secs())
        .arg(&prefix)
        .query_async(&mut con)
        .await;
    if let Err(e) = registered {
        panic!("cannot register test prefix: {e}");
    }
    Some(store)
}

/// [`fresh_store`] as the trait object the conformance suite wants.
pub async fn fresh_redis() -> Option<Arc<dyn Store>> {
    let store = fresh_store().await?;
    Some(Arc::new(store))
}

/// Wipes (through their own indexes) the prefixes of earlier runs.
async fn sweep_stale(url: &str) {
    let Ok(probe) = RedisStore::connect(url, "axes-test-registry:").await else {
        return;
    };
    let mut con = probe.con();
    let cutoff = unix_secs().saturating_sub(STALE_AFTER_SECS);
    let old: Vec<String> = redis::cmd("ZRANGEBYSCORE")
        .arg(REGISTRY)
        .arg("-inf")
        .arg(cutoff)
        .arg("LIMIT")
        .arg(0)
        .arg(20)
        .query_async(&mut con)
        .await
        .unwrap_or_default();
    for prefix in old {
        if let Ok(store) = RedisStore::connect(url, &prefix).await
            && store.wipe().await.is_ok()
        {
            let _: Result<(), _> = redis::cmd("ZREM")
                .arg(REGISTRY)
                .arg(&prefix)
                .query_async(&mut con)
                .await;
        }
    }
}

/// Wipes `store` and forgets its prefix (call at the end of a test).
pub async fn discard(store: &RedisStore) {
    if store.wipe().await.is_ok() {
        let _: Result<(), _> = redis::cmd("ZREM")
            .arg(REGISTRY)
            .arg(store.prefix())
            .query_async(&mut store.con())
            .await;
    }
}
