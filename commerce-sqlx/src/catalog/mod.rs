//! Products (with variants and full-text search) here; `categories` and `reviews` in modules of their own.

use async_trait::async_trait;
use commerce_core::catalog::{
    Category, Product, ProductStatus, Rating, Review, ReviewStatus, Variant,
};
use commerce_core::cursor;
use commerce_core::ids::{CategoryId, ProductId, ReviewId, UserId};
use commerce_core::ports::{
    CategoryStore, Page, PageRequest, ProductQuery, ProductSort, ProductStore, ReviewStore,
    StorageError,
};
use rust_decimal::Decimal;
use sqlx::postgres::{PgRow, Postgres};
use sqlx::{PgConnection, QueryBuilder};
use uuid::Uuid;

use crate::page::{newest_first_page, parse_time, time_key};
use crate::{
    col, count, currency_of, found, json, json_col, money_in, sql_version, storage_error, version,
    PgStore, StoredJson,
};
use crate::{stock_now, tell, tell_stock, units_of};
use commerce_core::outbox::{ChangeRecord, StockChange};

mod categories;
mod reviews;

/// Every product column, the variants (one correlated subquery, so a product or a page of
/// them is one round trip) and the name key.
pub(crate) const PRODUCT_COLUMNS: &str = "p.id, p.name, p.slug, p.description, p.price, p.category_id, p.vendor_id, p.status, \
     p.inventory_count, p.reserved, p.low_stock_threshold, p.images, p.rating_average, p.rating_count, p.version, \
     p.created_at, p.updated_at, p.name_key, \
     CASE WHEN p.has_variants THEN (SELECT jsonb_agg(jsonb_build_object('id', v.id, 'sku', v.sku, 'options', v.options, \
         'price', v.price::text, 'inventory_count', v.inventory_count, 'reserved', v.reserved, \
         'low_stock_threshold', v.low_stock_threshold) ORDER BY v.position) \
         FROM product_variants v WHERE v.product_id = p.id) END, p.currency";

/// The products whose ids `ids` (an SQL array expression) holds, as `p` in a FROM clause:
/// each id once, each found by the primary key. Written as one lookup per id because, as
/// `p.id = ANY(ids)`, PostgreSQL reads the whole table when it is small or has no statistics
/// yet (a new shop; autovacuum not run): it assumes an array of ten, and under checkout load
/// that was a scan of every product per add to cart and per order. Its generic plan is kept
/// only when the planner cannot see the ids (a column, a sub-select): given the array itself
/// it counts the ids, finds the custom plan cheaper and plans every execution afresh.
pub(crate) fn products_by_ids(ids: &str) -> String {
    format!(
        "(SELECT DISTINCT unnest({ids}) AS id) AS wanted \
         CROSS JOIN LATERAL (SELECT * FROM products q WHERE q.id = wanted.id LIMIT 1) AS p"
    )
}

/// A variant as the product query returns it: its price is in the product's currency.
#[derive(serde::Deserialize)]
struct StoredVariant {
    id: commerce_core::ids::VariantId,
    sku: String,
    options: std::collections::BTreeMap<String, String>,
    price: Option<Decimal>,
    inventory_count: u32,
    reserved: u32,
    #[serde(default)]
    low_stock_threshold: Option<u32>,
}

