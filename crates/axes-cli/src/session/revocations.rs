//! The list of ended sessions: in memory, and for `axes serve` also in a
//! file in the data folder, so that a logout outlives the process.
//!
//! The file ([`FILE_NAME`], JSON, mode 0600) holds the ids of the sessions
//! ended before they expired, each with its expiry, and a `not_before` time:
//! every session issued before it is ended. Writers take an exclusive lock on
//! [`LOCK_FILE_NAME`], merge what the file says with what they know, write a
//! temporary file and rename it over the old one, so readers (several
//! processes sharing the folder) always see a whole file. Readers notice a
//! new file by its metadata and merge it in: an entry once seen is never
//! forgotten before it expires.
//!
//! Bounded: entries go when their session would have expired anyway, and at
//! most [`MAX_ENDED`] live entries are kept. At the cap the list is replaced
//! by a `not_before` of now: every session issued so far ends (everybody
//! signs in again) — a revoked session can never come back that way. A
//! file that cannot be parsed ends every session the same way.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::SessionError;

/// The file of ended sessions, in the data folder next to `axes.secret`.
pub const FILE_NAME: &str = "axes.sessions";

/// The lock file that serialises writers of [`FILE_NAME`].
pub const LOCK_FILE_NAME: &str = "axes.sessions.lock";

/// The most ended sessions remembered at once.
pub const MAX_ENDED: usize = 10_000;

/// A file larger than this is not read (it cannot be ours: it is treated
/// as damaged, which ends every session).
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The ended sessions. Cheap to clone; clones share the list.
#[derive(Clone)]
pub struct Revocations {
    inner: Arc<Mutex<State>>,
    file: Option<Arc<Files>>,
}

impl std::fmt::Debug for Revocations {
    /// The file and the count, never the session ids.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocations")
            .field("file", &self.file.as_ref().map(|files| &files.path))
            .field("ended", &self.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Files {
    path: PathBuf,
    lock: PathBuf,
    tmp: PathBuf,
}

#[derive(Debug)]
struct State {
    /// Sessions issued before this (seconds since the epoch) are ended.
    not_before: i64,
    /// Ended sessions: id → when it would have expired (seconds).
    ended: HashMap<String, i64>,
    /// The metadata of the file version last merged in.
    seen: Option<Stamp>,
    cap: usize,
}

/// What the file looks like on disk.
#[derive(Debug, Default, Serialize, Deserialize)]
struct OnDisk {
    version: u32,
    not_before: i64,
    ended: Vec<(String, i64)>,
}

const VERSION: u32 = 1;

/// Enough of a file's metadata to notice that it was replaced or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        }
    }
}

impl State {
    fn new(cap: usize) -> Self {
        State {
            not_before: i64::MIN,
            ended: HashMap::new(),
            seen: None,
            cap,
        }
    }

    fn is_ended(&self, id: &str, issued: i64) -> bool {
        issued < self.not_before || self.ended.contains_key(id)
    }

    /// Ends every session issued up to `now` (inclusive: the next second
    /// is the first whose sessions live).
    fn end_all(&mut self, now: i64) {
        self.not_before = self.not_before.max(now.saturating_add(1));
        self.ended.clear();
    }

    fn merge(&mut self, disk: OnDisk) {
        self.not_before = self.not_before.max(disk.not_before);
        for (id, expires) in disk.ended {
            let e = self.ended.entry(id).or_insert(expires);
            *e = (*e).max(expires);
        }
    }

    /// Drops what expired; at the cap, ends everything instead of
    /// forgetting an entry.
    fn tidy(&mut self, now: i64) {
        self.ended.retain(|_, expires| *expires > now);
        if self.ended.len() > self.cap {
            tracing::warn!(
                "axes: more than {} ended sessions remembered: ending every session \
                 (everybody signs in again)",
                self.cap
            );
            self.end_all(now);
        }
    }

    fn to_disk(&self) -> OnDisk {
        let mut ended: Vec<(String, i64)> =
            self.ended.iter().map(|(k, v)| (k.clone(), *v)).collect();
        ended.sort_unstable();
        OnDisk {
            version: VERSION,
            not_before: self.not_before,
            ended,
        }
    }
}

