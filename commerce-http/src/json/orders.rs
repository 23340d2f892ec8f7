//! Carts with their pricing, orders, payments and checkout.

use super::*;

/// A cart's or an order's amounts, as PRICING.md computes them.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Totals")]
pub struct TotalsJson {
    /// The lines' prices times their quantities, before discounts.
    pub subtotal: MoneyJson,
    /// Every discount: the lines' and the order's.
    pub discount: MoneyJson,
    /// Shipping, after any free-shipping promotion or threshold.
    pub shipping: MoneyJson,
    /// Tax: included in the prices or added to them, as the store says.
    pub tax: MoneyJson,
    /// What the buyer pays.
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

/// A promotion's share of one line.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "LineAmount")]
pub struct LineAmountJson {
    /// The cart line (its `id`).
    pub item_id: Uuid,
    /// How much of the promotion falls on it; the shares add up to the promotion's amount.
    pub amount: MoneyJson,
}

/// A promotion that applied, and what it took off.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "AppliedPromotion")]
pub struct AppliedPromotionJson {
    /// The promotion's id.
    pub id: Uuid,
    /// Upper-case; null for an automatic promotion.
    #[oai(nullable)]
    pub code: Option<String>,
    /// `product`, `order` or `shipping`.
    pub class: String,
    /// What it took off in all.
    pub amount: MoneyJson,
    /// Its amount spread over the lines (largest remainder, to the cent).
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

/// A promotion or code that did not apply, and why.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "RejectedPromotion")]
pub struct RejectedPromotionJson {
    /// Null for a code that names no promotion.
    #[oai(nullable)]
    pub id: Option<Uuid>,
    /// The code as given (upper-case); null for an automatic promotion.
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

/// A line of a cart, priced.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "CartItem")]
pub struct CartItemJson {
    /// The line's id (to change or remove it).
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The variant, when the product has them.
    #[oai(nullable)]
    pub variant_id: Option<Uuid>,
    /// The product's name (and the variant's options).
    pub name: String,
    /// How many.
    pub quantity: u32,
    /// The price of one, now.
    pub unit_price: MoneyJson,
    /// Unit price × quantity, before discounts.
    pub line_total: MoneyJson,
    /// Its product discount plus its share of order discounts.
    pub discount: MoneyJson,
    /// The line's tax.
    pub tax: MoneyJson,
}

/// The shipping method chosen, as it was priced.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "ShippingChoice")]
pub struct ShippingChoiceJson {
    /// The method's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its price then (before `free_above` and promotions).
    pub price: MoneyJson,
}

/// A cart, priced now: what checkout would charge.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Cart")]
pub struct CartJson {
    /// The cart's id.
    pub id: Uuid,
    /// ISO 4217 code: the shop's currency.
    pub currency: String,
    /// Its lines.
    pub items: Vec<CartItemJson>,
    /// Lines whose product is no longer for sale: not priced; remove them to check out.
    pub unavailable_items: Vec<Uuid>,
    /// Codes entered, upper-case, whether they apply now or not.
    pub discount_codes: Vec<String>,
    /// Its amounts.
    pub totals: TotalsJson,
    /// What applied.
    pub applied_promotions: Vec<AppliedPromotionJson>,
    /// What did not, and why (a code waiting for its minimum stays in `discount_codes`).
    pub rejected_promotions: Vec<RejectedPromotionJson>,
    /// Where it goes (`PUT /api/cart/delivery`); null before that, when tax and shipping
    /// are zero.
    #[oai(nullable)]
    pub shipping_address: Option<AddressJson>,
    /// How it goes; null before it is chosen.
    #[oai(nullable)]
    pub shipping_method: Option<ShippingChoiceJson>,
    /// Its version: send it back in `If-Match` to change it (412 when it changed meanwhile).
    pub version: u64,
    /// When it last changed.
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
                price: m.price.into(),
            }),
            version: v.cart.version,
            updated_at: v.cart.updated_at,
        }
    }
}