pub(crate) fn product_from_row(r: &PgRow) -> Result<Product, StorageError> {
    let status: String = col(r, 7)?;
    let variants: Option<sqlx::types::Json<Vec<StoredVariant>>> = col(r, 18)?;
    let currency = currency_of(&col::<String>(r, 19)?)?;
    let variants = match variants {
        Some(v) => {
            v.0.into_iter()
                .map(|v| {
                    Ok(Variant {
                        id: v.id,
                        sku: v.sku,
                        options: v.options,
                        price: v.price.map(|p| money_in(p, currency)).transpose()?,
                        inventory_count: v.inventory_count,
                        reserved: v.reserved,
                        low_stock_threshold: v.low_stock_threshold,
                    })
                })
                .collect::<Result<Vec<_>, StorageError>>()?
        }
        None => Vec::new(),
    };
    Ok(Product {
        id: col::<Uuid>(r, 0)?.into(),
        name: col(r, 1)?,
        slug: col(r, 2)?,
        description: col(r, 3)?,
        price: money_in(col(r, 4)?, currency)?,
        category_id: col::<Option<Uuid>>(r, 5)?.map(Into::into),
        vendor_id: col::<Uuid>(r, 6)?.into(),
        status: ProductStatus::parse(&status)
            .ok_or_else(|| StorageError::Corrupt(format!("unknown product status {status}")))?,
        inventory_count: count(col(r, 8)?)?,
        reserved: count(col(r, 9)?)?,
        low_stock_threshold: count(col(r, 10)?)?,
        images: json_col(r, 11)?,
        variants,
        rating: Rating {
            average: col(r, 12)?,
            count: count(col(r, 13)?)?,
        },
        version: version(col(r, 14)?)?,
        created_at: col(r, 15)?,
        updated_at: col(r, 16)?,
    })
}

/// The words of a text as search sees them: runs of letters and digits, lower case, with
/// diacritics removed (`Café` is `cafe`), as SQLite's `unicode61 remove_diacritics` does.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.nfd()
                .filter(|c| !is_combining_mark(*c))
                .flat_map(char::to_lowercase)
                // A lexeme may not exceed 2 KiB; no real word comes near.
                .take(200)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
}

/// PostgreSQL's largest word position in a tsvector.
const MAX_POSITION: usize = 16_383;

/// The `tsvector` literal of a product: name words at weight A, description words at B.
/// Built here rather than by a text search configuration so that documents and queries are
/// cut into words by the same rule; a word is letters and digits only, so it never needs
/// quoting beyond the quotes around it.
fn search_document(name: &str, description: &str) -> String {
    let mut doc = String::new();
    let mut position = 0usize;
    for (text, weight) in [(name, 'A'), (description, 'B')] {
        for word in words(text) {
            position = (position + 1).min(MAX_POSITION);
            if !doc.is_empty() {
                doc.push(' ');
            }
            doc.push('\'');
            doc.push_str(&word);
            doc.push_str(&format!("':{position}{weight}"));
        }
    }
    doc
}

/// The `tsquery` for what a shopper typed: every word must match, as a prefix. User input is
/// only ever words, never query syntax. `None` when there is no word at all.
fn search_query(text: &str) -> Option<String> {
    let terms: Vec<String> = words(text).take(16).map(|w| format!("'{w}':*")).collect();
    (!terms.is_empty()).then(|| terms.join(" & "))
}

/// The name as sorted: Unicode lower case, compared bytewise (as SQLite does).
fn name_key(name: &str) -> String {
    name.to_lowercase()
}

fn variant_binds(product: &Product) -> Result<VariantColumns, StorageError> {
    let mut c = VariantColumns::default();
    for (i, v) in product.variants.iter().enumerate() {
        c.ids.push(v.id.as_uuid());
        c.positions.push(i32::try_from(i).unwrap_or(i32::MAX));
        c.skus.push(v.sku.clone());
        c.options.push(json(&v.options)?);
        c.prices.push(v.price.map(|p| p.amount()));
        c.inventory.push(i64::from(v.inventory_count));
        c.reserved.push(i64::from(v.reserved));
        c.thresholds.push(v.low_stock_threshold.map(i64::from));
    }
    Ok(c)
}

#[derive(Default)]
struct VariantColumns {
    ids: Vec<Uuid>,
    positions: Vec<i32>,
    skus: Vec<String>,
    options: Vec<StoredJson>,
    prices: Vec<Option<Decimal>>,
    inventory: Vec<i64>,
    reserved: Vec<i64>,
    thresholds: Vec<Option<i64>>,
}

