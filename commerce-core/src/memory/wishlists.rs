//! Wishlists in memory.

use super::*;
use crate::wishlist::WishlistEntry;

#[async_trait]
impl WishlistStore for MemoryStore {
    async fn add_to_wishlist(
        &self,
        entry: &WishlistEntry,
        most: u32,
    ) -> Result<bool, StorageError> {
        let mut s = self.lock()?;
        if !s.users.contains_key(&entry.user_id) {
            return Err(StorageError::MissingReference(Reference::User));
        }
        let list = s.wishlists.entry(entry.user_id).or_default();
        if list
            .iter()
            .any(|e| e.product_id == entry.product_id && e.variant_id == entry.variant_id)
        {
            return Ok(true);
        }
        if list.len() >= most as usize {
            return Ok(false);
        }
        list.push(entry.clone());
        Ok(true)
    }

    async fn remove_from_wishlist(
        &self,
        user: UserId,
        product: ProductId,
        variant: Option<Option<VariantId>>,
    ) -> Result<u64, StorageError> {
        let mut s = self.lock()?;
        let Some(list) = s.wishlists.get_mut(&user) else {
            return Ok(0);
        };
        let before = list.len();
        list.retain(|e| !(e.product_id == product && variant.is_none_or(|v| e.variant_id == v)));
        Ok((before - list.len()) as u64)
    }

    async fn wishlist(&self, user: UserId) -> Result<Vec<WishlistEntry>, StorageError> {
        let s = self.lock()?;
        let mut list = s.wishlists.get(&user).cloned().unwrap_or_default();
        // Oldest first as kept: the newest is last. Ties keep the order they were added in.
        list.reverse();
        list.sort_by_key(|e| std::cmp::Reverse(e.added_at));
        Ok(list)
    }
}
