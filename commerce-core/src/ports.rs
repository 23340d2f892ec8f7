//! Ports: the traits adapters implement. Storage has one port per aggregate plus the atomic
//! `place_order`; the rest are the payment provider, mail, password hashing, access tokens,
//! events, images, the clock and ids. All are object safe (`Arc<dyn Port>`), so a server picks
//! SQLite or PostgreSQL at run time, and each has a mockall mock behind feature `mocks`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::{OneTimeToken, RefreshToken, Role, SavedAddress, TokenPurpose, User};
use crate::cart::Cart;
use crate::catalog::{Category, Product, ProductStatus, Review};
use crate::events::DomainEvent;
use crate::ids::*;
pub use crate::inventory::StockMovement;
use crate::money::Money;
use crate::order::{Order, OrderStatus};
use crate::payment::{Payment, PaymentStatus, ProviderEvent};
use crate::promotion::Promotion;
use crate::shipping::ShippingMethod;
use crate::tax::{TaxPolicy, TaxRate};

/// What went wrong in a storage adapter, in terms a service can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    /// The stored version is not the one the write expected (optimistic concurrency).
    #[error("the record was changed by someone else")]
    VersionConflict,
    /// A write would break a rule that two records cannot share a value.
    #[error("{} is already taken", .0.field())]
    Duplicate(UniqueRule),
    /// A write refers to a record that does not exist (a foreign key).
    #[error("{} refers to something that does not exist", .0.field())]
    MissingReference(Reference),
    /// A page cursor this storage did not hand out (or from another listing).
    #[error("the cursor is not one this listing gave")]
    InvalidCursor,
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
}

/// The rules by which two stored records cannot share a value. Each adapter maps its own
/// constraints onto these in one table (PostgreSQL by constraint name, SQLite by table and
/// columns), and the conformance kit checks that each is reported as exactly this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UniqueRule {
    /// A record's id is already used (a bug or a replayed insert, never the customer's doing).
    RecordId,
    /// Two products cannot share a slug.
    ProductSlug,
    /// Two categories cannot share a slug.
    CategorySlug,
    /// Two variants of one product cannot share a SKU, whatever its case.
    VariantSku,
    /// One review per customer and product.
    OneReviewPerCustomer,
    /// Two accounts cannot share an email.
    UserEmail,
    /// One cart per signed-in customer.
    OneCartPerCustomer,
    /// Two guest carts cannot share a token.
    GuestCartToken,
    /// Two orders cannot share a number.
    OrderNumber,
    /// A provider's payment is recorded once (provider and its reference).
    PaymentReference,
    /// Two discount codes cannot be the same.
    PromotionCode,
    /// One tax rate per country and region.
    TaxRateRegion,
}

impl UniqueRule {
    /// Every rule, for adapters' tests that check each of their constraints maps to one.
    pub const ALL: [UniqueRule; 12] = [
        UniqueRule::RecordId,
        UniqueRule::ProductSlug,
        UniqueRule::CategorySlug,
        UniqueRule::VariantSku,
        UniqueRule::OneReviewPerCustomer,
        UniqueRule::UserEmail,
        UniqueRule::OneCartPerCustomer,
        UniqueRule::GuestCartToken,
        UniqueRule::OrderNumber,
        UniqueRule::PaymentReference,
        UniqueRule::PromotionCode,
        UniqueRule::TaxRateRegion,
    ];

    /// The field a client sent that the rule is about, in the words error messages use.
    pub fn field(self) -> &'static str {
        match self {
            UniqueRule::RecordId => "id",
            UniqueRule::ProductSlug | UniqueRule::CategorySlug => "slug",
            UniqueRule::VariantSku => "sku",
            UniqueRule::OneReviewPerCustomer => "review",
            UniqueRule::UserEmail => "email",
            UniqueRule::OneCartPerCustomer => "customer cart",
            UniqueRule::GuestCartToken => "guest_token_hash",
            UniqueRule::OrderNumber => "number",
            UniqueRule::PaymentReference => "provider_reference",
            UniqueRule::PromotionCode => "code",
            UniqueRule::TaxRateRegion => "country and region",
        }
    }
}

