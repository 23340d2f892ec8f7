-- 0010 (social_sign_in): sign-ins under way with an OpenID Connect provider (by the hash of
-- their state; single use, ten minutes) and the provider accounts linked to users.
CREATE TABLE sign_in_flows (
    state_hash    text PRIMARY KEY,
    provider      text NOT NULL,
    nonce         text NOT NULL,
    pkce_verifier text NOT NULL,
    redirect_uri  text NOT NULL,
    user_id       uuid CONSTRAINT sign_in_flows_user_id_fkey REFERENCES users(id) ON DELETE CASCADE, -- who links a provider; NULL: a sign-in
    expires_at    timestamptz NOT NULL
);
CREATE INDEX sign_in_flows_expiry ON sign_in_flows(expires_at);

CREATE TABLE user_identities (
    issuer    text NOT NULL,
    subject   text NOT NULL,
    user_id   uuid NOT NULL CONSTRAINT user_identities_user_id_fkey REFERENCES users(id) ON DELETE CASCADE,
    email     text,
    linked_at timestamptz NOT NULL,
    seq       bigserial NOT NULL,
    CONSTRAINT user_identities_issuer_subject_key UNIQUE (issuer, subject)
);
CREATE INDEX user_identities_user ON user_identities(user_id, linked_at, seq);
