//! Wishlists: a customer's products to buy later, one list each. An entry outlives its
//! product: one archived or deleted shows as unavailable (with the name it had when added),
//! never silently gone.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::{Product, ProductStatus};
use crate::ids::{ProductId, UserId, VariantId};
use crate::money::Money;

/// The most entries one wishlist holds.
pub const MAX_WISHLIST_ITEMS: u32 = 200;

/// One product (or one variant of it) on a customer's list, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WishlistEntry {
    /// Whose list.
    pub user_id: UserId,
    /// The product.
    pub product_id: ProductId,
    /// The variant, when the entry names one.
    pub variant_id: Option<VariantId>,
    /// The product's name when it was added: what the list shows once it is gone.
    pub name: String,
    /// When it was added.
    pub added_at: DateTime<Utc>,
}

/// What a wishlist shows of an entry's product now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WishedProduct {
    /// The product's id.
    pub id: ProductId,
    /// Its name now (or when added, once it is gone).
    pub name: String,
    /// The unit price now (the variant's, when the entry names one); `None` once the product
    /// or its variant is gone.
    pub price: Option<Money>,
    /// Units to sell now (0 once it is gone).
    pub inventory_count: u32,
    /// The product's status; `None` once it is deleted.
    pub status: Option<ProductStatus>,
    /// For sale now: the product is active and the variant named still exists.
    pub available: bool,
}

/// An entry with its product as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WishlistItem {
    /// The entry.
    pub entry: WishlistEntry,
    /// Its product now.
    pub product: WishedProduct,
}

impl WishlistItem {
    /// The entry beside its product as read now (`None`: deleted).
    pub fn of(entry: WishlistEntry, product: Option<&Product>) -> WishlistItem {
        let product = match product {
            Some(p) => {
                let variant_gone = entry.variant_id.is_some_and(|v| p.variant(v).is_none());
                WishedProduct {
                    id: p.id,
                    name: p.name.clone(),
                    price: p.unit_price(entry.variant_id),
                    inventory_count: p.available(entry.variant_id).unwrap_or(0),
                    status: Some(p.status),
                    available: p.status == ProductStatus::Active && !variant_gone,
                }
            }
            None => WishedProduct {
                id: entry.product_id,
                name: entry.name.clone(),
                price: None,
                inventory_count: 0,
                status: None,
                available: false,
            },
        };
        WishlistItem { entry, product }
    }
}
