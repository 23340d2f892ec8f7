//! Services: the use cases embedders and the HTTP layer call. Each authorises the caller,
//! validates input (field-level errors), calls the ports and publishes domain events, so that
//! an HTTP handler only translates.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use commerce_core::account::Role;
//! use commerce_core::catalog::NewProduct;
//! use commerce_core::service::{CartOwner, ItemRequest};
//! use commerce_core::{Caller, Commerce, Currency, Money, UserId};
//! use rust_decimal::Decimal;
//!
//! let shop = Commerce::in_memory();
//! let admin = Caller::user(UserId::random(), Role::Admin);
//! let draft = NewProduct {
//!     name: "Linen shirt".into(),
//!     price: Decimal::new(4900, 2),
//!     inventory_count: 10,
//!     ..Default::default()
//! };
//! let product = shop.catalog().create_product(&admin, draft).await?;
//! // A guest's first item creates the cart and hands out its token.
//! let item = ItemRequest { product_id: product.id, variant_id: None, quantity: 2 };
//! let cart = shop.carts().add_item(&CartOwner::Guest(None), item, None).await?;
//! assert_eq!(cart.priced.subtotal, Money::parse("98.00", Currency::USD)?);
//! assert!(cart.new_guest_token.is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod accounts;
mod admin;
mod audit;
mod carts;
mod catalog;
mod checkout;
mod kept;
mod notices;
mod orders;
mod payments;
mod social;
mod sweeper;
mod watch;
mod webhooks;
mod wishlists;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use accounts::{Accounts, Session};
pub use admin::{Admin, Dashboard, StoreChanges};
pub use audit::AuditLog;
pub use carts::{CartOwner, CartView, Carts, Checkout, CheckoutRequest, Delivery, ItemRequest};
pub use catalog::{image_type, Catalog, ProductListing, MAX_IMAGE_BYTES};
pub use orders::{DirectOrder, Orders};
pub use payments::{HostedPayment, Payments, ProviderEvent, ProviderEventKind, WebhookOutcome};
pub use social::{SocialSignIn, StartedSignIn};
pub use sweeper::Swept;
pub use watch::{OrderStatusUpdate, OrderWatch};
pub use webhooks::{EndpointWithSecret, Relayed, WebhookRelayConfig, Webhooks};
pub use wishlists::Wishlists;

use crate::account::Role;
use crate::cart::CartError;
use crate::ids::UserId;
use crate::memory::{
    MemoryEventBus, MemoryImageStore, MemoryMailer, MemoryStore, NoPaymentProvider,
    TestPaymentGateway,
};
use crate::order::InvalidTransition;
use crate::passwords::Argon2Hasher;
use crate::ports::*;
use crate::pricing::{PricingError, RejectionReason};
use crate::validation::ValidationErrors;

/// Who is calling. Services authorise by role and ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Nobody signed in: a guest (who may browse, keep a cart and check out with an email).
    Anonymous,
    /// A signed-in user, with the role their access token carries.
    User {
        /// Who.
        id: UserId,
        /// Their role.
        role: Role,
    },
}

impl Caller {
    /// A signed-in user (what an HTTP layer makes from a verified access token).
    pub fn user(id: UserId, role: Role) -> Caller {
        Caller::User { id, role }
    }

    /// The user's id; `None` for a guest.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Caller::User { id, .. } => Some(*id),
            Caller::Anonymous => None,
        }
    }

    /// Whether the caller is an admin (not a manager: see `runs_the_shop`).
    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Caller::User {
                role: Role::Admin,
                ..
            }
        )
    }

    /// The signed-in user, or `Unauthenticated`.
    pub fn require_user(&self) -> Result<(UserId, Role), CommerceError> {
        match self {
            Caller::User { id, role } => Ok((*id, *role)),
            Caller::Anonymous => Err(CommerceError::Unauthenticated),
        }
    }

    /// An admin's id; otherwise `Forbidden` (`Unauthenticated` for nobody).
    pub fn require_admin(&self) -> Result<UserId, CommerceError> {
        match self.require_user()? {
            (id, Role::Admin) => Ok(id),
            _ => Err(CommerceError::Forbidden("only an admin may do this".into())),
        }
    }

    /// Whether the caller runs the shop day to day (a manager or an admin).
    pub fn runs_the_shop(&self) -> bool {
        matches!(self, Caller::User { role, .. } if role.runs_the_shop())
    }

    /// A manager or an admin: the day-to-day running of the shop (orders, refunds, products,
    /// categories, reviews, discounts, stock); otherwise `Forbidden` (`Unauthenticated` for
    /// nobody).
    pub fn require_manager(&self) -> Result<UserId, CommerceError> {
        match self.require_user()? {
            (id, role) if role.runs_the_shop() => Ok(id),
            _ => Err(CommerceError::Forbidden(
                "only a manager or an admin may do this".into(),
            )),
        }
    }
}

