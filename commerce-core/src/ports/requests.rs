//! Storage the HTTP edge needs across processes: idempotency keys and clients' request rates.

use super::*;

/// A response kept for an idempotency key, replayed to a retry of the same request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptResponse {
    /// The HTTP status answered.
    pub status: u16,
    /// The headers a client needs again (content type, location, ETag, ...).
    pub headers: Vec<(String, String)>,
    /// The body answered, as sent.
    pub body: Vec<u8>,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key was free (or its record had expired): the caller runs the request.
    Claimed,
    /// A live record: the request it was claimed for (its fingerprint) and, once that
    /// request finished, its response.
    Existing {
        /// A hash of the claiming request's content type and body (the scope holds the
        /// caller and endpoint): another body under the same key is 409
        /// `idempotency_key_reused`.
        fingerprint: String,
        /// Its response once it finished; `None` while it runs (409
        /// `idempotency_key_in_use`).
        response: Option<KeptResponse>,
    },
}

/// Idempotency keys (`Idempotency-Key`), scoped to a caller and an endpoint.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Atomically claims `(scope, key)` for a request with `fingerprint`, unless a live
    /// record holds it. A record is dead when created before `expired_before`, or when it
    /// never completed and was created before `abandoned_before` (its request died).
    async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        expired_before: DateTime<Utc>,
        abandoned_before: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StorageError>;

    /// Keeps the response of a claimed key.
    async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        response: &KeptResponse,
    ) -> Result<(), StorageError>;

    /// Frees a claimed key whose request failed in a way worth retrying.
    async fn release_idempotency_key(&self, scope: &str, key: &str) -> Result<(), StorageError>;

    /// Deletes records created before `before`; returns how many.
    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StorageError>;
}

/// Request rates per client (an address), kept where every server process sharing the
/// storage adds to them, so a rate limit holds across processes. Each client has a shared
/// "theoretical arrival time" (GCRA): the moment its requests so far would have been spread
/// out at the allowed rate.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ClientRateStore: Send + Sync {
    /// Adds `count` requests per client, each worth `interval` (one over the rate), to its
    /// time (starting from `now` if it lies in the past), atomically, and returns each
    /// client's new time.
    async fn add_client_requests(
        &self,
        requests: &[(String, u32)],
        interval: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StorageError>;
    /// Forgets clients whose time is before `before`; returns how many.
    async fn purge_client_rates(&self, before: DateTime<Utc>) -> Result<u64, StorageError>;
}
