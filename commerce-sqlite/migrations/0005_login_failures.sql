-- 0005: failed sign-ins, per key (an email, a client address), so that the login throttle
-- counts every server process's failures, not only its own. Times are RFC 3339 text at
-- microseconds, so they compare as text.
CREATE TABLE login_failures (
    key  TEXT NOT NULL,
    at   TEXT NOT NULL
);
-- The throttle asks for one key's most recent failures; purging goes by age.
CREATE INDEX login_failures_key ON login_failures (key, at DESC);
CREATE INDEX login_failures_at ON login_failures (at);
