//! Wishlists: one row per customer, product and variant (`variant_key` '' for none).

use async_trait::async_trait;
use commerce_core::ids::{ProductId, UserId, VariantId};
use commerce_core::ports::{StorageError, WishlistStore};
use commerce_core::wishlist::WishlistEntry;
use rusqlite::params;

use crate::codec::{time_text, RowExt};
use crate::{storage_error, writing, SqliteStore};

fn variant_key(variant: Option<VariantId>) -> String {
    variant.map(|v| v.to_string()).unwrap_or_default()
}

#[async_trait]
impl WishlistStore for SqliteStore {
    async fn add_to_wishlist(
        &self,
        entry: &WishlistEntry,
        most: u32,
    ) -> Result<bool, StorageError> {
        let e = entry.clone();
        self.write_one_statement(move |conn| {
            let user = e.user_id.to_string();
            // One statement: in when not there and the list has room; kept as it was when
            // there already (the insert is ignored).
            let added = conn
                .prepare_cached(
                    "INSERT INTO wishlist_items (user_id, product_id, variant_key, name, added_at)
                     SELECT ?1, ?2, ?3, ?4, ?5
                     WHERE (SELECT COUNT(*) FROM wishlist_items WHERE user_id = ?1) < ?6
                     ON CONFLICT (user_id, product_id, variant_key) DO NOTHING",
                )
                .map_err(storage_error)?
                .execute(params![
                    user,
                    e.product_id.to_string(),
                    variant_key(e.variant_id),
                    e.name,
                    time_text(e.added_at),
                    most
                ])
                .map_err(writing("wishlist_items"))?;
            if added == 1 {
                return Ok(true);
            }
            let there: bool = conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM wishlist_items
                         WHERE user_id = ?1 AND product_id = ?2 AND variant_key = ?3)",
                )
                .map_err(storage_error)?
                .query_row(
                    params![user, e.product_id.to_string(), variant_key(e.variant_id)],
                    |r| r.get(0),
                )
                .map_err(storage_error)?;
            Ok(there)
        })
        .await
    }

    async fn remove_from_wishlist(
        &self,
        user: UserId,
        product: ProductId,
        variant: Option<Option<VariantId>>,
    ) -> Result<u64, StorageError> {
        self.write_one_statement(move |conn| {
            let removed = match variant {
                Some(v) => conn
                    .prepare_cached(
                        "DELETE FROM wishlist_items
                         WHERE user_id = ?1 AND product_id = ?2 AND variant_key = ?3",
                    )
                    .map_err(storage_error)?
                    .execute(params![
                        user.to_string(),
                        product.to_string(),
                        variant_key(v)
                    ]),
                None => conn
                    .prepare_cached(
                        "DELETE FROM wishlist_items WHERE user_id = ?1 AND product_id = ?2",
                    )
                    .map_err(storage_error)?
                    .execute(params![user.to_string(), product.to_string()]),
            }
            .map_err(storage_error)?;
            Ok(removed as u64)
        })
        .await
    }

    async fn wishlist(&self, user: UserId) -> Result<Vec<WishlistEntry>, StorageError> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT product_id, variant_key, name, added_at FROM wishlist_items
                 WHERE user_id = ?1 ORDER BY added_at DESC, rowid DESC",
            )
            .map_err(storage_error)?
            .query_map([user.to_string()], |r| {
                let variant: String = r.get(1)?;
                Ok(WishlistEntry {
                    user_id: user,
                    product_id: r.id(0)?,
                    variant_id: if variant.is_empty() {
                        None
                    } else {
                        Some(r.id(1)?)
                    },
                    name: r.get(2)?,
                    added_at: r.time(3)?,
                })
            })
            .map_err(storage_error)?
            .collect::<Result<_, _>>()
            .map_err(storage_error)
        })
        .await
    }
}
