//! Operations of `axes serve`: webhooks delivered to a real local receiver
//! (signed, private, never delaying a login, retried, dropped when the
//! queue is full, flushed at shutdown), `/metrics` (its counters, its
//! guard, the series documented in docs/operations.md), and
//! `--log-format json`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod process_support;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axes_cli::serve::metrics::Metrics;
use axes_cli::serve::webhook::{self, Webhook};
use axes_core::{Attempt, Axes, EventKind, Handler, Settings};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use process_support::{AxesEnv, DemoProcess, client};
use sha2::Sha256;
use tokio::sync::{Semaphore, mpsc};

const SECRET: &str = "a-webhook-secret-of-some-length";
const TOKEN: &str = "an-api-token-that-is-long-enough-0123456789";
/// Bound on waiting for something that should happen (not a speed claim).
const WITHIN: Duration = Duration::from_secs(20);

/// One request as the receiver saw it.
#[derive(Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

/// A webhook receiver on 127.0.0.1:0: it reports each request as it
/// arrives, then answers `status` once the gate lets it through.
struct Receiver {
    url: String,
    arrived: mpsc::UnboundedReceiver<Received>,
    gate: Arc<Semaphore>,
    answered: Arc<AtomicUsize>,
    status: Arc<AtomicU16>,
}

#[derive(Clone)]
struct ReceiverState {
    arrived: mpsc::UnboundedSender<Received>,
    gate: Arc<Semaphore>,
    answered: Arc<AtomicUsize>,
    status: Arc<AtomicU16>,
}

async fn receive(State(s): State<ReceiverState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let _ = s.arrived.send(Received { headers, body });
    s.gate.acquire().await.unwrap().forget();
    s.answered.fetch_add(1, Ordering::SeqCst);
    StatusCode::from_u16(s.status.load(Ordering::SeqCst)).unwrap()
}

impl Receiver {
    /// A receiver answering `status`; `open`: without waiting for the gate.
    async fn start(status: u16, open: bool) -> Receiver {
        let (tx, arrived) = mpsc::unbounded_channel();
        let gate = Arc::new(Semaphore::new(if open {
            Semaphore::MAX_PERMITS
        } else {
            0
        }));
        let answered = Arc::new(AtomicUsize::new(0));
        let status = Arc::new(AtomicU16::new(status));
        let state = ReceiverState {
            arrived: tx,
            gate: gate.clone(),
            answered: answered.clone(),
            status: status.clone(),
        };
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url,
            arrived,
            gate,
            answered,
            status,
        }
    }

    /// The next request, waiting at most [`WITHIN`].
    async fn next(&mut self) -> Received {
        tokio::time::timeout(WITHIN, self.arrived.recv())
            .await
            .expect("no webhook request arrived")
            .unwrap()
    }

    /// Whether another request arrives within `wait`.
    async fn another_within(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.arrived.recv())
            .await
            .is_ok()
    }
}

fn json(r: &Received) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap()
}

