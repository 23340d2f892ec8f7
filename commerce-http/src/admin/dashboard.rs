//! The dashboard's shape: orders by status, sales, top products.

use super::*;

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "OrdersByStatus")]
pub struct StatusCountJson {
    pub status: String,
    pub count: u64,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "TopProduct")]
pub struct TopProductJson {
    pub product_id: Uuid,
    pub name: String,
    pub units: u64,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "Dashboard")]
pub struct DashboardJson {
    /// Orders paid and not cancelled or refunded.
    pub revenue: MoneyJson,
    pub orders_by_status: Vec<StatusCountJson>,
    pub orders_today: u32,
    /// Best sellers by units over the last 30 days.
    pub top_products: Vec<TopProductJson>,
    /// Active products at or under their low-stock threshold, lowest first.
    pub low_stock: Vec<ProductJson>,
}

impl DashboardJson {
    pub(super) fn new(d: Dashboard) -> Self {
        Self {
            revenue: d.revenue.into(),
            orders_by_status: d
                .orders_by_status
                .into_iter()
                .map(|(s, count)| StatusCountJson {
                    status: s.as_str().to_string(),
                    count,
                })
                .collect(),
            orders_today: d.orders_today,
            top_products: d
                .top_products
                .into_iter()
                .map(|(id, name, units)| TopProductJson {
                    product_id: id.as_uuid(),
                    name,
                    units,
                })
                .collect(),
            low_stock: d.low_stock.into_iter().map(ProductJson::new).collect(),
        }
    }
}
