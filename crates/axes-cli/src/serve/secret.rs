//! The secret key that signs admin sessions and CSRF tokens.
//!
//! `secret_key` from the settings when set; otherwise a random key kept in
//! `axes.secret` in the data folder (the folder of the SQLite database, or
//! the working directory for other stores), created with mode 0600 on first
//! start and reused afterwards, so sessions survive restarts. An existing
//! file that other users may read is used with a warning (not changed).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use axes_core::{Handler, Settings};

/// The file name of the generated key.
pub const FILE_NAME: &str = "axes.secret";

/// The shortest key accepted (bytes), from the settings (checked by
/// [`Settings::validate`]) or from the file.
pub const MIN_KEY_LEN: usize = axes_core::settings::MIN_SECRET_KEY_LEN;

/// The folder the service keeps its data in.
pub fn data_dir(settings: &Settings) -> PathBuf {
    if settings.handler == Handler::Database {
        let url = settings.database_url.expose();
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"));
        if let Some(path) = path {
            let path = path.split('?').next().unwrap_or("");
            if !path.is_empty()
                && !path.starts_with(':')
                && let Some(parent) = Path::new(path).parent()
                && !parent.as_os_str().is_empty()
            {
                return parent.to_path_buf();
            }
        }
    }
    PathBuf::from(".")
}

/// The key: `secret_key`, else the generated one in `data_dir`.
pub fn load_or_create(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    // The rules of `axes check` (a `secret_key` long enough among them);
    // cheap, and settings built in code may not have been validated.
    settings.validate()?;
    if let Some(key) = &settings.secret_key {
        return Ok(key.expose().as_bytes().to_vec());
    }
    load_or_create_in(&data_dir(settings))
}

/// What `axes check` verifies without creating anything: with
/// `secret_key` unset, a generated key that already exists must be readable
/// and long enough (or `serve` would refuse to start).
pub fn check(settings: &Settings) -> anyhow::Result<()> {
    if settings.secret_key.is_some() {
        return Ok(());
    }
    read_existing(&data_dir(settings).join(FILE_NAME)).map(drop)
}

/// The generated key at `path`, if the file exists.
fn read_existing(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_shared(path);
            let key = text.trim();
            anyhow::ensure!(
                key.len() >= MIN_KEY_LEN,
                "{} is too short; delete it to make a new one",
                path.display()
            );
            Ok(Some(key.as_bytes().to_vec()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The generated key in `dir` (created on first use).
pub fn load_or_create_in(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = dir.join(FILE_NAME);
    if let Some(key) = read_existing(&path)? {
        return Ok(key);
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    let key = hex::encode(bytes);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(format!("{key}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!("axes: generated a secret key in {}", path.display());
            Ok(key.into_bytes())
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_in(dir),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

/// Warns when users other than the owner may read or write the key file
/// (it is created 0600; a looser mode was set by someone, so it is left as
/// it is).
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    "axes: {} is accessible to other users (mode {mode:04o}); anyone who can \
                     read it can forge admin sessions: restrict it with `chmod 600`",
                    path.display()
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axes_core::Secret;

    #[test]
    fn data_dir_follows_the_sqlite_file() {
        let with = |url: &str| Settings {
            database_url: Secret::new(url),
            ..Settings::default()
        };
        assert_eq!(data_dir(&with("sqlite://axes.db")), PathBuf::from("."));
        assert_eq!(
            data_dir(&with("sqlite:///var/lib/axes/axes.db")),
            PathBuf::from("/var/lib/axes")
        );
        assert_eq!(
            data_dir(&with("sqlite://data/axes.db?mode=rwc")),
            PathBuf::from("data")
        );
        assert_eq!(data_dir(&with("sqlite::memory:")), PathBuf::from("."));
        assert_eq!(data_dir(&with("postgres://h/db")), PathBuf::from("."));
    }

    #[test]
    fn the_key_is_made_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_in(dir.path()).unwrap();
        let b = load_or_create_in(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_short_key_file_is_refused_and_checked_without_creating() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/axes.db", dir.path().display());
        let settings = Settings {
            database_url: Secret::new(url),
            ..Settings::default()
        };
        // No file yet: fine, and check does not make one.
        check(&settings).unwrap();
        assert!(!dir.path().join(FILE_NAME).exists());
        std::fs::write(dir.path().join(FILE_NAME), "short\n").unwrap();
        let err = check(&settings).unwrap_err().to_string();
        assert!(
            err.contains("too short") && !err.contains("short\n"),
            "{err}"
        );
        assert!(load_or_create(&settings).is_err());
    }

    #[test]
    fn a_short_secret_key_is_refused_even_unvalidated() {
        let settings = Settings {
            secret_key: Some(Secret::new("short")),
            ..Settings::default()
        };
        let err = load_or_create(&settings).unwrap_err().to_string();
        assert!(err.contains("secret_key is shorter than 16 bytes"), "{err}");
    }
}
