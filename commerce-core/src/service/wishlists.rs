//! Customers' wishlists: products to buy later, each shown with its price, stock and status
//! as they are now.

use std::collections::HashMap;

use super::{Caller, Commerce, CommerceError};
use crate::catalog::ProductStatus;
use crate::ids::{ProductId, VariantId};
use crate::wishlist::{WishlistEntry, WishlistItem, MAX_WISHLIST_ITEMS};

/// The signed-in user's wishlist (every role has one; guests have none).
pub struct Wishlists<'a> {
    pub(super) shop: &'a Commerce,
}

impl Commerce {
    /// Customers' wishlists.
    pub fn wishlists(&self) -> Wishlists<'_> {
        Wishlists { shop: self }
    }
}

impl Wishlists<'_> {
    /// The caller's list, newest first, each entry with its product as it is now.
    pub async fn items(&self, caller: &Caller) -> Result<Vec<WishlistItem>, CommerceError> {
        let (user, _) = caller.require_user()?;
        let entries = self.shop.ports.wishlists.wishlist(user).await?;
        let mut ids: Vec<ProductId> = entries.iter().map(|e| e.product_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let products: HashMap<ProductId, _> = self
            .shop
            .ports
            .products
            .products(&ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        Ok(entries
            .into_iter()
            .map(|e| {
                let product = products.get(&e.product_id);
                WishlistItem::of(e, product)
            })
            .collect())
    }

    /// Adds a product for sale (or one of its variants) to the caller's list; adding it again
    /// keeps the one entry. The list afterwards.
    pub async fn add(
        &self,
        caller: &Caller,
        product_id: ProductId,
        variant_id: Option<VariantId>,
    ) -> Result<Vec<WishlistItem>, CommerceError> {
        let (user, _) = caller.require_user()?;
        let product = self
            .shop
            .ports
            .products
            .product(product_id)
            .await?
            .filter(|p| p.status == ProductStatus::Active)
            // Named in the body, as for a cart's items: 422 naming the field.
            .ok_or_else(|| CommerceError::validation("product_id", "is not a product for sale"))?;
        if variant_id.is_some_and(|v| product.variant(v).is_none()) {
            return Err(CommerceError::validation(
                "variant_id",
                "is not a variant of this product",
            ));
        }
        let entry = WishlistEntry {
            user_id: user,
            product_id,
            variant_id,
            name: product.name,
            added_at: self.shop.now(),
        };
        if !self
            .shop
            .ports
            .wishlists
            .add_to_wishlist(&entry, MAX_WISHLIST_ITEMS)
            .await?
        {
            return Err(CommerceError::Conflict(format!(
                "a wishlist holds at most {MAX_WISHLIST_ITEMS} products; remove one first"
            )));
        }
        self.items(caller).await
    }

    /// Removes the product from the caller's list: the entry of `variant` when given
    /// (`Some(None)`: the one naming no variant), else every entry of the product. Removing
    /// what is not there changes nothing. The list afterwards.
    pub async fn remove(
        &self,
        caller: &Caller,
        product_id: ProductId,
        variant: Option<Option<VariantId>>,
    ) -> Result<Vec<WishlistItem>, CommerceError> {
        let (user, _) = caller.require_user()?;
        self.shop
            .ports
            .wishlists
            .remove_from_wishlist(user, product_id, variant)
            .await?;
        self.items(caller).await
    }
}
