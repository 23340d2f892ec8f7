//! Outbound webhooks: endpoints managed by admins, and the relay that delivers the outbox to
//! them.
//!
//! The relay: [`dispatch_events`](crate::ports::WebhookStore::dispatch_events) turns new
//! outbox events into deliveries, then endpoints with deliveries due are leased (no other
//! relay, in this process or another, sends to a leased endpoint), each one's deliveries sent
//! in commit order, one at a time, signed per Standard Webhooks, and every attempt recorded.
//! Deliveries are at least once: a relay that dies after sending and before recording sends
//! again when the lease runs out, with the same `webhook-id` for the receiver to skip it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use uuid::Uuid;

use super::sweeper::chrono_duration;
use super::{Caller, Commerce, CommerceError};
use crate::account::Role;
use crate::audit::{changes, AuditChanges, AuditTarget};
use crate::ids::{WebhookDeliveryId, WebhookEndpointId};
use crate::order::{Order, OrderStatus};
use crate::outbox::{ChangeRecord, OutboxEvent};
use crate::ports::{
    Mail, Page, PageRequest, StockMovement, UserFilter, WebhookAnswer, WebhookRequest,
    WebhookSender,
};
use crate::webhook::{
    names_private_target, AfterAttempt, DeliveryAttempt, DeliveryAttempts, LeasedEndpoint,
    SealedSecrets, WebhookDelivery, WebhookEndpoint, WebhookEndpointDraft, DISABLE_AFTER_FAILING,
    ROTATION_OVERLAP,
};
use crate::webhook_signing::{signature_header, SealingKey, WebhookSecret};

/// Outbox events turned into deliveries per storage call.
const DISPATCH_BATCH: u32 = 500;

/// How often a relay sending a long batch records what it did (at the end of each batch too).
const RECORD_EVERY: Duration = Duration::from_secs(1);

/// What a lease keeps beyond the longest send, so that the recording of an attempt falls
/// within it too.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// The longest a receiver's `Retry-After` postpones a delivery.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(24 * 3_600);

/// How the relay works; part of [`EngineConfig`](super::EngineConfig).
#[derive(Debug, Clone)]
pub struct WebhookRelayConfig {
    /// When failed deliveries are tried again (API.md's schedule by default).
    pub retries: crate::webhook::RetrySchedule,
    /// Endpoints one relay sends to at once (each one delivery at a time, in order).
    pub endpoints_at_once: u32,
    /// Deliveries taken with an endpoint's lease.
    pub deliveries_per_lease: u32,
    /// How long a lease keeps other relays off an endpoint: taken for this long, and renewed
    /// by each attempt recorded. A relay starts no send that could outlast it and gives it
    /// back when its round is done; one that died holding it keeps its endpoint waiting this
    /// long at most. At least the send timeout and 5 s (25 s by default).
    pub lease: Duration,
    /// The sender's timeout, for the lease's arithmetic (15 s by API.md).
    pub send_timeout: Duration,
    /// How often a relay looks for work when not woken by a write of this process.
    pub poll_every: Duration,
    /// How long a relay woken by a write waits for more before its round [20 ms]. Under load
    /// one round then dispatches the events of many orders, where a round per write cost the
    /// database a transaction of several statements per order; zero starts at once.
    pub gather: Duration,
    /// Endpoints may name private, loopback and link-local targets (the sender must be told
    /// too); off by default.
    pub allow_private_targets: bool,
    /// How long deliveries that are done (and events with none left) are kept before the
    /// sweeper forgets them [30 days]; `None` keeps them for good.
    pub keep_history: Option<Duration>,
}

impl Default for WebhookRelayConfig {
    fn default() -> Self {
        Self {
            retries: Default::default(),
            endpoints_at_once: 16,
            deliveries_per_lease: 500,
            lease: Duration::from_secs(25),
            send_timeout: Duration::from_secs(15),
            poll_every: Duration::from_secs(1),
            gather: Duration::from_millis(20),
            allow_private_targets: false,
            keep_history: Some(Duration::from_secs(30 * 24 * 3_600)),
        }
    }
}

/// What one round of the relay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relayed {
    /// Outbox events turned into deliveries.
    pub dispatched: u32,
    /// Deliveries sent (whatever came of it).
    pub attempted: u32,
    /// Of those, answered with a 2xx.
    pub delivered: u32,
}

/// A new endpoint, or one whose secret was rotated: the secret is shown this once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointWithSecret {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// `whsec_...`
    pub secret: String,
}

