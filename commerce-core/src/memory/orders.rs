//! Orders in memory: `place_order` checks everything, then writes, under the one lock.

use super::*;

#[async_trait]
impl OrderStore for MemoryStore {
    async fn place_order(&self, new: &NewOrder) -> Result<Vec<StockLevel>, PlaceOrderError> {
        let mut s = self.lock()?;
        // Check everything first, then write: all or nothing.
        if s.orders.contains_key(&new.order.id) {
            return Err(StorageError::Duplicate(UniqueRule::RecordId).into());
        }
        if s.orders.values().any(|o| o.number == new.order.number) {
            return Err(StorageError::Duplicate(UniqueRule::OrderNumber).into());
        }
        let mut wanted: Vec<(ProductId, Option<VariantId>, u32)> = Vec::new();
        for (p, v, q) in new.order.units() {
            match wanted.iter_mut().find(|(wp, wv, _)| *wp == p && *wv == v) {
                Some(w) => w.2 += q,
                None => wanted.push((p, v, q)),
            }
        }
        for (product_id, variant_id, quantity) in &wanted {
            let product = s
                .products
                .get(product_id)
                .ok_or(PlaceOrderError::Unavailable(*product_id))?;
            if !product.is_sellable() {
                return Err(PlaceOrderError::Unavailable(*product_id));
            }
            let have = product
                .available(*variant_id)
                .ok_or(PlaceOrderError::Unavailable(*product_id))?;
            if have < *quantity {
                return Err(PlaceOrderError::OutOfStock {
                    product_id: *product_id,
                    variant_id: *variant_id,
                    available: have,
                });
            }
        }
        for id in &new.promotion_ids {
            let promotion = s
                .promotions
                .get(id)
                .ok_or(StorageError::MissingReference(Reference::Promotion))?;
            if promotion.usage_exhausted() {
                return Err(PlaceOrderError::UsageExhausted(*id));
            }
            let used = s
                .promotion_uses
                .get(&(*id, new.customer_key.clone()))
                .copied()
                .unwrap_or(0);
            if promotion
                .per_customer_limit
                .is_some_and(|limit| used >= limit)
            {
                return Err(PlaceOrderError::CustomerLimitReached(*id));
            }
        }
        if let Some((cart_id, version)) = new.cart {
            if s.carts.get(&cart_id).is_some_and(|c| c.version != version) {
                return Err(PlaceOrderError::CartChanged);
            }
        }
        // Write.
        let before = s.stock_before(&new.record, wanted.iter().map(|(p, v, _)| (*p, *v)));
        let mut levels = Vec::with_capacity(wanted.len());
        for (product_id, variant_id, quantity) in &wanted {
            if let Some(product) = s.products.get_mut(product_id) {
                let mut left = 0;
                // Checked above under the same lock, so the reservation succeeds.
                product.update_stock(*variant_id, |stock| {
                    let _ = stock.reserve(*quantity);
                    left = stock.available;
                });
                // Stock is part of the product: a write based on the old count must fail.
                product.version += 1;
                levels.push(StockLevel {
                    product_id: *product_id,
                    variant_id: *variant_id,
                    available: left,
                    threshold: product.threshold(*variant_id),
                });
            }
        }
        for id in &new.promotion_ids {
            if let Some(p) = s.promotions.get_mut(id) {
                p.used_count += 1;
            }
            *s.promotion_uses
                .entry((*id, new.customer_key.clone()))
                .or_insert(0) += 1;
        }
        if let Some((cart_id, _)) = new.cart {
            if let Some(cart) = s.carts.get_mut(&cart_id) {
                cart.clear(new.order.created_at);
                cart.version += 1;
            }
        }
        s.orders.insert(new.order.id, new.order.clone());
        s.tell_with_stock(&new.record, before);
        Ok(levels)
    }

    async fn update_order(
        &self,
        order: &Order,
        effects: OrderEffects,
    ) -> Result<Order, StorageError> {
        let mut s = self.lock()?;
        let stored = s.orders.get(&order.id).ok_or(StorageError::NotFound)?;
        if stored.version != order.version {
            return Err(StorageError::VersionConflict);
        }
        if effects.give_back_promotion_uses {
            let customer = order.customer_key();
            for applied in &order.applied_promotions {
                if let Some(p) = s.promotions.get_mut(&applied.id) {
                    p.used_count = p.used_count.saturating_sub(1);
                }
                if let Some(uses) = s.promotion_uses.get_mut(&(applied.id, customer.clone())) {
                    *uses = uses.saturating_sub(1);
                }
            }
        }
        let stock = effects.stock;
        let before = s.stock_before(
            &effects.record,
            order.units().into_iter().map(|(p, v, _)| (p, v)),
        );
        if stock != StockMovement::None {
            for (product_id, variant_id, quantity) in order.units() {
                // A product or variant deleted since has no stock left to move.
                if let Some(product) = s.products.get_mut(&product_id) {
                    if product.update_stock(variant_id, |st| st.apply(stock, quantity)) {
                        product.version += 1;
                    }
                }
            }
        }
        let mut next = order.clone();
        next.version += 1;
        s.orders.insert(next.id, next.clone());
        s.tell_with_stock(&effects.record, before);
        Ok(next)
    }

