//! In-memory adapters for every port: for embedding without a database, for examples, and
//! for tests. The storage keeps all aggregates behind one lock, so every port call is atomic
//! (`place_order` included) and correct under any concurrency; the lock is never held across
//! an await.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use crate::account::{OneTimeToken, RefreshToken, SavedAddress, TokenPurpose, User};
use crate::cart::Cart;
use crate::catalog::{rating_of, Category, Product, ProductStatus, Review, ReviewStatus};
use crate::events::DomainEvent;
use crate::ids::*;
use crate::money::Money;
use crate::order::{Order, OrderStatus};
use crate::payment::{Payment, PaymentStatus};
use crate::ports::*;
use crate::promotion::Promotion;
use crate::shipping::ShippingMethod;
use crate::tax::TaxRate;

/// A value that counts how often it was reached for writing: every `&mut` access counts,
/// whether or not it then changes anything, so no write can be missed by the count (a few
/// extra counts only make readers rebuild what they kept).
#[derive(Default)]
struct Counted<T> {
    value: T,
    writes: u64,
}

impl<T> std::ops::Deref for Counted<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> std::ops::DerefMut for Counted<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.writes += 1;
        &mut self.value
    }
}

#[derive(Default)]
struct State {
    /// Counted, for the catalog generation.
    products: Counted<HashMap<ProductId, Product>>,
    categories: Counted<HashMap<CategoryId, Category>>,
    reviews: HashMap<ReviewId, Review>,
    carts: HashMap<CartId, Cart>,
    orders: HashMap<OrderId, Order>,
    /// (promotion, customer key) → uses.
    promotion_uses: HashMap<(PromotionId, String), u32>,
    payments: HashMap<PaymentId, Payment>,
    provider_events: std::collections::HashSet<(String, String)>,
    users: HashMap<UserId, User>,
    addresses: HashMap<AddressId, SavedAddress>,
    one_time: HashMap<String, OneTimeToken>,
    refresh: HashMap<String, RefreshToken>,
    promotions: HashMap<PromotionId, Promotion>,
    settings: Option<StoreSettings>,
    tax_rates: HashMap<TaxRateId, TaxRate>,
    shipping: HashMap<ShippingMethodId, ShippingMethod>,
    /// (scope, key) → (fingerprint, created at, response once complete).
    idempotency: HashMap<(String, String), KeyRecord>,
    /// Key → failed sign-ins, oldest first.
    login_failures: HashMap<String, Vec<LoginFailure>>,
    /// Client → its theoretical arrival time.
    client_rates: HashMap<String, DateTime<Utc>>,
}

type KeyRecord = (String, DateTime<Utc>, Option<KeptResponse>);

/// Every storage port, in memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StorageError> {
        // A panic while holding the lock leaves the state as it was before the panicking
        // call's writes (each call validates before it writes), so the data is still sound.
        Ok(self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

/// Sorts `items` by `key` and returns the page after `cursor` (the id of the last item of
/// the previous page), keyset style.
fn page_after<T: Clone, K: Ord>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> K,
    id: impl Fn(&T) -> String,
    page: &PageRequest,
) -> Page<T> {
    items.sort_by_key(|a| key(a));
    let start = match &page.cursor {
        Some(c) => items
            .iter()
            .position(|i| &id(i) == c)
            .map_or(items.len(), |p| p + 1),
        None => 0,
    };
    let limit = page.effective_limit();
    let rest: Vec<T> = items.into_iter().skip(start).take(limit + 1).collect();
    let more = rest.len() > limit;
    let items: Vec<T> = rest.into_iter().take(limit).collect();
    let next_cursor = if more { items.last().map(&id) } else { None };
    Page { items, next_cursor }
}

fn text_score(product: &Product, words: &[String]) -> u32 {
    let name = product.name.to_lowercase();
    let description = product.description.to_lowercase();
    words
        .iter()
        .map(|w| {
            let in_name = name.contains(w.as_str());
            let in_description = description.contains(w.as_str());
            match (in_name, in_description) {
                (false, false) => 0,
                (true, _) => 3 + u32::from(in_description),
                (false, true) => 1,
            }
        })
        .try_fold(0, |acc, s| (s > 0).then_some(acc + s))
        .unwrap_or(0)
}

fn available(product: &Product, variant: Option<VariantId>) -> Option<u32> {
    product.available(variant)
}

/// What the databases' constraints hold a product to, beside its slug: its category exists
/// and its variants' SKUs differ whatever their case.
fn check_product_rules(s: &State, product: &Product) -> Result<(), StorageError> {
    if let Some(category) = product.category_id {
        if !s.categories.contains_key(&category) {
            return Err(StorageError::MissingReference(Reference::Category));
        }
    }
    let mut skus = HashSet::new();
    if !product
        .variants
        .iter()
        .all(|v| skus.insert(v.sku.to_lowercase()))
    {
        return Err(StorageError::Duplicate(UniqueRule::VariantSku));
    }
    Ok(())
}

