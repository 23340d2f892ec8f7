//! Orders: lines frozen at purchase, totals, and the status machine with its history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::Address;
use crate::catalog::Product;
use crate::ids::{OrderId, ProductId, ShippingMethodId, UserId, VariantId};
use crate::money::{Currency, Money};
use crate::payment::PaymentStatus;
use crate::pricing::{AppliedPromotion, PricedCart, RejectedPromotion};

/// `pending → paid → processing → shipped → delivered`; `pending|paid|processing → cancelled`;
/// `paid|processing|shipped|delivered → refunded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed, its stock reserved, waiting for payment (expires after the unpaid-order timeout).
    Pending,
    /// Paid: to be fulfilled.
    Paid,
    /// Being packed.
    Processing,
    /// Handed to the carrier.
    Shipped,
    /// Received by the buyer.
    Delivered,
    /// Given up before shipping: stock and discount uses given back, a payment refunded.
    Cancelled,
    /// Refunded in full.
    Refunded,
}

impl OrderStatus {
    /// Whether an order in this status means its buyer has the goods or paid for them (and
    /// may review them): paid and later, not cancelled or refunded.
    pub fn is_bought(self) -> bool {
        matches!(
            self,
            OrderStatus::Paid
                | OrderStatus::Processing
                | OrderStatus::Shipped
                | OrderStatus::Delivered
        )
    }

    /// Every status, in the machine's order.
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::Pending,
        OrderStatus::Paid,
        OrderStatus::Processing,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
    ];

    /// Its name in the API (`pending`).
    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::Processing => "processing",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
        }
    }

    /// The status of that name.
    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the status machine allows moving from this status to `next`.
    pub fn can_become(&self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, Paid)
                | (Paid, Processing)
                | (Processing, Shipped)
                | (Shipped, Delivered)
                | (Pending | Paid | Processing, Cancelled)
                | (Paid | Processing | Shipped | Delivered, Refunded)
        )
    }

    /// Whether the order's units are still reserved (given back when it is cancelled).
    pub fn holds_stock(&self) -> bool {
        matches!(
            self,
            OrderStatus::Pending | OrderStatus::Paid | OrderStatus::Processing
        )
    }

    /// What going from this status to `to` does to the order's units: an order that will not
    /// ship gives them back, shipping lets them go.
    pub fn stock_movement_to(&self, to: OrderStatus) -> crate::inventory::StockMovement {
        use crate::inventory::StockMovement;
        match to {
            OrderStatus::Cancelled | OrderStatus::Refunded if self.holds_stock() => {
                StockMovement::Release
            }
            OrderStatus::Shipped if self.holds_stock() => StockMovement::Commit,
            _ => StockMovement::None,
        }
    }
}

/// A move the status machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order cannot go from {} to {}", from.as_str(), to.as_str())]
pub struct InvalidTransition {
    /// Where the order is.
    pub from: OrderStatus,
    /// Where it was asked to go.
    pub to: OrderStatus,
}

/// A line as it was bought: later catalog changes do not touch it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The product bought.
    pub product_id: ProductId,
    /// Its variant, when it has them.
    pub variant_id: Option<VariantId>,
    /// The product's name then (and the variant's options).
    pub name: String,
    /// Its SKU then.
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// The price of one then.
    pub unit_price: Money,
    /// Unit price × quantity.
    pub subtotal: Money,
    /// Its discount: its own and its share of the order's.
    pub discount: Money,
    /// Its tax.
    pub tax: Money,
}

/// An order's amounts, frozen from its priced cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTotals {
    /// The lines before discounts.
    pub subtotal: Money,
    /// Every discount.
    pub discount: Money,
    /// Shipping, after free-shipping rules.
    pub shipping: Money,
    /// Tax, included or added as the store says.
    pub tax: Money,
    /// What the buyer pays: the payment's amount, exactly.
    pub total: Money,
}

/// The shipping method as chosen at purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChosenShipping {
    /// The method's id.
    pub id: ShippingMethodId,
    /// Its name then.
    pub name: String,
    /// Its price then (before `free_above` and promotions).
    pub price: Money,
}

/// A step in an order's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The status it moved to.
    pub status: OrderStatus,
    /// When.
    pub at: DateTime<Utc>,
    /// Why the shop itself made the change, when it did (absent for changes people made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<StatusReason>,
}

