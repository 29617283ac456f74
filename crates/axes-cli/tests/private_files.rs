//! The files `axes serve` keeps — the SQLite database with its `-wal` and
//! `-shm` (IP addresses, usernames) and `axes.secret` (signs admin
//! sessions) — are readable by their owner only; files that already exist
//! keep their mode, with a warning.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod process_support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::Duration;

use process_support::{AxesEnv, DemoProcess};

const FILES: [&str; 4] = ["axes.db", "axes.db-wal", "axes.db-shm", "axes.secret"];

/// The permission bits of `path`, in octal (`"600"`).
fn mode(path: &Path) -> String {
    let mode = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode();
    format!("{:o}", mode & 0o777)
}

/// A failed admin login: one attempt written to the store.
fn failed_login(server: &DemoProcess) {
    let addr = server.url.strip_prefix("http://").unwrap();
    let body = "username=mallory&password=guess";
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /admin/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}

#[test]
fn serve_makes_its_files_private() {
    let env = AxesEnv::new();
    let server = env.serve("serve", &[]);
    failed_login(&server);
    for name in FILES {
        assert_eq!(mode(&env.dir().join(name)), "600", "{name}");
    }
}

#[test]
fn existing_files_keep_their_mode_with_a_warning() {
    let env = AxesEnv::new();
    let loose = std::fs::Permissions::from_mode(0o644);
    std::fs::write(env.dir().join("axes.db"), b"").unwrap();
    std::fs::set_permissions(env.dir().join("axes.db"), loose.clone()).unwrap();
    std::fs::write(env.dir().join("axes.secret"), "ab".repeat(32)).unwrap();
    std::fs::set_permissions(env.dir().join("axes.secret"), loose).unwrap();

    let server = env.serve("serve", &[]);
    failed_login(&server);
    for name in FILES {
        assert_eq!(mode(&env.dir().join(name)), "644", "{name}");
    }
    for name in ["axes.db", "axes.secret"] {
        let warned = server.wait_log(&format!("{name} is accessible to other users"), 1);
        assert_eq!(warned, 1, "no warning about {name}:\n{}", server.log_text());
    }
}
