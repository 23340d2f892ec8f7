//! Inventory: per product (or per variant), units available to sell and units reserved by
//! open orders. Placing an order reserves (available falls, so nothing is sold twice);
//! cancelling releases (available rises again); shipping commits (the reserved units leave the
//! warehouse). On hand is available + reserved. Available never goes below zero.

use serde::{Deserialize, Serialize};

/// One stock-keeping unit's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stock {
    /// What `inventory_count` shows: units that can still be sold.
    pub available: u32,
    /// Units held by pending, paid or processing orders.
    pub reserved: u32,
}

/// Fewer units than asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("only {available} available")]
pub struct InsufficientStock {
    /// How many are left.
    pub available: u32,
}

/// What an order's status change does to its units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum StockMovement {
    /// The units stay reserved (a move that keeps the order alive).
    #[default]
    None,
    /// The order will not ship: its units become available again.
    Release,
    /// The order shipped: its reserved units are gone for good.
    Commit,
}

impl Stock {
    /// Units in the warehouse: available plus reserved.
    pub fn on_hand(&self) -> u64 {
        u64::from(self.available) + u64::from(self.reserved)
    }

    /// Holds `quantity` units for an order; refused (and unchanged) past what is available.
    pub fn reserve(&mut self, quantity: u32) -> Result<(), InsufficientStock> {
        if quantity > self.available {
            return Err(InsufficientStock {
                available: self.available,
            });
        }
        self.available -= quantity;
        self.reserved = self.reserved.saturating_add(quantity);
        Ok(())
    }

    /// Gives units of a cancelled order back.
    pub fn release(&mut self, quantity: u32) {
        self.reserved = self.reserved.saturating_sub(quantity);
        self.available = self.available.saturating_add(quantity);
    }

    /// Units of a shipped order leave the warehouse.
    pub fn commit(&mut self, quantity: u32) {
        self.reserved = self.reserved.saturating_sub(quantity);
    }

    /// Does `movement` to `quantity` reserved units.
    pub fn apply(&mut self, movement: StockMovement, quantity: u32) {
        match movement {
            StockMovement::None => {}
            StockMovement::Release => self.release(quantity),
            StockMovement::Commit => self.commit(quantity),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_release_and_commit() {
        let mut s = Stock {
            available: 5,
            reserved: 0,
        };
        s.reserve(3).unwrap();
        assert_eq!(
            s,
            Stock {
                available: 2,
                reserved: 3
            }
        );
        assert_eq!(s.reserve(3), Err(InsufficientStock { available: 2 }));
        assert_eq!(
            s,
            Stock {
                available: 2,
                reserved: 3
            },
            "a refused reservation changes nothing"
        );
        s.release(1);
        assert_eq!(
            s,
            Stock {
                available: 3,
                reserved: 2
            }
        );
        s.commit(2);
        assert_eq!(
            s,
            Stock {
                available: 3,
                reserved: 0
            }
        );
        assert_eq!(s.on_hand(), 3);
    }
}
