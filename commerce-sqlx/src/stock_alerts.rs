//! Back-in-stock alerts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::ids::StockAlertId;
use commerce_core::ports::{StockAlertStore, StorageError};
use commerce_core::stock_alert::{DueStockAlert, StockAlert};
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::{col, count, found, storage_error, PgStore};

fn alert_from_row(row: &PgRow) -> Result<StockAlert, StorageError> {
    Ok(StockAlert {
        id: col::<Uuid>(row, 0)?.into(),
        product_id: col::<Uuid>(row, 1)?.into(),
        variant_id: col::<Option<Uuid>>(row, 2)?.map(Into::into),
        email: col(row, 3)?,
        created_at: col(row, 4)?,
    })
}

#[async_trait]
impl StockAlertStore for PgStore {
    async fn insert_stock_alert(&self, a: &StockAlert) -> Result<StockAlert, StorageError> {
        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        // Two requests for the same alert at once, in two processes, take turns here.
        let key = format!("{}|{:?}|{}", a.product_id, a.variant_id, a.email);
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
        let waiting = sqlx::query(
            "SELECT id, product_id, variant_id, email, created_at FROM stock_alerts
             WHERE sent_at IS NULL AND product_id = $1 AND variant_id IS NOT DISTINCT FROM $2
               AND email = $3",
        )
        .bind(a.product_id.0)
        .bind(a.variant_id.map(|v| v.0))
        .bind(&a.email)
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage_error)?;
        if let Some(row) = waiting {
            return alert_from_row(&row);
        }
        sqlx::query(
            "INSERT INTO stock_alerts (id, product_id, variant_id, email, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(a.id.0)
        .bind(a.product_id.0)
        .bind(a.variant_id.map(|v| v.0))
        .bind(&a.email)
        .bind(a.created_at)
        .execute(&mut *tx)
        .await
        .map_err(storage_error)?;
        tx.commit().await.map_err(storage_error)?;
        Ok(a.clone())
    }

    async fn stock_alerts_due(&self, limit: u32) -> Result<Vec<DueStockAlert>, StorageError> {
        sqlx::query(
            "SELECT a.id, a.product_id, a.variant_id, a.email, a.created_at, p.name,
                    CASE WHEN a.variant_id IS NULL THEN p.inventory_count ELSE v.inventory_count END
             FROM stock_alerts a JOIN products p ON p.id = a.product_id
             LEFT JOIN product_variants v ON v.id = a.variant_id AND v.product_id = a.product_id
             WHERE a.sent_at IS NULL
               AND CASE WHEN a.variant_id IS NULL THEN p.inventory_count ELSE v.inventory_count END > 0
             ORDER BY a.created_at, a.id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(storage_error)?
        .iter()
        .map(|row| {
            Ok(DueStockAlert {
                alert: alert_from_row(row)?,
                name: col(row, 5)?,
                available: count(col::<i64>(row, 6)?)?,
            })
        })
        .collect()
    }

    async fn close_stock_alert(
        &self,
        id: StockAlertId,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let closed =
            sqlx::query("UPDATE stock_alerts SET sent_at = $1 WHERE id = $2 AND sent_at IS NULL")
                .bind(at)
                .bind(id.0)
                .execute(self.pool())
                .await
                .map_err(storage_error)?
                .rows_affected();
        if closed == 1 {
            return Ok(true);
        }
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM stock_alerts WHERE id = $1)")
                .bind(id.0)
                .fetch_one(self.pool())
                .await
                .map_err(storage_error)?;
        if exists {
            Ok(false)
        } else {
            Err(StorageError::NotFound)
        }
    }

    async fn reopen_stock_alert(&self, id: StockAlertId) -> Result<(), StorageError> {
        found(
            sqlx::query("UPDATE stock_alerts SET sent_at = NULL WHERE id = $1")
                .bind(id.0)
                .execute(self.pool())
                .await
                .map_err(storage_error)?
                .rows_affected(),
        )
    }
}
