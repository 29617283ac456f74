//! The database file and its `-wal` and `-shm` companions hold IP addresses
//! and usernames: on Unix they are made readable by their owner only.
//!
//! A missing database file is created empty with mode 0600 before SQLite
//! opens it (SQLite takes an empty file for an empty database). SQLite gives
//! the `-wal` and `-shm` files it creates the mode of the database file, so
//! they are 0600 too.
//!
//! Existing files are left as they are (their mode may be deliberate, e.g.
//! readable by a backup group), with a warning when users other than the
//! owner may read or write them.

use std::path::Path;

/// Prepares the database file at `path` (not for in-memory databases):
/// creates it with mode 0600 when missing, warns about loose modes.
///
/// Best effort: when the file cannot be created here (a missing folder, no
/// permission), SQLite tries next and reports the error.
#[cfg(unix)]
pub(crate) fn prepare(path: &Path) {
    use std::os::unix::fs::OpenOptionsExt as _;

    if path.as_os_str().is_empty() {
        return;
    }
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => tracing::debug!("axes: created {} (mode 0600)", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            tracing::debug!("axes: cannot create {}: {e}", path.display());
            return;
        }
    }
    for file in companions(path) {
        warn_if_shared(&file);
    }
}

#[cfg(not(unix))]
pub(crate) fn prepare(_path: &Path) {}

/// The database file, its `-wal` and its `-shm`.
#[cfg(unix)]
fn companions(path: &Path) -> [std::path::PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    [path.to_path_buf(), with("-wal"), with("-shm")]
}

/// Warns when a file exists and users other than its owner may read or
/// write it.
#[cfg(unix)]
fn warn_if_shared(file: &Path) {
    use std::os::unix::fs::PermissionsExt as _;

    let Ok(meta) = std::fs::metadata(file) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    if meta.is_file() && mode & 0o077 != 0 {
        tracing::warn!(
            "axes: {} is accessible to other users (mode {mode:04o}) and holds IP addresses \
             and usernames; restrict it with `chmod 600`",
            file.display()
        );
    }
}

/// Whether `filename` (of `SqliteConnectOptions`) names a file on disk
/// rather than an in-memory database or a URI.
pub(crate) fn is_on_disk(filename: &Path) -> bool {
    let name = filename.to_string_lossy();
    !name.is_empty() && name != ":memory:" && !name.starts_with("file:")
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn companions_are_named_after_the_file() {
        let [db, wal, shm] = companions(Path::new("/data/axes.db"));
        assert_eq!(db, Path::new("/data/axes.db"));
        assert_eq!(wal, Path::new("/data/axes.db-wal"));
        assert_eq!(shm, Path::new("/data/axes.db-shm"));
    }

    #[test]
    fn in_memory_names_are_not_files() {
        assert!(is_on_disk(Path::new("axes.db")));
        assert!(is_on_disk(Path::new("/var/lib/axes/axes.db")));
        assert!(!is_on_disk(Path::new(":memory:")));
        assert!(!is_on_disk(Path::new("file:sqlx-in-memory-3")));
        assert!(!is_on_disk(Path::new("")));
    }
}
