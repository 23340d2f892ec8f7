//! The outbox (filled inside the writes that carry a `ChangeRecord`), webhook endpoints and
//! their deliveries. Several processes share one database: one dispatcher at a time (a
//! transaction-scoped advisory lock) turns committed events into deliveries, and relays take
//! endpoints with `FOR UPDATE SKIP LOCKED` and a lease, so no two send to one endpoint at once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::ids::{ProductId, VariantId};
use commerce_core::ids::{WebhookDeliveryId, WebhookEndpointId};
use commerce_core::outbox::{
    webhook_id, ChangeRecord, OutboxEvent, StockChange, StockReading, StockUnit,
};
use commerce_core::ports::{Page, PageRequest, StorageError, WebhookStore};
use commerce_core::webhook::{
    DeliveryAttempts, DeliveryState, DueDelivery, EventFilter, EventType, LeasedEndpoint,
    SealedSecrets, WebhookDelivery, WebhookEndpoint,
};
use sqlx::postgres::PgRow;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::page::{parse_time, time_key};
use crate::{col, count, found, from_json, json, storage_error, PgStore};
use commerce_core::cursor;

/// The advisory lock the dispatch runs under ("outbox" in ASCII).
const DISPATCH_LOCK: i64 = 0x6f75_7462_6f78;

/// Writes a change's events to the outbox (in one statement) and its entries to the audit
/// log, inside the change's transaction.
pub(crate) async fn tell(
    conn: &mut PgConnection,
    record: &ChangeRecord,
) -> Result<(), StorageError> {
    crate::audit::append(&mut *conn, &record.audit).await?;
    if record.events.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(record.events.len());
    let mut types = Vec::with_capacity(record.events.len());
    let mut times = Vec::with_capacity(record.events.len());
    let mut data = Vec::with_capacity(record.events.len());
    for event in &record.events {
        ids.push(event.id.0);
        types.push(event.kind.as_str());
        times.push(event.at);
        data.push(sqlx::types::Json(&event.data));
    }
    sqlx::query(
        "INSERT INTO outbox_events (id, type, occurred_at, data)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::jsonb[])",
    )
    .bind(ids)
    .bind(types)
    .bind(times)
    .bind(data)
    .execute(conn)
    .await
    .map_err(storage_error)?;
    Ok(())
}

impl PgStore {
    /// Runs one write `statement` with `record` (events, audit entries): alone when the
    /// record is empty, else in a transaction that writes the record only if the statement
    /// touched a row (an update of nothing records nothing). How many rows it touched.
    pub(crate) async fn execute_recorded(
        &self,
        statement: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
        record: &ChangeRecord,
    ) -> Result<u64, StorageError> {
        if record.is_empty() {
            return Ok(statement
                .execute(self.pool())
                .await
                .map_err(storage_error)?
                .rows_affected());
        }
        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        let touched = statement
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?
            .rows_affected();
        if touched > 0 {
            tell(&mut tx, record).await?;
            tx.commit().await.map_err(storage_error)?;
        }
        Ok(touched)
    }
}

/// What is available of each unit now, with its product's threshold (`None` for a unit that
/// is gone): read before and after a write that watches stock and is not a sale.
pub(crate) async fn stock_now(
    conn: &mut PgConnection,
    units: &[StockUnit],
) -> Result<Vec<StockReading>, StorageError> {
    let mut levels = Vec::with_capacity(units.len());
    for (product, variant) in units {
        let row: Option<(i64, i64)> = match variant {
            None => sqlx::query_as(
                "SELECT inventory_count, low_stock_threshold FROM products WHERE id = $1",
            )
            .bind(product.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage_error)?,
            Some(v) => sqlx::query_as(
                "SELECT v.inventory_count, COALESCE(v.low_stock_threshold, p.low_stock_threshold)
                 FROM product_variants v JOIN products p ON p.id = v.product_id
                 WHERE v.id = $1 AND v.product_id = $2",
            )
            .bind(v.0)
            .bind(product.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage_error)?,
        };
        levels.push(match row {
            Some((available, threshold)) => Some((count(available)?, count(threshold)?)),
            None => None,
        });
    }
    Ok(levels)
}

