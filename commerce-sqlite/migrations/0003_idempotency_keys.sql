-- Idempotency keys of the HTTP layer: one row per (scope, key). `response` is NULL while
-- the first request runs; then it holds the status, headers and body replayed to retries.
-- Times are RFC 3339 text at microseconds, so they compare as text.
CREATE TABLE idempotency_keys (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    response    TEXT,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;

-- Purging by age.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