/// The admin's use cases of webhooks (role admin; not managers, as API.md says).
pub struct Webhooks<'a> {
    pub(super) shop: &'a Commerce,
}

impl Commerce {
    /// Outbound webhooks: endpoints, deliveries, the relay.
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { shop: self }
    }

    /// The outbox events of an order's move from `from` to its current status, and, when the
    /// move gives its units back, the inventory events of that (at `at`).
    pub(crate) fn order_moved(
        &self,
        order: &Order,
        from: OrderStatus,
        stock: StockMovement,
        at: DateTime<Utc>,
    ) -> ChangeRecord {
        let record = ChangeRecord::telling(OutboxEvent::order_moved(|| self.new_id(), order, from));
        match stock {
            StockMovement::Release => record.watching_stock(at),
            _ => record,
        }
    }

    /// Wakes this process's relay: a write just put events in the outbox.
    pub(crate) fn outbox_written(&self) {
        self.relay_wake.notify_one();
    }

    /// One round of the relay, now: dispatches the outbox and sends what is due. What
    /// [`spawn_webhook_relay`](Self::spawn_webhook_relay) runs, and what tests call.
    pub async fn relay_webhooks(&self, relay: Uuid) -> Result<Relayed, CommerceError> {
        let sender = self.ports.webhook_sender.clone().ok_or_else(|| {
            CommerceError::Conflict("no webhook sender is set up to deliver with".into())
        })?;
        let key = self.sealing_key()?;
        let config = &self.config.webhooks;
        let mut relayed = Relayed::default();
        loop {
            let taken = self
                .ports
                .webhooks
                .dispatch_events(self.now(), DISPATCH_BATCH)
                .await?;
            relayed.dispatched += taken;
            if taken < DISPATCH_BATCH {
                break;
            }
        }
        let now = self.now();
        let leased = self
            .ports
            .webhooks
            .lease_webhook_endpoints(
                relay,
                now,
                now + chrono_duration(config.lease),
                config.endpoints_at_once,
                config.deliveries_per_lease,
            )
            .await?;
        let mut sending = tokio::task::JoinSet::new();
        for endpoint in leased {
            let shop = self.clone();
            let sender = sender.clone();
            let key = key.clone();
            sending.spawn(async move {
                let id = endpoint.endpoint.id;
                let sent = shop.send_leased(relay, &*sender, &key, endpoint).await;
                // Given back even after a failure, so another round may take it at once.
                let released = shop
                    .ports
                    .webhooks
                    .release_webhook_endpoint(id, relay)
                    .await;
                let sent = sent?;
                released?;
                Ok::<_, CommerceError>(sent)
            });
        }
        let mut first_error = None;
        while let Some(done) = sending.join_next().await {
            match done {
                Ok(Ok((attempted, delivered))) => {
                    relayed.attempted += attempted;
                    relayed.delivered += delivered;
                }
                Ok(Err(e)) => first_error = first_error.or(Some(e)),
                Err(e) => {
                    first_error =
                        first_error.or(Some(CommerceError::Internal(format!("relay task: {e}"))))
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(relayed),
        }
    }

    /// Runs the relay until `stop` turns true: a round whenever a write of this process told
    /// the outbox something, and every `poll_every` for other processes' writes and retries
    /// coming due. A round that fails (storage away) is logged and tried again.
    pub fn spawn_webhook_relay(
        &self,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let shop = self.clone();
        let relay = Uuid::new_v4();
        tokio::spawn(async move {
            loop {
                match shop.relay_webhooks(relay).await {
                    Ok(round) if round.attempted > 0 || round.dispatched > 0 => {
                        tracing::debug!(
                            dispatched = round.dispatched,
                            attempted = round.attempted,
                            delivered = round.delivered,
                            "webhooks relayed"
                        );
                        // More may be waiting behind a full lease: go again at once.
                        if round.attempted > 0 {
                            if *stop.borrow() {
                                return;
                            }
                            continue;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "the webhook relay failed; trying again later")
                    }
                }
                let woken = tokio::select! {
                    _ = stop.wait_for(|stopping| *stopping) => return,
                    _ = shop.relay_wake.notified() => true,
                    _ = tokio::time::sleep(shop.config.webhooks.poll_every) => false,
                };
                // Writes come in bursts: the wakes of the ones written meanwhile are folded
                // into this one (`Notify` keeps one), so the round takes them all.
                let gather = shop.config.webhooks.gather;
                if woken && !gather.is_zero() {
                    tokio::select! {
                        _ = stop.wait_for(|stopping| *stopping) => return,
                        _ = tokio::time::sleep(gather) => {}
                    }
                }
            }
        })
    }

    fn sealing_key(&self) -> Result<SealingKey, CommerceError> {
        self.sealing_key.clone().ok_or_else(|| {
            CommerceError::Conflict(
                "webhooks need a key to seal their secrets with; the server sets none".into(),
            )
        })
    }

    /// Sends an endpoint's leased deliveries in order; returns (attempted, delivered).
    async fn send_leased(
        &self,
        relay: Uuid,
        sender: &dyn WebhookSender,
        key: &SealingKey,
        leased: LeasedEndpoint,
    ) -> Result<(u32, u32), CommerceError> {
        let config = &self.config.webhooks;
        // The lease runs from when it was taken, and again from each recording.
        let mut lease_from = std::time::Instant::now();
        let secrets = open_secrets(key, &leased.secrets, self.now())?;
        let endpoint = leased.endpoint;
        let (mut attempted, mut delivered) = (0, 0);
        let mut record = DeliveryAttempts {
            endpoint_id: endpoint.id,
            attempts: Vec::new(),
            failing_since: endpoint.failing_since,
            disable_endpoint: false,
            relay,
            lease_until: self.now(),
        };
        let mut gone = false;
        for due in leased.deliveries {
            // Start no send that could outlast the lease: another relay may take it then.
            if lease_from.elapsed() + config.send_timeout + LEASE_MARGIN > config.lease {
                break;
            }
            let now = self.now();
            let timestamp = now.timestamp();
            let body = due.event.body();
            let webhook_id = due.event.webhook_id();
            let signed: Vec<&WebhookSecret> = secrets.iter().collect();
            let request = WebhookRequest {
                url: endpoint.url.clone(),
                headers: vec![
                    ("webhook-id".into(), webhook_id.clone()),
                    ("webhook-timestamp".into(), timestamp.to_string()),
                    (
                        "webhook-signature".into(),
                        signature_header(&signed, &webhook_id, timestamp, &body),
                    ),
                ],
                body,
            };
            let answer = sender.send(request).await;
            let at = self.now();
            attempted += 1;
            let (status_code, error, retry_after) = match &answer {
                WebhookAnswer::Status { code, .. } if (200..300).contains(code) => {
                    (Some(*code), None, None)
                }
                WebhookAnswer::Status { code, retry_after } => {
                    (Some(*code), Some(format!("answered {code}")), *retry_after)
                }
                WebhookAnswer::NoAnswer(why) => (None, Some(why.clone()), None),
            };
            gone = status_code == Some(410);
            let next = if error.is_none() {
                AfterAttempt::Succeeded
            } else if gone {
                AfterAttempt::Failed
            } else {
                match config.retries.wait_after(due.attempts + 1) {
                    Some(wait) => {
                        let wait = retry_after
                            .map_or(wait, |asked| wait.max(asked.min(LONGEST_RETRY_AFTER)));
                        AfterAttempt::RetryAt(at + chrono_duration(wait))
                    }
                    None => AfterAttempt::Failed,
                }
            };
            if error.is_none() {
                delivered += 1;
                record.failing_since = None;
            } else {
                let failing_too_long = record
                    .failing_since
                    .is_some_and(|since| at - since >= chrono_duration(DISABLE_AFTER_FAILING));
                record.disable_endpoint = gone || failing_too_long;
                record.failing_since = record.failing_since.or(Some(at));
                tracing::info!(
                    target: "commerce::webhooks",
                    endpoint = %endpoint.id,
                    event = %webhook_id,
                    error = error.as_deref().unwrap_or(""),
                    "a webhook delivery failed"
                );
            }
            record.attempts.push(DeliveryAttempt {
                delivery_id: due.id,
                at,
                status_code,
                error,
                next,
            });
            if record.disable_endpoint {
                break;
            }
            // Recorded now and then rather than each: a write per delivery would queue behind
            // the shop's own writes under load.
            if lease_from.elapsed() >= RECORD_EVERY {
                self.record_attempts(&mut record).await?;
                lease_from = std::time::Instant::now();
            }
        }
        self.record_attempts(&mut record).await?;
        if record.disable_endpoint {
            self.endpoint_disabled(&endpoint, gone).await;
        }
        Ok((attempted, delivered))
    }

    /// Writes the attempts gathered (and renews the lease), and starts a new gathering.
    async fn record_attempts(&self, record: &mut DeliveryAttempts) -> Result<(), CommerceError> {
        if record.attempts.is_empty() {
            return Ok(());
        }
        record.lease_until = self.now() + chrono_duration(self.config.webhooks.lease);
        self.ports.webhooks.record_delivery_attempts(record).await?;
        record.attempts.clear();
        Ok(())
    }

    /// Tells the admins that an endpoint was turned off, and why.
    async fn endpoint_disabled(&self, endpoint: &WebhookEndpoint, gone: bool) {
        let why = if gone {
            "it answered 410 Gone".to_string()
        } else {
            format!(
                "every delivery to it has failed for {} days",
                DISABLE_AFTER_FAILING.as_secs() / 86_400
            )
        };
        tracing::warn!(endpoint = %endpoint.id, url = %endpoint.url, "webhook endpoint turned off: {why}");
        let filter = UserFilter {
            role: Some(Role::Admin),
            text: None,
            page: PageRequest::first(PageRequest::MAX_LIMIT),
        };
        let Ok(admins) = self.ports.users.list_users(&filter).await else {
            return;
        };
        for admin in admins.items.iter().filter(|u| u.is_active) {
            let mail = Mail {
                to: admin.email.clone(),
                subject: "A webhook endpoint was turned off".into(),
                text: format!(
                    "The webhook endpoint {} ({}) was turned off because {why}.\n\
                     Its deliveries are kept; fix the receiver, turn the endpoint on again \
                     (PUT /api/admin/webhooks/{} with \"active\": true) and retry them.",
                    endpoint.url, endpoint.id, endpoint.id
                ),
                html: None,
            };
            if let Err(e) = self.ports.mailer.send(&mail).await {
                tracing::warn!(error = %e, "could not mail an admin about a webhook endpoint");
            }
        }
    }
}

/// The secrets that sign now: the current one, and the one before while its overlap runs.
fn open_secrets(
    key: &SealingKey,
    sealed: &SealedSecrets,
    now: DateTime<Utc>,
) -> Result<Vec<WebhookSecret>, CommerceError> {
    let open = |bytes: &[u8]| {
        key.open(bytes)
            .map_err(|e| CommerceError::Internal(format!("a webhook secret: {e}")))
    };
    let mut secrets = vec![open(&sealed.current)?];
    if let Some((previous, until)) = &sealed.previous {
        if *until > now {
            secrets.push(open(previous)?);
        }
    }
    Ok(secrets)
}

impl Webhooks<'_> {
    /// The draft checked, and its target too unless the server allows private ones.
    fn checked(
        &self,
        draft: WebhookEndpointDraft,
        id: WebhookEndpointId,
    ) -> Result<WebhookEndpoint, CommerceError> {
        let endpoint = draft.validate(id, self.shop.now())?;
        if !self.shop.config.webhooks.allow_private_targets && names_private_target(&endpoint.url) {
            return Err(CommerceError::validation(
                "url",
                "names a private, loopback or link-local address, which this server does not deliver to",
            ));
        }
        Ok(endpoint)
    }

    fn new_secret(&self) -> Result<(WebhookSecret, Vec<u8>), CommerceError> {
        let key = self.shop.sealing_key()?;
        let secret =
            WebhookSecret::generate().map_err(|e| CommerceError::Internal(e.to_string()))?;
        let sealed = key
            .seal(&secret)
            .map_err(|e| CommerceError::Internal(e.to_string()))?;
        Ok((secret, sealed))
    }

    /// A new endpoint, with its secret shown this once.
    pub async fn create_endpoint(
        &self,
        caller: &Caller,
        draft: WebhookEndpointDraft,
    ) -> Result<EndpointWithSecret, CommerceError> {
        caller.require_admin()?;
        let endpoint = self.checked(draft, self.shop.new_id())?;
        let (secret, sealed) = self.new_secret()?;
        let secrets = SealedSecrets {
            current: sealed,
            previous: None,
        };
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "webhook.create",
            AuditTarget::new("webhook", endpoint.id),
            changes(None, Some(&endpoint), &["failing_since"]),
        ));
        self.shop
            .ports
            .webhooks
            .insert_webhook_endpoint(&endpoint, &secrets, &record)
            .await?;
        Ok(EndpointWithSecret {
            endpoint,
            secret: secret.expose(),
        })
    }

    /// The endpoints, oldest first (admins).
    pub async fn endpoints(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<Page<WebhookEndpoint>, CommerceError> {
        caller.require_admin()?;
        Ok(self.shop.ports.webhooks.webhook_endpoints(&page).await?)
    }

    /// One endpoint (admins).
    pub async fn endpoint(
        &self,
        caller: &Caller,
        id: WebhookEndpointId,
    ) -> Result<WebhookEndpoint, CommerceError> {
        caller.require_admin()?;
        self.shop
            .ports
            .webhooks
            .webhook_endpoint(id)
            .await?
            .ok_or(CommerceError::NotFound("webhook endpoint"))
    }

    /// Replaces an endpoint's url, events, description and `active` (kept when not sent).
    /// Turning it on again forgets how long it had been failing.
    pub async fn update_endpoint(
        &self,
        caller: &Caller,
        id: WebhookEndpointId,
        mut draft: WebhookEndpointDraft,
    ) -> Result<WebhookEndpoint, CommerceError> {
        let stored = self.endpoint(caller, id).await?;
        draft.active = draft.active.or(Some(stored.active));
        let mut endpoint = self.checked(draft, id)?;
        endpoint.created_at = stored.created_at;
        endpoint.failing_since = if endpoint.active && !stored.active {
            None
        } else {
            stored.failing_since
        };
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "webhook.update",
            AuditTarget::new("webhook", id),
            changes(Some(&stored), Some(&endpoint), &["failing_since"]),
        ));
        self.shop
            .ports
            .webhooks
            .update_webhook_endpoint(&endpoint, &record)
            .await
            .map_err(not_found)?;
        Ok(endpoint)
    }

    /// Deletes an endpoint and its deliveries, audited (admins).
    pub async fn delete_endpoint(
        &self,
        caller: &Caller,
        id: WebhookEndpointId,
    ) -> Result<(), CommerceError> {
        let stored = self.endpoint(caller, id).await?;
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "webhook.delete",
            AuditTarget::new("webhook", id),
            changes(Some(&stored), None, &["failing_since"]),
        ));
        self.shop
            .ports
            .webhooks
            .delete_webhook_endpoint(id, &record)
            .await
            .map_err(not_found)
    }

    /// A new secret; the old one keeps signing beside it for a day, so receivers can switch.
    pub async fn rotate_secret(
        &self,
        caller: &Caller,
        id: WebhookEndpointId,
    ) -> Result<EndpointWithSecret, CommerceError> {
        let endpoint = self.endpoint(caller, id).await?;
        let (secret, sealed) = self.new_secret()?;
        let overlap_until = self.shop.now() + chrono_duration(ROTATION_OVERLAP);
        // What changed is a secret: the entry says that it did, never what it is.
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "webhook.rotate_secret",
            AuditTarget::new("webhook", id),
            AuditChanges::new(),
        ));
        self.shop
            .ports
            .webhooks
            .rotate_webhook_secret(id, &sealed, overlap_until, &record)
            .await
            .map_err(not_found)?;
        Ok(EndpointWithSecret {
            endpoint,
            secret: secret.expose(),
        })
    }

    /// Sends a `webhook.test` event to this endpoint alone (whatever it listens to).
    pub async fn send_test(
        &self,
        caller: &Caller,
        id: WebhookEndpointId,
    ) -> Result<WebhookDeliveryId, CommerceError> {
        caller.require_admin()?;
        let now = self.shop.now();
        let event = OutboxEvent::test(self.shop.new_id(), now);
        let delivery = self
            .shop
            .ports
            .webhooks
            .queue_test_event(id, &event, now)
            .await
            .map_err(not_found)?;
        self.shop.outbox_written();
        Ok(delivery)
    }

    /// The endpoint's deliveries, newest first.
    pub async fn deliveries(
        &self,
        caller: &Caller,
        id: WebhookEndpointId,
        page: PageRequest,
    ) -> Result<Page<WebhookDelivery>, CommerceError> {
        self.endpoint(caller, id).await?;
        Ok(self
            .shop
            .ports
            .webhooks
            .webhook_deliveries(id, &page)
            .await?)
    }

    /// Sends a delivery again now, whatever became of it.
    pub async fn retry_delivery(
        &self,
        caller: &Caller,
        id: WebhookEndpointId,
        delivery: WebhookDeliveryId,
    ) -> Result<(), CommerceError> {
        caller.require_admin()?;
        self.shop
            .ports
            .webhooks
            .retry_webhook_delivery(id, delivery, self.shop.now())
            .await
            .map_err(|e| match e {
                crate::ports::StorageError::NotFound => CommerceError::NotFound("webhook delivery"),
                other => other.into(),
            })?;
        self.shop.outbox_written();
        Ok(())
    }
}

fn not_found(e: crate::ports::StorageError) -> CommerceError {
    match e {
        crate::ports::StorageError::NotFound => CommerceError::NotFound("webhook endpoint"),
        other => other.into(),
    }
}