#[async_trait]
impl ProductStore for MemoryStore {
    async fn insert_product(&self, product: &Product) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if s.products
            .values()
            .any(|p| p.slug == product.slug && p.id != product.id)
        {
            return Err(StorageError::Duplicate(UniqueRule::ProductSlug));
        }
        if s.products.contains_key(&product.id) {
            return Err(StorageError::Duplicate(UniqueRule::RecordId));
        }
        check_product_rules(&s, product)?;
        s.products.insert(product.id, product.clone());
        Ok(())
    }

    async fn update_product(&self, product: &Product) -> Result<Product, StorageError> {
        let mut s = self.lock()?;
        let stored = s.products.get(&product.id).ok_or(StorageError::NotFound)?;
        if stored.version != product.version {
            return Err(StorageError::VersionConflict);
        }
        if s.products
            .values()
            .any(|p| p.slug == product.slug && p.id != product.id)
        {
            return Err(StorageError::Duplicate(UniqueRule::ProductSlug));
        }
        check_product_rules(&s, product)?;
        let mut next = product.clone();
        next.version += 1;
        // The rating belongs to the reviews; a product read before a review must not undo it.
        next.rating = stored.rating;
        s.products.insert(next.id, next.clone());
        Ok(next)
    }

    async fn delete_product(&self, id: ProductId) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        s.products
            .remove(&id)
            .map(|_| ())
            .ok_or(StorageError::NotFound)
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>, StorageError> {
        Ok(self.lock()?.products.get(&id).cloned())
    }

    async fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, StorageError> {
        let s = self.lock()?;
        Ok(ids
            .iter()
            .filter_map(|id| s.products.get(id).cloned())
            .collect())
    }

    async fn list_products(&self, q: &ProductQuery) -> Result<Page<Product>, StorageError> {
        let s = self.lock()?;
        let words: Vec<String> = q
            .text
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let matching: Vec<(u32, Product)> = s
            .products
            .values()
            .filter(|p| q.statuses.is_empty() || q.statuses.contains(&p.status))
            .filter(|p| {
                q.category_ids
                    .as_ref()
                    .is_none_or(|ids| p.category_id.is_some_and(|c| ids.contains(&c)))
            })
            .filter(|p| q.min_price.is_none_or(|m| p.price.amount() >= m))
            .filter(|p| q.max_price.is_none_or(|m| p.price.amount() <= m))
            .filter(|p| !q.in_stock || p.inventory_count > 0)
            .filter(|p| q.vendor_id.is_none_or(|v| p.vendor_id == v))
            .filter_map(|p| {
                if words.is_empty() {
                    Some((0, p.clone()))
                } else {
                    let score = text_score(p, &words);
                    (score > 0).then(|| (score, p.clone()))
                }
            })
            .collect();
        let page = match q.sort {
            ProductSort::Newest => page_after(
                matching,
                |(_, p)| (std::cmp::Reverse(p.created_at), p.id),
                |(_, p)| p.id.to_string(),
                &q.page,
            ),
            ProductSort::PriceAsc => page_after(
                matching,
                |(_, p)| (p.price.amount(), p.id),
                |(_, p)| p.id.to_string(),
                &q.page,
            ),
            ProductSort::PriceDesc => page_after(
                matching,
                |(_, p)| (std::cmp::Reverse(p.price.amount()), p.id),
                |(_, p)| p.id.to_string(),
                &q.page,
            ),
            ProductSort::Rating => page_after(
                matching,
                |(_, p)| (std::cmp::Reverse((p.rating.average, p.rating.count)), p.id),
                |(_, p)| p.id.to_string(),
                &q.page,
            ),
            ProductSort::Name => page_after(
                matching,
                |(_, p)| (p.name.to_lowercase(), p.id),
                |(_, p)| p.id.to_string(),
                &q.page,
            ),
            ProductSort::Relevance => page_after(
                matching,
                |(score, p)| {
                    (
                        std::cmp::Reverse(*score),
                        std::cmp::Reverse(p.created_at),
                        p.id,
                    )
                },
                |(_, p)| p.id.to_string(),
                &q.page,
            ),
        };
        Ok(page.map(|(_, p)| p))
    }

    async fn low_stock(&self, limit: u32) -> Result<Vec<Product>, StorageError> {
        let s = self.lock()?;
        let mut low: Vec<Product> = s
            .products
            .values()
            .filter(|p| p.status == ProductStatus::Active && p.is_low_on_stock())
            .cloned()
            .collect();
        low.sort_by_key(|p| (p.inventory_count, p.id));
        low.truncate(limit as usize);
        Ok(low)
    }

    async fn catalog_generation(&self) -> Result<Option<u64>, StorageError> {
        let s = self.lock()?;
        Ok(Some(s.products.writes + s.categories.writes))
    }
}

