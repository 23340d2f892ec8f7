use super::*;
use crate::wishlist::WishlistEntry;

/// Customers' wishlists.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait WishlistStore: Send + Sync {
    /// Adds the entry unless the list has it already (same product and variant: kept as it
    /// was, first `added_at` included) or already holds `most` entries (`false`). `true` when
    /// the list has it afterwards. `MissingReference(User)` for an unknown user.
    async fn add_to_wishlist(&self, entry: &WishlistEntry, most: u32)
        -> Result<bool, StorageError>;
    /// Removes the product's entry for `variant` (`Some(None)`: the one without a variant),
    /// or every entry of the product (`None`); how many went.
    async fn remove_from_wishlist(
        &self,
        user: UserId,
        product: ProductId,
        variant: Option<Option<VariantId>>,
    ) -> Result<u64, StorageError>;
    /// The user's entries, newest first.
    async fn wishlist(&self, user: UserId) -> Result<Vec<WishlistEntry>, StorageError>;
}