/// Why the shop changed an order's status by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusReason {
    /// Left unpaid past the shop's unpaid-order timeout: cancelled, stock and discount uses
    /// given back.
    PaymentTimeout,
    /// Paid after it had expired, with the stock still there: reserved again and paid.
    PaidAfterTimeout,
}

impl StatusReason {
    /// Its name in the API (`payment_timeout`).
    pub fn as_str(self) -> &'static str {
        match self {
            StatusReason::PaymentTimeout => "payment_timeout",
            StatusReason::PaidAfterTimeout => "paid_after_timeout",
        }
    }
}

/// An order: what was bought, for how much, where it goes, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Its id.
    pub id: OrderId,
    /// Human-readable and unique, e.g. `CM-20261122-7F3K9QX2`.
    pub number: String,
    /// `None` for a guest order.
    pub user_id: Option<UserId>,
    /// The guest's email (and the customer's, for receipts).
    pub email: Option<String>,
    /// Where it stands.
    pub status: OrderStatus,
    /// The currency of every amount.
    pub currency: Currency,
    /// What was bought.
    pub lines: Vec<OrderLine>,
    /// Its amounts.
    pub totals: OrderTotals,
    /// The promotions that applied, with what each took off.
    pub applied_promotions: Vec<AppliedPromotion>,
    /// Codes that did not apply, dropped from the order, and why.
    pub rejected_promotions: Vec<RejectedPromotion>,
    /// Where it goes.
    pub shipping_address: Address,
    /// How it goes.
    pub shipping_method: Option<ChosenShipping>,
    /// Its payment's status (`requires_payment` until one succeeds).
    pub payment_status: PaymentStatus,
    /// The payment provider the buyer chose when ordering (`payment_provider`); paying
    /// without naming one uses it. `None`: the shop's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_provider: Option<String>,
    /// Starts with `pending`.
    pub status_history: Vec<StatusChange>,
    /// Moved by every change; a write at an older version is refused.
    pub version: u64,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Who buys, where it goes and how, for [`Order::from_priced`].
#[derive(Debug, Clone)]
pub struct OrderDetails {
    /// The new order's id.
    pub id: OrderId,
    /// Its number (the engine draws one, retried on a clash).
    pub number: String,
    /// The buyer, or `None` for a guest.
    pub user_id: Option<UserId>,
    /// The buyer's email.
    pub email: Option<String>,
    /// Where it goes.
    pub shipping_address: Address,
    /// How it goes.
    pub shipping_method: Option<ChosenShipping>,
    /// The payment provider chosen, if the buyer named one.
    pub payment_provider: Option<String>,
}

