//! Promotions (the API's "discounts"): automatic or by code; percent, fixed, buy-X-get-Y or
//! free shipping; each in one class and declaring which classes it combines with.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{CategoryId, ProductId, PromotionId};
use crate::money::{Currency, Money};
use crate::validation::ValidationErrors;

/// What a promotion takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PromotionKind {
    /// `value` percent ("10" = 10 %) of its base.
    Percent {
        /// The percentage, 0 to 100.
        value: Decimal,
    },
    /// A fixed amount in the shop currency: off each unit (product class), off the order, or
    /// off the shipping.
    Fixed {
        /// The amount.
        value: Money,
    },
    /// For every `buy + get` eligible units, the `get` cheapest are free.
    BuyXGetY {
        /// Units to buy.
        buy: u32,
        /// Units then free.
        get: u32,
    },
    /// The shipping price.
    FreeShipping,
}

impl PromotionKind {
    /// Its name in the API (`buy_x_get_y`).
    pub fn name(&self) -> &'static str {
        match self {
            PromotionKind::Percent { .. } => "percent",
            PromotionKind::Fixed { .. } => "fixed",
            PromotionKind::BuyXGetY { .. } => "buy_x_get_y",
            PromotionKind::FreeShipping => "free_shipping",
        }
    }
}

/// Where a promotion applies; stacking rules are stated between classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionClass {
    /// Discounts products' units (before order promotions).
    Product,
    /// Discounts the order's subtotal, spread over its lines.
    Order,
    /// Discounts shipping.
    Shipping,
}

impl PromotionClass {
    /// Every class, in the order the engine takes them.
    pub const ALL: [PromotionClass; 3] = [
        PromotionClass::Product,
        PromotionClass::Order,
        PromotionClass::Shipping,
    ];

    fn bit(self) -> u8 {
        match self {
            PromotionClass::Product => 1,
            PromotionClass::Order => 2,
            PromotionClass::Shipping => 4,
        }
    }

    /// Its name in the API (`order`).
    pub fn name(&self) -> &'static str {
        match self {
            PromotionClass::Product => "product",
            PromotionClass::Order => "order",
            PromotionClass::Shipping => "shipping",
        }
    }
}

/// A set of classes, for `combines_with`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ClassSet(u8);

impl ClassSet {
    /// No class.
    pub fn empty() -> Self {
        Self(0)
    }
    /// Whether `class` is in the set.
    pub fn contains(&self, class: PromotionClass) -> bool {
        self.0 & class.bit() != 0
    }
    /// Adds `class`.
    pub fn insert(&mut self, class: PromotionClass) {
        self.0 |= class.bit();
    }
    /// The classes in the set, in `PromotionClass::ALL`'s order.
    pub fn iter(&self) -> impl Iterator<Item = PromotionClass> + '_ {
        PromotionClass::ALL
            .into_iter()
            .filter(|c| self.contains(*c))
    }
}

impl FromIterator<PromotionClass> for ClassSet {
    fn from_iter<I: IntoIterator<Item = PromotionClass>>(iter: I) -> Self {
        let mut set = ClassSet::empty();
        for c in iter {
            set.insert(c);
        }
        set
    }
}

impl Serialize for ClassSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ClassSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<PromotionClass>::deserialize(d)?.into_iter().collect())
    }
}

/// Which lines a promotion concerns; both empty means everything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AppliesTo {
    /// These products (and their variants).
    #[serde(default)]
    pub product_ids: Vec<ProductId>,
    /// Products in these categories or their descendants.
    #[serde(default)]
    pub category_ids: Vec<CategoryId>,
}

impl AppliesTo {
    /// Whether it concerns every line.
    pub fn is_everything(&self) -> bool {
        self.product_ids.is_empty() && self.category_ids.is_empty()
    }

    /// Whether a line of `product` in `categories` (its category and every ancestor) matches.
    pub fn matches(&self, product: ProductId, categories: &[CategoryId]) -> bool {
        self.is_everything()
            || self.product_ids.contains(&product)
            || categories.iter().any(|c| self.category_ids.contains(c))
    }
}

