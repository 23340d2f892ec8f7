//! Orders, and checkout's one atomic write.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use commerce_core::ids::{OrderId, ProductId, PromotionId, UserId, VariantId};
use commerce_core::money::{Currency, Money};
use commerce_core::order::{Order, OrderStatus};
use commerce_core::ports::{
    DailySales, NewOrder, OrderEffects, OrderFilter, OrderStore, Page, PlaceOrderError, Reference,
    StockLevel, StockMovement, StorageError,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, QueryBuilder};

use crate::page::newest_first_page;
use crate::{col, count, json, json_col, sql_version, storage_error, version, PgStore};
use crate::{stock_now, tell, tell_stock};
use commerce_core::outbox::{ChangeRecord, StockChange};

fn order_from_row(r: &PgRow) -> Result<Order, StorageError> {
    let mut order: Order = json_col(r, 0)?;
    order.version = version(col(r, 1)?)?;
    Ok(order)
}

/// The units an order takes, one entry per product or variant, in id order: every
/// transaction that moves stock locks rows in this one order, so that two checkouts of the
/// same products listed the other way round cannot deadlock.
fn units_in_lock_order(order: &Order) -> Vec<(ProductId, Option<VariantId>, u32)> {
    let mut wanted: BTreeMap<(ProductId, Option<VariantId>), u32> = BTreeMap::new();
    for (p, v, q) in order.units() {
        *wanted.entry((p, v)).or_default() += q;
    }
    wanted.into_iter().map(|((p, v), q)| (p, v, q)).collect()
}

/// Takes `quantity` units of a product or variant from what is available, in SQL with a
/// guard, so that two checkouts can never both take the last unit. The product row is
/// locked first, then its variant's, always in that order.
async fn reserve(
    conn: &mut PgConnection,
    product: ProductId,
    variant: Option<VariantId>,
    quantity: u32,
) -> Result<StockLevel, PlaceOrderError> {
    let q = i64::from(quantity);
    // Only active products sell; a variant is named exactly when the product has variants.
    let taken: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE products SET inventory_count = inventory_count - $1, reserved = reserved + $1, version = version + 1
         WHERE id = $2 AND status = 'active' AND has_variants = $3 AND inventory_count >= $1
         RETURNING inventory_count, low_stock_threshold",
    )
    .bind(q)
    .bind(product.as_uuid())
    .bind(variant.is_some())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage_error)?;
    let Some((product_left, threshold)) = taken else {
        // Why not: the product is not for sale, or not enough of it is left.
        let row: Option<(String, bool, i64)> = sqlx::query_as(
            "SELECT status, has_variants, inventory_count FROM products WHERE id = $1",
        )
        .bind(product.as_uuid())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage_error)?;
        return Err(match row {
            Some((status, has_variants, left))
                if status == "active" && has_variants == variant.is_some() =>
            {
                match variant {
                    None => PlaceOrderError::OutOfStock {
                        product_id: product,
                        variant_id: None,
                        available: count(left)?,
                    },
                    // The variant's own count says how many of it are left.
                    Some(v) => variant_out_of_stock(conn, product, v).await?,
                }
            }
            _ => PlaceOrderError::Unavailable(product),
        });
    };
    let (available, threshold) = match variant {
        None => (count(product_left)?, threshold),
        Some(v) => {
            let left: Option<(i64, Option<i64>)> = sqlx::query_as(
                "UPDATE product_variants SET inventory_count = inventory_count - $1, reserved = reserved + $1
                 WHERE id = $2 AND product_id = $3 AND inventory_count >= $1
                 RETURNING inventory_count, low_stock_threshold",
            )
            .bind(q)
            .bind(v.as_uuid())
            .bind(product.as_uuid())
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage_error)?;
            match left {
                // A variant's own threshold, else its product's.
                Some((left, own)) => (count(left)?, own.unwrap_or(threshold)),
                None => return Err(variant_out_of_stock(conn, product, v).await?),
            }
        }
    };
    Ok(StockLevel {
        product_id: product,
        variant_id: variant,
        available,
        threshold: count(threshold)?,
    })
}

