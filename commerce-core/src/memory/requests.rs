//! What the HTTP edge keeps per request in memory: idempotency keys and clients' request rates.

use super::*;

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        expired_before: DateTime<Utc>,
        abandoned_before: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StorageError> {
        let mut s = self.lock()?;
        let id = (scope.to_string(), key.to_string());
        if let Some((kept, created, response)) = s.idempotency.get(&id) {
            let dead =
                *created < expired_before || (response.is_none() && *created < abandoned_before);
            if !dead {
                return Ok(IdempotencyClaim::Existing {
                    fingerprint: kept.clone(),
                    response: response.clone(),
                });
            }
        }
        s.idempotency
            .insert(id, (fingerprint.to_string(), now, None));
        Ok(IdempotencyClaim::Claimed)
    }

    async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        response: &KeptResponse,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        let record = s
            .idempotency
            .get_mut(&(scope.to_string(), key.to_string()))
            .ok_or(StorageError::NotFound)?;
        record.2 = Some(response.clone());
        Ok(())
    }

    async fn release_idempotency_key(&self, scope: &str, key: &str) -> Result<(), StorageError> {
        self.lock()?
            .idempotency
            .remove(&(scope.to_string(), key.to_string()));
        Ok(())
    }

    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        let mut s = self.lock()?;
        let count = s.idempotency.len();
        s.idempotency
            .retain(|_, (_, created, _)| *created >= before);
        Ok((count - s.idempotency.len()) as u64)
    }
}

#[async_trait]
impl ClientRateStore for MemoryStore {
    async fn add_client_requests(
        &self,
        requests: &[(String, u32)],
        interval: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StorageError> {
        let mut s = self.lock()?;
        let mut times = Vec::with_capacity(requests.len());
        for (client, count) in requests {
            let worth = chrono::Duration::from_std(interval * *count)
                .map_err(|_| StorageError::Corrupt("an interval out of range".into()))?;
            let time = s.client_rates.entry(client.clone()).or_insert(now);
            *time = (*time).max(now) + worth;
            times.push((client.clone(), *time));
        }
        Ok(times)
    }

    async fn purge_client_rates(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        let mut s = self.lock()?;
        let count = s.client_rates.len();
        s.client_rates.retain(|_, time| *time >= before);
        Ok((count - s.client_rates.len()) as u64)
    }
}
