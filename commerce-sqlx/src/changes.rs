//! What other processes sharing the database changed, learnt through one `LISTEN`
//! connection per process.
//!
//! - **Catalog and settings generations.** Triggers `NOTIFY` on every committed change of
//!   products, variants, categories (`commerce_catalog`) and of the shop's settings, tax rates
//!   and shipping methods (`commerce_settings`). Each notification moves a counter, and so
//!   does every write of this process, at once. Whatever a process keeps under them (the HTTP
//!   layer's encoded catalog replies, the engine's settings) is dropped within a notification's
//!   latency of a change anywhere. While the listening connection is down the generations are
//!   unknown (`None`: keep nothing); when it is back they move, since notifications sent
//!   meanwhile are lost.
//!   Sales are the exception: the order placement's one call (migration 0017) keeps the
//!   trigger quiet, since a notifying transaction commits alone, and the placing process
//!   tells the others after its commit (`Changes::tell_others_of_sales`), with its events,
//!   many sales in one notification. Should the process die between a sale's commit and that
//!   notification (a few milliseconds), other processes show the stock from before the sale
//!   until the catalog's next change; the sale itself was taken under its guards.
//! - **Events** ([`PgEventBus`]): a domain event published here goes to this process's
//!   subscribers at once, and through `NOTIFY commerce_events` to every other process's.
//!   After the listening connection was lost and made again, subscribers get
//!   `DomainEvent::EventsMissed`, so they can re-read what they follow.
//! - **Replica freshness.** With a read replica, a catalog change sends public catalog reads
//!   to the primary until the replica has replayed the primary's WAL past it (its LSN is
//!   asked once per batch of changes), so that nothing stale is read right after a write or
//!   kept under a generation that is newer than it.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use commerce_core::events::DomainEvent;
use commerce_core::ports::EventBus;
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::{broadcast, mpsc, watch, Notify};

use crate::connections::BACK_TO_POOL_AFTER;

/// The NOTIFY channel of catalog changes (products, categories): other processes drop their
/// cached catalog reads.
pub const CATALOG_CHANNEL: &str = "commerce_catalog";
/// The NOTIFY channel of store settings changes: other processes read the settings again.
pub const SETTINGS_CHANNEL: &str = "commerce_settings";
/// The NOTIFY channel of domain events (order status changes and the like), for
/// [`PgEventBus`] subscribers in every process.
pub const EVENTS_CHANNEL: &str = "commerce_events";

/// Events a slow subscriber may fall behind by before it is told it lagged.
const EVENT_BUFFER: usize = 1024;

/// Events waiting to be sent to other processes at most: while the database is away they
/// cannot go, and past this they are dropped (with a warning) rather than held in memory.
const OUTBOX: usize = 10_000;

/// How long a replica's replay position, once read, answers for: reads in between go to the
/// primary while the replica is behind, rather than each asking the replica.
const REPLICA_CHECK_EVERY: Duration = Duration::from_millis(5);

pub(crate) struct Changes {
    catalog: AtomicU64,
    settings: AtomicU64,
    /// Whether the listening connection is up: only then do the generations tell anything.
    listening: AtomicBool,
    events: broadcast::Sender<DomainEvent>,
    /// Names this process in the events it sends, so that it does not deliver them twice.
    origin: uuid::Uuid,
    /// How this process's own events begin on the wire ([`own_events_begin`]).
    own_events: String,
    outbox: mpsc::Sender<String>,
    /// Sales committed here that other processes have not been told of yet.
    sales: Arc<SalesToTell>,
    stop: watch::Sender<bool>,
    replica: Option<ReplicaFreshness>,
}

/// Whether sales wait to be told to other processes, and the sender's wake-up. A flag, not a
/// queue entry: any number of sales is one notification, and none is ever dropped.
#[derive(Default)]
struct SalesToTell {
    waiting: AtomicBool,
    wake: Notify,
}