/// Every way a use case can fail. `code()` is the stable snake_case code clients see.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommerceError {
    /// The request's fields break their rules, each named (HTTP 422 `validation_failed`).
    #[error("validation failed: {0}")]
    Validation(ValidationErrors),
    /// No such thing, or not one the caller may see (404): what it is (`"order"`).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Signing in is needed (401).
    #[error("authentication required")]
    Unauthenticated,
    /// Signed in, but the role or ownership does not allow it (403); says why.
    #[error("{0}")]
    Forbidden(String),
    /// The email and password do not match an account (401), the same for an unknown email.
    #[error("email or password is wrong")]
    InvalidCredentials,
    /// The account was deactivated (403), told only with the right password.
    #[error("this account is disabled")]
    AccountDisabled,
    /// A mailed or refresh token that is unknown, expired or used (401).
    #[error("the token is invalid, expired or already used")]
    InvalidToken,
    /// A value that must be unique is held by another record (an email, a slug, a code).
    #[error("{}", taken_message(*.0))]
    Taken(UniqueRule),
    /// Fewer units left than asked (409 `out_of_stock`); nothing was reserved.
    #[error("only {available} available")]
    OutOfStock {
        /// The product short of units.
        product_id: crate::ids::ProductId,
        /// Its variant, when one was asked for.
        variant_id: Option<crate::ids::VariantId>,
        /// How many are left to sell.
        available: u32,
    },
    /// The order's status machine does not allow that move from where it is (409).
    #[error("{0}")]
    InvalidTransition(String),
    /// A code that can never apply now (422 `invalid_discount` with its `reason`).
    #[error("the discount code {code} cannot be used: {}", reason.as_str())]
    InvalidDiscount {
        /// The code, upper-case.
        code: String,
        /// Why: unknown, not started, expired, used up...
        reason: RejectionReason,
    },
    /// The `If-Match` version (or the version read before a write) is stale.
    #[error("the {0} was changed by someone else; reload it and try again")]
    VersionMismatch(&'static str),
    /// The request conflicts with the record's state (409); says how.
    #[error("{0}")]
    Conflict(String),
    /// The payment provider declined (402); its reason, meant for the buyer.
    #[error("the payment was declined: {0}")]
    PaymentDeclined(String),
    /// The payment provider cannot be reached or failed (502); worth trying again.
    #[error("the payment provider is unavailable: {0}")]
    ProviderUnavailable(String),
    /// A body of a kind this operation does not take (a text file sent as an image).
    #[error("{0}")]
    UnsupportedMedia(String),
    /// A body larger than this operation takes.
    #[error("{0}")]
    TooLarge(String),
    /// A provider's webhook that is not genuine (its signature) or cannot be read.
    #[error("{detail}")]
    BadWebhook {
        /// True when the signature is what failed (400 `invalid_signature`), false when a
        /// genuine event cannot be read.
        signature: bool,
        /// What is wrong with it.
        detail: String,
    },
    /// Storage cannot be reached (or is overloaded) right now; nothing was written. Worth
    /// retrying shortly.
    #[error("storage is unavailable: {0}")]
    StorageUnavailable(String),
    /// A social sign-in failed: its state is unknown, used or expired, or the provider
    /// refused the code, or its ID token failed a check.
    #[error("the sign-in with the provider failed: {0}")]
    OauthFailed(String),
    /// An account has the provider's email, but not both the provider and the account vouch
    /// that it is verified: the owner must sign in and link the provider first.
    #[error("an account has this email; sign in to it and link the provider there")]
    AccountLinkRequired,
    /// The server is at capacity for this kind of work (password hashing); nothing was done.
    /// Worth retrying after the duration.
    #[error("the server is busy; try again in a moment")]
    Busy(std::time::Duration),
    /// Storage or another dependency failed: not the caller's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CommerceError {
    /// The stable snake_case code clients branch on (`out_of_stock`, `validation_failed`).
    pub fn code(&self) -> &'static str {
        match self {
            CommerceError::Validation(_) => "validation_failed",
            CommerceError::NotFound(_) => "not_found",
            CommerceError::Unauthenticated => "unauthenticated",
            CommerceError::Forbidden(_) => "forbidden",
            CommerceError::InvalidCredentials => "invalid_credentials",
            CommerceError::AccountDisabled => "account_disabled",
            CommerceError::OauthFailed(_) => "oauth_failed",
            CommerceError::AccountLinkRequired => "account_link_required",
            CommerceError::InvalidToken => "invalid_token",
            CommerceError::Taken(UniqueRule::UserEmail) => "email_taken",
            CommerceError::Taken(UniqueRule::ProductSlug | UniqueRule::CategorySlug) => {
                "slug_taken"
            }
            CommerceError::Taken(UniqueRule::PromotionCode) => "code_taken",
            CommerceError::Taken(_) => "conflict",
            CommerceError::OutOfStock { .. } => "out_of_stock",
            CommerceError::InvalidTransition(_) => "invalid_transition",
            CommerceError::InvalidDiscount { .. } => "invalid_discount",
            CommerceError::VersionMismatch(_) => "version_mismatch",
            CommerceError::Conflict(_) => "conflict",
            CommerceError::PaymentDeclined(_) => "payment_declined",
            CommerceError::ProviderUnavailable(_) => "provider_unavailable",
            CommerceError::StorageUnavailable(_) => "storage_unavailable",
            CommerceError::UnsupportedMedia(_) => "unsupported_media_type",
            CommerceError::TooLarge(_) => "payload_too_large",
            CommerceError::BadWebhook {
                signature: true, ..
            } => "invalid_signature",
            CommerceError::BadWebhook { .. } => "malformed_webhook",
            CommerceError::Busy(_) => "busy",
            CommerceError::Internal(_) => "internal_error",
        }
    }

    /// A validation error on one field.
    pub fn validation(field: &str, message: impl Into<String>) -> CommerceError {
        CommerceError::Validation(ValidationErrors::single(field, message))
    }
}

