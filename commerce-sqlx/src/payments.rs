//! Payments and the ids of provider events already applied.
//!
//! New payments are written together with others waiting (`gathered`): a checkout's payment
//! is a statement and a commit after the order's.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::ids::{OrderId, PaymentId};
use commerce_core::payment::Payment;
use commerce_core::ports::{PaymentStore, StorageError};
use sqlx::postgres::PgConnection;

use crate::gathered::{GatheredWrite, Written};
use crate::tell;
use crate::{found, from_json, json, storage_error, PgStore, StoredJson};
use commerce_core::outbox::ChangeRecord;

/// A new payment's row.
pub(crate) struct PaymentRow {
    id: uuid::Uuid,
    order_id: uuid::Uuid,
    provider: String,
    provider_reference: Option<String>,
    data: StoredJson,
    created_at: DateTime<Utc>,
}

impl PaymentRow {
    fn of(p: &Payment) -> Result<PaymentRow, StorageError> {
        Ok(PaymentRow {
            id: p.id.as_uuid(),
            order_id: p.order_id.as_uuid(),
            provider: p.provider.clone(),
            provider_reference: p.provider_reference.clone(),
            data: json(p)?,
            created_at: p.created_at,
        })
    }
}

/// New payments, inserted together.
pub(crate) struct NewPayments;

impl GatheredWrite for NewPayments {
    type Row = PaymentRow;
    type Answer = ();

    fn write<'c>(connection: &'c mut PgConnection, rows: &'c [&'c PaymentRow]) -> Written<'c, ()> {
        Box::pin(async move {
            let n = rows.len();
            insert_statement(rows).execute(connection).await?;
            Ok(vec![(); n])
        })
    }
}

/// The rows' insert: one statement whatever their number, so it is prepared once.
fn insert_statement<'a>(
    rows: &[&'a PaymentRow],
) -> sqlx::query::Query<'a, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let n = rows.len();
    let (mut ids, mut orders, mut providers, mut references, mut data, mut created) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for row in rows {
        ids.push(row.id);
        orders.push(row.order_id);
        providers.push(row.provider.as_str());
        references.push(row.provider_reference.as_deref());
        data.push(&row.data);
        created.push(row.created_at);
    }
    sqlx::query(
        "INSERT INTO payments (id, order_id, provider, provider_reference, data, created_at)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[])",
    )
    .bind(ids)
    .bind(orders)
    .bind(providers)
    .bind(references)
    .bind(data)
    .bind(created)
}

#[async_trait]
impl PaymentStore for PgStore {
    async fn insert_payment(&self, p: &Payment) -> Result<(), StorageError> {
        match self.inner.new_payments.write(PaymentRow::of(p)?).await {
            Ok(answer) => answer,
            // The writer is gone (only if it panicked): written here, alone.
            Err(row) => {
                let mut conn = self.lease().await?;
                let inserted = NewPayments::write(&mut conn, &[&row]).await;
                conn.settle(inserted).map_err(storage_error)?;
                Ok(())
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use commerce_core::outbox::ChangeRecord;
    use commerce_core::ports::{OrderStore, ProductStore, Reference, UniqueRule};
    use commerce_core::testkit::fixtures::{new_order, order, product};
    use rust_decimal::Decimal;

    /// Payments queued before the writer starts: it takes them all in one statement.
    async fn write_together(
        store: &PgStore,
        payments: &[Payment],
    ) -> Vec<Result<(), StorageError>> {
        let rows = payments
            .iter()
            .map(|p| PaymentRow::of(p).unwrap())
            .collect();
        crate::gathered::write_queued::<NewPayments>(store.pool(), rows).await
    }

    /// The transactions that wrote these payments' rows (each row's `xmin`).
    async fn writing_transactions(store: &PgStore, payments: &[Payment]) -> i64 {
        let ids: Vec<uuid::Uuid> = payments.iter().map(|p| p.id.as_uuid()).collect();
        sqlx::query_scalar("SELECT count(DISTINCT xmin::text) FROM payments WHERE id = ANY($1)")
            .bind(ids)
            .fetch_one(store.pool())
            .await
            .unwrap()
    }

    #[cfg_attr(
        not(postgres_tests),
        ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
    )]
    #[tokio::test]
    async fn payments_queued_together_are_one_statement_and_a_refused_one_is_refused_alone() {
        let url = std::env::var("COMMERCE_TEST_DATABASE_URL").unwrap();
        let store = PgStore::open_temporary(&url, crate::PgOptions::default())
            .await
            .unwrap();
        let lamp = product("Lamp", Decimal::ONE, 5);
        store
            .insert_product(&lamp, &ChangeRecord::none())
            .await
            .unwrap();
        let o = order(None, &[(&lamp, None, 1)]);
        store.place_order(&new_order(o.clone(), "a")).await.unwrap();
        let payment = |reference: String| {
            let mut p = Payment::new(
                PaymentId::random(),
                o.id,
                "stripe",
                o.totals.total,
                commerce_core::testkit::now(),
            );
            p.provider_reference = Some(reference);
            p
        };

        // Ten that break no rule: written by one statement, one transaction.
        let good: Vec<Payment> = (0..10).map(|i| payment(format!("pi_good_{i}"))).collect();
        assert!(write_together(&store, &good)
            .await
            .iter()
            .all(Result::is_ok));
        assert_eq!(writing_transactions(&store, &good).await, 1);

        // With one reusing a reference and one naming no order, the statement is refused
        // whole; each is then written alone, and only those two are refused.
        let mut mixed: Vec<Payment> = (0..6).map(|i| payment(format!("pi_mixed_{i}"))).collect();
        mixed[2].provider_reference = Some("pi_good_3".into());
        mixed[4].order_id = OrderId::random();
        let answers = write_together(&store, &mixed).await;
        assert_eq!(
            answers,
            vec![
                Ok(()),
                Ok(()),
                Err(StorageError::Duplicate(UniqueRule::PaymentReference)),
                Ok(()),
                Err(StorageError::MissingReference(Reference::Order)),
                Ok(()),
            ]
        );
        let stored: Vec<Payment> = [0, 1, 3, 5].iter().map(|&i| mixed[i].clone()).collect();
        assert_eq!(writing_transactions(&store, &stored).await, 4);
        for p in &stored {
            assert_eq!(store.payment(p.id).await.unwrap().as_ref(), Some(p));
        }
        assert_eq!(store.payment(mixed[2].id).await.unwrap(), None);
        assert_eq!(
            store.payments_of_order(o.id).await.unwrap().len(),
            good.len() + stored.len()
        );
    }
}
