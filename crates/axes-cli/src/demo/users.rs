//! The demo's users: names and argon2 hashes, made at start-up.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};

/// The users of the demo site. Passwords are kept only as argon2 hashes.
pub struct Users {
    hashes: HashMap<String, String>,
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
        let mut hashes = HashMap::with_capacity(users.len());
        for (name, password) in users {
            anyhow::ensure!(!name.trim().is_empty(), "a demo user needs a name");
            let h = hash(argon2, &password).with_context(|| format!("user {name}"))?;
            hashes.insert(name, h);
        }
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let dummy = hash(argon2, &hex::encode(random))?;
        Ok(Self {
            hashes,
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

    /// Checks a password, off the async runtime (argon2 is slow on
    /// purpose). `Ok(Some(name))` when right, `Ok(None)` when wrong or the
    /// user is unknown (after the same amount of work).
    pub async fn verify(&self, name: &str, password: String) -> anyhow::Result<Option<String>> {
        self.checks.fetch_add(1, Ordering::Relaxed);
        let (known, phc) = match self.hashes.get(name) {
            Some(h) => (true, h.clone()),
            None => (false, self.dummy.clone()),
        };
        let ok = crate::password::verify(phc, password).await?;
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
}
