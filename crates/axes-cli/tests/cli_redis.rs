//! The reset commands on the cache store (SPEC §3: reset works on every
//! store). Runs only when `AXES_TEST_REDIS_URL` names a Redis server, e.g.
//! `AXES_TEST_REDIS_URL=redis://127.0.0.1:6379`.

mod common;

use std::sync::Arc;

use axes_core::{Axes, Handler, Secret, Settings};
use common::{Sandbox, attempt, fail};

fn redis_url() -> Option<String> {
    std::env::var("AXES_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

#[tokio::test]
async fn resets_and_list_on_redis() {
    let Some(url) = redis_url() else {
        eprintln!("AXES_TEST_REDIS_URL is not set: skipped");
        return;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let prefix = format!("axes-cli-test-{}-{nanos}:", std::process::id());
    let settings = Settings {
        handler: Handler::Cache,
        cache_url: Secret::new(url.clone()),
        cache_prefix: prefix.clone(),
        ..Settings::default()
    };
    let store = axes_redis::RedisStore::connect(&url, &prefix)
        .await
        .unwrap();
    let axes = Axes::builder(settings)
        .store(Arc::new(store))
        .build()
        .unwrap();
    for (user, ip) in [
        ("default", "127.0.0.1"),
        ("foo", "127.1.0.1"),
        ("foo", "127.1.0.2"),
        ("bar", "127.1.0.1"),
        ("bar", "127.1.0.2"),
    ] {
        fail(&axes, &attempt(user, ip)).await;
    }
    let sb = Sandbox::new()
        .env("AXES_HANDLER", "cache")
        .env("AXES_CACHE_URL", &url)
        .env("AXES_CACHE_PREFIX", &prefix);
    assert_eq!(sb.run(&["list"]).ok().lines().count(), 5);
    assert_eq!(
        sb.run(&["reset-ip-username", "127.1.0.1", "foo"]).ok(),
        "1 attempts removed.\n"
    );
    assert_eq!(
        sb.run(&["reset-username", "foo"]).ok(),
        "1 attempts removed.\n"
    );
    assert_eq!(
        sb.run(&["reset-ip", "127.1.0.2"]).ok(),
        "1 attempts removed.\n"
    );
    assert_eq!(sb.run(&["reset"]).ok(), "2 attempts removed.\n");
    assert_eq!(sb.run(&["reset"]).ok(), "No attempts found.\n");
    assert_eq!(sb.run(&["reset-logs"]).ok(), "No logs found.\n");
}
