//! Carts: stored whole as JSON beside the columns they are found by; the version is a column
//! and is checked in the UPDATE itself.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::cart::Cart;
use commerce_core::ids::{CartId, ProductId, UserId};
use commerce_core::ports::{CartStore, CartWithProducts, StorageError, StoredCartOwner};
use rusqlite::{params, Connection, OptionalExtension};

use crate::catalog::{read_products, INLINE_PRODUCT_READS};
use crate::codec::{json, time_text, RowExt};
use crate::{found, storage_error, SqliteStore};

fn read_cart(conn: &Connection, column: &str, value: String) -> Result<Option<Cart>, StorageError> {
    conn.prepare_cached(&format!(
        "SELECT data, version FROM carts WHERE {column} = ?1"
    ))
    .map_err(storage_error)?
    .query_row([value], |r| {
        let mut cart: Cart = r.json(0)?;
        cart.version = r.get::<_, i64>(1)?.try_into().unwrap_or(0);
        Ok(cart)
    })
    .optional()
    .map_err(storage_error)
}

// A cart is one row found by key, so it is read on the worker itself (`read_inline`).
#[async_trait]
impl CartStore for SqliteStore {
    async fn insert_cart(&self, cart: &Cart) -> Result<(), StorageError> {
        let cart = cart.clone();
        self.write_one_statement(move |conn| {
            conn.prepare_cached(
                "INSERT INTO carts (id, customer_id, guest_token_hash, data, version, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(storage_error)?
            .execute(params![
                cart.id.to_string(),
                cart.customer_id.map(|c| c.to_string()),
                cart.guest_token_hash,
                json(&cart)?,
                cart.version as i64,
                time_text(cart.updated_at)
            ])
            .map_err(storage_error)?;
            Ok(())
        })
        .await
    }

    async fn update_cart(&self, cart: &Cart) -> Result<Cart, StorageError> {
        let mut next = cart.clone();
        next.version += 1;
        self.write_one_statement(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE carts SET customer_id = ?1, guest_token_hash = ?2, data = ?3, version = ?4, updated_at = ?5
                     WHERE id = ?6 AND version = ?7",
                )
                .map_err(storage_error)?
                .execute(params![
                    next.customer_id.map(|c| c.to_string()),
                    next.guest_token_hash,
                    json(&next)?,
                    next.version as i64,
                    time_text(next.updated_at),
                    next.id.to_string(),
                    next.version as i64 - 1
                ])
                .map_err(storage_error)?;
            if n == 1 {
                return Ok(next);
            }
            let exists = conn
                .query_row("SELECT 1 FROM carts WHERE id = ?1", [next.id.to_string()], |_| Ok(()))
                .optional()
                .map_err(storage_error)?;
            Err(if exists.is_some() { StorageError::VersionConflict } else { StorageError::NotFound })
        })
        .await
    }

    async fn delete_cart(&self, id: CartId) -> Result<(), StorageError> {
        self.write(move |conn| {
            found(
                conn.execute("DELETE FROM carts WHERE id = ?1", [id.to_string()])
                    .map_err(storage_error)?,
            )
        })
        .await
    }

    async fn cart(&self, id: CartId) -> Result<Option<Cart>, StorageError> {
        self.read_inline(move |conn| read_cart(conn, "id", id.to_string()))
            .await
    }

    async fn cart_by_token(&self, token_hash: &str) -> Result<Option<Cart>, StorageError> {
        let token = token_hash.to_string();
        self.read_inline(move |conn| read_cart(conn, "guest_token_hash", token))
            .await
    }

    async fn cart_of_customer(&self, user_id: UserId) -> Result<Option<Cart>, StorageError> {
        self.read_inline(move |conn| read_cart(conn, "customer_id", user_id.to_string()))
            .await
    }

    /// On one reader, on the worker: the cart, then its products when they are few enough
    /// to read there too (a cart of many lines leaves them to `products`, read off it).
    async fn cart_with_products(
        &self,
        owner: &StoredCartOwner,
        also: &[ProductId],
    ) -> Result<CartWithProducts, StorageError> {
        let (column, key) = match owner {
            StoredCartOwner::Customer(user) => ("customer_id", user.to_string()),
            StoredCartOwner::Guest { token_hash } => ("guest_token_hash", token_hash.clone()),
        };
        self.read_inline(move |conn| {
            let cart = read_cart(conn, column, key)?;
            let mut ids: Vec<ProductId> = also
                .iter()
                .copied()
                .chain(
                    cart.iter()
                        .flat_map(|c| c.items.iter().map(|i| i.product_id)),
                )
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let products = match ids.len() {
                0 => Some(Vec::new()),
                n if n <= INLINE_PRODUCT_READS => {
                    let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
                    Some(read_products(conn, &ids)?)
                }
                _ => None,
            };
            Ok(CartWithProducts { cart, products })
        })
        .await
    }

    async fn purge_guest_carts(
        &self,
        untouched_before: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM carts WHERE customer_id IS NULL AND updated_at < ?1")
                .map_err(storage_error)?
                .execute([time_text(untouched_before)])
                .map(|n| n as u64)
                .map_err(storage_error)
        })
        .await
    }
}