/// A promotion as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    /// Its id.
    pub id: PromotionId,
    /// Upper-case; `None` for an automatic promotion.
    pub code: Option<String>,
    /// What it takes off.
    pub kind: PromotionKind,
    /// What it discounts.
    pub class: PromotionClass,
    /// The classes it may be taken together with.
    pub combines_with: ClassSet,
    /// Which lines it concerns.
    pub applies_to: AppliesTo,
    /// The discounted subtotal an order needs for this to apply; in the shop currency.
    pub min_subtotal: Option<Money>,
    /// From when it applies; `None`: already.
    pub starts_at: Option<DateTime<Utc>>,
    /// Until when (exclusive); `None`: no end.
    pub ends_at: Option<DateTime<Utc>>,
    /// How many orders may use it in all.
    pub usage_limit: Option<u32>,
    /// How many orders one customer may use it in.
    pub per_customer_limit: Option<u32>,
    /// Orders that used it (counted by `place_order`, given back when one is cancelled).
    pub used_count: u32,
    /// Whether it applies at all.
    pub active: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What an admin sends to create or replace a promotion; checked by [`PromotionDraft::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PromotionDraft {
    /// Its code; `None` (or absent) makes it automatic.
    pub code: Option<String>,
    /// `percent`, `fixed`, `buy_x_get_y` or `free_shipping`.
    pub kind: String,
    /// The percentage or the amount (percent and fixed only).
    pub value: Option<Decimal>,
    /// Units to buy (buy_x_get_y).
    pub buy_quantity: Option<u32>,
    /// Units then free (buy_x_get_y).
    pub get_quantity: Option<u32>,
    /// What it discounts; by default what its kind implies (PRICING.md).
    pub class: Option<PromotionClass>,
    /// The classes it combines with (default none).
    pub combines_with: Vec<PromotionClass>,
    /// Which lines it concerns (default every line).
    pub applies_to: AppliesTo,
    /// The subtotal an order needs, in the shop currency.
    pub min_subtotal: Option<Decimal>,
    /// From when it applies.
    pub starts_at: Option<DateTime<Utc>>,
    /// Until when (after `starts_at`).
    pub ends_at: Option<DateTime<Utc>>,
    /// Uses in all.
    pub usage_limit: Option<u32>,
    /// Uses per customer.
    pub per_customer_limit: Option<u32>,
    /// Whether it applies (default true).
    pub active: Option<bool>,
}

/// The kinds of promotion a draft may name (`PromotionDraft::kind`).
pub const KINDS: [&str; 4] = ["percent", "fixed", "buy_x_get_y", "free_shipping"];

/// Codes are letters, digits, `-` and `_`, matched case-insensitively and stored upper-case:
/// the code as stored, or `None` when it is not one.
pub fn normalize_code(code: &str) -> Option<String> {
    let trimmed = code.trim();
    let valid = !trimmed.is_empty()
        && trimmed.len() <= crate::limits::MAX_DISCOUNT_CODE_CHARS
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then(|| trimmed.to_ascii_uppercase())
}

impl PromotionDraft {
    /// Checks every rule of PRICING.md ("any other pairing is refused when the promotion is
    /// saved") and builds the promotion.
    pub fn validate(
        self,
        id: PromotionId,
        currency: Currency,
        now: DateTime<Utc>,
    ) -> Result<Promotion, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let code = match self.code.as_deref() {
            None => None,
            Some(raw) => match normalize_code(raw) {
                Some(code) => Some(code),
                None => {
                    errors.add("code", "use 1 to 64 letters, digits, '-' or '_'");
                    None
                }
            },
        };
        // A refused amount stands in as zero: with an error nothing is kept.
        let value_at_scale = |errors: &mut ValidationErrors, field: &str, v: Decimal| {
            let money = Money::new(v, currency);
            if v.is_sign_negative() && !v.is_zero() {
                errors.add(field, "must not be negative");
            } else if money.is_err() {
                errors.add(
                    field,
                    format!(
                        "{currency} amounts have at most {} decimals",
                        currency.scale()
                    ),
                );
            } else if v > crate::limits::MAX_AMOUNT {
                errors.add(field, "is too large");
            }
            money.unwrap_or(Money::zero(currency))
        };
        let kind = match self.kind.as_str() {
            "percent" => match self.value {
                Some(v) if v.is_sign_negative() && !v.is_zero() || v > Decimal::ONE_HUNDRED => {
                    errors.add("value", "a percentage must be between 0 and 100");
                    None
                }
                Some(v) if v.normalize().scale() > 4 => {
                    errors.add("value", "a percentage has at most 4 decimals");
                    None
                }
                Some(v) => Some(PromotionKind::Percent { value: v }),
                None => {
                    errors.add("value", "is required for a percent discount");
                    None
                }
            },
            "fixed" => match self.value {
                Some(v) => Some(PromotionKind::Fixed {
                    value: value_at_scale(&mut errors, "value", v),
                }),
                None => {
                    errors.add("value", "is required for a fixed discount");
                    None
                }
            },
            "buy_x_get_y" => {
                let buy = self.buy_quantity.unwrap_or(0);
                let get = self.get_quantity.unwrap_or(0);
                if buy == 0 {
                    errors.add("buy_quantity", "must be at least 1");
                }
                if get == 0 {
                    errors.add("get_quantity", "must be at least 1");
                }
                if buy.saturating_add(get) > crate::limits::MAX_BUY_AND_GET_UNITS {
                    errors.add("buy_quantity", "is too large");
                }
                Some(PromotionKind::BuyXGetY { buy, get })
            }
            "free_shipping" => Some(PromotionKind::FreeShipping),
            "" => {
                errors.add("kind", "is required");
                None
            }
            _ => {
                errors.add(
                    "kind",
                    "must be one of percent, fixed, buy_x_get_y, free_shipping",
                );
                None
            }
        };
        if let Some(kind) = kind {
            if !matches!(
                kind,
                PromotionKind::Percent { .. } | PromotionKind::Fixed { .. }
            ) && self.value.is_some_and(|v| !v.is_zero())
            {
                errors.add(
                    "value",
                    format!("a {} discount takes no value", kind.name()),
                );
            }
        }
        let class = match (kind, self.class) {
            (Some(PromotionKind::BuyXGetY { .. }), None | Some(PromotionClass::Product)) => {
                PromotionClass::Product
            }
            (Some(PromotionKind::FreeShipping), None | Some(PromotionClass::Shipping)) => {
                PromotionClass::Shipping
            }
            (Some(PromotionKind::BuyXGetY { .. }), Some(_)) => {
                errors.add("class", "buy_x_get_y is always class product");
                PromotionClass::Product
            }
            (Some(PromotionKind::FreeShipping), Some(_)) => {
                errors.add("class", "free_shipping is always class shipping");
                PromotionClass::Shipping
            }
            (_, Some(class)) => class,
            (_, None) => PromotionClass::Order,
        };
        let min_subtotal = self
            .min_subtotal
            .map(|min| value_at_scale(&mut errors, "min_subtotal", min));
        if let (Some(start), Some(end)) = (self.starts_at, self.ends_at) {
            if end <= start {
                errors.add("ends_at", "must be after starts_at");
            }
        }
        if self.per_customer_limit == Some(0) {
            errors.add("per_customer_limit", "must be at least 1 when given");
        }
        let Some(kind) = kind else {
            return Err(errors);
        };
        let promotion = Promotion {
            id,
            code,
            kind,
            class,
            combines_with: self.combines_with.into_iter().collect(),
            applies_to: self.applies_to,
            min_subtotal,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            usage_limit: self.usage_limit,
            per_customer_limit: self.per_customer_limit,
            used_count: 0,
            active: self.active.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        errors.into_result(promotion)
    }
}

impl Promotion {
    /// Whether it applies without a code.
    pub fn is_automatic(&self) -> bool {
        self.code.is_none()
    }

    /// Whether both may apply together: each lists the other's class.
    pub fn combines(&self, other: &Promotion) -> bool {
        self.combines_with.contains(other.class) && other.combines_with.contains(self.class)
    }

    /// Whether it has started at `now`.
    pub fn has_started(&self, now: DateTime<Utc>) -> bool {
        self.starts_at.is_none_or(|s| s <= now)
    }

    /// Whether it has ended at `now`.
    pub fn has_ended(&self, now: DateTime<Utc>) -> bool {
        self.ends_at.is_some_and(|e| now >= e)
    }

    /// Whether its uses in all have run out.
    pub fn usage_exhausted(&self) -> bool {
        self.usage_limit
            .is_some_and(|limit| self.used_count >= limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn draft(kind: &str) -> PromotionDraft {
        PromotionDraft {
            kind: kind.into(),
            ..Default::default()
        }
    }

    #[test]
    fn percent_and_fixed_default_to_order_class() {
        let p = PromotionDraft {
            value: Some(dec!(10)),
            code: Some("tenoff".into()),
            ..draft("percent")
        }
        .validate(PromotionId::random(), Currency::USD, Utc::now())
        .unwrap();
        assert_eq!(p.class, PromotionClass::Order);
        assert_eq!(p.code.as_deref(), Some("TENOFF"));
        assert!(p.active);
    }

    #[test]
    fn refuses_pairings_pricing_does_not_allow() {
        let err = PromotionDraft {
            class: Some(PromotionClass::Order),
            ..draft("free_shipping")
        }
        .validate(PromotionId::random(), Currency::USD, Utc::now())
        .unwrap_err();
        assert_eq!(err.fields().collect::<Vec<_>>(), vec!["class"]);
        let err = draft("buy_x_get_y")
            .validate(PromotionId::random(), Currency::USD, Utc::now())
            .unwrap_err();
        assert!(err.fields().any(|f| f == "buy_quantity"));
    }

    #[test]
    fn refuses_bad_values() {
        for (kind, value, field) in [
            ("percent", Some(dec!(101)), "value"),
            ("percent", None, "value"),
            ("fixed", Some(dec!(1.005)), "value"),
            ("fixed", Some(dec!(-1)), "value"),
            ("teleport", None, "kind"),
        ] {
            let err = PromotionDraft {
                value,
                ..draft(kind)
            }
            .validate(PromotionId::random(), Currency::USD, Utc::now())
            .unwrap_err();
            assert!(err.fields().any(|f| f == field), "{kind} {value:?}: {err}");
        }
    }

    #[test]
    fn codes_must_be_plain() {
        assert_eq!(normalize_code(" summer-24 ").as_deref(), Some("SUMMER-24"));
        assert_eq!(normalize_code("no spaces"), None);
        assert_eq!(normalize_code(""), None);
    }
}
