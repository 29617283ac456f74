#![allow(clippy::unwrap_used, clippy::expect_used)]
//! SPEC §10 reliability on the database store: a private PostgreSQL cluster
//! (`initdb` in a temporary directory, its own port — never the shared
//! server) is stopped with `pg_ctl stop -m immediate` (a crash, as far as
//! clients can tell) and started again under two running `axes demo`
//! processes. While it is down, logins are answered within a few
//! `store_timeout`s — allowed with `fail_closed = false`, 503 with
//! `fail_closed = true` — `/healthz` says 503, and each process logs one
//! line per outage. Once it is back, the connection pool reconnects by
//! itself, the failures recorded before the crash are still there, and axes
//! counts and locks out again.
//!
//! Needs PostgreSQL's server binaries (`AXES_TEST_PG_BINDIR`, else
//! `/usr/lib/postgresql/<version>/bin`, else `initdb` on the PATH). Run as
//! root, the cluster runs as the `postgres` user (via `runuser`). Skips
//! loudly without them (fails under `CI`).

mod outage_support;
mod process_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use outage_support::StoreServer;
use process_support::{AxesEnv, free_port, skip};

/// The directory of `initdb` and `pg_ctl`.
fn bindir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("AXES_TEST_PG_BINDIR") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let on_path = Command::new("initdb")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    on_path.then(PathBuf::new)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A PostgreSQL cluster of the test's own.
struct PgCluster {
    bindir: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
    running: bool,
}

impl PgCluster {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `program` of the bin dir, as the `postgres` user when we are root.
    fn command(&self, program: &str) -> Command {
        let path = self.bindir.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, mut cmd: Command, what: &str) {
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        assert!(
            out.status.success(),
            "{what} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn new(bindir: PathBuf) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = is_root();
        if as_postgres {
            let out = Command::new("chown")
                .arg("-R")
                .arg("postgres:")
                .arg(dir.path())
                .output()
                .unwrap();
            assert!(out.status.success(), "chown: {out:?}");
        }
        let mut cluster = PgCluster {
            bindir,
            dir,
            port: free_port(),
            as_postgres,
            running: false,
        };
        let mut initdb = cluster.command("initdb");
        initdb
            .arg("-D")
            .arg(cluster.data())
            .args(["-U", "postgres", "--auth=trust", "--no-sync"]);
        cluster.run(initdb, "initdb");
        cluster.start();
        cluster
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut c = self.command("pg_ctl");
        c.arg("-D").arg(self.data()).args(args);
        c
    }
}

impl StoreServer for PgCluster {
    fn stop(&mut self) {
        let cmd = self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
        self.run(cmd, "pg_ctl stop");
        self.running = false;
    }

    fn start(&mut self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        let cmd = self.pg_ctl(&[
            "-o",
            &options,
            "-l",
            path_str(&log),
            "-w",
            "-t",
            "30",
            "start",
        ]);
        self.run(cmd, "pg_ctl start");
        self.running = true;
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.running {
            let _ = self
                .pg_ctl(&["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_fail_open_fail_closed_and_recovery() {
    let Some(bindir) = bindir() else {
        skip(
            "PostgreSQL server binaries (initdb) not found: the PostgreSQL outage test did not run",
        );
        return;
    };
    let mut cluster = PgCluster::new(bindir);
    let env = AxesEnv::new()
        .set("AXES_HANDLER", "database")
        .set("AXES_DATABASE_URL", &cluster.url());
    env.run(&["migrate"]).ok();
    outage_support::run("postgres", &mut cluster, env, true).await;
}
