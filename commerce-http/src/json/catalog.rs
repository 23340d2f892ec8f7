//! Categories, products with their variants, images and rating, and reviews.

use super::*;

/// A category with its children, nested to any depth.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Category")]
pub struct CategoryJson {
    /// Its id (a product's `category_id`).
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its name in URLs, unique (`kitchen-lamps`).
    pub slug: String,
    /// The category it sits in; null at the root.
    #[oai(nullable)]
    pub parent_id: Option<Uuid>,
    /// Nested to any depth.
    pub children: Vec<CategoryJson>,
}

impl From<Category> for CategoryJson {
    fn from(c: Category) -> Self {
        Self {
            id: c.id.as_uuid(),
            name: c.name,
            slug: c.slug,
            parent_id: c.parent_id.map(|p| p.as_uuid()),
            children: Vec::new(),
        }
    }
}

impl From<CategoryNode> for CategoryJson {
    fn from(n: CategoryNode) -> Self {
        Self {
            id: n.category.id.as_uuid(),
            name: n.category.name,
            slug: n.category.slug,
            parent_id: n.category.parent_id.map(|p| p.as_uuid()),
            children: n.children.into_iter().map(Into::into).collect(),
        }
    }
}

/// A picture of a product.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Image")]
pub struct ImageJson {
    /// Its id (to delete it).
    pub id: Uuid,
    /// Where it is served (`/images/...`), cached for a year: its key never changes.
    pub url: String,
}

/// One version of a product (a size, a colour) with its own SKU, stock and, perhaps, price.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Variant")]
pub struct VariantJson {
    /// Its id (a cart line's `variant_id`).
    pub id: Uuid,
    /// Its stock-keeping unit, unique within the product (case aside).
    pub sku: String,
    /// Option values, e.g. `{"size": "M"}`.
    pub options: BTreeMap<String, String>,
    /// Its price: its own, or the product's.
    pub price: MoneyJson,
    /// Units that can still be sold (placed orders hold theirs already).
    pub inventory_count: u32,
    /// Its own low-stock threshold; null: the product's.
    #[oai(nullable)]
    pub low_stock_threshold: Option<u32>,
}

/// What buyers thought of a product: its approved reviews.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Rating")]
pub struct RatingJson {
    /// The mean of approved reviews, two decimals, as a string ("4.33"); "0" with none.
    pub average: String,
    /// How many approved reviews there are.
    pub count: u32,
}

/// A product as the catalog shows it.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Product")]
pub struct ProductJson {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its name in URLs, unique (`walnut-desk-lamp`).
    pub slug: String,
    /// What the shop says about it (plain text).
    pub description: String,
    /// Its price (variants may have their own).
    pub price: MoneyJson,
    /// The category it is in, if any.
    #[oai(nullable)]
    pub category_id: Option<Uuid>,
    /// Who sells it: the vendor who made it, or the staff member.
    pub vendor_id: Uuid,
    /// `draft`, `pending_approval`, `active` or `archived`.
    pub status: String,
    /// Units available to sell.
    pub inventory_count: u32,
    /// At or below this many available the product (or a variant without its own) is low
    /// on stock.
    pub low_stock_threshold: u32,
    /// Its pictures, in the order they were added.
    pub images: Vec<ImageJson>,
    /// Its variants; empty when it is sold as one thing.
    pub variants: Vec<VariantJson>,
    /// Its rating.
    pub rating: RatingJson,
    /// Its version: send it back in `If-Match` to change it (412 when someone changed it first).
    pub version: u64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed (stock included).
    pub updated_at: DateTime<Utc>,
}

impl ProductJson {
    /// The product's JSON.
    pub fn new(p: Product) -> Self {
        let price = p.price;
        Self {
            id: p.id.as_uuid(),
            name: p.name,
            slug: p.slug,
            description: p.description,
            price: price.into(),
            category_id: p.category_id.map(|c| c.as_uuid()),
            vendor_id: p.vendor_id.as_uuid(),
            status: p.status.as_str().to_string(),
            inventory_count: p.inventory_count,
            low_stock_threshold: p.low_stock_threshold,
            images: p
                .images
                .into_iter()
                .map(|i| ImageJson {
                    id: i.id.as_uuid(),
                    url: i.url,
                })
                .collect(),
            variants: p
                .variants
                .into_iter()
                .map(|v| VariantJson {
                    id: v.id.as_uuid(),
                    sku: v.sku,
                    options: v.options,
                    price: v.price.unwrap_or(price).into(),
                    inventory_count: v.inventory_count,
                    low_stock_threshold: v.low_stock_threshold,
                })
                .collect(),
            rating: RatingJson {
                average: p.rating.average.to_string(),
                count: p.rating.count,
            },
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A page of products.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "ProductPage")]
pub struct ProductPageJson {
    /// The products of this page.
    pub items: Vec<ProductJson>,
    /// Pass as `cursor` for the next page; null on the last.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

/// A buyer's review of a product.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Review")]
pub struct ReviewJson {
    /// Its id (to moderate it).
    pub id: Uuid,
    /// The product reviewed.
    pub product_id: Uuid,
    /// Who wrote it: a customer who bought the product.
    pub user_id: Uuid,
    /// 1 to 5 stars.
    pub rating: u8,
    /// Its title.
    pub title: String,
    /// What they wrote.
    pub body: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

impl From<Review> for ReviewJson {
    fn from(r: Review) -> Self {
        Self {
            id: r.id.as_uuid(),
            product_id: r.product_id.as_uuid(),
            user_id: r.user_id.as_uuid(),
            rating: r.rating,
            title: r.title,
            body: r.body,
            status: r.status.as_str().to_string(),
            created_at: r.created_at,
        }
    }
}

/// A page of reviews, newest first.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "ReviewPage")]
pub struct ReviewPageJson {
    /// The reviews of this page.
    pub items: Vec<ReviewJson>,
    /// Where the next page starts (pass it as `cursor`); null on the last page.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}
