//! The outbox (filled inside the writes that carry a `ChangeRecord`), webhook endpoints and
//! their deliveries. One writer commits one transaction at a time, so the outbox's sequence
//! is commit order and the dispatch needs no lock; leases keep a second process on the same
//! file (or a second relay) off an endpoint another is sending to.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::cursor;
use commerce_core::ids::{EventId, WebhookDeliveryId, WebhookEndpointId};
use commerce_core::ids::{ProductId, VariantId};
use commerce_core::outbox::{
    webhook_id, ChangeRecord, OutboxEvent, StockChange, StockReading, StockUnit,
};
use commerce_core::ports::{Page, PageRequest, StorageError, WebhookStore};
use commerce_core::webhook::{
    DeliveryAttempts, DeliveryState, DueDelivery, EventFilter, EventType, LeasedEndpoint,
    SealedSecrets, WebhookDelivery, WebhookEndpoint,
};
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use crate::audit::AuditRow;
use crate::codec::{json, time_text, RowExt};
use crate::{found, storage_error, writing, SqliteStore};

/// A change's events and audit entries ready to insert: their text is made before the write
/// goes to the writer's thread, which every write of the shop waits on.
pub(crate) struct Told {
    events: Vec<[String; 4]>,
    audit: Vec<AuditRow>,
}

impl Told {
    pub(crate) fn of(record: &ChangeRecord) -> Result<Told, StorageError> {
        let events = record
            .events
            .iter()
            .map(|event| {
                Ok([
                    event.id.to_string(),
                    event.kind.as_str().to_string(),
                    time_text(event.at),
                    json(&event.data)?,
                ])
            })
            .collect::<Result<_, StorageError>>()?;
        let audit = record
            .audit
            .iter()
            .map(AuditRow::of)
            .collect::<Result<_, StorageError>>()?;
        Ok(Told { events, audit })
    }
}

