//! The service API of `axes serve` over real HTTP, as a remote app uses it:
//! the real binary, started as a child process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;
mod process_support;

use std::time::{Duration, Instant};

use api_support::Api;
use process_support::{AxesEnv, DemoProcess};
use reqwest::Method;
use serde_json::{Value, json};

const IP: &str = "203.0.113.7";

/// The service and its client; keep the environment (its working
/// directory) alive as long as the process.
fn serve(env: AxesEnv, name: &str) -> (DemoProcess, Api, AxesEnv) {
    let p = env.serve(name, &[]);
    let api = Api::new(&p.url);
    (p, api, env)
}

fn memory() -> AxesEnv {
    AxesEnv::new().set("AXES_HANDLER", "memory")
}

#[tokio::test]
async fn begin_and_finish_lock_out_exactly_at_the_limit() {
    // The default store: SQLite in the working directory.
    let (_p, api, _env) = serve(AxesEnv::new().set("AXES_FAILURE_LIMIT", "3"), "sqlite");
    // A right password gives its slot back.
    let b = api.begin(IP, "alice").await;
    assert_eq!(b["admitted"], true);
    assert_eq!(b["failures"], 1);
    assert_eq!(b["failure_limit"], 3);
    let id = b["id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    let (status, f) = api.finish(id, true).await;
    assert_eq!((status, &f), (200, &json!({"locked_out": false})));
    assert_eq!(api.check(IP, "alice").await["failures"], 0);
    // Failures 1 and 2 are answered "wrong password"; 3 is the lockout.
    for n in 1..=2 {
        let b = api.begin(IP, "alice").await;
        assert_eq!(b["failures"], n);
        let (_, f) = api.finish(b["id"].as_str().unwrap(), false).await;
        assert_eq!(f, json!({"locked_out": false, "failures": n}));
    }
    let b = api.begin(IP, "alice").await;
    assert_eq!(b["admitted"], true);
    let (_, f) = api.finish(b["id"].as_str().unwrap(), false).await;
    assert_eq!(f["locked_out"], true, "{f}");
    assert_eq!(f["failures"], 3);
    assert!(f["message"].as_str().unwrap().contains("locked"), "{f}");
    // From now on begin refuses, without an id, even for a right password.
    let b = api.begin(IP, "alice").await;
    assert_eq!(b["admitted"], false, "{b}");
    assert!(b.get("id").is_none(), "{b}");
    assert!(b["message"].is_string());
    let c = api.check(IP, "alice").await;
    assert_eq!(c["allowed"], false, "{c}");
    // Another address is not affected.
    assert_eq!(api.check("198.51.100.1", "alice").await["allowed"], true);
}

#[tokio::test]
async fn check_counts_nothing() {
    let (_p, api, _env) = serve(memory().set("AXES_FAILURE_LIMIT", "2"), "check");
    for _ in 0..10 {
        let c = api.check(IP, "bob").await;
        assert_eq!(
            c,
            json!({"allowed": true, "failures": 0, "failure_limit": 2})
        );
    }
    api.fail(IP, "bob").await;
    assert_eq!(api.check(IP, "bob").await["failures"], 1);
    assert_eq!(api.check(IP, "bob").await["failures"], 1);
}

#[tokio::test]
async fn after_the_fact_reports_count_and_log() {
    let (_p, api, _env) = serve(memory().set("AXES_FAILURE_LIMIT", "2"), "reports");
    let body = json!({"ip_address": IP, "username": "carol", "path": "/login"});
    let (s, d) = api.post("/login-failed", &body).await;
    assert_eq!(
        (s, &d),
        (
            200,
            &json!({"allowed": true, "failures": 1, "failure_limit": 2})
        )
    );
    let (_, d) = api.post("/login-failed", &body).await;
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(d["failures"], 2);
    let report = json!({"ip_address": "198.51.100.2", "username": "dave", "session_id": "s1"});
    assert_eq!(
        api.post("/logged-in", &report).await,
        (200, json!({"recorded": true}))
    );
    assert_eq!(
        api.post("/logged-out", &report).await,
        (200, json!({"recorded": true}))
    );
}

#[tokio::test]
async fn usernames_are_normalised_as_the_layer_does() {
    let (_p, api, _env) = serve(
        memory().set("AXES_LOCKOUT_PARAMETERS", "username"),
        "normalise",
    );
    api.fail(IP, "  Eve ").await;
    api.fail("198.51.100.3", "EVE").await;
    assert_eq!(api.check("192.0.2.1", "eve").await["failures"], 2);
    let (_, list) = api.call(Method::GET, "/attempts?username=EVE").await;
    // Both attempts, filed under the one normalised name.
    assert_eq!(list["total"], 2, "{list}");
    for item in list["items"].as_array().unwrap() {
        assert_eq!(item["username"], "eve", "{list}");
    }
}

#[tokio::test]
async fn list_and_reset_with_and_semantics() {
    let (_p, api, _env) = serve(memory().set("AXES_FAILURE_LIMIT", "1"), "reset");
    api.fail(IP, "frank").await;
    api.fail("198.51.100.4", "frank").await;
    assert_eq!(api.begin(IP, "frank").await["admitted"], false);
    let (s, list) = api.call(Method::GET, "/attempts").await;
    assert_eq!(s, 200);
    assert_eq!(list["total"], 2, "{list}");
    let (_, list) = api
        .call(Method::GET, &format!("/attempts?ip_address={IP}&username="))
        .await;
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["ip_address"], IP);
    // AND: this IP with another name matches nothing.
    let (s, r) = api
        .call(
            Method::DELETE,
            &format!("/attempts?ip_address={IP}&username=zed"),
        )
        .await;
    assert_eq!((s, r), (200, json!({"removed": 0})));
    // No filter is refused rather than wiping everything.
    let (s, r) = api.call(Method::DELETE, "/attempts").await;
    assert_eq!(s, 422, "{r}");
    let (s, r) = api
        .call(Method::DELETE, &format!("/attempts?ip_address={IP}"))
        .await;
    assert_eq!((s, r), (200, json!({"removed": 1})));
    assert_eq!(api.check(IP, "frank").await["allowed"], true);
    let (s, r) = api.call(Method::DELETE, "/attempts?all=true").await;
    assert_eq!((s, r), (200, json!({"removed": 1})));
    let (s, r) = api.call(Method::DELETE, "/logs?age_days=0").await;
    assert_eq!(s, 200);
    assert!(r["removed"].is_u64(), "{r}");
    let (s, r) = api.call(Method::DELETE, "/attempts?ip_address=1.2.3").await;
    assert_eq!(s, 422);
    assert!(r["detail"].as_str().unwrap().contains("ip_address"), "{r}");
}

