//! Password hashing and access tokens.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(pub String);

/// Password hashing; slow on purpose, so services call it off the async workers.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait PasswordHasher: Send + Sync {
    fn hash(&self, password: &str) -> Result<String, HashError>;
    /// `false` for a wrong password; an error only for a malformed stored hash.
    fn verify(&self, password: &str, hash: &str) -> Result<bool, HashError>;
}

/// What an access token asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub user_id: UserId,
    pub role: Role,
    pub token_version: u32,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is invalid")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    #[error("tokens cannot be issued: {0}")]
    Issuer(String),
}

#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait TokenIssuer: Send + Sync {
    /// A signed access token for the claims; its lifetime is the issuer's.
    fn issue(&self, user: &User, now: DateTime<Utc>) -> Result<(String, AccessClaims), TokenError>;
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError>;
}
