//! Products (with variants and full-text search) here; `categories` and `reviews` in modules of their own.

use std::collections::HashMap;

use async_trait::async_trait;
use commerce_core::catalog::{
    Category, Product, ProductStatus, Rating, Review, ReviewStatus, Variant,
};
use commerce_core::ids::{CategoryId, ProductId, ReviewId, UserId};
use commerce_core::money::Currency;
use commerce_core::ports::{
    CategoryStore, Page, PageRequest, ProductQuery, ProductSort, ProductStore, ReviewStore,
    StorageError,
};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::codec::{
    amount_key, decode_cursor, encode_cursor, json, newest_first_page, time_text, NewestFirst,
    RowExt,
};
use crate::{
    found, stock_now, storage_error, tell, tell_stock, units_of, writing, SqliteStore, Told,
};
use commerce_core::outbox::{ChangeRecord, StockChange};

mod categories;
mod reviews;

const PRODUCT_COLUMNS: &str = "p.id, p.name, p.slug, p.description, p.price, p.category_id, p.vendor_id, p.status, \
     p.inventory_count, p.reserved, p.low_stock_threshold, p.images, p.rating_average, p.rating_count, p.version, \
     p.created_at, p.updated_at, p.price_key, p.name_key, p.rating_key, p.has_variants, p.currency";

fn status_of(text: &str, index: usize) -> rusqlite::Result<ProductStatus> {
    ProductStatus::parse(text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("unknown status {text}").into(),
        )
    })
}

fn product_from_row(r: &Row<'_>) -> rusqlite::Result<Product> {
    let status: String = r.get(7)?;
    Ok(Product {
        id: r.id(0)?,
        name: r.get(1)?,
        slug: r.get(2)?,
        description: r.get(3)?,
        price: r.money(4, 21)?,
        category_id: r.opt_id(5)?,
        vendor_id: r.id(6)?,
        status: status_of(&status, 7)?,
        inventory_count: r.count(8)?,
        reserved: r.count(9)?,
        low_stock_threshold: r.count(10)?,
        images: r.json(11)?,
        variants: Vec::new(),
        rating: Rating {
            average: r.decimal(12)?,
            count: r.count(13)?,
        },
        version: r.get::<_, i64>(14)?.try_into().unwrap_or(0),
        created_at: r.time(15)?,
        updated_at: r.time(16)?,
    })
}

/// Fills in the variants of `products` with one query (no N+1).
fn attach_variants(conn: &Connection, products: &mut [Product]) -> Result<(), StorageError> {
    if products.is_empty() {
        return Ok(());
    }
    let placeholders = vec!["?"; products.len()].join(",");
    let sql = format!(
        "SELECT product_id, id, sku, options, price, inventory_count, reserved, low_stock_threshold FROM product_variants \
         WHERE product_id IN ({placeholders}) ORDER BY product_id, position"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(storage_error)?;
    let ids = products.iter().map(|p| p.id.to_string());
    // A variant's price is in its product's currency.
    let currencies: HashMap<ProductId, Currency> = products
        .iter()
        .map(|p| (p.id, p.price.currency()))
        .collect();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(ids), |r| {
            let product_id = r.id::<ProductId>(0)?;
            // Only the listed products' variants are selected.
            let currency = currencies.get(&product_id).copied().ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Text,
                    format!("a variant of product {product_id}, which was not asked for").into(),
                )
            })?;
            Ok((
                product_id,
                Variant {
                    id: r.id(1)?,
                    sku: r.get(2)?,
                    options: r.json(3)?,
                    price: r.opt_money(4, currency)?,
                    inventory_count: r.count(5)?,
                    reserved: r.count(6)?,
                    low_stock_threshold: r
                        .get::<_, Option<i64>>(7)?
                        .map(|t| u32::try_from(t).unwrap_or(u32::MAX)),
                },
            ))
        })
        .map_err(storage_error)?;
    let mut by_product: HashMap<ProductId, Vec<Variant>> = HashMap::new();
    for row in rows {
        let (pid, v) = row.map_err(storage_error)?;
        by_product.entry(pid).or_default().push(v);
    }
    for p in products.iter_mut() {
        if let Some(vs) = by_product.remove(&p.id) {
            p.variants = vs;
        }
    }
    Ok(())
}

