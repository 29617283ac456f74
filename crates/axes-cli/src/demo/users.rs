//! The demo's users: names and password hashes (argon2, or the `fast`
//! hasher for benchmarks), made at start-up.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher as _, SaltString};

/// How the demo hashes its users' passwords (`axes demo --password-hasher`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PasswordHasher {
    /// argon2id with its default parameters (slow on purpose).
    #[default]
    Argon2,
    /// One SHA-256 of the password, checked inline: for benchmarks only,
    /// so that they measure axes rather than argon2
    /// ([`crate::password::fast_hash`]).
    Fast,
}

/// The users of the demo site. Passwords are kept only as hashes.
pub struct Users {
    hashes: HashMap<String, String>,
    /// Hashed with [`PasswordHasher::Fast`] (checked inline) rather than
    /// argon2 (checked off the runtime, a bounded number at a time).
    fast: bool,
    /// A hash of a random password, verified against for unknown names so
    /// that they take as long as known ones.
    dummy: String,
    /// How many times [`Users::verify`] ran (for `GET /demo/stats`).
    checks: AtomicU64,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users")
            .field("names", &self.names())
            .finish_non_exhaustive()
    }
}

fn salt() -> anyhow::Result<SaltString> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a salt: {e}"))?;
    SaltString::encode_b64(&bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))
}

fn hash(argon2: &Argon2<'_>, password: &str) -> anyhow::Result<String> {
    Ok(argon2
        .hash_password(password.as_bytes(), &salt()?)
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?
        .to_string())
}

impl Users {
    /// Hashes the passwords of `users` (name, password) with `argon2`.
    pub fn new(users: Vec<(String, String)>, argon2: &Argon2<'_>) -> anyhow::Result<Self> {
        Self::hashed(users, false, |password| hash(argon2, password))
    }

    /// Hashes the passwords of `users` with the [`PasswordHasher::Fast`]
    /// hasher: for benchmarks only.
    pub fn fast(users: Vec<(String, String)>) -> anyhow::Result<Self> {
        Self::hashed(users, true, |password| {
            Ok(crate::password::fast_hash(password))
        })
    }

    fn hashed(
        users: Vec<(String, String)>,
        fast: bool,
        hash: impl Fn(&str) -> anyhow::Result<String>,
    ) -> anyhow::Result<Self> {
        let mut hashes = HashMap::with_capacity(users.len());
        for (name, password) in users {
            anyhow::ensure!(!name.trim().is_empty(), "a demo user needs a name");
            let h = hash(&password).with_context(|| format!("user {name}"))?;
            hashes.insert(name, h);
        }
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let dummy = hash(&hex::encode(random))?;
        Ok(Self {
            hashes,
            fast,
            dummy,
            checks: AtomicU64::new(0),
        })
    }

    /// How many credential checks ran since start: every call of
    /// [`Users::verify`], right or wrong, known user or not.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }

    /// The user names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.hashes.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The password hash (PHC string) of `name`.
    pub fn password_hash(&self, name: &str) -> Option<&str> {
        self.hashes.get(name).map(String::as_str)
    }

    /// Checks a password: argon2 off the async runtime (it is slow on
    /// purpose), the fast hasher inline. `Ok(Some(name))` when right,
    /// `Ok(None)` when wrong or the user is unknown (after the same amount
    /// of work).
    pub async fn verify(&self, name: &str, password: String) -> anyhow::Result<Option<String>> {
        self.checks.fetch_add(1, Ordering::Relaxed);
        let (known, phc) = match self.hashes.get(name) {
            Some(h) => (true, h),
            None => (false, &self.dummy),
        };
        let ok = if self.fast {
            crate::password::fast_verify(phc, &password)
        } else {
            crate::password::verify(phc.clone(), password).await?
        };
        Ok((known && ok).then(|| name.to_owned()))
    }
}

impl crate::session::Credentials for Users {
    fn password_hash(&self, name: &str) -> Option<&str> {
        Users::password_hash(self, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2<'static> {
        Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8, 1, 1, None).unwrap(),
        )
    }

    #[tokio::test]
    async fn verifies() {
        let users = Users::new(vec![("ann".into(), "pw".into())], &cheap()).unwrap();
        assert_eq!(
            users.verify("ann", "pw".into()).await.unwrap().as_deref(),
            Some("ann")
        );
        assert_eq!(users.verify("ann", "no".into()).await.unwrap(), None);
        assert_eq!(users.verify("bob", "pw".into()).await.unwrap(), None);
        assert_eq!(users.names(), vec!["ann"]);
        assert_eq!(users.checks(), 3);
        assert!(!format!("{users:?}").contains("argon2"));
    }

    #[tokio::test]
    async fn verifies_with_the_fast_hasher() {
        let users = Users::fast(vec![("ann".into(), "pw".into())]).unwrap();
        assert!(users.password_hash("ann").unwrap().starts_with("sha256$"));
        assert_eq!(
            users.verify("ann", "pw".into()).await.unwrap().as_deref(),
            Some("ann")
        );
        assert_eq!(users.verify("ann", "no".into()).await.unwrap(), None);
        assert_eq!(users.verify("bob", "pw".into()).await.unwrap(), None);
        assert_eq!(users.checks(), 3);
    }
}
