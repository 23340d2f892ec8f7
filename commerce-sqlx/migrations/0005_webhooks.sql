-- 0005 (webhooks): the outbox, written in the same transaction as the change each event
-- reports, and the webhook endpoints and deliveries its relay works through.

-- `seq` is taken when the event is written, at the end of its transaction, after the row
-- locks of the change: of two changes to one order or product, the first to commit has the
-- lower seq. One dispatcher at a time (an advisory lock) turns committed events into
-- deliveries, so deliveries are made in the order their events became visible.
-- The id (a random UUID, what a receiver reads as `webhook-id`) has no index: nothing looks an
-- event up by it, and an index on random values costs every order a page written in it.
CREATE TABLE outbox_events (
    seq bigserial PRIMARY KEY,
    id uuid NOT NULL,
    type text NOT NULL,
    occurred_at timestamptz NOT NULL,
    data jsonb NOT NULL,
    dispatched boolean NOT NULL DEFAULT false
);
CREATE INDEX outbox_events_waiting ON outbox_events (seq) WHERE NOT dispatched;
-- What the sweeper forgets after a while (times only grow: the index grows at its end).
CREATE INDEX outbox_events_dispatched ON outbox_events (occurred_at) WHERE dispatched;

-- Secrets are sealed (AES-256-GCM) with a key the server holds, never the database.
-- `events` is the list of names, or ["*"].
CREATE TABLE webhook_endpoints (
    id uuid PRIMARY KEY,
    url text NOT NULL,
    events jsonb NOT NULL,
    description text,
    active boolean NOT NULL,
    secret bytea NOT NULL,
    previous_secret bytea,
    previous_secret_until timestamptz,
    failing_since timestamptz,
    leased_by uuid,
    leased_until timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_listing ON webhook_endpoints (created_at, id);

-- One event on its way to one endpoint; `seq` is the order the relay sends them in. Ids are
-- time-ordered UUIDs (v7), so their index grows at its end.
CREATE TABLE webhook_deliveries (
    seq bigserial PRIMARY KEY,
    id uuid NOT NULL,
    endpoint_id uuid NOT NULL,
    event_seq bigint NOT NULL,
    state text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_status_code integer,
    last_error text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT webhook_deliveries_id_key UNIQUE (id),
    CONSTRAINT webhook_deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id)
        REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    CONSTRAINT webhook_deliveries_event_seq_fkey FOREIGN KEY (event_seq)
        REFERENCES outbox_events (seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_at, seq)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_of_endpoint ON webhook_deliveries (endpoint_id, seq);
CREATE INDEX webhook_deliveries_of_event ON webhook_deliveries (event_seq);
CREATE INDEX webhook_deliveries_done ON webhook_deliveries (updated_at) WHERE state <> 'pending';

-- Back-in-stock alerts: a shopper waits for a product (or variant) to come back; one mail
-- each, then `sent_at` is set.
CREATE TABLE stock_alerts (
    id uuid PRIMARY KEY,
    product_id uuid NOT NULL,
    variant_id uuid,
    email text NOT NULL,
    created_at timestamptz NOT NULL,
    sent_at timestamptz,
    CONSTRAINT stock_alerts_product_id_fkey FOREIGN KEY (product_id)
        REFERENCES products (id) ON DELETE CASCADE
);
CREATE INDEX stock_alerts_waiting ON stock_alerts (product_id, email) WHERE sent_at IS NULL;
