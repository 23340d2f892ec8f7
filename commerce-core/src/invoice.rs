//! Invoices: what an order's invoice shows, and the port that draws it (a PDF adapter such as
//! `commerce-pdf`). The amounts are the order's, as it holds them: an invoice never prices
//! anything again.

use chrono::{DateTime, Utc};

use crate::account::Address;
use crate::order::Order;

/// Everything an invoice shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// The seller.
    pub shop_name: String,
    /// The seller's address, when the store has one.
    pub shop_address: Option<Address>,
    /// The order as it was bought: number, date, buyer, lines and totals.
    pub order: Order,
    /// When this copy was made.
    pub issued_at: DateTime<Utc>,
}

impl Invoice {
    /// A file name for it: `invoice-<order number>.pdf`, of characters safe in any header.
    pub fn file_name(&self) -> String {
        let number: String = self
            .order
            .number
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("invoice-{number}.pdf")
    }
}

/// The invoice renderer failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the invoice could not be drawn: {0}")]
pub struct InvoiceError(pub String);

/// Draws invoices as PDF documents: CPU work, run off the async workers by the service.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait InvoiceRenderer: Send + Sync {
    /// The PDF's bytes.
    fn render(&self, invoice: &Invoice) -> Result<Vec<u8>, InvoiceError>;
}
