//! The JSON shapes of the API (../shared/API.md), converted from domain values. Money is
//! always `{amount, currency}` with the amount a decimal string at the currency's scale.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use commerce_core::catalog::{CategoryNode, Product};
use commerce_core::money::{Currency, Money, Rounding};
use commerce_core::ports::StoreSettings;
use commerce_core::shipping::ShippingMethod;
use commerce_core::tax::TaxRounding;
use poem_openapi::Object;
use uuid::Uuid;

#[derive(Debug, Clone, Object)]
#[oai(rename = "Money")]
pub struct MoneyJson {
    /// A decimal string with the currency's minor-unit scale: "19.99", "500" (JPY).
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
}

impl From<Money> for MoneyJson {
    fn from(m: Money) -> Self {
        Self {
            amount: m.amount().to_string(),
            currency: m.currency().code().to_string(),
        }
    }
}

/// A stored amount (already at scale) in the shop currency.
pub fn money(amount: rust_decimal::Decimal, currency: Currency) -> MoneyJson {
    Money::rounded(amount, currency, Rounding::HalfEven).into()
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "Store")]
pub struct StoreJson {
    pub name: String,
    pub currency: String,
    pub prices_include_tax: bool,
    /// `line` or `order`.
    pub tax_rounding: String,
    pub tax_shipping: bool,
}

impl From<StoreSettings> for StoreJson {
    fn from(s: StoreSettings) -> Self {
        Self {
            name: s.name,
            currency: s.currency.code().to_string(),
            prices_include_tax: s.tax.prices_include_tax,
            tax_rounding: match s.tax.rounding {
                TaxRounding::Line => "line".into(),
                TaxRounding::Order => "order".into(),
            },
            tax_shipping: s.tax.tax_shipping,
        }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "ShippingMethod")]
pub struct ShippingMethodJson {
    pub id: Uuid,
    pub name: String,
    pub price: MoneyJson,
    /// Free when the discounted subtotal reaches this.
    pub free_above: Option<MoneyJson>,
    pub active: bool,
}

impl ShippingMethodJson {
    pub fn new(m: ShippingMethod, currency: Currency) -> Self {
        Self {
            id: m.id.as_uuid(),
            name: m.name,
            price: money(m.price, currency),
            free_above: m.free_above.map(|f| money(f, currency)),
            active: m.active,
        }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "Category")]
pub struct CategoryJson {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub parent_id: Option<Uuid>,
    /// Nested to any depth.
    pub children: Vec<CategoryJson>,
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

#[derive(Debug, Clone, Object)]
#[oai(rename = "Image")]
pub struct ImageJson {
    pub id: Uuid,
    pub url: String,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "Variant")]
pub struct VariantJson {
    pub id: Uuid,
    pub sku: String,
    /// Option values, e.g. `{"size": "M"}`.
    pub options: BTreeMap<String, String>,
    pub price: MoneyJson,
    pub inventory_count: u32,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "Rating")]
pub struct RatingJson {
    /// The mean of approved reviews, two decimals, as a string ("4.33"); "0" with none.
    pub average: String,
    pub count: u32,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "Product")]
pub struct ProductJson {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub price: MoneyJson,
    pub category_id: Option<Uuid>,
    pub vendor_id: Uuid,
    /// `draft`, `pending_approval`, `active` or `archived`.
    pub status: String,
    /// Units available to sell.
    pub inventory_count: u32,
    pub images: Vec<ImageJson>,
    pub variants: Vec<VariantJson>,
    pub rating: RatingJson,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProductJson {
    pub fn new(p: Product, currency: Currency) -> Self {
        let price = p.price;
        Self {
            id: p.id.as_uuid(),
            name: p.name,
            slug: p.slug,
            description: p.description,
            price: money(price, currency),
            category_id: p.category_id.map(|c| c.as_uuid()),
            vendor_id: p.vendor_id.as_uuid(),
            status: p.status.as_str().to_string(),
            inventory_count: p.inventory_count,
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
                    price: money(v.price.unwrap_or(price), currency),
                    inventory_count: v.inventory_count,
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

#[derive(Debug, Clone, Object)]
#[oai(rename = "ProductPage")]
pub struct ProductPageJson {
    pub items: Vec<ProductJson>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "Health")]
pub struct HealthJson {
    pub status: String,
}
