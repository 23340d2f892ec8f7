//! Outbound webhooks (role admin): endpoints, their secrets, test events and deliveries.

use commerce_core::ids::{WebhookDeliveryId, WebhookEndpointId};
use commerce_core::service::EndpointWithSecret;
use commerce_core::webhook::{EventType, WebhookDelivery, WebhookEndpoint, WebhookEndpointDraft};

use super::*;
use crate::rules::{List, WebhookDescription, WebhookUrl};

/// An event an endpoint hears, or `*` for all of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventName {
    All,
    Only(EventType),
}

impl Choices for EventName {
    const NAME: &'static str = "webhook_event";
    fn all() -> Vec<(&'static str, Self)> {
        let mut all = vec![("*", EventName::All)];
        all.extend(
            EventType::ALL
                .iter()
                .map(|t| (t.as_str(), EventName::Only(*t))),
        );
        all
    }
}

/// The most events one endpoint names (every type, and `*`).
const MOST_EVENTS: usize = 16;

#[derive(Debug, Object, Deserialize)]
pub struct WebhookEndpointBody {
    pub url: Text<WebhookUrl>,
    /// Event types (`order.paid`, ...), or `["*"]` for all, those added later included.
    pub events: List<Word<EventName>, 1, MOST_EVENTS>,
    #[serde(default)]
    #[oai(nullable)]
    pub description: Option<Text<WebhookDescription>>,
    /// On by default; kept as it was when absent from a replacement.
    #[serde(default)]
    #[oai(nullable)]
    pub active: Option<bool>,
}