#[async_trait]
impl CategoryStore for MemoryStore {
    async fn categories(&self) -> Result<Vec<Category>, StorageError> {
        Ok(self.lock()?.categories.values().cloned().collect())
    }

    async fn insert_category(&self, category: &Category) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if s.categories.values().any(|c| c.slug == category.slug) {
            return Err(StorageError::Duplicate(UniqueRule::CategorySlug));
        }
        if let Some(parent) = category.parent_id {
            if !s.categories.contains_key(&parent) {
                return Err(StorageError::MissingReference(Reference::ParentCategory));
            }
        }
        s.categories.insert(category.id, category.clone());
        Ok(())
    }

    async fn update_category(&self, category: &Category) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.categories.contains_key(&category.id) {
            return Err(StorageError::NotFound);
        }
        if s.categories
            .values()
            .any(|c| c.slug == category.slug && c.id != category.id)
        {
            return Err(StorageError::Duplicate(UniqueRule::CategorySlug));
        }
        s.categories.insert(category.id, category.clone());
        Ok(())
    }

    async fn delete_category(&self, id: CategoryId) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        let removed = s.categories.remove(&id).ok_or(StorageError::NotFound)?;
        for c in s.categories.values_mut() {
            if c.parent_id == Some(id) {
                c.parent_id = removed.parent_id;
            }
        }
        for p in s.products.values_mut() {
            if p.category_id == Some(id) {
                p.category_id = None;
            }
        }
        Ok(())
    }
}

fn refresh_rating(s: &mut State, product_id: ProductId) {
    let reviews: Vec<Review> = s
        .reviews
        .values()
        .filter(|r| r.product_id == product_id)
        .cloned()
        .collect();
    if let Some(p) = s.products.get_mut(&product_id) {
        p.rating = rating_of(&reviews);
    }
}

#[async_trait]
impl ReviewStore for MemoryStore {
    async fn insert_review(&self, review: &Review) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.products.contains_key(&review.product_id) {
            return Err(StorageError::MissingReference(Reference::Product));
        }
        if s.reviews
            .values()
            .any(|r| r.product_id == review.product_id && r.user_id == review.user_id)
        {
            return Err(StorageError::Duplicate(UniqueRule::OneReviewPerCustomer));
        }
        s.reviews.insert(review.id, review.clone());
        refresh_rating(&mut s, review.product_id);
        Ok(())
    }

    async fn update_review(&self, review: &Review) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.reviews.contains_key(&review.id) {
            return Err(StorageError::NotFound);
        }
        s.reviews.insert(review.id, review.clone());
        refresh_rating(&mut s, review.product_id);
        Ok(())
    }

    async fn review(&self, id: ReviewId) -> Result<Option<Review>, StorageError> {
        Ok(self.lock()?.reviews.get(&id).cloned())
    }

    async fn reviews(
        &self,
        product_id: ProductId,
        page: &PageRequest,
    ) -> Result<Page<Review>, StorageError> {
        let s = self.lock()?;
        let items: Vec<Review> = s
            .reviews
            .values()
            .filter(|r| r.product_id == product_id && r.status == ReviewStatus::Approved)
            .cloned()
            .collect();
        Ok(page_after(
            items,
            |r| (std::cmp::Reverse(r.created_at), r.id),
            |r| r.id.to_string(),
            page,
        ))
    }

    async fn has_reviewed(
        &self,
        product_id: ProductId,
        user_id: UserId,
    ) -> Result<bool, StorageError> {
        Ok(self
            .lock()?
            .reviews
            .values()
            .any(|r| r.product_id == product_id && r.user_id == user_id))
    }
}

