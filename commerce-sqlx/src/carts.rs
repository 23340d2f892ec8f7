//! Carts: stored whole as JSON beside the columns they are found by; the version is a column
//! and is checked in the UPDATE itself.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::cart::Cart;
use commerce_core::catalog::Product;
use commerce_core::ids::{CartId, ProductId, UserId};
use commerce_core::ports::{CartStore, CartWithProducts, StorageError, StoredCartOwner};
use sqlx::postgres::PgRow;
use std::sync::OnceLock;
use uuid::Uuid;

use crate::catalog::{product_from_row, products_by_ids, PRODUCT_COLUMNS};
use crate::{col, found, from_json, json, sql_version, storage_error, version, PgStore};

/// The cart found by `WHERE {found_by}` and the products of its lines and of `$2`, in one
/// statement: one row per product, the cart's two columns after the product's (the cart
/// alone, products NULL, when there are none; all NULL when there is no cart and none was
/// asked for). The left joins make the row exist whatever is missing; the product ids of the
/// lines come from the stored JSON, so nothing else has to be kept in step. The cart's JSON
/// comes on the first row only: a cart of many lines would otherwise come once per product.
/// Products are looked up one id at a time ([`products_by_ids`]).
fn cart_with_products_sql(found_by: &str) -> String {
    let products = products_by_ids("COALESCE(c.product_ids, '{}') || $2::uuid[]");
    format!(
        "WITH c AS MATERIALIZED (
             SELECT data, version,
                    ARRAY(SELECT (i->>'product_id')::uuid FROM jsonb_array_elements(data->'items') i) AS product_ids
               FROM carts WHERE {found_by})
         SELECT {PRODUCT_COLUMNS}, CASE WHEN row_number() OVER () = 1 THEN c.data END, c.version
           FROM (VALUES (1)) AS one (x)
           LEFT JOIN c ON true
           LEFT JOIN LATERAL (SELECT p.* FROM {products}) AS p ON true"
    )
}

/// Where the product's columns end and the cart's begin in that statement's rows.
const CART_COLUMN: usize = 20;

/// The cart whose JSON and version are columns `at` and `at + 1` of the row.
fn cart_from_row(r: &PgRow, at: usize) -> Result<Cart, StorageError> {
    let mut cart: Cart = from_json(col(r, at)?)?;
    cart.version = version(col(r, at + 1)?)?;
    Ok(cart)
}

impl PgStore {
    async fn read_cart(
        &self,
        sql: &'static str,
        bind: impl FnOnce(
            sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
        )
            -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<Option<Cart>, StorageError> {
        let query = bind(sqlx::query(sql));
        let mut conn = self.lease().await?;
        let found = query.fetch_optional(&mut *conn).await;
        conn.settle(found)
            .map_err(storage_error)?
            .as_ref()
            .map(|row| cart_from_row(row, 0))
            .transpose()
    }
}

#[async_trait]
impl CartStore for PgStore {
    async fn insert_cart(&self, cart: &Cart) -> Result<(), StorageError> {
        let insert = sqlx::query(
            "INSERT INTO carts (id, customer_id, guest_token_hash, data, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(cart.id.as_uuid())
        .bind(cart.customer_id.map(|c| c.as_uuid()))
        .bind(&cart.guest_token_hash)
        .bind(json(cart)?)
        .bind(sql_version(cart.version))
        .bind(cart.updated_at);
        let mut conn = self.lease().await?;
        let inserted = insert.execute(&mut *conn).await;
        conn.settle(inserted).map_err(storage_error)?;
        Ok(())
    }

    async fn update_cart(&self, cart: &Cart) -> Result<Cart, StorageError> {
        let mut next = cart.clone();
        next.version += 1;
        let update = sqlx::query(
            "UPDATE carts SET customer_id = $1, guest_token_hash = $2, data = $3, version = $4, updated_at = $5
             WHERE id = $6 AND version = $7",
        )
        .bind(next.customer_id.map(|c| c.as_uuid()))
        .bind(&next.guest_token_hash)
        .bind(json(&next)?)
        .bind(sql_version(next.version))
        .bind(next.updated_at)
        .bind(next.id.as_uuid())
        .bind(sql_version(cart.version));
        let mut conn = self.lease().await?;
        let updated = update.execute(&mut *conn).await;
        let changed = conn.settle(updated).map_err(storage_error)?.rows_affected();
        if changed == 1 {
            return Ok(next);
        }
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM carts WHERE id = $1)")
            .bind(next.id.as_uuid())
            .fetch_one(self.pool())
            .await
            .map_err(storage_error)?;
        Err(if exists {
            StorageError::VersionConflict
        } else {
            StorageError::NotFound
        })
    }