impl WebhookEndpointBody {
    fn draft(self) -> WebhookEndpointDraft {
        WebhookEndpointDraft {
            url: self.url.into_string(),
            events: self
                .events
                .into_vec()
                .into_iter()
                .map(|w| w.0.word().to_string())
                .collect(),
            description: self.description.map(Text::into_string),
            active: self.active,
        }
    }
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "WebhookEndpoint")]
pub struct WebhookEndpointJson {
    pub id: Uuid,
    pub url: String,
    /// Event types, or `["*"]`.
    pub events: Vec<String>,
    #[oai(nullable)]
    pub description: Option<String>,
    pub active: bool,
    /// Since when every delivery has failed; null while it answers. After five days of it the
    /// endpoint is turned off and the admins are mailed.
    #[oai(nullable)]
    pub failing_since: Option<DateTime<Utc>>,
    /// `whsec_` and base64: shown on creation and rotation only.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookEndpoint> for WebhookEndpointJson {
    fn from(e: WebhookEndpoint) -> Self {
        Self {
            id: e.id.as_uuid(),
            url: e.url,
            events: e.events.names(),
            description: e.description,
            active: e.active,
            failing_since: e.failing_since,
            secret: None,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

impl From<EndpointWithSecret> for WebhookEndpointJson {
    fn from(e: EndpointWithSecret) -> Self {
        Self {
            secret: Some(e.secret),
            ..e.endpoint.into()
        }
    }
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "WebhookEndpointPage")]
pub struct WebhookEndpointPageJson {
    pub items: Vec<WebhookEndpointJson>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "WebhookDelivery")]
pub struct WebhookDeliveryJson {
    pub id: Uuid,
    /// The event's `webhook-id`: the same on every attempt.
    pub event_id: String,
    pub event_type: String,
    pub attempts: u32,
    #[oai(nullable)]
    pub last_status_code: Option<u16>,
    #[oai(nullable)]
    pub last_error: Option<String>,
    /// `pending` (tried again at `next_attempt_at`), `succeeded` or `failed`.
    pub state: String,
    #[oai(nullable)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<WebhookDelivery> for WebhookDeliveryJson {
    fn from(d: WebhookDelivery) -> Self {
        Self {
            id: d.id.as_uuid(),
            event_id: d.event_id,
            event_type: d.event_type.as_str().to_string(),
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            state: d.state.as_str().to_string(),
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
        }
    }
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "WebhookDeliveryPage")]
pub struct WebhookDeliveryPageJson {
    pub items: Vec<WebhookDeliveryJson>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

/// A delivery on its way.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "QueuedDelivery")]
pub struct QueuedDeliveryJson {
    pub delivery_id: Uuid,
}

#[derive(ApiResponse)]
pub enum Queued {
    /// Accepted: the relay sends it shortly.
    #[oai(status = 202)]
    Queued(Reply<QueuedDeliveryJson>),
}

pub struct WebhooksApi {
    pub shop: Commerce,
}

#[OpenApi(tag = "AdminTags::Admin")]
impl WebhooksApi {
    /// Webhook endpoints, oldest first.
    #[oai(path = "/admin/webhooks", method = "get")]
    async fn endpoints(
        &self,
        auth: BearerAuth,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<WebhookEndpointPageJson>, ApiError> {
        let found = self
            .shop
            .webhooks()
            .endpoints(&auth.0, page(limit.0, cursor.0))
            .await?;
        Ok(Reply(WebhookEndpointPageJson {
            items: found.items.into_iter().map(Into::into).collect(),
            next_cursor: found.next_cursor,
        }))
    }

    /// A new endpoint. Its `secret` is shown in this answer only: keep it to verify deliveries.
    #[oai(path = "/admin/webhooks", method = "post")]
    async fn create_endpoint(
        &self,
        auth: BearerAuth,
        body: JsonBody<WebhookEndpointBody>,
    ) -> Result<Created<WebhookEndpointJson>, ApiError> {
        let created = self
            .shop
            .webhooks()
            .create_endpoint(&auth.0, body.0.draft())
            .await?;
        let location = format!("/api/admin/webhooks/{}", created.endpoint.id);
        Ok(Created::Created(Reply(created.into()), location))
    }

    #[oai(path = "/admin/webhooks/:id", method = "get")]
    async fn endpoint(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Reply<WebhookEndpointJson>, ApiError> {
        let id: WebhookEndpointId = id.0.parse("webhook endpoint")?;
        Ok(Reply(
            self.shop.webhooks().endpoint(&auth.0, id).await?.into(),
        ))
    }

    /// Replaces an endpoint's url, events and description; `active` is kept when absent.
    /// Turning it on again starts its failing streak afresh.
    #[oai(path = "/admin/webhooks/:id", method = "put")]
    async fn update_endpoint(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<WebhookEndpointBody>,
    ) -> Result<Reply<WebhookEndpointJson>, ApiError> {
        let id: WebhookEndpointId = id.0.parse("webhook endpoint")?;
        let endpoint = self
            .shop
            .webhooks()
            .update_endpoint(&auth.0, id, body.0.draft())
            .await?;
        Ok(Reply(endpoint.into()))
    }

    /// Deletes an endpoint and its deliveries.
    #[oai(path = "/admin/webhooks/:id", method = "delete")]
    async fn delete_endpoint(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Deleted, ApiError> {
        let id: WebhookEndpointId = id.0.parse("webhook endpoint")?;
        self.shop.webhooks().delete_endpoint(&auth.0, id).await?;
        Ok(Deleted::Deleted)
    }

    /// A new secret, shown in this answer only; for 24 hours deliveries are signed with both.
    #[oai(path = "/admin/webhooks/:id/rotate-secret", method = "post")]
    async fn rotate_secret(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Reply<WebhookEndpointJson>, ApiError> {
        let id: WebhookEndpointId = id.0.parse("webhook endpoint")?;
        let rotated = self.shop.webhooks().rotate_secret(&auth.0, id).await?;
        Ok(Reply(rotated.into()))
    }

    /// Sends a `webhook.test` event to this endpoint, whatever it listens to.
    #[oai(path = "/admin/webhooks/:id/test", method = "post")]
    async fn send_test(&self, auth: BearerAuth, id: Path<PathId>) -> Result<Queued, ApiError> {
        let id: WebhookEndpointId = id.0.parse("webhook endpoint")?;
        let delivery = self.shop.webhooks().send_test(&auth.0, id).await?;
        Ok(Queued::Queued(Reply(QueuedDeliveryJson {
            delivery_id: delivery.as_uuid(),
        })))
    }

    /// The endpoint's deliveries, newest first, with their attempts and outcome.
    #[oai(path = "/admin/webhooks/:id/deliveries", method = "get")]
    async fn deliveries(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<WebhookDeliveryPageJson>, ApiError> {
        let id: WebhookEndpointId = id.0.parse("webhook endpoint")?;
        let found = self
            .shop
            .webhooks()
            .deliveries(&auth.0, id, page(limit.0, cursor.0))
            .await?;
        Ok(Reply(WebhookDeliveryPageJson {
            items: found.items.into_iter().map(Into::into).collect(),
            next_cursor: found.next_cursor,
        }))
    }

    /// Sends a delivery again now, whatever became of it.
    #[oai(
        path = "/admin/webhooks/:id/deliveries/:delivery_id/retry",
        method = "post"
    )]
    async fn retry_delivery(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        delivery_id: Path<PathId>,
    ) -> Result<Queued, ApiError> {
        let id: WebhookEndpointId = id.0.parse("webhook endpoint")?;
        let delivery: WebhookDeliveryId = delivery_id.0.parse("webhook delivery")?;
        self.shop
            .webhooks()
            .retry_delivery(&auth.0, id, delivery)
            .await?;
        Ok(Queued::Queued(Reply(QueuedDeliveryJson {
            delivery_id: delivery.as_uuid(),
        })))
    }
}
