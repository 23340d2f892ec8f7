//! Webhook endpoints, deliveries and the outbox in memory.

use super::*;
use crate::outbox::{ChangeRecord, OutboxEvent, StockChange};
use crate::webhook::{
    DeliveryAttempts, DeliveryState, DueDelivery, LeasedEndpoint, SealedSecrets, WebhookDelivery,
    WebhookEndpoint,
};

/// An event in the outbox, in commit order (`seq` grows).
pub(super) struct OutboxEntry {
    seq: u64,
    event: OutboxEvent,
    dispatched: bool,
}

/// An endpoint as kept: its secrets and who holds it.
pub(super) struct KeptEndpoint {
    endpoint: WebhookEndpoint,
    secrets: SealedSecrets,
    lease: Option<(Uuid, DateTime<Utc>)>,
}

/// A delivery as kept, with the `seq` of its event.
pub(super) struct KeptDelivery {
    delivery: WebhookDelivery,
    event: u64,
}

/// Stock available before a write, of each product or variant it may move.
pub(super) type StockBefore = Vec<(ProductId, Option<VariantId>, u32)>;

impl State {
    /// Puts a change's events in the outbox (called under the lock, with the change).
    pub(super) fn tell(&mut self, record: &ChangeRecord) {
        for event in &record.events {
            self.push_event(event.clone(), false);
        }
        self.append_audit(&record.audit);
    }

    /// Appends an event to the outbox; its `seq`.
    fn push_event(&mut self, event: OutboxEvent, dispatched: bool) -> u64 {
        let seq = self.outbox.last().map_or(1, |e| e.seq + 1);
        self.outbox.push(OutboxEntry {
            seq,
            event,
            dispatched,
        });
        seq
    }

    /// What is available now of each of `units`, when `record` watches stock (before the
    /// write, for [`tell_with_stock`](Self::tell_with_stock)).
    pub(super) fn stock_before(
        &self,
        record: &ChangeRecord,
        units: impl IntoIterator<Item = (ProductId, Option<VariantId>)>,
    ) -> StockBefore {
        if record.stock_watched_at.is_none() {
            return Vec::new();
        }
        let mut before: StockBefore = Vec::new();
        for (product, variant) in units {
            if before
                .iter()
                .any(|(p, v, _)| *p == product && *v == variant)
            {
                continue;
            }
            if let Some(available) = self
                .products
                .get(&product)
                .and_then(|p| p.available(variant))
            {
                before.push((product, variant, available));
            }
        }
        before
    }

    /// [`tell`](Self::tell), with the inventory events of the stock moved since `before`.
    pub(super) fn tell_with_stock(&mut self, record: &ChangeRecord, before: StockBefore) {
        self.tell(record);
        let changes: Vec<StockChange> = before
            .into_iter()
            .filter_map(|(product_id, variant_id, before)| {
                let product = self.products.get(&product_id)?;
                Some(StockChange {
                    product_id,
                    variant_id,
                    name: product.name.clone(),
                    before,
                    after: product.available(variant_id)?,
                    threshold: product.threshold(variant_id),
                })
            })
            .collect();
        for event in record.stock_events(&changes) {
            self.push_event(event, false);
        }
    }
}

fn new_delivery(
    endpoint: WebhookEndpointId,
    event: &OutboxEvent,
    seq: u64,
    now: DateTime<Utc>,
) -> KeptDelivery {
    KeptDelivery {
        delivery: WebhookDelivery {
            id: WebhookDeliveryId::from(Uuid::now_v7()),
            endpoint_id: endpoint,
            event_id: event.webhook_id(),
            event_type: event.kind,
            attempts: 0,
            last_status_code: None,
            last_error: None,
            state: DeliveryState::Pending,
            next_attempt_at: Some(now),
            created_at: now,
            updated_at: now,
        },
        event: seq,
    }
}

