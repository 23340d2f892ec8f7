use super::*;
use crate::social::{ProviderIdentity, SignInFlow};

/// Social sign-in: flows under way and linked provider identities.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SocialSignInStore: Send + Sync {
    /// Keeps a flow; `Duplicate(RecordId)` for a state hash in use.
    async fn insert_sign_in_flow(&self, flow: &SignInFlow) -> Result<(), StorageError>;
    /// Takes the flow of `state_hash` away (it works once, even when two callbacks race):
    /// `None` when there is none or it expired before `now`.
    async fn take_sign_in_flow(
        &self,
        state_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SignInFlow>, StorageError>;
    /// Forgets flows that expired before `before`; how many.
    async fn purge_sign_in_flows(&self, before: DateTime<Utc>) -> Result<u64, StorageError>;
    /// The account a provider identity is linked to.
    async fn identity_owner(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<UserId>, StorageError>;
    /// Links an identity to an existing account: `Duplicate(ProviderIdentity)` when the
    /// identity is linked already (to anyone), `MissingReference(User)` for an unknown user.
    async fn link_identity(&self, identity: &ProviderIdentity) -> Result<(), StorageError>;
    /// A new account and its first identity, in one step (no account is left without it):
    /// `Duplicate(UserEmail)` or `Duplicate(ProviderIdentity)`, and then neither is stored.
    async fn insert_user_with_identity(
        &self,
        user: &User,
        identity: &ProviderIdentity,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// The identities linked to an account, oldest first.
    async fn identities(&self, user: UserId) -> Result<Vec<ProviderIdentity>, StorageError>;
}
