//! Orders, and checkout's one atomic write.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use commerce_core::ids::{OrderId, ProductId, UserId, VariantId};
use commerce_core::money::{Currency, Money};
use commerce_core::order::{Order, OrderStatus};
use commerce_core::ports::{
    DailySales, NewOrder, OrderEffects, OrderFilter, OrderStore, Page, PlaceOrderError, Reference,
    StockLevel, StockMovement, StorageError,
};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};

use crate::codec::{json, newest_first_page, time_text, NewestFirst, RowExt};
use crate::{stock_now, storage_error, tell, tell_stock, SqliteStore, Told};
use commerce_core::outbox::{ChangeRecord, StockChange};

fn read_order(conn: &Connection, id: OrderId) -> Result<Option<Order>, StorageError> {
    conn.prepare_cached("SELECT data, version FROM orders WHERE id = ?1")
        .map_err(storage_error)?
        .query_row([id.to_string()], order_from_row)
        .optional()
        .map_err(storage_error)
}

fn order_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Order> {
    let mut order: Order = r.json(0)?;
    order.version = r.get::<_, i64>(1)?.try_into().unwrap_or(0);
    Ok(order)
}

/// Products (each once, not sold by variant) whose stock one `UPDATE` takes.
const PRODUCTS_PER_RESERVE: usize = 8;

/// Takes units of several products, sold without variants, in one guarded `UPDATE`: every
/// product that sells comes back with what is left. When one does not, the caller's
/// transaction is undone (the others' decrements with it) and the first refused is said why.
fn reserve_products(
    tx: &Connection,
    wanted: &[(ProductId, u32)],
) -> Result<Vec<StockLevel>, PlaceOrderError> {
    if let [(product, quantity)] = wanted {
        return Ok(vec![reserve(tx, *product, None, *quantity)?]);
    }
    let sql = format!(
        "UPDATE products SET inventory_count = products.inventory_count - w.column2,
             reserved = products.reserved + w.column2, version = products.version + 1
         FROM (VALUES {}) AS w
         WHERE products.id = w.column1 AND products.status = 'active'
           AND products.has_variants = 0 AND products.inventory_count >= w.column2
         RETURNING products.id, products.inventory_count, products.low_stock_threshold",
        vec!["(?, ?)"; wanted.len()].join(", ")
    );
    let args = wanted
        .iter()
        .flat_map(|(p, q)| [Value::Text(p.to_string()), Value::Integer(i64::from(*q))]);
    let mut stmt = tx.prepare_cached(&sql).map_err(storage_error)?;
    let taken: Vec<StockLevel> = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            Ok(StockLevel {
                product_id: r.id(0)?,
                variant_id: None,
                available: r.count(1)?,
                threshold: r.count(2)?,
            })
        })
        .map_err(storage_error)?
        .collect::<Result<_, _>>()
        .map_err(storage_error)?;
    if taken.len() == wanted.len() {
        return Ok(taken);
    }
    let refused = wanted
        .iter()
        .find(|(p, _)| !taken.iter().any(|t| t.product_id == *p))
        .map_or(wanted[0].0, |(p, _)| *p);
    Err(refusal(tx, refused)?)
}

/// Why a product sold without variants was not taken: out of stock, or not for sale.
fn refusal(tx: &Connection, product: ProductId) -> Result<PlaceOrderError, StorageError> {
    let row: Option<(String, bool, u32)> = tx
        .prepare_cached("SELECT status, has_variants, inventory_count FROM products WHERE id = ?1")
        .map_err(storage_error)?
        .query_row([product.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.count(2)?))
        })
        .optional()
        .map_err(storage_error)?;
    Ok(match row {
        Some((status, false, available)) if status == "active" => PlaceOrderError::OutOfStock {
            product_id: product,
            variant_id: None,
            available,
        },
        _ => PlaceOrderError::Unavailable(product),
    })
}

