//! Discounts: their shape, the body that creates or changes one, and the kinds and classes a client may name.

use super::*;

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "AppliesTo")]
pub struct AppliesToJson {
    pub product_ids: Vec<Uuid>,
    pub category_ids: Vec<Uuid>,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "Discount")]
pub struct DiscountJson {
    pub id: Uuid,
    /// Null for an automatic promotion.
    #[oai(nullable)]
    pub code: Option<String>,
    /// `percent`, `fixed`, `buy_x_get_y` or `free_shipping`.
    pub kind: String,
    /// Percent ("10" = 10 %) or a fixed amount in the shop currency; null for the others.
    #[oai(nullable)]
    pub value: Option<String>,
    #[oai(nullable)]
    pub buy_quantity: Option<u32>,
    #[oai(nullable)]
    pub get_quantity: Option<u32>,
    /// `product`, `order` or `shipping`.
    pub class: String,
    pub combines_with: Vec<String>,
    pub applies_to: AppliesToJson,
    #[oai(nullable)]
    pub min_subtotal: Option<MoneyJson>,
    #[oai(nullable)]
    pub starts_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub ends_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub usage_limit: Option<u32>,
    #[oai(nullable)]
    pub per_customer_limit: Option<u32>,
    pub used_count: u32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Promotion> for DiscountJson {
    fn from(p: Promotion) -> Self {
        let (value, buy_quantity, get_quantity) = match p.kind {
            PromotionKind::Percent { value } => (Some(value.normalize().to_string()), None, None),
            PromotionKind::Fixed { value } => (Some(MoneyJson::from(value).amount), None, None),
            PromotionKind::BuyXGetY { buy, get } => (None, Some(buy), Some(get)),
            PromotionKind::FreeShipping => (None, None, None),
        };
        Self {
            id: p.id.as_uuid(),
            code: p.code,
            kind: p.kind.name().to_string(),
            value,
            buy_quantity,
            get_quantity,
            class: p.class.name().to_string(),
            combines_with: p
                .combines_with
                .iter()
                .map(|c| c.name().to_string())
                .collect(),
            applies_to: AppliesToJson {
                product_ids: p
                    .applies_to
                    .product_ids
                    .iter()
                    .map(|i| i.as_uuid())
                    .collect(),
                category_ids: p
                    .applies_to
                    .category_ids
                    .iter()
                    .map(|i| i.as_uuid())
                    .collect(),
            },
            min_subtotal: p.min_subtotal.map(MoneyJson::from),
            starts_at: p.starts_at,
            ends_at: p.ends_at,
            usage_limit: p.usage_limit,
            per_customer_limit: p.per_customer_limit,
            used_count: p.used_count,
            active: p.active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "DiscountPage")]
pub struct DiscountPageJson {
    pub items: Vec<DiscountJson>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object, Deserialize, Default)]
pub struct AppliesToBody {
    #[serde(default)]
    #[oai(default)]
    pub product_ids: Vec<Uuid>,
    #[serde(default)]
    #[oai(default)]
    pub category_ids: Vec<Uuid>,
}

/// A kind of promotion, by its name in the core (`promotion::KINDS`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiscountKind(&'static str);

impl Choices for DiscountKind {
    const NAME: &'static str = "discount_kind";
    fn all() -> Vec<(&'static str, Self)> {
        commerce_core::promotion::KINDS
            .iter()
            .map(|k| (*k, DiscountKind(k)))
            .collect()
    }
}

impl Choices for PromotionClass {
    const NAME: &'static str = "promotion_class";
    fn all() -> Vec<(&'static str, Self)> {
        PromotionClass::ALL.iter().map(|c| (c.name(), *c)).collect()
    }
}

/// A discount code or automatic promotion. Only `kind` is required, and `value` for
/// percent and fixed; no `code` makes it automatic. Rules across fields (PRICING.md): a
/// percent `value` is 0 to 100 with at most 4 decimals, a fixed one an amount;
/// `buy_x_get_y` needs `buy_quantity` and `get_quantity` (together at most 10,000) and is
/// class `product`; `free_shipping` is class `shipping`; `ends_at` is after `starts_at`.
#[derive(Debug, Object, Deserialize)]
pub struct DiscountBody {
    #[serde(default)]
    #[oai(nullable)]
    pub code: Option<Text<DiscountCode>>,
    pub kind: Word<DiscountKind>,
    /// Percent ("10" = 10 %) or an amount in the shop currency (string, number or money).
    #[serde(default)]
    #[oai(nullable)]
    pub value: Option<Amount>,
    #[serde(default)]
    #[oai(nullable)]
    pub buy_quantity: Option<Count<1, { commerce_core::limits::MAX_BUY_AND_GET_UNITS }>>,
    #[serde(default)]
    #[oai(nullable)]
    pub get_quantity: Option<Count<1, { commerce_core::limits::MAX_BUY_AND_GET_UNITS }>>,
    /// Defaults by kind (PRICING.md).
    #[serde(default)]
    pub class: MaybeWord<PromotionClass>,
    #[serde(default)]
    #[oai(default)]
    pub combines_with: Vec<Word<PromotionClass>>,
    #[serde(default)]
    #[oai(default)]
    pub applies_to: AppliesToBody,
    #[serde(default)]
    #[oai(nullable)]
    pub min_subtotal: Option<Amount>,
    #[serde(default)]
    #[oai(nullable)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[oai(nullable)]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[oai(nullable)]
    pub usage_limit: Option<Count<0, { u32::MAX }>>,
    #[serde(default)]
    #[oai(nullable)]
    pub per_customer_limit: Option<Count<1, { u32::MAX }>>,
    #[serde(default)]
    #[oai(nullable)]
    pub active: Option<bool>,
}

impl DiscountBody {
    pub(super) fn into_draft(self) -> PromotionDraft {
        PromotionDraft {
            code: self.code.map(Text::into_string),
            kind: self.kind.0 .0.to_string(),
            value: self.value.map(|v| v.0),
            buy_quantity: self.buy_quantity.map(|q| q.0),
            get_quantity: self.get_quantity.map(|q| q.0),
            class: self.class.0,
            combines_with: self.combines_with.into_iter().map(|c| c.0).collect(),
            applies_to: AppliesTo {
                product_ids: self
                    .applies_to
                    .product_ids
                    .into_iter()
                    .map(Into::into)
                    .collect(),
                category_ids: self
                    .applies_to
                    .category_ids
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            },
            min_subtotal: self.min_subtotal.map(|m| m.0),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            usage_limit: self.usage_limit.map(|l| l.0),
            per_customer_limit: self.per_customer_limit.map(|l| l.0),
            active: self.active,
        }
    }
}