/// Why a variant could not be taken: it is gone (not for sale) or has too few left.
async fn variant_out_of_stock(
    conn: &mut PgConnection,
    product: ProductId,
    variant: VariantId,
) -> Result<PlaceOrderError, StorageError> {
    let left: Option<i64> = sqlx::query_scalar(
        "SELECT inventory_count FROM product_variants WHERE id = $1 AND product_id = $2",
    )
    .bind(variant.as_uuid())
    .bind(product.as_uuid())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage_error)?;
    Ok(match left {
        Some(left) => PlaceOrderError::OutOfStock {
            product_id: product,
            variant_id: Some(variant),
            available: count(left)?,
        },
        None => PlaceOrderError::Unavailable(product),
    })
}

/// Moves an order's reserved units back to available (release) or out (commit), locking
/// rows in the same order as checkout does.
async fn move_stock(
    conn: &mut PgConnection,
    order: &Order,
    movement: StockMovement,
) -> Result<(), StorageError> {
    let (sql_product, sql_variant) = match movement {
        StockMovement::None => return Ok(()),
        StockMovement::Release => (
            "UPDATE products SET inventory_count = inventory_count + $1, reserved = GREATEST(reserved - $1, 0), version = version + 1 WHERE id = $2",
            "UPDATE product_variants SET inventory_count = inventory_count + $1, reserved = GREATEST(reserved - $1, 0) WHERE id = $2 AND product_id = $3",
        ),
        StockMovement::Commit => (
            "UPDATE products SET reserved = GREATEST(reserved - $1, 0), version = version + 1 WHERE id = $2",
            "UPDATE product_variants SET reserved = GREATEST(reserved - $1, 0) WHERE id = $2 AND product_id = $3",
        ),
    };
    for (product, variant, quantity) in units_in_lock_order(order) {
        let q = i64::from(quantity);
        match variant {
            None => {
                sqlx::query(sql_product)
                    .bind(q)
                    .bind(product.as_uuid())
                    .execute(&mut *conn)
                    .await
                    .map_err(storage_error)?;
            }
            Some(v) => {
                // The product first, as checkout locks them; a variant deleted since has
                // no stock left to move, and then neither has the product.
                let exists: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM products WHERE id = $1 FOR UPDATE)",
                )
                .bind(product.as_uuid())
                .fetch_one(&mut *conn)
                .await
                .map_err(storage_error)?;
                if !exists {
                    continue;
                }
                let moved = sqlx::query(sql_variant)
                    .bind(q)
                    .bind(v.as_uuid())
                    .bind(product.as_uuid())
                    .execute(&mut *conn)
                    .await
                    .map_err(storage_error)?
                    .rows_affected();
                if moved > 0 {
                    sqlx::query(sql_product)
                        .bind(q)
                        .bind(product.as_uuid())
                        .execute(&mut *conn)
                        .await
                        .map_err(storage_error)?;
                }
            }
        }
    }
    Ok(())
}

async fn insert_order(conn: &mut PgConnection, order: &Order) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO orders (id, number, user_id, status, total, currency, data, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(order.id.as_uuid())
    .bind(&order.number)
    .bind(order.user_id.map(|u| u.as_uuid()))
    .bind(order.status.as_str())
    .bind(order.totals.total.amount())
    .bind(order.currency.code())
    .bind(json(order)?)
    .bind(sql_version(order.version))
    .bind(order.created_at)
    .bind(order.updated_at)
    .execute(&mut *conn)
    .await
    .map_err(storage_error)?;
    Ok(())
}

/// Writes an order at its next version if the stored one is still the order's own.
async fn write_next_version(conn: &mut PgConnection, next: &Order) -> Result<(), StorageError> {
    let changed = sqlx::query(
        "UPDATE orders SET status = $1, data = $2, version = $3, updated_at = $4 WHERE id = $5 AND version = $6",
    )
    .bind(next.status.as_str())
    .bind(json(next)?)
    .bind(sql_version(next.version))
    .bind(next.updated_at)
    .bind(next.id.as_uuid())
    .bind(sql_version(next.version - 1))
    .execute(&mut *conn)
    .await
    .map_err(storage_error)?
    .rows_affected();
    if changed == 0 {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM orders WHERE id = $1)")
            .bind(next.id.as_uuid())
            .fetch_one(&mut *conn)
            .await
            .map_err(storage_error)?;
        return Err(if exists {
            StorageError::VersionConflict
        } else {
            StorageError::NotFound
        });
    }
    Ok(())
}

