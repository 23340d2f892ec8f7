//! The shop's setup: tax rates, shipping methods and the store's settings.

use super::*;

impl Choices for TaxRounding {
    const NAME: &'static str = "tax_rounding";
    fn all() -> Vec<(&'static str, Self)> {
        TaxRounding::ALL.iter().map(|r| (r.as_str(), *r)).collect()
    }
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "TaxRate")]
pub struct TaxRateJson {
    pub id: Uuid,
    pub country: String,
    /// Null for the whole country.
    #[oai(nullable)]
    pub region: Option<String>,
    /// A fraction as a string: "0.0825" is 8.25 %.
    pub rate: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<TaxRate> for TaxRateJson {
    fn from(t: TaxRate) -> Self {
        Self {
            id: t.id.as_uuid(),
            country: t.country,
            region: t.region,
            rate: t.rate.normalize().to_string(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Object, Deserialize)]
pub struct TaxRateBody {
    pub country: Text<Country>,
    /// The whole country when absent, `null` or empty.
    #[serde(default)]
    #[oai(nullable)]
    pub region: Option<Text<AddressPart>>,
    pub rate: Fraction,
}

#[derive(Debug, Object, Deserialize)]
pub struct ShippingMethodBody {
    pub name: Text<Name>,
    pub price: Amount,
    /// Free for subtotals at or above this.
    #[serde(default)]
    #[oai(nullable)]
    pub free_above: Option<Amount>,
    #[serde(default = "yes")]
    #[oai(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Object, Deserialize)]
pub struct StoreBody {
    #[serde(default)]
    #[oai(nullable)]
    pub name: Option<Text<Name>>,
    #[serde(default)]
    #[oai(nullable)]
    pub prices_include_tax: Option<bool>,
    /// Tax rounded per line or once per order (PRICING.md).
    #[serde(default)]
    pub tax_rounding: MaybeWord<TaxRounding>,
    #[serde(default)]
    #[oai(nullable)]
    pub tax_shipping: Option<bool>,
    /// The shop's own address, shown on invoices (a full postal address).
    #[serde(default)]
    #[oai(nullable)]
    pub address: Option<ParcelAddressBody>,
    /// What a product created without its own low-stock threshold takes (products made
    /// before keep theirs).
    #[serde(default)]
    #[oai(nullable)]
    pub low_stock_threshold: Option<crate::rules::Stock>,
}
