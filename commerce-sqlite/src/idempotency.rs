//! Idempotency keys: claimed in one immediate transaction on the writer connection, so two
//! requests with the same key never both run.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::ports::{IdempotencyClaim, IdempotencyStore, KeptResponse, StorageError};
use rusqlite::{params, OptionalExtension};

use crate::codec::{json, time_text, RowExt};
use crate::{found, storage_error, SqliteStore};

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        expired_before: DateTime<Utc>,
        abandoned_before: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StorageError> {
        let (scope, key, fingerprint) =
            (scope.to_string(), key.to_string(), fingerprint.to_string());
        self.write(move |conn| {
            let tx = &*conn;
            let existing = tx
                .query_row(
                    "SELECT fingerprint, created_at, response FROM idempotency_keys WHERE scope = ?1 AND key = ?2",
                    params![scope, key],
                    |r| {
                        let response: Option<String> = r.get(2)?;
                        Ok((r.get::<_, String>(0)?, r.time(1)?, response))
                    },
                )
                .optional()
                .map_err(storage_error)?;
            if let Some((kept, created, response)) = existing {
                let dead = created < expired_before
                    || (response.is_none() && created < abandoned_before);
                if !dead {
                    let response = response
                        .map(|text| serde_json::from_str::<KeptResponse>(&text))
                        .transpose()
                        .map_err(|e| StorageError::Corrupt(e.to_string()))?;
                    return Ok(IdempotencyClaim::Existing {
                        fingerprint: kept,
                        response,
                    });
                }
            }
            tx.execute(
                "INSERT INTO idempotency_keys (scope, key, fingerprint, created_at, response) VALUES (?1, ?2, ?3, ?4, NULL)
                 ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, created_at = excluded.created_at, response = NULL",
                params![scope, key, fingerprint, time_text(now)],
            )
            .map_err(storage_error)?;
            Ok(IdempotencyClaim::Claimed)
        })
        .await
    }

    async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        response: &KeptResponse,
    ) -> Result<(), StorageError> {
        let (scope, key) = (scope.to_string(), key.to_string());
        let response = json(response)?;
        self.write(move |conn| {
            found(
                conn.execute(
                    "UPDATE idempotency_keys SET response = ?3 WHERE scope = ?1 AND key = ?2",
                    params![scope, key, response],
                )
                .map_err(storage_error)?,
            )
        })
        .await
    }

    async fn release_idempotency_key(&self, scope: &str, key: &str) -> Result<(), StorageError> {
        let (scope, key) = (scope.to_string(), key.to_string());
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM idempotency_keys WHERE scope = ?1 AND key = ?2",
                params![scope, key],
            )
            .map_err(storage_error)?;
            Ok(())
        })
        .await
    }

    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        self.write(move |conn| {
            let removed = conn
                .execute(
                    "DELETE FROM idempotency_keys WHERE created_at < ?1",
                    [time_text(before)],
                )
                .map_err(storage_error)?;
            Ok(removed as u64)
        })
        .await
    }
}
