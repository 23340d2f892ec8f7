//! Accounts in memory: users and their addresses, one-time and refresh tokens, failed sign-ins.

use super::*;

#[async_trait]
impl UserStore for MemoryStore {
    async fn insert_user(&self, user: &User, record: &ChangeRecord) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if s.users.values().any(|u| u.email == user.email) {
            return Err(StorageError::Duplicate(UniqueRule::UserEmail));
        }
        s.users.insert(user.id, user.clone());
        s.tell(record);
        Ok(())
    }

    async fn update_user(&self, user: &User, record: &ChangeRecord) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.users.contains_key(&user.id) {
            return Err(StorageError::NotFound);
        }
        if s.users
            .values()
            .any(|u| u.email == user.email && u.id != user.id)
        {
            return Err(StorageError::Duplicate(UniqueRule::UserEmail));
        }
        s.users.insert(user.id, user.clone());
        s.tell(record);
        Ok(())
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StorageError> {
        Ok(self.lock()?.users.get(&id).cloned())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError> {
        Ok(self
            .lock()?
            .users
            .values()
            .find(|u| u.email == email)
            .cloned())
    }

    async fn list_users(&self, filter: &UserFilter) -> Result<Page<User>, StorageError> {
        let s = self.lock()?;
        let text = filter.text.as_deref().map(str::to_lowercase);
        let items: Vec<User> = s
            .users
            .values()
            .filter(|u| filter.role.is_none_or(|r| u.role == r))
            .filter(|u| {
                text.as_deref()
                    .is_none_or(|t| u.email.contains(t) || u.full_name.to_lowercase().contains(t))
            })
            .cloned()
            .collect();
        Ok(page_after(
            items,
            |u| (std::cmp::Reverse(u.created_at), u.id),
            |u| u.id.to_string(),
            &filter.page,
        ))
    }

    async fn addresses(&self, user_id: UserId) -> Result<Vec<SavedAddress>, StorageError> {
        let s = self.lock()?;
        let mut list: Vec<SavedAddress> = s
            .addresses
            .values()
            .filter(|a| a.user_id == user_id)
            .cloned()
            .collect();
        list.sort_by_key(|a| (a.created_at, a.id));
        Ok(list)
    }

    async fn save_address(&self, address: &SavedAddress) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.users.contains_key(&address.user_id) {
            return Err(StorageError::MissingReference(Reference::User));
        }
        if s.addresses
            .get(&address.id)
            .is_some_and(|a| a.user_id != address.user_id)
        {
            return Err(StorageError::NotFound);
        }
        if address.is_default {
            for a in s
                .addresses
                .values_mut()
                .filter(|a| a.user_id == address.user_id)
            {
                a.is_default = false;
            }
        }
        s.addresses.insert(address.id, address.clone());
        Ok(())
    }

    async fn delete_address(&self, user_id: UserId, id: AddressId) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        match s.addresses.get(&id) {
            Some(a) if a.user_id == user_id => {
                s.addresses.remove(&id);
                Ok(())
            }
            _ => Err(StorageError::NotFound),
        }
    }
}

#[async_trait]
impl LoginAttemptStore for MemoryStore {
    async fn begin_login_attempt(
        &self,
        attempt: LoginAttemptId,
        keys: &[(String, u32)],
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StorageError> {
        let mut s = self.lock()?;
        let mut refused_until: Option<DateTime<Utc>> = None;
        for (key, limit) in keys {
            let recent: Vec<DateTime<Utc>> = s
                .login_failures
                .get(key)
                .map(|times| {
                    times
                        .iter()
                        .map(|(t, _)| *t)
                        .filter(|t| *t > since)
                        .collect()
                })
                .unwrap_or_default();
            let limit = (*limit).max(1) as usize;
            if recent.len() >= limit {
                let oldest = recent[recent.len() - limit];
                refused_until = Some(refused_until.map_or(oldest, |r| r.max(oldest)));
            }
        }
        if refused_until.is_some() {
            return Ok(refused_until);
        }
        for (key, _) in keys {
            let times = s.login_failures.entry(key.clone()).or_default();
            let at_or_after = times.partition_point(|(t, _)| *t <= at);
            times.insert(at_or_after, (at, Some(attempt)));
        }
        Ok(None)
    }

    async fn forget_login_attempt(&self, attempt: LoginAttemptId) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        s.login_failures.retain(|_, times| {
            times.retain(|(_, a)| *a != Some(attempt));
            !times.is_empty()
        });
        Ok(())
    }

    async fn purge_login_failures(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        let mut s = self.lock()?;
        let mut purged = 0;
        s.login_failures.retain(|_, times| {
            let keep = times.partition_point(|(t, _)| *t < before);
            purged += keep as u64;
            times.drain(..keep);
            !times.is_empty()
        });
        Ok(purged)
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn insert_one_time(&self, token: &OneTimeToken) -> Result<(), StorageError> {
        self.lock()?
            .one_time
            .insert(token.token_hash.clone(), token.clone());
        Ok(())
    }

    async fn use_one_time(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<OneTimeToken>, StorageError> {
        let mut s = self.lock()?;
        match s.one_time.get_mut(token_hash) {
            Some(t) if t.purpose == purpose && t.used_at.is_none() && now < t.expires_at => {
                t.used_at = Some(now);
                Ok(Some(t.clone()))
            }
            _ => Ok(None),
        }
    }

    async fn insert_refresh(&self, token: &RefreshToken) -> Result<(), StorageError> {
        self.lock()?
            .refresh
            .insert(token.token_hash.clone(), token.clone());
        Ok(())
    }

    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>, StorageError> {
        Ok(self.lock()?.refresh.get(token_hash).cloned())
    }

    async fn revoke_refresh(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut s = self.lock()?;
        match s.refresh.get_mut(token_hash) {
            Some(t) if t.revoked_at.is_none() => {
                t.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_family(
        &self,
        family_id: TokenFamilyId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        for t in self
            .lock()?
            .refresh
            .values_mut()
            .filter(|t| t.family_id == family_id)
        {
            t.revoked_at.get_or_insert(now);
        }
        Ok(())
    }

    async fn revoke_all_of_user(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        for t in self
            .lock()?
            .refresh
            .values_mut()
            .filter(|t| t.user_id == user_id)
        {
            t.revoked_at.get_or_insert(now);
        }
        Ok(())
    }
}
