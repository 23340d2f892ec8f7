//! Carts: stored whole as JSON beside the columns they are found by; the version is a column
//! and is checked in the UPDATE itself.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::cart::Cart;
use commerce_core::catalog::Product;
use commerce_core::ids::{CartId, ProductId, UserId};
use commerce_core::ports::{CartStore, CartWithProducts, StorageError, StoredCartOwner};
use sqlx::postgres::{PgConnection, PgRow};
use std::sync::OnceLock;
use uuid::Uuid;

use crate::catalog::{product_from_row, PRODUCT_COLUMNS};
use crate::gathered::{GatheredWrite, Written};
use crate::{col, found, json, json_col, sql_version, storage_error, version, PgStore, StoredJson};

/// The cart found by `{found_by}` and the products of its lines and of `$2`, in one
/// statement: one row per product id (the lines' first, then `$2`'s; an id twice is two
/// rows, a product not found has NULL product columns), the cart's two columns after the
/// product's (the cart alone, products NULL, when there are none; all NULL when there is no
/// cart and none was asked for). The left joins make the row exist whatever is missing; the
/// product ids of the lines come from the stored JSON, so nothing else has to be kept in
/// step. The cart's JSON comes on the first row only (the ids' ordinality): a cart of many
/// lines would otherwise come once per product. Each product is looked up by its key (the
/// `LIMIT` keeps the planner to one index probe per id, whatever it guesses of the table).
///
/// Written without a window function and without `DISTINCT`: PostgreSQL sets up every node
/// of a plan on each execution, and the window and the hash table of the earlier form cost
/// about a fifth of this statement's CPU (pgbench, one client: 110-140 µs against 92-116).
fn cart_with_products_sql(found_by: &str) -> String {
    format!(
        "SELECT {PRODUCT_COLUMNS}, CASE WHEN coalesce(w.n, 1) = 1 THEN c.data END, c.version
           FROM (VALUES (1)) AS one (x)
           LEFT JOIN carts c ON c.{found_by}
           LEFT JOIN LATERAL unnest(
                 ARRAY(SELECT (i->>'product_id')::uuid FROM jsonb_array_elements(c.data->'items') i)
                 || $2::uuid[]) WITH ORDINALITY AS w (id, n) ON true
           LEFT JOIN LATERAL (SELECT * FROM products q WHERE q.id = w.id LIMIT 1) AS p ON true"
    )
}

/// Where the product's columns end and the cart's begin in that statement's rows.
const CART_COLUMN: usize = 20;

/// The cart whose JSON and version are columns `at` and `at + 1` of the row.
fn cart_from_row(r: &PgRow, at: usize) -> Result<Cart, StorageError> {
    let mut cart: Cart = json_col(r, at)?;
    cart.version = version(col(r, at + 1)?)?;
    Ok(cart)
}

/// A cart's row as it will be stored; for an update, with the version it was read at (the new
/// one is the next).
pub(crate) struct CartRow {
    id: Uuid,
    version: i64,
    customer_id: Option<Uuid>,
    guest_token_hash: Option<String>,
    data: StoredJson,
    updated_at: DateTime<Utc>,
}

/// The rows' columns as arrays, one element per cart.
#[allow(clippy::type_complexity)]
fn columns<'a>(
    rows: &[&'a CartRow],
) -> (
    Vec<Uuid>,
    Vec<i64>,
    Vec<Option<Uuid>>,
    Vec<Option<&'a str>>,
    Vec<&'a StoredJson>,
    Vec<DateTime<Utc>>,
) {
    let n = rows.len();
    let mut columns = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for row in rows {
        columns.0.push(row.id);
        columns.1.push(row.version);
        columns.2.push(row.customer_id);
        columns.3.push(row.guest_token_hash.as_deref());
        columns.4.push(&row.data);
        columns.5.push(row.updated_at);
    }
    columns
}

/// New carts, inserted together (a refused insert, such as a customer's second cart, is
/// retried alone by the writer, so only it is refused).
pub(crate) struct NewCarts;

impl GatheredWrite for NewCarts {
    type Row = CartRow;
    type Answer = ();

    fn write<'c>(connection: &'c mut PgConnection, rows: &'c [&'c CartRow]) -> Written<'c, ()> {
        let n = rows.len();
        let (ids, versions, customers, tokens, data, updated) = columns(rows);
        let insert = sqlx::query(
            "INSERT INTO carts (id, version, customer_id, guest_token_hash, data, updated_at)
             SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::text[], $5::jsonb[], $6::timestamptz[])",
        )
        .bind(ids)
        .bind(versions)
        .bind(customers)
        .bind(tokens)
        .bind(data)
        .bind(updated);
        Box::pin(async move {
            insert.execute(connection).await?;
            Ok(vec![(); n])
        })
    }
}

/// Cart updates, saved together in one call of `commerce_update_carts` (migration 0018), each
/// at the version it was read: the answer says, per cart, whether it was saved.
pub(crate) struct CartUpdates;

