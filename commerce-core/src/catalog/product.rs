//! Products: their status, variants, images and stock, as created and changed.

use super::*;

/// The most units one product or variant may hold in stock.
pub const MAX_STOCK: u32 = 1_000_000_000;

/// A product's life: a vendor's product waits for approval; only `active` ones are sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    /// Being written; not for sale, seen by its owner and staff only.
    Draft,
    /// A vendor's product waiting for a manager or admin to approve it.
    PendingApproval,
    /// For sale.
    Active,
    /// No longer for sale; kept for the orders that name it.
    Archived,
}

impl ProductStatus {
    /// Every status.
    pub const ALL: [ProductStatus; 4] = [
        ProductStatus::Draft,
        ProductStatus::PendingApproval,
        ProductStatus::Active,
        ProductStatus::Archived,
    ];

    /// Its name in the API (`pending_approval`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ProductStatus::Draft => "draft",
            ProductStatus::PendingApproval => "pending_approval",
            ProductStatus::Active => "active",
            ProductStatus::Archived => "archived",
        }
    }

    /// The status of that name.
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

/// A new shop's low-stock threshold, and a product's when neither it nor the shop says.
pub const DEFAULT_LOW_STOCK_THRESHOLD: u32 = 5;

/// A sellable variation of a product, with its own SKU, optional price and own stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// Its id.
    pub id: VariantId,
    /// Its stock-keeping unit, unique within the product (case aside).
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
    /// Available units at or below this make the variant low on stock; `None`: its
    /// product's threshold.
    #[serde(default)]
    pub low_stock_threshold: Option<u32>,
}

impl Variant {
    /// The threshold that holds for this variant: its own, else its product's.
    pub fn threshold(&self, product_threshold: u32) -> u32 {
        self.low_stock_threshold.unwrap_or(product_threshold)
    }
}

/// A picture of a product, kept in the image store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductImage {
    /// Its id (also its key in the image store, with the extension).
    pub id: ImageId,
    /// Where it is served.
    pub url: String,
    /// Its type, from its bytes (PNG, JPEG, WebP or GIF).
    pub content_type: String,
    /// Its size.
    pub size_bytes: u64,
    /// Its text for those who cannot see it.
    pub alt: Option<String>,
}

/// A product of the catalog, with its variants, stock, images and rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Its id.
    pub id: ProductId,
    /// Its name.
    pub name: String,
    /// Its name in URLs, unique.
    pub slug: String,
    /// What the shop says about it (plain text).
    pub description: String,
    /// In the shop's currency (chosen before the first product), at its scale.
    pub price: Money,
    /// The category it is in, if any.
    pub category_id: Option<CategoryId>,
    /// The vendor (or admin) who owns it.
    pub vendor_id: UserId,
    /// Where it stands: only `Active` products are for sale.
    pub status: ProductStatus,
    /// Units available when the product has no variants; with variants, their sum.
    pub inventory_count: u32,
    /// Units held by open orders; with variants, their sum.
    #[serde(default)]
    pub reserved: u32,
    /// Available units at or below this make the product (or a variant without its own
    /// threshold) low on stock. A product created without one takes the store's
    /// ([`StoreSettings::low_stock_threshold`](crate::ports::StoreSettings)) at that moment.
    pub low_stock_threshold: u32,
    /// Its pictures, in the order they were added.
    pub images: Vec<ProductImage>,
    /// Its variants; empty when it is sold as one thing.
    pub variants: Vec<Variant>,
    /// Its approved reviews' average and count.
    pub rating: Rating,
    /// Bumped on every write; a stale `If-Match` is refused.
    pub version: u64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed (stock included).
    pub updated_at: DateTime<Utc>,
}

/// What a vendor or admin sends to create a product.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewProduct {
    /// Its name (1 to 200 characters).
    pub name: String,
    /// Its name in URLs; made from the name when absent (and made unique).
    pub slug: Option<String>,
    /// What the shop says about it.
    pub description: String,
    /// Its price in the shop currency, at the currency's scale or finer (refused, not rounded).
    pub price: Decimal,
    /// Its category, if any.
    pub category_id: Option<CategoryId>,
    /// Units to sell; with variants, the product counts the sum of theirs.
    pub inventory_count: u32,
    /// Its low-stock threshold; `None`: the store's.
    pub low_stock_threshold: Option<u32>,
    /// Its variants, if it is sold by size, colour and the like.
    pub variants: Vec<NewVariant>,
}

/// A variant as sent to create or replace a product's variants.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewVariant {
    /// Its SKU, unique within the product (case aside).
    pub sku: String,
    /// Its options (`{"size": "M"}`).
    pub options: BTreeMap<String, String>,
    /// Its own price; `None`: the product's.
    pub price: Option<Decimal>,
    /// Its units to sell.
    pub inventory_count: u32,
    /// `None`: the product's threshold.
    #[serde(default)]
    pub low_stock_threshold: Option<u32>,
}

/// A partial update; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProductChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new slug.
    pub slug: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new price.
    pub price: Option<Decimal>,
    /// `Some(None)` takes it out of its category.
    pub category_id: Option<Option<CategoryId>>,
    /// A new stock count (products without variants).
    pub inventory_count: Option<u32>,
    /// A new low-stock threshold.
    pub low_stock_threshold: Option<u32>,
    /// A new status, as the catalog's status rules allow (`Active` is for staff).
    pub status: Option<ProductStatus>,
    /// Replaces the variants; existing ones are matched by SKU and keep their ids.
    pub variants: Option<Vec<NewVariant>>,
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
        if v.low_stock_threshold.is_some_and(|t| t > MAX_STOCK) {
            errors.add(field("low_stock_threshold"), "is too large");
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
            low_stock_threshold: v.low_stock_threshold,
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
            low_stock_threshold: draft
                .low_stock_threshold
                .unwrap_or(DEFAULT_LOW_STOCK_THRESHOLD),
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

    /// The product's variant of that id.
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

    /// Time to restock: the product's available stock at or below its threshold, or, for a
    /// product sold by variant, any variant's at or below its own (else the product's).
    pub fn is_low_on_stock(&self) -> bool {
        if self.variants.is_empty() {
            self.inventory_count <= self.low_stock_threshold
        } else {
            self.variants
                .iter()
                .any(|v| v.inventory_count <= v.threshold(self.low_stock_threshold))
        }
    }

    /// The threshold of the product (no variants) or of one of its variants.
    pub fn threshold(&self, variant: Option<VariantId>) -> u32 {
        variant
            .and_then(|id| self.variant(id))
            .map_or(self.low_stock_threshold, |v| {
                v.threshold(self.low_stock_threshold)
            })
    }

    /// Whether it can be bought now (it is `Active`).
    pub fn is_sellable(&self) -> bool {
        self.status == ProductStatus::Active
    }
}
