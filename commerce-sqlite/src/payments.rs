//! Payments and the ids of provider events already applied.

use async_trait::async_trait;
use commerce_core::ids::{OrderId, PaymentId};
use commerce_core::payment::Payment;
use commerce_core::ports::{PaymentStore, StorageError};
use rusqlite::{params, OptionalExtension};

use crate::codec::{json, time_text, RowExt};
use crate::{found, storage_error, tell, writing, SqliteStore, Told};
use commerce_core::outbox::ChangeRecord;

#[async_trait]
impl PaymentStore for SqliteStore {
    async fn insert_payment(&self, payment: &Payment) -> Result<(), StorageError> {
        let p = payment.clone();
        self.write_one_statement(move |conn| {
            conn.prepare_cached("INSERT INTO payments (id, order_id, provider, provider_reference, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(storage_error)?
                .execute(params![p.id.to_string(), p.order_id.to_string(), p.provider, p.provider_reference, json(&p)?, time_text(p.created_at)])
                .map_err(writing("payments"))?;
            Ok(())
        })
        .await
    }

    async fn update_payment(
        &self,
        payment: &Payment,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let p = payment.clone();
        let told = Told::of(record)?;
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE payments SET provider_reference = ?1, data = ?2 WHERE id = ?3",
                )
                .map_err(storage_error)?
                .execute(params![p.provider_reference, json(&p)?, p.id.to_string()])
                .map_err(storage_error)?;
            found(n)?;
            tell(conn, &told)
        })
        .await
    }

    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StorageError> {
        self.read_inline(move |conn| {
            conn.prepare_cached("SELECT data FROM payments WHERE id = ?1")
                .map_err(storage_error)?
                .query_row([id.to_string()], |r| r.json(0))
                .optional()
                .map_err(storage_error)
        })
        .await
    }

    async fn payment_by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<Payment>, StorageError> {
        let (provider, reference) = (provider.to_string(), reference.to_string());
        self.read_inline(move |conn| {
            conn.prepare_cached(
                "SELECT data FROM payments WHERE provider = ?1 AND provider_reference = ?2",
            )
            .map_err(storage_error)?
            .query_row([provider, reference], |r| r.json(0))
            .optional()
            .map_err(storage_error)
        })
        .await
    }

    async fn payments_of_order(&self, order_id: OrderId) -> Result<Vec<Payment>, StorageError> {
        self.read_inline(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT data FROM payments WHERE order_id = ?1 ORDER BY created_at, id",
                )
                .map_err(storage_error)?;
            let rows = stmt
                .query_map([order_id.to_string()], |r| r.json(0))
                .map_err(storage_error)?;
            rows.collect::<Result<_, _>>().map_err(storage_error)
        })
        .await
    }

    async fn record_provider_event(
        &self,
        provider: &str,
        event_id: &str,
    ) -> Result<bool, StorageError> {
        let (provider, event_id) = (provider.to_string(), event_id.to_string());
        self.write(move |conn| {
            // The primary key decides: the first insert wins, a replay inserts nothing.
            let n = conn
                .prepare_cached("INSERT INTO provider_events (provider, event_id, received_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
                .map_err(storage_error)?
                .execute(params![provider, event_id, time_text(chrono::Utc::now())])
                .map_err(storage_error)?;
            Ok(n == 1)
        })
        .await
    }

    async fn forget_provider_event(
        &self,
        provider: &str,
        event_id: &str,
    ) -> Result<(), StorageError> {
        let (provider, event_id) = (provider.to_string(), event_id.to_string());
        self.write(move |conn| {
            conn.prepare_cached(
                "DELETE FROM provider_events WHERE provider = ?1 AND event_id = ?2",
            )
            .map_err(storage_error)?
            .execute(params![provider, event_id])
            .map_err(storage_error)?;
            Ok(())
        })
        .await
    }
}