#[tokio::test]
async fn purge_removes_only_expired_attempts() {
    // SQLite: the memory store also drops expired records as new failures
    // arrive, which would leave the purge nothing to show.
    let (_p, api, _env) = serve(
        AxesEnv::new()
            .set("AXES_FAILURE_LIMIT", "1")
            .set("AXES_COOLOFF_TIME", "1s"),
        "purge",
    );
    api.fail(IP, "old").await;
    assert_eq!(api.check(IP, "old").await["allowed"], false);
    // Nothing has expired yet.
    let (s, r) = api.call(Method::POST, "/purge").await;
    assert_eq!((s, r), (200, json!({"removed": 0})));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    api.fail("198.51.100.9", "new").await;
    let (s, r) = api.call(Method::POST, "/purge").await;
    assert_eq!((s, r), (200, json!({"removed": 1})));
    let (_, list) = api.call(Method::GET, "/attempts").await;
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["username"], "new", "{list}");
}

#[tokio::test]
async fn without_storing_ips_no_ip_is_answered() {
    let (_p, api, _env) = serve(
        memory()
            .set("AXES_STORE_IP_ADDRESS", "false")
            .set("AXES_LOCKOUT_PARAMETERS", "username"),
        "gdpr",
    );
    api.fail(IP, "grace").await;
    let (_, list) = api.call(Method::GET, "/attempts").await;
    assert_eq!(list["total"], 1, "{list}");
    assert!(list["items"][0].get("ip_address").is_none(), "{list}");
    assert!(!list.to_string().contains(IP), "{list}");
}

