//! The signed-in customer's wishlist: products to buy later, each with its price, stock and
//! status as they are now; one gone from the shop shows as unavailable.

use chrono::{DateTime, Utc};
use commerce_core::wishlist::WishlistItem;

use super::*;
use crate::json::MoneyJson;

#[derive(Debug, Object, Deserialize)]
pub struct WishlistItemBody {
    pub product_id: Uuid,
    /// One variant of it; the product as a whole when absent.
    #[serde(default)]
    #[oai(nullable)]
    pub variant_id: Option<Uuid>,
}

/// What the list shows of a product now.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "WishedProduct")]
pub struct WishedProductJson {
    pub id: Uuid,
    /// Its name now, or when it was added once it is deleted.
    pub name: String,
    /// A unit's price now (the variant's when the entry names one); null once it is gone.
    #[oai(nullable)]
    pub price: Option<MoneyJson>,
    pub inventory_count: u32,
    /// `active`, `draft`, `pending_approval`, `archived`, or `deleted`.
    pub status: String,
    /// For sale now: active, and the variant named still exists.
    pub available: bool,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "WishlistItem")]
pub struct WishlistItemJson {
    pub product_id: Uuid,
    #[oai(nullable)]
    pub variant_id: Option<Uuid>,
    pub added_at: DateTime<Utc>,
    pub product: WishedProductJson,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "Wishlist")]
pub struct WishlistJson {
    /// Newest first.
    pub items: Vec<WishlistItemJson>,
}

impl From<Vec<WishlistItem>> for WishlistJson {
    fn from(items: Vec<WishlistItem>) -> Self {
        WishlistJson {
            items: items
                .into_iter()
                .map(|i| WishlistItemJson {
                    product_id: i.entry.product_id.as_uuid(),
                    variant_id: i.entry.variant_id.map(|v| v.as_uuid()),
                    added_at: i.entry.added_at,
                    product: WishedProductJson {
                        id: i.product.id.as_uuid(),
                        name: i.product.name,
                        price: i.product.price.map(Into::into),
                        inventory_count: i.product.inventory_count,
                        status: i
                            .product
                            .status
                            .map_or("deleted", |s| s.as_str())
                            .to_string(),
                        available: i.product.available,
                    },
                })
                .collect(),
        }
    }
}

#[derive(ApiResponse)]
pub enum WishlistAdded {
    /// On the list (once, however often it is added).
    #[oai(status = 201)]
    Added(Reply<WishlistJson>),
}

pub struct WishlistApi {
    pub shop: Commerce,
}

#[OpenApi(tag = "ShoppingTags::Wishlist")]
impl WishlistApi {
    /// The signed-in customer's wishlist, newest first.
    #[oai(path = "/wishlist", method = "get")]
    async fn wishlist(&self, auth: BearerAuth) -> Result<Reply<WishlistJson>, ApiError> {
        Ok(Reply(self.shop.wishlists().items(&auth.0).await?.into()))
    }

    /// Adds a product for sale (or one of its variants); adding it again keeps one entry. A
    /// list holds at most 200 (409 when full). A product not for sale, or a variant of
    /// another product, is 422 naming the field.
    #[oai(path = "/wishlist/items", method = "post")]
    async fn add(
        &self,
        auth: BearerAuth,
        body: JsonBody<WishlistItemBody>,
    ) -> Result<WishlistAdded, ApiError> {
        let b = body.0;
        let list = self
            .shop
            .wishlists()
            .add(
                &auth.0,
                ProductId::from(b.product_id),
                b.variant_id.map(VariantId::from),
            )
            .await?;
        Ok(WishlistAdded::Added(Reply(list.into())))
    }

    /// Removes the product: the entry of `variant_id` when given, else every entry of it.
    /// Removing what is not there changes nothing.
    #[oai(path = "/wishlist/items/:product_id", method = "delete")]
    async fn remove(
        &self,
        auth: BearerAuth,
        product_id: Path<PathId>,
        variant_id: Query<Option<Uuid>>,
    ) -> Result<Reply<WishlistJson>, ApiError> {
        let product: ProductId = product_id.0.parse("product")?;
        let list = self
            .shop
            .wishlists()
            .remove(
                &auth.0,
                product,
                variant_id.0.map(|v| Some(VariantId::from(v))),
            )
            .await?;
        Ok(Reply(list.into()))
    }
}
