//! Domain events over a tokio broadcast channel.

use super::*;

/// Domain events over a tokio broadcast channel (in-process subscribers).
pub struct MemoryEventBus {
    sender: tokio::sync::broadcast::Sender<DomainEvent>,
}

impl MemoryEventBus {
    /// A bus keeping up to `capacity` events for slow subscribers.
    pub fn new(capacity: usize) -> Self {
        Self {
            sender: tokio::sync::broadcast::channel(capacity.max(1)).0,
        }
    }
}

impl Default for MemoryEventBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl EventBus for MemoryEventBus {
    fn publish(&self, event: DomainEvent) {
        // No subscriber is not an error: events are notifications, not a queue.
        let _ = self.sender.send(event);
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<DomainEvent> {
        self.sender.subscribe()
    }
}