#[async_trait]
impl CartStore for MemoryStore {
    async fn insert_cart(&self, cart: &Cart) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if let Some(user) = cart.customer_id {
            if s.carts.values().any(|c| c.customer_id == Some(user)) {
                return Err(StorageError::Duplicate(UniqueRule::OneCartPerCustomer));
            }
        }
        if let Some(token) = cart.guest_token_hash.as_deref() {
            if s.carts
                .values()
                .any(|c| c.guest_token_hash.as_deref() == Some(token))
            {
                return Err(StorageError::Duplicate(UniqueRule::GuestCartToken));
            }
        }
        if s.carts.contains_key(&cart.id) {
            return Err(StorageError::Duplicate(UniqueRule::RecordId));
        }
        s.carts.insert(cart.id, cart.clone());
        Ok(())
    }

    async fn update_cart(&self, cart: &Cart) -> Result<Cart, StorageError> {
        let mut s = self.lock()?;
        let stored = s.carts.get(&cart.id).ok_or(StorageError::NotFound)?;
        if stored.version != cart.version {
            return Err(StorageError::VersionConflict);
        }
        let mut next = cart.clone();
        next.version += 1;
        s.carts.insert(next.id, next.clone());
        Ok(next)
    }

    async fn delete_cart(&self, id: CartId) -> Result<(), StorageError> {
        self.lock()?
            .carts
            .remove(&id)
            .map(|_| ())
            .ok_or(StorageError::NotFound)
    }

    async fn cart(&self, id: CartId) -> Result<Option<Cart>, StorageError> {
        Ok(self.lock()?.carts.get(&id).cloned())
    }

    async fn cart_by_token(&self, token_hash: &str) -> Result<Option<Cart>, StorageError> {
        Ok(self
            .lock()?
            .carts
            .values()
            .find(|c| c.guest_token_hash.as_deref() == Some(token_hash))
            .cloned())
    }

    async fn cart_of_customer(&self, user_id: UserId) -> Result<Option<Cart>, StorageError> {
        Ok(self
            .lock()?
            .carts
            .values()
            .find(|c| c.customer_id == Some(user_id))
            .cloned())
    }

    async fn purge_guest_carts(
        &self,
        untouched_before: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let mut s = self.lock()?;
        let before = s.carts.len();
        s.carts
            .retain(|_, c| c.customer_id.is_some() || c.updated_at >= untouched_before);
        Ok((before - s.carts.len()) as u64)
    }
}

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
            let have =
                available(product, *variant_id).ok_or(PlaceOrderError::Unavailable(*product_id))?;
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
                    threshold: product.low_stock_threshold,
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

    async fn reinstate_order(&self, order: &Order) -> Result<Order, PlaceOrderError> {
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
                .and_then(|p| available(p, *variant_id))
                .unwrap_or(0);
            if have < *quantity {
                return Err(PlaceOrderError::OutOfStock {
                    product_id: *product_id,
                    variant_id: *variant_id,
                    available: have,
                });
            }
        }
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

/// A provider's payment is recorded once: no other payment has its provider and reference.
fn check_payment_reference(s: &State, payment: &Payment) -> Result<(), StorageError> {
    let Some(reference) = payment.provider_reference.as_deref() else {
        return Ok(());
    };
    if s.payments.values().any(|p| {
        p.id != payment.id
            && p.provider == payment.provider
            && p.provider_reference.as_deref() == Some(reference)
    }) {
        return Err(StorageError::Duplicate(UniqueRule::PaymentReference));
    }
    Ok(())
}

