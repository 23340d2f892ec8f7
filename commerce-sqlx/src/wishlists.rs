//! Wishlists: one row per customer, product and variant (`variant_key` the nil UUID for none).

use async_trait::async_trait;
use commerce_core::ids::{ProductId, UserId, VariantId};
use commerce_core::ports::{StorageError, WishlistStore};
use commerce_core::wishlist::WishlistEntry;
use uuid::Uuid;

use crate::{col, storage_error, PgStore};

fn variant_key(variant: Option<VariantId>) -> Uuid {
    variant.map_or(Uuid::nil(), |v| v.as_uuid())
}

#[async_trait]
impl WishlistStore for PgStore {
    async fn add_to_wishlist(
        &self,
        entry: &WishlistEntry,
        most: u32,
    ) -> Result<bool, StorageError> {
        // One statement: in when not there and the list has room, and either way whether the
        // list has it now. Not added with room left means it was there (perhaps added by a
        // request committed meanwhile, which this statement's snapshot does not see).
        let there: bool = sqlx::query_scalar(
            "WITH added AS (
                 INSERT INTO wishlist_items (user_id, product_id, variant_key, name, added_at)
                 SELECT $1, $2, $3, $4, $5
                 WHERE (SELECT count(*) FROM wishlist_items WHERE user_id = $1) < $6
                 ON CONFLICT (user_id, product_id, variant_key) DO NOTHING
                 RETURNING 1
             )
             SELECT EXISTS (SELECT 1 FROM added)
                 OR EXISTS (SELECT 1 FROM wishlist_items
                            WHERE user_id = $1 AND product_id = $2 AND variant_key = $3)
                 OR (SELECT count(*) FROM wishlist_items WHERE user_id = $1) < $6",
        )
        .bind(entry.user_id.as_uuid())
        .bind(entry.product_id.as_uuid())
        .bind(variant_key(entry.variant_id))
        .bind(&entry.name)
        .bind(entry.added_at)
        .bind(i64::from(most))
        .fetch_one(self.pool())
        .await
        .map_err(storage_error)?;
        Ok(there)
    }

    async fn remove_from_wishlist(
        &self,
        user: UserId,
        product: ProductId,
        variant: Option<Option<VariantId>>,
    ) -> Result<u64, StorageError> {
        let removed = match variant {
            Some(v) => sqlx::query(
                "DELETE FROM wishlist_items
                 WHERE user_id = $1 AND product_id = $2 AND variant_key = $3",
            )
            .bind(user.as_uuid())
            .bind(product.as_uuid())
            .bind(variant_key(v)),
            None => {
                sqlx::query("DELETE FROM wishlist_items WHERE user_id = $1 AND product_id = $2")
                    .bind(user.as_uuid())
                    .bind(product.as_uuid())
            }
        }
        .execute(self.pool())
        .await
        .map_err(storage_error)?
        .rows_affected();
        Ok(removed)
    }

    async fn wishlist(&self, user: UserId) -> Result<Vec<WishlistEntry>, StorageError> {
        sqlx::query(
            "SELECT product_id, variant_key, name, added_at FROM wishlist_items
             WHERE user_id = $1 ORDER BY added_at DESC, seq DESC",
        )
        .bind(user.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(storage_error)?
        .iter()
        .map(|r| {
            let variant: Uuid = col(r, 1)?;
            Ok(WishlistEntry {
                user_id: user,
                product_id: col::<Uuid>(r, 0)?.into(),
                variant_id: (!variant.is_nil()).then(|| variant.into()),
                name: col(r, 2)?,
                added_at: col(r, 3)?,
            })
        })
        .collect()
    }
}