impl Order {
    /// Freezes a priced cart into a pending order. `products` must hold every line's product
    /// (names and SKUs are copied from it).
    pub fn from_priced(
        details: OrderDetails,
        priced: &PricedCart,
        products: &[Product],
        now: DateTime<Utc>,
    ) -> Order {
        let lines = priced
            .lines
            .iter()
            .map(|l| {
                let product = products.iter().find(|p| p.id == l.product_id);
                OrderLine {
                    product_id: l.product_id,
                    variant_id: l.variant_id,
                    name: product.map_or_else(String::new, |p| p.line_name(l.variant_id)),
                    sku: product.map_or_else(String::new, |p| p.sku(l.variant_id)),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    subtotal: l.line_subtotal,
                    discount: l.discount,
                    tax: l.tax,
                }
            })
            .collect();
        Order {
            id: details.id,
            number: details.number,
            user_id: details.user_id,
            email: details.email,
            status: OrderStatus::Pending,
            currency: priced.currency,
            lines,
            totals: OrderTotals {
                subtotal: priced.subtotal,
                discount: priced.discount,
                shipping: priced.shipping,
                tax: priced.tax,
                total: priced.total,
            },
            applied_promotions: priced.applied.clone(),
            rejected_promotions: priced.rejected.clone(),
            shipping_address: details.shipping_address,
            shipping_method: details.shipping_method,
            payment_status: PaymentStatus::RequiresPayment,
            payment_provider: details.payment_provider,
            status_history: vec![StatusChange {
                status: OrderStatus::Pending,
                at: now,
                reason: None,
            }],
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// Moves along the status machine, recording the change.
    pub fn transition(
        &mut self,
        to: OrderStatus,
        now: DateTime<Utc>,
    ) -> Result<(), InvalidTransition> {
        self.transition_because(to, now, None)
    }

    /// [`Order::transition`], recording why the shop made the change.
    pub fn transition_because(
        &mut self,
        to: OrderStatus,
        now: DateTime<Utc>,
        reason: Option<StatusReason>,
    ) -> Result<(), InvalidTransition> {
        if !self.status.can_become(to) {
            return Err(InvalidTransition {
                from: self.status,
                to,
            });
        }
        self.record(to, now, reason);
        Ok(())
    }

    fn record(&mut self, to: OrderStatus, now: DateTime<Utc>, reason: Option<StatusReason>) {
        self.status = to;
        self.status_history.push(StatusChange {
            status: to,
            at: now,
            reason,
        });
        self.updated_at = now;
    }

    /// Who the order counts against for per-customer promotion limits: the user, or a guest
    /// by email.
    pub fn customer_key(&self) -> String {
        customer_key(self.user_id, self.email.as_deref())
    }

    /// Whether the shop cancelled it for want of payment (and a late payment may bring it
    /// back).
    pub fn expired_unpaid(&self) -> bool {
        self.status == OrderStatus::Cancelled
            && self
                .status_history
                .last()
                .is_some_and(|c| c.reason == Some(StatusReason::PaymentTimeout))
    }

    /// An order that expired unpaid, paid after all: back to `paid`, outside the status
    /// machine (a cancelled order never comes back otherwise).
    pub fn reinstate_paid(&mut self, now: DateTime<Utc>) -> Result<(), InvalidTransition> {
        if !self.expired_unpaid() {
            return Err(InvalidTransition {
                from: self.status,
                to: OrderStatus::Paid,
            });
        }
        self.record(OrderStatus::Paid, now, Some(StatusReason::PaidAfterTimeout));
        Ok(())
    }

    /// Units per product and variant, to reserve or give back.
    pub fn units(&self) -> Vec<(ProductId, Option<VariantId>, u32)> {
        self.lines
            .iter()
            .map(|l| (l.product_id, l.variant_id, l.quantity))
            .collect()
    }

    /// Each product or variant the order holds units of, once, in line order.
    pub fn distinct_units(&self) -> Vec<(ProductId, Option<VariantId>)> {
        let mut units: Vec<(ProductId, Option<VariantId>)> = Vec::new();
        for l in &self.lines {
            if !units.contains(&(l.product_id, l.variant_id)) {
                units.push((l.product_id, l.variant_id));
            }
        }
        units
    }
}

/// The key per-customer promotion limits count under: the user id, or a guest's email.
pub fn customer_key(user_id: Option<UserId>, email: Option<&str>) -> String {
    user_id.map_or_else(|| email.unwrap_or_default().to_string(), |u| u.to_string())
}

/// A new order number: the date and 8 characters of Crockford base32 from `entropy`
/// (about 10^12 per day, so clashes are rare; stores still enforce uniqueness).
pub fn order_number(now: DateTime<Utc>, entropy: u64) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut code = String::with_capacity(8);
    let mut e = entropy;
    for _ in 0..8 {
        code.push(char::from(ALPHABET[(e & 31) as usize]));
        e >>= 5;
    }
    format!("CM-{}-{code}", now.format("%Y%m%d"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn the_status_machine_of_the_api() {
        let allowed = [
            (Pending, Paid),
            (Paid, Processing),
            (Processing, Shipped),
            (Shipped, Delivered),
            (Pending, Cancelled),
            (Paid, Cancelled),
            (Processing, Cancelled),
            (Paid, Refunded),
            (Processing, Refunded),
            (Shipped, Refunded),
            (Delivered, Refunded),
        ];
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }

    #[test]
    fn order_numbers_are_readable() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 22, 10, 0, 0).unwrap();
        let n = order_number(now, 0xDEAD_BEEF);
        assert!(n.starts_with("CM-20261122-"));
        assert_eq!(n.len(), "CM-20261122-".len() + 8);
        assert_ne!(n, order_number(now, 0xDEAD_BEEE));
    }
}
