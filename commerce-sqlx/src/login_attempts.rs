//! Failed sign-ins and request rates per client, kept in the database so that every server
//! process counts them all.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::ids::LoginAttemptId;
use commerce_core::ports::{ClientRateStore, LoginAttemptStore, StorageError};

use crate::{storage_error, PgStore};

#[async_trait]
impl LoginAttemptStore for PgStore {
    /// One transaction that first takes an advisory lock per key (in a fixed order, so two
    /// attempts never wait on each other crosswise): attempts on a key, from any process,
    /// count and insert one after the other.
    async fn begin_login_attempt(
        &self,
        attempt: LoginAttemptId,
        keys: &[(String, u32)],
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StorageError> {
        let mut sorted: Vec<&(String, u32)> = keys.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let names: Vec<String> = sorted.iter().map(|(k, _)| k.clone()).collect();
        let offsets: Vec<i64> = sorted
            .iter()
            .map(|(_, limit)| i64::from((*limit).max(1) - 1))
            .collect();
        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended('login:' || k, 0))
             FROM UNNEST($1::text[]) WITH ORDINALITY AS u(k, n) ORDER BY n",
        )
        .bind(&names)
        .execute(&mut *tx)
        .await
        .map_err(storage_error)?;
        let refused_until: Option<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT MAX(oldest) FROM (
                 SELECT (SELECT f.at FROM login_failures f
                          WHERE f.key = u.k AND f.at > $3
                          ORDER BY f.at DESC OFFSET u.skip LIMIT 1) AS oldest
                 FROM UNNEST($1::text[], $2::bigint[]) AS u(k, skip)) AS limits",
        )
        .bind(&names)
        .bind(&offsets)
        .bind(since)
        .fetch_one(&mut *tx)
        .await
        .map_err(storage_error)?;
        if refused_until.is_some() {
            tx.rollback().await.map_err(storage_error)?;
            return Ok(refused_until);
        }
        sqlx::query(
            "INSERT INTO login_failures (key, at, attempt) SELECT k, $2, $3 FROM UNNEST($1::text[]) AS k",
        )
        .bind(&names)
        .bind(at)
        .bind(attempt.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(storage_error)?;
        tx.commit().await.map_err(storage_error)?;
        Ok(None)
    }

    async fn forget_login_attempt(&self, attempt: LoginAttemptId) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM login_failures WHERE attempt = $1")
            .bind(attempt.as_uuid())
            .execute(self.pool())
            .await
            .map_err(storage_error)?;
        Ok(())
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
