//! Money, the store and its shipping methods.

use super::*;

/// An amount of money: never a float.
#[derive(Debug, Clone, Object, serde::Serialize)]
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

/// The shop as buyers see it.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Store")]
pub struct StoreJson {
    /// The shop's name.
    pub name: String,
    /// ISO 4217 code of the shop's currency: every price is in it.
    pub currency: String,
    /// Whether prices include tax (tax is then taken out of them, not added).
    pub prices_include_tax: bool,
    /// `line` or `order`.
    pub tax_rounding: String,
    /// Whether shipping is taxed too.
    pub tax_shipping: bool,
    /// The shop's own address, as invoices show it.
    #[oai(nullable)]
    pub address: Option<AddressJson>,
    /// What a product created without its own low-stock threshold takes.
    pub low_stock_threshold: u32,
    /// The payment providers a buyer may name as `payment_provider` at checkout, the
    /// default first (`stripe`, `paypal`, `test`); empty when the shop takes no payments.
    pub payment_providers: Vec<String>,
}

impl StoreJson {
    /// The store as a buyer sees it: its settings and the shop's payment providers.
    pub fn of(settings: StoreSettings, shop: &commerce_core::service::Commerce) -> Self {
        Self {
            payment_providers: shop
                .payment_providers()
                .into_iter()
                .map(str::to_string)
                .collect(),
            ..settings.into()
        }
    }
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
            address: s.address.map(Into::into),
            low_stock_threshold: s.low_stock_threshold,
            payment_providers: Vec::new(),
        }
    }
}

/// A way of shipping an order, at a price.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "ShippingMethod")]
pub struct ShippingMethodJson {
    /// Its id (checkout's `shipping_method`).
    pub id: Uuid,
    /// Its name (`Standard`).
    pub name: String,
    /// What it costs, before `free_above` applies.
    pub price: MoneyJson,
    /// Free when the discounted subtotal reaches this.
    #[oai(nullable)]
    pub free_above: Option<MoneyJson>,
    /// Whether buyers may choose it.
    pub active: bool,
}

impl From<ShippingMethod> for ShippingMethodJson {
    fn from(m: ShippingMethod) -> Self {
        Self {
            id: m.id.as_uuid(),
            name: m.name,
            price: m.price.into(),
            free_above: m.free_above.map(MoneyJson::from),
            active: m.active,
        }
    }
}
