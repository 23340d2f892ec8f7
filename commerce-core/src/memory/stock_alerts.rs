//! Back-in-stock alerts in memory.

use super::*;
use crate::stock_alert::{DueStockAlert, StockAlert};

#[async_trait]
impl StockAlertStore for MemoryStore {
    async fn insert_stock_alert(&self, alert: &StockAlert) -> Result<StockAlert, StorageError> {
        let mut s = self.lock()?;
        if !s.products.contains_key(&alert.product_id) {
            return Err(StorageError::MissingReference(Reference::Product));
        }
        if let Some((waiting, _)) = s.stock_alerts.iter().find(|(a, sent)| {
            sent.is_none()
                && a.product_id == alert.product_id
                && a.variant_id == alert.variant_id
                && a.email == alert.email
        }) {
            return Ok(waiting.clone());
        }
        if s.stock_alerts.iter().any(|(a, _)| a.id == alert.id) {
            return Err(StorageError::Duplicate(UniqueRule::RecordId));
        }
        s.stock_alerts.push((alert.clone(), None));
        Ok(alert.clone())
    }

    async fn stock_alerts_due(&self, limit: u32) -> Result<Vec<DueStockAlert>, StorageError> {
        let s = self.lock()?;
        let mut due: Vec<DueStockAlert> = s
            .stock_alerts
            .iter()
            .filter(|(_, sent)| sent.is_none())
            .filter_map(|(alert, _)| {
                let product = s.products.get(&alert.product_id)?;
                let available = product.available(alert.variant_id)?;
                (available > 0).then(|| DueStockAlert {
                    alert: alert.clone(),
                    name: product.name.clone(),
                    available,
                })
            })
            .collect();
        due.sort_by_key(|d| (d.alert.created_at, d.alert.id.to_string()));
        due.truncate(limit as usize);
        Ok(due)
    }

    async fn close_stock_alert(
        &self,
        id: StockAlertId,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut s = self.lock()?;
        match s.stock_alerts.iter_mut().find(|(a, _)| a.id == id) {
            Some((_, sent @ None)) => {
                *sent = Some(at);
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Err(StorageError::NotFound),
        }
    }

    async fn reopen_stock_alert(&self, id: StockAlertId) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        let (_, sent) = s
            .stock_alerts
            .iter_mut()
            .find(|(a, _)| a.id == id)
            .ok_or(StorageError::NotFound)?;
        *sent = None;
        Ok(())
    }
}