/// Takes `quantity` units of a product or variant from what is available, in SQL with a
/// guard, so that two checkouts can never both take the last unit.
fn reserve(
    tx: &Connection,
    product: ProductId,
    variant: Option<VariantId>,
    quantity: u32,
) -> Result<StockLevel, PlaceOrderError> {
    let pid = product.to_string();
    let level = |available, threshold| StockLevel {
        product_id: product,
        variant_id: variant,
        available,
        threshold,
    };
    let Some(v) = variant else {
        // One statement when it sells: the guard, the decrement and what is left. Only
        // active products sell, and one sold by variant only by naming the variant.
        let taken: Option<(u32, u32)> = tx
            .prepare_cached(
                "UPDATE products SET inventory_count = inventory_count - ?1, reserved = reserved + ?1, version = version + 1
                 WHERE id = ?2 AND status = 'active' AND has_variants = 0 AND inventory_count >= ?1
                 RETURNING inventory_count, low_stock_threshold",
            )
            .map_err(storage_error)?
            .query_row(params![quantity, pid], |r| Ok((r.count(0)?, r.count(1)?)))
            .optional()
            .map_err(storage_error)?;
        if let Some((left, threshold)) = taken {
            return Ok(level(left, threshold));
        }
        return Err(refusal(tx, product)?);
    };
    let row: Option<(String, bool, u32)> = tx
        .prepare_cached(
            "SELECT status, has_variants, low_stock_threshold FROM products WHERE id = ?1",
        )
        .map_err(storage_error)?
        .query_row([&pid], |r| Ok((r.get(0)?, r.get(1)?, r.count(2)?)))
        .optional()
        .map_err(storage_error)?;
    let Some((status, true, threshold)) = row else {
        return Err(PlaceOrderError::Unavailable(product));
    };
    if status != "active" {
        return Err(PlaceOrderError::Unavailable(product));
    }
    let vid = v.to_string();
    let taken: Option<(u32, Option<u32>)> = tx
        .prepare_cached(
            "UPDATE product_variants SET inventory_count = inventory_count - ?1, reserved = reserved + ?1
             WHERE id = ?2 AND product_id = ?3 AND inventory_count >= ?1
             RETURNING inventory_count, low_stock_threshold",
        )
        .map_err(storage_error)?
        .query_row(params![quantity, vid, pid], |r| {
            Ok((r.count(0)?, r.get::<_, Option<u32>>(1)?))
        })
        .optional()
        .map_err(storage_error)?;
    let Some((left, own_threshold)) = taken else {
        let left: Option<u32> = tx
            .query_row(
                "SELECT inventory_count FROM product_variants WHERE id = ?1 AND product_id = ?2",
                [&vid, &pid],
                |r| r.count(0),
            )
            .optional()
            .map_err(storage_error)?;
        return Err(match left {
            Some(available) => PlaceOrderError::OutOfStock {
                product_id: product,
                variant_id: Some(v),
                available,
            },
            None => PlaceOrderError::Unavailable(product),
        });
    };
    // The product's counts are the sums of its variants'.
    tx.prepare_cached(
        "UPDATE products SET inventory_count = inventory_count - ?1, reserved = reserved + ?1, version = version + 1 WHERE id = ?2",
    )
    .map_err(storage_error)?
    .execute(params![quantity, pid])
    .map_err(storage_error)?;
    Ok(level(left, own_threshold.unwrap_or(threshold)))
}

/// Reserves every unit of an order (never past zero), a statement per few products.
fn reserve_units(tx: &Connection, order: &Order) -> Result<Vec<StockLevel>, PlaceOrderError> {
    let mut wanted: Vec<(ProductId, Option<VariantId>, u32)> = Vec::new();
    for (p, v, q) in order.units() {
        match wanted.iter_mut().find(|(wp, wv, _)| *wp == p && *wv == v) {
            Some(w) => w.2 += q,
            None => wanted.push((p, v, q)),
        }
    }
    let mut levels = Vec::with_capacity(wanted.len());
    let plain: Vec<(ProductId, u32)> = wanted
        .iter()
        .filter(|(_, v, _)| v.is_none())
        .map(|(p, _, q)| (*p, *q))
        .collect();
    for chunk in plain.chunks(PRODUCTS_PER_RESERVE) {
        levels.extend(reserve_products(tx, chunk)?);
    }
    for (product, variant, quantity) in wanted {
        if variant.is_some() {
            levels.push(reserve(tx, product, variant, quantity)?);
        }
    }
    Ok(levels)
}

/// Gives back (`-1`) or counts again (`+1`) each of an order's promotion uses, in total and
/// for its customer. No limit is checked: a use given back was counted within it, and one
/// counted again was paid for.
fn move_promotion_uses(tx: &Connection, order: &Order, by: i64) -> Result<(), StorageError> {
    let customer = order.customer_key();
    for applied in &order.applied_promotions {
        let pid = applied.id.to_string();
        tx.prepare_cached(
            "UPDATE promotions SET used_count = MAX(used_count + ?1, 0) WHERE id = ?2",
        )
        .map_err(storage_error)?
        .execute(params![by, pid])
        .map_err(storage_error)?;
        tx.prepare_cached(
            "INSERT INTO promotion_uses (promotion_id, customer_key, uses) VALUES (?1, ?2, MAX(?3, 0))
             ON CONFLICT(promotion_id, customer_key) DO UPDATE SET uses = MAX(uses + ?3, 0)",
        )
        .map_err(storage_error)?
        .execute(params![pid, customer, by])
        .map_err(storage_error)?;
    }
    Ok(())
}