/// Writes a change's events to the outbox and its entries to the audit log, inside the
/// change's transaction.
pub(crate) fn tell(tx: &Connection, told: &Told) -> Result<(), StorageError> {
    crate::audit::append(tx, &told.audit)?;
    if told.events.is_empty() {
        return Ok(());
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO outbox_events (id, type, occurred_at, data) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(storage_error)?;
    for row in &told.events {
        insert
            .execute(rusqlite::params_from_iter(row.iter()))
            .map_err(writing("outbox_events"))?;
    }
    Ok(())
}

impl SqliteStore {
    /// [`write`](Self::write) of a change that leaves a record: `f`, then the record's
    /// events and audit entries, in one transaction.
    pub(crate) async fn write_told<T, F>(&self, told: Told, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
    {
        self.write(move |conn| {
            let done = f(conn)?;
            tell(conn, &told)?;
            Ok(done)
        })
        .await
    }
}

/// What is available of each unit now, with its product's threshold (`None` for a unit that
/// is gone): read before and after a write that watches stock and is not a sale (a sale's
/// `UPDATE ... RETURNING` already says what is left).
pub(crate) fn stock_now(
    tx: &Connection,
    units: &[StockUnit],
) -> Result<Vec<StockReading>, StorageError> {
    units
        .iter()
        .map(|(product, variant)| {
            let row = match variant {
                None => tx
                    .prepare_cached(
                        "SELECT inventory_count, low_stock_threshold FROM products WHERE id = ?1",
                    )
                    .map_err(storage_error)?
                    .query_row([product.to_string()], |r| Ok((r.count(0)?, r.count(1)?))),
                Some(v) => tx
                    .prepare_cached(
                        "SELECT v.inventory_count, COALESCE(v.low_stock_threshold, p.low_stock_threshold)
                         FROM product_variants v JOIN products p ON p.id = v.product_id
                         WHERE v.id = ?1 AND v.product_id = ?2",
                    )
                    .map_err(storage_error)?
                    .query_row([v.to_string(), product.to_string()], |r| {
                        Ok((r.count(0)?, r.count(1)?))
                    }),
            };
            row.optional().map_err(storage_error)
        })
        .collect()
}

/// Writes the inventory events of `changes` that cross a line, when `record` watches stock.
/// Names are read only for those, which few are.
pub(crate) fn tell_stock(
    tx: &Connection,
    record: &ChangeRecord,
    changes: Vec<StockChange>,
) -> Result<(), StorageError> {
    let mut crossed = record.stock_crossings(changes);
    if crossed.is_empty() {
        return Ok(());
    }
    for change in &mut crossed {
        change.name = tx
            .prepare_cached("SELECT name FROM products WHERE id = ?1")
            .map_err(storage_error)?
            .query_row([change.product_id.to_string()], |r| r.get(0))
            .optional()
            .map_err(storage_error)?
            .unwrap_or_default();
    }
    let events = record.stock_events(&crossed);
    tell(tx, &Told::of(&ChangeRecord::telling(events))?)
}

/// The units of a product as stored: itself, or each of its variants.
pub(crate) fn units_of(
    tx: &Connection,
    product: ProductId,
) -> Result<Vec<StockUnit>, StorageError> {
    let variants: Vec<VariantId> = tx
        .prepare_cached("SELECT id FROM product_variants WHERE product_id = ?1 ORDER BY id")
        .map_err(storage_error)?
        .query_map([product.to_string()], |r| r.id(0))
        .map_err(storage_error)?
        .collect::<Result<_, _>>()
        .map_err(storage_error)?;
    Ok(if variants.is_empty() {
        vec![(product, None)]
    } else {
        variants.into_iter().map(|v| (product, Some(v))).collect()
    })
}

const ENDPOINT_COLUMNS: &str =
    "id, url, events, description, active, failing_since, created_at, updated_at";

fn endpoint_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WebhookEndpoint> {
    let names: Vec<String> = r.json(2)?;
    let events = EventFilter::from_names(&names).map_err(|why| {
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, why.into())
    })?;
    Ok(WebhookEndpoint {
        id: r.id(0)?,
        url: r.get(1)?,
        events,
        description: r.get(3)?,
        active: r.get(4)?,
        failing_since: r.opt_time(5)?,
        created_at: r.time(6)?,
        updated_at: r.time(7)?,
    })
}

fn event_type(r: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<EventType> {
    let name: String = r.get(index)?;
    EventType::parse(&name).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("no event type `{name}`").into(),
        )
    })
}

const DELIVERY_COLUMNS: &str = "d.id, d.endpoint_id, e.id, e.type, d.attempts, d.last_status_code, d.last_error, d.state, d.next_attempt_at, d.created_at, d.updated_at, d.seq";

fn delivery_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(WebhookDelivery, i64)> {
    let event_id: EventId = r.id(2)?;
    let state: String = r.get(7)?;
    let state = DeliveryState::parse(&state).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            7,
            rusqlite::types::Type::Text,
            format!("no delivery state `{state}`").into(),
        )
    })?;
    let delivery = WebhookDelivery {
        id: r.id(0)?,
        endpoint_id: r.id(1)?,
        event_id: webhook_id(event_id),
        event_type: event_type(r, 3)?,
        attempts: r.count(4)?,
        last_status_code: r.get(5)?,
        last_error: r.get(6)?,
        state,
        next_attempt_at: r.opt_time(8)?,
        created_at: r.time(9)?,
        updated_at: r.time(10)?,
    };
    Ok((delivery, r.get(11)?))
}

