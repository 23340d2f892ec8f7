//! The catalog: products with variants, the category tree, images and reviews.

use crate::limits::{
    MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_OPTIONS, MAX_OPTION_NAME_CHARS,
    MAX_OPTION_VALUE_CHARS, MAX_REVIEW_TEXT_CHARS, MAX_REVIEW_TITLE_CHARS, MAX_SKU_CHARS,
    MAX_VARIANTS,
};
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{CategoryId, ImageId, ProductId, ReviewId, UserId, VariantId};
use crate::inventory::Stock;
use crate::limits::MAX_AMOUNT;
use crate::money::{Currency, Money};
use crate::validation::{check_text, has_control_characters, Lines, ValidationErrors};

/// The most units one product or variant may hold in stock.
pub const MAX_STOCK: u32 = 1_000_000_000;

/// A product's life: a vendor's product waits for approval; only `active` ones are sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    Draft,
    PendingApproval,
    Active,
    Archived,
}

impl ProductStatus {
    pub const ALL: [ProductStatus; 4] = [
        ProductStatus::Draft,
        ProductStatus::PendingApproval,
        ProductStatus::Active,
        ProductStatus::Archived,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ProductStatus::Draft => "draft",
            ProductStatus::PendingApproval => "pending_approval",
            ProductStatus::Active => "active",
            ProductStatus::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<ProductStatus> {
        match s {
            "draft" => Some(ProductStatus::Draft),
            "pending_approval" => Some(ProductStatus::PendingApproval),
            "active" => Some(ProductStatus::Active),
            "archived" => Some(ProductStatus::Archived),
            _ => None,
        }
    }

    /// The moves the catalog allows: `draft → pending_approval → active → archived`, plus
    /// sending a pending product back to draft and bringing an archived one back.
    pub fn can_become(&self, next: ProductStatus) -> bool {
        use ProductStatus::*;
        matches!(
            (self, next),
            (Draft, PendingApproval)
                | (PendingApproval, Active)
                | (PendingApproval, Draft)
                | (Active, Archived)
                | (Archived, Active)
                | (Draft, Archived)
                | (PendingApproval, Archived)
        ) || *self == next
    }
}

/// A sellable variation of a product, with its own SKU, optional price and own stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub id: VariantId,
    pub sku: String,
    /// Option values such as `{"size": "M", "colour": "red"}`, sorted by name.
    pub options: BTreeMap<String, String>,
    /// Overrides the product price when set; in the product's currency.
    pub price: Option<Money>,
    /// Units available to sell.
    pub inventory_count: u32,
    /// Units held by open orders (see [`crate::inventory`]).
    #[serde(default)]
    pub reserved: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductImage {
    pub id: ImageId,
    pub url: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub alt: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Rating {
    /// The mean of approved reviews, two decimals, 0 with none.
    pub average: Decimal,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub slug: String,
    pub description: String,
    /// In the shop's currency (chosen before the first product), at its scale.
    pub price: Money,
    pub category_id: Option<CategoryId>,
    /// The vendor (or admin) who owns it.
    pub vendor_id: UserId,
    pub status: ProductStatus,
    /// Units available when the product has no variants; with variants, their sum.
    pub inventory_count: u32,
    /// Units held by open orders; with variants, their sum.
    #[serde(default)]
    pub reserved: u32,
    /// Available units at or below this emit `LowStock`.
    pub low_stock_threshold: u32,
    pub images: Vec<ProductImage>,
    pub variants: Vec<Variant>,
    pub rating: Rating,
    /// Bumped on every write; a stale `If-Match` is refused.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a vendor or admin sends to create a product.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewProduct {
    pub name: String,
    pub slug: Option<String>,
    pub description: String,
    pub price: Decimal,
    pub category_id: Option<CategoryId>,
    pub inventory_count: u32,
    pub low_stock_threshold: Option<u32>,
    pub variants: Vec<NewVariant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewVariant {
    pub sku: String,
    pub options: BTreeMap<String, String>,
    pub price: Option<Decimal>,
    pub inventory_count: u32,
}

/// A partial update; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProductChanges {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub price: Option<Decimal>,
    pub category_id: Option<Option<CategoryId>>,
    pub inventory_count: Option<u32>,
    pub low_stock_threshold: Option<u32>,
    pub status: Option<ProductStatus>,
    /// Replaces the variants; existing ones are matched by SKU and keep their ids.
    pub variants: Option<Vec<NewVariant>>,
}

/// A URL-safe slug: lower-case letters and digits separated by single dashes.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    let mut dash = false;
    for ch in text.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.push(ch);
        } else {
            dash = true;
        }
    }
    slug.truncate(crate::limits::MAX_SLUG_CHARS);
    slug.trim_end_matches('-').to_string()
}

