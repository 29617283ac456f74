//! Shared by `multi_process.rs` and `outage_*.rs`: the `axes` binary run as
//! child processes (killed on drop, also when a test panics), their stderr
//! captured line by line, and small HTTP helpers for the demo site.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The `axes` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_axes");

/// The demo user of every child: `victim`, password `right-password`.
pub const USER: &str = "victim";
/// The right password of [`USER`].
pub const PASSWORD: &str = "right-password";

/// Says loudly that a test did not run, and why; panics instead when `CI`
/// is set, so that a misconfigured CI cannot pass by skipping.
pub fn skip(reason: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{reason} — and CI is set: this test must run in CI"
    );
    eprintln!("SKIPPED: {reason}");
}

/// The value of `var`, or `None` after a [`skip`].
pub fn env_or_skip(var: &str, example: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v),
        _ => {
            skip(&format!("{var} is not set (e.g. {var}={example})"));
            None
        }
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh lowercase name: `<prefix><unix seconds>_<12 hex digits>`.
pub fn scratch_name(prefix: &str) -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("{prefix}{secs}_{}", hex::encode(bytes))
}

/// Removes ANSI colour sequences from a log line.
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit status 0 and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        &self.stdout
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// The settings (as `AXES_*` variables) and working directory shared by a
/// group of `axes` processes.
#[derive(Debug, Clone)]
pub struct AxesEnv {
    vars: Vec<(String, String)>,
    dir: Arc<tempfile::TempDir>,
}

impl Default for AxesEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl AxesEnv {
    /// No settings but ours (inherited `AXES_*` variables are removed).
    pub fn new() -> Self {
        AxesEnv {
            vars: Vec::new(),
            dir: Arc::new(tempfile::tempdir().unwrap()),
        }
    }

    /// Adds (or replaces) a variable.
    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.into(), value.into()));
        self
    }

    /// The working directory of the processes.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The binary with `args`, these settings and nothing else of `AXES_*`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args).current_dir(self.dir());
        for (key, _) in std::env::vars() {
            if key.starts_with("AXES_") {
                cmd.env_remove(key);
            }
        }
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Runs the binary to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().unwrap().into()
    }

    /// Starts `axes demo` on a free port with the user `victim` and waits
    /// until it prints its URL.
    pub fn demo(&self, name: &str) -> DemoProcess {
        self.demo_as(name, USER)
    }

    /// Starts `axes demo` on a free port with the user `user` (password
    /// [`PASSWORD`]) and waits until it prints its URL.
    pub fn demo_as(&self, name: &str, user: &str) -> DemoProcess {
        self.spawn(
            name,
            &[
                "demo",
                "--listen",
                "127.0.0.1:0",
                "--user",
                &format!("{user}:{PASSWORD}"),
            ],
            "axes demo: ",
        )
    }

    /// Starts `axes serve` on a free port and waits until it prints where
    /// it listens (`url` is then `http://127.0.0.1:PORT`).
    pub fn serve(&self, name: &str) -> DemoProcess {
        self.spawn(
            name,
            &["serve", "--listen", "127.0.0.1:0"],
            "axes serve: listening on ",
        )
    }

    /// Starts the binary with `args` and waits until it prints a line
    /// starting with `prefix` followed by its URL.
    fn spawn(&self, name: &str, args: &[&str], prefix: &'static str) -> DemoProcess {
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        let tag = name.to_owned();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let line = strip_ansi(&line);
                if std::env::var_os("AXES_TEST_SHOW_LOGS").is_some() {
                    eprintln!("[{tag}] {line}");
                }
                sink.lock().unwrap().push(line);
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent && let Some(rest) = line.strip_prefix(prefix) {
                    let _ = tx.send(rest.trim().trim_end_matches('/').to_owned());
                    sent = true;
                }
            }
        });
        let mut process = DemoProcess {
            name: name.to_owned(),
            child,
            url: String::new(),
            log,
        };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => process.url = url,
            Err(_) => {
                let status = process.child.try_wait().ok().flatten();
                // give the stderr reader a moment to collect the last words
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "{name} did not start (exit: {status:?}); stderr:\n{}",
                    process.log_text()
                );
            }
        }
        process
    }
}

/// A running `axes demo` (or `axes serve`); killed when dropped.
#[derive(Debug)]
pub struct DemoProcess {
    pub name: String,
    pub url: String,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl DemoProcess {
    /// Its stderr so far, ANSI colours removed.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Its stderr so far as one text.
    pub fn log_text(&self) -> String {
        self.log_lines().join("\n")
    }

    /// How many stderr lines contain `needle`.
    pub fn count_log(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Waits (a little) until `count_log(needle) >= n`: log lines travel
    /// through a pipe and a reader thread.
    pub fn wait_log(&self, needle: &str, n: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let c = self.count_log(needle);
            if c >= n || Instant::now() > deadline {
                return c;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Any child process, killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct ChildGuard(pub Child);

impl ChildGuard {
    /// Kills it now (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether `program` can be run (`program --version` succeeds).
pub fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

// ---- HTTP ----

/// A client: no cookies, no redirects followed, every request bounded.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// `POST /login`: its status and how long the answer took.
pub async fn login(
    client: &reqwest::Client,
    url: &str,
    username: &str,
    password: &str,
) -> (u16, Duration) {
    let start = Instant::now();
    let response = client
        .post(format!("{url}/login"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}/login not answered: {e}"));
    (response.status().as_u16(), start.elapsed())
}

/// `GET /healthz`: its status and how long the answer took.
pub async fn healthz(client: &reqwest::Client, url: &str) -> (u16, Duration) {
    let start = Instant::now();
    let response = client
        .get(format!("{url}/healthz"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}/healthz not answered: {e}"));
    (response.status().as_u16(), start.elapsed())
}

/// Polls `/healthz` until it answers 200; returns how long that took.
pub async fn wait_healthy(client: &reqwest::Client, url: &str, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let status = client
            .get(format!("{url}/healthz"))
            .send()
            .await
            .map(|r| r.status().as_u16());
        if matches!(status, Ok(200)) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{url}/healthz is not 200 after {within:?}: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `GET /demo/stats`.
pub async fn stats(client: &reqwest::Client, url: &str) -> serde_json::Value {
    client
        .get(format!("{url}/demo/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `credential_checks` of `GET /demo/stats`.
pub async fn checks(client: &reqwest::Client, url: &str) -> u64 {
    stats(client, url).await["credential_checks"]
        .as_u64()
        .unwrap()
}
