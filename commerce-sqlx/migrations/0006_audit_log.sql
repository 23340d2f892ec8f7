-- 0006 (audit_log): who changed what, written in the same transaction as the change.
-- Append-only: a trigger refuses any UPDATE or DELETE of an entry, whoever asks.

-- `seq` orders the listing and is its cursor. The actor's email is copied in at the write,
-- so an entry keeps who it was even after the user changes their email or is gone; no
-- foreign key, for the same reason.
CREATE TABLE audit_log (
    seq bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    at timestamptz NOT NULL,
    actor_id uuid,
    actor_email text,
    actor_role text,
    action text NOT NULL,
    target_type text NOT NULL,
    target_id text,
    changes jsonb NOT NULL,
    ip text,
    user_agent text,
    request_id text,
    outcome text NOT NULL
);
-- One index per filter, each ending in `seq` so a filtered page reads in order and stops.
CREATE INDEX audit_log_at ON audit_log (at, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, seq);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