/// A slug from a name; a name with no letter or digit gets one from the id.
pub fn slug_for(name: &str, id: &str) -> String {
    let slug = slugify(name);
    if slug.is_empty() {
        format!("item-{}", &id[..id.len().min(8)])
    } else {
        slug
    }
}

/// An auto-made slug that clashed with another: made unique with part of the id.
pub fn unique_slug(slug: &str, id: &str) -> String {
    let mut base = slug.to_string();
    base.truncate(110);
    format!("{}-{}", base.trim_end_matches('-'), &id[..id.len().min(8)])
}

fn valid_slug(slug: &str) -> bool {
    !slug.is_empty() && slug.len() <= crate::limits::MAX_SLUG_CHARS && slugify(slug) == slug
}

/// A price as sent, checked and made money in `currency`. A refused price is noted in `errors`
/// and stands in as zero: with an error the whole draft is refused, so it is never kept.
fn checked_price(
    errors: &mut ValidationErrors,
    field: &str,
    price: Decimal,
    currency: Currency,
) -> Money {
    if price.is_sign_negative() && !price.is_zero() {
        errors.add(field, "must not be negative");
    } else if price > MAX_AMOUNT {
        errors.add(field, "is too large");
    } else {
        match Money::new(price, currency) {
            Ok(money) => return money,
            Err(_) => errors.add(
                field,
                format!(
                    "{currency} prices have at most {} decimals",
                    currency.scale()
                ),
            ),
        }
    }
    Money::zero(currency)
}

fn check_name(errors: &mut ValidationErrors, name: &str) {
    let len = name.trim().chars().count();
    if len == 0 || len > MAX_NAME_CHARS {
        errors.add("name", format!("must be 1 to {MAX_NAME_CHARS} characters"));
    }
    check_text(errors, "name", name, Lines::One);
}

fn check_description(errors: &mut ValidationErrors, description: &str) {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.add("description", "at most 20,000 characters");
    }
    check_text(errors, "description", description, Lines::Many);
}

fn build_variants(
    errors: &mut ValidationErrors,
    drafts: Vec<NewVariant>,
    existing: &[Variant],
    currency: Currency,
) -> Vec<Variant> {
    let mut seen = HashSet::new();
    let mut variants = Vec::with_capacity(drafts.len());
    for (i, v) in drafts.into_iter().enumerate() {
        let field = |name: &str| format!("variants.{i}.{name}");
        let sku = v.sku.trim().to_string();
        if sku.is_empty() || sku.chars().count() > MAX_SKU_CHARS {
            errors.add(
                field("sku"),
                format!("must be 1 to {MAX_SKU_CHARS} characters"),
            );
        } else if !seen.insert(sku.to_ascii_uppercase()) {
            errors.add(field("sku"), "is used by another variant of this product");
        }
        check_text(errors, field("sku"), &sku, Lines::One);
        if v.options.iter().any(|(k, val)| {
            has_control_characters(k, Lines::One) || has_control_characters(val, Lines::One)
        }) {
            errors.add(field("options"), "must not contain control characters");
        }
        if v.options.len() > MAX_OPTIONS
            || v.options.iter().any(|(k, val)| {
                k.trim().is_empty()
                    || k.chars().count() > MAX_OPTION_NAME_CHARS
                    || val.chars().count() > MAX_OPTION_VALUE_CHARS
            })
        {
            errors.add(
                field("options"),
                "up to 10 named options of up to 100 characters",
            );
        }
        let price = v
            .price
            .map(|p| checked_price(errors, &field("price"), p, currency));
        if v.inventory_count > MAX_STOCK {
            errors.add(field("inventory_count"), "is too large");
        }
        // A variant kept by SKU keeps its id and the units its open orders hold.
        let kept = existing.iter().find(|e| e.sku.eq_ignore_ascii_case(&sku));
        variants.push(Variant {
            id: kept.map_or_else(VariantId::random, |e| e.id),
            sku,
            options: v.options,
            price,
            inventory_count: v.inventory_count,
            reserved: kept.map_or(0, |e| e.reserved),
        });
    }
    if variants.len() > MAX_VARIANTS {
        errors.add("variants", "at most 100 variants");
    }
    variants
}