/// What a client reads when a unique value is taken.
fn taken_message(rule: UniqueRule) -> String {
    match rule {
        UniqueRule::TaxRateRegion => "a rate for this country and region exists".into(),
        UniqueRule::ProviderIdentity => {
            "this provider account is linked to an account already".into()
        }
        other => format!("{} is already taken", other.field()),
    }
}

impl From<ValidationErrors> for CommerceError {
    fn from(e: ValidationErrors) -> Self {
        CommerceError::Validation(e)
    }
}

impl From<StorageError> for CommerceError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => CommerceError::NotFound("record"),
            StorageError::VersionConflict => CommerceError::VersionMismatch("record"),
            StorageError::Duplicate(rule) => CommerceError::Taken(rule),
            StorageError::InvalidCursor => {
                CommerceError::validation("cursor", "is not a cursor this listing gave")
            }
            StorageError::MissingReference(reference) => CommerceError::validation(
                reference.field(),
                "refers to something that does not exist",
            ),
            StorageError::Unavailable(why) => CommerceError::StorageUnavailable(why),
            other => CommerceError::Internal(other.to_string()),
        }
    }
}

impl From<InvalidTransition> for CommerceError {
    fn from(e: InvalidTransition) -> Self {
        CommerceError::InvalidTransition(e.to_string())
    }
}

impl From<PricingError> for CommerceError {
    fn from(e: PricingError) -> Self {
        match e {
            PricingError::Quantity(_) | PricingError::TooManyLines => {
                CommerceError::validation("quantity", e.to_string())
            }
            other => CommerceError::Internal(other.to_string()),
        }
    }
}

impl From<CartError> for CommerceError {
    fn from(e: CartError) -> Self {
        match e {
            CartError::InvalidQuantity => CommerceError::validation("quantity", e.to_string()),
            CartError::OutOfStock {
                product_id,
                variant_id,
                available,
            } => CommerceError::OutOfStock {
                product_id,
                variant_id,
                available,
            },
            CartError::ItemNotFound(_) => CommerceError::NotFound("cart item"),
            CartError::TooManyLines => CommerceError::validation("product_id", e.to_string()),
            CartError::TooManyCodes | CartError::InvalidCode(_) => {
                CommerceError::validation("code", e.to_string())
            }
            CartError::CodeNotFound(_) => CommerceError::NotFound("discount code"),
        }
    }
}

impl From<PlaceOrderError> for CommerceError {
    fn from(e: PlaceOrderError) -> Self {
        match e {
            PlaceOrderError::OutOfStock {
                product_id,
                variant_id,
                available,
            } => CommerceError::OutOfStock {
                product_id,
                variant_id,
                available,
            },
            PlaceOrderError::Unavailable(_) => {
                CommerceError::validation("product_id", "is not for sale")
            }
            PlaceOrderError::UsageExhausted(_) => CommerceError::InvalidDiscount {
                code: String::new(),
                reason: RejectionReason::UsageExhausted,
            },
            PlaceOrderError::CustomerLimitReached(_) => CommerceError::InvalidDiscount {
                code: String::new(),
                reason: RejectionReason::CustomerLimitReached,
            },
            PlaceOrderError::CartChanged => CommerceError::VersionMismatch("cart"),
            PlaceOrderError::Storage(s) => s.into(),
        }
    }
}

impl From<GatewayError> for CommerceError {
    fn from(e: GatewayError) -> Self {
        match e {
            GatewayError::Declined(m) => CommerceError::PaymentDeclined(m),
            GatewayError::Unavailable(m) => CommerceError::ProviderUnavailable(m),
            GatewayError::Invalid(m) => {
                CommerceError::Conflict(format!("the payment provider refused the request: {m}"))
            }
            GatewayError::NotOffered => {
                CommerceError::Conflict("the payment provider does not offer this".into())
            }
            GatewayError::NotConfigured => CommerceError::Conflict(
                "this shop takes no payments yet: no payment provider is set up".into(),
            ),
        }
    }
}