#[async_trait]
impl PaymentStore for MemoryStore {
    async fn insert_payment(&self, payment: &Payment) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.orders.contains_key(&payment.order_id) {
            return Err(StorageError::MissingReference(Reference::Order));
        }
        if s.payments.contains_key(&payment.id) {
            return Err(StorageError::Duplicate(UniqueRule::RecordId));
        }
        check_payment_reference(&s, payment)?;
        s.payments.insert(payment.id, payment.clone());
        Ok(())
    }

    async fn update_payment(&self, payment: &Payment) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.payments.contains_key(&payment.id) {
            return Err(StorageError::NotFound);
        }
        check_payment_reference(&s, payment)?;
        s.payments.insert(payment.id, payment.clone());
        Ok(())
    }

    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StorageError> {
        Ok(self.lock()?.payments.get(&id).cloned())
    }

    async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>, StorageError> {
        Ok(self
            .lock()?
            .payments
            .values()
            .find(|p| p.provider == provider && p.provider_reference.as_deref() == Some(reference))
            .cloned())
    }

    async fn payments_of_order(&self, order_id: OrderId) -> Result<Vec<Payment>, StorageError> {
        let s = self.lock()?;
        let mut list: Vec<Payment> = s
            .payments
            .values()
            .filter(|p| p.order_id == order_id)
            .cloned()
            .collect();
        list.sort_by_key(|p| (p.created_at, p.id));
        Ok(list)
    }

    async fn record_provider_event(
        &self,
        provider: &str,
        event_id: &str,
    ) -> Result<bool, StorageError> {
        Ok(self
            .lock()?
            .provider_events
            .insert((provider.to_string(), event_id.to_string())))
    }

    async fn forget_provider_event(
        &self,
        provider: &str,
        event_id: &str,
    ) -> Result<(), StorageError> {
        self.lock()?
            .provider_events
            .remove(&(provider.to_string(), event_id.to_string()));
        Ok(())
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn insert_user(&self, user: &User) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if s.users.values().any(|u| u.email == user.email) {
            return Err(StorageError::Duplicate(UniqueRule::UserEmail));
        }
        s.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn update_user(&self, user: &User) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.users.contains_key(&user.id) {
            return Err(StorageError::NotFound);
        }
        if s.users
            .values()
            .any(|u| u.email == user.email && u.id != user.id)
        {
            return Err(StorageError::Duplicate(UniqueRule::UserEmail));
        }
        s.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StorageError> {
        Ok(self.lock()?.users.get(&id).cloned())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError> {
        Ok(self
            .lock()?
            .users
            .values()
            .find(|u| u.email == email)
            .cloned())
    }

    async fn list_users(&self, filter: &UserFilter) -> Result<Page<User>, StorageError> {
        let s = self.lock()?;
        let text = filter.text.as_deref().map(str::to_lowercase);
        let items: Vec<User> = s
            .users
            .values()
            .filter(|u| filter.role.is_none_or(|r| u.role == r))
            .filter(|u| {
                text.as_deref()
                    .is_none_or(|t| u.email.contains(t) || u.full_name.to_lowercase().contains(t))
            })
            .cloned()
            .collect();
        Ok(page_after(
            items,
            |u| (std::cmp::Reverse(u.created_at), u.id),
            |u| u.id.to_string(),
            &filter.page,
        ))
    }

    async fn addresses(&self, user_id: UserId) -> Result<Vec<SavedAddress>, StorageError> {
        let s = self.lock()?;
        let mut list: Vec<SavedAddress> = s
            .addresses
            .values()
            .filter(|a| a.user_id == user_id)
            .cloned()
            .collect();
        list.sort_by_key(|a| (a.created_at, a.id));
        Ok(list)
    }

    async fn save_address(&self, address: &SavedAddress) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.users.contains_key(&address.user_id) {
            return Err(StorageError::MissingReference(Reference::User));
        }
        if s.addresses
            .get(&address.id)
            .is_some_and(|a| a.user_id != address.user_id)
        {
            return Err(StorageError::NotFound);
        }
        if address.is_default {
            for a in s
                .addresses
                .values_mut()
                .filter(|a| a.user_id == address.user_id)
            {
                a.is_default = false;
            }
        }
        s.addresses.insert(address.id, address.clone());
        Ok(())
    }

    async fn delete_address(&self, user_id: UserId, id: AddressId) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        match s.addresses.get(&id) {
            Some(a) if a.user_id == user_id => {
                s.addresses.remove(&id);
                Ok(())
            }
            _ => Err(StorageError::NotFound),
        }
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        expired_before: DateTime<Utc>,
        abandoned_before: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StorageError> {
        let mut s = self.lock()?;
        let id = (scope.to_string(), key.to_string());
        if let Some((kept, created, response)) = s.idempotency.get(&id) {
            let dead =
                *created < expired_before || (response.is_none() && *created < abandoned_before);
            if !dead {
                return Ok(IdempotencyClaim::Existing {
                    fingerprint: kept.clone(),
                    response: response.clone(),
                });
            }
        }
        s.idempotency
            .insert(id, (fingerprint.to_string(), now, None));
        Ok(IdempotencyClaim::Claimed)
    }

    async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        response: &KeptResponse,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        let record = s
            .idempotency
            .get_mut(&(scope.to_string(), key.to_string()))
            .ok_or(StorageError::NotFound)?;
        record.2 = Some(response.clone());
        Ok(())
    }

    async fn release_idempotency_key(&self, scope: &str, key: &str) -> Result<(), StorageError> {
        self.lock()?
            .idempotency
            .remove(&(scope.to_string(), key.to_string()));
        Ok(())
    }

    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        let mut s = self.lock()?;
        let count = s.idempotency.len();
        s.idempotency
            .retain(|_, (_, created, _)| *created >= before);
        Ok((count - s.idempotency.len()) as u64)
    }
}

/// When a sign-in failed, and the attempt that may take it back.
type LoginFailure = (DateTime<Utc>, Option<LoginAttemptId>);

#[async_trait]
impl LoginAttemptStore for MemoryStore {
    async fn begin_login_attempt(
        &self,
        attempt: LoginAttemptId,
        keys: &[(String, u32)],
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StorageError> {
        let mut s = self.lock()?;
        let mut refused_until: Option<DateTime<Utc>> = None;
        for (key, limit) in keys {
            let recent: Vec<DateTime<Utc>> = s
                .login_failures
                .get(key)
                .map(|times| {
                    times
                        .iter()
                        .map(|(t, _)| *t)
                        .filter(|t| *t > since)
                        .collect()
                })
                .unwrap_or_default();
            let limit = (*limit).max(1) as usize;
            if recent.len() >= limit {
                let oldest = recent[recent.len() - limit];
                refused_until = Some(refused_until.map_or(oldest, |r| r.max(oldest)));
            }
        }
        if refused_until.is_some() {
            return Ok(refused_until);
        }
        for (key, _) in keys {
            let times = s.login_failures.entry(key.clone()).or_default();
            let at_or_after = times.partition_point(|(t, _)| *t <= at);
            times.insert(at_or_after, (at, Some(attempt)));
        }
        Ok(None)
    }

    async fn forget_login_attempt(&self, attempt: LoginAttemptId) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        s.login_failures.retain(|_, times| {
            times.retain(|(_, a)| *a != Some(attempt));
            !times.is_empty()
        });
        Ok(())
    }