/// Gives back (`-1`) or counts again (`+1`) each of an order's promotion uses, in total and
/// for its customer, in id order (as checkout locks them). No limit is checked: a use given
/// back was counted within it, and one counted again was paid for. The total moves in the
/// order's row of `promotion_use_counts` (migration 0017), however the use was counted.
async fn move_promotion_uses(
    conn: &mut PgConnection,
    order: &Order,
    by: i64,
) -> Result<(), StorageError> {
    let mut ids: Vec<uuid::Uuid> = order
        .applied_promotions
        .iter()
        .map(|p| p.id.as_uuid())
        .collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO promotion_use_counts AS s (promotion_id, part, uses)
         SELECT p.id, commerce_use_count_part($3), $2 FROM promotions p WHERE p.id = ANY($1::uuid[])
         ORDER BY p.id
         ON CONFLICT (promotion_id, part) DO UPDATE SET uses = s.uses + $2",
    )
    .bind(&ids)
    .bind(by)
    .bind(order.id.as_uuid())
    .execute(&mut *conn)
    .await
    .map_err(storage_error)?;
    sqlx::query(
        "INSERT INTO promotion_uses (promotion_id, customer_key, uses)
         SELECT id, $2, GREATEST($3, 0) FROM UNNEST($1::uuid[]) AS id
         ON CONFLICT (promotion_id, customer_key)
             DO UPDATE SET uses = GREATEST(promotion_uses.uses + $3, 0)",
    )
    .bind(&ids)
    .bind(order.customer_key())
    .bind(by)
    .execute(&mut *conn)
    .await
    .map_err(storage_error)?;
    Ok(())
}

/// Counts one use of a promotion by `order`, under its total limit and the customer's. One
/// with no limit in all is counted in the order's row of `promotion_use_counts` (migration
/// 0017: orders using it then do not wait for each other); one with a limit in
/// `used_count`, under the limit, the other rows' counts included.
async fn count_promotion(
    conn: &mut PgConnection,
    id: PromotionId,
    order: OrderId,
    customer: &str,
) -> Result<(), PlaceOrderError> {
    let limits: Option<(Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT usage_limit, per_customer_limit FROM promotions WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage_error)?;
    let Some((usage_limit, per_customer)) = limits else {
        return Err(StorageError::MissingReference(Reference::Promotion).into());
    };
    let per_customer = if usage_limit.is_none() {
        sqlx::query(
            "INSERT INTO promotion_use_counts AS s (promotion_id, part, uses)
             VALUES ($1, commerce_use_count_part($2), 1)
             ON CONFLICT (promotion_id, part) DO UPDATE SET uses = s.uses + 1",
        )
        .bind(id.as_uuid())
        .bind(order.as_uuid())
        .execute(&mut *conn)
        .await
        .map_err(storage_error)?;
        per_customer
    } else {
        let counted: Option<Option<i64>> = sqlx::query_scalar(
            "UPDATE promotions SET used_count = used_count + 1
             WHERE id = $1
               AND (usage_limit IS NULL OR used_count + commerce_use_count_parts(id) < usage_limit)
             RETURNING per_customer_limit",
        )
        .bind(id.as_uuid())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage_error)?;
        match counted {
            Some(limit) => limit,
            None => return Err(PlaceOrderError::UsageExhausted(id)),
        }
    };
    if per_customer.is_some_and(|l| l <= 0) {
        return Err(PlaceOrderError::CustomerLimitReached(id));
    }
    // One statement counts the customer's use under their limit: two orders of one customer
    // at once meet on the row, and the second sees the first's count.
    let used: Option<i64> = sqlx::query_scalar(
        "INSERT INTO promotion_uses (promotion_id, customer_key, uses) VALUES ($1, $2, 1)
         ON CONFLICT (promotion_id, customer_key) DO UPDATE SET uses = promotion_uses.uses + 1
             WHERE $3::bigint IS NULL OR promotion_uses.uses < $3
         RETURNING uses",
    )
    .bind(id.as_uuid())
    .bind(customer)
    .bind(per_customer)
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage_error)?;
    match used {
        Some(_) => Ok(()),
        None => Err(PlaceOrderError::CustomerLimitReached(id)),
    }
}