/// The ports a shop runs on.
#[derive(Clone)]
pub(crate) struct Ports {
    pub products: Arc<dyn ProductStore>,
    pub categories: Arc<dyn CategoryStore>,
    pub reviews: Arc<dyn ReviewStore>,
    pub carts: Arc<dyn CartStore>,
    pub orders: Arc<dyn OrderStore>,
    pub payments: Arc<dyn PaymentStore>,
    pub users: Arc<dyn UserStore>,
    pub tokens: Arc<dyn TokenStore>,
    pub promotions: Arc<dyn PromotionStore>,
    pub settings: Arc<dyn SettingsStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub login_attempts: Arc<dyn LoginAttemptStore>,
    pub client_rates: Arc<dyn ClientRateStore>,
    pub webhooks: Arc<dyn WebhookStore>,
    pub stock_alerts: Arc<dyn StockAlertStore>,
    pub audit: Arc<dyn AuditStore>,
    pub wishlists: Arc<dyn WishlistStore>,
    pub social: Arc<dyn SocialSignInStore>,
    pub webhook_sender: Option<Arc<dyn WebhookSender>>,
    /// Social sign-in's providers, by name.
    pub identity_providers: Vec<Arc<dyn IdentityProvider>>,
    /// The default payment provider: the first of `payment_providers`.
    pub gateway: Arc<dyn PaymentGateway>,
    /// Further providers a buyer may choose by name, in the order they were added.
    pub other_gateways: Vec<Arc<dyn PaymentGateway>>,
    pub mailer: Arc<dyn Mailer>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub token_issuer: Option<Arc<dyn TokenIssuer>>,
    pub invoices: Option<Arc<dyn crate::invoice::InvoiceRenderer>>,
    pub events: Arc<dyn EventBus>,
    pub images: Arc<dyn ImageStore>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

/// Settings of the engine itself (not of the shop, which are stored).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How long mailed verification tokens live.
    pub verification_ttl: chrono::Duration,
    /// How long mailed password-reset tokens live.
    pub reset_ttl: chrono::Duration,
    /// How long a refresh token lives.
    pub refresh_ttl: chrono::Duration,
    /// The currency of a shop whose settings were never saved.
    pub default_currency: crate::money::Currency,
    /// How long the shop's settings are kept in memory between reads of storage (zero reads
    /// them every time). Other processes' changes show within this.
    pub settings_ttl: std::time::Duration,
    /// How often an order mail is tried before it is given up (and logged).
    pub mail_attempts: u32,
    /// The pause after a failed try; it doubles after each.
    pub mail_retry_after: std::time::Duration,
    /// Password hashes (and checks) computed at once [the machine's cores]. Each takes the
    /// hasher's memory (19 MiB with the default Argon2id) and a core for tens of
    /// milliseconds, so a burst of sign-ins must not start them all together.
    pub password_hashes_at_once: usize,
    /// Sign-ins and registrations that may wait for a hashing slot (default 64); past them the
    /// answer is `Busy` (HTTP 503 with `Retry-After`) at once.
    pub password_hashes_waiting: usize,
    /// How long an order may stay unpaid before the sweeper cancels it, giving its stock and
    /// discount uses back [30 minutes]; `None` keeps unpaid orders for good.
    pub unpaid_order_timeout: Option<std::time::Duration>,
    /// How long a guest cart is kept after its last change before the sweeper deletes it
    /// [30 days]; `None` keeps them for good.
    pub guest_cart_lifetime: Option<std::time::Duration>,
    /// How outbound webhooks are relayed (retries, leases, how much at once).
    pub webhooks: WebhookRelayConfig,
    /// Where social sign-ins may send the browser back to; empty: loopback URIs only.
    pub sign_in_redirect_uris: Vec<String>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            verification_ttl: chrono::Duration::hours(48),
            reset_ttl: chrono::Duration::hours(1),
            refresh_ttl: chrono::Duration::days(30),
            default_currency: crate::money::Currency::USD,
            settings_ttl: std::time::Duration::from_secs(1),
            mail_attempts: 5,
            mail_retry_after: std::time::Duration::from_secs(2),
            password_hashes_at_once: std::thread::available_parallelism().map_or(2, usize::from),
            password_hashes_waiting: 64,
            unpaid_order_timeout: Some(std::time::Duration::from_secs(30 * 60)),
            guest_cart_lifetime: Some(std::time::Duration::from_secs(30 * 24 * 3600)),
            webhooks: WebhookRelayConfig::default(),
            sign_in_redirect_uris: Vec::new(),
        }
    }
}

/// The engine: every use case, over the ports it was built with. Cheap to clone.
#[derive(Clone)]
pub struct Commerce {
    pub(crate) ports: Ports,
    pub(crate) config: EngineConfig,
    /// A hash to verify against when a login names an unknown email.
    pub(crate) dummy_hash: Arc<std::sync::OnceLock<String>>,
    /// Emails whose refused sign-in was recorded lately (the audit log's `auth.locked`).
    pub(crate) recent_refusals: Arc<audit::RecentRefusals>,
    pub(crate) setup: Arc<kept::KeptSetup>,
    pub(crate) hashing: Arc<HashingSlots>,
    /// Seals webhook endpoints' secrets; without one, webhooks cannot be set up.
    pub(crate) sealing_key: Option<crate::webhook_signing::SealingKey>,
    /// Wakes this process's webhook relay after a write told the outbox something.
    pub(crate) relay_wake: Arc<tokio::sync::Notify>,
}

/// Slots for password hashing: at most so many at once, and so many waiting.
pub(crate) struct HashingSlots {
    slots: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    most_waiting: usize,
}

/// What a sign-in turned away for want of a hashing slot is told to wait.
const HASHING_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

impl HashingSlots {
    fn new(config: &EngineConfig) -> Self {
        Self {
            slots: tokio::sync::Semaphore::new(config.password_hashes_at_once.max(1)),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            most_waiting: config.password_hashes_waiting,
        }
    }

    /// A slot, waited for in line; `Busy` when the line is full.
    pub(crate) async fn take(&self) -> Result<tokio::sync::SemaphorePermit<'_>, CommerceError> {
        use std::sync::atomic::Ordering;
        if let Ok(slot) = self.slots.try_acquire() {
            return Ok(slot);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.most_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(CommerceError::Busy(HASHING_RETRY_AFTER));
        }
        let slot = self.slots.acquire().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        slot.map_err(|_| CommerceError::Busy(HASHING_RETRY_AFTER))
    }
}