fn read_product(conn: &Connection, id: ProductId) -> Result<Option<Product>, StorageError> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.id = ?1");
    let product = conn
        .prepare_cached(&sql)
        .map_err(storage_error)?
        .query_row([id.to_string()], |r| {
            Ok((product_from_row(r)?, r.get::<_, bool>(20)?))
        })
        .optional()
        .map_err(storage_error)?;
    match product {
        Some((p, false)) => Ok(Some(p)),
        Some((p, true)) => {
            let mut list = [p];
            attach_variants(conn, &mut list)?;
            let [p] = list;
            Ok(Some(p))
        }
        None => Ok(None),
    }
}

fn write_variants(tx: &Connection, product: &Product) -> Result<(), StorageError> {
    let keep: Vec<String> = product.variants.iter().map(|v| v.id.to_string()).collect();
    // Variants dropped from the product go; the rest are updated in place (keeping their ids).
    let mut existing = tx
        .prepare_cached("SELECT id FROM product_variants WHERE product_id = ?1")
        .map_err(storage_error)?;
    let stored: Vec<String> = existing
        .query_map([product.id.to_string()], |r| r.get(0))
        .map_err(storage_error)?
        .collect::<Result<_, _>>()
        .map_err(storage_error)?;
    for id in stored.iter().filter(|id| !keep.contains(id)) {
        tx.execute("DELETE FROM product_variants WHERE id = ?1", [id])
            .map_err(storage_error)?;
    }
    let mut upsert = tx
        .prepare_cached(
            "INSERT INTO product_variants (id, product_id, position, sku, options, price, inventory_count, reserved,
                 low_stock_threshold)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(id) DO UPDATE SET position = excluded.position, sku = excluded.sku, options = excluded.options,
                 price = excluded.price, inventory_count = excluded.inventory_count, reserved = excluded.reserved,
                 low_stock_threshold = excluded.low_stock_threshold",
        )
        .map_err(storage_error)?;
    for (i, v) in product.variants.iter().enumerate() {
        upsert
            .execute(params![
                v.id.to_string(),
                product.id.to_string(),
                i as i64,
                v.sku,
                json(&v.options)?,
                v.price.map(|p| p.amount().to_string()),
                v.inventory_count,
                v.reserved,
                v.low_stock_threshold
            ])
            .map_err(storage_error)?;
    }
    Ok(())
}

