//! The conformance suite on the in-process memory store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axes_core::{MemoryStore, Store};

async fn make_store() -> Option<Arc<dyn Store>> {
    Some(Arc::new(MemoryStore::new()))
}

axes_core::store_conformance!(make_store);

#[tokio::test]
async fn memory_is_bounded() {
    use axes_core::memory::MemoryLimits;
    use axes_core::{Attempt, Axes, Settings};
    let store = Arc::new(MemoryStore::with_limits(MemoryLimits {
        max_records: 100,
        max_log_rows: 10,
    }));
    let axes = Axes::builder(Settings {
        lock_out_at_failure: false,
        ..Settings::default()
    })
    .store(store.clone())
    .build()
    .unwrap();
    for i in 0..1000u32 {
        let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i);
        let t = axes
            .begin(&Attempt::new().ip_address(ip.into()))
            .await
            .unwrap();
        assert!(t.failed().await.is_none());
    }
    assert_eq!(store.len(), 100);
}
