//! The outbox: events that leave the shop (for webhooks), written by storage in the same
//! transaction as the change they report, so that no change goes untold and nothing is told
//! that did not happen, even when the process dies between the two. A relay
//! ([`Commerce::relay_webhooks`](crate::Commerce::relay_webhooks)) delivers them afterwards.
//!
//! Payloads are thin: the ids and the few fields a receiver needs to act (an order's number,
//! status and total; a product's name, price and stock). A receiver that needs more reads it
//! through the API.
//!
//! ```
//! use commerce_core::outbox::{ChangeRecord, OutboxEvent};
//! use commerce_core::webhook::EventType;
//! use commerce_core::EventId;
//!
//! let at = chrono::Utc::now();
//! let event = OutboxEvent::new(EventId::random(), EventType::WebhookTest, at, serde_json::json!({}));
//! let record = ChangeRecord::telling(vec![event.clone()]);
//! assert_eq!(record.events.len(), 1);
//! // What a receiver gets: `{type, timestamp, data}`.
//! let body: serde_json::Value = serde_json::from_slice(&event.body()).unwrap();
//! assert_eq!(body["type"], "webhook.test");
//! ```

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::account::User;
use crate::audit::AuditEntry;
use crate::catalog::{Product, Review};
use crate::ids::{EventId, ProductId, VariantId};
use crate::order::{Order, OrderStatus};
use crate::payment::{Payment, PaymentStatus, Refund};
use crate::ports::StockLevel;
use crate::webhook::EventType;

/// One event for the outbox: a stable id (a receiver's `webhook-id`, the same on every retry),
/// its type, when it happened and its payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEvent {
    /// Its id: the delivery's `webhook-id`, the same on every retry.
    pub id: EventId,
    /// Its type.
    pub kind: EventType,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Its `data`, as receivers get it.
    pub data: Value,
}

impl OutboxEvent {
    /// An event of `kind` with `data`.
    pub fn new(id: EventId, kind: EventType, at: DateTime<Utc>, data: Value) -> OutboxEvent {
        OutboxEvent { id, kind, at, data }
    }

    /// The id a receiver reads in `webhook-id`.
    pub fn webhook_id(&self) -> String {
        webhook_id(self.id)
    }

    /// The body a receiver gets: `{"type", "timestamp", "data"}` (Standard Webhooks' form),
    /// the same bytes on every attempt, since the signature covers them.
    pub fn body(&self) -> Vec<u8> {
        let body = json!({
            "type": self.kind.as_str(),
            "timestamp": self.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "data": self.data,
        });
        // A `Value` always serialises.
        serde_json::to_vec(&body).unwrap_or_default()
    }

    /// `order.created`: a new order (pending until paid).
    pub fn order_created(id: EventId, order: &Order) -> OutboxEvent {
        Self::new(
            id,
            EventType::OrderCreated,
            order.created_at,
            order_data(order),
        )
    }

    /// The events of an order's move from `from` to its current status: `order.status_changed`
    /// always, and `order.paid` or `order.cancelled` when it moved there (`order.refunded`
    /// comes with each refund, [`order_refunded`](Self::order_refunded)). `ids` gives each
    /// event its id.
    pub fn order_moved(
        mut ids: impl FnMut() -> EventId,
        order: &Order,
        from: OrderStatus,
    ) -> Vec<OutboxEvent> {
        if from == order.status {
            return Vec::new();
        }
        let mut data = order_data(order);
        data["previous_status"] = json!(from.as_str());
        let at = order.updated_at;
        let mut events = vec![Self::new(
            ids(),
            EventType::OrderStatusChanged,
            at,
            data.clone(),
        )];
        let specific = match order.status {
            OrderStatus::Paid => Some(EventType::OrderPaid),
            OrderStatus::Cancelled => Some(EventType::OrderCancelled),
            _ => None,
        };
        if let Some(kind) = specific {
            events.push(Self::new(ids(), kind, at, data));
        }
        events
    }

    /// `order.refunded`: one refund of the order's payment, in full or in part (`payment`
    /// as it is with the refund added).
    pub fn order_refunded(
        id: EventId,
        order: &Order,
        payment: &Payment,
        refund: &Refund,
    ) -> OutboxEvent {
        let mut data = order_data(order);
        data["payment_id"] = json!(payment.id);
        data["refund"] = json!({ "id": refund.id, "amount": refund.amount });
        data["fully_refunded"] = json!(payment.status == PaymentStatus::Refunded);
        Self::new(id, EventType::OrderRefunded, refund.created_at, data)
    }

    /// `payment.failed`: the provider declined or the payment failed.
    pub fn payment_failed(id: EventId, payment: &Payment, order: &Order) -> OutboxEvent {
        Self::new(
            id,
            EventType::PaymentFailed,
            payment.updated_at,
            json!({
                "id": payment.id,
                "order_id": order.id,
                "order_number": order.number,
                "provider": payment.provider,
                "amount": payment.amount,
                "failure_reason": payment.failure_reason,
            }),
        )
    }

