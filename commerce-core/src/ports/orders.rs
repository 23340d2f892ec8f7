//! Storage of carts, orders and payments, with the atomic `place_order`.

use super::*;

/// Carts: a customer's (one each) or a guest's (found by its token's hash). Held by the kit's
/// `carts_round_trip_with_versions`, `a_cart_comes_with_its_products` and
/// `guest_carts_untouched_for_long_are_purged`.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait CartStore: Send + Sync {
    /// Stores a new cart as it is (its version as given). `Duplicate(OneCartPerCustomer)`
    /// when the customer has one already (two first writes racing: the loser reads the
    /// winner's), `Duplicate(GuestCartToken)` for a token hash in use, `Duplicate(RecordId)`
    /// for an id in use.
    async fn insert_cart(&self, cart: &Cart) -> Result<(), StorageError>;
    /// Writes `cart` if the stored version is still `cart.version`, storing it with the
    /// version bumped by one; returns what was stored. `VersionConflict` (nothing written)
    /// when it changed meanwhile, `NotFound` when it is gone.
    async fn update_cart(&self, cart: &Cart) -> Result<Cart, StorageError>;
    /// Removes a cart; removing one that is gone is not an error.
    async fn delete_cart(&self, id: CartId) -> Result<(), StorageError>;
    /// The cart, if it exists.
    async fn cart(&self, id: CartId) -> Result<Option<Cart>, StorageError>;
    /// A guest's cart by the SHA-256 of its token (the token itself is never stored).
    async fn cart_by_token(&self, token_hash: &str) -> Result<Option<Cart>, StorageError>;
    /// The customer's cart, if they have one.
    async fn cart_of_customer(&self, user_id: UserId) -> Result<Option<Cart>, StorageError>;
    /// The cart of `owner` with the products a change to it is priced with: every product its
    /// lines name and those in `also` (each once, in no set order; ids of products that do
    /// not exist are left out), as they are now. A store over a network answers in one read;
    /// the default reads the cart alone and answers `products: None`, and the caller reads
    /// the products itself.
    async fn cart_with_products(
        &self,
        owner: &StoredCartOwner,
        also: &[ProductId],
    ) -> Result<CartWithProducts, StorageError> {
        let _ = also;
        let cart = match owner {
            StoredCartOwner::Customer(user) => self.cart_of_customer(*user).await?,
            StoredCartOwner::Guest { token_hash } => self.cart_by_token(token_hash).await?,
        };
        Ok(CartWithProducts {
            cart,
            products: None,
        })
    }
    /// Deletes guest carts (no customer) last changed before `untouched_before`; returns how
    /// many. Customers' carts are kept.
    async fn purge_guest_carts(&self, untouched_before: DateTime<Utc>)
        -> Result<u64, StorageError>;
}

/// Whose cart to read: a customer's, or a guest's by the SHA-256 of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredCartOwner {
    /// The signed-in customer's cart.
    Customer(UserId),
    /// A guest's cart.
    Guest {
        /// The SHA-256 of the guest's token, as [`Cart::guest_token_hash`] keeps it.
        token_hash: String,
    },
}

/// A cart read with its products ([`CartStore::cart_with_products`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CartWithProducts {
    /// The cart, if there is one.
    pub cart: Option<Cart>,
    /// Its lines' products and the ones asked for; `None` when the store did not read them.
    pub products: Option<Vec<Product>>,
}

/// Everything `place_order` writes, all or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The order, `pending`, version 1, its lines naming the units to reserve.
    pub order: Order,
    /// Counted against each promotion's total and per-customer limits.
    pub promotion_ids: Vec<PromotionId>,
    /// The user id, or the guest's email, for per-customer limits.
    pub customer_key: String,
    /// The cart checked out, emptied in the same transaction if still at this version.
    pub cart: Option<(CartId, u64)>,
    /// Written with the order (`order.created`).
    pub record: ChangeRecord,
}

/// What a status change does beside the order, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderEffects {
    /// What happens to the order's reserved units.
    pub stock: StockMovement,
    /// The order will not be paid for (cancelled): its promotion uses are given back.
    pub give_back_promotion_uses: bool,
    /// The events the change tells (`order.status_changed`, `order.paid` ...).
    pub record: ChangeRecord,
}

/// Moves stock and tells nobody (what tests of storage mostly need).
impl From<StockMovement> for OrderEffects {
    fn from(stock: StockMovement) -> Self {
        Self::new(stock, ChangeRecord::none())
    }
}

