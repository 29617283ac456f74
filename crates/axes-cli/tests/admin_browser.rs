//! The admin UI in a real browser: Debian's Chromium, headless, driven over
//! WebDriver (chromedriver) by a tiny client on `reqwest`.
//!
//! The scenario: the demo site runs in-process with the admin mounted; a
//! user locks herself out with wrong passwords; the demo user signs in,
//! opens the admin, sees the lockout, filters for it, unlocks it through
//! the confirmation step; the locked user can log in again. A POST without
//! the CSRF token is refused (403). Screenshots of the dashboard and the
//! attempts list are taken every run; they replace `docs/images/dashboard.png`
//! and `attempts.png` when those are missing or `AXES_UPDATE_SCREENSHOTS` is
//! set, and go to the target directory otherwise (so a test run leaves the
//! work tree as it was).
//!
//! Without chromium and chromedriver the test is skipped (loudly), unless
//! `CI` is set: then it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axes_cli::demo::{self, DemoState};
use axes_core::{Attempt, Axes, Handler, LockoutParameters, ManualClock, Settings};
use base64::Engine as _;
use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_binary(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// chromium and chromedriver, or a loud skip (a failure under CI).
fn browser_binaries() -> Option<(PathBuf, PathBuf)> {
    let chromium = find_binary(&["/usr/lib/chromium/chromium", "/usr/bin/chromium"]);
    let driver = find_binary(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            let msg = "chromium and chromium-driver are not installed \
                       (apt-get install -y chromium chromium-driver)";
            if std::env::var_os("CI").is_some() {
                panic!("admin browser test: {msg}");
            }
            eprintln!("\n*** SKIPPED admin browser test: {msg} ***\n");
            None
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// chromedriver, killed on drop.
struct DriverProcess(Child);

impl Drop for DriverProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A WebDriver session.
struct Browser {
    http: reqwest::Client,
    session_url: String,
    _profile: tempfile::TempDir,
    _driver: DriverProcess,
}

impl Browser {
    async fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let port = free_port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = DriverProcess(child);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let mut ready = false;
        for _ in 0..100 {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == json!(true)
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not come up");
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                    "--window-size=1280,900"
                ]
            }
        }}});
        let resp: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .unwrap();
        let id = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {resp}"))
            .to_owned();
        Browser {
            http,
            session_url: format!("{base}/session/{id}"),
            _profile: profile,
            _driver: driver,
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session_url);
        let mut req = self.http.request(method, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp: Value = req.send().await.expect("webdriver").json().await.unwrap();
        if let Some(err) = resp["value"].get("error") {
            panic!("webdriver {path}: {err}: {}", resp["value"]["message"]);
        }
        resp["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn find_by(&self, using: &str, value: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": using, "value": value})),
            )
            .await;
        v[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("no element {value}: {v}"))
            .to_owned()
    }

    async fn css(&self, selector: &str) -> String {
        self.find_by("css selector", selector).await
    }

    async fn button(&self, label: &str) -> String {
        self.find_by(
            "xpath",
            &format!("//button[starts-with(normalize-space(), '{label}')]"),
        )
        .await
    }

    async fn click(&self, element: &str) {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Clicks something that loads a new page, and waits for that page.
    async fn click_and_wait(&self, element: &str) {
        self.execute("window.__axes_old_page = true; return null;")
            .await;
        self.click(element).await;
        self.wait_new_page().await;
    }

    /// Runs `script` (which navigates), and waits for the new page.
    async fn run_and_wait(&self, script: &str) {
        self.execute(&format!(
            "window.__axes_old_page = true; {script}; return null;"
        ))
        .await;
        self.wait_new_page().await;
    }

    async fn wait_new_page(&self) {
        for _ in 0..200 {
            let done = self
                .execute(
                    "return typeof window.__axes_old_page === 'undefined' \
                     && document.readyState === 'complete';",
                )
                .await;
            if done == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no new page after the click");
    }

    async fn clear(&self, element: &str) {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{element}/clear"),
            Some(json!({})),
        )
        .await;
    }

    async fn type_into(&self, element: &str, text: &str) {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn text(&self, element: &str) -> String {
        self.cmd(
            reqwest::Method::GET,
            &format!("/element/{element}/text"),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    async fn execute(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// A screenshot of the whole page (the window grown to fit it).
    async fn screenshot(&self, path: &Path) {
        let height = self
            .execute("return document.documentElement.scrollHeight;")
            .await
            .as_u64()
            .unwrap_or(900)
            .clamp(600, 3000);
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": 1280, "height": height + 140})),
        )
        .await;
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .expect("base64 screenshot");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": 1280, "height": 900})),
        )
        .await;
    }

    async fn quit(&self) {
        let _ = self.http.delete(&self.session_url).send().await;
    }

    /// The demo's login form.
    async fn demo_login(&self, base: &str, user: &str, password: &str) {
        self.goto(&format!("{base}/login")).await;
        let u = self.css("#username").await;
        self.clear(&u).await;
        self.type_into(&u, user).await;
        let p = self.css("#password").await;
        self.type_into(&p, password).await;
        self.click_and_wait(&self.css("button[type=submit]").await)
            .await;
    }
}

fn cheap_argon2() -> argon2::Argon2<'static> {
    argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8, 1, 1, None).unwrap(),
    )
}

