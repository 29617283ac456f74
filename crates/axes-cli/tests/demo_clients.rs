//! The demo site end to end: who the client is (proxies, spoofed headers),
//! allow and deny lists, GET requests.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod demo_support;

use axes_core::store::ListQuery;
use demo_support::{client, settings, start};

fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_counts_alone() {
    let demo = start(axes_core::Settings {
        trusted_proxies: nets(&["127.0.0.1/32"]),
        ..settings()
    })
    .await;
    assert_eq!(demo.login_via("198.51.100.1", "demo", "x").await, 401);
    assert_eq!(demo.login_via("198.51.100.1", "demo", "x").await, 401);
    // Another client behind the same proxy: its own count.
    assert_eq!(demo.login_via("198.51.100.2", "demo", "x").await, 401);
    // The right-most untrusted address is the client, whatever is left of it.
    assert_eq!(
        demo.login_via("6.6.6.6, 198.51.100.1", "demo", "x").await,
        429
    );
    assert_eq!(demo.login_via("198.51.100.1", "demo", "demo").await, 429);
    assert_eq!(demo.login_via("198.51.100.2", "demo", "demo").await, 303);
    let ips: Vec<String> = demo
        .axes
        .list_attempts(&ListQuery::all())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|r| r.key.ip_address)
        .collect();
    assert!(ips.contains(&"198.51.100.1".to_owned()), "{ips:?}");
    assert!(!ips.contains(&"127.0.0.1".to_owned()), "{ips:?}");
}

#[tokio::test]
async fn forwarded_header_from_an_untrusted_peer_is_ignored() {
    let demo = start(settings()).await;
    assert_eq!(demo.login_via("1.1.1.1", "demo", "x").await, 401);
    assert_eq!(demo.login_via("2.2.2.2", "demo", "x").await, 401);
    assert_eq!(demo.login_via("3.3.3.3", "demo", "x").await, 429);
    assert_eq!(demo.login_via("4.4.4.4", "demo", "demo").await, 429);
    let page = demo.axes.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].key.ip_address.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn deny_listed_ip_is_refused_at_once() {
    let demo = start(axes_core::Settings {
        ip_blacklist: nets(&["127.0.0.0/8"]),
        ..settings()
    })
    .await;
    assert_eq!(demo.login(&client(), "demo", "demo").await, 429);
    // Nothing was counted: the list refuses, not the failure count.
    let page = demo.axes.list_attempts(&ListQuery::all()).await.unwrap();
    assert_eq!(page.total, 0);
}

#[tokio::test]
async fn allow_listed_ip_with_never_lockout_whitelist_is_never_refused() {
    let demo = start(axes_core::Settings {
        ip_whitelist: nets(&["127.0.0.1/32"]),
        never_lockout_whitelist: true,
        ..settings()
    })
    .await;
    let c = client();
    for _ in 0..6 {
        assert_eq!(demo.login(&c, "demo", "wrong").await, 401);
    }
    assert_eq!(demo.login(&c, "demo", "demo").await, 303);
}

#[tokio::test]
async fn only_whitelist_refuses_everyone_else() {
    let demo = start(axes_core::Settings {
        ip_whitelist: nets(&["10.0.0.0/8"]),
        only_whitelist: true,
        ..settings()
    })
    .await;
    // The peer 127.0.0.1 is not listed.
    assert_eq!(demo.login(&client(), "demo", "demo").await, 429);

    // Behind a trusted proxy, a listed forwarded client gets in.
    let demo = start(axes_core::Settings {
        ip_whitelist: nets(&["10.0.0.0/8"]),
        only_whitelist: true,
        trusted_proxies: nets(&["127.0.0.1/32"]),
        ..settings()
    })
    .await;
    assert_eq!(demo.login_via("10.1.2.3", "demo", "demo").await, 303);
    assert_eq!(demo.login_via("192.0.2.7", "demo", "demo").await, 429);
}

/// `GET /api/me` with HTTP Basic credentials: a GET that authenticates.
async fn api_me(demo: &demo_support::Demo, password: &str) -> u16 {
    client()
        .get(format!("{}/api/me", demo.url))
        .basic_auth("demo", Some(password))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn get_requests_that_authenticate_are_counted_by_default() {
    let demo = start(settings()).await;
    assert_eq!(api_me(&demo, "demo").await, 200);
    assert_eq!(api_me(&demo, "x").await, 401);
    assert_eq!(api_me(&demo, "x").await, 401);
    assert_eq!(api_me(&demo, "x").await, 429);
    assert_eq!(api_me(&demo, "demo").await, 429);
    // Without credentials: 401 with a challenge, never a crash.
    let r = client()
        .get(format!("{}/api/me", demo.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn never_lockout_get_never_refuses_a_get() {
    let demo = start(axes_core::Settings {
        never_lockout_get: true,
        ..settings()
    })
    .await;
    for _ in 0..5 {
        assert_eq!(api_me(&demo, "x").await, 401);
    }
    assert_eq!(api_me(&demo, "demo").await, 200);
    // POSTs are still counted and refused; the locked client's GETs are not.
    let c = client();
    for _ in 0..3 {
        demo.login(&c, "demo", "x").await;
    }
    assert_eq!(demo.login(&c, "demo", "demo").await, 429);
    assert_eq!(api_me(&demo, "demo").await, 200);
    let r = c.get(format!("{}/login", demo.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
