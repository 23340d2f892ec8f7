//! Domain events, published through the `EventBus` port after a change is stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{OrderId, PaymentId, ProductId, UserId, VariantId};
use crate::order::OrderStatus;
use crate::payment::PaymentStatus;

/// What happened in the shop, as live subscribers hear it (the `EventBus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    /// An order was placed.
    OrderPlaced {
        /// The order.
        order_id: OrderId,
        /// Its buyer, `None` for a guest.
        user_id: Option<UserId>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Every status change of an order, for its live event stream.
    OrderStatusChanged {
        /// The order.
        order_id: OrderId,
        /// Its new status.
        status: OrderStatus,
        /// When.
        at: DateTime<Utc>,
    },
    /// A payment moved (succeeded, failed, refunded...).
    PaymentStatusChanged {
        /// The payment.
        payment_id: PaymentId,
        /// Its order.
        order_id: OrderId,
        /// Its new status.
        status: PaymentStatus,
        /// When.
        at: DateTime<Utc>,
    },
    /// Available stock fell to or below the product's threshold.
    LowStock {
        /// The product.
        product_id: ProductId,
        /// Its variant, when the stock is a variant's.
        variant_id: Option<VariantId>,
        /// Units left to sell.
        available: u32,
        /// The threshold that applies.
        threshold: u32,
        /// When.
        at: DateTime<Utc>,
    },
    /// An account was made.
    UserRegistered {
        /// Whose.
        user_id: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The bus lost touch with other processes for a while (a dropped database connection):
    /// events published meanwhile may never arrive. Subscribers re-read the state they follow
    /// (an order's status) instead of waiting for an event that was lost.
    EventsMissed {
        /// When the bus noticed.
        at: DateTime<Utc>,
    },
}

impl DomainEvent {
    /// The order an event concerns, for routing to per-order streams.
    pub fn order_id(&self) -> Option<OrderId> {
        match self {
            DomainEvent::OrderPlaced { order_id, .. }
            | DomainEvent::OrderStatusChanged { order_id, .. }
            | DomainEvent::PaymentStatusChanged { order_id, .. } => Some(*order_id),
            _ => None,
        }
    }
}
