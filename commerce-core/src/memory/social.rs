//! Social sign-in's flows and linked identities in memory.

use super::*;
use crate::social::{ProviderIdentity, SignInFlow};

impl State {
    fn identity_taken(&self, identity: &ProviderIdentity) -> bool {
        self.identities
            .iter()
            .any(|i| i.issuer == identity.issuer && i.subject == identity.subject)
    }
}

#[async_trait]
impl SocialSignInStore for MemoryStore {
    async fn insert_sign_in_flow(&self, flow: &SignInFlow) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if s.sign_in_flows.contains_key(&flow.state_hash) {
            return Err(StorageError::Duplicate(UniqueRule::RecordId));
        }
        s.sign_in_flows
            .insert(flow.state_hash.clone(), flow.clone());
        Ok(())
    }

    async fn take_sign_in_flow(
        &self,
        state_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SignInFlow>, StorageError> {
        Ok(self
            .lock()?
            .sign_in_flows
            .remove(state_hash)
            .filter(|f| f.expires_at > now))
    }

    async fn purge_sign_in_flows(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        let mut s = self.lock()?;
        let was = s.sign_in_flows.len();
        s.sign_in_flows.retain(|_, f| f.expires_at >= before);
        Ok((was - s.sign_in_flows.len()) as u64)
    }

    async fn identity_owner(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<UserId>, StorageError> {
        Ok(self
            .lock()?
            .identities
            .iter()
            .find(|i| i.issuer == issuer && i.subject == subject)
            .map(|i| i.user_id))
    }

    async fn link_identity(&self, identity: &ProviderIdentity) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.users.contains_key(&identity.user_id) {
            return Err(StorageError::MissingReference(Reference::User));
        }
        if s.identity_taken(identity) {
            return Err(StorageError::Duplicate(UniqueRule::ProviderIdentity));
        }
        s.identities.push(identity.clone());
        Ok(())
    }

    async fn insert_user_with_identity(
        &self,
        user: &User,
        identity: &ProviderIdentity,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if s.users.values().any(|u| u.email == user.email) {
            return Err(StorageError::Duplicate(UniqueRule::UserEmail));
        }
        if s.identity_taken(identity) {
            return Err(StorageError::Duplicate(UniqueRule::ProviderIdentity));
        }
        s.users.insert(user.id, user.clone());
        s.identities.push(identity.clone());
        s.tell(record);
        Ok(())
    }

    async fn identities(&self, user: UserId) -> Result<Vec<ProviderIdentity>, StorageError> {
        Ok(self
            .lock()?
            .identities
            .iter()
            .filter(|i| i.user_id == user)
            .cloned()
            .collect())
    }
}