impl OrderEffects {
    /// Moves `stock`, tells `record`.
    pub fn new(stock: StockMovement, record: ChangeRecord) -> Self {
        Self {
            stock,
            give_back_promotion_uses: false,
            record,
        }
    }
}

/// Why `place_order` wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceOrderError {
    /// The first line (in the order's order) whose units are not all there.
    #[error("only {available} of product {product_id} left")]
    OutOfStock {
        /// The product short of units.
        product_id: ProductId,
        /// Its variant, when the line names one.
        variant_id: Option<VariantId>,
        /// How many are left to sell.
        available: u32,
    },
    /// A line's product is gone or not `active`.
    #[error("product {0} is not for sale")]
    Unavailable(ProductId),
    /// A promotion has no uses left in total.
    #[error("promotion {0} reached its usage limit")]
    UsageExhausted(PromotionId),
    /// A promotion has no uses left for this customer.
    #[error("promotion {0} reached its per-customer limit")]
    CustomerLimitReached(PromotionId),
    /// The cart is no longer at the version checked out (changed in another tab).
    #[error("the cart changed during checkout")]
    CartChanged,
    /// Storage failed; nothing was written.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Stock left after a reservation, for low-stock events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    /// The product.
    pub product_id: ProductId,
    /// The variant, when the units were a variant's.
    pub variant_id: Option<VariantId>,
    /// Units left to sell after the write.
    pub available: u32,
    /// The low-stock threshold that applies (the variant's, else the product's).
    pub threshold: u32,
}

impl StockLevel {
    /// At or below the threshold: time to restock (the rule of `Product::is_low_on_stock`).
    pub fn is_low(&self) -> bool {
        self.available <= self.threshold
    }
}

/// Which orders a listing selects; the filters combine with AND.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrderFilter {
    /// Only this customer's orders.
    pub user_id: Option<UserId>,
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
    /// Exactly this order number (as stored: upper case), for finding an order a customer
    /// quotes.
    #[serde(default)]
    pub number: Option<String>,
    /// Which page, and how long.
    pub page: PageRequest,
}

/// A day of sales, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailySales {
    /// The UTC day.
    pub day: NaiveDate,
    /// Orders placed that day that are paid or later (not pending, cancelled or refunded).
    pub orders: u32,
    /// Their totals, summed.
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

/// Orders, and the one write that must never oversell: `place_order`. Held by the kit's
/// checkout and order cases (`placing_an_order_is_all_or_nothing`,
/// `concurrent_checkouts_of_the_last_units_never_oversell`,
/// `fifty_buyers_of_the_last_ten_units_leave_exactly_ten_orders`,
/// `checkouts_taking_two_products_in_opposite_orders_never_fail`,
/// `cancelling_gives_stock_back_and_versions_are_enforced`,
/// `orders_list_newest_first_and_report_sales`, the expiry cases).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// In one transaction: checks each line's product is active and reserves its units
    /// (available never below zero), counts each promotion's use within its limits, writes the
    /// order, and empties the cart. Any failure writes nothing. Concurrent calls for the last
    /// units must serialise on the stock (a row lock or a guarded `UPDATE`), never both
    /// succeed; two orders taking the same products in opposite orders must not deadlock
    /// into a failure. Returns the stock left on every line touched (for low-stock events),
    /// and moves each touched product's version.
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
    /// version bumped, with `record`.
    async fn reinstate_order(
        &self,
        order: &Order,
        record: &ChangeRecord,
    ) -> Result<Order, PlaceOrderError>;
    /// The order, if it exists.
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StorageError>;
    /// The orders `filter` selects, newest first (ties by id, descending), a page at a time;
    /// a cursor from one page continues it whatever was placed since.
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

/// Payments and the provider events already applied. Held by the kit's
/// `provider_events_are_recorded_once` and `each_unique_rule_and_reference_is_reported_exactly`.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// Stores a new payment. `MissingReference(Order)` for an unknown order,
    /// `Duplicate(PaymentReference)` when the provider's reference is another payment's (of
    /// the same provider), `Duplicate(RecordId)` for an id in use.
    async fn insert_payment(&self, payment: &Payment) -> Result<(), StorageError>;
    /// Overwrites the payment (status, reference, refunds) and writes `record` in the same
    /// transaction. `NotFound` when it is gone; `Duplicate(PaymentReference)` as above.
    async fn update_payment(
        &self,
        payment: &Payment,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// The payment, if it exists.
    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StorageError>;
    /// The payment `provider` knows as `reference` (a webhook's way in).
    async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>, StorageError>;
    /// Every payment of the order, oldest first.
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
