//! Payments and the ids of provider events already applied.

use async_trait::async_trait;
use commerce_core::ids::{OrderId, PaymentId};
use commerce_core::payment::Payment;
use commerce_core::ports::{PaymentStore, StorageError};

use crate::tell;
use crate::{found, from_json, json, storage_error, PgStore};
use commerce_core::outbox::ChangeRecord;

#[async_trait]
impl PaymentStore for PgStore {
    async fn insert_payment(&self, p: &Payment) -> Result<(), StorageError> {
        let insert = sqlx::query(
            "INSERT INTO payments (id, order_id, provider, provider_reference, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(p.id.as_uuid())
        .bind(p.order_id.as_uuid())
        .bind(&p.provider)
        .bind(&p.provider_reference)
        .bind(json(p)?)
        .bind(p.created_at);
        let mut conn = self.lease().await?;
        let inserted = insert.execute(&mut *conn).await;
        conn.settle(inserted).map_err(storage_error)?;
        Ok(())
    }

    async fn update_payment(&self, p: &Payment, record: &ChangeRecord) -> Result<(), StorageError> {
        let update = || -> Result<_, StorageError> {
            Ok(
                sqlx::query("UPDATE payments SET provider_reference = $1, data = $2 WHERE id = $3")
                    .bind(&p.provider_reference)
                    .bind(json(p)?)
                    .bind(p.id.as_uuid()),
            )
        };
        // Most payment updates tell nothing (only a failure and a refund do): those stay one
        // statement, without a transaction's two round trips more.
        if record.is_empty() {
            return found(
                update()?
                    .execute(self.pool())
                    .await
                    .map_err(storage_error)?
                    .rows_affected(),
            );
        }
        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        found(
            update()?
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?
                .rows_affected(),
        )?;
        tell(&mut tx, record).await?;
        tx.commit().await.map_err(storage_error)
    }

    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StorageError> {
        let data: Option<serde_json::Value> =
            sqlx::query_scalar("SELECT data FROM payments WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(self.pool())
                .await
                .map_err(storage_error)?;
        data.map(from_json).transpose()
    }

    async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>, StorageError> {
        let data: Option<serde_json::Value> = sqlx::query_scalar(
            "SELECT data FROM payments WHERE provider = $1 AND provider_reference = $2",
        )
        .bind(provider)
        .bind(reference)
        .fetch_optional(self.pool())
        .await
        .map_err(storage_error)?;
        data.map(from_json).transpose()
    }

    async fn payments_of_order(&self, order_id: OrderId) -> Result<Vec<Payment>, StorageError> {
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT data FROM payments WHERE order_id = $1 ORDER BY created_at, id",
        )
        .bind(order_id.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(storage_error)?;
        rows.into_iter().map(from_json).collect()
    }

    async fn record_provider_event(
        &self,
        provider: &str,
        event_id: &str,
    ) -> Result<bool, StorageError> {
        // The primary key decides: the first insert wins, a replay (even a concurrent one,
        // from another process) inserts nothing.
        let inserted = sqlx::query(
            "INSERT INTO provider_events (provider, event_id, received_at) VALUES ($1, $2, now()) ON CONFLICT DO NOTHING",
        )
        .bind(provider)
        .bind(event_id)
        .execute(self.pool())
        .await
        .map_err(storage_error)?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn forget_provider_event(
        &self,
        provider: &str,
        event_id: &str,
    ) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM provider_events WHERE provider = $1 AND event_id = $2")
            .bind(provider)
            .bind(event_id)
            .execute(self.pool())
            .await
            .map_err(storage_error)?;
        Ok(())
    }
}