/// A line of an order, frozen when it was placed.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "OrderLine")]
pub struct OrderLineJson {
    /// The product.
    pub product_id: Uuid,
    /// The variant, when the product has them.
    #[oai(nullable)]
    pub variant_id: Option<Uuid>,
    /// The product's name then.
    pub name: String,
    /// Its SKU then.
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// The price of one then.
    pub unit_price: MoneyJson,
    /// Unit price × quantity.
    pub subtotal: MoneyJson,
    /// Its discount: its own, and its share of the order's.
    pub discount: MoneyJson,
    /// Its tax.
    pub tax: MoneyJson,
}

/// A step in an order's history.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "StatusChange")]
pub struct StatusChangeJson {
    /// The status it moved to.
    pub status: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why the shop made the change itself: `payment_timeout` (left unpaid too long) or
    /// `paid_after_timeout` (paid after that, with the stock still there); absent otherwise.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An order: what was bought, for how much, where it goes, and where it stands.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Order")]
pub struct OrderJson {
    /// Its id.
    pub id: Uuid,
    /// Human-friendly: `CM-YYYYMMDD-XXXXXXXX`.
    pub number: String,
    /// Null for a guest order.
    #[oai(nullable)]
    pub user_id: Option<Uuid>,
    /// The buyer's email (a guest's, or the customer's at the time).
    #[oai(nullable)]
    pub email: Option<String>,
    /// `pending`, `paid`, `processing`, `shipped`, `delivered`, `cancelled` or `refunded`.
    pub status: String,
    /// ISO 4217 code of its amounts.
    pub currency: String,
    /// Its lines.
    pub items: Vec<OrderLineJson>,
    /// Its amounts.
    pub totals: TotalsJson,
    /// The promotions that applied.
    pub applied_promotions: Vec<AppliedPromotionJson>,
    /// Codes on the cart that did not apply, dropped from the order.
    pub rejected_promotions: Vec<RejectedPromotionJson>,
    /// Where it goes.
    pub shipping_address: AddressJson,
    /// How it goes.
    #[oai(nullable)]
    pub shipping_method: Option<ShippingChoiceJson>,
    /// Its payment's status (a payment's `status`), `requires_payment` until one succeeds.
    pub payment_status: String,
    /// Every status it went through, oldest first, starting with `pending`.
    pub status_history: Vec<StatusChangeJson>,
    /// Its version (bumped by every change).
    pub version: u64,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
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

/// A page of orders, newest first.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "OrderPage")]
pub struct OrderPageJson {
    /// The orders of this page.
    pub items: Vec<OrderJson>,
    /// Where the next page starts (pass it as `cursor`); null on the last page.
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

/// Money given back on a payment.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Refund")]
pub struct RefundJson {
    /// The refund's id.
    pub id: Uuid,
    /// How much.
    pub amount: MoneyJson,
    /// The provider's id of the refund (`re_...`); null for one recorded before the provider
    /// answered.
    #[oai(nullable)]
    pub provider_reference: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// A payment of an order, through one provider.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Payment")]
pub struct PaymentJson {
    /// The payment's id (to confirm it).
    pub id: Uuid,
    /// The order it pays.
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
    /// Where the buyer approves the payment, for providers paid on their own page (PayPal's
    /// approval page); then `POST /api/payments/confirm` captures it.
    #[oai(nullable)]
    pub approve_url: Option<String>,
    /// Exactly the order's total.
    pub amount: MoneyJson,
    /// Its refunds, oldest first; they never add up to more than `amount`.
    pub refunds: Vec<RefundJson>,
    /// Why the last attempt failed (the provider's reason), when it did.
    #[oai(nullable)]
    pub failure_reason: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Payment> for PaymentJson {
    fn from(p: Payment) -> Self {
        Self {
            id: p.id.as_uuid(),
            order_id: p.order_id.as_uuid(),
            checkout_url: p.checkout_url,
            approve_url: p.approve_url,
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
    /// The order, `pending` until its payment succeeds.
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