impl Product {
    /// Builds a product from what its owner sent; every field error at once.
    pub fn create(
        id: ProductId,
        draft: NewProduct,
        vendor_id: UserId,
        status: ProductStatus,
        currency: Currency,
        now: DateTime<Utc>,
    ) -> Result<Product, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_name(&mut errors, &draft.name);
        let price = checked_price(&mut errors, "price", draft.price, currency);
        check_description(&mut errors, &draft.description);
        let slug = match draft.slug {
            Some(s) if !valid_slug(&s) => {
                errors.add("slug", "lower-case letters, digits and single dashes");
                s
            }
            Some(s) => s,
            None => slug_for(&draft.name, &id.to_string()),
        };
        if draft.inventory_count > MAX_STOCK {
            errors.add("inventory_count", "is too large");
        }
        let variants = build_variants(&mut errors, draft.variants, &[], currency);
        let mut product = Product {
            id,
            name: draft.name.trim().to_string(),
            slug,
            description: draft.description,
            price,
            category_id: draft.category_id,
            vendor_id,
            status,
            inventory_count: draft.inventory_count,
            reserved: 0,
            low_stock_threshold: draft.low_stock_threshold.unwrap_or(5),
            images: Vec::new(),
            variants,
            rating: Rating::default(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        product.sync_inventory_count();
        errors.into_result(product)
    }

    /// Applies a partial update; new prices are in the product's currency. The version is
    /// bumped by the store when it writes.
    pub fn apply(
        &mut self,
        changes: ProductChanges,
        now: DateTime<Utc>,
    ) -> Result<(), ValidationErrors> {
        let currency = self.price.currency();
        let mut errors = ValidationErrors::new();
        let mut next = self.clone();
        if let Some(name) = changes.name {
            check_name(&mut errors, &name);
            next.name = name.trim().to_string();
        }
        if let Some(slug) = changes.slug {
            if !valid_slug(&slug) {
                errors.add("slug", "lower-case letters, digits and single dashes");
            }
            next.slug = slug;
        }
        if let Some(d) = changes.description {
            check_description(&mut errors, &d);
            next.description = d;
        }
        if let Some(price) = changes.price {
            next.price = checked_price(&mut errors, "price", price, currency);
        }
        if let Some(category) = changes.category_id {
            next.category_id = category;
        }
        if let Some(count) = changes.inventory_count {
            if count > MAX_STOCK {
                errors.add("inventory_count", "is too large");
            }
            next.inventory_count = count;
        }
        if let Some(t) = changes.low_stock_threshold {
            next.low_stock_threshold = t;
        }
        if let Some(status) = changes.status {
            if !self.status.can_become(status) {
                errors.add(
                    "status",
                    format!(
                        "a {} product cannot become {}",
                        self.status.as_str(),
                        status.as_str()
                    ),
                );
            }
            next.status = status;
        }
        if let Some(variants) = changes.variants {
            next.variants = build_variants(&mut errors, variants, &self.variants, currency);
        }
        next.sync_inventory_count();
        next.updated_at = now;
        errors.into_result(())?;
        *self = next;
        Ok(())
    }

    /// With variants, the product's counts are their sums (what a listing shows).
    pub fn sync_inventory_count(&mut self) {
        if !self.variants.is_empty() {
            let sum: u64 = self
                .variants
                .iter()
                .map(|v| u64::from(v.inventory_count))
                .sum();
            self.inventory_count = u32::try_from(sum).unwrap_or(u32::MAX);
            let reserved: u64 = self.variants.iter().map(|v| u64::from(v.reserved)).sum();
            self.reserved = u32::try_from(reserved).unwrap_or(u32::MAX);
        }
    }

    /// The stock of the product (no variants) or of one variant.
    pub fn stock(&self, variant: Option<VariantId>) -> Option<Stock> {
        match variant {
            None if self.variants.is_empty() => Some(Stock {
                available: self.inventory_count,
                reserved: self.reserved,
            }),
            None => None,
            Some(id) => self.variant(id).map(|v| Stock {
                available: v.inventory_count,
                reserved: v.reserved,
            }),
        }
    }

    /// Changes the stock of the product or one variant (and the product's sums); `false` when
    /// there is no such stock-keeping unit.
    pub fn update_stock(
        &mut self,
        variant: Option<VariantId>,
        change: impl FnOnce(&mut Stock),
    ) -> bool {
        let Some(mut stock) = self.stock(variant) else {
            return false;
        };
        change(&mut stock);
        match variant.and_then(|id| self.variants.iter_mut().find(|v| v.id == id)) {
            Some(v) => {
                v.inventory_count = stock.available;
                v.reserved = stock.reserved;
            }
            None => {
                self.inventory_count = stock.available;
                self.reserved = stock.reserved;
            }
        }
        self.sync_inventory_count();
        true
    }

    pub fn variant(&self, id: VariantId) -> Option<&Variant> {
        self.variants.iter().find(|v| v.id == id)
    }

    /// The price the engine charges for one unit: the variant's when set, else the product's.
    pub fn unit_price(&self, variant: Option<VariantId>) -> Option<Money> {
        match variant {
            None => Some(self.price),
            Some(id) => self.variant(id).map(|v| v.price.unwrap_or(self.price)),
        }
    }

    /// Units available to sell of the product or of one variant.
    pub fn available(&self, variant: Option<VariantId>) -> Option<u32> {
        match variant {
            None if self.variants.is_empty() => Some(self.inventory_count),
            None => None,
            Some(id) => self.variant(id).map(|v| v.inventory_count),
        }
    }

    /// The SKU of a variant, or a synthetic one from the product slug.
    pub fn sku(&self, variant: Option<VariantId>) -> String {
        variant
            .and_then(|id| self.variant(id))
            .map_or_else(|| self.slug.to_ascii_uppercase(), |v| v.sku.clone())
    }

    /// The name shown on a line: the product name with the variant's option values.
    pub fn line_name(&self, variant: Option<VariantId>) -> String {
        match variant.and_then(|id| self.variant(id)) {
            Some(v) if !v.options.is_empty() => {
                let opts: Vec<&str> = v.options.values().map(String::as_str).collect();
                format!("{} ({})", self.name, opts.join(", "))
            }
            _ => self.name.clone(),
        }
    }

    /// Available stock at or below the product's threshold: time to restock.
    pub fn is_low_on_stock(&self) -> bool {
        self.inventory_count <= self.low_stock_threshold
    }

    pub fn is_sellable(&self) -> bool {
        self.status == ProductStatus::Active
    }
}

/// A node of the category tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub slug: String,
    pub parent_id: Option<CategoryId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A category with its children, for the nested listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryNode {
    pub category: Category,
    pub children: Vec<CategoryNode>,
}

/// Why a change to the tree was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CategoryTreeError {
    #[error("parent category {0} does not exist")]
    UnknownParent(CategoryId),
    #[error("a category cannot be moved under itself or one of its descendants")]
    Cycle,
    #[error("the slug `{0}` is used by another category")]
    SlugTaken(String),
    #[error("{0}")]
    Invalid(ValidationErrors),
}