impl PgStore {
    async fn place_order_once(&self, new: &NewOrder) -> Result<Vec<StockLevel>, PlaceOrderError> {
        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        let mut levels = Vec::new();
        for (product, variant, quantity) in units_in_lock_order(&new.order) {
            levels.push(reserve(&mut tx, product, variant, quantity).await?);
        }
        let mut promotions = new.promotion_ids.clone();
        promotions.sort();
        promotions.dedup();
        for id in promotions {
            count_promotion(&mut tx, id, new.order.id, &new.customer_key).await?;
        }
        if let Some((cart_id, cart_version)) = new.cart {
            let emptied = sqlx::query(
                "UPDATE carts SET data = jsonb_set(jsonb_set(data, '{items}', '[]'::jsonb), '{discount_codes}', '[]'::jsonb),
                     version = version + 1, updated_at = $1
                 WHERE id = $2 AND version = $3",
            )
            .bind(new.order.created_at)
            .bind(cart_id.as_uuid())
            .bind(sql_version(cart_version))
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?
            .rows_affected();
            if emptied == 0 {
                let exists: bool =
                    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM carts WHERE id = $1)")
                        .bind(cart_id.as_uuid())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(storage_error)?;
                if exists {
                    return Err(PlaceOrderError::CartChanged);
                }
            }
        }
        insert_order(&mut tx, &new.order).await?;
        tell(&mut tx, &new.record).await?;
        tell_stock(
            &mut tx,
            &new.record,
            StockChange::of_sale(&levels, &new.order),
        )
        .await?;
        tx.commit().await.map_err(storage_error)?;
        Ok(levels)
    }
}

/// A row of `commerce_place_order`: a unit taken and what is left of it (product, variant,
/// available, low-stock threshold); or, when it undid itself, no product and -1.
type UnitLeft = (Option<uuid::Uuid>, Option<uuid::Uuid>, i64, i64);

impl PgStore {
    /// Places the order in one call of `commerce_place_order` (migration 0012): one round
    /// trip, its own transaction. `None` when the order is not the ordinary case (a guard
    /// failed, the cart changed, a stock line was crossed, staff's audit entries to write;
    /// the call then answers one row with `available` -1): nothing was written, and [`place_order_once`](Self::place_order_once) places it the
    /// long way, which says exactly why not or writes what the call does not.
    async fn place_order_in_one_call(
        &self,
        new: &NewOrder,
    ) -> Result<Option<Vec<StockLevel>>, PlaceOrderError> {
        if !new.record.audit.is_empty() {
            return Ok(None);
        }
        let order = &new.order;
        let units = units_in_lock_order(order);
        let mut promotions: Vec<uuid::Uuid> =
            new.promotion_ids.iter().map(|p| p.as_uuid()).collect();
        promotions.sort();
        promotions.dedup();
        let events = &new.record.events;
        let call = sqlx::query_as(
            "SELECT * FROM commerce_place_order($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                     $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
        )
        .bind(units.iter().map(|u| u.0.as_uuid()).collect::<Vec<_>>())
        .bind(
            units
                .iter()
                .map(|u| u.1.map(|v| v.as_uuid()))
                .collect::<Vec<_>>(),
        )
        .bind(units.iter().map(|u| i64::from(u.2)).collect::<Vec<_>>())
        .bind(promotions)
        .bind(&new.customer_key)
        .bind(new.cart.map(|(id, _)| id.as_uuid()))
        .bind(new.cart.map(|(_, v)| sql_version(v)))
        .bind(order.id.as_uuid())
        .bind(&order.number)
        .bind(order.user_id.map(|u| u.as_uuid()))
        .bind(order.status.as_str())
        .bind(order.totals.total.amount())
        .bind(order.currency.code())
        .bind(json(order)?)
        .bind(sql_version(order.version))
        .bind(order.created_at)
        .bind(order.updated_at)
        .bind(events.iter().map(|e| e.id.0).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.at).collect::<Vec<_>>())
        .bind(
            events
                .iter()
                .map(|e| sqlx::types::Json(&e.data))
                .collect::<Vec<_>>(),
        )
        .bind(new.record.stock_watched_at.is_some());
        let mut conn = self.lease().await?;
        let placed: Result<Vec<UnitLeft>, sqlx::Error> = call.fetch_all(&mut *conn).await;
        let placed = conn.settle(placed);
        match placed {
            // The function's answer when it undid itself: not the ordinary case.
            Ok(rows) if rows.iter().any(|r| r.0.is_none() || r.2 < 0) => Ok(None),
            Ok(rows) => rows
                .into_iter()
                .map(|(product, variant, available, threshold)| {
                    Ok(StockLevel {
                        product_id: ProductId::from(product.unwrap_or_default()),
                        variant_id: variant.map(VariantId::from),
                        available: count(available)?,
                        threshold: count(threshold)?,
                    })
                })
                .collect::<Result<Vec<_>, StorageError>>()
                .map(Some)
                .map_err(PlaceOrderError::from),
            Err(e) => Err(storage_error(e).into()),
        }
    }
}

