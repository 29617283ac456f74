//! Shared by `service_api.rs`, `service_docs.rs` and `nginx_auth_request.rs`:
//! a JSON client for `/api/v1` of a running `axes serve`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

/// A client of one running service.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
}

impl Api {
    /// The API of the service at `url` (its root, without `/api/v1`).
    pub fn new(url: &str) -> Self {
        Api {
            base: format!("{url}/api/v1"),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap(),
            token: None,
        }
    }

    /// With a bearer token.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    fn auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// `POST path` with a JSON body: status and JSON answer (`Null` when
    /// the answer has no body).
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let req = self.http.post(format!("{}{path}", self.base)).json(body);
        send(self.auth(req)).await
    }

    /// `POST path` with a raw body and content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        send(self.auth(req)).await
    }

    /// Any method on `path` (query included), no body.
    pub async fn call(&self, method: reqwest::Method, path: &str) -> (u16, Value) {
        let req = self.http.request(method, format!("{}{path}", self.base));
        send(self.auth(req)).await
    }

    /// `begin` for `ip` and `user`.
    pub async fn begin(&self, ip: &str, user: &str) -> Value {
        let (status, v) = self
            .post(
                "/attempts/begin",
                &json!({"ip_address": ip, "username": user}),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v
    }

    /// `finish` of `id`.
    pub async fn finish(&self, id: &str, success: bool) -> (u16, Value) {
        self.post(
            &format!("/attempts/{id}/finish"),
            &json!({ "success": success }),
        )
        .await
    }

    /// `check` for `ip` and `user`.
    pub async fn check(&self, ip: &str, user: &str) -> Value {
        let (status, v) = self
            .post("/check", &json!({"ip_address": ip, "username": user}))
            .await;
        assert_eq!(status, 200, "{v}");
        v
    }

    /// A wrong password, the whole way: begin, then finish as a failure
    /// when admitted. The begin answer.
    pub async fn fail(&self, ip: &str, user: &str) -> Value {
        let b = self.begin(ip, user).await;
        if b["admitted"] == true {
            let (status, f) = self.finish(b["id"].as_str().unwrap(), false).await;
            assert_eq!(status, 200, "{f}");
        }
        b
    }
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let is_json = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let text = resp.text().await.unwrap();
    if text.is_empty() {
        return (status, Value::Null);
    }
    assert!(is_json, "a non-JSON answer ({status}): {text}");
    (status, serde_json::from_str(&text).unwrap())
}
