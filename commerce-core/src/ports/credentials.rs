//! Password hashing and access tokens.

use super::*;

/// The hasher failed (not a wrong password: that is `Ok(false)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(pub String);

/// Password hashing; slow on purpose, so services call it off the async workers.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait PasswordHasher: Send + Sync {
    /// A PHC string (algorithm, parameters, salt and hash) for `password`, with a new salt.
    fn hash(&self, password: &str) -> Result<String, HashError>;
    /// `false` for a wrong password; an error only for a malformed stored hash.
    fn verify(&self, password: &str, hash: &str) -> Result<bool, HashError>;
}

/// What an access token asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Who.
    pub user_id: UserId,
    /// Their role when it was issued.
    pub role: Role,
    /// The user's token version then: a role change, deactivation or password reset moves
    /// it, and tokens of an older version stop working at once.
    pub token_version: u32,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Why an access token was not accepted or made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token this issuer signed (malformed, another key, another algorithm).
    #[error("the token is invalid")]
    Invalid,
    /// Signed, but past its time.
    #[error("the token has expired")]
    Expired,
    /// The issuer cannot sign (its key).
    #[error("tokens cannot be issued: {0}")]
    Issuer(String),
}

/// Signs and checks access tokens (`commerce-http`'s JWT issuer).
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait TokenIssuer: Send + Sync {
    /// A signed access token for the claims; its lifetime is the issuer's.
    fn issue(&self, user: &User, now: DateTime<Utc>) -> Result<(String, AccessClaims), TokenError>;
    /// The claims of a token this issuer signed, if it has not expired at `now`.
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError>;
}
