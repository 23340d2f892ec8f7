//! What every storage port shares: its errors (and the unique rules and references they name) and pages.

use super::*;

/// What went wrong in a storage adapter, in terms a service can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The record a write names is gone (updates and deletes say so; reads answer `None`).
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
    /// The database cannot be reached or failed (a lost connection, a full disk, a lock
    /// held too long): nothing was written; worth trying again. The HTTP layer answers 503.
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    /// What is stored cannot be read back, or a write broke a constraint no rule names: a bug
    /// or a damaged database, not the caller's doing.
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
    /// A provider's account (issuer and subject) is linked to one account of the shop.
    ProviderIdentity,
}

impl UniqueRule {
    /// Every rule, for adapters' tests that check each of their constraints maps to one.
    pub const ALL: [UniqueRule; 13] = [
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
        UniqueRule::ProviderIdentity,
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
            UniqueRule::ProviderIdentity => "provider account",
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
    /// How many items at most (0: the default; more than the maximum: the maximum).
    pub limit: u32,
    /// Where the previous page ended; `None` for the first page.
    pub cursor: Option<String>,
}

impl PageRequest {
    /// Items per page when none is asked.
    pub const DEFAULT_LIMIT: u32 = 20;
    /// The most items a page holds.
    pub const MAX_LIMIT: u32 = 100;

    /// The first page of `limit` items.
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

/// A page of a listing. Adapters page by a keyset (the listing's order and the id), never
/// by offset, so a page continues where the last ended whatever was written since, and
/// every item of a listing that stays put is seen once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The same page with each item turned into another (for response shapes).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}