/// The whole tree, loaded at once (shops have hundreds of categories, not millions).
#[derive(Debug, Clone, Default)]
pub struct CategoryTree {
    by_id: HashMap<CategoryId, Category>,
}

impl CategoryTree {
    pub fn new(categories: impl IntoIterator<Item = Category>) -> Self {
        Self {
            by_id: categories.into_iter().map(|c| (c.id, c)).collect(),
        }
    }

    pub fn get(&self, id: CategoryId) -> Option<&Category> {
        self.by_id.get(&id)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The category and its ancestors up to the root, nearest first.
    pub fn ancestry(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut out = Vec::new();
        let mut current = Some(id);
        while let Some(c) = current {
            if out.contains(&c) || out.len() > self.by_id.len() {
                break; // a cycle in stored data must not hang a request
            }
            out.push(c);
            current = self.by_id.get(&c).and_then(|cat| cat.parent_id);
        }
        out
    }

    /// The category and all its descendants.
    pub fn with_descendants(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut children: HashMap<CategoryId, Vec<CategoryId>> = HashMap::new();
        for c in self.by_id.values() {
            if let Some(p) = c.parent_id {
                children.entry(p).or_default().push(c.id);
            }
        }
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            if let Some(kids) = children.get(&out[i]) {
                for k in kids {
                    if !out.contains(k) {
                        out.push(*k);
                    }
                }
            }
            i += 1;
        }
        out
    }

