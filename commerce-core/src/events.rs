//! Domain events, published through the `EventBus` port after a change is stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{OrderId, PaymentId, ProductId, UserId, VariantId};
use crate::order::OrderStatus;
use crate::payment::PaymentStatus;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    OrderPlaced {
        order_id: OrderId,
        user_id: Option<UserId>,
        at: DateTime<Utc>,
    },
    /// Every status change of an order, for its live event stream.
    OrderStatusChanged {
        order_id: OrderId,
        status: OrderStatus,
        at: DateTime<Utc>,
    },
    PaymentStatusChanged {
        payment_id: PaymentId,
        order_id: OrderId,
        status: PaymentStatus,
        at: DateTime<Utc>,
    },
    /// Available stock fell to or below the product's threshold.
    LowStock {
        product_id: ProductId,
        variant_id: Option<VariantId>,
        available: u32,
        threshold: u32,
        at: DateTime<Utc>,
    },
    UserRegistered {
        user_id: UserId,
        at: DateTime<Utc>,
    },
    /// The bus lost touch with other processes for a while (a dropped database connection):
    /// events published meanwhile may never arrive. Subscribers re-read the state they follow
    /// (an order's status) instead of waiting for an event that was lost.
    EventsMissed {
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