/// The FTS5 query for what a shopper typed: every word must match, as a prefix, each word
/// quoted so that no input is read as FTS syntax.
fn match_expression(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{}\"*", w.replace('"', "")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The name as sorted: Unicode lower case (SQLite's lower() only folds ASCII).
fn name_key(name: &str) -> String {
    name.to_lowercase()
}

fn list_products(conn: &Connection, q: &ProductQuery) -> Result<Page<Product>, StorageError> {
    let mut sql = format!("SELECT {PRODUCT_COLUMNS}");
    let mut args: Vec<Value> = Vec::new();
    let text = match q.text.as_deref() {
        Some(t) => match match_expression(t) {
            Some(m) => Some(m),
            // Only punctuation: nothing can match.
            None => {
                return Ok(Page {
                    items: Vec::new(),
                    next_cursor: None,
                })
            }
        },
        None => None,
    };
    let sort = match (q.sort, text.is_some()) {
        (ProductSort::Relevance, false) => ProductSort::Newest,
        (s, _) => s,
    };
    if text.is_some() {
        sql.push_str(", bm25(products_fts, 10.0, 1.0) AS rank FROM products_fts CROSS JOIN products p ON p.rowid = products_fts.rowid WHERE products_fts MATCH ?");
        args.push(Value::Text(text.unwrap_or_default()));
    } else {
        sql.push_str(", 0.0 AS rank FROM products p WHERE 1 = 1");
    }
    let mut in_list = |sql: &mut String, column: &str, values: Vec<String>| {
        sql.push_str(&format!(
            " AND {column} IN ({})",
            vec!["?"; values.len()].join(",")
        ));
        args.extend(values.into_iter().map(Value::Text));
    };
    if !q.statuses.is_empty() {
        in_list(
            &mut sql,
            "p.status",
            q.statuses.iter().map(|s| s.as_str().to_string()).collect(),
        );
    }
    if let Some(categories) = &q.category_ids {
        if categories.is_empty() {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        in_list(
            &mut sql,
            "p.category_id",
            categories.iter().map(|c| c.to_string()).collect(),
        );
    }
    if let Some(min) = q.min_price {
        sql.push_str(" AND p.price_key >= ?");
        args.push(Value::Integer(amount_key(min)));
    }
    if let Some(max) = q.max_price {
        sql.push_str(" AND p.price_key <= ?");
        args.push(Value::Integer(amount_key(max)));
    }
    if q.in_stock {
        sql.push_str(" AND p.inventory_count > 0");
    }
    if let Some(vendor) = q.vendor_id {
        sql.push_str(" AND p.vendor_id = ?");
        args.push(Value::Text(vendor.to_string()));
    }
    let (kind, order, after, parts): (&str, &str, &str, usize) = match sort {
        ProductSort::Newest => ("newest", "p.created_at DESC, p.id", "p.created_at <= ? AND (p.created_at < ? OR (p.created_at = ? AND p.id > ?))", 2),
        ProductSort::PriceAsc => ("price_asc", "p.price_key, p.id", "p.price_key >= ? AND (p.price_key > ? OR (p.price_key = ? AND p.id > ?))", 2),
        ProductSort::PriceDesc => ("price_desc", "p.price_key DESC, p.id", "p.price_key <= ? AND (p.price_key < ? OR (p.price_key = ? AND p.id > ?))", 2),
        ProductSort::Name => ("name", "p.name_key, p.id", "p.name_key >= ? AND (p.name_key > ? OR (p.name_key = ? AND p.id > ?))", 2),
        ProductSort::Rating => (
            "rating",
            "p.rating_key DESC, p.rating_count DESC, p.id",
            "p.rating_key <= ? AND (p.rating_key < ? OR (p.rating_key = ? AND (p.rating_count < ? OR (p.rating_count = ? AND p.id > ?))))",
            3,
        ),
        ProductSort::Relevance => ("relevance", "rank, p.id", "rank >= ? AND (rank > ? OR (rank = ? AND p.id > ?))", 2),
    };
    if let Some(cursor) = &q.page.cursor {
        let values = decode_cursor(kind, cursor, parts)?;
        let key = |i: usize| -> Result<Value, StorageError> {
            let v = &values[i];
            Ok(match sort {
                ProductSort::PriceAsc | ProductSort::PriceDesc => {
                    Value::Integer(v.parse().map_err(|_| StorageError::InvalidCursor)?)
                }
                ProductSort::Rating => {
                    Value::Integer(v.parse().map_err(|_| StorageError::InvalidCursor)?)
                }
                ProductSort::Relevance if i == 0 => {
                    Value::Real(v.parse().map_err(|_| StorageError::InvalidCursor)?)
                }
                _ => Value::Text(v.clone()),
            })
        };
        sql.push_str(" AND ");
        sql.push_str(after);
        match sort {
            ProductSort::Rating => {
                let (rk, rc, id) = (key(0)?, key(1)?, Value::Text(values[2].clone()));
                args.extend([rk.clone(), rk.clone(), rk, rc.clone(), rc, id]);
            }
            _ => {
                let (k, id) = (key(0)?, Value::Text(values[1].clone()));
                args.extend([k.clone(), k.clone(), k, id]);
            }
        }
    }
    let limit = q.page.effective_limit();
    sql.push_str(&format!(" ORDER BY {order} LIMIT ?"));
    args.push(Value::Integer(limit as i64 + 1));
    let mut stmt = conn.prepare_cached(&sql).map_err(storage_error)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            let product = product_from_row(r)?;
            let price_key: i64 = r.get(17)?;
            let name_key: String = r.get(18)?;
            let rating_key: i64 = r.get(19)?;
            let rank: f64 = r.get(22)?;
            let cursor = match sort {
                ProductSort::Newest => vec![time_text(product.created_at), product.id.to_string()],
                ProductSort::PriceAsc | ProductSort::PriceDesc => {
                    vec![price_key.to_string(), product.id.to_string()]
                }
                ProductSort::Name => vec![name_key, product.id.to_string()],
                ProductSort::Rating => vec![
                    rating_key.to_string(),
                    product.rating.count.to_string(),
                    product.id.to_string(),
                ],
                ProductSort::Relevance => vec![rank.to_string(), product.id.to_string()],
            };
            Ok((product, cursor))
        })
        .map_err(storage_error)?;
    let mut items = Vec::with_capacity(limit + 1);
    let mut cursors = Vec::with_capacity(limit + 1);
    for row in rows {
        let (p, c) = row.map_err(storage_error)?;
        items.push(p);
        cursors.push(c);
    }
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        cursors.get(limit - 1).map(|c| encode_cursor(kind, c))
    } else {
        None
    };
    attach_variants(conn, &mut items)?;
    Ok(Page { items, next_cursor })
}

