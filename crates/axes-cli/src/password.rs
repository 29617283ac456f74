//! Checking a password against an argon2 hash, a bounded number at a time;
//! and the demo's `fast` hasher, for benchmarks only ([`fast_hash`]).
//!
//! An argon2 check costs tens of milliseconds of CPU and ~19 MiB of memory.
//! Unbounded, a flood of logins with new usernames (each admitted, each
//! checked) ran one check per blocking thread: hundreds at once, gigabytes
//! of memory, and a CPU so busy that the store's calls timed out — with
//! `fail_closed = false` the engine then let attempts through uncounted. So
//! at most one check per core runs at a time; the others wait their turn,
//! and one that waits longer than [`QUEUE_TIMEOUT`] is not checked at all
//! (an error: its reservation is given back, nothing is counted or checked).

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context as _;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
use tokio::sync::Semaphore;

/// The longest a check waits for its turn.
pub const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

fn permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Semaphore::new(cores)
    })
}

/// Whether `password` matches the PHC string `phc` (argon2). An unparsable
/// hash is a mismatch. `Err` when the check could not run (its turn did not
/// come within [`QUEUE_TIMEOUT`], or the worker failed).
pub async fn verify(phc: String, password: String) -> anyhow::Result<bool> {
    verify_within(phc, password, QUEUE_TIMEOUT).await
}

async fn verify_within(phc: String, password: String, wait: Duration) -> anyhow::Result<bool> {
    let _turn = tokio::time::timeout(wait, permits().acquire())
        .await
        .map_err(|_| anyhow::anyhow!("too many password checks waiting; not checked"))?
        .context("password checks closed")?;
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .context("password check")
}

/// The prefix of a [`fast_hash`].
const FAST_PREFIX: &str = "sha256$";

/// The `fast` hasher of `axes demo --password-hasher fast`, **for
/// benchmarks only**: one unsalted SHA-256 of the password, so that a
/// benchmark of the demo measures axes rather than argon2. Never use it
/// for real accounts: an unsalted fast hash is cracked in no time.
pub fn fast_hash(password: &str) -> String {
    use sha2::Digest as _;
    format!(
        "{FAST_PREFIX}{}",
        hex::encode(sha2::Sha256::digest(password.as_bytes()))
    )
}

/// Whether `password` matches a [`fast_hash`] (in constant time for
/// hashes of the same length). Anything else is a mismatch.
pub fn fast_verify(hash: &str, password: &str) -> bool {
    let made = fast_hash(password);
    hash.starts_with(FAST_PREFIX)
        && hash.len() == made.len()
        && hash
            .bytes()
            .zip(made.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn no_more_checks_run_than_there_are_permits() {
        // Every permit taken (as by that many checks in flight): the next
        // check waits its turn, and is not run at all past the queue timeout.
        let n = permits().available_permits();
        let held = permits().acquire_many(n as u32).await.unwrap();
        let wait = Duration::from_millis(50);
        let err = verify_within("$argon2id$x".into(), "pw".into(), wait)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("too many password checks"),
            "{err}"
        );
        drop(held);
        // With its turn free, it runs (an unparsable hash is a mismatch).
        assert!(!verify("not a hash".into(), "pw".into()).await.unwrap());
    }

    #[test]
    fn fast_hashes_verify() {
        let h = fast_hash("wonderland");
        assert!(h.starts_with("sha256$"), "{h}");
        assert!(fast_verify(&h, "wonderland"));
        assert!(!fast_verify(&h, "wonderlanD"));
        assert!(!fast_verify(&h, ""));
        assert!(!fast_verify("$argon2id$x", "wonderland"));
        assert!(!fast_verify(&h[1..], "wonderland"));
    }
}