impl Commerce {
    /// Starts building a shop on `storage` (an adapter implementing every storage port:
    /// `commerce-sqlite`, `commerce-sqlx`, or the in-memory store); see [`CommerceBuilder`].
    pub fn builder<S: Storage>(storage: Arc<S>) -> CommerceBuilder {
        CommerceBuilder::new(storage)
    }

    /// A shop entirely in memory, with the built-in test payment provider.
    pub fn in_memory() -> Commerce {
        let builder = Commerce::builder(Arc::new(MemoryStore::new())).test_payments();
        // A key for this process's life: the memory shop's secrets die with it anyway.
        match crate::webhook_signing::SealingKey::generate_text()
            .and_then(|k| crate::webhook_signing::SealingKey::parse(&k))
        {
            Ok(key) => builder.sealing_key(key),
            Err(_) => builder,
        }
        .build()
    }

    /// Products, categories, reviews, images and stock alerts.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use commerce_core::{account::Role, catalog::NewProduct, Caller, Commerce};
    /// use rust_decimal::Decimal;
    ///
    /// let shop = Commerce::in_memory();
    /// let admin = shop.accounts().create_user("admin@shop.test", "a-long-password", "Admin", Role::Admin, true).await?;
    /// let admin = Caller::user(admin.id, admin.role);
    /// let catalog = shop.catalog();
    /// let kitchen = catalog.create_category(&admin, "Kitchen", None, None).await?;
    /// let mug = catalog.create_product(&admin, NewProduct {
    ///     name: "Mug".into(), price: Decimal::new(1250, 2), inventory_count: 10,
    ///     category_id: Some(kitchen.id), ..Default::default()
    /// }).await?;
    /// // What a shopper sees: the active products of the category.
    /// let listing = commerce_core::service::ProductListing {
    ///     category: Some(kitchen.id), ..Default::default()
    /// };
    /// let page = catalog.list_products(listing).await?;
    /// assert_eq!(page.items[0].id, mug.id);
    /// assert_eq!(catalog.product(&Caller::Anonymous, mug.id).await?.inventory_count, 10);
    /// # Ok::<(), commerce_core::CommerceError>(())
    /// # }).unwrap();
    /// ```
    pub fn catalog(&self) -> Catalog<'_> {
        Catalog { shop: self }
    }
    /// Carts (a customer's or a guest's), their pricing, and checkout.
    ///
    /// A guest's first add creates the cart and returns its token; later calls name it.
    /// Checkout reserves the stock and creates the payment in one step.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use commerce_core::{account::Role, catalog::NewProduct, Caller, Commerce};
    /// use rust_decimal::Decimal;
    ///
    /// let shop = Commerce::in_memory();
    /// let admin = shop.accounts().create_user("admin@shop.test", "a-long-password", "Admin", Role::Admin, true).await?;
    /// let admin = Caller::user(admin.id, admin.role);
    /// let mug = shop.catalog().create_product(&admin, NewProduct {
    ///     name: "Mug".into(), price: Decimal::new(1250, 2), inventory_count: 10, ..Default::default()
    /// }).await?;
    /// use commerce_core::service::{CartOwner, CheckoutRequest, ItemRequest};
    /// let carts = shop.carts();
    /// let first = carts.add_item(&CartOwner::Guest(None),
    ///     ItemRequest { product_id: mug.id, variant_id: None, quantity: 3 }, None).await?;
    /// assert_eq!(first.priced.total.to_string(), "37.50 USD");
    /// let guest = CartOwner::Guest(first.new_guest_token);
    ///
    /// let address = commerce_core::account::Address {
    ///     full_name: Some("Ada Lovelace".into()), line1: Some("1 Main St".into()),
    ///     city: Some("Springfield".into()), postal_code: Some("12345".into()),
    ///     country: "US".into(), ..Default::default()
    /// };
    /// let checkout = carts.checkout(&Caller::Anonymous, &guest, CheckoutRequest {
    ///     shipping_address: Some(address), email: Some("ada@example.com".into()),
    ///     ..Default::default()
    /// }).await?;
    /// assert_eq!(checkout.order.status.as_str(), "pending");
    /// assert!(checkout.payment.is_some());
    /// // The stock is held for the order; the cart is empty again.
    /// assert_eq!(shop.catalog().product(&admin, mug.id).await?.inventory_count, 7);
    /// assert!(carts.cart(&guest).await?.priced.lines.is_empty());
    /// # Ok::<(), commerce_core::CommerceError>(())
    /// # }).unwrap();
    /// ```
    pub fn carts(&self) -> Carts<'_> {
        Carts { shop: self }
    }
    /// Orders: direct orders, reading, cancelling, status changes, refunds, invoices.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use commerce_core::{account::Role, catalog::NewProduct, Caller, Commerce};
    /// use rust_decimal::Decimal;
    ///
    /// let shop = Commerce::in_memory();
    /// let admin = shop.accounts().create_user("admin@shop.test", "a-long-password", "Admin", Role::Admin, true).await?;
    /// let admin = Caller::user(admin.id, admin.role);
    /// let mug = shop.catalog().create_product(&admin, NewProduct {
    ///     name: "Mug".into(), price: Decimal::new(1250, 2), inventory_count: 10, ..Default::default()
    /// }).await?;
    /// use commerce_core::order::OrderStatus;
    /// use commerce_core::service::{DirectOrder, ItemRequest};
    /// let address = commerce_core::account::Address {
    ///     full_name: Some("Ada Lovelace".into()), line1: Some("1 Main St".into()),
    ///     city: Some("Springfield".into()), postal_code: Some("12345".into()),
    ///     country: "US".into(), ..Default::default()
    /// };
    /// let order = shop.orders().create(&admin, DirectOrder {
    ///     items: vec![ItemRequest { product_id: mug.id, variant_id: None, quantity: 2 }],
    ///     shipping_address: Some(address), ..Default::default()
    /// }).await?;
    /// assert_eq!(order.totals.total.to_string(), "25.00 USD");
    ///
    /// // The status machine refuses a jump: a pending order is not shipped.
    /// let refused = shop.orders().set_status(&admin, order.id, OrderStatus::Shipped).await;
    /// assert_eq!(refused.unwrap_err().code(), "invalid_transition");
    /// // Cancelling gives the stock back.
    /// let cancelled = shop.orders().cancel(&admin, order.id).await?;
    /// assert_eq!(cancelled.status, OrderStatus::Cancelled);
    /// assert_eq!(shop.catalog().product(&admin, mug.id).await?.inventory_count, 10);
    /// # Ok::<(), commerce_core::CommerceError>(())
    /// # }).unwrap();
    /// ```
    pub fn orders(&self) -> Orders<'_> {
        Orders { shop: self }
    }
    /// Payments: starting, confirming, and the providers' webhooks.
    ///
    /// With the built-in test provider (what [`Commerce::in_memory`] has), a payment succeeds
    /// when confirmed and the order becomes paid; Stripe and PayPal confirm through their
    /// webhooks the same way.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use commerce_core::{account::Role, catalog::NewProduct, Caller, Commerce};
    /// use rust_decimal::Decimal;
    ///
    /// let shop = Commerce::in_memory();
    /// let admin = shop.accounts().create_user("admin@shop.test", "a-long-password", "Admin", Role::Admin, true).await?;
    /// let admin = Caller::user(admin.id, admin.role);
    /// let mug = shop.catalog().create_product(&admin, NewProduct {
    ///     name: "Mug".into(), price: Decimal::new(1250, 2), inventory_count: 10, ..Default::default()
    /// }).await?;
    /// use commerce_core::order::OrderStatus;
    /// use commerce_core::payment::PaymentStatus;
    /// use commerce_core::service::{DirectOrder, ItemRequest};
    /// let address = commerce_core::account::Address {
    ///     full_name: Some("Ada Lovelace".into()), line1: Some("1 Main St".into()),
    ///     city: Some("Springfield".into()), postal_code: Some("12345".into()),
    ///     country: "US".into(), ..Default::default()
    /// };
    /// let order = shop.orders().create(&admin, DirectOrder {
    ///     items: vec![ItemRequest { product_id: mug.id, variant_id: None, quantity: 1 }],
    ///     shipping_address: Some(address), ..Default::default()
    /// }).await?;
    /// let payment = shop.payments().create_intent(&admin, order.id).await?;
    /// assert_eq!(payment.amount, order.totals.total);
    /// let paid = shop.payments().confirm(&admin, payment.id).await?;
    /// assert_eq!(paid.status, PaymentStatus::Succeeded);
    /// assert_eq!(shop.orders().order(&admin, order.id).await?.status, OrderStatus::Paid);
    /// # Ok::<(), commerce_core::CommerceError>(())
    /// # }).unwrap();
    /// ```
    pub fn payments(&self) -> Payments<'_> {
        Payments { shop: self }
    }
    /// Accounts: registration, sign-in, tokens, profiles and addresses.
    ///
    /// Sign-in needs a token issuer (see [`CommerceBuilder::token_issuer`]); an embedder that
    /// authenticates users itself builds a [`Caller`] from their id and role instead.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use commerce_core::account::Address;
    /// use commerce_core::{Caller, Commerce};
    ///
    /// let shop = Commerce::in_memory();
    /// let ada = shop.accounts().register("ada@example.com", "a-long-password", "Ada").await?;
    /// // The same address again is refused, whatever its case.
    /// let taken = shop.accounts().register("ADA@example.com", "another-password", "Ada").await;
    /// assert_eq!(taken.unwrap_err().code(), "email_taken");
    ///
    /// let ada = Caller::user(ada.id, ada.role);
    /// let home = Address {
    ///     full_name: Some("Ada Lovelace".into()), line1: Some("1 Main St".into()),
    ///     city: Some("Springfield".into()), postal_code: Some("12345".into()),
    ///     country: "US".into(), ..Default::default()
    /// };
    /// shop.accounts().save_address(&ada, None, Some("Home".into()), home, true).await?;
    /// assert_eq!(shop.accounts().addresses(&ada).await?.len(), 1);
    /// # Ok::<(), commerce_core::CommerceError>(())
    /// # }).unwrap();
    /// ```
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts { shop: self }
    }
    /// Running the shop: promotions, tax rates, shipping methods, settings, the dashboard
    /// and reports.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use commerce_core::{account::Role, catalog::NewProduct, Caller, Commerce};
    /// use rust_decimal::Decimal;
    ///
    /// let shop = Commerce::in_memory();
    /// let admin = shop.accounts().create_user("admin@shop.test", "a-long-password", "Admin", Role::Admin, true).await?;
    /// let admin = Caller::user(admin.id, admin.role);
    /// let mug = shop.catalog().create_product(&admin, NewProduct {
    ///     name: "Mug".into(), price: Decimal::new(1250, 2), inventory_count: 10, ..Default::default()
    /// }).await?;
    /// use commerce_core::promotion::PromotionDraft;
    /// use commerce_core::service::{CartOwner, ItemRequest};
    /// shop.admin().create_promotion(&admin, PromotionDraft {
    ///     code: Some("TENOFF".into()), kind: "percent".into(), value: Some(Decimal::TEN),
    ///     ..Default::default()
    /// }).await?;
    /// let first = shop.carts().add_item(&CartOwner::Guest(None),
    ///     ItemRequest { product_id: mug.id, variant_id: None, quantity: 2 }, None).await?;
    /// let guest = CartOwner::Guest(first.new_guest_token);
    /// let cart = shop.carts().add_code(&guest, "tenoff", None).await?;
    /// assert_eq!(cart.priced.discount.to_string(), "2.50 USD");
    /// assert_eq!(cart.priced.total.to_string(), "22.50 USD");
    /// # Ok::<(), commerce_core::CommerceError>(())
    /// # }).unwrap();
    /// ```
    pub fn admin(&self) -> Admin<'_> {
        Admin { shop: self }
    }

    /// Domain events from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::events::DomainEvent> {
        self.ports.events.subscribe()
    }

    /// The image store (what serves `/images/{key}`).
    pub fn images(&self) -> &Arc<dyn ImageStore> {
        &self.ports.images
    }

    /// The shop's clock's time (the test clock in tests).
    pub fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    pub(crate) fn new_id<T: From<uuid::Uuid>>(&self) -> T {
        T::from(self.ports.ids.new_id())
    }

    /// Failed sign-ins, for edges that limit them (the HTTP layer's login throttle).
    pub fn login_attempts(&self) -> &Arc<dyn LoginAttemptStore> {
        &self.ports.login_attempts
    }

    /// Request rates per client, for edges that limit them (the HTTP layer's client limit).
    pub fn client_rates(&self) -> &Arc<dyn ClientRateStore> {
        &self.ports.client_rates
    }

    /// Idempotency keys, for edges that offer them (the HTTP layer's `Idempotency-Key`).
    pub fn idempotency_keys(&self) -> &Arc<dyn IdempotencyStore> {
        &self.ports.idempotency
    }

    /// Whether storage answers (for readiness checks).
    pub async fn ready(&self) -> bool {
        self.ports.settings.store_settings().await.is_ok()
    }
}

