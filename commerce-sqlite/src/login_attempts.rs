//! Failed sign-ins and request rates per client, counted in the file so that every process
//! sharing it sees them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::ids::LoginAttemptId;
use commerce_core::ports::{ClientRateStore, LoginAttemptStore, StorageError};
use rusqlite::{params, OptionalExtension};

use crate::codec::{time_text, RowExt};
use crate::{storage_error, SqliteStore};

#[async_trait]
impl LoginAttemptStore for SqliteStore {
    /// On the writer: SQLite has one writer at a time (across processes too, in an immediate
    /// transaction), so the count and the insert cannot interleave with another attempt's.
    async fn begin_login_attempt(
        &self,
        attempt: LoginAttemptId,
        keys: &[(String, u32)],
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StorageError> {
        let keys = keys.to_vec();
        self.write(move |conn| {
            let tx = &*conn;
            let mut refused_until: Option<DateTime<Utc>> = None;
            {
                let mut at_limit = tx
                    .prepare_cached(
                        "SELECT at FROM login_failures WHERE key = ?1 AND at > ?2 ORDER BY at DESC LIMIT 1 OFFSET ?3",
                    )
                    .map_err(storage_error)?;
                for (key, limit) in &keys {
                    let oldest: Option<DateTime<Utc>> = at_limit
                        .query_row(
                            params![key, time_text(since), i64::from(limit.max(&1) - 1)],
                            |r| r.time(0),
                        )
                        .optional()
                        .map_err(storage_error)?;
                    if let Some(oldest) = oldest {
                        refused_until = Some(refused_until.map_or(oldest, |r| r.max(oldest)));
                    }
                }
            }
            if refused_until.is_some() {
                return Ok(refused_until);
            }
            let mut insert = tx
                .prepare_cached("INSERT INTO login_failures (key, at, attempt) VALUES (?1, ?2, ?3)")
                .map_err(storage_error)?;
            for (key, _) in &keys {
                insert
                    .execute(params![key, time_text(at), attempt.to_string()])
                    .map_err(storage_error)?;
            }
            Ok(None)
        })
        .await
    }

    async fn forget_login_attempt(&self, attempt: LoginAttemptId) -> Result<(), StorageError> {
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM login_failures WHERE attempt = ?1")
                .map_err(storage_error)?
                .execute([attempt.to_string()])
                .map(|_| ())
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

#[async_trait]
impl ClientRateStore for SqliteStore {
    async fn add_client_requests(
        &self,
        requests: &[(String, u32)],
        interval: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StorageError> {
        let requests = requests.to_vec();
        self.write(move |conn| {
            let tx = &*conn;
            let mut times = Vec::with_capacity(requests.len());
            {
                let mut read = tx
                    .prepare_cached("SELECT tat FROM client_rates WHERE client = ?1")
                    .map_err(storage_error)?;
                let mut write = tx
                    .prepare_cached(
                        "INSERT INTO client_rates (client, tat) VALUES (?1, ?2)
                         ON CONFLICT (client) DO UPDATE SET tat = excluded.tat",
                    )
                    .map_err(storage_error)?;
                for (client, count) in &requests {
                    let stored: Option<DateTime<Utc>> = read
                        .query_row([client], |r| r.time(0))
                        .optional()
                        .map_err(storage_error)?;
                    let worth = chrono::Duration::from_std(interval * *count)
                        .map_err(|_| StorageError::Corrupt("an interval out of range".into()))?;
                    let time = stored.unwrap_or(now).max(now) + worth;
                    write
                        .execute(params![client, time_text(time)])
                        .map_err(storage_error)?;
                    times.push((client.clone(), time));
                }
            }
            Ok(times)
        })
        .await
    }

    async fn purge_client_rates(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM client_rates WHERE tat < ?1",
                [time_text(before)],
            )
            .map(|n| n as u64)
            .map_err(storage_error)
        })
        .await
    }
}
