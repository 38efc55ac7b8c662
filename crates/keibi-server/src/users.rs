//! Passwords of local users: argon2id hashes (RustCrypto's `argon2`, its default
//! parameters: 19 MiB, 2 passes, 1 lane) with a random salt, as PHC strings.
//! `keibi users add|passwd` hash; the login page verifies.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::ServerError;

/// The shortest password `keibi users` accepts, in characters.
pub const MIN_PASSWORD: usize = 12;

/// The longest password verified, in bytes: a longer one is wrong without being
/// hashed beyond the dummy (a login form is no place for megabytes).
pub const MAX_PASSWORD: usize = 1024;

/// The argon2id hash of `password`, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, ServerError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| ServerError::Invalid(format!("the system's random source failed: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ServerError::Invalid(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServerError::Invalid(format!("the password could not be hashed: {e}")))
}

/// Whether `password` matches `hash`. With no hash (an unknown or disabled user)
/// or a hash that does not parse, a dummy hash of the same parameters is verified
/// instead and the answer is false: a wrong user name costs the same time as a
/// wrong password. Blocking (tens of milliseconds): call it off the async threads.
pub fn verify_password(hash: Option<&str>, password: &str) -> bool {
    let parsed = hash.and_then(|h| PasswordHash::new(h).ok());
    let pw = if password.len() > MAX_PASSWORD {
        ""
    } else {
        password
    };
    match parsed {
        Some(h) => Argon2::default().verify_password(pw.as_bytes(), &h).is_ok() && pw == password,
        None => {
            if let Some(d) = dummy().and_then(|d| PasswordHash::new(d).ok()) {
                let _ = Argon2::default().verify_password(pw.as_bytes(), &d);
            }
            false
        }
    }
}

/// Makes the dummy hash now (at start), so the first unknown user name does not
/// cost one hash more than a known one.
pub fn warm() {
    let _ = dummy();
}

/// A hash of a random password, made once.
fn dummy() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let mut b = [0u8; 24];
            getrandom::fill(&mut b).ok()?;
            let pw: String = b.iter().map(|x| format!("{x:02x}")).collect();
            hash_password(&pw).ok()
        })
        .as_deref()
}

/// Why a new password is refused, or `None`.
pub fn password_problem(password: &str) -> Option<&'static str> {
    if password.chars().count() < MIN_PASSWORD {
        Some("too-short")
    } else if password.len() > MAX_PASSWORD {
        Some("too-long")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
        assert!(verify_password(Some(&h), "correct horse battery"));
        assert!(!verify_password(Some(&h), "correct horse batterY"));
        assert!(!verify_password(None, "correct horse battery"));
        assert!(!verify_password(Some("garbage"), "correct horse battery"));
        assert!(!verify_password(Some(&h), &"x".repeat(MAX_PASSWORD + 1)));
        assert_eq!(password_problem("short"), Some("too-short"));
        assert_eq!(password_problem("twelve chars"), None);
    }
}
