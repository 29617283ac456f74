//! `GET`/`POST`/`DELETE /api/v1/blocks` of `axes serve` over real HTTP:
//! a block refuses a right password at once (nothing counted), unblocking
//! lifts it, and bad input is the API's JSON error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;
mod process_support;

use api_support::Api;
use chrono::{DateTime, Utc};
use process_support::{AxesEnv, DemoProcess};
use reqwest::Method;
use serde_json::{Value, json};

const IP: &str = "203.0.113.7";

fn serve(env: AxesEnv, name: &str) -> (DemoProcess, Api, AxesEnv) {
    let p = env.serve(name, &[]);
    let api = Api::new(&p.url);
    (p, api, env)
}

fn memory() -> AxesEnv {
    AxesEnv::new()
        .set("AXES_HANDLER", "memory")
        .set("AXES_FAILURE_LIMIT", "3")
}

#[tokio::test]
async fn a_block_refuses_at_once_and_unblocking_lifts_it() {
    let (_p, api, _env) = serve(memory(), "blocks");
    let (status, b) = api.post("/blocks", &json!({"ip_address": IP})).await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(b["kind"], "manual");
    assert_eq!(b["ip_address"], IP);
    assert!(b.get("username").is_none(), "{b}");
    assert_eq!(b["until"], Value::Null);
    assert_eq!(b["created_by"], "api");
    assert_eq!(b["refuses"], true);

    // A login from that IP is refused before its password is checked:
    // begin hands out no reservation, and nothing is counted.
    for user in ["alice", "bob"] {
        let r = api.begin(IP, user).await;
        assert_eq!(r["admitted"], false, "{r}");
        assert!(r.get("id").is_none(), "{r}");
        assert_eq!(r["failures"], 0, "{r}");
        assert!(r["message"].is_string(), "{r}");
        let c = api.check(IP, user).await;
        assert_eq!(c["allowed"], false, "{c}");
        assert!(c.get("retry_after").is_none(), "until unblocked: {c}");
    }
    let (_, attempts) = api.call(Method::GET, "/attempts").await;
    assert_eq!(attempts["total"], 0, "{attempts}");
    assert_eq!(api.check("198.51.100.1", "alice").await["allowed"], true);

    let (status, list) = api.call(Method::GET, "/blocks").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0], b);
    let (_, by_ip) = api
        .call(Method::GET, &format!("/blocks?ip_address={IP}&kind=manual"))
        .await;
    assert_eq!(by_ip["total"], 1, "{by_ip}");
    let (_, other) = api
        .call(Method::GET, "/blocks?ip_address=198.51.100.1")
        .await;
    assert_eq!(other["total"], 0, "{other}");

    let (status, removed) = api
        .call(Method::DELETE, &format!("/blocks?ip_address={IP}"))
        .await;
    assert_eq!((status, removed), (200, json!({"removed": true})));
    let r = api.begin(IP, "alice").await;
    assert_eq!(r["admitted"], true, "{r}");
    let (status, again) = api
        .call(Method::DELETE, &format!("/blocks?ip_address={IP}"))
        .await;
    assert_eq!(status, 404, "{again}");
    assert_eq!(again["error"], "not_found");
    let (_, list) = api.call(Method::GET, "/blocks").await;
    assert_eq!(list, json!({"items": [], "total": 0}));
}

#[tokio::test]
async fn a_block_for_a_while_says_until_when() {
    let (_p, api, _env) = serve(memory(), "blocks-for");
    let before = Utc::now();
    let (status, b) = api
        .post(
            "/blocks",
            &json!({"username": " Mallory ", "ip_address": IP, "duration": "2h"}),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(b["username"], "mallory");
    let until: DateTime<Utc> = b["until"].as_str().unwrap().parse().unwrap();
    let d = until - before;
    assert!(
        d >= chrono::Duration::seconds(7199) && d <= chrono::Duration::seconds(7230),
        "{d}"
    );
    // The pair only.
    let c = api.check(IP, "mallory").await;
    assert_eq!(c["allowed"], false, "{c}");
    let retry = c["retry_after"].as_u64().unwrap();
    assert!((7100..=7200).contains(&retry), "{c}");
    assert_eq!(api.check(IP, "alice").await["allowed"], true);
    assert_eq!(api.check("198.51.100.1", "mallory").await["allowed"], true);

    let (status, b) = api
        .post(
            "/blocks",
            &json!({"username": "eve", "duration_seconds": 90}),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    let until: DateTime<Utc> = b["until"].as_str().unwrap().parse().unwrap();
    let created: DateTime<Utc> = b["created_at"].as_str().unwrap().parse().unwrap();
    assert_eq!((until - created).num_seconds(), 90);
    // Only the exact target is lifted.
    let (status, _) = api.call(Method::DELETE, "/blocks?username=mallory").await;
    assert_eq!(status, 404);
    let (status, _) = api
        .call(
            Method::DELETE,
            &format!("/blocks?username=MALLORY&ip_address={IP}"),
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bad_block_requests_are_json_errors() {
    let (_p, api, _env) = serve(memory(), "blocks-bad");
    for body in [
        json!({}),
        json!({"ip_address": ""}),
        json!({"ip_address": "300.1.1.1"}),
        json!({"ip_address": IP, "duration": "0"}),
        json!({"ip_address": IP, "duration_seconds": 0}),
        json!({"ip_address": IP, "duration": "soon"}),
        json!({"ip_address": IP, "duration": "200years"}),
        json!({"ip_address": IP, "duration_seconds": 9_000_000_000u64}),
        json!({"ip_address": IP, "duration": "2h", "duration_seconds": 60}),
        json!({"ip_address": IP, "until": "tomorrow"}),
        json!({"username": "a\u{1b}[31m"}),
    ] {
        let (status, e) = api.post("/blocks", &body).await;
        assert_eq!(status, 422, "{body}: {e}");
        assert_eq!(e["error"], "invalid_input", "{body}: {e}");
    }
    for query in ["", "?ip_address=nope", "?kind=x"] {
        let (status, e) = api.call(Method::DELETE, &format!("/blocks{query}")).await;
        assert_eq!(status, 422, "{query}: {e}");
    }
    for query in ["?kind=other", "?limit=0", "?ip_address=1.2.3", "?page=2"] {
        let (status, e) = api.call(Method::GET, &format!("/blocks{query}")).await;
        assert_eq!(status, 422, "{query}: {e}");
        assert_eq!(e["error"], "invalid_input");
    }
    let (_, list) = api.call(Method::GET, "/blocks").await;
    assert_eq!(list["total"], 0, "nothing was blocked: {list}");
}

#[tokio::test]
async fn blocks_need_the_bearer_token() {
    let token = "a-long-enough-api-token-0123456789";
    let (_p, api, _env) = serve(memory().set("AXES_API_TOKEN", token), "blocks-token");
    let (status, _) = api.post("/blocks", &json!({"ip_address": IP})).await;
    assert_eq!(status, 401);
    let (status, _) = api.call(Method::GET, "/blocks").await;
    assert_eq!(status, 401);
    let api = api.with_token(token);
    let (status, _) = api.post("/blocks", &json!({"ip_address": IP})).await;
    assert_eq!(status, 201);
    assert_eq!(api.check(IP, "alice").await["allowed"], false);
}
