//! nginx `auth_request` in front of a login app, with `axes serve`
//! deciding: Debian's real nginx (run as a child, in its own prefix, on
//! loopback) with the shipped `examples/nginx/nginx.conf`, a small login
//! app that reports outcomes to the API, and clients on different loopback
//! addresses. A locked-out address is stopped at nginx (403) and never
//! reaches the app; an honest one passes.
//!
//! Needs nginx (`.ci/run` installs it); without it the test is skipped —
//! and fails under `CI`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;
mod process_support;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use api_support::Api;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use process_support::{AxesEnv, ChildGuard, free_port, skip};
use serde_json::json;

const RIGHT: &str = "right-password";

fn nginx_binary() -> Option<PathBuf> {
    if Path::new("/usr/sbin/nginx").is_file() {
        return Some("/usr/sbin/nginx".into());
    }
    let ok = Command::new("nginx")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| "nginx".into())
}

/// The login app behind nginx: checks `alice`'s password under an axes
/// reservation, the way an app in any language would.
#[derive(Clone)]
struct App {
    api: Api,
    /// Login requests that reached the app.
    seen: Arc<AtomicUsize>,
}

async fn login(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> (StatusCode, String) {
    app.seen.fetch_add(1, Ordering::SeqCst);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (username, password) = (field("username"), field("password"));
    // Set by nginx; the app is reachable through nginx only.
    let ip = headers
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let b = app.api.begin(&ip, &username).await;
    if b["admitted"] != true {
        return (StatusCode::TOO_MANY_REQUESTS, "locked out".into());
    }
    let ok = username == "alice" && password == RIGHT;
    let (_, f) = app.api.finish(b["id"].as_str().unwrap(), ok).await;
    match (ok, f["locked_out"] == true) {
        (true, _) => (StatusCode::OK, format!("welcome {username}")),
        (false, false) => (StatusCode::UNAUTHORIZED, "wrong password".into()),
        (false, true) => (StatusCode::TOO_MANY_REQUESTS, "locked out".into()),
    }
}

/// The shipped example with this test's ports, and a private prefix.
fn config(prefix: &Path, nginx_port: u16, app: SocketAddr, axes: &str) -> PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/nginx/nginx.conf");
    let text = std::fs::read_to_string(example).unwrap();
    for needle in [
        "server 127.0.0.1:3000;",
        "server 127.0.0.1:8000;",
        "listen 127.0.0.1:8080;",
        "http {",
    ] {
        assert_eq!(
            text.matches(needle).count(),
            1,
            "the example has one `{needle}`"
        );
    }
    let temp = prefix.join("temp");
    let mut private = String::from("http {\n");
    for (directive, dir) in [
        ("client_body_temp_path", "body"),
        ("proxy_temp_path", "proxy"),
        ("fastcgi_temp_path", "fastcgi"),
        ("uwsgi_temp_path", "uwsgi"),
        ("scgi_temp_path", "scgi"),
    ] {
        private.push_str(&format!("    {directive} {};\n", temp.join(dir).display()));
    }
    private.push_str("    access_log off;\n");
    let text = text
        .replace("server 127.0.0.1:3000;", &format!("server {app};"))
        .replace("server 127.0.0.1:8000;", &format!("server {axes};"))
        .replace(
            "listen 127.0.0.1:8080;",
            &format!("listen 127.0.0.1:{nginx_port};"),
        )
        .replace("http {\n", &private);
    let path = prefix.join("nginx.conf");
    std::fs::write(&path, text).unwrap();
    path
}

fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn post_login(client: &reqwest::Client, url: &str, user: &str, password: &str) -> u16 {
    client
        .post(format!("{url}/login"))
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_locked_out_address_is_stopped_at_nginx_and_an_honest_one_passes() {
    let Some(nginx) = nginx_binary() else {
        skip("nginx is not installed (apt-get install nginx-light)");
        return;
    };
    // axes: believes nginx (127.0.0.1) about the client address.
    let env = AxesEnv::new()
        .set("AXES_HANDLER", "memory")
        .set("AXES_FAILURE_LIMIT", "3")
        .set("AXES_TRUSTED_PROXIES", "127.0.0.1/32");
    let axes = env.serve("axes", &[]);
    let axes_addr = axes.url.trim_start_matches("http://").to_owned();
    let api = Api::new(&axes.url);

    // The login app.
    let app = App {
        api: api.clone(),
        seen: Arc::new(AtomicUsize::new(0)),
    };
    let seen = app.seen.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_addr = listener.local_addr().unwrap();
    let router = axum::Router::new()
        .route("/login", post(login))
        .with_state(app);
    tokio::spawn(async move { axum::serve(listener, router).await });

    // nginx, in the foreground, in its own prefix.
    let prefix = tempfile::tempdir().unwrap();
    for dir in [
        "temp/body",
        "temp/proxy",
        "temp/fastcgi",
        "temp/uwsgi",
        "temp/scgi",
        "logs",
    ] {
        std::fs::create_dir_all(prefix.path().join(dir)).unwrap();
    }
    #[cfg(unix)]
    {
        // Workers run as `nobody` when the test runs as root.
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(prefix.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        for dir in [
            "temp",
            "temp/body",
            "temp/proxy",
            "temp/fastcgi",
            "temp/uwsgi",
            "temp/scgi",
        ] {
            std::fs::set_permissions(
                prefix.path().join(dir),
                std::fs::Permissions::from_mode(0o777),
            )
            .unwrap();
        }
    }
    let port = free_port();
    let conf = config(prefix.path(), port, app_addr, &axes_addr);
    let globals = format!(
        "daemon off; master_process off; pid {};",
        prefix.path().join("nginx.pid").display()
    );
    let mut child = Command::new(&nginx);
    child
        .arg("-p")
        .arg(prefix.path())
        .arg("-c")
        .arg(&conf)
        .args(["-e", "stderr", "-g", &globals])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let _nginx = ChildGuard(child.spawn().unwrap());
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let honest = client_from("127.0.0.3");
    let attacker = client_from("127.0.0.2");
    assert_eq!(post_login(&honest, &url, "alice", RIGHT).await, 200);

    // Three wrong passwords: the app answers; the third locks out.
    assert_eq!(post_login(&attacker, &url, "alice", "guess1").await, 401);
    assert_eq!(post_login(&attacker, &url, "alice", "guess2").await, 401);
    assert_eq!(post_login(&attacker, &url, "alice", "guess3").await, 429);
    let reached = seen.load(Ordering::SeqCst);
    assert_eq!(reached, 4);

    // Now nginx stops the address itself — even with the right password —
    // and the app never sees the request.
    for password in ["guess4", RIGHT] {
        assert_eq!(post_login(&attacker, &url, "alice", password).await, 403);
    }
    assert_eq!(
        seen.load(Ordering::SeqCst),
        reached,
        "nginx let a locked-out request through"
    );
    // The honest address is not affected.
    assert_eq!(post_login(&honest, &url, "alice", RIGHT).await, 200);
    // The API saw the addresses nginx named, not nginx's own.
    let c = api.check("127.0.0.2", "alice").await;
    assert_eq!(c["allowed"], false, "{c}");
    assert_eq!(api.check("127.0.0.1", "alice").await["failures"], 0);

    // An operator lets the address in again.
    let (s, r) = api
        .call(reqwest::Method::DELETE, "/attempts?ip_address=127.0.0.2")
        .await;
    assert_eq!((s, r), (200, json!({"removed": 1})));
    assert_eq!(post_login(&attacker, &url, "alice", RIGHT).await, 200);
}
