//! Publishing domain events.

use super::*;

/// Live domain events for subscribers in this process (and, on PostgreSQL's bus, in every
/// process sharing the database): order event streams, cache invalidation. Not durable:
/// webhooks go through the outbox instead.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait EventBus: Send + Sync {
    /// Sends `event` to every subscriber; never blocks and never fails the change that made
    /// it (a bus that cannot reach others logs and drops).
    fn publish(&self, event: DomainEvent);
    /// Events published from now on. A slow subscriber may miss events (it is told how many
    /// through the receiver's `Lagged` error) rather than slow the publisher.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<DomainEvent>;
}
