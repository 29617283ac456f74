//! The SQLite files hold IP addresses and usernames: a new database, its
//! `-wal` and its `-shm` are readable by their owner only (mode 0600);
//! existing files keep the mode they have.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(all(feature = "sqlite", unix))]

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use axes_core::store::{ListQuery, Store};

/// The permission bits of `path`, in octal (`"600"`).
fn mode(path: &Path) -> String {
    let mode = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode();
    format!("{:o}", mode & 0o777)
}

/// The database and the two files SQLite makes next to it in WAL mode.
fn files(db: &Path) -> Vec<std::path::PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            name.into()
        })
        .collect()
}

/// Opens the store at `db` and writes one attempt (which makes the `-wal`
/// and `-shm` files); the store stays open so they stay there.
async fn write_an_attempt(db: &Path) -> std::sync::Arc<dyn Store> {
    let url = format!("sqlite://{}", db.display());
    let store = axes_sqlx::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let r = common::R::new(common::key(Some("zoe"), Some("192.0.2.90"), "ua"));
    store.reserve(&r.at(common::t0())).await.unwrap();
    assert_eq!(
        store.list_attempts(&ListQuery::all()).await.unwrap().total,
        1
    );
    store
}

#[tokio::test]
async fn a_new_database_and_its_wal_and_shm_are_private() {
    let dir = tempfile::tempdir().unwrap();
    // What a file made without care gets here (0644 under the usual umask
    // 022); under umask 077 this test cannot tell the difference.
    let probe = dir.path().join("probe");
    std::fs::write(&probe, b"").unwrap();
    if mode(&probe) == "600" {
        eprintln!("note: the umask already makes new files 0600 here");
    }

    let db = dir.path().join("axes.db");
    let _store = write_an_attempt(&db).await;
    for file in files(&db) {
        assert_eq!(mode(&file), "600", "{}", file.display());
    }
}

/// An existing database keeps its mode (axes warns instead of changing
/// it), and SQLite gives the new `-wal` and `-shm` the same mode.
#[tokio::test]
async fn an_existing_database_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("axes.db");
    std::fs::write(&db, b"").unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o640)).unwrap();
    let _store = write_an_attempt(&db).await;
    for file in files(&db) {
        assert_eq!(mode(&file), "640", "{}", file.display());
    }
}