/// Writes an order at its next version if the stored one is still the order's own.
fn write_next_version(tx: &Connection, next: &Order) -> Result<(), StorageError> {
    let n = tx
        .prepare_cached("UPDATE orders SET status = ?1, data = ?2, version = ?3, updated_at = ?4 WHERE id = ?5 AND version = ?6")
        .map_err(storage_error)?
        .execute(params![
            next.status.as_str(),
            json(next)?,
            next.version as i64,
            time_text(next.updated_at),
            next.id.to_string(),
            next.version as i64 - 1
        ])
        .map_err(storage_error)?;
    if n == 0 {
        return Err(if read_order(tx, next.id)?.is_some() {
            StorageError::VersionConflict
        } else {
            StorageError::NotFound
        });
    }
    Ok(())
}

/// Moves an order's reserved units back to available (release) or out (commit).
fn move_stock(tx: &Connection, order: &Order, movement: StockMovement) -> Result<(), StorageError> {
    let (sql_variant, sql_product) = match movement {
        StockMovement::None => return Ok(()),
        StockMovement::Release => (
            "UPDATE product_variants SET inventory_count = inventory_count + ?1, reserved = MAX(reserved - ?1, 0) WHERE id = ?2 AND product_id = ?3",
            "UPDATE products SET inventory_count = inventory_count + ?1, reserved = MAX(reserved - ?1, 0), version = version + 1 WHERE id = ?2",
        ),
        StockMovement::Commit => (
            "UPDATE product_variants SET reserved = MAX(reserved - ?1, 0) WHERE id = ?2 AND product_id = ?3",
            "UPDATE products SET reserved = MAX(reserved - ?1, 0), version = version + 1 WHERE id = ?2",
        ),
    };
    for (product, variant, quantity) in order.units() {
        let pid = product.to_string();
        let moved = match variant {
            // A variant deleted since has no stock left to move.
            Some(v) => {
                tx.prepare_cached(sql_variant)
                    .map_err(storage_error)?
                    .execute(params![quantity, v.to_string(), pid])
                    .map_err(storage_error)?
                    > 0
            }
            None => true,
        };
        if moved {
            tx.prepare_cached(sql_product)
                .map_err(storage_error)?
                .execute(params![quantity, pid])
                .map_err(storage_error)?;
        }
    }
    Ok(())
}

