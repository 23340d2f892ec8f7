//! Categories, products with their variants, images and rating, and reviews.

use super::*;

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Category")]
pub struct CategoryJson {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
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

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Image")]
pub struct ImageJson {
    pub id: Uuid,
    pub url: String,
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Variant")]
pub struct VariantJson {
    pub id: Uuid,
    pub sku: String,
    /// Option values, e.g. `{"size": "M"}`.
    pub options: BTreeMap<String, String>,
    pub price: MoneyJson,
    pub inventory_count: u32,
    /// Its own low-stock threshold; null: the product's.
    #[oai(nullable)]
    pub low_stock_threshold: Option<u32>,
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Rating")]
pub struct RatingJson {
    /// The mean of approved reviews, two decimals, as a string ("4.33"); "0" with none.
    pub average: String,
    pub count: u32,
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Product")]
pub struct ProductJson {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub price: MoneyJson,
    #[oai(nullable)]
    pub category_id: Option<Uuid>,
    pub vendor_id: Uuid,
    /// `draft`, `pending_approval`, `active` or `archived`.
    pub status: String,
    /// Units available to sell.
    pub inventory_count: u32,
    /// At or below this many available the product (or a variant without its own) is low
    /// on stock.
    pub low_stock_threshold: u32,
    pub images: Vec<ImageJson>,
    pub variants: Vec<VariantJson>,
    pub rating: RatingJson,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProductJson {
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

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "ProductPage")]
pub struct ProductPageJson {
    pub items: Vec<ProductJson>,
    /// Pass as `cursor` for the next page; null on the last.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Review")]
pub struct ReviewJson {
    pub id: Uuid,
    pub product_id: Uuid,
    pub user_id: Uuid,
    pub rating: u8,
    pub title: String,
    pub body: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
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

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "ReviewPage")]
pub struct ReviewPageJson {
    pub items: Vec<ReviewJson>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}