    /// Checks a new or moved category: the parent exists, no cycle, slug unique.
    pub fn check(&self, category: &Category) -> Result<(), CategoryTreeError> {
        let mut errors = ValidationErrors::new();
        let len = category.name.trim().chars().count();
        if len == 0 || len > MAX_NAME_CHARS {
            errors.add("name", format!("must be 1 to {MAX_NAME_CHARS} characters"));
        }
        check_text(&mut errors, "name", &category.name, Lines::One);
        if !valid_slug(&category.slug) {
            errors.add("slug", "lower-case letters, digits and single dashes");
        }
        if !errors.is_empty() {
            return Err(CategoryTreeError::Invalid(errors));
        }
        if let Some(parent) = category.parent_id {
            if !self.by_id.contains_key(&parent) && parent != category.id {
                return Err(CategoryTreeError::UnknownParent(parent));
            }
            if parent == category.id || self.ancestry(parent).contains(&category.id) {
                return Err(CategoryTreeError::Cycle);
            }
        }
        if self
            .by_id
            .values()
            .any(|c| c.id != category.id && c.slug == category.slug)
        {
            return Err(CategoryTreeError::SlugTaken(category.slug.clone()));
        }
        Ok(())
    }

    /// One category with its children nested to any depth.
    pub fn node(&self, id: CategoryId) -> Option<CategoryNode> {
        fn find(nodes: Vec<CategoryNode>, id: CategoryId) -> Option<CategoryNode> {
            nodes.into_iter().find_map(|n| {
                if n.category.id == id {
                    Some(n)
                } else {
                    find(n.children, id)
                }
            })
        }
        self.get(id)?;
        find(self.nested(), id)
    }

    /// Root categories with their children nested to any depth, each level by name.
    pub fn nested(&self) -> Vec<CategoryNode> {
        let mut children: HashMap<Option<CategoryId>, Vec<&Category>> = HashMap::new();
        for c in self.by_id.values() {
            // A parent that no longer exists makes its child a root rather than hiding it.
            let parent = c.parent_id.filter(|p| self.by_id.contains_key(p));
            children.entry(parent).or_default().push(c);
        }
        for list in children.values_mut() {
            list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        }
        fn build(
            parent: Option<CategoryId>,
            children: &HashMap<Option<CategoryId>, Vec<&Category>>,
            depth: usize,
        ) -> Vec<CategoryNode> {
            if depth > 64 {
                return Vec::new();
            }
            children
                .get(&parent)
                .map(|list| {
                    list.iter()
                        .map(|c| CategoryNode {
                            category: (*c).clone(),
                            children: build(Some(c.id), children, depth + 1),
                        })
                        .collect()
                })
                .unwrap_or_default()
        }
        build(None, &children, 0)
    }
}

