//! Shared by the `cli_*` tests: a temporary directory with a SQLite file,
//! the `axes` binary run there with a clean `AXES_*` environment, and an
//! engine over the same file for seeding and checking.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use axes_core::store::{NewAccessLog, NewFailureLog, RecordKey, Store};
use axes_core::{Attempt, Axes, Secret, Settings};
use chrono::{Duration, Utc};

/// A temporary working directory holding `axes.db`.
pub struct Sandbox {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
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

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
            env: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The database URL of the sandbox's SQLite file.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path().join("axes.db").display())
    }

    /// Adds an environment variable to every run.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Writes a file into the sandbox.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The binary, in the sandbox, with only our `AXES_*` variables.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_axes"));
        cmd.args(args).current_dir(self.path());
        for (key, _) in std::env::vars() {
            if key.starts_with("AXES_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("AXES_DATABASE_URL", self.url());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Runs the binary to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().unwrap().into()
    }

    /// Runs the binary with `input` on stdin.
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap().into()
    }

    /// The settings the binary sees (defaults, this database).
    pub fn settings(&self) -> Settings {
        Settings {
            database_url: Secret::new(self.url()),
            ..Settings::default()
        }
    }

    /// A migrated store over the sandbox's file.
    pub async fn store(&self) -> Arc<dyn Store> {
        let store = axes_sqlx::connect(&self.url()).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    /// An engine over the sandbox's file, with default settings.
    pub async fn axes(&self) -> Axes {
        Axes::builder(self.settings())
            .store(self.store().await)
            .build()
            .unwrap()
    }
}

/// An attempt from `ip` as `username`.
pub fn attempt(username: &str, ip: &str) -> Attempt {
    Attempt::new()
        .ip_address(ip.parse::<IpAddr>().unwrap())
        .username(username)
        .user_agent("test-agent")
        .path("/login")
}

/// Records one failed login through the engine's reservation protocol.
pub async fn fail(axes: &Axes, attempt: &Attempt) {
    let ticket = axes.begin(attempt).await.expect("not locked out yet");
    ticket.failed().await;
}

/// The fixture of django-axes' management command tests: one failure each
/// for (default, 127.0.0.1), (foo, 127.1.0.1), (foo, 127.1.0.2),
/// (bar, 127.1.0.1), (bar, 127.1.0.2).
pub async fn seed_original_fixture(sandbox: &Sandbox) {
    let axes = sandbox.axes().await;
    for (user, ip) in [
        ("default", "127.0.0.1"),
        ("foo", "127.1.0.1"),
        ("foo", "127.1.0.2"),
        ("bar", "127.1.0.1"),
        ("bar", "127.1.0.2"),
    ] {
        fail(&axes, &attempt(user, ip)).await;
    }
}

fn key(username: &str) -> RecordKey {
    RecordKey {
        scope: String::new(),
        username: Some(username.into()),
        ip_address: Some("10.0.0.1".into()),
        user_agent: "test-agent".into(),
    }
}

/// Access-log rows logged in `days` ago, one per entry.
pub async fn seed_access_logs(sandbox: &Sandbox, days: &[i64]) {
    let store = sandbox.store().await;
    for d in days {
        store
            .insert_access_log(&NewAccessLog {
                key: key("alice"),
                path: "/login".into(),
                http_accept: "text/html".into(),
                attempt_time: Utc::now() - Duration::days(*d),
                session_hash: String::new(),
            })
            .await
            .unwrap();
    }
}

/// Failure-log rows `days` ago, one per entry.
pub async fn seed_failure_logs(sandbox: &Sandbox, days: &[i64]) {
    let store = sandbox.store().await;
    for d in days {
        store
            .insert_failure_log(
                &NewFailureLog {
                    key: key("mallory"),
                    path: "/login".into(),
                    http_accept: "text/html".into(),
                    attempt_time: Utc::now() - Duration::days(*d),
                    locked_out: false,
                },
                1000,
            )
            .await
            .unwrap();
    }
}
