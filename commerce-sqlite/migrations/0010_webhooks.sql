-- 0010 (webhooks): the outbox, written in the same transaction as the change each event
-- reports, and the webhook endpoints and deliveries its relay works through.

-- Events in commit order: the writer commits one transaction at a time, so `seq` is commit
-- order. `dispatched` turns 1 once its deliveries are made. The id (a random UUID, what a
-- receiver reads as `webhook-id`) has no index: nothing looks an event up by it, and an index
-- on random values costs every order a page written somewhere in it.
CREATE TABLE outbox_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    data TEXT NOT NULL,
    dispatched INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_events_waiting ON outbox_events (seq) WHERE dispatched = 0;
-- What the sweeper forgets after a while (times only grow: the index grows at its end).
CREATE INDEX outbox_events_dispatched ON outbox_events (occurred_at) WHERE dispatched = 1;

-- Secrets are sealed (AES-256-GCM) with a key the server holds, never the database.
-- `events` is the JSON list of names, or ["*"].
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT,
    active INTEGER NOT NULL,
    secret BLOB NOT NULL,
    previous_secret BLOB,
    previous_secret_until TEXT,
    failing_since TEXT,
    leased_by TEXT,
    leased_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_listing ON webhook_endpoints (created_at, id);

-- One event on its way to one endpoint; `seq` is the order the relay sends them in. Ids are
-- time-ordered UUIDs (v7), so their index grows at its end.
CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_seq INTEGER NOT NULL REFERENCES outbox_events (seq),
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_at, seq)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_of_endpoint ON webhook_deliveries (endpoint_id, seq);
CREATE INDEX webhook_deliveries_of_event ON webhook_deliveries (event_seq);
CREATE INDEX webhook_deliveries_done ON webhook_deliveries (updated_at) WHERE state <> 'pending';

-- Back-in-stock alerts: a shopper waits for a product (or variant) to come back; one mail
-- each, then `sent_at` is set.
CREATE TABLE stock_alerts (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    variant_id TEXT,
    email TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX stock_alerts_waiting ON stock_alerts (product_id, email) WHERE sent_at IS NULL;