/// What reading the file gave.
enum Read {
    Missing,
    Damaged(Stamp),
    Fine(OnDisk, Stamp),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SessionError {
    let path = path.to_path_buf();
    move |cause| SessionError::Io {
        action,
        path,
        cause,
    }
}

fn read_file(path: &Path) -> Result<Read, SessionError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Read::Missing),
        Err(e) => return Err(io("read", path)(e)),
    };
    let meta = file.metadata().map_err(io("read", path))?;
    let stamp = Stamp::of(&meta);
    if meta.len() > MAX_FILE_BYTES {
        return Ok(Read::Damaged(stamp));
    }
    let mut text = String::new();
    if file.take(MAX_FILE_BYTES).read_to_string(&mut text).is_err() {
        return Ok(Read::Damaged(stamp));
    }
    match serde_json::from_str::<OnDisk>(&text) {
        Ok(disk) if disk.version == VERSION => Ok(Read::Fine(disk, stamp)),
        _ => Ok(Read::Damaged(stamp)),
    }
}

fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

impl Revocations {
    /// A list kept in memory only (the demo, tests): it ends with the process.
    pub fn in_memory() -> Self {
        Self::in_memory_with_cap(MAX_ENDED)
    }

    /// As [`Revocations::in_memory`], with at most `cap` entries.
    pub fn in_memory_with_cap(cap: usize) -> Self {
        Revocations {
            inner: Arc::new(Mutex::new(State::new(cap))),
            file: None,
        }
    }

    /// The list kept in [`FILE_NAME`] in `dir` (created on the first
    /// logout). A damaged file ends every session and is rewritten.
    pub fn open(dir: &Path, now: i64) -> Result<Self, SessionError> {
        Self::open_with_cap(dir, now, MAX_ENDED)
    }

    /// As [`Revocations::open`], with at most `cap` entries.
    pub fn open_with_cap(dir: &Path, now: i64, cap: usize) -> Result<Self, SessionError> {
        let revocations = Revocations {
            inner: Arc::new(Mutex::new(State::new(cap))),
            file: Some(Arc::new(Files {
                path: dir.join(FILE_NAME),
                lock: dir.join(LOCK_FILE_NAME),
                tmp: dir.join(format!("{FILE_NAME}.tmp")),
            })),
        };
        let damaged = match revocations.refresh(now)? {
            Refreshed::Damaged => true,
            Refreshed::Same | Refreshed::Merged => false,
        };
        if damaged {
            // Write the verdict down, so a restart does not depend on the
            // damaged file again.
            revocations.update(now, |_| {})?;
        }
        Ok(revocations)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Merges the file in when it changed since it was last read.
    fn refresh(&self, now: i64) -> Result<Refreshed, SessionError> {
        let Some(files) = &self.file else {
            return Ok(Refreshed::Same);
        };
        let current = match std::fs::metadata(&files.path) {
            Ok(meta) => Some(Stamp::of(&meta)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io("read", &files.path)(e)),
        };
        if current.is_none() || current == self.lock().seen {
            // Gone (what we know stays known) or unchanged.
            return Ok(Refreshed::Same);
        }
        let read = read_file(&files.path)?;
        let mut state = self.lock();
        match read {
            Read::Missing => Ok(Refreshed::Same),
            Read::Fine(disk, stamp) => {
                state.merge(disk);
                state.seen = Some(stamp);
                Ok(Refreshed::Merged)
            }
            Read::Damaged(stamp) => {
                tracing::error!(
                    "axes: {} is damaged: every session ends (it is rewritten at the next logout)",
                    files.path.display()
                );
                state.end_all(now);
                state.seen = Some(stamp);
                Ok(Refreshed::Damaged)
            }
        }
    }

    /// Whether the session `id`, issued at `issued` (seconds), has been
    /// ended. When the file cannot be read, every session counts as ended.
    pub fn is_ended(&self, id: &str, issued: i64, now: i64) -> bool {
        if let Err(e) = self.refresh(now) {
            tracing::error!("axes: {e}; refusing sessions until it can be read");
            return true;
        }
        self.lock().is_ended(id, issued)
    }

    /// Ends the session `id` (which would expire at `expires`), for this
    /// process and, when the list is kept in a file, for good. Blocking
    /// (file I/O): call it off the async runtime.
    pub fn end(&self, id: &str, expires: i64, now: i64) -> Result<(), SessionError> {
        self.update(now, |state| {
            if expires > now {
                state.ended.insert(id.to_owned(), expires);
            }
        })
    }

    /// Ends every session issued up to `now`.
    pub fn end_all(&self, now: i64) -> Result<(), SessionError> {
        self.update(now, |state| state.end_all(now))
    }

    /// How many ended sessions are remembered.
    pub fn len(&self) -> usize {
        self.lock().ended.len()
    }

    /// Whether no ended session is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies `change` in memory and, with a file, under the writers'
    /// lock: merge the file, change, tidy, write, rename.
    fn update(&self, now: i64, change: impl FnOnce(&mut State)) -> Result<(), SessionError> {
        let Some(files) = &self.file else {
            let mut state = self.lock();
            change(&mut state);
            state.tidy(now);
            return Ok(());
        };
        if let Some(dir) = files.path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        }
        let lock = open_private(&files.lock).map_err(io("open", &files.lock))?;
        lock.lock().map_err(io("lock", &files.lock))?;
        let disk = read_file(&files.path)?;
        let text = {
            let mut state = self.lock();
            match disk {
                Read::Fine(disk, _) => state.merge(disk),
                Read::Damaged(_) => state.end_all(now),
                Read::Missing => {}
            }
            change(&mut state);
            state.tidy(now);
            serde_json::to_string(&state.to_disk()).map_err(|e| SessionError::Io {
                action: "encode",
                path: files.path.clone(),
                cause: std::io::Error::other(e),
            })?
        };
        // From here on this process refuses the session whatever happens
        // to the file. A leftover temporary file goes first, so the new
        // one is created with mode 0600.
        match std::fs::remove_file(&files.tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("remove", &files.tmp)(e)),
        }
        let mut tmp = open_private(&files.tmp).map_err(io("write", &files.tmp))?;
        tmp.write_all(text.as_bytes())
            .and_then(|()| tmp.sync_all())
            .map_err(io("write", &files.tmp))?;
        drop(tmp);
        std::fs::rename(&files.tmp, &files.path).map_err(io("replace", &files.path))?;
        // Still under the lock: nobody else wrote since.
        let stamp = std::fs::metadata(&files.path)
            .map(|m| Stamp::of(&m))
            .map_err(io("read", &files.path))?;
        self.lock().seen = Some(stamp);
        drop(lock);
        Ok(())
    }
}

