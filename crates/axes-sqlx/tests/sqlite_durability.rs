//! An acknowledged failure survives SIGKILL: a child process reserves on a
//! SQLite file and reports each answer; the parent kills it mid-stream
//! (`SIGKILL`, no clean-up) and finds every acknowledged failure in the
//! file. (A power cut may lose the last commits under
//! `synchronous=NORMAL`: see docs/deployment.md.)

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(all(feature = "sqlite", unix))]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use axes_core::parameters::LockoutParameters;
use axes_core::store::{AttemptDetails, ListQuery, RecordKey, Reservation, Store};

const CHILD_VAR: &str = "AXES_DURABILITY_CHILD_DB";

fn key() -> RecordKey {
    RecordKey {
        scope: String::new(),
        username: Some("victim".into()),
        ip_address: Some("192.0.2.66".into()),
        user_agent: "ua".into(),
    }
}

/// The child: reserves forever on the file named by `CHILD_VAR`, printing
/// `acked N` after each answer. Does nothing in a normal test run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durability_child() {
    let Ok(path) = std::env::var(CHILD_VAR) else {
        return;
    };
    let store = axes_sqlx::SqliteStore::connect(&format!("sqlite://{path}"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let key = key();
    let details = AttemptDetails::default();
    let parameters = LockoutParameters::default();
    for n in 1u64.. {
        let out = store
            .reserve(&Reservation {
                key: &key,
                details: &details,
                parameters: &parameters,
                limit: None,
                window: None,
                count_when_locked: true,
                now: chrono::Utc::now(),
                blocks: &[],
                manual_only: false,
            })
            .await
            .unwrap();
        assert!(out.counted);
        println!("acked {n}");
    }
}

#[test]
fn acknowledged_failures_survive_sigkill() {
    if std::env::var_os(CHILD_VAR).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("axes.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durability_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = 0u64;
    while acked < 300 {
        let line = lines.next().expect("the child stopped early").unwrap();
        if let Some(n) = line.strip_prefix("acked ") {
            acked = n.parse().unwrap();
        }
    }
    // SIGKILL while it keeps reserving.
    child.kill().unwrap();
    child.wait().unwrap();
    // Acknowledgements printed before the kill and not read yet count too.
    for line in lines.map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("acked ") {
            acked = n.parse().unwrap();
        }
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    let failures = rt.block_on(async {
        let store = axes_sqlx::SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let page = store.list_attempts(&ListQuery::all()).await.unwrap();
        assert_eq!(page.total, 1);
        page.items[0].failures
    });
    assert!(
        u64::from(failures) >= acked,
        "{acked} failures acknowledged, {failures} in the file"
    );
}