fn is_due(d: &WebhookDelivery, now: DateTime<Utc>) -> bool {
    d.state == DeliveryState::Pending && d.next_attempt_at.is_some_and(|t| t <= now)
}

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn insert_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        secrets: &SealedSecrets,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if s.webhook_endpoints.contains_key(&endpoint.id) {
            return Err(StorageError::Duplicate(UniqueRule::RecordId));
        }
        s.webhook_endpoints.insert(
            endpoint.id,
            KeptEndpoint {
                endpoint: endpoint.clone(),
                secrets: secrets.clone(),
                lease: None,
            },
        );
        s.tell(record);
        Ok(())
    }

    async fn update_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        let kept = s
            .webhook_endpoints
            .get_mut(&endpoint.id)
            .ok_or(StorageError::NotFound)?;
        kept.endpoint = WebhookEndpoint {
            created_at: kept.endpoint.created_at,
            ..endpoint.clone()
        };
        s.tell(record);
        Ok(())
    }

    async fn rotate_webhook_secret(
        &self,
        id: WebhookEndpointId,
        sealed: &[u8],
        previous_until: DateTime<Utc>,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        let kept = s
            .webhook_endpoints
            .get_mut(&id)
            .ok_or(StorageError::NotFound)?;
        let current = std::mem::replace(&mut kept.secrets.current, sealed.to_vec());
        kept.secrets.previous = Some((current, previous_until));
        s.tell(record);
        Ok(())
    }

    async fn delete_webhook_endpoint(
        &self,
        id: WebhookEndpointId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        s.webhook_endpoints
            .remove(&id)
            .ok_or(StorageError::NotFound)?;
        s.webhook_deliveries
            .retain(|d| d.delivery.endpoint_id != id);
        s.tell(record);
        Ok(())
    }

    async fn webhook_endpoint(
        &self,
        id: WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>, StorageError> {
        Ok(self
            .lock()?
            .webhook_endpoints
            .get(&id)
            .map(|k| k.endpoint.clone()))
    }

    async fn webhook_endpoints(
        &self,
        page: &PageRequest,
    ) -> Result<Page<WebhookEndpoint>, StorageError> {
        let s = self.lock()?;
        let all: Vec<WebhookEndpoint> = s
            .webhook_endpoints
            .values()
            .map(|k| k.endpoint.clone())
            .collect();
        Ok(page_after(
            all,
            |e| (e.created_at, e.id.to_string()),
            |e| e.id.to_string(),
            page,
        ))
    }

    async fn dispatch_events(&self, now: DateTime<Utc>, limit: u32) -> Result<u32, StorageError> {
        let mut s = self.lock()?;
        let State {
            outbox,
            webhook_endpoints,
            webhook_deliveries,
            ..
        } = &mut *s;
        let mut endpoints: Vec<&KeptEndpoint> = webhook_endpoints
            .values()
            .filter(|k| k.endpoint.active)
            .collect();
        endpoints.sort_by_key(|k| (k.endpoint.created_at, k.endpoint.id.to_string()));
        let mut taken = 0;
        for entry in outbox.iter_mut() {
            if taken >= limit {
                break;
            }
            if entry.dispatched {
                continue;
            }
            entry.dispatched = true;
            taken += 1;
            for k in &endpoints {
                if k.endpoint.events.hears(entry.event.kind) {
                    webhook_deliveries.push(new_delivery(
                        k.endpoint.id,
                        &entry.event,
                        entry.seq,
                        now,
                    ));
                }
            }
        }
        Ok(taken)
    }

    async fn lease_webhook_endpoints(
        &self,
        relay: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        endpoints: u32,
        deliveries_each: u32,
    ) -> Result<Vec<LeasedEndpoint>, StorageError> {
        let mut s = self.lock()?;
        let State {
            outbox,
            webhook_endpoints,
            webhook_deliveries,
            ..
        } = &mut *s;
        let mut ready: Vec<&mut KeptEndpoint> = webhook_endpoints
            .values_mut()
            .filter(|k| k.endpoint.active && k.lease.is_none_or(|(_, end)| end <= now))
            .filter(|k| {
                webhook_deliveries
                    .iter()
                    .any(|d| d.delivery.endpoint_id == k.endpoint.id && is_due(&d.delivery, now))
            })
            .collect();
        ready.sort_by_key(|k| (k.endpoint.created_at, k.endpoint.id.to_string()));
        let mut leased = Vec::new();
        for kept in ready.into_iter().take(endpoints as usize) {
            kept.lease = Some((relay, until));
            let deliveries = webhook_deliveries
                .iter()
                .filter(|d| d.delivery.endpoint_id == kept.endpoint.id && is_due(&d.delivery, now))
                .take(deliveries_each as usize)
                .filter_map(|d| {
                    outbox
                        .binary_search_by_key(&d.event, |e| e.seq)
                        .ok()
                        .map(|i| &outbox[i])
                        .map(|entry| DueDelivery {
                            id: d.delivery.id,
                            event: entry.event.clone(),
                            attempts: d.delivery.attempts,
                        })
                })
                .collect();
            leased.push(LeasedEndpoint {
                endpoint: kept.endpoint.clone(),
                secrets: kept.secrets.clone(),
                deliveries,
            });
        }
        Ok(leased)
    }

    async fn record_delivery_attempts(
        &self,
        record: &DeliveryAttempts,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        for attempt in &record.attempts {
            let Some(kept) = s.webhook_deliveries.iter_mut().find(|d| {
                d.delivery.id == attempt.delivery_id && d.delivery.endpoint_id == record.endpoint_id
            }) else {
                continue;
            };
            let d = &mut kept.delivery;
            d.attempts += 1;
            d.last_status_code = attempt.status_code;
            d.last_error = attempt.error.clone();
            d.updated_at = attempt.at;
            (d.state, d.next_attempt_at) = attempt.next.stored();
        }
        if let Some(endpoint) = s.webhook_endpoints.get_mut(&record.endpoint_id) {
            let e = &mut endpoint.endpoint;
            e.failing_since = record.failing_since;
            if record.disable_endpoint {
                e.active = false;
                if let Some(last) = record.attempts.last() {
                    e.updated_at = last.at;
                }
            }
            if endpoint
                .lease
                .is_some_and(|(holder, _)| holder == record.relay)
            {
                endpoint.lease = Some((record.relay, record.lease_until));
            }
        }
        Ok(())
    }

    async fn release_webhook_endpoint(
        &self,
        id: WebhookEndpointId,
        relay: Uuid,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if let Some(kept) = s.webhook_endpoints.get_mut(&id) {
            if kept.lease.is_some_and(|(holder, _)| holder == relay) {
                kept.lease = None;
            }
        }
        Ok(())
    }

    async fn webhook_deliveries(
        &self,
        endpoint: WebhookEndpointId,
        page: &PageRequest,
    ) -> Result<Page<WebhookDelivery>, StorageError> {
        let s = self.lock()?;
        // Newest first: later in the list is newer.
        let items: Vec<(usize, WebhookDelivery)> = s
            .webhook_deliveries
            .iter()
            .enumerate()
            .filter(|(_, d)| d.delivery.endpoint_id == endpoint)
            .map(|(i, d)| (i, d.delivery.clone()))
            .collect();
        Ok(page_after(
            items,
            |(i, _)| std::cmp::Reverse(*i),
            |(_, d)| d.id.to_string(),
            page,
        )
        .map(|(_, d)| d))
    }

    async fn retry_webhook_delivery(
        &self,
        endpoint: WebhookEndpointId,
        delivery: WebhookDeliveryId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        let kept = s
            .webhook_deliveries
            .iter_mut()
            .find(|d| d.delivery.id == delivery && d.delivery.endpoint_id == endpoint)
            .ok_or(StorageError::NotFound)?;
        kept.delivery.state = DeliveryState::Pending;
        kept.delivery.next_attempt_at = Some(now);
        kept.delivery.updated_at = now;
        Ok(())
    }

    async fn purge_webhook_history(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StorageError> {
        let mut s = self.lock()?;
        let mut gone = 0u64;
        let limit = u64::from(limit);
        s.webhook_deliveries.retain(|d| {
            let old = d.delivery.state != DeliveryState::Pending && d.delivery.updated_at < before;
            if old && gone < limit {
                gone += 1;
                false
            } else {
                true
            }
        });
        let State {
            outbox,
            webhook_deliveries,
            ..
        } = &mut *s;
        let mut forgotten = 0u64;
        outbox.retain(|entry| {
            let old = entry.dispatched
                && entry.event.at < before
                && !webhook_deliveries.iter().any(|d| d.event == entry.seq);
            if old && forgotten < limit {
                forgotten += 1;
                false
            } else {
                true
            }
        });
        Ok(gone + forgotten)
    }

    async fn queue_test_event(
        &self,
        endpoint: WebhookEndpointId,
        event: &OutboxEvent,
        now: DateTime<Utc>,
    ) -> Result<WebhookDeliveryId, StorageError> {
        let mut s = self.lock()?;
        if !s.webhook_endpoints.contains_key(&endpoint) {
            return Err(StorageError::NotFound);
        }
        let seq = s.push_event(event.clone(), true);
        let kept = new_delivery(endpoint, event, seq, now);
        let id = kept.delivery.id;
        s.webhook_deliveries.push(kept);
        Ok(id)
    }
}
