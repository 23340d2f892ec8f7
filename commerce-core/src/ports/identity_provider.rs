use super::*;

/// Who a provider says signed in, its ID token checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The issuer that vouches for it.
    pub issuer: String,
    /// The person's stable id at that issuer: with the issuer, what a sign-in is found by.
    pub subject: String,
    /// The email the provider gives, if any.
    pub email: Option<String>,
    /// Whether the provider vouches that the email is the person's.
    pub email_verified: bool,
    /// Their name, if the provider gives one.
    pub name: Option<String>,
}

/// What signing in with a provider failed on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityProviderError {
    /// The provider cannot be reached, or answered with a server error.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the code, or its ID token failed a check.
    #[error("{0}")]
    Refused(String),
    /// The provider is not set up right.
    #[error("the provider is not set up right: {0}")]
    Misconfigured(String),
}

/// An OpenID Connect provider as social sign-in uses it (`commerce-oidc`'s `OidcClient`).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait IdentityProvider: Send + Sync {
    /// The provider's name in the API (`google`).
    fn name(&self) -> String;
    /// What a sign-in button says (`Google`).
    fn display_name(&self) -> String;
    /// Where the browser goes to sign in: the code flow with PKCE (S256).
    async fn authorization_url(
        &self,
        redirect_uri: &str,
        state: &str,
        nonce: &str,
        pkce_challenge: &str,
    ) -> Result<String, IdentityProviderError>;
    /// Trades the code for the ID token and checks it (signature, issuer, audience, times,
    /// `nonce`): who signed in.
    async fn identify(
        &self,
        code: &str,
        pkce_verifier: &str,
        redirect_uri: &str,
        nonce: &str,
    ) -> Result<VerifiedIdentity, IdentityProviderError>;
}
