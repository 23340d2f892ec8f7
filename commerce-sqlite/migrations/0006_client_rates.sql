-- 0006: request rates per client address, shared by every process on the file, so that the
-- per-address request limit holds across them. `tat` is the client's theoretical arrival
-- time (GCRA), RFC 3339 text at microseconds.
CREATE TABLE client_rates (
    client  TEXT PRIMARY KEY,
    tat     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX client_rates_tat ON client_rates (tat);