fn insert_product_row(tx: &Connection, p: &Product) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT INTO products (id, name, name_key, slug, description, price, price_key, category_id, vendor_id, status,
             inventory_count, reserved, low_stock_threshold, has_variants, images, rating_average, rating_key, rating_count,
             version, created_at, updated_at, currency)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
    )
    .map_err(storage_error)?
    .execute(params![
        p.id.to_string(),
        p.name,
        name_key(&p.name),
        p.slug,
        p.description,
        p.price.amount().to_string(),
        amount_key(p.price.amount()),
        p.category_id.map(|c| c.to_string()),
        p.vendor_id.to_string(),
        p.status.as_str(),
        p.inventory_count,
        p.reserved,
        p.low_stock_threshold,
        !p.variants.is_empty(),
        json(&p.images)?,
        p.rating.average.to_string(),
        amount_key(p.rating.average),
        p.rating.count,
        p.version as i64,
        time_text(p.created_at),
        time_text(p.updated_at),
        p.price.currency().code()
    ])
    .map_err(writing("products"))?;
    Ok(())
}

impl SqliteStore {
    /// Inserts many products in one transaction (imports, seeding): all or none.
    pub async fn insert_products(&self, products: Vec<Product>) -> Result<(), StorageError> {
        self.write(move |conn| {
            let tx = &*conn;
            for p in &products {
                insert_product_row(tx, p)?;
                write_variants(tx, p)?;
            }
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl ProductStore for SqliteStore {
    async fn insert_product(
        &self,
        product: &Product,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let p = product.clone();
        let told = Told::of(record)?;
        self.write(move |conn| {
            let tx = &*conn;
            insert_product_row(tx, &p)?;
            write_variants(tx, &p)?;
            tell(tx, &told)?;
            Ok(())
        })
        .await
    }

    async fn update_product(
        &self,
        product: &Product,
        record: &ChangeRecord,
    ) -> Result<Product, StorageError> {
        let p = product.clone();
        let told = Told::of(record)?;
        let watched = record.stock_watched_at.is_some();
        let record = record.clone();
        self.write(move |conn| {
            let tx = &*conn;
            let units = if watched { units_of(tx, p.id)? } else { Vec::new() };
            let before = stock_now(tx, &units)?;
            // The version guard is in the WHERE clause: a stale write changes no row.
            let changed = tx
                .prepare_cached(
                    "UPDATE products SET name = ?1, name_key = ?2, slug = ?3, description = ?4, price = ?5, price_key = ?6,
                         category_id = ?7, status = ?8, inventory_count = ?9, reserved = ?10, low_stock_threshold = ?11,
                         has_variants = ?12, images = ?13, updated_at = ?14, currency = ?17, version = version + 1
                     WHERE id = ?15 AND version = ?16",
                )
                .map_err(storage_error)?
                .execute(params![
                    p.name,
                    name_key(&p.name),
                    p.slug,
                    p.description,
                    p.price.amount().to_string(),
                    amount_key(p.price.amount()),
                    p.category_id.map(|c| c.to_string()),
                    p.status.as_str(),
                    p.inventory_count,
                    p.reserved,
                    p.low_stock_threshold,
                    !p.variants.is_empty(),
                    json(&p.images)?,
                    time_text(p.updated_at),
                    p.id.to_string(),
                    p.version as i64,
                    p.price.currency().code()
                ])
                .map_err(writing("products"))?;
            if changed == 0 {
                let exists: Option<i64> = tx
                    .query_row("SELECT version FROM products WHERE id = ?1", [p.id.to_string()], |r| r.get(0))
                    .optional()
                    .map_err(storage_error)?;
                return Err(if exists.is_some() { StorageError::VersionConflict } else { StorageError::NotFound });
            }
            write_variants(tx, &p)?;
            tell(tx, &told)?;
            let after = stock_now(tx, &units)?;
            tell_stock(tx, &record, StockChange::between(&units, before, after))?;
            let stored = read_product(tx, p.id)?.ok_or(StorageError::NotFound)?;
            Ok(stored)
        })
        .await
    }

    async fn delete_product(
        &self,
        id: ProductId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        self.write(move |conn| {
            let n = conn
                .execute("DELETE FROM products WHERE id = ?1", [id.to_string()])
                .map_err(storage_error)?;
            found(n)?;
            tell(conn, &told)
        })
        .await
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>, StorageError> {
        // Two lookups by key: microseconds, so on the worker itself.
        self.read_inline(move |conn| read_product(conn, id)).await
    }

    async fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        // A cart's few products are lookups by key, read on the worker; a long list is not.
        if ids.len() <= INLINE_PRODUCT_READS {
            self.read_inline(move |conn| read_products(conn, &ids))
                .await
        } else {
            self.read(move |conn| read_products(conn, &ids)).await
        }
    }

    /// Served from a cache while the product generation (bumped by triggers on every change
    /// of a product or variant, stock included, by any process) is the one it was read at.
    /// The check and a hit run on the worker (microseconds); a miss queries off it.
    async fn list_products(&self, query: &ProductQuery) -> Result<Page<Product>, StorageError> {
        let key = format!("{query:?}");
        let hit = self
            .read_inline(|conn| {
                let generation = product_generation(conn)?;
                Ok(self.cached_listing(generation, &key))
            })
            .await?;
        if let Some(page) = hit {
            return Ok(page.as_ref().clone());
        }
        let q = query.clone();
        let store = self.clone();
        let page = self
            .read(move |conn| {
                // Read before the page: the page is at least as new as its key says.
                let generation = product_generation(conn)?;
                let page = std::sync::Arc::new(list_products(conn, &q)?);
                store.cache_listing(generation, key, page.clone());
                Ok(page)
            })
            .await?;
        Ok(page.as_ref().clone())
    }

    async fn low_stock(&self, limit: u32) -> Result<Vec<Product>, StorageError> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.status = 'active' AND (
                     (p.has_variants = 0 AND p.inventory_count <= p.low_stock_threshold)
                     OR (p.has_variants = 1 AND EXISTS (
                         SELECT 1 FROM product_variants v WHERE v.product_id = p.id
                           AND v.inventory_count <= COALESCE(v.low_stock_threshold, p.low_stock_threshold))))
                 ORDER BY p.inventory_count, p.id LIMIT ?1"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(storage_error)?;
            let mut out: Vec<Product> = stmt
                .query_map([limit], product_from_row)
                .map_err(storage_error)?
                .collect::<Result<_, _>>()
                .map_err(storage_error)?;
            attach_variants(conn, &mut out)?;
            Ok(out)
        })
        .await
    }

    /// Both trigger-kept counters (products with their variants, and categories): each only
    /// grows, so their sum changes whenever either does. Read again after any write of this
    /// store, and otherwise at most every `other_writers_seen_within` (one row by key, on
    /// the worker).
    async fn catalog_generation(&self) -> Result<Option<u64>, StorageError> {
        let moment = self.generation_moment();
        if let Some(generation) = self.generation_still_seen(moment) {
            return Ok(Some(generation));
        }
        let generation = self
            .read_inline(|conn| {
                conn.prepare_cached(
                    "SELECT products + categories FROM catalog_generation WHERE id = 1",
                )
                .map_err(storage_error)?
                .query_row([], |r| r.get::<_, i64>(0))
                .map_err(storage_error)
            })
            .await? as u64;
        self.saw_generation(generation, moment);
        Ok(Some(generation))
    }
}

fn product_generation(conn: &Connection) -> Result<i64, StorageError> {
    conn.prepare_cached("SELECT products FROM catalog_generation WHERE id = 1")
        .map_err(storage_error)?
        .query_row([], |r| r.get(0))
        .map_err(storage_error)
}

/// Products read by id on the async worker itself, at most; more go off it.
pub(crate) const INLINE_PRODUCT_READS: usize = 32;

pub(crate) fn read_products(
    conn: &Connection,
    ids: &[String],
) -> Result<Vec<Product>, StorageError> {
    let mut out = Vec::with_capacity(ids.len());
    let mut any_variants = false;
    // Chunks keep each statement well under SQLite's parameter limit.
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.id IN ({})",
            vec!["?"; chunk.len()].join(",")
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(storage_error)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(chunk), |r| {
                Ok((product_from_row(r)?, r.get::<_, bool>(20)?))
            })
            .map_err(storage_error)?;
        for row in rows {
            let (product, has_variants) = row.map_err(storage_error)?;
            any_variants |= has_variants;
            out.push(product);
        }
    }
    // Most carts hold no product sold by variant: then there is nothing to look up.
    if any_variants {
        attach_variants(conn, &mut out)?;
    }
    Ok(out)
}
