//! The shared store conformance suite, run against Redis.
//!
//! Needs `AXES_TEST_REDIS_URL` (e.g. `redis://127.0.0.1:6379`); skips loudly
//! without it (and fails when `CI` is set).

use std::sync::Arc;

use axes_core::store::Store;

async fn make_store() -> Option<Arc<dyn Store>> {
    axes_redis::testing::fresh_redis().await
}

axes_core::store_conformance!(make_store);
