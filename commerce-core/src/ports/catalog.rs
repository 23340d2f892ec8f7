//! Storage of the catalog: products, categories, reviews.

use super::*;

/// How a listing is ordered; ties always go by id, so pages never repeat or skip a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductSort {
    /// Newest first (the default).
    #[default]
    Newest,
    /// Cheapest first.
    PriceAsc,
    /// Dearest first.
    PriceDesc,
    /// Best rated first (by average, then number of reviews).
    Rating,
    /// By name, A to Z.
    Name,
    /// Full-text relevance; only with `text`.
    Relevance,
}

/// A product listing: every filter is optional and they combine with AND.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProductQuery {
    /// Any of these categories (the service expands a category to its descendants).
    pub category_ids: Option<Vec<CategoryId>>,
    /// The cheapest price to list, in the shop currency (inclusive).
    pub min_price: Option<Decimal>,
    /// The dearest price to list, in the shop currency (inclusive).
    pub max_price: Option<Decimal>,
    /// Only products with units to sell.
    pub in_stock: bool,
    /// Only this vendor's products.
    pub vendor_id: Option<UserId>,
    /// Full-text words over name and description.
    pub text: Option<String>,
    /// Empty means any status.
    pub statuses: Vec<ProductStatus>,
    /// The order.
    pub sort: ProductSort,
    /// Which page, and how long; a cursor continues the same query only.
    pub page: PageRequest,
}

/// Products with their variants, stock, images and rating. Held by the kit's catalog cases
/// (`products_round_trip_with_versions`, `product_listings_filter_sort_and_page`,
/// `a_sale_moves_the_product_version_so_stale_writes_fail`,
/// `the_catalog_generation_moves_with_every_catalog_change`,
/// `low_stock_lists_active_products_at_or_below_their_threshold`).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ProductStore: Send + Sync {
    /// `Duplicate(ProductSlug)` when the slug is taken, `Duplicate(VariantSku)` when two
    /// variants share a SKU, `MissingReference(Category)` when the category does not exist.
    /// `record`'s events go to the outbox in the same transaction (as for every write that
    /// takes a [`ChangeRecord`]: both or neither).
    async fn insert_product(
        &self,
        product: &Product,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// Writes `product` if the stored version is still `product.version`, storing it with the
    /// version bumped by one; returns what was stored. `VersionConflict` otherwise. Every
    /// stock movement (`place_order`, `update_order`) also bumps the version of the products
    /// it touches, so a write based on an older stock count is refused, never lost.
    async fn update_product(
        &self,
        product: &Product,
        record: &ChangeRecord,
    ) -> Result<Product, StorageError>;
    /// Deletes the product and its variants and reviews, writing `record` in the same
    /// transaction; `NotFound` when it is gone. Orders keep their copy of its lines.
    async fn delete_product(
        &self,
        id: ProductId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// The product, whatever its status, if it exists.
    async fn product(&self, id: ProductId) -> Result<Option<Product>, StorageError>;
    /// The products that exist among `ids`, in any order.
    async fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, StorageError>;
    /// The products `query` selects, in its order, a page at a time (held by the kit's
    /// `product_listings_filter_sort_and_page`: every filter, every sort, pages that neither
    /// repeat nor skip).
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

/// Categories (a tree the service builds from the flat list). Held by the kit's
/// `deleting_a_category_moves_its_children_up`.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait CategoryStore: Send + Sync {
    /// Every category, in any order.
    async fn categories(&self) -> Result<Vec<Category>, StorageError>;
    /// Stores a new category with `record`. `Duplicate(CategorySlug)` for a slug in use,
    /// `MissingReference(ParentCategory)` for an unknown parent.
    async fn insert_category(
        &self,
        category: &Category,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// Overwrites the category with `record`; errors as `insert_category`, `NotFound` when
    /// it is gone. (The service refuses a move under its own descendant before asking.)
    async fn update_category(
        &self,
        category: &Category,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// Its children move up to its parent; its products keep no category.
    async fn delete_category(
        &self,
        id: CategoryId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
}

/// Back-in-stock alerts.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait StockAlertStore: Send + Sync {
    /// Stores the alert, unless the same address already waits for the same product and
    /// variant: then that one is returned and nothing is written (atomically, so two
    /// requests at once make one). `MissingReference(Product)` for an unknown product.
    async fn insert_stock_alert(&self, alert: &StockAlert) -> Result<StockAlert, StorageError>;
    /// Waiting alerts whose product (or variant) has stock available now, oldest first, at
    /// most `limit`.
    async fn stock_alerts_due(&self, limit: u32) -> Result<Vec<DueStockAlert>, StorageError>;
    /// Marks an alert sent at `at`; `false` when it was already (another process took it).
    async fn close_stock_alert(
        &self,
        id: StockAlertId,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
    /// Makes a sent alert wait again (its mail could not be sent).
    async fn reopen_stock_alert(&self, id: StockAlertId) -> Result<(), StorageError>;
}

/// Buyers' reviews, and the product ratings they make. Held by the kit's
/// `reviews_keep_the_rating_current`.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// Stores the review and refreshes the product's rating from its approved reviews.
    async fn insert_review(
        &self,
        review: &Review,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// Overwrites the review (its moderation) with `record`, and refreshes the product's
    /// rating in the same transaction; `NotFound` when it is gone.
    async fn update_review(
        &self,
        review: &Review,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// The review, whatever its status, if it exists.
    async fn review(&self, id: ReviewId) -> Result<Option<Review>, StorageError>;
    /// Approved reviews, newest first.
    async fn reviews(
        &self,
        product_id: ProductId,
        page: &PageRequest,
    ) -> Result<Page<Review>, StorageError>;
    /// Whether the user reviewed the product already (one review each).
    async fn has_reviewed(
        &self,
        product_id: ProductId,
        user_id: UserId,
    ) -> Result<bool, StorageError>;
    /// Every product's reviews, of `status` when given, newest first (ties by id, as
    /// `reviews` pages): what the staff look over to moderate. Held by the kit's
    /// `reviews_keep_the_rating_current`.
    async fn all_reviews(
        &self,
        status: Option<ReviewStatus>,
        page: &PageRequest,
    ) -> Result<Page<Review>, StorageError>;
}
