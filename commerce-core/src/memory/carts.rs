//! Carts in memory.

use super::*;

#[async_trait]
impl CartStore for MemoryStore {
    async fn insert_cart(&self, cart: &Cart) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if let Some(user) = cart.customer_id {
            if s.carts.values().any(|c| c.customer_id == Some(user)) {
                return Err(StorageError::Duplicate(UniqueRule::OneCartPerCustomer));
            }
        }
        if let Some(token) = cart.guest_token_hash.as_deref() {
            if s.carts
                .values()
                .any(|c| c.guest_token_hash.as_deref() == Some(token))
            {
                return Err(StorageError::Duplicate(UniqueRule::GuestCartToken));
            }
        }
        if s.carts.contains_key(&cart.id) {
            return Err(StorageError::Duplicate(UniqueRule::RecordId));
        }
        s.carts.insert(cart.id, cart.clone());
        Ok(())
    }

    async fn update_cart(&self, cart: &Cart) -> Result<Cart, StorageError> {
        let mut s = self.lock()?;
        let stored = s.carts.get(&cart.id).ok_or(StorageError::NotFound)?;
        if stored.version != cart.version {
            return Err(StorageError::VersionConflict);
        }
        let mut next = cart.clone();
        next.version += 1;
        s.carts.insert(next.id, next.clone());
        Ok(next)
    }

    async fn delete_cart(&self, id: CartId) -> Result<(), StorageError> {
        self.lock()?
            .carts
            .remove(&id)
            .map(|_| ())
            .ok_or(StorageError::NotFound)
    }

    async fn cart(&self, id: CartId) -> Result<Option<Cart>, StorageError> {
        Ok(self.lock()?.carts.get(&id).cloned())
    }

    async fn cart_by_token(&self, token_hash: &str) -> Result<Option<Cart>, StorageError> {
        Ok(self
            .lock()?
            .carts
            .values()
            .find(|c| c.guest_token_hash.as_deref() == Some(token_hash))
            .cloned())
    }

    async fn cart_of_customer(&self, user_id: UserId) -> Result<Option<Cart>, StorageError> {
        Ok(self
            .lock()?
            .carts
            .values()
            .find(|c| c.customer_id == Some(user_id))
            .cloned())
    }

    async fn purge_guest_carts(
        &self,
        untouched_before: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let mut s = self.lock()?;
        let before = s.carts.len();
        s.carts
            .retain(|_, c| c.customer_id.is_some() || c.updated_at >= untouched_before);
        Ok((before - s.carts.len()) as u64)
    }
}