    async fn purge_login_failures(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        let mut s = self.lock()?;
        let mut purged = 0;
        s.login_failures.retain(|_, times| {
            let keep = times.partition_point(|(t, _)| *t < before);
            purged += keep as u64;
            times.drain(..keep);
            !times.is_empty()
        });
        Ok(purged)
    }
}

#[async_trait]
impl ClientRateStore for MemoryStore {
    async fn add_client_requests(
        &self,
        requests: &[(String, u32)],
        interval: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StorageError> {
        let mut s = self.lock()?;
        let mut times = Vec::with_capacity(requests.len());
        for (client, count) in requests {
            let worth = chrono::Duration::from_std(interval * *count)
                .map_err(|_| StorageError::Corrupt("an interval out of range".into()))?;
            let time = s.client_rates.entry(client.clone()).or_insert(now);
            *time = (*time).max(now) + worth;
            times.push((client.clone(), *time));
        }
        Ok(times)
    }

    async fn purge_client_rates(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        let mut s = self.lock()?;
        let count = s.client_rates.len();
        s.client_rates.retain(|_, time| *time >= before);
        Ok((count - s.client_rates.len()) as u64)
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn insert_one_time(&self, token: &OneTimeToken) -> Result<(), StorageError> {
        self.lock()?
            .one_time
            .insert(token.token_hash.clone(), token.clone());
        Ok(())
    }

    async fn use_one_time(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<OneTimeToken>, StorageError> {
        let mut s = self.lock()?;
        match s.one_time.get_mut(token_hash) {
            Some(t) if t.purpose == purpose && t.used_at.is_none() && now < t.expires_at => {
                t.used_at = Some(now);
                Ok(Some(t.clone()))
            }
            _ => Ok(None),
        }
    }

    async fn insert_refresh(&self, token: &RefreshToken) -> Result<(), StorageError> {
        self.lock()?
            .refresh
            .insert(token.token_hash.clone(), token.clone());
        Ok(())
    }

    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>, StorageError> {
        Ok(self.lock()?.refresh.get(token_hash).cloned())
    }

    async fn revoke_refresh(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut s = self.lock()?;
        match s.refresh.get_mut(token_hash) {
            Some(t) if t.revoked_at.is_none() => {
                t.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_family(
        &self,
        family_id: TokenFamilyId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        for t in self
            .lock()?
            .refresh
            .values_mut()
            .filter(|t| t.family_id == family_id)
        {
            t.revoked_at.get_or_insert(now);
        }
        Ok(())
    }

    async fn revoke_all_of_user(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        for t in self
            .lock()?
            .refresh
            .values_mut()
            .filter(|t| t.user_id == user_id)
        {
            t.revoked_at.get_or_insert(now);
        }
        Ok(())
    }
}

#[async_trait]
impl PromotionStore for MemoryStore {
    async fn insert_promotion(&self, promotion: &Promotion) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if promotion.code.is_some() && s.promotions.values().any(|p| p.code == promotion.code) {
            return Err(StorageError::Duplicate(UniqueRule::PromotionCode));
        }
        s.promotions.insert(promotion.id, promotion.clone());
        Ok(())
    }

    async fn update_promotion(&self, promotion: &Promotion) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.promotions.contains_key(&promotion.id) {
            return Err(StorageError::NotFound);
        }
        if promotion.code.is_some()
            && s.promotions
                .values()
                .any(|p| p.code == promotion.code && p.id != promotion.id)
        {
            return Err(StorageError::Duplicate(UniqueRule::PromotionCode));
        }
        s.promotions.insert(promotion.id, promotion.clone());
        Ok(())
    }

    async fn delete_promotion(&self, id: PromotionId) -> Result<(), StorageError> {
        self.lock()?
            .promotions
            .remove(&id)
            .map(|_| ())
            .ok_or(StorageError::NotFound)
    }

    async fn promotion(&self, id: PromotionId) -> Result<Option<Promotion>, StorageError> {
        Ok(self.lock()?.promotions.get(&id).cloned())
    }

    async fn list_promotions(&self, page: &PageRequest) -> Result<Page<Promotion>, StorageError> {
        let items: Vec<Promotion> = self.lock()?.promotions.values().cloned().collect();
        Ok(page_after(
            items,
            |p| (std::cmp::Reverse(p.created_at), p.id),
            |p| p.id.to_string(),
            page,
        ))
    }

    async fn promotions_for_pricing(
        &self,
        codes: &[String],
    ) -> Result<Vec<Promotion>, StorageError> {
        let s = self.lock()?;
        let mut list: Vec<Promotion> = s
            .promotions
            .values()
            .filter(|p| match &p.code {
                None => true,
                Some(c) => codes.contains(c),
            })
            .cloned()
            .collect();
        list.sort_by_key(|p| p.id);
        Ok(list)
    }

    async fn customer_uses(
        &self,
        customer_key: &str,
        ids: &[PromotionId],
    ) -> Result<Vec<(PromotionId, u32)>, StorageError> {
        let s = self.lock()?;
        Ok(ids
            .iter()
            .filter_map(|id| {
                s.promotion_uses
                    .get(&(*id, customer_key.to_string()))
                    .map(|n| (*id, *n))
            })
            .collect())
    }
}

#[async_trait]
impl SettingsStore for MemoryStore {
    async fn store_settings(&self) -> Result<Option<StoreSettings>, StorageError> {
        Ok(self.lock()?.settings.clone())
    }

    async fn save_store_settings(&self, settings: &StoreSettings) -> Result<(), StorageError> {
        self.lock()?.settings = Some(settings.clone());
        Ok(())
    }

    async fn tax_rates(&self) -> Result<Vec<TaxRate>, StorageError> {
        let mut list: Vec<TaxRate> = self.lock()?.tax_rates.values().cloned().collect();
        list.sort_by(|a, b| (&a.country, &a.region, a.id).cmp(&(&b.country, &b.region, b.id)));
        Ok(list)
    }

    async fn save_tax_rate(&self, rate: &TaxRate) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if s.tax_rates
            .values()
            .any(|r| r.id != rate.id && r.country == rate.country && r.region == rate.region)
        {
            return Err(StorageError::Duplicate(UniqueRule::TaxRateRegion));
        }
        s.tax_rates.insert(rate.id, rate.clone());
        Ok(())
    }

    async fn delete_tax_rate(&self, id: TaxRateId) -> Result<(), StorageError> {
        self.lock()?
            .tax_rates
            .remove(&id)
            .map(|_| ())
            .ok_or(StorageError::NotFound)
    }

    async fn shipping_methods(&self) -> Result<Vec<ShippingMethod>, StorageError> {
        let mut list: Vec<ShippingMethod> = self.lock()?.shipping.values().cloned().collect();
        list.sort_by(|a, b| (a.price, &a.name, a.id).cmp(&(b.price, &b.name, b.id)));
        Ok(list)
    }

    async fn save_shipping_method(&self, method: &ShippingMethod) -> Result<(), StorageError> {
        self.lock()?.shipping.insert(method.id, method.clone());
        Ok(())
    }

    async fn delete_shipping_method(&self, id: ShippingMethodId) -> Result<(), StorageError> {
        self.lock()?
            .shipping
            .remove(&id)
            .map(|_| ())
            .ok_or(StorageError::NotFound)
    }
}

/// Domain events over a tokio broadcast channel (in-process subscribers).
pub struct MemoryEventBus {
    sender: tokio::sync::broadcast::Sender<DomainEvent>,
}

impl MemoryEventBus {
    pub fn new(capacity: usize) -> Self {
        Self {
            sender: tokio::sync::broadcast::channel(capacity.max(1)).0,
        }
    }
}

impl Default for MemoryEventBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl EventBus for MemoryEventBus {
    fn publish(&self, event: DomainEvent) {
        // No subscriber is not an error: events are notifications, not a queue.
        let _ = self.sender.send(event);
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<DomainEvent> {
        self.sender.subscribe()
    }
}

/// Keeps every mail sent, for tests and examples.
#[derive(Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Mail>>,
}

impl MemoryMailer {
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.sent
            .lock()
            .map_err(|_| MailError("outbox unavailable".into()))?
            .push(mail.clone());
        Ok(())
    }
}

/// What a shop built without a payment provider has: every payment is refused with
/// `GatewayError::NotConfigured`, so no order is ever marked paid by accident.
#[derive(Default)]
pub struct NoPaymentProvider;

impl NoPaymentProvider {
    /// Its `provider()`.
    pub const NAME: &'static str = "none";
}

#[async_trait]
impl PaymentGateway for NoPaymentProvider {
    fn provider(&self) -> &'static str {
        Self::NAME
    }

    async fn create_intent(
        &self,
        _payment: &Payment,
        _order: &Order,
        _idempotency_key: &str,
    ) -> Result<GatewayIntent, GatewayError> {
        Err(GatewayError::NotConfigured)
    }

    async fn confirm(&self, _payment: &Payment) -> Result<PaymentStatus, GatewayError> {
        Err(GatewayError::NotConfigured)
    }

    async fn refund(
        &self,
        _payment: &Payment,
        _amount: Money,
        _idempotency_key: &str,
    ) -> Result<String, GatewayError> {
        Err(GatewayError::NotConfigured)
    }

    async fn create_checkout_session(
        &self,
        _payment: &Payment,
        _order: &Order,
        _idempotency_key: &str,
    ) -> Result<HostedCheckout, GatewayError> {
        Err(GatewayError::NotConfigured)
    }
}

/// The built-in test payment provider: payments are created with a `test_pi_` reference and
/// succeed when confirmed, so a shop runs end to end with no provider account. An amount
/// ending in .13 (13 minor units for zero-decimal currencies) is declined on confirm, to
/// exercise the failure path.
#[derive(Default)]
pub struct TestPaymentGateway;

#[async_trait]
impl PaymentGateway for TestPaymentGateway {
    fn provider(&self) -> &'static str {
        "test"
    }