    async fn delete_cart(&self, id: CartId) -> Result<(), StorageError> {
        found(
            sqlx::query("DELETE FROM carts WHERE id = $1")
                .bind(id.as_uuid())
                .execute(self.pool())
                .await
                .map_err(storage_error)?
                .rows_affected(),
        )
    }

    async fn cart(&self, id: CartId) -> Result<Option<Cart>, StorageError> {
        self.read_cart("SELECT data, version FROM carts WHERE id = $1", |q| {
            q.bind(id.as_uuid())
        })
        .await
    }

    async fn cart_by_token(&self, token_hash: &str) -> Result<Option<Cart>, StorageError> {
        let token = token_hash.to_string();
        self.read_cart(
            "SELECT data, version FROM carts WHERE guest_token_hash = $1",
            |q| q.bind(token),
        )
        .await
    }

    async fn cart_of_customer(&self, user_id: UserId) -> Result<Option<Cart>, StorageError> {
        self.read_cart(
            "SELECT data, version FROM carts WHERE customer_id = $1",
            |q| q.bind(user_id.as_uuid()),
        )
        .await
    }

    async fn cart_with_products(
        &self,
        owner: &StoredCartOwner,
        also: &[ProductId],
    ) -> Result<CartWithProducts, StorageError> {
        static BY_CUSTOMER: OnceLock<String> = OnceLock::new();
        static BY_TOKEN: OnceLock<String> = OnceLock::new();
        let also: Vec<Uuid> = also.iter().map(|p| p.as_uuid()).collect();
        let query = match owner {
            StoredCartOwner::Customer(user) => sqlx::query(sqlx::AssertSqlSafe(
                BY_CUSTOMER
                    .get_or_init(|| cart_with_products_sql("customer_id = $1"))
                    .as_str(),
            ))
            .bind(user.as_uuid()),
            StoredCartOwner::Guest { token_hash } => sqlx::query(sqlx::AssertSqlSafe(
                BY_TOKEN
                    .get_or_init(|| cart_with_products_sql("guest_token_hash = $1"))
                    .as_str(),
            ))
            .bind(token_hash.clone()),
        }
        .bind(also);
        let mut conn = self.lease().await?;
        let rows = query.fetch_all(&mut *conn).await;
        let rows = conn.settle(rows).map_err(storage_error)?;
        let cart = match rows.first() {
            Some(row) if col::<Option<i64>>(row, CART_COLUMN + 1)?.is_some() => {
                Some(cart_from_row(row, CART_COLUMN)?)
            }
            _ => None,
        };
        let mut products: Vec<Product> = Vec::with_capacity(rows.len());
        for row in &rows {
            if col::<Option<Uuid>>(row, 0)?.is_some() {
                products.push(product_from_row(row)?);
            }
        }
        Ok(CartWithProducts {
            cart,
            products: Some(products),
        })
    }

    async fn purge_guest_carts(
        &self,
        untouched_before: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        Ok(
            // The day first, through the index (migration 0016), then the exact time.
            sqlx::query(
                "DELETE FROM carts WHERE customer_id IS NULL
                   AND touched_on <= ($1 AT TIME ZONE 'UTC')::date AND updated_at < $1",
            )
            .bind(untouched_before)
            .execute(self.pool())
            .await
            .map_err(storage_error)?
            .rows_affected(),
        )
    }
}
