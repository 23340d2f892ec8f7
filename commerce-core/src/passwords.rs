//! Password hashing with argon2id (the `PasswordHasher` port's default adapter).

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::Argon2;

use crate::ports::{HashError, PasswordHasher};

/// argon2id with the crate's recommended parameters (19 MiB, 2 passes), a random salt per
/// hash, stored as a PHC string that records its own parameters.
#[derive(Default)]
pub struct Argon2Hasher {
    argon: Argon2<'static>,
}

impl PasswordHasher for Argon2Hasher {
    fn hash(&self, password: &str) -> Result<String, HashError> {
        self.argon
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    }

    fn verify(&self, password: &str, hash: &str) -> Result<bool, HashError> {
        let parsed = PasswordHash::new(hash).map_err(|e| HashError(e.to_string()))?;
        match self.argon.verify_password(password.as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(e) => Err(HashError(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_per_salt() {
        let hasher = Argon2Hasher::default();
        let a = hasher.hash("correct horse").unwrap();
        let b = hasher.hash("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(hasher.verify("correct horse", &a).unwrap());
        assert!(!hasher.verify("wrong horse", &a).unwrap());
        assert!(hasher.verify("x", "not a hash").is_err());
    }
}
