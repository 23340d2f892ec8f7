//! Shipping methods: a flat price, free above an optional threshold.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::ShippingMethodId;
use crate::money::{Currency, Money};
use crate::validation::{check_text, Lines, ValidationErrors};

/// A way of shipping an order, at a price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingMethod {
    /// Its id.
    pub id: ShippingMethodId,
    /// Its name (`Standard`).
    pub name: String,
    /// In the shop currency.
    pub price: Money,
    /// Shipping is free when the discounted subtotal reaches this (`≥`); in the same currency.
    pub free_above: Option<Money>,
    /// Whether buyers may choose it.
    pub active: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl ShippingMethod {
    /// A method checked: a name on one line, a price and `free_above` in `currency`, not
    /// negative.
    pub fn new(
        id: ShippingMethodId,
        name: &str,
        price: Decimal,
        free_above: Option<Decimal>,
        active: bool,
        currency: Currency,
        now: DateTime<Utc>,
    ) -> Result<ShippingMethod, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = name.trim();
        let most = crate::limits::MAX_NAME_CHARS;
        if name.is_empty() || name.chars().count() > most {
            errors.add("name", format!("must be 1 to {most} characters"));
        }
        check_text(&mut errors, "name", name, Lines::One);
        // A refused amount stands in as zero: with an error nothing is kept.
        let mut check = |field: &str, v: Decimal| match Money::new(v, currency) {
            Ok(m) if !v.is_sign_negative() && v <= crate::limits::MAX_AMOUNT => m,
            Ok(_) => {
                errors.add(field, "must be between 0 and 1,000,000,000,000");
                Money::zero(currency)
            }
            Err(_) => {
                errors.add(
                    field,
                    format!(
                        "{currency} amounts have at most {} decimals",
                        currency.scale()
                    ),
                );
                Money::zero(currency)
            }
        };
        let price = check("price", price);
        let free_above = free_above.map(|f| check("free_above", f));
        errors.into_result(ShippingMethod {
            id,
            name: name.to_string(),
            price,
            free_above,
            active,
            created_at: now,
            updated_at: now,
        })
    }
}
