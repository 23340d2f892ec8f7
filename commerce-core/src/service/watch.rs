//! Watching an order's status live: what the order event stream of the HTTP API serves, and
//! what an embedder can use in-process.
//!
//! The order's status history is the truth, numbered from 1 (1 is `pending`); the event bus
//! only says when to look at it again. So a watcher is sent each change exactly once and in
//! order, whatever the bus does: a change announced twice is sent once, one whose
//! announcement was lost (a lagging subscriber, a bus that lost touch with other processes)
//! is sent when the next announcement or the bus's `EventsMissed` comes, and a client that
//! reconnects after number N gets what came after N.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use super::{Caller, Commerce, CommerceError};
use crate::events::DomainEvent;
use crate::ids::OrderId;
use crate::order::{Order, OrderStatus};

/// One change of an order's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderStatusUpdate {
    /// Its place in the order's status history, from 1: what a reconnecting client says it
    /// saw last.
    pub sequence: u64,
    /// The order.
    pub order_id: OrderId,
    /// Its status then.
    pub status: OrderStatus,
    /// When it moved there.
    pub at: DateTime<Utc>,
}

/// A watcher of one order. [`OrderWatch::next`] waits for the next change.
pub struct OrderWatch {
    shop: Commerce,
    order_id: OrderId,
    /// The last sequence handed out.
    sent: u64,
    ready: VecDeque<OrderStatusUpdate>,
    changes: broadcast::Receiver<DomainEvent>,
}

/// How long a watcher waits before reading an order again after storage failed.
const RETRY_AFTER: Duration = Duration::from_secs(1);

impl Commerce {
    /// Watches an order its owner or an admin may see. Without `after`, the first update is
    /// its current status; with it (the last sequence a client saw), the changes after it.
    pub async fn watch_order(
        &self,
        caller: &Caller,
        id: OrderId,
        after: Option<u64>,
    ) -> Result<OrderWatch, CommerceError> {
        // Subscribe before reading: a change made in between is then announced, and the
        // history tells whether it was already sent.
        let changes = self.ports.events.subscribe();
        let order = self.orders().order(caller, id).await?;
        let known = order.status_history.len() as u64;
        let sent = match after {
            Some(seen) if seen <= known => seen,
            // Nothing or nonsense: start with the status as it is now.
            _ => known.saturating_sub(1),
        };
        let mut watch = OrderWatch {
            shop: self.clone(),
            order_id: id,
            sent,
            ready: VecDeque::new(),
            changes,
        };
        watch.take_new(&order);
        Ok(watch)
    }
}

impl OrderWatch {
    /// The next change, waiting as long as it takes; `None` when the engine's event bus is
    /// gone (the shop is shutting down).
    pub async fn next(&mut self) -> Option<OrderStatusUpdate> {
        loop {
            if let Some(update) = self.ready.pop_front() {
                return Some(update);
            }
            let look = match self.changes.recv().await {
                Ok(DomainEvent::OrderStatusChanged { order_id, .. }) => order_id == self.order_id,
                Ok(DomainEvent::EventsMissed { .. }) => true,
                Ok(_) => false,
                // Announcements were dropped for this slow watcher: the history has them.
                Err(broadcast::error::RecvError::Lagged(_)) => true,
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            if look {
                self.read_again().await;
            }
        }
    }

    /// Reads the order and queues what this watcher has not been sent; storage that is away
    /// is waited for, since the change is there to be read once it is back.
    async fn read_again(&mut self) {
        loop {
            match self.shop.ports.orders.order(self.order_id).await {
                Ok(Some(order)) => return self.take_new(&order),
                // Gone (an embedder deleted it): nothing more will change.
                Ok(None) => return,
                Err(_) => tokio::time::sleep(RETRY_AFTER).await,
            }
        }
    }

    fn take_new(&mut self, order: &Order) {
        for (i, change) in order.status_history.iter().enumerate() {
            let sequence = i as u64 + 1;
            if sequence > self.sent {
                self.ready.push_back(OrderStatusUpdate {
                    sequence,
                    order_id: order.id,
                    status: change.status,
                    at: change.at,
                });
                self.sent = sequence;
            }
        }
    }
}