/// Writes a product's variants in one statement: dropped ones go, the rest are inserted or
/// updated in place (keeping their ids).
async fn write_variants(conn: &mut PgConnection, product: &Product) -> Result<(), StorageError> {
    let c = variant_binds(product)?;
    sqlx::query("DELETE FROM product_variants WHERE product_id = $1 AND NOT (id = ANY($2))")
        .bind(product.id.as_uuid())
        .bind(&c.ids)
        .execute(&mut *conn)
        .await
        .map_err(storage_error)?;
    if c.ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO product_variants (id, product_id, position, sku, options, price, inventory_count, reserved,
             low_stock_threshold)
         SELECT v.id, $1, v.position, v.sku, v.options, v.price, v.inventory_count, v.reserved, v.low_stock_threshold
         FROM UNNEST($2::uuid[], $3::int[], $4::text[], $5::jsonb[], $6::numeric[], $7::bigint[], $8::bigint[],
                     $9::bigint[])
             AS v(id, position, sku, options, price, inventory_count, reserved, low_stock_threshold)
         ON CONFLICT (id) DO UPDATE SET position = excluded.position, sku = excluded.sku, options = excluded.options,
             price = excluded.price, inventory_count = excluded.inventory_count, reserved = excluded.reserved,
             low_stock_threshold = excluded.low_stock_threshold",
    )
    .bind(product.id.as_uuid())
    .bind(&c.ids)
    .bind(&c.positions)
    .bind(&c.skus)
    .bind(&c.options)
    .bind(&c.prices)
    .bind(&c.inventory)
    .bind(&c.reserved)
    .bind(&c.thresholds)
    .execute(&mut *conn)
    .await
    .map_err(storage_error)?;
    Ok(())
}

async fn insert_product_row(conn: &mut PgConnection, p: &Product) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO products (id, name, name_key, slug, description, price, category_id, vendor_id, status,
             inventory_count, reserved, low_stock_threshold, has_variants, images, rating_average, rating_count,
             version, created_at, updated_at, search, currency)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20::tsvector, $21)",
    )
    .bind(p.id.as_uuid())
    .bind(&p.name)
    .bind(name_key(&p.name))
    .bind(&p.slug)
    .bind(&p.description)
    .bind(p.price.amount())
    .bind(p.category_id.map(|c| c.as_uuid()))
    .bind(p.vendor_id.as_uuid())
    .bind(p.status.as_str())
    .bind(i64::from(p.inventory_count))
    .bind(i64::from(p.reserved))
    .bind(i64::from(p.low_stock_threshold))
    .bind(!p.variants.is_empty())
    .bind(json(&p.images)?)
    .bind(p.rating.average)
    .bind(i64::from(p.rating.count))
    .bind(sql_version(p.version))
    .bind(p.created_at)
    .bind(p.updated_at)
    .bind(search_document(&p.name, &p.description))
    .bind(p.price.currency().code())
    .execute(&mut *conn)
    .await
    .map_err(storage_error)?;
    write_variants(conn, p).await
}

async fn read_product(
    conn: impl sqlx::PgExecutor<'_>,
    id: ProductId,
) -> Result<Option<Product>, StorageError> {
    let sql = const_format_product_by_id();
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await
        .map_err(storage_error)?;
    row.as_ref().map(product_from_row).transpose()
}

fn const_format_product_by_id() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.id = $1"))
}

impl PgStore {
    /// Inserts many products in one transaction (imports, seeding): all or none.
    pub async fn insert_products(&self, products: Vec<Product>) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        for p in &products {
            insert_product_row(&mut tx, p).await?;
        }
        tx.commit().await.map_err(storage_error)?;
        self.catalog_changed();
        Ok(())
    }
}

/// The keyset of each sort: its cursor kind, ORDER BY, and how many key parts a cursor has.
fn sort_keys(sort: ProductSort) -> (&'static str, &'static str, usize) {
    match sort {
        ProductSort::Newest => ("newest", "p.created_at DESC, p.id", 2),
        ProductSort::PriceAsc => ("price_asc", "p.price, p.id", 2),
        ProductSort::PriceDesc => ("price_desc", "p.price DESC, p.id", 2),
        ProductSort::Name => ("name", "p.name_key, p.id", 2),
        ProductSort::Rating => (
            "rating",
            "p.rating_average DESC, p.rating_count DESC, p.id",
            3,
        ),
        ProductSort::Relevance => ("relevance", "rank, p.id", 2),
    }
}