enum Refreshed {
    Same,
    Merged,
    Damaged,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ended_sessions_stay_ended_until_they_expire() {
        let r = Revocations::in_memory();
        assert!(!r.is_ended("a", 100, 1));
        r.end("a", 200, 150).unwrap();
        assert!(r.is_ended("a", 100, 1));
        assert!(!r.is_ended("b", 100, 1));
        // Purged once expired (the signature check refuses it by then).
        r.end("c", 300, 250).unwrap();
        assert!(!r.is_ended("a", 100, 1));
        assert_eq!(r.len(), 1);
        // An already expired session is not remembered at all.
        r.end("d", 100, 250).unwrap();
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn the_cap_ends_everything_instead_of_forgetting() {
        let r = Revocations::in_memory_with_cap(3);
        for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
            r.end(id, 1000, 100 + i as i64).unwrap();
        }
        assert_eq!(r.len(), 3);
        // The fourth would exceed the cap: everything issued up to now ends.
        r.end("d", 1000, 110).unwrap();
        assert!(r.is_empty());
        for id in ["a", "b", "c", "d", "never-ended"] {
            assert!(r.is_ended(id, 110, 1), "{id}");
        }
        // Sessions issued afterwards live.
        assert!(!r.is_ended("e", 111, 1));
    }

    #[test]
    fn the_file_survives_the_process_and_is_shared() {
        let dir = tempfile::tempdir().unwrap();
        let a = Revocations::open(dir.path(), 100).unwrap();
        a.end("x", 500, 100).unwrap();
        let b = Revocations::open(dir.path(), 100).unwrap();
        assert!(b.is_ended("x", 90, 1), "a new process reads the file");
        // Another process's logout is seen without a restart.
        b.end("y", 500, 101).unwrap();
        assert!(a.is_ended("y", 90, 1));
        // Deleting the file does not make a running process forget.
        std::fs::remove_file(dir.path().join(FILE_NAME)).unwrap();
        assert!(a.is_ended("x", 90, 1));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            a.end("z", 500, 102).unwrap();
            let mode = std::fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_file_ends_every_session() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "{\"version\":1,\"not_bef").unwrap();
        let now = 1_000;
        let r = Revocations::open(dir.path(), now).unwrap();
        assert!(r.is_ended("anything", now - 10, 1));
        // ... and it was rewritten with that verdict.
        let again = Revocations::open(dir.path(), now).unwrap();
        assert!(again.is_ended("anything", now - 10, 1));
        assert!(!again.is_ended("anything", now + 10, 1));
    }
}