/// Catalog changes the replica may not have replayed yet.
struct ReplicaFreshness {
    /// Counts catalog changes seen (here or notified).
    changes: AtomicU64,
    /// The count of changes whose primary LSN is known (`wait_for` covers them).
    resolved: AtomicU64,
    /// The primary's WAL position the replica must have replayed to be current.
    wait_for: AtomicI64,
    /// The replica's replay position when last asked, and when that was.
    replayed: AtomicI64,
    asked_at: Mutex<Option<Instant>>,
    resolve: Notify,
}

/// What travels on `commerce_events`.
#[derive(Serialize, Deserialize)]
struct Envelope {
    origin: uuid::Uuid,
    event: DomainEvent,
}

/// An event as this process sends it: [`Envelope`]'s text, without copying the event.
#[derive(Serialize)]
struct OwnEnvelope<'a> {
    origin: uuid::Uuid,
    event: &'a DomainEvent,
}

/// The text every event sent by `origin` begins with. The process hears its own events back
/// (one per order placed); this tells them apart without reading them. A payload that does
/// not begin so is read, and its origin compared, as before.
fn own_events_begin(origin: uuid::Uuid) -> String {
    format!("{{\"origin\":\"{origin}\",")
}

impl Changes {
    /// Connects the listening connection (an error if the database cannot be reached) and
    /// starts the tasks that keep the generations, deliver events and track the replica.
    pub(crate) async fn start(
        pool: PgPool,
        origin: uuid::Uuid,
        replica: bool,
    ) -> Result<Arc<Changes>, sqlx::Error> {
        // Its own pool of one, so that listening never takes a connection from queries.
        let listen_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with((*pool.connect_options()).clone())
            .await?;
        let listener = listen(&listen_pool).await?;
        let (outbox, queue) = mpsc::channel(OUTBOX);
        let (stop, stopped) = watch::channel(false);
        let sales = Arc::new(SalesToTell::default());
        let changes = Arc::new(Changes {
            catalog: AtomicU64::new(1),
            settings: AtomicU64::new(1),
            listening: AtomicBool::new(true),
            events: broadcast::channel(EVENT_BUFFER).0,
            origin,
            own_events: own_events_begin(origin),
            outbox,
            sales: sales.clone(),
            stop,
            replica: replica.then(|| ReplicaFreshness {
                changes: AtomicU64::new(0),
                resolved: AtomicU64::new(0),
                wait_for: AtomicI64::new(0),
                replayed: AtomicI64::new(0),
                asked_at: Mutex::new(None),
                resolve: Notify::new(),
            }),
        });
        tokio::spawn(keep_listening(
            Arc::downgrade(&changes),
            listen_pool,
            listener,
            stopped.clone(),
        ));
        tokio::spawn(send_events(
            pool.clone(),
            queue,
            sales,
            origin,
            stopped.clone(),
        ));
        if replica {
            tokio::spawn(resolve_positions(Arc::downgrade(&changes), pool, stopped));
        }
        Ok(changes)
    }

    pub(crate) fn stop(&self) {
        let _ = self.stop.send(true);
    }

    pub(crate) fn catalog_generation(&self) -> Option<u64> {
        // Read the flag after the counter: a reconnect moves the counter before it sets it.
        let generation = self.catalog.load(Ordering::Acquire);
        self.listening.load(Ordering::Acquire).then_some(generation)
    }

    pub(crate) fn settings_generation(&self) -> Option<u64> {
        let generation = self.settings.load(Ordering::Acquire);
        self.listening.load(Ordering::Acquire).then_some(generation)
    }

