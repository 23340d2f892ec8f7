//! Back-in-stock alerts: a shopper (a guest by email, or a customer) asks to be told when a
//! product or one of its variants that is sold out can be bought again. Each alert gets one
//! mail, then is done.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ProductId, StockAlertId, VariantId};

/// One shopper waiting for one product (or variant) to come back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockAlert {
    /// Its id.
    pub id: StockAlertId,
    /// The product.
    pub product_id: ProductId,
    /// `None`: any of the product's stock.
    pub variant_id: Option<VariantId>,
    /// Normalised (trimmed, lower case).
    pub email: String,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
}

/// An alert whose product has stock again, with what its mail says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueStockAlert {
    /// The alert.
    pub alert: StockAlert,
    /// The product's name.
    pub name: String,
    /// What is available now.
    pub available: u32,
}