    async fn unpaid_orders(
        &self,
        placed_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Order>, StorageError> {
        let s = self.lock()?;
        let mut unpaid: Vec<Order> = s
            .orders
            .values()
            .filter(|o| o.status == OrderStatus::Pending && o.created_at < placed_before)
            .cloned()
            .collect();
        unpaid.sort_by_key(|o| (o.created_at, o.id));
        unpaid.truncate(limit as usize);
        Ok(unpaid)
    }

    async fn reinstate_order(
        &self,
        order: &Order,
        record: &ChangeRecord,
    ) -> Result<Order, PlaceOrderError> {
        let mut s = self.lock()?;
        let stored = s.orders.get(&order.id).ok_or(StorageError::NotFound)?;
        if stored.version != order.version {
            return Err(StorageError::VersionConflict.into());
        }
        let mut wanted: Vec<(ProductId, Option<VariantId>, u32)> = Vec::new();
        for (p, v, q) in order.units() {
            match wanted.iter_mut().find(|(wp, wv, _)| *wp == p && *wv == v) {
                Some(w) => w.2 += q,
                None => wanted.push((p, v, q)),
            }
        }
        for (product_id, variant_id, quantity) in &wanted {
            let have = s
                .products
                .get(product_id)
                .and_then(|p| p.available(*variant_id))
                .unwrap_or(0);
            if have < *quantity {
                return Err(PlaceOrderError::OutOfStock {
                    product_id: *product_id,
                    variant_id: *variant_id,
                    available: have,
                });
            }
        }
        let before = s.stock_before(record, wanted.iter().map(|(p, v, _)| (*p, *v)));
        for (product_id, variant_id, quantity) in &wanted {
            if let Some(product) = s.products.get_mut(product_id) {
                product.update_stock(*variant_id, |stock| {
                    let _ = stock.reserve(*quantity);
                });
                product.version += 1;
            }
        }
        let customer = order.customer_key();
        for applied in &order.applied_promotions {
            if let Some(p) = s.promotions.get_mut(&applied.id) {
                p.used_count += 1;
            }
            *s.promotion_uses
                .entry((applied.id, customer.clone()))
                .or_insert(0) += 1;
        }
        let mut next = order.clone();
        next.version += 1;
        s.orders.insert(next.id, next.clone());
        s.tell_with_stock(record, before);
        Ok(next)
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>, StorageError> {
        Ok(self.lock()?.orders.get(&id).cloned())
    }

    async fn list_orders(&self, filter: &OrderFilter) -> Result<Page<Order>, StorageError> {
        let s = self.lock()?;
        let items: Vec<Order> = s
            .orders
            .values()
            .filter(|o| filter.user_id.is_none_or(|u| o.user_id == Some(u)))
            .filter(|o| filter.status.is_none_or(|st| o.status == st))
            .filter(|o| filter.number.as_ref().is_none_or(|n| &o.number == n))
            .cloned()
            .collect();
        Ok(page_after(
            items,
            |o| (std::cmp::Reverse(o.created_at), std::cmp::Reverse(o.id)),
            |o| o.id.to_string(),
            &filter.page,
        ))
    }

    async fn has_bought(
        &self,
        user_id: UserId,
        product_id: ProductId,
    ) -> Result<bool, StorageError> {
        Ok(self.lock()?.orders.values().any(|o| {
            o.user_id == Some(user_id)
                && o.status.is_bought()
                && o.lines.iter().any(|l| l.product_id == product_id)
        }))
    }

    async fn count_by_status(&self) -> Result<Vec<(OrderStatus, u64)>, StorageError> {
        let s = self.lock()?;
        Ok(OrderStatus::ALL
            .into_iter()
            .map(|st| {
                (
                    st,
                    s.orders.values().filter(|o| o.status == st).count() as u64,
                )
            })
            .collect())
    }

    async fn daily_sales(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailySales>, StorageError> {
        let s = self.lock()?;
        let mut days: std::collections::BTreeMap<NaiveDate, (u32, Option<Money>)> =
            std::collections::BTreeMap::new();
        for o in s.orders.values() {
            let day = o.created_at.date_naive();
            let counted = matches!(
                o.status,
                OrderStatus::Paid
                    | OrderStatus::Processing
                    | OrderStatus::Shipped
                    | OrderStatus::Delivered
            );
            if day < from || day > to || !counted {
                continue;
            }
            let entry = days.entry(day).or_insert((0, None));
            entry.0 += 1;
            entry.1 = Some(match entry.1 {
                None => o.totals.total,
                Some(sum) => sum
                    .checked_add(&o.totals.total)
                    .map_err(|e| StorageError::Corrupt(e.to_string()))?,
            });
        }
        Ok(days
            .into_iter()
            .filter_map(|(day, (orders, revenue))| {
                revenue.map(|revenue| DailySales {
                    day,
                    orders,
                    revenue,
                })
            })
            .collect())
    }
}
