//! Access tokens remembered in memory.

use super::*;

/// Opaque access tokens remembered in memory: for a single-process embedder or tests (the
/// HTTP server signs JWTs instead, so that several nodes can verify them).
pub struct MemoryTokenIssuer {
    lifetime: Duration,
    issued: Mutex<HashMap<String, AccessClaims>>,
}

impl MemoryTokenIssuer {
    /// Tokens that live `lifetime`.
    pub fn new(lifetime: Duration) -> Self {
        Self {
            lifetime,
            issued: Mutex::new(HashMap::new()),
        }
    }
}

impl Default for MemoryTokenIssuer {
    fn default() -> Self {
        Self::new(Duration::minutes(15))
    }
}

impl TokenIssuer for MemoryTokenIssuer {
    fn issue(&self, user: &User, now: DateTime<Utc>) -> Result<(String, AccessClaims), TokenError> {
        let token =
            crate::account::random_token().map_err(|e| TokenError::Issuer(e.to_string()))?;
        let claims = AccessClaims {
            user_id: user.id,
            role: user.role,
            token_version: user.token_version,
            expires_at: now + self.lifetime,
        };
        let mut issued = self
            .issued
            .lock()
            .map_err(|_| TokenError::Issuer("issuer unavailable".into()))?;
        issued.retain(|_, c| c.expires_at > now);
        issued.insert(token.clone(), claims.clone());
        Ok((token, claims))
    }

    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        let issued = self
            .issued
            .lock()
            .map_err(|_| TokenError::Issuer("issuer unavailable".into()))?;
        let claims = issued.get(token).ok_or(TokenError::Invalid)?;
        if claims.expires_at <= now {
            return Err(TokenError::Expired);
        }
        Ok(claims.clone())
    }
}