/// A storage adapter that implements every storage port.
pub trait Storage:
    ProductStore
    + CategoryStore
    + ReviewStore
    + CartStore
    + OrderStore
    + PaymentStore
    + UserStore
    + TokenStore
    + PromotionStore
    + SettingsStore
    + IdempotencyStore
    + LoginAttemptStore
    + ClientRateStore
    + WebhookStore
    + StockAlertStore
    + AuditStore
    + WishlistStore
    + SocialSignInStore
    + 'static
{
}

impl<T> Storage for T where
    T: ProductStore
        + CategoryStore
        + ReviewStore
        + CartStore
        + OrderStore
        + PaymentStore
        + UserStore
        + TokenStore
        + PromotionStore
        + SettingsStore
        + IdempotencyStore
        + LoginAttemptStore
        + ClientRateStore
        + WebhookStore
        + StockAlertStore
        + AuditStore
        + WishlistStore
        + SocialSignInStore
        + 'static
{
}

/// Builds a [`Commerce`] from a storage adapter. Every other port has a default (an
/// in-memory outbox, argon2id, an in-process event bus, images in memory, the system clock
/// and random ids), and any port, storage ones included, can be replaced, for instance by a
/// mock. The payment provider has none that takes money: name one with
/// [`gateway`](Self::gateway) (`commerce-stripe`), or the built-in test provider, which
/// approves every payment, with [`test_payments`](Self::test_payments); offer more with
/// [`add_gateway`](Self::add_gateway) (`commerce-paypal`). Without any, the shop places orders
/// but refuses to take payments, saying so.
pub struct CommerceBuilder {
    ports: Ports,
    config: EngineConfig,
    sealing_key: Option<crate::webhook_signing::SealingKey>,
}

