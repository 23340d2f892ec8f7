//! The JSON shapes of the API (../shared/API.md), converted from domain values. Money is
//! always `{amount, currency}` with the amount a decimal string at the currency's scale.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use commerce_core::account::{Address, SavedAddress, User};
use commerce_core::catalog::{Category, CategoryNode, Product, Review};
use commerce_core::money::{Currency, Money, Rounding};
use commerce_core::order::Order;
use commerce_core::payment::Payment;
use commerce_core::ports::{Page, StoreSettings};
use commerce_core::pricing::{AppliedPromotion, RejectedPromotion};
use commerce_core::service::{CartView, Session};
use commerce_core::shipping::ShippingMethod;
use commerce_core::tax::TaxRounding;
use poem_openapi::Object;

use crate::rules::{AddressPart, Country, RequiredAddressPart, Text};
use uuid::Uuid;

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

/// A stored amount (already at scale) in the shop currency.
pub fn money(amount: rust_decimal::Decimal, currency: Currency) -> MoneyJson {
    Money::rounded(amount, currency, Rounding::HalfEven).into()
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Store")]
pub struct StoreJson {
    pub name: String,
    pub currency: String,
    pub prices_include_tax: bool,
    /// `line` or `order`.
    pub tax_rounding: String,
    pub tax_shipping: bool,
    /// The shop's own address, as invoices show it.
    #[oai(nullable)]
    pub address: Option<AddressJson>,
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
        }
    }
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "ShippingMethod")]
pub struct ShippingMethodJson {
    pub id: Uuid,
    pub name: String,
    pub price: MoneyJson,
    /// Free when the discounted subtotal reaches this.
    #[oai(nullable)]
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

// ---- accounts -------------------------------------------------------------------------

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "User")]
pub struct UserJson {
    pub id: Uuid,
    pub email: String,
    pub full_name: String,
    /// `customer`, `vendor` or `admin`.
    pub role: String,
    pub is_active: bool,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserJson {
    fn from(u: User) -> Self {
        Self {
            id: u.id.as_uuid(),
            email: u.email,
            full_name: u.full_name,
            role: u.role.as_str().to_string(),
            is_active: u.is_active,
            email_verified: u.email_verified,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "UserPage")]
pub struct UserPageJson {
    pub items: Vec<UserJson>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

/// What a sign-in or a refresh gives the client.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Tokens")]
pub struct TokensJson {
    /// A JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque; single use: each refresh returns a new one.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

impl From<Session> for TokensJson {
    fn from(s: Session) -> Self {
        Self {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            token_type: "Bearer".into(),
            expires_in: s.expires_in,
        }
    }
}

/// A postal address as the API shows it (a saved one, an order's, the store's); requests
/// send a `ParcelAddressBody` or a `DestinationBody`, which state what they require.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Address")]
pub struct AddressJson {
    #[serde(default)]
    #[oai(nullable)]
    pub full_name: Option<String>,
    #[serde(default)]
    #[oai(nullable)]
    pub line1: Option<String>,
    #[serde(default)]
    #[oai(nullable)]
    pub line2: Option<String>,
    #[serde(default)]
    #[oai(nullable)]
    pub city: Option<String>,
    #[serde(default)]
    #[oai(nullable)]
    pub region: Option<String>,
    #[serde(default)]
    #[oai(nullable)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    #[serde(default)]
    #[oai(nullable)]
    pub phone: Option<String>,
}

impl From<Address> for AddressJson {
    fn from(a: Address) -> Self {
        Self {
            full_name: a.full_name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
        }
    }
}

/// A postal address a parcel can go to: `line1`, `city`, `postal_code` and `country` are
/// required; every part is at most 200 characters.
#[derive(Debug, Clone, Object, serde::Deserialize)]
pub struct ParcelAddressBody {
    #[serde(default)]
    #[oai(nullable)]
    pub full_name: Option<Text<AddressPart>>,
    pub line1: Text<RequiredAddressPart>,
    #[serde(default)]
    #[oai(nullable)]
    pub line2: Option<Text<AddressPart>>,
    pub city: Text<RequiredAddressPart>,
    #[serde(default)]
    #[oai(nullable)]
    pub region: Option<Text<AddressPart>>,
    pub postal_code: Text<RequiredAddressPart>,
    pub country: Text<Country>,
    #[serde(default)]
    #[oai(nullable)]
    pub phone: Option<Text<AddressPart>>,
}

impl From<ParcelAddressBody> for Address {
    fn from(a: ParcelAddressBody) -> Self {
        Self {
            full_name: a.full_name.map(Text::into_string),
            line1: Some(a.line1.into_string()),
            line2: a.line2.map(Text::into_string),
            city: Some(a.city.into_string()),
            region: a.region.map(Text::into_string),
            postal_code: Some(a.postal_code.into_string()),
            country: a.country.into_string(),
            phone: a.phone.map(Text::into_string),
        }
    }
}

/// Where a cart will go, as far as tax and shipping need it: `postal_code` and `country`
/// are required, the rest may follow at checkout.
#[derive(Debug, Clone, Object, serde::Deserialize)]
pub struct DestinationBody {
    #[serde(default)]
    #[oai(nullable)]
    pub full_name: Option<Text<AddressPart>>,
    #[serde(default)]
    #[oai(nullable)]
    pub line1: Option<Text<AddressPart>>,
    #[serde(default)]
    #[oai(nullable)]
    pub line2: Option<Text<AddressPart>>,
    #[serde(default)]
    #[oai(nullable)]
    pub city: Option<Text<AddressPart>>,
    #[serde(default)]
    #[oai(nullable)]
    pub region: Option<Text<AddressPart>>,
    pub postal_code: Text<RequiredAddressPart>,
    pub country: Text<Country>,
    #[serde(default)]
    #[oai(nullable)]
    pub phone: Option<Text<AddressPart>>,
}

impl From<DestinationBody> for Address {
    fn from(a: DestinationBody) -> Self {
        Self {
            full_name: a.full_name.map(Text::into_string),
            line1: a.line1.map(Text::into_string),
            line2: a.line2.map(Text::into_string),
            city: a.city.map(Text::into_string),
            region: a.region.map(Text::into_string),
            postal_code: Some(a.postal_code.into_string()),
            country: a.country.into_string(),
            phone: a.phone.map(Text::into_string),
        }
    }
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "SavedAddress")]
pub struct SavedAddressJson {
    pub id: Uuid,
    #[oai(nullable)]
    pub label: Option<String>,
    #[oai(flatten)]
    #[serde(flatten)]
    pub address: AddressJson,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

impl From<SavedAddress> for SavedAddressJson {
    fn from(s: SavedAddress) -> Self {
        Self {
            id: s.id.as_uuid(),
            label: s.label,
            address: s.address.into(),
            is_default: s.is_default,
            created_at: s.created_at,
        }
    }
}

// ---- carts and orders -----------------------------------------------------------------

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Totals")]
pub struct TotalsJson {
    pub subtotal: MoneyJson,
    pub discount: MoneyJson,
    pub shipping: MoneyJson,
    pub tax: MoneyJson,
    pub total: MoneyJson,
}

impl TotalsJson {
    fn new(subtotal: Money, discount: Money, shipping: Money, tax: Money, total: Money) -> Self {
        Self {
            subtotal: subtotal.into(),
            discount: discount.into(),
            shipping: shipping.into(),
            tax: tax.into(),
            total: total.into(),
        }
    }
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "LineAmount")]
pub struct LineAmountJson {
    pub item_id: Uuid,
    pub amount: MoneyJson,
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "AppliedPromotion")]
pub struct AppliedPromotionJson {
    pub id: Uuid,
    /// Upper-case; null for an automatic promotion.
    #[oai(nullable)]
    pub code: Option<String>,
    /// `product`, `order` or `shipping`.
    pub class: String,
    pub amount: MoneyJson,
    pub lines: Vec<LineAmountJson>,
}

impl From<AppliedPromotion> for AppliedPromotionJson {
    fn from(a: AppliedPromotion) -> Self {
        Self {
            id: a.id.as_uuid(),
            code: a.code,
            class: a.class.name().to_string(),
            amount: a.amount.into(),
            lines: a
                .lines
                .into_iter()
                .map(|l| LineAmountJson {
                    item_id: l.item_id.as_uuid(),
                    amount: l.amount.into(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "RejectedPromotion")]
pub struct RejectedPromotionJson {
    /// Null for a code that names no promotion.
    #[oai(nullable)]
    pub id: Option<Uuid>,
    #[oai(nullable)]
    pub code: Option<String>,
    /// `unknown_code`, `not_started`, `expired`, `usage_exhausted`, `customer_limit_reached`,
    /// `minimum_not_met`, `not_combinable`, `nothing_eligible`, ...
    pub reason: String,
    /// For `not_combinable`: the promotion that excluded it.
    #[oai(nullable)]
    pub excluded_by: Option<Uuid>,
}

impl From<RejectedPromotion> for RejectedPromotionJson {
    fn from(r: RejectedPromotion) -> Self {
        Self {
            id: r.id.map(|i| i.as_uuid()),
            code: r.code,
            reason: r.reason.as_str().to_string(),
            excluded_by: r.excluded_by.map(|i| i.as_uuid()),
        }
    }
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "CartItem")]
pub struct CartItemJson {
    pub id: Uuid,
    pub product_id: Uuid,
    #[oai(nullable)]
    pub variant_id: Option<Uuid>,
    pub name: String,
    pub quantity: u32,
    pub unit_price: MoneyJson,
    /// Unit price × quantity, before discounts.
    pub line_total: MoneyJson,
    /// Its product discount plus its share of order discounts.
    pub discount: MoneyJson,
    pub tax: MoneyJson,
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "ShippingChoice")]
pub struct ShippingChoiceJson {
    pub id: Uuid,
    pub name: String,
    pub price: MoneyJson,
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Cart")]
pub struct CartJson {
    pub id: Uuid,
    pub currency: String,
    pub items: Vec<CartItemJson>,
    /// Lines whose product is no longer for sale: not priced; remove them to check out.
    pub unavailable_items: Vec<Uuid>,
    pub discount_codes: Vec<String>,
    pub totals: TotalsJson,
    pub applied_promotions: Vec<AppliedPromotionJson>,
    pub rejected_promotions: Vec<RejectedPromotionJson>,
    #[oai(nullable)]
    pub shipping_address: Option<AddressJson>,
    #[oai(nullable)]
    pub shipping_method: Option<ShippingChoiceJson>,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

impl From<CartView> for CartJson {
    fn from(v: CartView) -> Self {
        let p = v.priced;
        let currency = p.currency;
        let items = p
            .lines
            .into_iter()
            .zip(v.names)
            .map(|(l, name)| CartItemJson {
                id: l.item_id.as_uuid(),
                product_id: l.product_id.as_uuid(),
                variant_id: l.variant_id.map(|i| i.as_uuid()),
                name,
                quantity: l.quantity,
                unit_price: l.unit_price.into(),
                line_total: l.line_subtotal.into(),
                discount: l.discount.into(),
                tax: l.tax.into(),
            })
            .collect();
        Self {
            id: v.cart.id.as_uuid(),
            currency: currency.code().to_string(),
            items,
            unavailable_items: v.unavailable.iter().map(|i| i.as_uuid()).collect(),
            discount_codes: v.cart.discount_codes,
            totals: TotalsJson::new(p.subtotal, p.discount, p.shipping, p.tax, p.total),
            applied_promotions: p.applied.into_iter().map(Into::into).collect(),
            rejected_promotions: p.rejected.into_iter().map(Into::into).collect(),
            shipping_address: v.cart.shipping_address.map(Into::into),
            shipping_method: v.shipping_method.map(|m| ShippingChoiceJson {
                id: m.id.as_uuid(),
                name: m.name,
                price: money(m.price, currency),
            }),
            version: v.cart.version,
            updated_at: v.cart.updated_at,
        }
    }
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "OrderLine")]
pub struct OrderLineJson {
    pub product_id: Uuid,
    #[oai(nullable)]
    pub variant_id: Option<Uuid>,
    pub name: String,
    pub sku: String,
    pub quantity: u32,
    pub unit_price: MoneyJson,
    /// Unit price × quantity.
    pub subtotal: MoneyJson,
    pub discount: MoneyJson,
    pub tax: MoneyJson,
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "StatusChange")]
pub struct StatusChangeJson {
    pub status: String,
    pub at: DateTime<Utc>,
    /// Why the shop made the change itself: `payment_timeout` (left unpaid too long) or
    /// `paid_after_timeout` (paid after that, with the stock still there); absent otherwise.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Order")]
pub struct OrderJson {
    pub id: Uuid,
    /// Human-friendly: `CM-YYYYMMDD-XXXXXXXX`.
    pub number: String,
    /// Null for a guest order.
    #[oai(nullable)]
    pub user_id: Option<Uuid>,
    #[oai(nullable)]
    pub email: Option<String>,
    /// `pending`, `paid`, `processing`, `shipped`, `delivered`, `cancelled` or `refunded`.
    pub status: String,
    pub currency: String,
    pub items: Vec<OrderLineJson>,
    pub totals: TotalsJson,
    pub applied_promotions: Vec<AppliedPromotionJson>,
    pub rejected_promotions: Vec<RejectedPromotionJson>,
    pub shipping_address: AddressJson,
    #[oai(nullable)]
    pub shipping_method: Option<ShippingChoiceJson>,
    pub payment_status: String,
    pub status_history: Vec<StatusChangeJson>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Order> for OrderJson {
    fn from(o: Order) -> Self {
        let t = o.totals;
        Self {
            id: o.id.as_uuid(),
            number: o.number,
            user_id: o.user_id.map(|u| u.as_uuid()),
            email: o.email,
            status: o.status.as_str().to_string(),
            currency: o.currency.code().to_string(),
            items: o
                .lines
                .into_iter()
                .map(|l| OrderLineJson {
                    product_id: l.product_id.as_uuid(),
                    variant_id: l.variant_id.map(|v| v.as_uuid()),
                    name: l.name,
                    sku: l.sku,
                    quantity: l.quantity,
                    unit_price: l.unit_price.into(),
                    subtotal: l.subtotal.into(),
                    discount: l.discount.into(),
                    tax: l.tax.into(),
                })
                .collect(),
            totals: TotalsJson::new(t.subtotal, t.discount, t.shipping, t.tax, t.total),
            applied_promotions: o.applied_promotions.into_iter().map(Into::into).collect(),
            rejected_promotions: o.rejected_promotions.into_iter().map(Into::into).collect(),
            shipping_address: o.shipping_address.into(),
            shipping_method: o.shipping_method.map(|m| ShippingChoiceJson {
                id: m.id.as_uuid(),
                name: m.name,
                price: m.price.into(),
            }),
            payment_status: o.payment_status.as_str().to_string(),
            status_history: o
                .status_history
                .into_iter()
                .map(|c| StatusChangeJson {
                    status: c.status.as_str().to_string(),
                    at: c.at,
                    reason: c.reason.map(|r| r.as_str().to_string()),
                })
                .collect(),
            version: o.version,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "OrderPage")]
pub struct OrderPageJson {
    pub items: Vec<OrderJson>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

impl From<Page<Order>> for OrderPageJson {
    fn from(p: Page<Order>) -> Self {
        Self {
            items: p.items.into_iter().map(Into::into).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Refund")]
pub struct RefundJson {
    pub id: Uuid,
    pub amount: MoneyJson,
    #[oai(nullable)]
    pub provider_reference: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Payment")]
pub struct PaymentJson {
    pub id: Uuid,
    pub order_id: Uuid,
    /// `test` for the built-in provider, `stripe`, ...
    pub provider: String,
    /// The provider's id of the payment (a Stripe PaymentIntent `pi_...`).
    #[oai(nullable)]
    pub provider_reference: Option<String>,
    /// Handed to the provider's client library to confirm the payment.
    #[oai(nullable)]
    pub client_secret: Option<String>,
    /// `requires_payment`, `processing`, `succeeded`, `failed`, `refunded`,
    /// `partially_refunded` or `cancelled`.
    pub status: String,
    /// For a payment made on the provider's own page (Stripe Checkout): that page.
    #[oai(nullable)]
    pub checkout_url: Option<String>,
    pub amount: MoneyJson,
    pub refunds: Vec<RefundJson>,
    #[oai(nullable)]
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Payment> for PaymentJson {
    fn from(p: Payment) -> Self {
        Self {
            id: p.id.as_uuid(),
            order_id: p.order_id.as_uuid(),
            checkout_url: p.checkout_url,
            provider: p.provider,
            provider_reference: p.provider_reference,
            client_secret: p.client_secret,
            status: p.status.as_str().to_string(),
            amount: p.amount.into(),
            refunds: p
                .refunds
                .into_iter()
                .map(|r| RefundJson {
                    id: r.id.as_uuid(),
                    amount: r.amount.into(),
                    provider_reference: r.provider_reference,
                    created_at: r.created_at,
                })
                .collect(),
            failure_reason: p.failure_reason,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// What checkout made: the pending order and its payment.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Checkout")]
pub struct CheckoutJson {
    pub order: OrderJson,
    /// Null when the payment provider could not start it (see `payment_error`): start it
    /// again with `POST /api/payments/create-intent`.
    #[oai(nullable)]
    pub payment: Option<PaymentJson>,
    /// Why the payment could not be started (an RFC 9457 problem such as
    /// `provider_unavailable` or `payment_declined`); absent when it was.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_error: Option<crate::problem::Problem>,
}

// ---- reviews --------------------------------------------------------------------------

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