impl GatheredWrite for CartUpdates {
    type Row = CartRow;
    type Answer = bool;

    fn write<'c>(connection: &'c mut PgConnection, rows: &'c [&'c CartRow]) -> Written<'c, bool> {
        let (ids, read_versions, customers, tokens, data, updated) = columns(rows);
        let update = sqlx::query_scalar(
            "SELECT commerce_update_carts($1::uuid[], $2::bigint[], $3::uuid[], $4::text[], $5::jsonb[], $6::timestamptz[])",
        )
        .bind(ids)
        .bind(read_versions)
        .bind(customers)
        .bind(tokens)
        .bind(data)
        .bind(updated);
        Box::pin(update.fetch_one(connection))
    }
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
        let row = CartRow {
            id: cart.id.as_uuid(),
            version: sql_version(cart.version),
            customer_id: cart.customer_id.map(|c| c.as_uuid()),
            guest_token_hash: cart.guest_token_hash.clone(),
            data: json(cart)?,
            updated_at: cart.updated_at,
        };
        match self.inner.new_carts.write(row).await {
            Ok(answer) => answer,
            // The writer is gone (only if it panicked): written here, alone.
            Err(row) => {
                let mut conn = self.lease().await?;
                let inserted = NewCarts::write(&mut conn, &[&row]).await;
                conn.settle(inserted).map_err(storage_error)?;
                Ok(())
            }
        }
    }

    async fn update_cart(&self, cart: &Cart) -> Result<Cart, StorageError> {
        let mut next = cart.clone();
        next.version += 1;
        let update = CartRow {
            id: next.id.as_uuid(),
            version: sql_version(cart.version),
            customer_id: next.customer_id.map(|c| c.as_uuid()),
            guest_token_hash: next.guest_token_hash.clone(),
            data: json(&next)?,
            updated_at: next.updated_at,
        };
        let saved = match self.inner.cart_updates.write(update).await {
            Ok(answer) => answer?,
            // The writer is gone (only if it panicked): saved here, alone.
            Err(update) => {
                let mut conn = self.lease().await?;
                let saved = CartUpdates::write(&mut conn, &[&update]).await;
                conn.settle(saved)
                    .map_err(storage_error)?
                    .pop()
                    .unwrap_or(false)
            }
        };
        if saved {
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
        // The row that carries the cart's JSON (the first id's; the statement has no ORDER
        // BY, so it is looked for rather than assumed first).
        let carrying = rows.iter().find(|r| {
            use sqlx::{Row, ValueRef};
            r.try_get_raw(CART_COLUMN).is_ok_and(|v| !v.is_null())
        });
        let cart = match carrying {
            Some(row) => Some(cart_from_row(row, CART_COLUMN)?),
            None => None,
        };
        let mut products: Vec<Product> = Vec::with_capacity(rows.len());
        for row in &rows {
            // Each product once (two lines, two variants of one product, come as two rows).
            match col::<Option<Uuid>>(row, 0)? {
                Some(id) if !products.iter().any(|p| p.id.as_uuid() == id) => {
                    products.push(product_from_row(row)?);
                }
                _ => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use commerce_core::ids::CartId;
    use commerce_core::money::Currency;
    use commerce_core::ports::{CartStore, UniqueRule};

    async fn store() -> PgStore {
        let url = std::env::var("COMMERCE_TEST_DATABASE_URL").unwrap();
        PgStore::open_temporary(&url, crate::PgOptions::default())
            .await
            .unwrap()
    }

    /// An empty guest cart, not stored.
    fn new_cart(token: &str) -> Cart {
        Cart::new(
            CartId::random(),
            None,
            Some(token.to_string()),
            Currency::USD,
            commerce_core::testkit::now(),
        )
    }

    fn update(cart: &Cart, read_version: u64, note: &str) -> CartRow {
        let mut next = cart.clone();
        next.version = read_version + 1;
        next.guest_token_hash = Some(format!("{}-{note}", cart.id));
        CartRow {
            id: next.id.as_uuid(),
            version: sql_version(read_version),
            customer_id: None,
            guest_token_hash: next.guest_token_hash.clone(),
            data: json(&next).unwrap(),
            updated_at: next.updated_at,
        }
    }

    #[cfg_attr(
        not(postgres_tests),
        ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
    )]
    #[tokio::test]
    async fn cart_updates_queued_together_are_one_call_each_checked_at_its_version() {
        let store = store().await;
        let (a, b, c) = (new_cart("a"), new_cart("b"), new_cart("c"));
        for cart in [&a, &b, &c] {
            store.insert_cart(cart).await.unwrap();
        }
        let gone = new_cart("never stored");

        // One cart twice at the version read (two requests that read it at once), a stale
        // version, a cart that does not exist: one call, each answered on its own.
        let saved = crate::gathered::write_queued::<CartUpdates>(
            store.pool(),
            vec![
                update(&a, 1, "first"),
                update(&a, 1, "second"),
                update(&b, 1, "only"),
                update(&c, 5, "stale"),
                update(&gone, 1, "gone"),
            ],
        )
        .await;
        assert_eq!(
            saved,
            vec![Ok(true), Ok(false), Ok(true), Ok(false), Ok(false)]
        );
        let a_now = store.cart(a.id).await.unwrap().unwrap();
        assert_eq!(a_now.version, 2);
        assert_eq!(
            a_now.guest_token_hash.as_deref(),
            Some(format!("{}-first", a.id).as_str()),
            "the first update read at that version is the one saved"
        );
        assert_eq!(store.cart(b.id).await.unwrap().unwrap().version, 2);
        assert_eq!(store.cart(c.id).await.unwrap().unwrap().version, 1);
        let transactions: i64 =
            sqlx::query_scalar("SELECT count(DISTINCT xmin::text) FROM carts WHERE id = ANY($1)")
                .bind(vec![a.id.as_uuid(), b.id.as_uuid()])
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(transactions, 1, "both saved by one call");

        // Through the port, the refusals say why.
        assert_eq!(
            store.update_cart(&c.clone()).await,
            Ok(Cart {
                version: 2,
                ..c.clone()
            })
        );
        let mut stale = c.clone();
        stale.version = 5;
        assert_eq!(
            store.update_cart(&stale).await,
            Err(StorageError::VersionConflict)
        );
        assert_eq!(store.update_cart(&gone).await, Err(StorageError::NotFound));
    }

    #[cfg_attr(
        not(postgres_tests),
        ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
    )]
    #[tokio::test]
    async fn new_carts_queued_together_are_one_insert_and_a_taken_token_is_refused_alone() {
        let store = store().await;
        let row = |cart: &Cart| CartRow {
            id: cart.id.as_uuid(),
            version: sql_version(cart.version),
            customer_id: None,
            guest_token_hash: cart.guest_token_hash.clone(),
            data: json(cart).unwrap(),
            updated_at: cart.updated_at,
        };
        let first: Vec<Cart> = (0..5).map(|i| new_cart(&format!("t{i}"))).collect();
        let written = crate::gathered::write_queued::<NewCarts>(
            store.pool(),
            first.iter().map(row).collect(),
        )
        .await;
        assert!(written.iter().all(Result::is_ok), "{written:?}");
        let transactions: i64 =
            sqlx::query_scalar("SELECT count(DISTINCT xmin::text) FROM carts WHERE id = ANY($1)")
                .bind(first.iter().map(|c| c.id.as_uuid()).collect::<Vec<_>>())
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(transactions, 1, "five carts, one insert");

        // A guest token already taken: only that cart is refused.
        let second = [new_cart("u0"), new_cart("t3"), new_cart("u2")];
        let written = crate::gathered::write_queued::<NewCarts>(
            store.pool(),
            second.iter().map(row).collect(),
        )
        .await;
        assert_eq!(
            written,
            vec![
                Ok(()),
                Err(StorageError::Duplicate(UniqueRule::GuestCartToken)),
                Ok(())
            ]
        );
        for cart in first.iter().chain([&second[0], &second[2]]) {
            assert_eq!(store.cart(cart.id).await.unwrap().as_ref(), Some(cart));
        }
        assert_eq!(store.cart(second[1].id).await.unwrap(), None);
    }

    /// The writer's statement gives up on a row lock after the pool's acquire timeout, so a
    /// cart that another transaction keeps locked holds up its own update only, not every
    /// cart update of the process (which wait behind the writer's statement).
    #[cfg_attr(
        not(postgres_tests),
        ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
    )]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cart_locked_elsewhere_holds_up_only_its_own_update() {
        let url = std::env::var("COMMERCE_TEST_DATABASE_URL").unwrap();
        let options = crate::PgOptions {
            acquire_timeout: std::time::Duration::from_millis(500),
            ..Default::default()
        };
        let store = PgStore::open_temporary(&url, options).await.unwrap();
        let (held, free) = (new_cart("held"), new_cart("free"));
        store.insert_cart(&held).await.unwrap();
        store.insert_cart(&free).await.unwrap();
        let mut elsewhere = store.pool().begin().await.unwrap();
        sqlx::query("SELECT 1 FROM carts WHERE id = $1 FOR UPDATE")
            .bind(held.id.as_uuid())
            .execute(&mut *elsewhere)
            .await
            .unwrap();

        let both = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            tokio::join!(store.update_cart(&held), store.update_cart(&free))
        })
        .await
        .expect("the writer gave up on the held row instead of waiting for it");
        assert!(
            matches!(both.0, Err(StorageError::Unavailable(_))),
            "{:?}",
            both.0
        );
        assert_eq!(both.1.map(|c| c.version), Ok(2));

        elsewhere.rollback().await.unwrap();
        assert_eq!(store.update_cart(&held).await.map(|c| c.version), Ok(2));
    }
}