/// Writes the inventory events of `changes` that cross a line, when `record` watches stock.
/// Names are read only for those, which few are.
pub(crate) async fn tell_stock(
    conn: &mut PgConnection,
    record: &ChangeRecord,
    changes: Vec<StockChange>,
) -> Result<(), StorageError> {
    let mut crossed = record.stock_crossings(changes);
    if crossed.is_empty() {
        return Ok(());
    }
    for change in &mut crossed {
        change.name = sqlx::query_scalar("SELECT name FROM products WHERE id = $1")
            .bind(change.product_id.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage_error)?
            .unwrap_or_default();
    }
    let events = record.stock_events(&crossed);
    tell(conn, &ChangeRecord::telling(events)).await
}

/// The units of a product as stored: itself, or each of its variants.
pub(crate) async fn units_of(
    conn: &mut PgConnection,
    product: ProductId,
) -> Result<Vec<StockUnit>, StorageError> {
    let variants: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM product_variants WHERE product_id = $1 ORDER BY id")
            .bind(product.0)
            .fetch_all(&mut *conn)
            .await
            .map_err(storage_error)?;
    Ok(if variants.is_empty() {
        vec![(product, None)]
    } else {
        variants
            .into_iter()
            .map(|v| (product, Some(VariantId::from(v))))
            .collect()
    })
}

/// The columns `endpoint_from_row` reads, for `concat!` (statements stay `&'static str`).
macro_rules! endpoint_columns {
    () => {
        "id, url, events, description, active, failing_since, created_at, updated_at"
    };
}

fn endpoint_from_row(row: &PgRow) -> Result<WebhookEndpoint, StorageError> {
    let names: Vec<String> = from_json(col(row, 2)?)?;
    let events = EventFilter::from_names(&names)
        .map_err(|why| StorageError::Corrupt(format!("an endpoint's events: {why}")))?;
    Ok(WebhookEndpoint {
        id: col::<Uuid>(row, 0)?.into(),
        url: col(row, 1)?,
        events,
        description: col(row, 3)?,
        active: col(row, 4)?,
        failing_since: col(row, 5)?,
        created_at: col(row, 6)?,
        updated_at: col(row, 7)?,
    })
}

fn event_type(name: &str) -> Result<EventType, StorageError> {
    EventType::parse(name).ok_or_else(|| StorageError::Corrupt(format!("no event type `{name}`")))
}

fn status_code(row: &PgRow, index: usize) -> Result<Option<u16>, StorageError> {
    col::<Option<i32>>(row, index)?
        .map(|c| u16::try_from(c).map_err(|_| StorageError::Corrupt(format!("status code {c}"))))
        .transpose()
}

async fn insert_delivery(
    conn: &mut PgConnection,
    endpoint: Uuid,
    event_seq: i64,
    now: DateTime<Utc>,
) -> Result<WebhookDeliveryId, StorageError> {
    // Time-ordered, so the id index grows at its end.
    let id = WebhookDeliveryId::from(Uuid::now_v7());
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_seq, state, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, 'pending', $4, $4, $4)",
    )
    .bind(id.0)
    .bind(endpoint)
    .bind(event_seq)
    .bind(now)
    .execute(conn)
    .await
    .map_err(storage_error)?;
    Ok(id)
}