/// The relevance of a row: lower is better, as with SQLite's bm25, so both sort ascending.
/// `ts_rank` weighs name words (A) above description words (B).
const RANK: &str = "(-ts_rank(p.search, q.query))";

fn bad_cursor<E>(_: E) -> StorageError {
    StorageError::InvalidCursor
}

async fn list_products(
    conn: &sqlx::PgPool,
    q: &ProductQuery,
) -> Result<Page<Product>, StorageError> {
    let empty = || Page {
        items: Vec::new(),
        next_cursor: None,
    };
    let text = match q.text.as_deref() {
        Some(t) => match search_query(t) {
            Some(query) => Some(query),
            // Only punctuation: nothing can match.
            None => return Ok(empty()),
        },
        None => None,
    };
    let sort = match (q.sort, text.is_some()) {
        (ProductSort::Relevance, false) => ProductSort::Newest,
        (s, _) => s,
    };
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT {PRODUCT_COLUMNS}, "));
    match &text {
        Some(query) => {
            sql.push(format!("{RANK}::real AS rank FROM products p, (SELECT "))
                .push_bind(query.clone())
                .push("::tsquery AS query) q WHERE p.search @@ q.query");
        }
        None => {
            sql.push("0::real AS rank FROM products p WHERE true");
        }
    }
    match q.statuses.as_slice() {
        [] => {}
        // One status (the public listing's `active`) as an equality: `= ANY` on the leading
        // column of an index keeps PostgreSQL from reading it in order, and it would sort every
        // matching row to return 20.
        [one] => {
            sql.push(" AND p.status = ").push_bind(one.as_str());
        }
        several => {
            let statuses: Vec<&str> = several.iter().map(|s| s.as_str()).collect();
            sql.push(" AND p.status = ANY(")
                .push_bind(statuses)
                .push(")");
        }
    }
    if let Some(categories) = &q.category_ids {
        if categories.is_empty() {
            return Ok(empty());
        }
        let ids: Vec<Uuid> = categories.iter().map(|c| c.as_uuid()).collect();
        sql.push(" AND p.category_id = ANY(")
            .push_bind(ids)
            .push(")");
    }
    if let Some(min) = q.min_price {
        sql.push(" AND p.price >= ").push_bind(min);
    }
    if let Some(max) = q.max_price {
        sql.push(" AND p.price <= ").push_bind(max);
    }
    if q.in_stock {
        sql.push(" AND p.inventory_count > 0");
    }
    if let Some(vendor) = q.vendor_id {
        sql.push(" AND p.vendor_id = ").push_bind(vendor.as_uuid());
    }
    let (kind, order, parts) = sort_keys(sort);
    if let Some(c) = &q.page.cursor {
        let v = cursor::decode(kind, c, parts)?;
        let id: Uuid = v[parts - 1].parse().map_err(bad_cursor)?;
        // "After the cursor" in the sort's own direction; ties go by id.
        match sort {
            ProductSort::Newest => {
                let t = parse_time(&v[0]).ok_or(StorageError::InvalidCursor)?;
                sql.push(" AND p.created_at <= ")
                    .push_bind(t)
                    .push(" AND (p.created_at < ")
                    .push_bind(t)
                    .push(" OR (p.created_at = ")
                    .push_bind(t)
                    .push(" AND p.id > ")
                    .push_bind(id)
                    .push("))");
            }
            ProductSort::PriceAsc | ProductSort::PriceDesc => {
                let price: Decimal = v[0].parse().map_err(bad_cursor)?;
                let beyond = if sort == ProductSort::PriceAsc {
                    ">"
                } else {
                    "<"
                };
                sql.push(format!(" AND (p.price {beyond} "))
                    .push_bind(price)
                    .push(" OR (p.price = ")
                    .push_bind(price)
                    .push(" AND p.id > ")
                    .push_bind(id)
                    .push("))");
            }
            ProductSort::Name => {
                sql.push(" AND (p.name_key > ")
                    .push_bind(v[0].clone())
                    .push(" OR (p.name_key = ")
                    .push_bind(v[0].clone())
                    .push(" AND p.id > ")
                    .push_bind(id)
                    .push("))");
            }
            ProductSort::Rating => {
                let average: Decimal = v[0].parse().map_err(bad_cursor)?;
                let reviews: i64 = v[1].parse().map_err(bad_cursor)?;
                sql.push(" AND (p.rating_average < ")
                    .push_bind(average)
                    .push(" OR (p.rating_average = ")
                    .push_bind(average)
                    .push(" AND (p.rating_count < ")
                    .push_bind(reviews)
                    .push(" OR (p.rating_count = ")
                    .push_bind(reviews)
                    .push(" AND p.id > ")
                    .push_bind(id)
                    .push("))))");
            }
            ProductSort::Relevance => {
                let rank: f32 = v[0].parse().map_err(bad_cursor)?;
                sql.push(format!(" AND ({RANK}::real > "))
                    .push_bind(rank)
                    .push(format!(" OR ({RANK}::real = "))
                    .push_bind(rank)
                    .push(" AND p.id > ")
                    .push_bind(id)
                    .push("))");
            }
        }
    }
    let limit = q.page.effective_limit();
    sql.push(format!(" ORDER BY {order} LIMIT "))
        .push_bind(limit as i64 + 1);
    let rows = sql.build().fetch_all(conn).await.map_err(storage_error)?;
    let mut items = Vec::with_capacity(rows.len().min(limit));
    let mut last_key = None;
    for row in rows.iter().take(limit) {
        let product = product_from_row(row)?;
        let rank: f32 = col(row, 20)?;
        let name_key: String = col(row, 17)?;
        last_key = Some(match sort {
            ProductSort::Newest => vec![time_key(product.created_at), product.id.to_string()],
            ProductSort::PriceAsc | ProductSort::PriceDesc => {
                vec![product.price.amount().to_string(), product.id.to_string()]
            }
            ProductSort::Name => vec![name_key, product.id.to_string()],
            ProductSort::Rating => vec![
                product.rating.average.to_string(),
                product.rating.count.to_string(),
                product.id.to_string(),
            ],
            ProductSort::Relevance => vec![rank.to_string(), product.id.to_string()],
        });
        items.push(product);
    }
    let next_cursor = if rows.len() > limit {
        last_key.map(|k| cursor::encode(kind, &k))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

#[async_trait]
impl ProductStore for PgStore {
    async fn insert_product(
        &self,
        product: &Product,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        insert_product_row(&mut tx, product).await?;
        tell(&mut tx, record).await?;
        tx.commit().await.map_err(storage_error)?;
        self.catalog_changed();
        Ok(())
    }

    async fn update_product(
        &self,
        product: &Product,
        record: &ChangeRecord,
    ) -> Result<Product, StorageError> {
        let stored = self
            .retrying(|| async {
                let p = product;
                let mut tx = self.pool().begin().await.map_err(storage_error)?;
                let units = if record.stock_watched_at.is_some() {
                    units_of(&mut tx, p.id).await?
                } else {
                    Vec::new()
                };
                let before = stock_now(&mut tx, &units).await?;
                // The version guard is in the WHERE clause: a stale write changes no row.
                let changed = sqlx::query(
                    "UPDATE products SET name = $1, name_key = $2, slug = $3, description = $4, price = $5,
                         category_id = $6, status = $7, inventory_count = $8, reserved = $9, low_stock_threshold = $10,
                         has_variants = $11, images = $12, updated_at = $13, search = $14::tsvector, currency = $17,
                         version = version + 1
                     WHERE id = $15 AND version = $16",
                )
                .bind(&p.name)
                .bind(name_key(&p.name))
                .bind(&p.slug)
                .bind(&p.description)
                .bind(p.price.amount())
                .bind(p.category_id.map(|c| c.as_uuid()))
                .bind(p.status.as_str())
                .bind(i64::from(p.inventory_count))
                .bind(i64::from(p.reserved))
                .bind(i64::from(p.low_stock_threshold))
                .bind(!p.variants.is_empty())
                .bind(json(&p.images)?)
                .bind(p.updated_at)
                .bind(search_document(&p.name, &p.description))
                .bind(p.id.as_uuid())
                .bind(sql_version(p.version))
                .bind(p.price.currency().code())
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?
                .rows_affected();
                if changed == 0 {
                    let exists: Option<i64> =
                        sqlx::query_scalar("SELECT version FROM products WHERE id = $1")
                            .bind(p.id.as_uuid())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(storage_error)?;
                    return Err(if exists.is_some() {
                        StorageError::VersionConflict
                    } else {
                        StorageError::NotFound
                    });
                }
                write_variants(&mut tx, p).await?;
                tell(&mut tx, record).await?;
                let after = stock_now(&mut tx, &units).await?;
                tell_stock(&mut tx, record, StockChange::between(&units, before, after)).await?;
                let stored = read_product(&mut *tx, p.id)
                    .await?
                    .ok_or(StorageError::NotFound)?;
                tx.commit().await.map_err(storage_error)?;
                Ok(stored)
            })
            .await?;
        self.catalog_changed();
        Ok(stored)
    }

    async fn delete_product(
        &self,
        id: ProductId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        let deleted = sqlx::query("DELETE FROM products WHERE id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?
            .rows_affected();
        found(deleted)?;
        tell(&mut tx, record).await?;
        tx.commit().await.map_err(storage_error)?;
        self.catalog_changed();
        Ok(())
    }

    /// From the primary: a product is read to be changed (its version) or sold (its stock).
    async fn product(&self, id: ProductId) -> Result<Option<Product>, StorageError> {
        read_product(self.pool(), id).await
    }

    async fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql = SQL.get_or_init(|| {
            format!(
                "SELECT {PRODUCT_COLUMNS} FROM {}",
                // Through a sub-select, so that the generic plan is kept (see there).
                products_by_ids("(SELECT $1::uuid[])")
            )
        });
        let ids: Vec<Uuid> = ids.iter().map(|i| i.as_uuid()).collect();
        let query = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(ids);
        let mut conn = self.lease().await?;
        let found = query.fetch_all(&mut *conn).await;
        conn.settle(found)
            .map_err(storage_error)?
            .iter()
            .map(product_from_row)
            .collect()
    }

    /// A public read: from the replica when there is one and it is current.
    async fn list_products(&self, query: &ProductQuery) -> Result<Page<Product>, StorageError> {
        list_products(self.catalog_reader().await, query).await
    }

    async fn low_stock(&self, limit: u32) -> Result<Vec<Product>, StorageError> {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql = SQL.get_or_init(|| {
            format!(
                "SELECT {PRODUCT_COLUMNS} FROM products p
                 WHERE p.status = 'active' AND (
                     (NOT p.has_variants AND p.inventory_count <= p.low_stock_threshold)
                     OR (p.has_variants AND EXISTS (
                         SELECT 1 FROM product_variants v WHERE v.product_id = p.id
                           AND v.inventory_count <= COALESCE(v.low_stock_threshold, p.low_stock_threshold))))
                 ORDER BY p.inventory_count, p.id LIMIT $1"
            )
        });
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(storage_error)?
            .iter()
            .map(product_from_row)
            .collect()
    }

    /// Moved by this process's writes at once, and by other processes' through
    /// `LISTEN/NOTIFY` within a notification's latency; unknown while not listening.
    async fn catalog_generation(&self) -> Result<Option<u64>, StorageError> {
        Ok(self.inner.changes.catalog_generation())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_and_queries_cut_words_alike() {
        assert_eq!(
            search_document("Café Crème", "Ein Kessel, aus Kupfer!"),
            "'cafe':1A 'creme':2A 'ein':3B 'kessel':4B 'aus':5B 'kupfer':6B"
        );
        assert_eq!(
            search_query("  CAFÉ & cr*me ' OR 1=1 "),
            Some("'cafe':* & 'cr':* & 'me':* & 'or':* & '1':* & '1':*".into())
        );
        assert_eq!(search_query("&&& !!!"), None);
    }
}