/// The references a stored record makes to another (foreign keys). SQLite does not say which
/// key failed, so its adapter knows them by the table written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reference {
    /// A product's category.
    Category,
    /// A category's parent.
    ParentCategory,
    /// The product a review or variant belongs to.
    Product,
    /// The account an address or token belongs to.
    User,
    /// The order a payment or order line belongs to.
    Order,
    /// A promotion an order counts a use of.
    Promotion,
}

impl Reference {
    /// The field that holds the reference, as validation errors name it.
    pub fn field(self) -> &'static str {
        match self {
            Reference::Category => "category_id",
            Reference::ParentCategory => "parent_id",
            Reference::Product => "product_id",
            Reference::User => "user_id",
            Reference::Order => "order_id",
            Reference::Promotion => "promotion",
        }
    }
}

/// A page request: `limit` items after the opaque `cursor` of the previous page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PageRequest {
    pub limit: u32,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 20;
    pub const MAX_LIMIT: u32 = 100;

    pub fn first(limit: u32) -> Self {
        Self {
            limit,
            cursor: None,
        }
    }

    /// The limit clamped to 1..=100 (0 means the default).
    pub fn effective_limit(&self) -> usize {
        match self.limit {
            0 => Self::DEFAULT_LIMIT as usize,
            n => n.min(Self::MAX_LIMIT) as usize,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductSort {
    #[default]
    Newest,
    PriceAsc,
    PriceDesc,
    Rating,
    Name,
    /// Full-text relevance; only with `text`.
    Relevance,
}

/// A product listing: every filter is optional and they combine with AND.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProductQuery {
    /// Any of these categories (the service expands a category to its descendants).
    pub category_ids: Option<Vec<CategoryId>>,
    pub min_price: Option<Decimal>,
    pub max_price: Option<Decimal>,
    pub in_stock: bool,
    pub vendor_id: Option<UserId>,
    /// Full-text words over name and description.
    pub text: Option<String>,
    /// Empty means any status.
    pub statuses: Vec<ProductStatus>,
    pub sort: ProductSort,
    pub page: PageRequest,
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ProductStore: Send + Sync {
    /// `Duplicate(ProductSlug)` when the slug is taken, `Duplicate(VariantSku)` when two
    /// variants share a SKU, `MissingReference(Category)` when the category does not exist.
    async fn insert_product(&self, product: &Product) -> Result<(), StorageError>;
    /// Writes `product` if the stored version is still `product.version`, storing it with the
    /// version bumped by one; returns what was stored. `VersionConflict` otherwise. Every
    /// stock movement (`place_order`, `update_order`) also bumps the version of the products
    /// it touches, so a write based on an older stock count is refused, never lost.
    async fn update_product(&self, product: &Product) -> Result<Product, StorageError>;
    async fn delete_product(&self, id: ProductId) -> Result<(), StorageError>;
    async fn product(&self, id: ProductId) -> Result<Option<Product>, StorageError>;
    /// The products that exist among `ids`, in any order.
    async fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, StorageError>;
    async fn list_products(&self, query: &ProductQuery) -> Result<Page<Product>, StorageError>;
    /// Products whose available stock is at or below their threshold, lowest first.
    async fn low_stock(&self, limit: u32) -> Result<Vec<Product>, StorageError>;
    /// A number that changes whenever anything the public catalog shows changes: a product
    /// or variant (stock, rating and images included) or a category. A change written
    /// through this store moves it before the next call returns; one written by another
    /// process sharing the database, within a short delay the adapter states. What is built
    /// from catalog reads may be kept while it stays the same (the HTTP layer keeps encoded
    /// listings under it). `None` when the store cannot tell, and then nothing may be kept.
    async fn catalog_generation(&self) -> Result<Option<u64>, StorageError> {
        Ok(None)
    }
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait CategoryStore: Send + Sync {
    async fn categories(&self) -> Result<Vec<Category>, StorageError>;
    async fn insert_category(&self, category: &Category) -> Result<(), StorageError>;
    async fn update_category(&self, category: &Category) -> Result<(), StorageError>;
    /// Its children move up to its parent; its products keep no category.
    async fn delete_category(&self, id: CategoryId) -> Result<(), StorageError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// Stores the review and refreshes the product's rating from its approved reviews.
    async fn insert_review(&self, review: &Review) -> Result<(), StorageError>;
    async fn update_review(&self, review: &Review) -> Result<(), StorageError>;
    async fn review(&self, id: ReviewId) -> Result<Option<Review>, StorageError>;
    /// Approved reviews, newest first.
    async fn reviews(
        &self,
        product_id: ProductId,
        page: &PageRequest,
    ) -> Result<Page<Review>, StorageError>;
    async fn has_reviewed(
        &self,
        product_id: ProductId,
        user_id: UserId,
    ) -> Result<bool, StorageError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait CartStore: Send + Sync {
    async fn insert_cart(&self, cart: &Cart) -> Result<(), StorageError>;
    /// Optimistic like `update_product`.
    async fn update_cart(&self, cart: &Cart) -> Result<Cart, StorageError>;
    async fn delete_cart(&self, id: CartId) -> Result<(), StorageError>;
    async fn cart(&self, id: CartId) -> Result<Option<Cart>, StorageError>;
    async fn cart_by_token(&self, token_hash: &str) -> Result<Option<Cart>, StorageError>;
    async fn cart_of_customer(&self, user_id: UserId) -> Result<Option<Cart>, StorageError>;
    /// Deletes guest carts (no customer) last changed before `untouched_before`; returns how
    /// many. Customers' carts are kept.
    async fn purge_guest_carts(&self, untouched_before: DateTime<Utc>)
        -> Result<u64, StorageError>;
}

/// Everything `place_order` writes, all or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub order: Order,
    /// Counted against each promotion's total and per-customer limits.
    pub promotion_ids: Vec<PromotionId>,
    /// The user id, or the guest's email, for per-customer limits.
    pub customer_key: String,
    /// The cart checked out, emptied in the same transaction if still at this version.
    pub cart: Option<(CartId, u64)>,
}

/// What a status change does beside the order, in the same transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderEffects {
    pub stock: StockMovement,
    /// The order will not be paid for (cancelled): its promotion uses are given back.
    pub give_back_promotion_uses: bool,
}

impl From<StockMovement> for OrderEffects {
    fn from(stock: StockMovement) -> Self {
        Self {
            stock,
            give_back_promotion_uses: false,
        }
    }
}

/// Why `place_order` wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceOrderError {
    #[error("only {available} of product {product_id} left")]
    OutOfStock {
        product_id: ProductId,
        variant_id: Option<VariantId>,
        available: u32,
    },
    #[error("product {0} is not for sale")]
    Unavailable(ProductId),
    #[error("promotion {0} reached its usage limit")]
    UsageExhausted(PromotionId),
    #[error("promotion {0} reached its per-customer limit")]
    CustomerLimitReached(PromotionId),
    #[error("the cart changed during checkout")]
    CartChanged,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Stock left after a reservation, for low-stock events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub available: u32,
    pub threshold: u32,
}

impl StockLevel {
    /// At or below the threshold: time to restock (the rule of `Product::is_low_on_stock`).
    pub fn is_low(&self) -> bool {
        self.available <= self.threshold
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrderFilter {
    pub user_id: Option<UserId>,
    pub status: Option<OrderStatus>,
    pub page: PageRequest,
}

/// A day of sales, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailySales {
    pub day: NaiveDate,
    pub orders: u32,
    pub revenue: Money,
}

impl DailySales {
    /// Days in order from rows of `(day, orders, revenue)` (one per order, or already summed
    /// per day), for stores that sum in SQL or not. Revenue of one day in two currencies is
    /// an error: a shop sells in one.
    pub fn tally(
        rows: impl IntoIterator<Item = (NaiveDate, u32, Money)>,
    ) -> Result<Vec<DailySales>, crate::money::MoneyError> {
        let mut days: std::collections::BTreeMap<NaiveDate, DailySales> = Default::default();
        for (day, orders, revenue) in rows {
            match days.get_mut(&day) {
                Some(d) => {
                    d.orders += orders;
                    d.revenue = d.revenue.checked_add(&revenue)?;
                }
                None => {
                    days.insert(
                        day,
                        DailySales {
                            day,
                            orders,
                            revenue,
                        },
                    );
                }
            }
        }
        Ok(days.into_values().collect())
    }
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// In one transaction: checks each line's product is active and reserves its units
    /// (available never below zero), counts each promotion's use within its limits, writes the
    /// order, and empties the cart. Any failure writes nothing.
    async fn place_order(&self, new: &NewOrder) -> Result<Vec<StockLevel>, PlaceOrderError>;
    /// Writes a status change if the stored version is still `order.version` (stored with
    /// the version bumped; else `VersionConflict` and nothing written), and in the same
    /// transaction does its `effects`: moves the order's reserved units (`Release` makes them
    /// available again, `Commit` lets them go) and, when asked, gives back the order's
    /// promotion uses (each of `order.applied_promotions` one use fewer in total, and one
    /// fewer for its customer: the user id, or a guest's email).
    async fn update_order(
        &self,
        order: &Order,
        effects: OrderEffects,
    ) -> Result<Order, StorageError>;
    /// Pending orders placed before `placed_before`, oldest first, at most `limit`: those the
    /// shop's unpaid-order timeout has run out on.
    async fn unpaid_orders(
        &self,
        placed_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Order>, StorageError>;
    /// Brings back an order that expired unpaid and was paid after all (`order` as it is to be
    /// stored, status `paid`), in one transaction: if the stored version is still
    /// `order.version`, reserves each line's units again (never past zero: `OutOfStock` for
    /// the first line short, and nothing written), counts its promotion uses again (without
    /// their limits: the customer paid the discounted price), and writes the order with the
    /// version bumped.
    async fn reinstate_order(&self, order: &Order) -> Result<Order, PlaceOrderError>;
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StorageError>;
    /// Newest first.
    async fn list_orders(&self, filter: &OrderFilter) -> Result<Page<Order>, StorageError>;
    /// Whether the user has a paid order containing the product (paid, processing, shipped
    /// or delivered: not pending, cancelled or refunded), which lets them review it.
    async fn has_bought(
        &self,
        user_id: UserId,
        product_id: ProductId,
    ) -> Result<bool, StorageError>;
    /// Orders per status.
    async fn count_by_status(&self) -> Result<Vec<(OrderStatus, u64)>, StorageError>;
    /// Paid-or-later orders per day in `[from, to]` (UTC days).
    async fn daily_sales(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailySales>, StorageError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PaymentStore: Send + Sync {
    async fn insert_payment(&self, payment: &Payment) -> Result<(), StorageError>;
    async fn update_payment(&self, payment: &Payment) -> Result<(), StorageError>;
    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StorageError>;
    async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>, StorageError>;
    async fn payments_of_order(&self, order_id: OrderId) -> Result<Vec<Payment>, StorageError>;
    /// Records a provider event id; `false` when it was seen before (do not apply it again).
    async fn record_provider_event(
        &self,
        provider: &str,
        event_id: &str,
    ) -> Result<bool, StorageError>;
    /// Forgets a recorded event id whose applying failed, so the provider's retry applies it.
    async fn forget_provider_event(
        &self,
        provider: &str,
        event_id: &str,
    ) -> Result<(), StorageError>;
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserFilter {
    pub role: Option<Role>,
    /// Matches email or name.
    pub text: Option<String>,
    pub page: PageRequest,
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait UserStore: Send + Sync {
    /// `Duplicate(UserEmail)` when the email is taken.
    async fn insert_user(&self, user: &User) -> Result<(), StorageError>;
    async fn update_user(&self, user: &User) -> Result<(), StorageError>;
    async fn user(&self, id: UserId) -> Result<Option<User>, StorageError>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError>;
    async fn list_users(&self, filter: &UserFilter) -> Result<Page<User>, StorageError>;

    async fn addresses(&self, user_id: UserId) -> Result<Vec<SavedAddress>, StorageError>;
    /// With `is_default`, the user's other addresses stop being default.
    async fn save_address(&self, address: &SavedAddress) -> Result<(), StorageError>;
    async fn delete_address(&self, user_id: UserId, id: AddressId) -> Result<(), StorageError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn insert_one_time(&self, token: &OneTimeToken) -> Result<(), StorageError>;
    /// Marks an unused, unexpired token of that purpose used and returns it; `None` when
    /// there is none (unknown, expired or already used). Atomic: a token works once.
    async fn use_one_time(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<OneTimeToken>, StorageError>;
    async fn insert_refresh(&self, token: &RefreshToken) -> Result<(), StorageError>;
    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>, StorageError>;
    /// Revokes the token if it is still active; `false` when it was already revoked (a
    /// reuse) or unknown. Atomic, so two concurrent rotations cannot both succeed.
    async fn revoke_refresh(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
    async fn revoke_family(
        &self,
        family_id: TokenFamilyId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
    async fn revoke_all_of_user(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PromotionStore: Send + Sync {
    /// `Duplicate(PromotionCode)` when the code is taken.
    async fn insert_promotion(&self, promotion: &Promotion) -> Result<(), StorageError>;
    async fn update_promotion(&self, promotion: &Promotion) -> Result<(), StorageError>;
    async fn delete_promotion(&self, id: PromotionId) -> Result<(), StorageError>;
    async fn promotion(&self, id: PromotionId) -> Result<Option<Promotion>, StorageError>;
    async fn list_promotions(&self, page: &PageRequest) -> Result<Page<Promotion>, StorageError>;
    /// What pricing needs: every automatic promotion and those with one of `codes`
    /// (upper-case), active or not (the engine reports why a code does not apply).
    async fn promotions_for_pricing(
        &self,
        codes: &[String],
    ) -> Result<Vec<Promotion>, StorageError>;
    /// How often `customer_key` used each of `ids` in orders.
    async fn customer_uses(
        &self,
        customer_key: &str,
        ids: &[PromotionId],
    ) -> Result<Vec<(PromotionId, u32)>, StorageError>;
}

/// The shop's own settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreSettings {
    pub name: String,
    pub currency: crate::money::Currency,
    pub tax: TaxPolicy,
    pub rounding: crate::money::Rounding,
    /// The seller's address, shown on invoices.
    #[serde(default)]
    pub address: Option<crate::account::Address>,
}

impl Default for StoreSettings {
    /// A new shop: USD, prices excluding tax, per-line rounding, untaxed shipping.
    fn default() -> Self {
        Self {
            name: "Commerce".to_string(),
            currency: crate::money::Currency::USD,
            tax: TaxPolicy::default(),
            rounding: crate::money::Rounding::HalfEven,
            address: None,
        }
    }
}

/// A response kept for an idempotency key, replayed to a retry of the same request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptResponse {
    pub status: u16,
    /// The headers a client needs again (content type, location, ETag, ...).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key was free (or its record had expired): the caller runs the request.
    Claimed,
    /// A live record: the request it was claimed for (its fingerprint) and, once that
    /// request finished, its response.
    Existing {
        fingerprint: String,
        response: Option<KeptResponse>,
    },
}

/// Idempotency keys (`Idempotency-Key`), scoped to a caller and an endpoint.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Atomically claims `(scope, key)` for a request with `fingerprint`, unless a live
    /// record holds it. A record is dead when created before `expired_before`, or when it
    /// never completed and was created before `abandoned_before` (its request died).
    async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        expired_before: DateTime<Utc>,
        abandoned_before: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StorageError>;

    /// Keeps the response of a claimed key.
    async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        response: &KeptResponse,
    ) -> Result<(), StorageError>;

    /// Frees a claimed key whose request failed in a way worth retrying.
    async fn release_idempotency_key(&self, scope: &str, key: &str) -> Result<(), StorageError>;

    /// Deletes records created before `before`; returns how many.
    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StorageError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// `None` until the shop's settings are first saved.
    async fn store_settings(&self) -> Result<Option<StoreSettings>, StorageError>;
    async fn save_store_settings(&self, settings: &StoreSettings) -> Result<(), StorageError>;
    async fn tax_rates(&self) -> Result<Vec<TaxRate>, StorageError>;
    async fn save_tax_rate(&self, rate: &TaxRate) -> Result<(), StorageError>;
    async fn delete_tax_rate(&self, id: TaxRateId) -> Result<(), StorageError>;
    async fn shipping_methods(&self) -> Result<Vec<ShippingMethod>, StorageError>;
    async fn save_shipping_method(&self, method: &ShippingMethod) -> Result<(), StorageError>;
    async fn delete_shipping_method(&self, id: ShippingMethodId) -> Result<(), StorageError>;
    /// A number that changes whenever the shop's settings, tax rates or shipping methods
    /// change, through any process sharing the storage; the engine keeps the settings in
    /// memory while it stays the same. `None` when the store cannot tell: then the engine
    /// keeps them for `EngineConfig::settings_ttl` only.
    async fn settings_generation(&self) -> Result<Option<u64>, StorageError> {
        Ok(None)
    }
}

/// Failed sign-ins, kept where every server process sharing the storage counts them, so a
/// limit on them holds however many processes serve the shop.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait LoginAttemptStore: Send + Sync {
    /// Counts a sign-in attempt as a failure under each of `keys` (an email, an email from one
    /// client, a client address), in one atomic step with the check of each key's limit: when
    /// some key already holds its `limit` of failures after `since`, nothing is recorded and
    /// the answer is the time of the oldest of those (the key frees when it leaves the
    /// window; of several such keys, the latest). `None`: counted, the password may be
    /// checked. Parallel attempts, from this process or others sharing the storage, never
    /// pass a limit together.
    async fn begin_login_attempt(
        &self,
        attempt: LoginAttemptId,
        keys: &[(String, u32)],
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StorageError>;
    /// Takes an attempt's failures back: its password was right.
    async fn forget_login_attempt(&self, attempt: LoginAttemptId) -> Result<(), StorageError>;
    /// Forgets failures before `before`; returns how many.
    async fn purge_login_failures(&self, before: DateTime<Utc>) -> Result<u64, StorageError>;
}

/// Request rates per client (an address), kept where every server process sharing the
/// storage adds to them, so a rate limit holds across processes. Each client has a shared
/// "theoretical arrival time" (GCRA): the moment its requests so far would have been spread
/// out at the allowed rate.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ClientRateStore: Send + Sync {
    /// Adds `count` requests per client, each worth `interval` (one over the rate), to its
    /// time (starting from `now` if it lies in the past), atomically, and returns each
    /// client's new time.
    async fn add_client_requests(
        &self,
        requests: &[(String, u32)],
        interval: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StorageError>;
    /// Forgets clients whose time is before `before`; returns how many.
    async fn purge_client_rates(&self, before: DateTime<Utc>) -> Result<u64, StorageError>;
}

/// What a payment provider said about a new payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayIntent {
    pub provider_reference: String,
    pub client_secret: Option<String>,
    pub status: PaymentStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The provider refused (card declined, amount invalid...). Shown to the customer.
    #[error("the payment provider declined: {0}")]
    Declined(String),
    /// The provider could not be reached or failed; safe to retry.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider cannot take the request as it is (an amount its rules cannot express, a
    /// parameter it refuses): not the customer's doing, and a retry will not help.
    #[error("the payment provider refused the request: {0}")]
    Invalid(String),
    /// This provider has no such thing (a hosted checkout page).
    #[error("the payment provider does not offer this")]
    NotOffered,
    /// The shop was built without a payment provider.
    #[error("no payment provider is set up")]
    NotConfigured,
}

/// A payment page hosted by the provider (Stripe Checkout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostedCheckout {
    /// The provider's id of the session (`cs_...`).
    pub provider_reference: String,
    /// Where to send the customer to pay.
    pub url: String,
}

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Missing, malformed, wrong or too old: not from the provider, or replayed.
    #[error("the webhook signature is not valid: {0}")]
    BadSignature(String),
    /// Signed, but not an event the adapter can read.
    #[error("the webhook cannot be read: {0}")]
    Malformed(String),
    /// This provider sends no webhooks.
    #[error("this payment provider sends no webhooks")]
    NotOffered,
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// `test` or `stripe`: stored on each payment.
    fn provider(&self) -> &'static str;
    /// Creates the provider's payment for exactly `payment.amount`, for `order` (its number
    /// and lines, for the provider's records); `idempotency_key` makes a retried call return
    /// the same provider payment.
    async fn create_intent(
        &self,
        payment: &Payment,
        order: &Order,
        idempotency_key: &str,
    ) -> Result<GatewayIntent, GatewayError>;
    /// The payment's status now, as the provider has it (the built-in test provider confirms
    /// here; card providers are confirmed by the client and only asked).
    async fn confirm(&self, payment: &Payment) -> Result<PaymentStatus, GatewayError>;
    /// Refunds `amount`; returns the provider's refund id.
    async fn refund(
        &self,
        payment: &Payment,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<String, GatewayError>;
    /// Cancels a payment nothing was captured of, so that it can no longer be paid.
    async fn cancel(&self, _payment: &Payment) -> Result<(), GatewayError> {
        Ok(())
    }
    /// A payment page hosted by the provider for `order`, for exactly `payment.amount`;
    /// `NotOffered` from providers without one.
    async fn create_checkout_session(
        &self,
        _payment: &Payment,
        _order: &Order,
        _idempotency_key: &str,
    ) -> Result<HostedCheckout, GatewayError> {
        Err(GatewayError::NotOffered)
    }
    /// Verifies a webhook the provider sent (`signature` is its signature header, `body` the
    /// raw bytes, checked before anything is parsed) and reads it. `Ok(None)` for a genuine
    /// event the shop does not act on.
    fn read_webhook(
        &self,
        _signature: Option<String>,
        _body: &[u8],
        _now: DateTime<Utc>,
    ) -> Result<Option<ProviderEvent>, WebhookError> {
        Err(WebhookError::NotOffered)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The same message as HTML, sent beside the text (multipart/alternative) when present.
    pub html: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mail could not be sent: {0}")]
pub struct MailError(pub String);

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(pub String);

/// Password hashing; slow on purpose, so services call it off the async workers.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait PasswordHasher: Send + Sync {
    fn hash(&self, password: &str) -> Result<String, HashError>;
    /// `false` for a wrong password; an error only for a malformed stored hash.
    fn verify(&self, password: &str, hash: &str) -> Result<bool, HashError>;
}

/// What an access token asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub user_id: UserId,
    pub role: Role,
    pub token_version: u32,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is invalid")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    #[error("tokens cannot be issued: {0}")]
    Issuer(String),
}

#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait TokenIssuer: Send + Sync {
    /// A signed access token for the claims; its lifetime is the issuer's.
    fn issue(&self, user: &User, now: DateTime<Utc>) -> Result<(String, AccessClaims), TokenError>;
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait EventBus: Send + Sync {
    fn publish(&self, event: DomainEvent);
    /// Events published from now on. A slow subscriber may miss events (it is told how many
    /// through the receiver's `Lagged` error) rather than slow the publisher.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<DomainEvent>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("image storage failed: {0}")]
pub struct ImageError(pub String);

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ImageStore: Send + Sync {
    /// Stores bytes under `key`; returns the URL that serves them.
    async fn put(
        &self,
        key: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, ImageError>;
    async fn get(&self, key: &str) -> Result<Option<(String, Vec<u8>)>, ImageError>;
    async fn delete(&self, key: &str) -> Result<(), ImageError>;
}

/// The time. Times are kept to the microsecond (what PostgreSQL stores), so a value read
/// back from any store equals the one written.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait IdGenerator: Send + Sync {
    fn new_id(&self) -> Uuid;
    /// Entropy for order numbers and similar short codes.
    fn random_u64(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        use chrono::SubsecRound;
        Utc::now().trunc_subsecs(6)
    }
}

/// Random v4 ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn new_id(&self) -> Uuid {
        Uuid::new_v4()
    }
    fn random_u64(&self) -> u64 {
        let mut b = [0u8; 8];
        // The OS source failing is not recoverable in any useful way; fall back to the v4 bits.
        if getrandom::fill(&mut b).is_err() {
            b.copy_from_slice(&Uuid::new_v4().as_bytes()[..8]);
        }
        u64::from_le_bytes(b)
    }
}