#[async_trait]
impl WebhookStore for PgStore {
    async fn insert_webhook_endpoint(
        &self,
        e: &WebhookEndpoint,
        s: &SealedSecrets,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        self.execute_recorded(
            sqlx::query(
                "INSERT INTO webhook_endpoints (id, url, events, description, active, secret, previous_secret,
                     previous_secret_until, failing_since, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(e.id.0)
            .bind(&e.url)
            .bind(json(&e.events)?)
            .bind(&e.description)
            .bind(e.active)
            .bind(&s.current)
            .bind(s.previous.as_ref().map(|(p, _)| p.clone()))
            .bind(s.previous.as_ref().map(|(_, until)| *until))
            .bind(e.failing_since)
            .bind(e.created_at)
            .bind(e.updated_at),
            record,
        )
        .await?;
        Ok(())
    }

    async fn update_webhook_endpoint(
        &self,
        e: &WebhookEndpoint,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let touched = self
            .execute_recorded(
                sqlx::query(
                    "UPDATE webhook_endpoints SET url = $1, events = $2, description = $3, active = $4,
                         failing_since = $5, updated_at = $6
                     WHERE id = $7",
                )
                .bind(&e.url)
                .bind(json(&e.events)?)
                .bind(&e.description)
                .bind(e.active)
                .bind(e.failing_since)
                .bind(e.updated_at)
                .bind(e.id.0),
                record,
            )
            .await?;
        found(touched)
    }

    async fn rotate_webhook_secret(
        &self,
        id: WebhookEndpointId,
        sealed: &[u8],
        previous_until: DateTime<Utc>,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let touched = self
            .execute_recorded(
                sqlx::query(
                    "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = $1,
                         secret = $2
                     WHERE id = $3",
                )
                .bind(previous_until)
                .bind(sealed)
                .bind(id.0),
                record,
            )
            .await?;
        found(touched)
    }

    async fn delete_webhook_endpoint(
        &self,
        id: WebhookEndpointId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        // Deliveries go with it (ON DELETE CASCADE).
        found(
            self.execute_recorded(
                sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1").bind(id.0),
                record,
            )
            .await?,
        )
    }

    async fn webhook_endpoint(
        &self,
        id: WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>, StorageError> {
        sqlx::query(concat!(
            "SELECT ",
            endpoint_columns!(),
            " FROM webhook_endpoints WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(self.pool())
        .await
        .map_err(storage_error)?
        .as_ref()
        .map(endpoint_from_row)
        .transpose()
    }

    async fn webhook_endpoints(
        &self,
        page: &PageRequest,
    ) -> Result<Page<WebhookEndpoint>, StorageError> {
        let limit = page.effective_limit();
        let after: Option<(DateTime<Utc>, Uuid)> = match &page.cursor {
            Some(c) => Some(endpoint_cursor(c)?),
            None => None,
        };
        let rows = sqlx::query(concat!(
            "SELECT ",
            endpoint_columns!(),
            " FROM webhook_endpoints
             WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1, $2)
             ORDER BY created_at, id LIMIT $3"
        ))
        .bind(after.map(|(at, _)| at))
        .bind(after.map(|(_, id)| id))
        .bind((limit + 1) as i64)
        .fetch_all(self.pool())
        .await
        .map_err(storage_error)?;
        let mut items = rows
            .iter()
            .map(endpoint_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items
                .last()
                .map(|e| cursor::encode(ENDPOINTS, &[time_key(e.created_at), e.id.to_string()]))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn dispatch_events(&self, now: DateTime<Utc>, limit: u32) -> Result<u32, StorageError> {
        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        // Another process dispatching: its round covers these events.
        let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(DISPATCH_LOCK)
            .fetch_one(&mut *tx)
            .await
            .map_err(storage_error)?;
        if !ours {
            return Ok(0);
        }
        let events: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, type FROM outbox_events WHERE NOT dispatched ORDER BY seq LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(storage_error)?;
        if events.is_empty() {
            return Ok(0);
        }
        let endpoints: Vec<(Uuid, EventFilter)> = sqlx::query(
            "SELECT id, events FROM webhook_endpoints WHERE active ORDER BY created_at, id",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(storage_error)?
        .iter()
        .map(|row| {
            let names: Vec<String> = from_json(col(row, 1)?)?;
            let filter = EventFilter::from_names(&names)
                .map_err(|why| StorageError::Corrupt(format!("an endpoint's events: {why}")))?;
            Ok((col(row, 0)?, filter))
        })
        .collect::<Result<_, StorageError>>()?;
        // One statement for all: each (endpoint, event) pair, in event order.
        let (mut ids, mut endpoint_ids, mut event_seqs) = (Vec::new(), Vec::new(), Vec::new());
        for (seq, kind) in &events {
            let kind = event_type(kind)?;
            for (endpoint, filter) in &endpoints {
                if filter.hears(kind) {
                    // Time-ordered, so the id index grows at its end.
                    ids.push(Uuid::now_v7());
                    endpoint_ids.push(*endpoint);
                    event_seqs.push(*seq);
                }
            }
        }
        if !endpoint_ids.is_empty() {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, endpoint_id, event_seq, state, next_attempt_at, created_at, updated_at)
                 SELECT i, e, s, 'pending', $4, $4, $4
                 FROM unnest($1::uuid[], $2::uuid[], $3::bigint[]) WITH ORDINALITY AS t(i, e, s, n)
                 ORDER BY n",
            )
            .bind(ids)
            .bind(endpoint_ids)
            .bind(event_seqs)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
        }
        let seqs: Vec<i64> = events.iter().map(|(seq, _)| *seq).collect();
        sqlx::query("UPDATE outbox_events SET dispatched = true WHERE seq = ANY($1)")
            .bind(&seqs)
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
        tx.commit().await.map_err(storage_error)?;
        Ok(events.len() as u32)
    }

    async fn lease_webhook_endpoints(
        &self,
        relay: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        endpoints: u32,
        deliveries_each: u32,
    ) -> Result<Vec<LeasedEndpoint>, StorageError> {
        let rows = sqlx::query(concat!(
            "UPDATE webhook_endpoints SET leased_by = $1, leased_until = $2
             WHERE id IN (
                 SELECT e.id FROM webhook_endpoints e
                 WHERE e.active AND (e.leased_until IS NULL OR e.leased_until <= $3)
                   AND EXISTS (SELECT 1 FROM webhook_deliveries d
                               WHERE d.endpoint_id = e.id AND d.state = 'pending'
                                 AND d.next_attempt_at <= $3)
                 ORDER BY e.created_at, e.id LIMIT $4
                 FOR UPDATE SKIP LOCKED)
             RETURNING ",
            endpoint_columns!(),
            ", secret, previous_secret, previous_secret_until"
        ))
        .bind(relay)
        .bind(until)
        .bind(now)
        .bind(i64::from(endpoints))
        .fetch_all(self.pool())
        .await
        .map_err(storage_error)?;
        let mut leased = Vec::with_capacity(rows.len());
        for row in &rows {
            let endpoint = endpoint_from_row(row)?;
            let previous: Option<Vec<u8>> = col(row, 9)?;
            let previous_until: Option<DateTime<Utc>> = col(row, 10)?;
            let secrets = SealedSecrets {
                current: col(row, 8)?,
                previous: previous.zip(previous_until),
            };
            let deliveries = sqlx::query(
                "SELECT d.id, d.attempts, e.id, e.type, e.occurred_at, e.data
                 FROM webhook_deliveries d JOIN outbox_events e ON e.seq = d.event_seq
                 WHERE d.endpoint_id = $1 AND d.state = 'pending' AND d.next_attempt_at <= $2
                 ORDER BY d.seq LIMIT $3",
            )
            .bind(endpoint.id.0)
            .bind(now)
            .bind(i64::from(deliveries_each))
            .fetch_all(self.pool())
            .await
            .map_err(storage_error)?
            .iter()
            .map(|r| {
                let kind: String = col(r, 3)?;
                Ok(DueDelivery {
                    id: col::<Uuid>(r, 0)?.into(),
                    attempts: count(i64::from(col::<i32>(r, 1)?))?,
                    event: OutboxEvent::new(
                        col::<Uuid>(r, 2)?.into(),
                        event_type(&kind)?,
                        col(r, 4)?,
                        col(r, 5)?,
                    ),
                })
            })
            .collect::<Result<Vec<_>, StorageError>>()?;
            leased.push(LeasedEndpoint {
                endpoint,
                secrets,
                deliveries,
            });
        }
        // RETURNING gives rows in no set order.
        leased.sort_by_key(|l| (l.endpoint.created_at, l.endpoint.id.to_string()));
        Ok(leased)
    }

    async fn record_delivery_attempts(&self, r: &DeliveryAttempts) -> Result<(), StorageError> {
        let n = r.attempts.len();
        let (mut ids, mut codes, mut errors, mut states, mut nexts, mut times) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for a in &r.attempts {
            let (state, next) = a.next.stored();
            ids.push(a.delivery_id.0);
            codes.push(a.status_code.map(i32::from));
            errors.push(a.error.clone());
            states.push(state.as_str().to_string());
            nexts.push(next);
            times.push(a.at);
        }
        let last = r.attempts.last().map(|a| a.at);
        // The deliveries and the endpoint in one statement: one round trip, one transaction.
        sqlx::query(
            "WITH attempt AS (
                 SELECT * FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::text[],
                                      $5::timestamptz[], $6::timestamptz[])
                     AS a(id, code, error, state, next_at, at)),
             delivery AS (
                 UPDATE webhook_deliveries d SET attempts = d.attempts + 1,
                     last_status_code = a.code, last_error = a.error, state = a.state,
                     next_attempt_at = a.next_at, updated_at = a.at
                 FROM attempt a
                 WHERE d.id = a.id AND d.endpoint_id = $7
                 RETURNING 1)
             UPDATE webhook_endpoints SET
                 failing_since = $8,
                 active = CASE WHEN $9 THEN false ELSE active END,
                 updated_at = CASE WHEN $9 THEN COALESCE($10, updated_at) ELSE updated_at END,
                 leased_until = CASE WHEN leased_by = $11 THEN $12 ELSE leased_until END
             WHERE id = $7",
        )
        .bind(ids)
        .bind(codes)
        .bind(errors)
        .bind(states)
        .bind(nexts)
        .bind(times)
        .bind(r.endpoint_id.0)
        .bind(r.failing_since)
        .bind(r.disable_endpoint)
        .bind(last)
        .bind(r.relay)
        .bind(r.lease_until)
        .execute(self.pool())
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn release_webhook_endpoint(
        &self,
        id: WebhookEndpointId,
        relay: Uuid,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE webhook_endpoints SET leased_by = NULL, leased_until = NULL
             WHERE id = $1 AND leased_by = $2",
        )
        .bind(id.0)
        .bind(relay)
        .execute(self.pool())
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn webhook_deliveries(
        &self,
        endpoint: WebhookEndpointId,
        page: &PageRequest,
    ) -> Result<Page<WebhookDelivery>, StorageError> {
        let limit = page.effective_limit();
        let before = cursor::before_sequence(DELIVERIES, page.cursor.as_deref())?;
        let rows = sqlx::query(
            "SELECT d.id, d.endpoint_id, e.id, e.type, d.attempts, d.last_status_code, d.last_error,
                    d.state, d.next_attempt_at, d.created_at, d.updated_at, d.seq
             FROM webhook_deliveries d JOIN outbox_events e ON e.seq = d.event_seq
             WHERE d.endpoint_id = $1 AND d.seq < $2
             ORDER BY d.seq DESC LIMIT $3",
        )
        .bind(endpoint.0)
        .bind(before)
        .bind((limit + 1) as i64)
        .fetch_all(self.pool())
        .await
        .map_err(storage_error)?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let kind: String = col(row, 3)?;
            let state: String = col(row, 7)?;
            let delivery = WebhookDelivery {
                id: col::<Uuid>(row, 0)?.into(),
                endpoint_id: col::<Uuid>(row, 1)?.into(),
                event_id: webhook_id(col::<Uuid>(row, 2)?.into()),
                event_type: event_type(&kind)?,
                attempts: count(i64::from(col::<i32>(row, 4)?))?,
                last_status_code: status_code(row, 5)?,
                last_error: col(row, 6)?,
                state: DeliveryState::parse(&state)
                    .ok_or_else(|| StorageError::Corrupt(format!("no delivery state `{state}`")))?,
                next_attempt_at: col(row, 8)?,
                created_at: col(row, 9)?,
                updated_at: col(row, 10)?,
            };
            items.push((delivery, col::<i64>(row, 11)?));
        }
        Ok(cursor::page_by_sequence(DELIVERIES, items, limit))
    }

    async fn retry_webhook_delivery(
        &self,
        endpoint: WebhookEndpointId,
        delivery: WebhookDeliveryId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        found(
            sqlx::query(
                "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, updated_at = $1
                 WHERE id = $2 AND endpoint_id = $3",
            )
            .bind(now)
            .bind(delivery.0)
            .bind(endpoint.0)
            .execute(self.pool())
            .await
            .map_err(storage_error)?
            .rows_affected(),
        )
    }

    async fn purge_webhook_history(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StorageError> {
        let deliveries = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE seq IN (
                 SELECT seq FROM webhook_deliveries
                 WHERE state <> 'pending' AND updated_at < $1
                 ORDER BY updated_at LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(self.pool())
        .await
        .map_err(storage_error)?
        .rows_affected();
        let events = sqlx::query(
            "DELETE FROM outbox_events WHERE seq IN (
                 SELECT e.seq FROM outbox_events e
                 WHERE e.dispatched AND e.occurred_at < $1
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq)
                 ORDER BY e.occurred_at LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(self.pool())
        .await
        .map_err(storage_error)?
        .rows_affected();
        Ok(deliveries + events)
    }

    async fn queue_test_event(
        &self,
        endpoint: WebhookEndpointId,
        event: &OutboxEvent,
        now: DateTime<Utc>,
    ) -> Result<WebhookDeliveryId, StorageError> {
        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        // Locks the endpoint, so a delete cannot slip in before the delivery is written.
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM webhook_endpoints WHERE id = $1 FOR SHARE")
                .bind(endpoint.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(storage_error)?;
        if exists.is_none() {
            return Err(StorageError::NotFound);
        }
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO outbox_events (id, type, occurred_at, data, dispatched)
             VALUES ($1, $2, $3, $4, true) RETURNING seq",
        )
        .bind(event.id.0)
        .bind(event.kind.as_str())
        .bind(event.at)
        .bind(&event.data)
        .fetch_one(&mut *tx)
        .await
        .map_err(storage_error)?;
        let id = insert_delivery(&mut tx, endpoint.0, seq, now).await?;
        tx.commit().await.map_err(storage_error)?;
        Ok(id)
    }
}

/// The listings' kinds, which their cursors carry.
const ENDPOINTS: &str = "webhook_endpoints";
const DELIVERIES: &str = "webhook_deliveries";

/// A cursor of the endpoint listing: `created_at` and id of the last one shown.
fn endpoint_cursor(text: &str) -> Result<(DateTime<Utc>, Uuid), StorageError> {
    let parts = cursor::decode(ENDPOINTS, text, 2)?;
    let at = parse_time(&parts[0]).ok_or(StorageError::InvalidCursor)?;
    let id = Uuid::parse_str(&parts[1]).map_err(|_| StorageError::InvalidCursor)?;
    Ok((at, id))
}