/// Background traffic so the dashboard has something to show: failures
/// from several addresses over the last day, a few lockouts, some logins.
async fn background(axes: &Axes, clock: &ManualClock, now: chrono::DateTime<chrono::Utc>) {
    let wrong = || async { Ok::<Option<()>, std::convert::Infallible>(None) };
    let agents = [
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        "python-requests/2.31",
        "curl/8.5.0",
    ];
    for hour in 0..24i64 {
        clock.set(now - chrono::Duration::hours(24 - hour) + chrono::Duration::minutes(7));
        let n = [
            1, 0, 2, 1, 0, 3, 1, 2, 0, 1, 4, 2, 1, 0, 2, 5, 3, 1, 2, 0, 1, 2, 6, 3,
        ][hour as usize];
        for i in 0..n {
            let ip: IpAddr = format!("198.51.100.{}", 10 + (hour * 7 + i) % 40)
                .parse()
                .unwrap();
            let user = ["admin", "root", "test", "bob", "guest"][((hour + i) % 5) as usize];
            let a = Attempt::new()
                .ip_address(ip)
                .username(user)
                .user_agent(agents[(i % 3) as usize])
                .path("/login");
            let _ = axes.authenticate(&a, wrong).await;
        }
        if hour % 5 == 0 {
            let a = Attempt::new()
                .ip_address(format!("192.0.2.{}", 20 + hour).parse().unwrap())
                .username("carol")
                .user_agent(agents[0])
                .path("/login");
            axes.logged_in(&a, Some(&format!("s{hour}"))).await;
        }
    }
    // One hostile username, rendered escaped.
    let hostile = Attempt::new()
        .ip_address("203.0.113.66".parse().unwrap())
        .username("<script>alert(1)</script>")
        .user_agent("Mozilla\"><img src=x onerror=alert(2)>")
        .path("/login");
    // Fresh lockouts in the last quarter hour.
    clock.set(now - chrono::Duration::minutes(14));
    for (ip, user, n) in [("198.51.100.23", "admin", 4), ("2001:db8::42", "root", 3)] {
        let a = Attempt::new()
            .ip_address(ip.parse().unwrap())
            .username(user)
            .user_agent(agents[1])
            .path("/login");
        for _ in 0..n {
            let _ = axes.authenticate(&a, wrong).await;
        }
        clock.advance(chrono::Duration::minutes(3));
    }
    let _ = axes.authenticate(&hostile, wrong).await;
    clock.set(now);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_in_a_real_browser() {
    let Some((chromium, chromedriver)) = browser_binaries() else {
        return;
    };

    // The demo with the admin mounted, in-process.
    let now = chrono::Utc::now();
    let clock = ManualClock::new(now);
    let settings = Settings {
        handler: Handler::Memory,
        enable_access_failure_log: true,
        // Lock out by username: the browser's single IP must not lock the admin out too.
        lockout_parameters: LockoutParameters::parse_env("username").unwrap(),
        cooloff_time: Some(Duration::from_secs(3600)),
        ..Settings::default()
    };
    let axes = Axes::builder(settings)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    background(&axes, &clock, now).await;
    let users = vec![
        ("demo".to_owned(), "demo".to_owned()),
        ("alice".to_owned(), "wonderland".to_owned()),
    ];
    let state = DemoState::with_hasher(axes.clone(), users, &cheap_argon2()).unwrap();
    let state = axes_cli::serve::demo_with_admin(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = demo::router(state);
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    let base = format!("http://{addr}");
    let alice = Attempt::new()
        .ip_address("127.0.0.1".parse().unwrap())
        .username("alice");

    let b = Browser::start(&chromium, &chromedriver).await;

    // 1. Alice locks herself out: the third wrong password gets the lockout.
    for i in 1..=3 {
        b.demo_login(&base, "alice", &format!("wrong{i}")).await;
    }
    let page = b.source().await;
    assert!(page.contains("too many login attempts"), "{page}");
    assert!(axes.check(&alice).await.lockout.is_some());
    // Even the right password is refused now.
    b.demo_login(&base, "alice", "wonderland").await;
    assert!(b.source().await.contains("too many login attempts"));

    // 2. The admin is behind the demo login.
    b.goto(&format!("{base}/admin/")).await;
    assert!(b.url().await.ends_with("/login"), "{}", b.url().await);
    b.demo_login(&base, "demo", "demo").await;
    b.goto(&format!("{base}/admin/")).await;
    let dash = b.source().await;
    assert!(dash.contains("Locked out now"), "{dash}");
    let locked_table = b
        .text(&b.css("section[aria-labelledby=locked-h]").await)
        .await;
    assert!(locked_table.contains("alice"), "{locked_table}");
    assert!(locked_table.contains("in 1 h 0 min"), "{locked_table}");
    assert!(locked_table.contains("admin") && locked_table.contains("root"));
    assert!(dash.contains("<svg class=\"chart\""));
    // The hostile username is text, not markup.
    assert!(!dash.contains("<script>alert(1)"));
    let docs_images = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/images");
    let images_dir = if std::env::var_os("AXES_UPDATE_SCREENSHOTS").is_some()
        || !docs_images.join("dashboard.png").exists()
        || !docs_images.join("attempts.png").exists()
    {
        docs_images
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
    };
    b.screenshot(&images_dir.join("dashboard.png")).await;

    // 3. A POST without the CSRF token is refused: the "Unlock this
    // username" form for alice, its token removed, confirmed, submitted.
    b.run_and_wait(
        "const f = [...document.querySelectorAll('form[action$=\"/unlock\"]')]\
           .find(f => f.querySelector('input[name=username][value=alice]'));\
         f.querySelector('input[name=csrf_token]').remove();\
         const c = document.createElement('input');\
         c.type = 'hidden'; c.name = 'confirm'; c.value = 'yes'; f.appendChild(c);\
         f.submit()",
    )
    .await;
    let status = b
        .execute("return performance.getEntriesByType('navigation')[0].responseStatus;")
        .await;
    assert_eq!(status, json!(403));
    assert!(b.source().await.contains("Request refused"));
    assert!(axes.check(&alice).await.lockout.is_some(), "still locked");
    b.goto(&format!("{base}/admin/")).await;

    // 4. Attempts list, filtered for alice.
    b.click_and_wait(&b.css("nav a[href$='/attempts']").await)
        .await;
    let f = b.css("#f-username").await;
    b.type_into(&f, "alice").await;
    b.click_and_wait(&b.button("Filter").await).await;
    assert!(b.url().await.contains("username=alice"));
    let list = b.source().await;
    assert!(list.contains("of <strong>1</strong>"), "{list}");
    let row = b.text(&b.css("table tbody tr").await).await;
    assert!(row.contains("alice") && row.contains("locked"), "{row}");

    // Screenshot of the whole list (no filter), the select-all box added by script.
    b.goto(&format!("{base}/admin/attempts")).await;
    b.css("thead th.select input[type=checkbox]").await;
    b.screenshot(&images_dir.join("attempts.png")).await;
    b.goto(&format!("{base}/admin/attempts?username=alice"))
        .await;

    // 5. Detail view → "Unlock this username" → confirmation → done.
    b.click_and_wait(&b.css("table tbody tr a").await).await;
    let detail = b.source().await;
    assert!(
        detail.contains("Locked out: 4 failures (limit 3); lifts in"),
        "{detail}"
    );
    b.click_and_wait(&b.button("Unlock this username").await)
        .await;
    let confirm = b.source().await;
    assert!(confirm.contains("Unlock username alice?"), "{confirm}");
    assert!(
        axes.check(&alice).await.lockout.is_some(),
        "not before confirming"
    );
    b.click_and_wait(&b.button("Yes, unlock").await).await;
    let notice = b.text(&b.css("p.notice").await).await;
    assert!(notice.contains("Unlocked"), "{notice}");
    assert!(axes.check(&alice).await.lockout.is_none(), "unlocked");

    // 6. Alice can log in again.
    b.click_and_wait(&b.button("Log out").await).await;
    b.demo_login(&base, "alice", "wonderland").await;
    let home = b.source().await;
    assert!(
        home.contains("You are logged in as <strong>alice</strong>"),
        "{home}"
    );

    b.quit().await;
    server.abort();
}