    async fn create_intent(
        &self,
        payment: &Payment,
        _order: &Order,
        _idempotency_key: &str,
    ) -> Result<GatewayIntent, GatewayError> {
        let reference = format!("test_pi_{}", payment.id.as_uuid().simple());
        Ok(GatewayIntent {
            client_secret: Some(format!("{reference}_secret")),
            provider_reference: reference,
            status: PaymentStatus::RequiresPayment,
        })
    }

    async fn confirm(&self, payment: &Payment) -> Result<PaymentStatus, GatewayError> {
        let declined = payment.amount.minor_units().is_ok_and(|m| m % 100 == 13);
        Ok(if declined {
            PaymentStatus::Failed
        } else {
            PaymentStatus::Succeeded
        })
    }

    async fn refund(
        &self,
        _payment: &Payment,
        _amount: Money,
        idempotency_key: &str,
    ) -> Result<String, GatewayError> {
        // One reference per key, as a real provider answers a retried refund.
        Ok(format!("test_re_{}", idempotency_key.replace('-', "")))
    }
}

/// Images kept in memory, served under `/images/<key>`.
#[derive(Default)]
pub struct MemoryImageStore {
    images: Mutex<HashMap<String, (String, Vec<u8>)>>,
}

#[async_trait]
impl ImageStore for MemoryImageStore {
    async fn put(
        &self,
        key: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, ImageError> {
        self.images
            .lock()
            .map_err(|_| ImageError("image store unavailable".into()))?
            .insert(key.to_string(), (content_type.to_string(), bytes));
        Ok(format!("/images/{key}"))
    }

    async fn get(&self, key: &str) -> Result<Option<(String, Vec<u8>)>, ImageError> {
        Ok(self
            .images
            .lock()
            .map_err(|_| ImageError("image store unavailable".into()))?
            .get(key)
            .cloned())
    }

    async fn delete(&self, key: &str) -> Result<(), ImageError> {
        self.images
            .lock()
            .map_err(|_| ImageError("image store unavailable".into()))?
            .remove(key);
        Ok(())
    }
}

/// A clock tests can set and advance.
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    pub fn advance(&self, by: Duration) {
        if let Ok(mut now) = self.now.lock() {
            *now += by;
        }
    }

