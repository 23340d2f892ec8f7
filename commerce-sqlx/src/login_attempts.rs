//! Failed sign-ins and request rates per client, kept in the database so that every server
//! process counts them all.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::ports::{ClientRateStore, LoginAttemptStore, StorageError};

use crate::{storage_error, PgStore};

#[async_trait]
impl LoginAttemptStore for PgStore {
    async fn record_login_failure(
        &self,
        keys: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO login_failures (key, at) SELECT k, $2 FROM UNNEST($1::text[]) AS k",
        )
        .bind(keys)
        .bind(at)
        .execute(self.pool())
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn login_failure_at_limit(
        &self,
        key: &str,
        limit: u32,
        since: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StorageError> {
        sqlx::query_scalar(
            "SELECT at FROM login_failures WHERE key = $1 AND at > $2 ORDER BY at DESC OFFSET $3 LIMIT 1",
        )
        .bind(key)
        .bind(since)
        .bind(i64::from(limit.max(1) - 1))
        .fetch_optional(self.pool())
        .await
        .map_err(storage_error)
    }

    async fn purge_login_failures(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        Ok(sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(before)
            .execute(self.pool())
            .await
            .map_err(storage_error)?
            .rows_affected())
    }
}

#[async_trait]
impl ClientRateStore for PgStore {
    /// One statement for the whole batch: each client's time moves from where it is (or from
    /// now) by its requests' worth, under the row lock, so processes adding at once all count.
    async fn add_client_requests(
        &self,
        requests: &[(String, u32)],
        interval: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StorageError> {
        let mut clients = Vec::with_capacity(requests.len());
        let mut worth = Vec::with_capacity(requests.len());
        for (client, count) in requests {
            clients.push(client.clone());
            let micros = (interval * *count).as_micros();
            worth.push(
                i64::try_from(micros)
                    .map_err(|_| StorageError::Corrupt("an interval out of range".into()))?,
            );
        }
        sqlx::query_as(
            "INSERT INTO client_rates (client, tat)
             SELECT r.client, $3 + make_interval(secs => r.micros / 1e6)
             FROM UNNEST($1::text[], $2::bigint[]) AS r(client, micros)
             ON CONFLICT (client) DO UPDATE
                 SET tat = GREATEST(client_rates.tat, $3) + (excluded.tat - $3)
             RETURNING client, tat",
        )
        .bind(clients)
        .bind(worth)
        .bind(now)
        .fetch_all(self.pool())
        .await
        .map_err(storage_error)
    }

    async fn purge_client_rates(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        Ok(sqlx::query("DELETE FROM client_rates WHERE tat < $1")
            .bind(before)
            .execute(self.pool())
            .await
            .map_err(storage_error)?
            .rows_affected())
    }
}