macro_rules! setters {
    ($($name:ident: $port:ident),+ $(,)?) => {$(
        #[doc = concat!("Replaces the `", stringify!($port), "` port (with another adapter, or a mock).")]
        pub fn $name(mut self, port: Arc<dyn $port>) -> Self {
            self.ports.$name = port;
            self
        }
    )+};
}

impl CommerceBuilder {
    fn new<S: Storage>(store: Arc<S>) -> Self {
        Self {
            ports: Ports {
                products: store.clone(),
                categories: store.clone(),
                reviews: store.clone(),
                carts: store.clone(),
                orders: store.clone(),
                payments: store.clone(),
                users: store.clone(),
                tokens: store.clone(),
                promotions: store.clone(),
                settings: store.clone(),
                idempotency: store.clone(),
                login_attempts: store.clone(),
                client_rates: store.clone(),
                webhooks: store.clone(),
                stock_alerts: store.clone(),
                audit: store.clone(),
                wishlists: store.clone(),
                social: store,
                webhook_sender: None,
                identity_providers: Vec::new(),
                gateway: Arc::new(NoPaymentProvider),
                other_gateways: Vec::new(),
                mailer: Arc::new(MemoryMailer::default()),
                hasher: Arc::new(Argon2Hasher::default()),
                token_issuer: None,
                invoices: None,
                events: Arc::new(MemoryEventBus::default()),
                images: Arc::new(MemoryImageStore::default()),
                clock: Arc::new(SystemClock),
                ids: Arc::new(RandomIds),
            },
            config: EngineConfig::default(),
            sealing_key: None,
        }
    }

