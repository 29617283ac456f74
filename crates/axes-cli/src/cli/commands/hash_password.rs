//! `hash-password`: an argon2id PHC string for `admin_users`.

use std::io::{BufRead as _, Read as _};

use anyhow::Context as _;
use argon2::password_hash::{PasswordHasher as _, SaltString};

use crate::cli::InvalidInput;
use crate::cli::output::print_line;

/// The longest password accepted (argon2 itself takes more; a bound keeps
/// the input bounded).
const MAX_PASSWORD_BYTES: usize = 4096;

/// Reads one line from stdin, prints its hash.
pub fn run() -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_PASSWORD_BYTES as u64 + 2)
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line);
    if password.is_empty() {
        return Err(InvalidInput("no password on standard input".into()).into());
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(InvalidInput(format!(
            "the password is longer than {MAX_PASSWORD_BYTES} bytes"
        ))
        .into());
    }
    let phc = hash(password)?;
    Ok(print_line(&phc)?)
}

/// Hashes `password` with argon2id (default parameters) and a random salt.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("cannot get random bytes: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("bad salt: {e}"))?;
    let hash = argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier as _};

    #[test]
    fn hashes_verify() {
        let phc = hash("s3cret").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        let parsed = PasswordHash::new(&phc).unwrap();
        let argon = argon2::Argon2::default();
        assert!(argon.verify_password(b"s3cret", &parsed).is_ok());
        assert!(argon.verify_password(b"other", &parsed).is_err());
        assert_ne!(phc, hash("s3cret").unwrap());
    }
}
