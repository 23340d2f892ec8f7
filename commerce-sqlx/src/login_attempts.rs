//! Failed sign-ins, kept in the database so that every server process counts them all.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::ports::{LoginAttemptStore, StorageError};

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