fn insert_delivery(
    tx: &Connection,
    endpoint: &str,
    event_seq: i64,
    now: &str,
) -> Result<WebhookDeliveryId, StorageError> {
    // Time-ordered, so the id index grows at its end (no page rewritten here and there).
    let id = WebhookDeliveryId::from(Uuid::now_v7());
    tx.prepare_cached(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_seq, state, next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?4, ?4)",
    )
    .map_err(storage_error)?
    .execute(params![id.to_string(), endpoint, event_seq, now])
    .map_err(writing("webhook_deliveries"))?;
    Ok(id)
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn insert_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        secrets: &SealedSecrets,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        let e = endpoint.clone();
        let s = secrets.clone();
        self.write_told(told, move |conn| {
            conn.prepare_cached(
                "INSERT INTO webhook_endpoints (id, url, events, description, active, secret, previous_secret,
                     previous_secret_until, failing_since, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(storage_error)?
            .execute(params![
                e.id.to_string(),
                e.url,
                json(&e.events)?,
                e.description,
                e.active,
                s.current,
                s.previous.as_ref().map(|(p, _)| p.clone()),
                s.previous.as_ref().map(|(_, until)| time_text(*until)),
                e.failing_since.map(time_text),
                time_text(e.created_at),
                time_text(e.updated_at)
            ])
            .map_err(writing("webhook_endpoints"))?;
            Ok(())
        })
        .await
    }

    async fn update_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        let e = endpoint.clone();
        self.write_told(told, move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE webhook_endpoints SET url = ?1, events = ?2, description = ?3, active = ?4,
                         failing_since = ?5, updated_at = ?6
                     WHERE id = ?7",
                )
                .map_err(storage_error)?
                .execute(params![
                    e.url,
                    json(&e.events)?,
                    e.description,
                    e.active,
                    e.failing_since.map(time_text),
                    time_text(e.updated_at),
                    e.id.to_string()
                ])
                .map_err(storage_error)?;
            found(n)
        })
        .await
    }

    async fn rotate_webhook_secret(
        &self,
        id: WebhookEndpointId,
        sealed: &[u8],
        previous_until: DateTime<Utc>,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        let sealed = sealed.to_vec();
        self.write_told(told, move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = ?1,
                         secret = ?2
                     WHERE id = ?3",
                )
                .map_err(storage_error)?
                .execute(params![time_text(previous_until), sealed, id.to_string()])
                .map_err(storage_error)?;
            found(n)
        })
        .await
    }

    async fn delete_webhook_endpoint(
        &self,
        id: WebhookEndpointId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        self.write_told(told, move |conn| {
            // Deliveries go with it (ON DELETE CASCADE).
            let n = conn
                .execute(
                    "DELETE FROM webhook_endpoints WHERE id = ?1",
                    [id.to_string()],
                )
                .map_err(storage_error)?;
            found(n)
        })
        .await
    }

    async fn webhook_endpoint(
        &self,
        id: WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>, StorageError> {
        self.read_inline(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?1"
            ))
            .map_err(storage_error)?
            .query_row([id.to_string()], endpoint_from_row)
            .optional()
            .map_err(storage_error)
        })
        .await
    }

    async fn webhook_endpoints(
        &self,
        page: &PageRequest,
    ) -> Result<Page<WebhookEndpoint>, StorageError> {
        let limit = page.effective_limit();
        let after = match &page.cursor {
            Some(c) => Some(endpoint_cursor(c)?),
            None => None,
        };
        self.read(move |conn| {
            let (at, id) = after.unwrap_or_default();
            let mut items: Vec<WebhookEndpoint> = conn
                .prepare_cached(&format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
                     WHERE ?1 = '' OR (created_at, id) > (?1, ?2)
                     ORDER BY created_at, id LIMIT ?3"
                ))
                .map_err(storage_error)?
                .query_map(params![at, id, (limit + 1) as i64], endpoint_from_row)
                .map_err(storage_error)?
                .collect::<Result<_, _>>()
                .map_err(storage_error)?;
            let next_cursor = if items.len() > limit {
                items.truncate(limit);
                items.last().map(|e| {
                    cursor::encode(ENDPOINTS, &[time_text(e.created_at), e.id.to_string()])
                })
            } else {
                None
            };
            Ok(Page { items, next_cursor })
        })
        .await
    }

    async fn dispatch_events(&self, now: DateTime<Utc>, limit: u32) -> Result<u32, StorageError> {
        self.write(move |conn| {
            let tx = &*conn;
            let events: Vec<(i64, String)> = tx
                .prepare_cached(
                    "SELECT seq, type FROM outbox_events WHERE dispatched = 0 ORDER BY seq LIMIT ?1",
                )
                .map_err(storage_error)?
                .query_map([i64::from(limit)], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(storage_error)?
                .collect::<Result<_, _>>()
                .map_err(storage_error)?;
            let Some(&(last, _)) = events.last() else {
                return Ok(0);
            };
            let endpoints: Vec<(String, EventFilter)> = tx
                .prepare_cached(
                    "SELECT id, events FROM webhook_endpoints WHERE active = 1 ORDER BY created_at, id",
                )
                .map_err(storage_error)?
                .query_map([], |r| {
                    let names: Vec<String> = r.json(1)?;
                    Ok((r.get(0)?, names))
                })
                .map_err(storage_error)?
                .filter_map(|row| match row {
                    Ok((id, names)) => EventFilter::from_names(&names).ok().map(|f| Ok((id, f))),
                    Err(e) => Some(Err(e)),
                })
                .collect::<Result<_, _>>()
                .map_err(storage_error)?;
            let now = time_text(now);
            for (seq, kind) in &events {
                let Some(kind) = EventType::parse(kind) else {
                    return Err(StorageError::Corrupt(format!("no event type `{kind}`")));
                };
                for (endpoint, filter) in &endpoints {
                    if filter.hears(kind) {
                        insert_delivery(tx, endpoint, *seq, &now)?;
                    }
                }
            }
            tx.prepare_cached(
                "UPDATE outbox_events SET dispatched = 1 WHERE dispatched = 0 AND seq <= ?1",
            )
            .map_err(storage_error)?
            .execute([last])
            .map_err(storage_error)?;
            Ok(events.len() as u32)
        })
        .await
    }

    async fn lease_webhook_endpoints(
        &self,
        relay: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        endpoints: u32,
        deliveries_each: u32,
    ) -> Result<Vec<LeasedEndpoint>, StorageError> {
        self.write(move |conn| {
            let tx = &*conn;
            let now = time_text(now);
            let leased: Vec<(WebhookEndpoint, SealedSecrets)> = tx
                .prepare_cached(&format!(
                    "UPDATE webhook_endpoints SET leased_by = ?1, leased_until = ?2
                     WHERE id IN (
                         SELECT e.id FROM webhook_endpoints e
                         WHERE e.active = 1 AND (e.leased_until IS NULL OR e.leased_until <= ?3)
                           AND EXISTS (SELECT 1 FROM webhook_deliveries d
                                       WHERE d.endpoint_id = e.id AND d.state = 'pending'
                                         AND d.next_attempt_at <= ?3)
                         ORDER BY e.created_at, e.id LIMIT ?4)
                     RETURNING {ENDPOINT_COLUMNS}, secret, previous_secret, previous_secret_until"
                ))
                .map_err(storage_error)?
                .query_map(
                    params![relay.to_string(), time_text(until), now, i64::from(endpoints)],
                    |r| {
                        let endpoint = endpoint_from_row(r)?;
                        let previous: Option<Vec<u8>> = r.get(9)?;
                        let until = r.opt_time(10)?;
                        Ok((
                            endpoint,
                            SealedSecrets {
                                current: r.get(8)?,
                                previous: previous.zip(until),
                            },
                        ))
                    },
                )
                .map_err(storage_error)?
                .collect::<Result<_, _>>()
                .map_err(storage_error)?;
            let mut out = Vec::with_capacity(leased.len());
            for (endpoint, secrets) in leased {
                let deliveries = tx
                    .prepare_cached(
                        "SELECT d.id, d.attempts, e.id, e.type, e.occurred_at, e.data
                         FROM webhook_deliveries d JOIN outbox_events e ON e.seq = d.event_seq
                         WHERE d.endpoint_id = ?1 AND d.state = 'pending' AND d.next_attempt_at <= ?2
                         ORDER BY d.seq LIMIT ?3",
                    )
                    .map_err(storage_error)?
                    .query_map(
                        params![endpoint.id.to_string(), now, i64::from(deliveries_each)],
                        |r| {
                            Ok(DueDelivery {
                                id: r.id(0)?,
                                attempts: r.count(1)?,
                                event: OutboxEvent::new(r.id(2)?, event_type(r, 3)?, r.time(4)?, r.json(5)?),
                            })
                        },
                    )
                    .map_err(storage_error)?
                    .collect::<Result<_, _>>()
                    .map_err(storage_error)?;
                out.push(LeasedEndpoint {
                    endpoint,
                    secrets,
                    deliveries,
                });
            }
            // RETURNING gives rows in no set order.
            out.sort_by_key(|l| (l.endpoint.created_at, l.endpoint.id.to_string()));
            Ok(out)
        })
        .await
    }

    async fn record_delivery_attempts(
        &self,
        record: &DeliveryAttempts,
    ) -> Result<(), StorageError> {
        let r = record.clone();
        self.write(move |conn| {
            let tx = &*conn;
            let endpoint = r.endpoint_id.to_string();
            let mut update = tx
                .prepare_cached(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = ?1,
                         last_error = ?2, state = ?3, next_attempt_at = ?4, updated_at = ?5
                     WHERE id = ?6 AND endpoint_id = ?7",
                )
                .map_err(storage_error)?;
            for a in &r.attempts {
                let (state, next) = a.next.stored();
                let next = next.map(time_text);
                update
                    .execute(params![
                        a.status_code,
                        a.error,
                        state.as_str(),
                        next,
                        time_text(a.at),
                        a.delivery_id.to_string(),
                        endpoint
                    ])
                    .map_err(storage_error)?;
            }
            let last = r.attempts.last().map(|a| time_text(a.at));
            tx.prepare_cached(
                "UPDATE webhook_endpoints SET
                     failing_since = ?1,
                     active = CASE WHEN ?2 THEN 0 ELSE active END,
                     updated_at = CASE WHEN ?2 THEN COALESCE(?3, updated_at) ELSE updated_at END,
                     leased_until = CASE WHEN leased_by = ?4 THEN ?5 ELSE leased_until END
                 WHERE id = ?6",
            )
            .map_err(storage_error)?
            .execute(params![
                r.failing_since.map(time_text),
                r.disable_endpoint,
                last,
                r.relay.to_string(),
                time_text(r.lease_until),
                endpoint
            ])
            .map_err(storage_error)?;
            Ok(())
        })
        .await
    }

    async fn release_webhook_endpoint(
        &self,
        id: WebhookEndpointId,
        relay: Uuid,
    ) -> Result<(), StorageError> {
        self.write_one_statement(move |conn| {
            conn.prepare_cached(
                "UPDATE webhook_endpoints SET leased_by = NULL, leased_until = NULL
                 WHERE id = ?1 AND leased_by = ?2",
            )
            .map_err(storage_error)?
            .execute(params![id.to_string(), relay.to_string()])
            .map_err(storage_error)?;
            Ok(())
        })
        .await
    }

    async fn webhook_deliveries(
        &self,
        endpoint: WebhookEndpointId,
        page: &PageRequest,
    ) -> Result<Page<WebhookDelivery>, StorageError> {
        let limit = page.effective_limit();
        let before = cursor::before_sequence(DELIVERIES, page.cursor.as_deref())?;
        self.read(move |conn| {
            let rows: Vec<(WebhookDelivery, i64)> = conn
                .prepare_cached(&format!(
                    "SELECT {DELIVERY_COLUMNS}
                     FROM webhook_deliveries d JOIN outbox_events e ON e.seq = d.event_seq
                     WHERE d.endpoint_id = ?1 AND d.seq < ?2
                     ORDER BY d.seq DESC LIMIT ?3"
                ))
                .map_err(storage_error)?
                .query_map(
                    params![endpoint.to_string(), before, (limit + 1) as i64],
                    delivery_from_row,
                )
                .map_err(storage_error)?
                .collect::<Result<_, _>>()
                .map_err(storage_error)?;
            Ok(cursor::page_by_sequence(DELIVERIES, rows, limit))
        })
        .await
    }

    async fn retry_webhook_delivery(
        &self,
        endpoint: WebhookEndpointId,
        delivery: WebhookDeliveryId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.write_one_statement(move |conn| {
            let now = time_text(now);
            let n = conn
                .prepare_cached(
                    "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ?1, updated_at = ?1
                     WHERE id = ?2 AND endpoint_id = ?3",
                )
                .map_err(storage_error)?
                .execute(params![now, delivery.to_string(), endpoint.to_string()])
                .map_err(storage_error)?;
            found(n)
        })
        .await
    }

    async fn purge_webhook_history(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StorageError> {
        self.write(move |conn| {
            let before = time_text(before);
            let deliveries = conn
                .prepare_cached(
                    "DELETE FROM webhook_deliveries WHERE seq IN (
                         SELECT seq FROM webhook_deliveries
                         WHERE state <> 'pending' AND updated_at < ?1
                         ORDER BY updated_at LIMIT ?2)",
                )
                .map_err(storage_error)?
                .execute(params![before, i64::from(limit)])
                .map_err(storage_error)?;
            let events = conn
                .prepare_cached(
                    "DELETE FROM outbox_events WHERE seq IN (
                         SELECT e.seq FROM outbox_events e
                         WHERE e.dispatched = 1 AND e.occurred_at < ?1
                           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq)
                         ORDER BY e.occurred_at LIMIT ?2)",
                )
                .map_err(storage_error)?
                .execute(params![before, i64::from(limit)])
                .map_err(storage_error)?;
            Ok((deliveries + events) as u64)
        })
        .await
    }

    async fn queue_test_event(
        &self,
        endpoint: WebhookEndpointId,
        event: &OutboxEvent,
        now: DateTime<Utc>,
    ) -> Result<WebhookDeliveryId, StorageError> {
        let event = event.clone();
        self.write(move |conn| {
            let tx = &*conn;
            let exists = tx
                .query_row(
                    "SELECT 1 FROM webhook_endpoints WHERE id = ?1",
                    [endpoint.to_string()],
                    |_| Ok(()),
                )
                .optional()
                .map_err(storage_error)?;
            if exists.is_none() {
                return Err(StorageError::NotFound);
            }
            let seq: i64 = tx
                .prepare_cached(
                    "INSERT INTO outbox_events (id, type, occurred_at, data, dispatched)
                     VALUES (?1, ?2, ?3, ?4, 1) RETURNING seq",
                )
                .map_err(storage_error)?
                .query_row(
                    params![
                        event.id.to_string(),
                        event.kind.as_str(),
                        time_text(event.at),
                        json(&event.data)?
                    ],
                    |r| r.get(0),
                )
                .map_err(writing("outbox_events"))?;
            insert_delivery(tx, &endpoint.to_string(), seq, &time_text(now))
        })
        .await
    }
}

/// The listings' kinds, which their cursors carry.
const ENDPOINTS: &str = "webhook_endpoints";
const DELIVERIES: &str = "webhook_deliveries";

/// A cursor of the endpoint listing: `created_at` (as stored) and id of the last one shown.
fn endpoint_cursor(text: &str) -> Result<(String, String), StorageError> {
    let parts = cursor::decode(ENDPOINTS, text, 2)?;
    let at = DateTime::parse_from_rfc3339(&parts[0]).map_err(|_| StorageError::InvalidCursor)?;
    let id = Uuid::parse_str(&parts[1]).map_err(|_| StorageError::InvalidCursor)?;
    Ok((time_text(at.with_timezone(&Utc)), id.to_string()))
}
