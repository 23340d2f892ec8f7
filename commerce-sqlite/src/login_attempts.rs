//! Failed sign-ins, counted in the file so that every process sharing it sees them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::ports::{LoginAttemptStore, StorageError};
use rusqlite::{params, OptionalExtension};

use crate::codec::{time_text, RowExt};
use crate::{storage_error, SqliteStore};

#[async_trait]
impl LoginAttemptStore for SqliteStore {
    async fn record_login_failure(
        &self,
        keys: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let keys = keys.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction().map_err(storage_error)?;
            {
                let mut insert = tx
                    .prepare_cached("INSERT INTO login_failures (key, at) VALUES (?1, ?2)")
                    .map_err(storage_error)?;
                for key in &keys {
                    insert
                        .execute(params![key, time_text(at)])
                        .map_err(storage_error)?;
                }
            }
            tx.commit().map_err(storage_error)
        })
        .await
    }

    async fn login_failure_at_limit(
        &self,
        key: &str,
        limit: u32,
        since: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StorageError> {
        let key = key.to_string();
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT at FROM login_failures WHERE key = ?1 AND at > ?2 ORDER BY at DESC LIMIT 1 OFFSET ?3",
            )
            .map_err(storage_error)?
            .query_row(
                params![key, time_text(since), i64::from(limit.max(1) - 1)],
                |r| r.time(0),
            )
            .optional()
            .map_err(storage_error)
        })
        .await
    }

    async fn purge_login_failures(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM login_failures WHERE at < ?1",
                [time_text(before)],
            )
            .map(|n| n as u64)
            .map_err(storage_error)
        })
        .await
    }
}
