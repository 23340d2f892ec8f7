//! Idempotency keys: claimed in one statement, so two requests with the same key never both
//! run, also when they reach two processes at once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::ports::{IdempotencyClaim, IdempotencyStore, KeptResponse, StorageError};

use crate::{found, from_json, json, storage_error, PgStore};

#[async_trait]
impl IdempotencyStore for PgStore {
    async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        expired_before: DateTime<Utc>,
        abandoned_before: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StorageError> {
        // A record that was released between the two statements is claimed on a second go.
        for _ in 0..3 {
            // Takes the key when free, or when its record is dead (expired, or abandoned
            // unfinished): the conflicting row is locked and re-checked by the UPDATE.
            let claimed = sqlx::query(
                "INSERT INTO idempotency_keys (scope, key, fingerprint, created_at, response) VALUES ($1, $2, $3, $4, NULL)
                 ON CONFLICT (scope, key) DO UPDATE
                     SET fingerprint = excluded.fingerprint, created_at = excluded.created_at, response = NULL
                     WHERE idempotency_keys.created_at < $5
                        OR (idempotency_keys.response IS NULL AND idempotency_keys.created_at < $6)",
            )
            .bind(scope)
            .bind(key)
            .bind(fingerprint)
            .bind(now)
            .bind(expired_before)
            .bind(abandoned_before)
            .execute(self.pool())
            .await
            .map_err(storage_error)?
            .rows_affected();
            if claimed == 1 {
                return Ok(IdempotencyClaim::Claimed);
            }
            let existing: Option<(String, Option<serde_json::Value>)> = sqlx::query_as(
                "SELECT fingerprint, response FROM idempotency_keys WHERE scope = $1 AND key = $2",
            )
            .bind(scope)
            .bind(key)
            .fetch_optional(self.pool())
            .await
            .map_err(storage_error)?;
            if let Some((fingerprint, response)) = existing {
                return Ok(IdempotencyClaim::Existing {
                    fingerprint,
                    response: response.map(from_json::<KeptResponse>).transpose()?,
                });
            }
        }
        Err(StorageError::Unavailable(
            "the idempotency key kept changing hands".into(),
        ))
    }

    async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        response: &KeptResponse,
    ) -> Result<(), StorageError> {
        found(
            sqlx::query("UPDATE idempotency_keys SET response = $3 WHERE scope = $1 AND key = $2")
                .bind(scope)
                .bind(key)
                .bind(json(response)?)
                .execute(self.pool())
                .await
                .map_err(storage_error)?
                .rows_affected(),
        )
    }

    async fn release_idempotency_key(&self, scope: &str, key: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .execute(self.pool())
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        Ok(
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(before)
                .execute(self.pool())
                .await
                .map_err(storage_error)?
                .rows_affected(),
        )
    }
}
