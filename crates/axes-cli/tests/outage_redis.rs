#![allow(clippy::unwrap_used, clippy::expect_used)]
//! SPEC §10 reliability on the cache store: a private `redis-server` (never
//! the shared one) is killed and started again under two running `axes
//! demo` processes. While it is down, logins are answered within a few
//! `store_timeout`s — allowed with `fail_closed = false`, 503 with
//! `fail_closed = true` — `/healthz` says 503, and each process logs one
//! line per outage. Once it is back, axes counts and locks out again without
//! a restart. (Run without persistence, the restarted Redis is empty: the
//! test asserts recovery of function, not of data.)
//!
//! Needs `redis-server` on the PATH; skips loudly without it (fails under
//! `CI`).

mod outage_support;
mod process_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use outage_support::StoreServer;
use process_support::{AxesEnv, ChildGuard, free_port, runs, skip};

/// A `redis-server` of the test's own, without persistence.
struct RedisServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<ChildGuard>,
}

impl RedisServer {
    fn new() -> Self {
        let mut server = RedisServer {
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        server.start();
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn answers(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let mut buf = [0u8; 16];
        s.write_all(b"PING\r\n").is_ok()
            && s.read(&mut buf)
                .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
    }
}

impl StoreServer for RedisServer {
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill();
        }
        assert!(!self.answers(), "redis-server still answers after SIGKILL");
    }

    fn start(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(ChildGuard(child));
        let start = Instant::now();
        while !self.answers() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server on port {} did not start",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_fail_open_fail_closed_and_recovery() {
    if !runs("redis-server") {
        skip("redis-server is not installed: the Redis outage test did not run");
        return;
    }
    let mut server = RedisServer::new();
    let env = AxesEnv::new()
        .set("AXES_HANDLER", "cache")
        .set("AXES_CACHE_URL", &server.url())
        .set("AXES_CACHE_PREFIX", "axes-outage:");
    outage_support::run("redis", &mut server, env, false).await;
}