#[tokio::test]
async fn a_token_is_required_when_set() {
    let token = "a-long-random-token-of-more-than-32-chars";
    let (p, open, _env) = serve(memory().set("AXES_API_TOKEN", token), "token");
    for (name, api) in [
        ("no token", open.clone()),
        (
            "wrong token",
            open.clone()
                .with_token("a-long-random-token-of-more-than-32-chaRs"),
        ),
    ] {
        let resp = api
            .http
            .post(format!("{}/check", api.base))
            .bearer_auth(api.token.as_deref().unwrap_or(""))
            .json(&json!({"ip_address": IP, "username": "h"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{name}");
        assert!(
            resp.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer"),
            "{name}"
        );
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"], "unauthorized", "{name}");
        // Unknown routes and the nginx check are guarded too.
        assert_eq!(api.call(Method::GET, "/nope").await.0, 401, "{name}");
        assert_eq!(api.call(Method::GET, "/auth").await.0, 401, "{name}");
    }
    let api = Api::new(&p.url).with_token(token);
    assert_eq!(api.check(IP, "h").await["allowed"], true);
    assert_eq!(api.call(Method::GET, "/auth").await.0, 204);
}

#[tokio::test]
async fn errors_are_json_with_the_right_status() {
    let (_p, api, _env) = serve(memory(), "errors");
    // 422 naming the field.
    let (s, e) = api
        .post(
            "/check",
            &json!({"ip_address": "999.1.1.1", "username": "i"}),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(e["error"], "invalid_input");
    assert!(
        e["detail"].as_str().unwrap().starts_with("ip_address"),
        "{e}"
    );
    // Unknown fields, missing fields, wrong types, duplicate fields.
    for body in [
        r#"{"ip_address":"192.0.2.1","username":"i","password":"x"}"#,
        r#"{"username":"i"}"#,
        r#"{"ip_address":"192.0.2.1","username":7}"#,
        r#"{"ip_address":"192.0.2.1","username":"i","username":"j"}"#,
        r#"not json"#,
    ] {
        let (s, e) = api
            .post_raw("/attempts/begin", "application/json", body.into())
            .await;
        assert_eq!(s, 422, "{body}: {e}");
        assert_eq!(e["error"], "invalid_input");
    }
    let long = "u".repeat(1025);
    let (s, e) = api
        .post(
            "/check",
            &json!({"ip_address": "192.0.2.1", "username": long}),
        )
        .await;
    assert_eq!(s, 422);
    assert!(e["detail"].as_str().unwrap().starts_with("username"), "{e}");
    // 415
    let (s, e) = api
        .post_raw(
            "/check",
            "text/plain",
            br#"{"ip_address":"192.0.2.1","username":"i"}"#.to_vec(),
        )
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (s, e) = api
        .post_raw(
            "/check",
            "application/x-www-form-urlencoded",
            b"ip_address=192.0.2.1&username=i".to_vec(),
        )
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    // 413 (the API's own 16 KiB bound, below the server's).
    let big = json!({"ip_address": "192.0.2.1", "username": "x".repeat(20_000)});
    let (s, e) = api
        .post_raw("/check", "application/json", big.to_string().into_bytes())
        .await;
    assert_eq!((s, e["error"].as_str()), (413, Some("payload_too_large")));
    // Beyond the server's own bound (--max-body-size, 64 KiB): JSON too.
    let huge = json!({"ip_address": "192.0.2.1", "username": "x".repeat(100_000)});
    let (s, e) = api
        .post_raw("/check", "application/json", huge.to_string().into_bytes())
        .await;
    assert_eq!((s, e["error"].as_str()), (413, Some("payload_too_large")));
    // 404: route and reservation; 405.
    let (s, e) = api.call(Method::GET, "/no/such/route").await;
    assert_eq!((s, e["error"].as_str()), (404, Some("not_found")));
    let (s, e) = api.finish(&"0".repeat(32), true).await;
    assert_eq!((s, e["error"].as_str()), (404, Some("not_found")));
    let (s, e) = api.finish("not-an-id", true).await;
    assert_eq!((s, e["error"].as_str()), (404, Some("not_found")));
    let (s, e) = api.call(Method::GET, "/check").await;
    assert_eq!((s, e["error"].as_str()), (405, Some("method_not_allowed")));
    let (s, e) = api.call(Method::PUT, "/attempts").await;
    assert_eq!((s, e["error"].as_str()), (405, Some("method_not_allowed")));
    // 409: finished twice; another username than the reserved one.
    let b = api.begin(IP, "judy").await;
    let id = b["id"].as_str().unwrap();
    let (s, e) = api
        .post(
            &format!("/attempts/{id}/finish"),
            &json!({"success": true, "username": "mallory"}),
        )
        .await;
    assert_eq!((s, e["error"].as_str()), (409, Some("conflict")), "{e}");
    let (s, _) = api
        .post(
            &format!("/attempts/{id}/finish"),
            &json!({"success": false, "username": " JUDY"}),
        )
        .await;
    assert_eq!(s, 200, "the reserved name, normalised, is accepted");
    let (s, e) = api.finish(id, true).await;
    assert_eq!((s, e["error"].as_str()), (409, Some("conflict")));
    // Unknown query parameters.
    let (s, _) = api.call(Method::GET, "/attempts?ip=1.2.3.4").await;
    assert_eq!(s, 422);
}

#[tokio::test]
async fn an_unfinished_reservation_counts_as_a_failure_after_its_deadline() {
    let (p, api, _env) = serve(
        memory()
            .set("AXES_API_RESERVATION_TIMEOUT", "300ms")
            .set("AXES_FAILURE_LIMIT", "2"),
        "deadline",
    );
    let b = api.begin(IP, "kim").await;
    let id = b["id"].as_str().unwrap().to_owned();
    // The sweeper finishes it as a failure (its log line), ...
    let deadline = Instant::now() + Duration::from_secs(10);
    while p.count_log("not finished in time") == 0 {
        assert!(
            Instant::now() < deadline,
            "never expired:\n{}",
            p.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // ... so a late finish cannot give the slot back.
    let (s, e) = api.finish(&id, true).await;
    assert_eq!(s, 409, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("expired"), "{e}");
    assert_eq!(api.check(IP, "kim").await["failures"], 1);
    // The failure is a real one: the next reaches the limit.
    let b = api.begin(IP, "kim").await;
    let (_, f) = api.finish(b["id"].as_str().unwrap(), false).await;
    assert_eq!(f["locked_out"], true, "{f}");
}

#[tokio::test]
async fn a_full_reservation_table_refuses_begin_and_keeps_the_open_ones() {
    let (_p, api, _env) = serve(memory().set("AXES_API_MAX_RESERVATIONS", "2"), "full");
    let a = api.begin(IP, "leo").await;
    let b = api.begin("198.51.100.5", "leo").await;
    let (s, e) = api
        .post(
            "/attempts/begin",
            &json!({"ip_address": "198.51.100.6", "username": "leo"}),
        )
        .await;
    assert_eq!((s, e["error"].as_str()), (503, Some("unavailable")), "{e}");
    // Nothing was counted for the refused one.
    assert_eq!(api.check("198.51.100.6", "leo").await["failures"], 0);
    // Both open ones still finish; then there is room again.
    assert_eq!(api.finish(a["id"].as_str().unwrap(), true).await.0, 200);
    assert_eq!(api.finish(b["id"].as_str().unwrap(), false).await.0, 200);
    assert_eq!(api.begin("198.51.100.6", "leo").await["admitted"], true);
}

/// N parallel begins from one client with limit L admit exactly L (the
/// reservation is atomic in the store), on the memory store and SQLite.
#[tokio::test]
async fn parallel_begins_admit_exactly_the_limit() {
    const LIMIT: usize = 5;
    const N: usize = 40;
    for (name, env) in [("memory", memory()), ("sqlite", AxesEnv::new())] {
        let (_p, api, _env) = serve(env.set("AXES_FAILURE_LIMIT", &LIMIT.to_string()), name);
        let tasks: Vec<_> = (0..N)
            .map(|_| {
                let api = api.clone();
                tokio::spawn(async move { api.begin(IP, "mia").await })
            })
            .collect();
        let mut admitted = 0;
        for t in tasks {
            if t.await.unwrap()["admitted"] == true {
                admitted += 1;
            }
        }
        assert_eq!(admitted, LIMIT, "{name}");
    }
}

#[tokio::test]
async fn the_nginx_check_answers_204_or_403() {
    let (_p, api, _env) = serve(memory().set("AXES_FAILURE_LIMIT", "1"), "auth");
    // Without trusted proxies the client is the socket peer: 127.0.0.1.
    assert_eq!(api.call(Method::GET, "/auth").await, (204, Value::Null));
    api.fail("127.0.0.1", "nina").await;
    let resp = api
        .http
        .get(format!("{}/auth", api.base))
        .header("x-forwarded-for", "198.51.100.9")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        403,
        "a header from an untrusted peer is ignored"
    );
    let resp = api
        .http
        .get(format!("{}/auth", api.base))
        .header("x-axes-username", "a")
        .header("x-axes-username", "b")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422, "two usernames are refused");
    // A UTF-8 username is read as such (and counted apart from others).
    let resp = api
        .http
        .get(format!("{}/auth", api.base))
        .header(
            "x-axes-username",
            reqwest::header::HeaderValue::from_bytes("zoë".as_bytes()).unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "127.0.0.1 is still locked out");
}