    pub fn set(&self, to: DateTime<Utc>) {
        if let Ok(mut now) = self.now.lock() {
            *now = to;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.now.lock().map(|n| *n).unwrap_or_else(|_| Utc::now())
    }
}

/// Ids counting up from 1, for reproducible tests and examples.
#[derive(Default)]
pub struct SequentialIds {
    next: AtomicU64,
}

impl IdGenerator for SequentialIds {
    fn new_id(&self) -> Uuid {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        Uuid::from_u128(u128::from(n))
    }

    fn random_u64(&self) -> u64 {
        // Spread the counter so consecutive order numbers do not look sequential.
        (self.next.fetch_add(1, Ordering::Relaxed) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

/// Opaque access tokens remembered in memory: for a single-process embedder or tests (the
/// HTTP server signs JWTs instead, so that several nodes can verify them).
pub struct MemoryTokenIssuer {
    lifetime: Duration,
    issued: Mutex<HashMap<String, AccessClaims>>,
}

impl MemoryTokenIssuer {
    pub fn new(lifetime: Duration) -> Self {
        Self {
            lifetime,
            issued: Mutex::new(HashMap::new()),
        }
    }
}

impl Default for MemoryTokenIssuer {
    fn default() -> Self {
        Self::new(Duration::minutes(15))
    }
}

impl TokenIssuer for MemoryTokenIssuer {
    fn issue(&self, user: &User, now: DateTime<Utc>) -> Result<(String, AccessClaims), TokenError> {
        let token =
            crate::account::random_token().map_err(|e| TokenError::Issuer(e.to_string()))?;
        let claims = AccessClaims {
            user_id: user.id,
            role: user.role,
            token_version: user.token_version,
            expires_at: now + self.lifetime,
        };
        let mut issued = self
            .issued
            .lock()
            .map_err(|_| TokenError::Issuer("issuer unavailable".into()))?;
        issued.retain(|_, c| c.expires_at > now);
        issued.insert(token.clone(), claims.clone());
        Ok((token, claims))
    }

    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        let issued = self
            .issued
            .lock()
            .map_err(|_| TokenError::Issuer("issuer unavailable".into()))?;
        let claims = issued.get(token).ok_or(TokenError::Invalid)?;
        if claims.expires_at <= now {
            return Err(TokenError::Expired);
        }
        Ok(claims.clone())
    }
}
