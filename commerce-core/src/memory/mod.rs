//! In-memory adapters for every port: for embedding without a database, for examples, and
//! for tests. The storage keeps all aggregates behind one lock, so every port call is atomic
//! (`place_order` included) and correct under any concurrency; the lock is never held across
//! an await.
//!
//! - [`MemoryStore`] (here: the state and its lock), its ports one module each: `catalog`
//!   (products, categories, reviews), `carts`, `orders`, `payments`, `accounts` (users,
//!   addresses, tokens, failed sign-ins), `promotions`, `settings` (tax rates, shipping),
//!   `requests` (idempotency keys, client rates), `webhooks` (endpoints, deliveries, the
//!   outbox), `stock_alerts`, `audit` (the audit log), `wishlists`, `social` (sign-in flows, provider identities).
//! - The other ports: [`MemoryEventBus`] (`events`), [`MemoryMailer`] (`mail`),
//!   [`NoPaymentProvider`] and [`TestPaymentGateway`] (`payment_providers`),
//!   [`MemoryImageStore`] (`images`), [`ManualClock`] and [`SequentialIds`] (`clock`),
//!   [`MemoryTokenIssuer`] (`access_tokens`), [`RecordingWebhookSender`] (`webhook_sender`).

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
use crate::outbox::ChangeRecord;
use crate::payment::{Payment, PaymentStatus};
use crate::ports::*;
use crate::promotion::Promotion;
use crate::shipping::ShippingMethod;
use crate::tax::TaxRate;

mod access_tokens;
mod accounts;
mod audit;
mod carts;
mod catalog;
mod clock;
mod events;
mod images;
mod mail;
mod orders;
mod payment_providers;
mod payments;
mod promotions;
mod requests;
mod settings;
mod social;
mod stock_alerts;
mod webhook_sender;
mod webhooks;
mod wishlists;

pub use access_tokens::MemoryTokenIssuer;
pub use clock::{ManualClock, SequentialIds};
pub use events::MemoryEventBus;
pub use images::MemoryImageStore;
pub use mail::MemoryMailer;
pub use payment_providers::{NoPaymentProvider, TestPaymentGateway};
pub use webhook_sender::RecordingWebhookSender;

/// When a sign-in failed, and the attempt that may take it back.
type LoginFailure = (DateTime<Utc>, Option<LoginAttemptId>);

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
    /// Events told by writes, in commit order.
    outbox: Vec<webhooks::OutboxEntry>,
    webhook_endpoints: HashMap<WebhookEndpointId, webhooks::KeptEndpoint>,
    /// Oldest first.
    webhook_deliveries: Vec<webhooks::KeptDelivery>,
    /// Back-in-stock alerts, oldest first, each with when its mail went.
    stock_alerts: Vec<(crate::stock_alert::StockAlert, Option<DateTime<Utc>>)>,
    /// The audit log, oldest first: an entry's place (from 1) is its cursor.
    audit_log: Vec<crate::audit::AuditEntry>,
    /// Each customer's wishlist, in the order its entries were added.
    wishlists: HashMap<UserId, Vec<crate::wishlist::WishlistEntry>>,
    /// Social sign-ins under way, by state hash.
    sign_in_flows: HashMap<String, crate::social::SignInFlow>,
    /// Provider identities linked to accounts, oldest first.
    identities: Vec<crate::social::ProviderIdentity>,
}

type KeyRecord = (String, DateTime<Utc>, Option<KeptResponse>);

/// Every storage port, in memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
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