/// A customer's review; shown once approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: ReviewId,
    pub product_id: ProductId,
    pub user_id: UserId,
    pub rating: u8,
    pub title: String,
    pub body: String,
    pub status: ReviewStatus,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Pending,
    Approved,
    Rejected,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 3] = [
        ReviewStatus::Pending,
        ReviewStatus::Approved,
        ReviewStatus::Rejected,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ReviewStatus::Pending => "pending",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewStatus> {
        ReviewStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What a customer sends to review a product.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewReview {
    pub rating: u8,
    pub title: String,
    pub body: String,
}

impl Review {
    pub fn new(
        id: ReviewId,
        product_id: ProductId,
        user_id: UserId,
        draft: NewReview,
        status: ReviewStatus,
        now: DateTime<Utc>,
    ) -> Result<Review, ValidationErrors> {
        let NewReview {
            rating,
            title,
            body,
        } = draft;
        let (title, body) = (title.as_str(), body.as_str());
        let mut errors = ValidationErrors::new();
        if !(1..=5).contains(&rating) {
            errors.add("rating", "must be 1 to 5");
        }
        if title.trim().chars().count() > MAX_REVIEW_TITLE_CHARS {
            errors.add("title", "at most 200 characters");
        }
        if body.chars().count() > MAX_REVIEW_TEXT_CHARS {
            errors.add("body", "at most 10,000 characters");
        }
        check_text(&mut errors, "title", title, Lines::One);
        check_text(&mut errors, "body", body, Lines::Many);
        errors.into_result(Review {
            id,
            product_id,
            user_id,
            rating,
            title: title.trim().to_string(),
            body: body.to_string(),
            status,
            created_at: now,
        })
    }
}

/// The average of approved reviews, rounded half-even to two decimals.
pub fn rating_of(reviews: &[Review]) -> Rating {
    let approved = reviews
        .iter()
        .filter(|r| r.status == ReviewStatus::Approved);
    let (sum, count) = approved.fold((0u64, 0u32), |(s, c), r| (s + u64::from(r.rating), c + 1));
    Rating::from_totals(sum, count)
}

impl Rating {
    /// From the sum and count of approved ratings (what a database aggregates).
    pub fn from_totals(sum: u64, count: u32) -> Rating {
        if count == 0 {
            return Rating::default();
        }
        Rating {
            average: (Decimal::from(sum) / Decimal::from(count)).round_dp(2),
            count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn draft() -> NewProduct {
        NewProduct {
            name: "Linen Shirt".into(),
            description: "Breathable.".into(),
            price: dec!(49.00),
            inventory_count: 10,
            ..Default::default()
        }
    }

    #[test]
    fn a_product_gets_a_slug_and_its_variants_prices() {
        let mut d = draft();
        d.variants = vec![
            NewVariant {
                sku: "SHIRT-M".into(),
                options: [("size".to_string(), "M".to_string())].into(),
                price: None,
                inventory_count: 3,
            },
            NewVariant {
                sku: "SHIRT-XL".into(),
                options: [("size".to_string(), "XL".to_string())].into(),
                price: Some(dec!(55.00)),
                inventory_count: 2,
            },
        ];
        let p = Product::create(
            ProductId::random(),
            d,
            UserId::random(),
            ProductStatus::Active,
            Currency::USD,
            Utc::now(),
        )
        .unwrap();
        assert_eq!(p.slug, "linen-shirt");
        assert_eq!(p.inventory_count, 5);
        let (m, xl) = (p.variants[0].id, p.variants[1].id);
        let usd = |amount| Some(Money::new(amount, Currency::USD).unwrap());
        assert_eq!(p.unit_price(Some(m)), usd(dec!(49.00)));
        assert_eq!(p.unit_price(Some(xl)), usd(dec!(55.00)));
        assert_eq!(p.available(Some(xl)), Some(2));
        assert_eq!(p.line_name(Some(xl)), "Linen Shirt (XL)");
        assert_eq!(p.unit_price(Some(VariantId::random())), None);
    }

    #[test]
    fn refuses_bad_products_field_by_field() {
        let mut d = draft();
        d.name = " ".into();
        d.price = dec!(1.999);
        d.variants = vec![
            NewVariant {
                sku: "A".into(),
                ..Default::default()
            },
            NewVariant {
                sku: "a".into(),
                ..Default::default()
            },
        ];
        let err = Product::create(
            ProductId::random(),
            d,
            UserId::random(),
            ProductStatus::Active,
            Currency::USD,
            Utc::now(),
        )
        .unwrap_err();
        let fields: Vec<_> = err.fields().collect();
        assert_eq!(fields, vec!["name", "price", "variants.1.sku"]);
    }

    #[test]
    fn status_follows_the_catalog_lifecycle() {
        use ProductStatus::*;
        assert!(Draft.can_become(PendingApproval));
        assert!(PendingApproval.can_become(Active));
        assert!(Active.can_become(Archived));
        assert!(!Draft.can_become(Active));
        assert!(!Archived.can_become(PendingApproval));
        let mut p = Product::create(
            ProductId::random(),
            draft(),
            UserId::random(),
            Draft,
            Currency::USD,
            Utc::now(),
        )
        .unwrap();
        let err = p
            .apply(
                ProductChanges {
                    status: Some(Active),
                    ..Default::default()
                },
                Utc::now(),
            )
            .unwrap_err();
        assert_eq!(err.fields().collect::<Vec<_>>(), vec!["status"]);
        assert_eq!(
            p.status, Draft,
            "a refused change leaves the product as it was"
        );
    }

    fn cat(name: &str, parent: Option<CategoryId>) -> Category {
        Category {
            id: CategoryId::random(),
            name: name.into(),
            slug: slugify(name),
            parent_id: parent,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn the_category_tree_nests_and_refuses_cycles() {
        let clothing = cat("Clothing", None);
        let shirts = cat("Shirts", Some(clothing.id));
        let linen = cat("Linen", Some(shirts.id));
        let tree = CategoryTree::new([clothing.clone(), shirts.clone(), linen.clone()]);
        assert_eq!(
            tree.ancestry(linen.id),
            vec![linen.id, shirts.id, clothing.id]
        );
        let mut below = tree.with_descendants(clothing.id);
        below.sort();
        let mut expected = vec![clothing.id, shirts.id, linen.id];
        expected.sort();
        assert_eq!(below, expected);
        let nested = tree.nested();
        assert_eq!(nested.len(), 1);
        assert_eq!(nested[0].children[0].children[0].category.id, linen.id);
        // Moving Clothing under Linen would make a cycle.
        let mut moved = clothing.clone();
        moved.parent_id = Some(linen.id);
        assert_eq!(tree.check(&moved), Err(CategoryTreeError::Cycle));
        let mut dup = cat("Shirts", None);
        dup.slug = "shirts".into();
        assert!(matches!(
            tree.check(&dup),
            Err(CategoryTreeError::SlugTaken(_))
        ));
    }

    #[test]
    fn ratings_average_approved_reviews() {
        let p = ProductId::random();
        let r = |rating, status| {
            let draft = NewReview {
                rating,
                ..Default::default()
            };
            Review::new(
                ReviewId::random(),
                p,
                UserId::random(),
                draft,
                status,
                Utc::now(),
            )
            .unwrap()
        };
        let reviews = vec![
            r(5, ReviewStatus::Approved),
            r(4, ReviewStatus::Approved),
            r(4, ReviewStatus::Approved),
            r(1, ReviewStatus::Pending),
        ];
        assert_eq!(
            rating_of(&reviews),
            Rating {
                average: dec!(4.33),
                count: 3
            }
        );
        let six = NewReview {
            rating: 6,
            ..Default::default()
        };
        assert!(Review::new(
            ReviewId::random(),
            p,
            UserId::random(),
            six,
            ReviewStatus::Pending,
            Utc::now()
        )
        .is_err());
    }

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slugify("  Crème Brûlée & Co. "), "cr-me-br-l-e-co");
        assert_eq!(slugify("T-Shirt  XL"), "t-shirt-xl");
    }
}