#[async_trait]
impl OrderStore for PgStore {
    async fn place_order(&self, new: &NewOrder) -> Result<Vec<StockLevel>, PlaceOrderError> {
        let placed = self
            .retrying(|| async {
                match self.place_order_in_one_call(new).await? {
                    Some(levels) => {
                        // The call kept the catalog trigger quiet (migration 0017).
                        self.inner.changes.tell_others_of_sales();
                        Ok(levels)
                    }
                    None => self.place_order_once(new).await,
                }
            })
            .await;
        if placed.is_ok() {
            self.catalog_changed();
        }
        placed
    }

    async fn update_order(
        &self,
        order: &Order,
        effects: OrderEffects,
    ) -> Result<Order, StorageError> {
        let mut next = order.clone();
        next.version += 1;
        let next = &next;
        let effects = &effects;
        let stored = self
            .retrying(|| async move {
                let mut tx = self.pool().begin().await.map_err(storage_error)?;
                write_next_version(&mut tx, next).await?;
                // Only a release changes what is available to sell.
                let units = if effects.record.stock_watched_at.is_some()
                    && effects.stock == StockMovement::Release
                {
                    next.distinct_units()
                } else {
                    Vec::new()
                };
                let before = stock_now(&mut tx, &units).await?;
                move_stock(&mut tx, next, effects.stock).await?;
                if effects.give_back_promotion_uses {
                    move_promotion_uses(&mut tx, next, -1).await?;
                }
                tell(&mut tx, &effects.record).await?;
                let after = stock_now(&mut tx, &units).await?;
                tell_stock(
                    &mut tx,
                    &effects.record,
                    StockChange::between(&units, before, after),
                )
                .await?;
                tx.commit().await.map_err(storage_error)?;
                Ok(next.clone())
            })
            .await?;
        if effects.stock != StockMovement::None {
            self.catalog_changed();
        }
        Ok(stored)
    }