fn insert_order(tx: &Connection, order: &Order) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT INTO orders (id, number, user_id, status, total, currency, data, version, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .map_err(storage_error)?
    .execute(params![
        order.id.to_string(),
        order.number,
        order.user_id.map(|u| u.to_string()),
        order.status.as_str(),
        order.totals.total.amount().to_string(),
        order.currency.code(),
        json(order)?,
        order.version as i64,
        time_text(order.created_at),
        time_text(order.updated_at)
    ])
    .map_err(storage_error)?;
    // Several lines to a statement (a statement per line count, so few kept prepared).
    for (chunk_index, chunk) in order.lines.chunks(LINES_PER_INSERT).enumerate() {
        let sql = format!(
            "INSERT INTO order_lines (order_id, position, product_id, variant_id, quantity) VALUES {}",
            vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut args: Vec<Value> = Vec::with_capacity(chunk.len() * 5);
        for (i, l) in chunk.iter().enumerate() {
            args.push(Value::Text(order.id.to_string()));
            args.push(Value::Integer((chunk_index * LINES_PER_INSERT + i) as i64));
            args.push(Value::Text(l.product_id.to_string()));
            args.push(
                l.variant_id
                    .map_or(Value::Null, |v| Value::Text(v.to_string())),
            );
            args.push(Value::Integer(i64::from(l.quantity)));
        }
        tx.prepare_cached(&sql)
            .map_err(storage_error)?
            .execute(rusqlite::params_from_iter(args))
            .map_err(storage_error)?;
    }
    Ok(())
}

/// Order lines written by one `INSERT`.
const LINES_PER_INSERT: usize = 8;

fn count_promotion(
    tx: &Connection,
    id: commerce_core::ids::PromotionId,
    customer: &str,
) -> Result<(), PlaceOrderError> {
    let pid = id.to_string();
    let counted = tx
        .prepare_cached("UPDATE promotions SET used_count = used_count + 1 WHERE id = ?1 AND (usage_limit IS NULL OR used_count < usage_limit)")
        .map_err(storage_error)?
        .execute([&pid])
        .map_err(storage_error)?;
    let limit: Option<Option<u32>> = tx
        .query_row(
            "SELECT per_customer_limit FROM promotions WHERE id = ?1",
            [&pid],
            |r| r.get(0),
        )
        .optional()
        .map_err(storage_error)?;
    let Some(per_customer) = limit else {
        return Err(StorageError::MissingReference(Reference::Promotion).into());
    };
    if counted == 0 {
        return Err(PlaceOrderError::UsageExhausted(id));
    }
    let used: u32 = tx
        .query_row(
            "SELECT uses FROM promotion_uses WHERE promotion_id = ?1 AND customer_key = ?2",
            [&pid, customer],
            |r| r.get(0),
        )
        .optional()
        .map_err(storage_error)?
        .unwrap_or(0);
    if per_customer.is_some_and(|l| used >= l) {
        return Err(PlaceOrderError::CustomerLimitReached(id));
    }
    tx.prepare_cached(
        "INSERT INTO promotion_uses (promotion_id, customer_key, uses) VALUES (?1, ?2, 1)
         ON CONFLICT(promotion_id, customer_key) DO UPDATE SET uses = uses + 1",
    )
    .map_err(storage_error)?
    .execute([&pid, customer])
    .map_err(storage_error)?;
    Ok(())
}

#[async_trait]
impl OrderStore for SqliteStore {
    async fn place_order(&self, new: &NewOrder) -> Result<Vec<StockLevel>, PlaceOrderError> {
        let told = Told::of(&new.record)?;
        let new = new.clone();
        self.write(move |conn| {
            // Inside the writer's `BEGIN IMMEDIATE` (run_group): the write lock is held from
            // the start, so no other writer (another process on the same file) can slip in
            // between the stock check and the decrement.
            let tx = &*conn;
            let levels = reserve_units(tx, &new.order)?;
            for id in &new.promotion_ids {
                count_promotion(tx, *id, &new.customer_key)?;
            }
            if let Some((cart_id, version)) = new.cart {
                let emptied = tx
                    .prepare_cached(
                        "UPDATE carts SET data = json_set(data, '$.items', json('[]'), '$.discount_codes', json('[]')),
                             version = version + 1, updated_at = ?1
                         WHERE id = ?2 AND version = ?3",
                    )
                    .map_err(storage_error)?
                    .execute(params![time_text(new.order.created_at), cart_id.to_string(), version as i64])
                    .map_err(storage_error)?;
                if emptied == 0 {
                    let exists = tx
                        .query_row("SELECT 1 FROM carts WHERE id = ?1", [cart_id.to_string()], |_| Ok(()))
                        .optional()
                        .map_err(storage_error)?;
                    if exists.is_some() {
                        return Err(PlaceOrderError::CartChanged);
                    }
                }
            }
            insert_order(tx, &new.order)?;
            tell(tx, &told)?;
            tell_stock(tx, &new.record, StockChange::of_sale(&levels, &new.order))?;
            Ok(levels)
        })
        .await
    }

    async fn update_order(
        &self,
        order: &Order,
        effects: OrderEffects,
    ) -> Result<Order, StorageError> {
        let mut next = order.clone();
        next.version += 1;
        let told = Told::of(&effects.record)?;
        self.write(move |conn| {
            let tx = &*conn;
            write_next_version(tx, &next)?;
            // Only a release changes what is available to sell.
            let watched = effects.record.stock_watched_at.is_some()
                && effects.stock == StockMovement::Release;
            let units = if watched {
                next.distinct_units()
            } else {
                Vec::new()
            };
            let before = stock_now(tx, &units)?;
            move_stock(tx, &next, effects.stock)?;
            if effects.give_back_promotion_uses {
                move_promotion_uses(tx, &next, -1)?;
            }
            tell(tx, &told)?;
            let after = stock_now(tx, &units)?;
            tell_stock(
                tx,
                &effects.record,
                StockChange::between(&units, before, after),
            )?;
            Ok(next)
        })
        .await
    }

    async fn unpaid_orders(
        &self,
        placed_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Order>, StorageError> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT data, version FROM orders WHERE status = 'pending' AND created_at < ?1
                 ORDER BY created_at, id LIMIT ?2",
            )
            .map_err(storage_error)?
            .query_map(
                params![time_text(placed_before), i64::from(limit)],
                order_from_row,
            )
            .map_err(storage_error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(storage_error)
        })
        .await
    }

    async fn reinstate_order(
        &self,
        order: &Order,
        record: &ChangeRecord,
    ) -> Result<Order, PlaceOrderError> {
        let mut next = order.clone();
        let told = Told::of(record)?;
        let record = record.clone();
        next.version += 1;
        self.write(move |conn| {
            let tx = &*conn;
            write_next_version(tx, &next)?;
            let levels = reserve_units(tx, &next)?;
            move_promotion_uses(tx, &next, 1)?;
            tell(tx, &told)?;
            tell_stock(tx, &record, StockChange::of_sale(&levels, &next))?;
            Ok(next)
        })
        .await
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>, StorageError> {
        self.read_inline(move |conn| read_order(conn, id)).await
    }

    async fn list_orders(&self, filter: &OrderFilter) -> Result<Page<Order>, StorageError> {
        let filter = filter.clone();
        self.read(move |conn| {
            let mut from = String::from("FROM orders WHERE 1 = 1");
            let mut args: Vec<Value> = Vec::new();
            if let Some(user) = filter.user_id {
                from.push_str(" AND user_id = ?");
                args.push(Value::Text(user.to_string()));
            }
            if let Some(status) = filter.status {
                from.push_str(" AND status = ?");
                args.push(Value::Text(status.as_str().into()));
            }
            if let Some(number) = &filter.number {
                from.push_str(" AND number = ?");
                args.push(Value::Text(number.clone()));
            }
            let listing = NewestFirst {
                kind: "orders",
                columns: "data, version",
                from: &from,
                ids_descending: true,
            };
            newest_first_page(conn, listing, args, &filter.page, order_from_row)
        })
        .await
    }

    async fn has_bought(
        &self,
        user_id: UserId,
        product_id: ProductId,
    ) -> Result<bool, StorageError> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT 1 FROM order_lines l JOIN orders o ON o.id = l.order_id
                 WHERE l.product_id = ?1 AND o.user_id = ?2 AND o.status IN ('paid', 'processing', 'shipped', 'delivered') LIMIT 1",
            )
            .map_err(storage_error)?
            .query_row([product_id.to_string(), user_id.to_string()], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
            .map_err(storage_error)
        })
        .await
    }

    async fn count_by_status(&self) -> Result<Vec<(OrderStatus, u64)>, StorageError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT status, COUNT(*) FROM orders GROUP BY status")
                .map_err(storage_error)?;
            let counted: Vec<(String, i64)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(storage_error)?
                .collect::<Result<_, _>>()
                .map_err(storage_error)?;
            Ok(OrderStatus::ALL
                .into_iter()
                .map(|s| {
                    (
                        s,
                        counted
                            .iter()
                            .find(|(t, _)| t == s.as_str())
                            .map_or(0, |(_, n)| *n as u64),
                    )
                })
                .collect())
        })
        .await
    }

    async fn daily_sales(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailySales>, StorageError> {
        self.read(move |conn| {
            // Days are compared as the text prefix of the fixed-width UTC timestamps.
            let mut stmt = conn
                .prepare_cached(
                    "SELECT substr(created_at, 1, 10), total, currency FROM orders
                     WHERE status IN ('paid', 'processing', 'shipped', 'delivered')
                       AND substr(created_at, 1, 10) >= ?1 AND substr(created_at, 1, 10) <= ?2",
                )
                .map_err(storage_error)?;
            let rows = stmt
                .query_map([from.to_string(), to.to_string()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(storage_error)?;
            let corrupt =
                |what: &str| StorageError::Corrupt(format!("order {what} cannot be read"));
            let mut sales = Vec::new();
            for row in rows {
                let (day, total, currency) = row.map_err(storage_error)?;
                let day: NaiveDate = day.parse().map_err(|_| corrupt("date"))?;
                let currency = Currency::from_code(&currency).map_err(|_| corrupt("currency"))?;
                let total = Money::parse(&total, currency).map_err(|_| corrupt("total"))?;
                sales.push((day, 1, total));
            }
            DailySales::tally(sales).map_err(|_| corrupt("currency"))
        })
        .await
    }
}
