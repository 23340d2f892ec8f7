//! Publishing domain events.

use super::*;

#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait EventBus: Send + Sync {
    fn publish(&self, event: DomainEvent);
    /// Events published from now on. A slow subscriber may miss events (it is told how many
    /// through the receiver's `Lagged` error) rather than slow the publisher.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<DomainEvent>;
}