    /// `product.created` / `product.updated` / `product.deleted`.
    pub fn product(id: EventId, kind: EventType, product: &Product, at: DateTime<Utc>) -> Self {
        Self::new(id, kind, at, product_data(product))
    }

    /// `customer.created`: a new account.
    pub fn customer_created(id: EventId, user: &User) -> OutboxEvent {
        Self::new(
            id,
            EventType::CustomerCreated,
            user.created_at,
            json!({
                "id": user.id,
                "email": user.email,
                "full_name": user.full_name,
                "role": user.role.as_str(),
            }),
        )
    }

    /// `review.created`: a review waiting for moderation (or published).
    pub fn review_created(id: EventId, review: &Review) -> OutboxEvent {
        Self::new(
            id,
            EventType::ReviewCreated,
            review.created_at,
            json!({
                "id": review.id,
                "product_id": review.product_id,
                "user_id": review.user_id,
                "rating": review.rating,
                "status": review.status.as_str(),
            }),
        )
    }

    /// `webhook.test`: what an admin sends to try an endpoint.
    pub fn test(id: EventId, at: DateTime<Utc>) -> OutboxEvent {
        Self::new(
            id,
            EventType::WebhookTest,
            at,
            json!({ "message": "a test event sent from the shop's admin" }),
        )
    }
}

/// The `webhook-id` of an event: `evt_` and its id's 32 hex digits.
pub fn webhook_id(id: EventId) -> String {
    format!("evt_{}", id.0.simple())
}

fn order_data(order: &Order) -> Value {
    json!({
        "id": order.id,
        "number": order.number,
        "status": order.status.as_str(),
        "payment_status": order.payment_status.as_str(),
        "user_id": order.user_id,
        "email": order.email,
        "total": order.totals.total,
        "item_count": order.lines.iter().map(|l| u64::from(l.quantity)).sum::<u64>(),
        "created_at": order.created_at,
    })
}

fn product_data(product: &Product) -> Value {
    json!({
        "id": product.id,
        "name": product.name,
        "slug": product.slug,
        "status": product.status.as_str(),
        "price": product.price,
        "inventory_count": product.inventory_count,
        "vendor_id": product.vendor_id,
    })
}

/// A product's (or a variant's) stock available to sell before and after a write, as storage
/// saw it inside the write's transaction: what the inventory events are made from, since only
/// there are both known for sure while other sales run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockChange {
    /// The product.
    pub product_id: ProductId,
    /// The variant, when the stock is a variant's.
    pub variant_id: Option<VariantId>,
    /// The product's name.
    pub name: String,
    /// Units available before the write.
    pub before: u32,
    /// Units available after it.
    pub after: u32,
    /// The product's `low_stock_threshold`.
    pub threshold: u32,
}

/// A product or variant whose stock a write may move.
pub type StockUnit = (ProductId, Option<VariantId>);

/// What is available of a unit and its product's threshold, as read (`None`: it is gone).
pub type StockReading = Option<(u32, u32)>;

impl StockChange {
    /// A sale's changes, from what each guarded stock update said is left (`levels`) and what
    /// `order` took of each: before it, that and the quantity. Names are left empty (storage
    /// reads them only for the few that cross a line).
    pub fn of_sale(levels: &[StockLevel], order: &Order) -> Vec<StockChange> {
        let units = order.units();
        levels
            .iter()
            .map(|l| {
                let taken: u32 = units
                    .iter()
                    .filter(|(p, v, _)| *p == l.product_id && *v == l.variant_id)
                    .map(|(_, _, q)| *q)
                    .sum();
                StockChange {
                    product_id: l.product_id,
                    variant_id: l.variant_id,
                    name: String::new(),
                    before: l.available.saturating_add(taken),
                    after: l.available,
                    threshold: l.threshold,
                }
            })
            .collect()
    }

    /// The changes between two readings of the same units (units gone in either are left out).
    pub fn between(
        units: &[StockUnit],
        before: Vec<StockReading>,
        after: Vec<StockReading>,
    ) -> Vec<StockChange> {
        units
            .iter()
            .zip(before.into_iter().zip(after))
            .filter_map(|((product_id, variant_id), pair)| match pair {
                (Some((before, _)), Some((after, threshold))) => Some(StockChange {
                    product_id: *product_id,
                    variant_id: *variant_id,
                    name: String::new(),
                    before,
                    after,
                    threshold,
                }),
                _ => None,
            })
            .collect()
    }

