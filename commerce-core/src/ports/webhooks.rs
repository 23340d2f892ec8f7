//! Outbound webhooks: the endpoints and deliveries a storage keeps (with the outbox its writes
//! fill), and the port that sends a delivery over HTTP.

use std::time::Duration;

use super::*;
use crate::outbox::OutboxEvent;
use crate::webhook::{
    DeliveryAttempts, LeasedEndpoint, SealedSecrets, WebhookDelivery, WebhookEndpoint,
};

/// Storage of webhook endpoints, their deliveries, and the outbox's fan-out.
///
/// Events enter the outbox through the writes that carry a
/// [`ChangeRecord`](crate::outbox::ChangeRecord), in those writes' transactions.
/// [`dispatch_events`](Self::dispatch_events) then makes one delivery per event and endpoint
/// that hears it; a relay leases endpoints with due deliveries, sends them, and records each
/// attempt.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// `Duplicate(RecordId)` for an id in use.
    async fn insert_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        secrets: &SealedSecrets,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// Writes url, events, description, active, failing_since and updated_at as given;
    /// `NotFound` for an unknown id.
    async fn update_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// A rotation, in one step: the current secret becomes the previous one (signing until
    /// `previous_until`) and `sealed` the current; `NotFound` for an unknown id.
    async fn rotate_webhook_secret(
        &self,
        id: WebhookEndpointId,
        sealed: &[u8],
        previous_until: DateTime<Utc>,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// Deletes the endpoint and its deliveries; `NotFound` for an unknown id.
    async fn delete_webhook_endpoint(
        &self,
        id: WebhookEndpointId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// The endpoint, if it exists (its secrets sealed as stored).
    async fn webhook_endpoint(
        &self,
        id: WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>, StorageError>;
    /// Oldest first.
    async fn webhook_endpoints(
        &self,
        page: &PageRequest,
    ) -> Result<Page<WebhookEndpoint>, StorageError>;
    /// Takes up to `limit` events of the outbox not yet dispatched, in the order they were
    /// committed, and in one transaction makes a pending delivery (due `now`) for each active
    /// endpoint whose filter hears it, and marks them dispatched. Returns how many events it
    /// took. With several processes, two dispatches never take one event, and deliveries of
    /// one endpoint are made in commit order.
    async fn dispatch_events(&self, now: DateTime<Utc>, limit: u32) -> Result<u32, StorageError>;
    /// Leases to `relay` up to `endpoints` active endpoints that have deliveries due by `now`
    /// and no lease running, until `until`, each with up to `deliveries_each` due deliveries,
    /// oldest first.
    async fn lease_webhook_endpoints(
        &self,
        relay: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        endpoints: u32,
        deliveries_each: u32,
    ) -> Result<Vec<LeasedEndpoint>, StorageError>;
    /// Records attempts at one endpoint's deliveries, in one transaction: each delivery's
    /// attempts (one more), last answer and next state; the endpoint's `failing_since` as
    /// given, its turning off when asked, and the relay's lease renewed if it still holds it.
    /// Attempts at deliveries the endpoint does not have are skipped (one deleted since).
    async fn record_delivery_attempts(
        &self,
        attempts: &DeliveryAttempts,
    ) -> Result<(), StorageError>;
    /// Ends `relay`'s lease of the endpoint (a lease since taken by another is left alone).
    async fn release_webhook_endpoint(
        &self,
        id: WebhookEndpointId,
        relay: Uuid,
    ) -> Result<(), StorageError>;
    /// The endpoint's deliveries, newest first.
    async fn webhook_deliveries(
        &self,
        endpoint: WebhookEndpointId,
        page: &PageRequest,
    ) -> Result<Page<WebhookDelivery>, StorageError>;
    /// Makes a delivery of the endpoint pending again, due `now` (a retry by hand);
    /// `NotFound` when the endpoint has no such delivery.
    async fn retry_webhook_delivery(
        &self,
        endpoint: WebhookEndpointId,
        delivery: WebhookDeliveryId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
    /// Forgets what was delivered long ago: deliveries no longer pending last changed before
    /// `before`, then dispatched events older than that with no delivery left, at most
    /// `limit` of each per call (a caller loops while it returns `limit`). Returns how many
    /// rows went.
    async fn purge_webhook_history(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StorageError>;
    /// Stores `event` (already dispatched) with one pending delivery to this endpoint alone:
    /// a test event. `NotFound` for an unknown endpoint.
    async fn queue_test_event(
        &self,
        endpoint: WebhookEndpointId,
        event: &OutboxEvent,
        now: DateTime<Utc>,
    ) -> Result<WebhookDeliveryId, StorageError>;
}

/// One delivery attempt as it goes over the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// The endpoint's URL.
    pub url: String,
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature` (content type and user agent
    /// are the sender's).
    pub headers: Vec<(String, String)>,
    /// The event's JSON, exactly as signed.
    pub body: Vec<u8>,
}

/// What came of sending one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookAnswer {
    /// The receiver answered with this status (redirects are answers, never followed).
    Status {
        /// The HTTP status (any 2xx delivers).
        code: u16,
        /// Its `Retry-After`, when it sent one (429, 503).
        retry_after: Option<Duration>,
    },
    /// No answer: the target is refused (private), cannot be resolved or reached, or took
    /// longer than the timeout.
    NoAnswer(String),
}

/// Sends webhook deliveries (`commerce-webhooks` over HTTP). An adapter refuses targets that
/// resolve to private addresses unless told otherwise, follows no redirect, and gives up
/// after its timeout.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Sends one attempt and says what came of it; never an error (a failure is an answer).
    async fn send(&self, request: WebhookRequest) -> WebhookAnswer;
}
