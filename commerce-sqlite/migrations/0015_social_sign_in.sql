-- 0015 (social_sign_in): sign-ins under way with an OpenID Connect provider (by the hash of
-- their state; single use, ten minutes) and the provider accounts linked to users.
CREATE TABLE sign_in_flows (
    state_hash    TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    redirect_uri  TEXT NOT NULL,
    user_id       TEXT REFERENCES users(id) ON DELETE CASCADE, -- who links a provider; NULL: a sign-in
    expires_at    TEXT NOT NULL
);
CREATE INDEX sign_in_flows_expiry ON sign_in_flows(expires_at);

CREATE TABLE user_identities (
    issuer    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email     TEXT,
    linked_at TEXT NOT NULL,
    -- Unique rather than the primary key: SQLite reports a broken primary key of a rowid
    -- table as one, and this is a rule of the shop's (one account per provider account).
    UNIQUE (issuer, subject)
);
CREATE INDEX user_identities_user ON user_identities(user_id, linked_at);