/// `POST /admin/login` with a wrong password; the status.
async fn fail_login(url: &str, username: &str) -> u16 {
    client()
        .post(format!("{url}/admin/login"))
        .form(&[("username", username), ("password", "wrong")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `GET /metrics` (with the token when given): status and body.
async fn scrape(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = client().get(format!("{url}/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The value of the sample `name` (with its labels, as written) in a text
/// exposition.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (n, v) = l.rsplit_once(' ')?;
        (n == name).then(|| v.parse().ok())?
    })
}

/// The metric family names (`# TYPE name …`) of a text exposition.
fn families(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Scrapes until the sample `name` reaches `value`; the last exposition.
async fn wait_sample(url: &str, token: Option<&str>, name: &str, value: f64) -> String {
    let start = Instant::now();
    loop {
        let (status, text) = scrape(url, token).await;
        assert_eq!(status, 200, "{text}");
        if sample(&text, name) == Some(value) {
            return text;
        }
        assert!(
            start.elapsed() < WITHIN,
            "{name} never reached {value}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn serve(env: &AxesEnv, name: &str) -> DemoProcess {
    env.serve(name, &[])
}

fn memory_env() -> AxesEnv {
    AxesEnv::new().set("AXES_HANDLER", "memory")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lockout_is_delivered_as_signed_json_and_counted_in_metrics() {
    let mut rx = Receiver::start(204, true).await;
    let env = memory_env()
        .set("AXES_WEBHOOK_URL", &rx.url)
        .set("AXES_WEBHOOK_SECRET", SECRET)
        .set("AXES_COOLOFF_TIME", "30m");
    let server = serve(&env, "serve");
    assert_eq!(fail_login(&server.url, "Mallory").await, 401);
    assert_eq!(fail_login(&server.url, "mallory").await, 401);
    assert_eq!(fail_login(&server.url, "mallory").await, 429);

    // Only `locked_out` by default: the first request is the lockout.
    let got = rx.next().await;
    let body = json(&got);
    assert_eq!(body["event"], "locked_out", "{body}");
    assert_eq!(body["username"], "mallory");
    assert_eq!(body["ip_address"], "127.0.0.1");
    assert_eq!(body["failures"], 3);
    assert_eq!(body["failure_limit"], 3);
    let retry = body["retry_after"].as_u64().unwrap();
    assert!((1..=1800).contains(&retry), "{body}");
    let at = body["at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    assert_eq!(got.headers["content-type"], "application/json");

    // The signature is the HMAC-SHA256 of the exact body bytes.
    let signature = got.headers["x-axes-signature"].to_str().unwrap();
    let hex_mac = signature.strip_prefix("sha256=").unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&got.body);
    mac.verify_slice(&hex::decode(hex_mac).unwrap()).unwrap();
    let mut wrong = Hmac::<Sha256>::new_from_slice(b"another secret").unwrap();
    wrong.update(&got.body);
    assert!(wrong.verify_slice(&hex::decode(hex_mac).unwrap()).is_err());

    // A refusal while locked out is an event too.
    assert_eq!(fail_login(&server.url, "mallory").await, 429);
    assert_eq!(json(&rx.next().await)["event"], "locked_out");

    // The counters, read from the text format.
    let text = wait_sample(&server.url, None, "axes_webhook_deliveries_total", 2.0).await;
    for (name, value) in [
        ("axes_failures_total", 3.0),
        ("axes_lockouts_total", 1.0),
        ("axes_refusals_total", 1.0),
        ("axes_attempts_total{outcome=\"failed\"}", 3.0),
        ("axes_attempts_total{outcome=\"refused\"}", 1.0),
        ("axes_events_total{event=\"login_failed\"}", 3.0),
        ("axes_events_total{event=\"locked_out\"}", 2.0),
        ("axes_webhook_failures_total", 0.0),
        ("axes_webhook_dropped_total", 0.0),
        (
            "axes_http_requests_total{route=\"admin\",status=\"401\"}",
            2.0,
        ),
        (
            "axes_http_requests_total{route=\"admin\",status=\"429\"}",
            2.0,
        ),
    ] {
        assert_eq!(sample(&text, name), Some(value), "{name}:\n{text}");
    }
    let calls = sample(&text, "axes_store_call_seconds_count{store=\"memory\"}").unwrap();
    assert!(calls >= 4.0, "{text}");
    // No username or IP anywhere in the exposition.
    assert!(
        !text.contains("mallory") && !text.contains("127.0.0.1"),
        "{text}"
    );

    // The sample scrape of docs/operations.md names exactly these series.
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/operations.md"),
    )
    .unwrap();
    let start = docs
        .find("```text\n# HELP")
        .expect("a sample scrape in docs/operations.md");
    let end = docs[start..].find("\n```").unwrap() + start;
    assert_eq!(families(&docs[start..end]), families(&text));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ip_is_left_out_when_ips_are_not_stored() {
    let mut rx = Receiver::start(200, true).await;
    let env = memory_env()
        .set("AXES_WEBHOOK_URL", &rx.url)
        .set("AXES_WEBHOOK_EVENTS", "login_failed")
        .set("AXES_STORE_IP_ADDRESS", "false")
        .set("AXES_LOCKOUT_PARAMETERS", "username");
    let server = serve(&env, "serve-private");
    assert_eq!(fail_login(&server.url, "eve").await, 401);
    let got = rx.next().await;
    let body = json(&got);
    assert_eq!(body["event"], "login_failed", "{body}");
    assert_eq!(body["username"], "eve");
    assert!(body.get("ip_address").is_none(), "{body}");
    assert!(!String::from_utf8_lossy(&got.body).contains("127.0.0.1"));
    // No secret: no signature.
    assert!(got.headers.get("x-axes-signature").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_receiver_does_not_delay_the_login() {
    let mut rx = Receiver::start(200, false).await;
    let env = memory_env()
        .set("AXES_WEBHOOK_URL", &rx.url)
        .set("AXES_WEBHOOK_EVENTS", "login_failed,locked_out")
        .set("AXES_FAILURE_LIMIT", "10");
    let server = serve(&env, "serve-slow");
    assert_eq!(fail_login(&server.url, "ann").await, 401);
    // The receiver holds the first event and does not answer…
    assert_eq!(json(&rx.next().await)["username"], "ann");
    // …while more logins are answered (a blocked login would hang until
    // the client gives up: the gate is opened only after these).
    for _ in 0..3 {
        assert_eq!(fail_login(&server.url, "bob").await, 401);
    }
    assert_eq!(rx.answered.load(Ordering::SeqCst), 0);
    rx.gate.add_permits(Semaphore::MAX_PERMITS);
    for _ in 0..3 {
        assert_eq!(json(&rx.next().await)["username"], "bob");
    }
    wait_sample(&server.url, None, "axes_webhook_deliveries_total", 4.0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_receiver_gets_retries_then_a_counted_failure() {
    let mut rx = Receiver::start(500, true).await;
    let env = memory_env()
        .set("AXES_WEBHOOK_URL", &rx.url)
        .set("AXES_WEBHOOK_EVENTS", "login_failed");
    let server = serve(&env, "serve-500");
    assert_eq!(fail_login(&server.url, "zed").await, 401);
    for _ in 0..webhook::TRIES {
        assert_eq!(json(&rx.next().await)["username"], "zed");
    }
    let text = wait_sample(&server.url, None, "axes_webhook_failures_total", 1.0).await;
    assert_eq!(
        sample(&text, "axes_webhook_retries_total"),
        Some(f64::from(webhook::TRIES - 1))
    );
    assert_eq!(sample(&text, "axes_webhook_deliveries_total"), Some(0.0));
    assert!(!rx.another_within(Duration::from_millis(300)).await);

    // A 4xx other than 429 is not retried.
    rx.status.store(400, Ordering::SeqCst);
    assert_eq!(fail_login(&server.url, "zed").await, 401);
    rx.next().await;
    wait_sample(&server.url, None, "axes_webhook_failures_total", 2.0).await;
    assert!(!rx.another_within(Duration::from_millis(800)).await);
    assert!(
        server.wait_log("webhook: login_failed event not delivered", 2) >= 2,
        "{}",
        server.log_text()
    );
    assert!(
        !server.log_text().contains(&rx.url),
        "{}",
        server.log_text()
    );
}

/// In-process, with a queue of one: while the receiver holds one event,
/// one more waits and the rest are dropped and counted; the logins are
/// not held up; at shutdown the waiting one is sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_queue_drops_and_counts_and_shutdown_flushes() {
    let mut rx = Receiver::start(200, false).await;
    let settings = Settings {
        handler: Handler::Memory,
        failure_limit: 100,
        ..Settings::default()
    };
    let axes = Axes::builder(settings).build().unwrap();
    let metrics = Metrics::new();
    let cfg = webhook::Config {
        url: rx.url.parse().unwrap(),
        secret: None,
        events: vec![EventKind::LoginFailed],
        store_ip_address: true,
        capacity: 1,
        timeout: Duration::from_secs(60),
        tries: 1,
        backoff: Duration::from_millis(10),
        flush: Duration::from_secs(2),
    };
    let hook = Webhook::start_with(&axes, cfg, &metrics).unwrap();
    let fail = |n: u8| {
        let axes = axes.clone();
        async move {
            let attempt = Attempt::new()
                .ip_address(IpAddr::V4(Ipv4Addr::new(192, 0, 2, n)))
                .username(format!("user{n}"));
            let ticket = axes.begin(&attempt).await.unwrap();
            assert!(ticket.failed().await.is_none());
        }
    };
    fail(1).await;
    assert_eq!(json(&rx.next().await)["username"], "user1");
    // The first is held by the receiver: one more fits, three do not.
    for n in 2..=5 {
        fail(n).await;
    }
    let dump = metrics.render();
    assert_eq!(
        sample(&dump, "axes_webhook_dropped_total"),
        Some(3.0),
        "{dump}"
    );
    rx.gate.add_permits(Semaphore::MAX_PERMITS);
    hook.shutdown().await;
    assert_eq!(json(&rx.next().await)["username"], "user2");
    assert_eq!(
        sample(&metrics.render(), "axes_webhook_deliveries_total"),
        Some(2.0)
    );
}

/// A receiver that never answers does not keep the process from exiting
/// after SIGTERM.
#[tokio::test(flavor = "multi_thread")]
async fn a_stuck_receiver_does_not_hold_the_shutdown() {
    use rustix::process::{Pid, Signal, kill_process};
    let mut rx = Receiver::start(200, false).await;
    let env = memory_env()
        .set("AXES_WEBHOOK_URL", &rx.url)
        .set("AXES_WEBHOOK_EVENTS", "login_failed")
        .set("AXES_FAILURE_LIMIT", "10");
    let mut server = serve(&env, "serve-stuck");
    for user in ["a", "b", "c"] {
        assert_eq!(fail_login(&server.url, user).await, 401);
    }
    rx.next().await;
    let pid = Pid::from_raw(i32::try_from(server.pid()).unwrap()).unwrap();
    kill_process(pid, Signal::TERM).unwrap();
    let exit = tokio::task::spawn_blocking(move || {
        let exit = server.wait_exit(WITHIN);
        (exit, server.log_text())
    })
    .await
    .unwrap();
    let (status, log) = exit;
    assert!(status.is_some_and(|s| s.success()), "{status:?}\n{log}");
    assert!(log.contains("webhook:"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_need_the_api_token_when_one_is_set() {
    let env = memory_env().set("AXES_API_TOKEN", TOKEN);
    let server = serve(&env, "serve-token");
    assert_eq!(scrape(&server.url, None).await.0, 401);
    assert_eq!(scrape(&server.url, Some("wrong-token")).await.0, 401);
    let (status, text) = scrape(&server.url, Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert!(text.contains("axes_failures_total 0"), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_are_one_object_per_line_without_secrets() {
    let env = memory_env()
        .set("AXES_API_TOKEN", TOKEN)
        .set("AXES_WEBHOOK_URL", "http://127.0.0.1:9/never-answered")
        .set("AXES_WEBHOOK_SECRET", SECRET)
        .set("AXES_STORE_IP_ADDRESS", "false")
        .set("AXES_LOCKOUT_PARAMETERS", "username");
    let server = env.serve("serve-json", &["--log-format", "json"]);
    assert_eq!(fail_login(&server.url, "jo").await, 401);
    server.wait_log("login failure", 1);
    let lines = server.log_lines();
    let failure = lines
        .iter()
        .find(|l| l.contains("login failure"))
        .unwrap_or_else(|| panic!("no failure line:\n{}", lines.join("\n")));
    let v: serde_json::Value = serde_json::from_str(failure).unwrap();
    assert_eq!(v["level"], "WARN", "{v}");
    assert!(v["message"].as_str().unwrap().contains("\"jo\""), "{v}");
    assert!(v["timestamp"].is_string(), "{v}");
    for line in &lines {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON: {line}"
        );
        assert!(!line.contains(TOKEN) && !line.contains(SECRET), "{line}");
        assert!(!line.contains("127.0.0.1"), "{line}");
    }
}

/// `axes demo` sends webhooks with the same module.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_sends_webhooks_too() {
    let mut rx = Receiver::start(200, true).await;
    let env = memory_env()
        .set("AXES_WEBHOOK_URL", &rx.url)
        .set("AXES_WEBHOOK_EVENTS", "login_failed,logged_in");
    let demo = env.demo("demo-webhook");
    let (status, _) =
        process_support::login(&client(), &demo.url, process_support::USER, "nope").await;
    assert_eq!(status, 401);
    let body = json(&rx.next().await);
    assert_eq!(body["event"], "login_failed", "{body}");
    assert_eq!(body["username"], process_support::USER);
    let (status, _) = process_support::login(
        &client(),
        &demo.url,
        process_support::USER,
        process_support::PASSWORD,
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(json(&rx.next().await)["event"], "logged_in");
}