    /// A catalog change, here or elsewhere. The replica stops being trusted before the
    /// generation moves: until the primary's position after the change is known and the
    /// replica has replayed it, catalog reads go to the primary, so nothing older than the
    /// new generation is read under it.
    fn catalog_changed(&self) {
        if let Some(replica) = &self.replica {
            replica.changes.fetch_add(1, Ordering::AcqRel);
            replica.resolve.notify_one();
        }
        self.catalog.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn catalog_changed_here(&self) {
        self.catalog_changed();
    }

    /// Sales committed here without the catalog trigger's notification (the placement's one
    /// call): other processes are told with the next events sent, within `GATHER_EVENTS`.
    /// This process's generation moves by [`catalog_changed_here`](Self::catalog_changed_here).
    pub(crate) fn tell_others_of_sales(&self) {
        if !self.sales.waiting.swap(true, Ordering::AcqRel) {
            self.sales.wake.notify_one();
        }
    }

    pub(crate) fn settings_changed_here(&self) {
        self.settings.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether a public catalog read may go to the replica now.
    pub(crate) async fn replica_is_current(&self, replica: &PgPool) -> bool {
        let Some(fresh) = &self.replica else {
            return true;
        };
        if fresh.resolved.load(Ordering::Acquire) < fresh.changes.load(Ordering::Acquire) {
            return false;
        }
        let wait_for = fresh.wait_for.load(Ordering::Acquire);
        if fresh.replayed.load(Ordering::Acquire) >= wait_for {
            return true;
        }
        {
            let Ok(mut asked) = fresh.asked_at.lock() else {
                return false;
            };
            if asked.is_some_and(|at| at.elapsed() < REPLICA_CHECK_EVERY) {
                return false;
            }
            *asked = Some(Instant::now());
        }
        // NULL when the server is not in recovery (not a replica at all): it is current.
        let replayed: Result<Option<i64>, _> =
            sqlx::query_scalar("SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint")
                .fetch_one(replica)
                .await;
        match replayed {
            Ok(position) => {
                let position = position.unwrap_or(i64::MAX);
                fresh.replayed.fetch_max(position, Ordering::AcqRel);
                position >= wait_for
            }
            Err(_) => false,
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.ignore_pool_close_event(true);
    // A lost connection is made again here, explicitly, so that its loss is always seen.
    listener.eager_reconnect(false);
    listener
        .listen_all([CATALOG_CHANNEL, SETTINGS_CHANNEL, EVENTS_CHANNEL])
        .await?;
    Ok(listener)
}

/// Receives notifications until stopped; a lost connection is made again with backoff, and
/// once it is back, everything kept is invalidated and subscribers are told they may have
/// missed events.
async fn keep_listening(
    changes: std::sync::Weak<Changes>,
    pool: PgPool,
    listener: PgListener,
    mut stopped: watch::Receiver<bool>,
) {
    let mut listener = Some(listener);
    let mut backoff = Duration::from_millis(50);
    loop {
        let Some(mut current) = listener.take() else {
            tokio::select! {
                _ = stopped.changed() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            match listen(&pool).await {
                Ok(l) => {
                    let Some(changes) = changes.upgrade() else {
                        return;
                    };
                    changes.catalog_changed();
                    changes.settings.fetch_add(1, Ordering::AcqRel);
                    changes.listening.store(true, Ordering::Release);
                    let _ = changes.events.send(DomainEvent::EventsMissed {
                        at: commerce_core::ports::SystemClock.now(),
                    });
                    tracing::info!("listening for other processes' changes again");
                    backoff = Duration::from_millis(50);
                    listener = Some(l);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other processes' changes yet");
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
            continue;
        };
        let received = tokio::select! {
            _ = stopped.changed() => return,
            r = current.try_recv() => r,
        };
        let Some(changes) = changes.upgrade() else {
            return;
        };
        match received {
            Ok(Some(notification)) => {
                changes.apply(notification.channel(), notification.payload());
                listener = Some(current);
            }
            Ok(None) | Err(_) => {
                // Lost: what is kept can no longer be trusted to be current.
                changes.listening.store(false, Ordering::Release);
                tracing::warn!("lost the connection that listens for other processes' changes");
            }
        }
    }
}

use commerce_core::ports::Clock;

impl Changes {
    /// Whether a catalog or settings notification comes from this process's own write,
    /// which moved the generation when it was made.
    fn is_own(&self, payload: &str) -> bool {
        uuid::Uuid::parse_str(payload).is_ok_and(|o| o == self.origin)
    }

    fn apply(&self, channel: &str, payload: &str) {
        match channel {
            CATALOG_CHANNEL if !self.is_own(payload) => self.catalog_changed(),
            SETTINGS_CHANNEL if !self.is_own(payload) => {
                self.settings.fetch_add(1, Ordering::AcqRel);
            }
            EVENTS_CHANNEL if payload.starts_with(&self.own_events) => {}
            EVENTS_CHANNEL => match serde_json::from_str::<Envelope>(payload) {
                Ok(envelope) if envelope.origin != self.origin => {
                    let _ = self.events.send(envelope.event);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "an event from another process could not be read")
                }
            },
            _ => {}
        }
    }
}

/// At most this many events go in one `pg_notify` statement.
const EVENTS_PER_STATEMENT: usize = 64;

/// How long the sender waits after an event for more to send with it. Each statement is a
/// transaction whose commit PostgreSQL flushes to disk (a notification takes a transaction
/// id) and wakes every listening process: under load one per order cost more than the order's
/// own statements. Other processes hear of an event this much later at most.
const GATHER_EVENTS: std::time::Duration = std::time::Duration::from_millis(5);

/// Sends published events to other processes in the order they were published: what queued
/// up while the last statement ran goes in the next one (one round trip for many events
/// under load; notifications of one statement arrive in its order). Sales waiting to be told
/// go first in the same statement, as one catalog notification.
async fn send_events(
    pool: PgPool,
    mut queue: mpsc::Receiver<String>,
    sales: Arc<SalesToTell>,
    origin: uuid::Uuid,
    mut stopped: watch::Receiver<bool>,
) {
    let origin = origin.to_string();
    let mut payloads = Vec::with_capacity(EVENTS_PER_STATEMENT);
    // While events keep coming, one connection sends them all: each one going back to the
    // pool would cost a ping (see `connections`). It goes back when the queue is empty, after
    // a failure, and at least every `BACK_TO_POOL_AFTER`.
    let mut held: Option<(sqlx::pool::PoolConnection<sqlx::Postgres>, Instant)> = None;
    let mut stopping = false;
    loop {
        // Stopping, sales still untold go in a last statement, so that other processes do not
        // keep showing the stock from before them.
        stopping |= *stopped.borrow();
        if stopping && !sales.waiting.load(Ordering::Acquire) {
            return;
        }
        payloads.clear();
        let received = if stopping || sales.waiting.load(Ordering::Acquire) {
            // Told below, with whatever events are queued by then.
            0
        } else {
            tokio::select! {
                _ = stopped.changed() => {
                    stopping = true;
                    0
                }
                _ = sales.wake.notified() => 0,
                // None at all: every sender is gone with the store, which is stopping.
                n = queue.recv_many(&mut payloads, EVENTS_PER_STATEMENT) => {
                    stopping |= n == 0;
                    n
                }
            }
        };
        if !stopping && received < EVENTS_PER_STATEMENT {
            tokio::select! {
                _ = stopped.changed() => stopping = true,
                _ = tokio::time::sleep(GATHER_EVENTS) => {}
            }
            while payloads.len() < EVENTS_PER_STATEMENT {
                match queue.try_recv() {
                    Ok(payload) => payloads.push(payload),
                    Err(_) => break,
                }
            }
        }
        let told_sales = sales.waiting.swap(false, Ordering::AcqRel);
        if payloads.is_empty() && !told_sales {
            continue;
        }
        let mut channels = Vec::with_capacity(payloads.len() + 1);
        if told_sales {
            channels.push(CATALOG_CHANNEL);
            payloads.insert(0, origin.clone());
        }
        channels.resize(payloads.len(), EVENTS_CHANNEL);
        let (mut conn, taken) = match held.take() {
            Some(held) => held,
            None => match pool.acquire().await {
                Ok(conn) => (conn, Instant::now()),
                Err(e) => {
                    not_sent(&sales, told_sales, payloads.len(), &e, &mut stopped).await;
                    continue;
                }
            },
        };
        let sent = sqlx::query(
            "SELECT pg_notify(p.channel, p.payload)
             FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS p(channel, payload, n)
             ORDER BY p.n",
        )
        .bind(&channels)
        .bind(&payloads)
        .execute(&mut *conn)
        .await;
        match sent {
            Ok(_)
                if (!queue.is_empty() || sales.waiting.load(Ordering::Acquire))
                    && taken.elapsed() < BACK_TO_POOL_AFTER =>
            {
                held = Some((conn, taken));
            }
            Ok(_) => {}
            Err(e) => not_sent(&sales, told_sales, payloads.len(), &e, &mut stopped).await,
        }
        if stopping {
            return;
        }
    }
}

/// A statement that did not go: its events are lost (logged); its sales are told with the
/// next statement, tried after a pause (the database may be away).
async fn not_sent(
    sales: &SalesToTell,
    told_sales: bool,
    notifications: usize,
    error: &sqlx::Error,
    stopped: &mut watch::Receiver<bool>,
) {
    tracing::warn!(%error, notifications, "events did not reach other processes");
    if told_sales {
        sales.waiting.store(true, Ordering::Release);
        tokio::select! {
            _ = stopped.changed() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// Learns the primary's WAL position after each batch of catalog changes.
async fn resolve_positions(
    changes: std::sync::Weak<Changes>,
    pool: PgPool,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let Some(strong) = changes.upgrade() else {
            return;
        };
        let Some(fresh) = &strong.replica else {
            return;
        };
        let seen = fresh.changes.load(Ordering::Acquire);
        if fresh.resolved.load(Ordering::Acquire) >= seen {
            // Holding `strong` while waiting is fine: the store's drop sends `stopped`.
            let wake = fresh.resolve.notified();
            tokio::select! {
                _ = stopped.changed() => return,
                _ = wake => {}
                // A missed wake-up costs at most this.
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
            continue;
        }
        // Asked after the changes counted in `seen` committed, so it is past all of them.
        let position: Result<i64, _> =
            sqlx::query_scalar("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")
                .fetch_one(&pool)
                .await;
        match position {
            Ok(position) => {
                fresh.wait_for.fetch_max(position, Ordering::AcqRel);
                fresh.resolved.fetch_max(seen, Ordering::AcqRel);
            }
            Err(e) => {
                tracing::warn!(error = %e, "the primary's WAL position could not be read");
                tokio::select! {
                    _ = stopped.changed() => return,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        }
    }
}

/// Domain events on `LISTEN/NOTIFY`: published here, delivered in every process on the
/// database. Subscribers of this process get its own events at once, without a round trip.
pub struct PgEventBus {
    changes: Arc<Changes>,
}

impl PgEventBus {
    pub(crate) fn new(changes: Arc<Changes>) -> Self {
        Self { changes }
    }
}

impl EventBus for PgEventBus {
    fn publish(&self, event: DomainEvent) {
        match serde_json::to_string(&OwnEnvelope {
            origin: self.changes.origin,
            event: &event,
        }) {
            Ok(payload) => {
                if self.changes.outbox.try_send(payload).is_err() {
                    tracing::warn!("an event was not sent to other processes: too many wait");
                }
            }
            Err(e) => tracing::warn!(error = %e, "an event could not be encoded"),
        }
        let _ = self.changes.events.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.changes.events.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_sent_here_begins_as_this_process_s_own_and_reads_back_whole() {
        let event: DomainEvent = serde_json::from_str(
            r#"{"type": "order_placed", "order_id": "5fb1d36e-41c0-4f8f-8164-56b859a866dc",
                "user_id": null, "at": "2026-12-07T20:23:13.013397Z"}"#,
        )
        .unwrap();
        let here = uuid::Uuid::new_v4();
        let sent = serde_json::to_string(&OwnEnvelope {
            origin: here,
            event: &event,
        })
        .unwrap();
        assert!(sent.starts_with(&own_events_begin(here)), "{sent}");
        assert!(!sent.starts_with(&own_events_begin(uuid::Uuid::new_v4())));
        // Another process reads it as it was sent.
        let read: Envelope = serde_json::from_str(&sent).unwrap();
        assert_eq!(read.origin, here);
        assert_eq!(
            serde_json::to_value(&read.event).unwrap(),
            serde_json::to_value(&event).unwrap()
        );
    }
}