    async fn unpaid_orders(
        &self,
        placed_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Order>, StorageError> {
        sqlx::query(
            "SELECT data, version FROM orders WHERE status = 'pending' AND created_at < $1
             ORDER BY created_at, id LIMIT $2",
        )
        .bind(placed_before)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(storage_error)?
        .iter()
        .map(order_from_row)
        .collect()
    }

    async fn reinstate_order(
        &self,
        order: &Order,
        record: &ChangeRecord,
    ) -> Result<Order, PlaceOrderError> {
        let mut next = order.clone();
        next.version += 1;
        let next = &next;
        let stored = self
            .retrying(|| async move {
                let mut tx = self.pool().begin().await.map_err(storage_error)?;
                write_next_version(&mut tx, next).await?;
                let mut levels = Vec::new();
                for (product, variant, quantity) in units_in_lock_order(next) {
                    levels.push(reserve(&mut tx, product, variant, quantity).await?);
                }
                move_promotion_uses(&mut tx, next, 1).await?;
                tell(&mut tx, record).await?;
                tell_stock(&mut tx, record, StockChange::of_sale(&levels, next)).await?;
                tx.commit().await.map_err(storage_error)?;
                Ok::<_, PlaceOrderError>(next.clone())
            })
            .await?;
        self.catalog_changed();
        Ok(stored)
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>, StorageError> {
        sqlx::query("SELECT data, version FROM orders WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(self.pool())
            .await
            .map_err(storage_error)?
            .as_ref()
            .map(order_from_row)
            .transpose()
    }

    async fn list_orders(&self, filter: &OrderFilter) -> Result<Page<Order>, StorageError> {
        let mut sql =
            QueryBuilder::new("SELECT data, version, created_at, id FROM orders WHERE true");
        if let Some(user) = filter.user_id {
            sql.push(" AND user_id = ").push_bind(user.as_uuid());
        }
        if let Some(status) = filter.status {
            sql.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(number) = &filter.number {
            sql.push(" AND number = ").push_bind(number.clone());
        }
        newest_first_page(
            self.pool(),
            sql,
            "orders",
            true,
            &filter.page,
            order_from_row,
        )
        .await
    }

    async fn has_bought(
        &self,
        user_id: UserId,
        product_id: ProductId,
    ) -> Result<bool, StorageError> {
        sqlx::query_scalar(
            // The customer's own orders (`orders_user`), each line in the order's document.
            "SELECT EXISTS (SELECT 1 FROM orders o
                 WHERE o.user_id = $2 AND o.status IN ('paid', 'processing', 'shipped', 'delivered')
                   AND o.data -> 'lines' @> jsonb_build_array(jsonb_build_object('product_id', $1::uuid)))",
        )
        .bind(product_id.as_uuid())
        .bind(user_id.as_uuid())
        .fetch_one(self.pool())
        .await
        .map_err(storage_error)
    }

    async fn count_by_status(&self) -> Result<Vec<(OrderStatus, u64)>, StorageError> {
        let counted: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM orders GROUP BY status")
                .fetch_all(self.pool())
                .await
                .map_err(storage_error)?;
        Ok(OrderStatus::ALL
            .into_iter()
            .map(|s| {
                (
                    s,
                    counted
                        .iter()
                        .find(|(t, _)| t == s.as_str())
                        .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0)),
                )
            })
            .collect())
    }

    async fn daily_sales(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailySales>, StorageError> {
        // PostgreSQL's dates span less than chrono's; no order is outside these years.
        let (first, last) = (
            NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX),
        );
        let (from, to) = (from.clamp(first, last), to.clamp(first, last));
        // Summed per day and currency in SQL (exact numeric sums), in UTC days.
        let rows: Vec<(NaiveDate, String, i64, rust_decimal::Decimal)> = sqlx::query_as(
            "SELECT (created_at AT TIME ZONE 'UTC')::date AS day, currency, COUNT(*), SUM(total)
             FROM orders
             WHERE status IN ('paid', 'processing', 'shipped', 'delivered')
               AND (created_at AT TIME ZONE 'UTC')::date BETWEEN $1 AND $2
             GROUP BY day, currency ORDER BY day, currency",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await
        .map_err(storage_error)?;
        let corrupt = |what: &str| StorageError::Corrupt(format!("order {what} cannot be read"));
        let mut days = Vec::with_capacity(rows.len());
        for (day, currency, orders, total) in rows {
            let currency = Currency::from_code(&currency).map_err(|_| corrupt("currency"))?;
            let total = Money::new(total, currency).map_err(|_| corrupt("total"))?;
            days.push((day, count(orders)?, total));
        }
        DailySales::tally(days).map_err(|_| corrupt("currency"))
    }
}