    setters!(
        products: ProductStore,
        categories: CategoryStore,
        reviews: ReviewStore,
        carts: CartStore,
        orders: OrderStore,
        payments: PaymentStore,
        users: UserStore,
        tokens: TokenStore,
        promotions: PromotionStore,
        settings: SettingsStore,
        idempotency: IdempotencyStore,
        login_attempts: LoginAttemptStore,
        client_rates: ClientRateStore,
        webhooks: WebhookStore,
        stock_alerts: StockAlertStore,
        audit: AuditStore,
        wishlists: WishlistStore,
        social: SocialSignInStore,
        mailer: Mailer,
        hasher: PasswordHasher,
        events: EventBus,
        images: ImageStore,
        clock: Clock,
        ids: IdGenerator,
    );

    /// The shop's default payment provider (`commerce-stripe`'s `StripeGateway`, say): the
    /// one payments use when the buyer names none. Replaces an earlier default; one added
    /// with [`add_gateway`](Self::add_gateway) under the same name is dropped.
    pub fn gateway(mut self, gateway: Arc<dyn PaymentGateway>) -> Self {
        let name = gateway.provider();
        self.ports.other_gateways.retain(|g| g.provider() != name);
        self.ports.gateway = gateway;
        self
    }

    /// Offers another payment provider (`commerce-paypal`'s `PayPalGateway`, say) that a
    /// buyer chooses with `payment_provider`; the default stays the first one set. In a shop
    /// with no provider yet, it becomes the default. A provider of a name already offered
    /// replaces that one.
    pub fn add_gateway(mut self, gateway: Arc<dyn PaymentGateway>) -> Self {
        let name = gateway.provider();
        if self.ports.gateway.provider() == NoPaymentProvider::NAME
            || self.ports.gateway.provider() == name
        {
            self.ports.gateway = gateway;
            return self;
        }
        match self
            .ports
            .other_gateways
            .iter_mut()
            .find(|g| g.provider() == name)
        {
            Some(slot) => *slot = gateway,
            None => self.ports.other_gateways.push(gateway),
        }
        self
    }

    /// Payments through the built-in test provider: every payment succeeds when confirmed
    /// (except amounts ending in .13, declined to exercise that path). For tests, demos and
    /// development; never for a shop that takes real money.
    pub fn test_payments(self) -> Self {
        self.gateway(Arc::new(TestPaymentGateway))
    }

    /// Signs access tokens at login; without one, login is not offered (embedders that
    /// authenticate themselves build `Caller`s directly).
    pub fn token_issuer(mut self, issuer: Arc<dyn TokenIssuer>) -> Self {
        self.ports.token_issuer = Some(issuer);
        self
    }

    /// Draws order invoices (`commerce-pdf`'s `PdfInvoices`); without one, invoices are not
    /// offered.
    pub fn invoices(mut self, renderer: Arc<dyn crate::invoice::InvoiceRenderer>) -> Self {
        self.ports.invoices = Some(renderer);
        self
    }

    /// Offers sign-in with an OpenID Connect provider (`commerce-oidc`'s `OidcClient`), under
    /// its name; several may be added.
    pub fn identity_provider(mut self, provider: Arc<dyn IdentityProvider>) -> Self {
        self.ports.identity_providers.push(provider);
        self
    }

    /// Delivers outbound webhooks (`commerce-webhooks`' HTTP sender); without one, events
    /// wait in the outbox and the relay refuses to run.
    pub fn webhook_sender(mut self, sender: Arc<dyn WebhookSender>) -> Self {
        self.ports.webhook_sender = Some(sender);
        self
    }

    /// The key that seals webhook endpoints' secrets at rest. Keep it out of the database
    /// (the server's settings) and the same across restarts and processes: secrets sealed
    /// with another key cannot sign.
    pub fn sealing_key(mut self, key: crate::webhook_signing::SealingKey) -> Self {
        self.sealing_key = Some(key);
        self
    }

    /// The engine's own settings (token lifetimes, timeouts, the relay's schedule).
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// The shop. Warns in the log when it has no payment provider.
    pub fn build(self) -> Commerce {
        if self.ports.gateway.provider() == NoPaymentProvider::NAME {
            tracing::warn!(
                "this shop has no payment provider: payments are refused; name one with \
                 CommerceBuilder::gateway (e.g. commerce-stripe) or CommerceBuilder::test_payments"
            );
        }
        Commerce {
            hashing: Arc::new(HashingSlots::new(&self.config)),
            ports: self.ports,
            config: self.config,
            dummy_hash: Arc::default(),
            recent_refusals: Arc::default(),
            setup: Arc::default(),
            sealing_key: self.sealing_key,
            relay_wake: Arc::default(),
        }
    }
}

#[cfg(test)]
mod audit_tests;
#[cfg(test)]
mod expiry_tests;
#[cfg(test)]
mod gateway_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod webhook_tests;