    /// The lines this change crosses, never the ones it stays beyond: `inventory.low_stock`
    /// when it falls to or below the threshold from above it, `inventory.out_of_stock` when
    /// it reaches zero (both, when one sale does both), `inventory.back_in_stock` when it
    /// comes back from zero.
    pub fn events(&self, at: DateTime<Utc>) -> Vec<OutboxEvent> {
        let (before, after) = (self.before, self.after);
        let mut kinds = Vec::new();
        if before > self.threshold && after <= self.threshold {
            kinds.push(EventType::InventoryLowStock);
        }
        if before > 0 && after == 0 {
            kinds.push(EventType::InventoryOutOfStock);
        }
        if before == 0 && after > 0 {
            kinds.push(EventType::InventoryBackInStock);
        }
        kinds
            .into_iter()
            .map(|kind| {
                OutboxEvent::new(
                    EventId::random(),
                    kind,
                    at,
                    json!({
                        "product_id": self.product_id,
                        "variant_id": self.variant_id,
                        "name": self.name,
                        "inventory_count": after,
                        "low_stock_threshold": self.threshold,
                    }),
                )
            })
            .collect()
    }
}

/// What a change leaves beside itself, written by storage in the change's own transaction:
/// the events it tells the outbox, and its lines in the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangeRecord {
    /// The events it tells the outbox.
    pub events: Vec<OutboxEvent>,
    /// The audit log's entries of the change (one, when staff made it; none otherwise).
    pub audit: Vec<AuditEntry>,
    /// When set, storage adds the inventory events ([`StockChange::events`]) of the stock the
    /// write moves, stamped with this time: a sale, a cancellation that gives units back, a
    /// stock count changed by hand.
    pub stock_watched_at: Option<DateTime<Utc>>,
}

impl ChangeRecord {
    /// A change that tells nobody.
    pub fn none() -> ChangeRecord {
        ChangeRecord::default()
    }

    /// A change that tells these events.
    pub fn telling(events: Vec<OutboxEvent>) -> ChangeRecord {
        ChangeRecord {
            events,
            audit: Vec::new(),
            stock_watched_at: None,
        }
    }

    /// A change that tells nobody but the audit log (`entry`, if any).
    pub fn audited(entry: Option<AuditEntry>) -> ChangeRecord {
        ChangeRecord::none().auditing(entry)
    }

    /// The same, with `entry` (if any) in the audit log.
    pub fn auditing(mut self, entry: Option<AuditEntry>) -> ChangeRecord {
        self.audit.extend(entry);
        self
    }

    /// The same, with the inventory events of the stock it moves, at `at`.
    pub fn watching_stock(mut self, at: DateTime<Utc>) -> ChangeRecord {
        self.stock_watched_at = Some(at);
        self
    }

    /// Of `changes`, those that cross a line, if this record watches stock: what storage
    /// needs the names of.
    pub fn stock_crossings(&self, changes: Vec<StockChange>) -> Vec<StockChange> {
        match self.stock_watched_at {
            Some(at) => changes
                .into_iter()
                .filter(|c| !c.events(at).is_empty())
                .collect(),
            None => Vec::new(),
        }
    }

    /// The inventory events of `changes`, if this record watches stock (for storage, inside
    /// the write).
    pub fn stock_events(&self, changes: &[StockChange]) -> Vec<OutboxEvent> {
        match self.stock_watched_at {
            Some(at) => changes.iter().flat_map(|c| c.events(at)).collect(),
            None => Vec::new(),
        }
    }

    /// Whether it records nothing.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.audit.is_empty() && self.stock_watched_at.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(before: u32, after: u32, threshold: u32) -> Vec<&'static str> {
        StockChange {
            product_id: ProductId::random(),
            variant_id: None,
            name: "Lamp".into(),
            before,
            after,
            threshold,
        }
        .events(Utc::now())
        .iter()
        .map(|e| e.kind.as_str())
        .collect()
    }

    #[test]
    fn only_crossing_a_line_tells() {
        assert_eq!(kinds(7, 6, 5), Vec::<&str>::new());
        assert_eq!(kinds(6, 5, 5), ["inventory.low_stock"]);
        assert_eq!(kinds(5, 4, 5), Vec::<&str>::new());
        assert_eq!(kinds(4, 0, 5), ["inventory.out_of_stock"]);
        assert_eq!(
            kinds(9, 0, 5),
            ["inventory.low_stock", "inventory.out_of_stock"]
        );
        assert_eq!(kinds(0, 3, 5), ["inventory.back_in_stock"]);
        assert_eq!(kinds(0, 0, 5), Vec::<&str>::new());
        assert_eq!(kinds(3, 9, 5), Vec::<&str>::new());
        // A threshold of zero: low and out at once.
        assert_eq!(
            kinds(1, 0, 0),
            ["inventory.low_stock", "inventory.out_of_stock"]
        );
    }

    #[test]
    fn a_record_tells_stock_only_when_it_watches() {
        let change = StockChange {
            product_id: ProductId::random(),
            variant_id: None,
            name: "Lamp".into(),
            before: 1,
            after: 0,
            threshold: 0,
        };
        assert!(ChangeRecord::none()
            .stock_crossings(vec![change.clone()])
            .is_empty());
        let watching = ChangeRecord::none().watching_stock(Utc::now());
        assert_eq!(
            watching.stock_crossings(vec![change.clone()]),
            std::slice::from_ref(&change)
        );
        assert_eq!(watching.stock_events(&[change]).len(), 2);
    }
}
