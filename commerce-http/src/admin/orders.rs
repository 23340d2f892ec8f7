//! An order's next status, its refund, and the statuses a client may name.

use super::*;

#[derive(Debug, Object, Deserialize)]
pub struct OrderStatusBody {
    pub status: Word<OrderStatus>,
}

impl Choices for OrderStatus {
    const NAME: &'static str = "order_status";
    fn all() -> Vec<(&'static str, Self)> {
        OrderStatus::ALL.iter().map(|s| (s.as_str(), *s)).collect()
    }
}

#[derive(Debug, Object, Deserialize, Default)]
pub struct RefundBody {
    /// Part of the captured amount, above zero; the whole when absent.
    #[serde(default)]
    #[oai(nullable)]
    pub amount: Option<PositiveAmount>,
}
