//! Back-in-stock alerts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::ids::StockAlertId;
use commerce_core::ports::{StockAlertStore, StorageError};
use commerce_core::stock_alert::{DueStockAlert, StockAlert};
use rusqlite::{params, OptionalExtension};

use crate::codec::{time_text, RowExt};
use crate::{found, storage_error, writing, SqliteStore};

fn alert_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StockAlert> {
    Ok(StockAlert {
        id: r.id(0)?,
        product_id: r.id(1)?,
        variant_id: r.opt_id(2)?,
        email: r.get(3)?,
        created_at: r.time(4)?,
    })
}

#[async_trait]
impl StockAlertStore for SqliteStore {
    async fn insert_stock_alert(&self, alert: &StockAlert) -> Result<StockAlert, StorageError> {
        let a = alert.clone();
        // The writer runs one write at a time: the look and the insert cannot be split.
        self.write(move |conn| {
            let waiting = conn
                .prepare_cached(
                    "SELECT id, product_id, variant_id, email, created_at FROM stock_alerts
                     WHERE sent_at IS NULL AND product_id = ?1 AND variant_id IS ?2 AND email = ?3",
                )
                .map_err(storage_error)?
                .query_row(
                    params![
                        a.product_id.to_string(),
                        a.variant_id.map(|v| v.to_string()),
                        a.email
                    ],
                    alert_from_row,
                )
                .optional()
                .map_err(storage_error)?;
            if let Some(waiting) = waiting {
                return Ok(waiting);
            }
            conn.prepare_cached(
                "INSERT INTO stock_alerts (id, product_id, variant_id, email, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(storage_error)?
            .execute(params![
                a.id.to_string(),
                a.product_id.to_string(),
                a.variant_id.map(|v| v.to_string()),
                a.email,
                time_text(a.created_at)
            ])
            .map_err(writing("stock_alerts"))?;
            Ok(a)
        })
        .await
    }

    async fn stock_alerts_due(&self, limit: u32) -> Result<Vec<DueStockAlert>, StorageError> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT a.id, a.product_id, a.variant_id, a.email, a.created_at, p.name,
                        CASE WHEN a.variant_id IS NULL THEN p.inventory_count ELSE v.inventory_count END
                 FROM stock_alerts a JOIN products p ON p.id = a.product_id
                 LEFT JOIN product_variants v ON v.id = a.variant_id AND v.product_id = a.product_id
                 WHERE a.sent_at IS NULL
                   AND CASE WHEN a.variant_id IS NULL THEN p.inventory_count ELSE v.inventory_count END > 0
                 ORDER BY a.created_at, a.id LIMIT ?1",
            )
            .map_err(storage_error)?
            .query_map([i64::from(limit)], |r| {
                Ok(DueStockAlert {
                    alert: alert_from_row(r)?,
                    name: r.get(5)?,
                    available: r.count(6)?,
                })
            })
            .map_err(storage_error)?
            .collect::<Result<_, _>>()
            .map_err(storage_error)
        })
        .await
    }

    async fn close_stock_alert(
        &self,
        id: StockAlertId,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        self.write(move |conn| {
            let closed = conn
                .prepare_cached(
                    "UPDATE stock_alerts SET sent_at = ?1 WHERE id = ?2 AND sent_at IS NULL",
                )
                .map_err(storage_error)?
                .execute(params![time_text(at), id.to_string()])
                .map_err(storage_error)?;
            if closed == 1 {
                return Ok(true);
            }
            let exists = conn
                .query_row(
                    "SELECT 1 FROM stock_alerts WHERE id = ?1",
                    [id.to_string()],
                    |_| Ok(()),
                )
                .optional()
                .map_err(storage_error)?;
            exists.map(|()| false).ok_or(StorageError::NotFound)
        })
        .await
    }

    async fn reopen_stock_alert(&self, id: StockAlertId) -> Result<(), StorageError> {
        self.write_one_statement(move |conn| {
            let n = conn
                .prepare_cached("UPDATE stock_alerts SET sent_at = NULL WHERE id = ?1")
                .map_err(storage_error)?
                .execute([id.to_string()])
                .map_err(storage_error)?;
            found(n)
        })
        .await
    }
}
