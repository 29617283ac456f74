//! The service's admin accounts: `admin_users` entries `name:$argon2id$…`
//! (made with `axes hash-password`).

use std::sync::Arc;

use argon2::password_hash::PasswordHash;
use axes_core::{ConfigError, Settings};

/// The longest password checked (longer ones are wrong without hashing).
pub const MAX_PASSWORD_BYTES: usize = 4096;

/// The admin accounts, by name.
#[derive(Clone, Default)]
pub struct Accounts {
    users: Arc<Vec<(String, String)>>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("names", &self.names())
            .finish_non_exhaustive()
    }
}

impl Accounts {
    /// Parses `admin_users`. A malformed entry is a configuration error
    /// that names the entry by position and name (never its hash).
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let mut users: Vec<(String, String)> = Vec::new();
        for (i, entry) in settings.admin_users.iter().enumerate() {
            let bad =
                |why: &str| ConfigError::Conflict(format!("admin_users entry {}: {why}", i + 1));
            let (name, phc) = entry
                .split_once(':')
                .ok_or_else(|| bad("expected NAME:ARGON2-HASH (see `axes hash-password`)"))?;
            let name = name.trim();
            if name.is_empty() || name.len() > 256 {
                return Err(bad("the name is empty or too long"));
            }
            let phc = phc.trim();
            let parsed = PasswordHash::new(phc).map_err(|_| {
                bad(&format!(
                    "the hash of `{name}` is not a PHC string (make one with `axes hash-password`)"
                ))
            })?;
            if !parsed.algorithm.as_str().starts_with("argon2") {
                return Err(bad(&format!("the hash of `{name}` is not an argon2 hash")));
            }
            if users.iter().any(|(n, _)| n == name) {
                return Err(bad(&format!("`{name}` is listed twice")));
            }
            users.push((name.to_owned(), phc.to_owned()));
        }
        Ok(Self {
            users: Arc::new(users),
        })
    }

    /// Whether there is no account.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The account names.
    pub fn names(&self) -> Vec<&str> {
        self.users.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Whether `name` is an account.
    pub fn contains(&self, name: &str) -> bool {
        self.users.iter().any(|(n, _)| n == name)
    }

    /// The password hash (PHC string) of `name`.
    pub fn password_hash(&self, name: &str) -> Option<&str> {
        self.users
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, h)| h.as_str())
    }

    /// Checks a password off the async runtime. `Ok(Some(name))` when
    /// right; `Ok(None)` when wrong or unknown (an unknown name is checked
    /// against another account's hash, so it takes as long).
    pub async fn verify(&self, name: &str, password: String) -> anyhow::Result<Option<String>> {
        let name = name.trim().to_owned();
        let (known, phc) = match self.users.iter().find(|(n, _)| *n == name) {
            Some((_, h)) => (true, h.clone()),
            None => match self.users.first() {
                Some((_, h)) => (false, h.clone()),
                None => return Ok(None),
            },
        };
        if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
            return Ok(None);
        }
        let ok = crate::password::verify(phc, password).await?;
        Ok((known && ok).then_some(name))
    }
}

impl crate::session::Credentials for Accounts {
    fn password_hash(&self, name: &str) -> Option<&str> {
        Accounts::password_hash(self, name)
    }
}
