-- 0013 (manager_role): users may be managers. SQLite cannot change a CHECK in place, so the
-- table is made again as SQLite's documented procedure says (the runner turns foreign keys
-- off around migrations and checks them before each commit): a new table, the rows copied,
-- the old one dropped, the new one renamed, its indexes made again. Other tables keep
-- referring to `users` by name, which the new table takes.
CREATE TABLE users_new (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    full_name       TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('customer', 'vendor', 'manager', 'admin')),
    is_active       INTEGER NOT NULL,
    email_verified  INTEGER NOT NULL,
    password_hash   TEXT NOT NULL,
    token_version   INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
INSERT INTO users_new (id, email, full_name, role, is_active, email_verified, password_hash,
                       token_version, created_at, updated_at)
SELECT id, email, full_name, role, is_active, email_verified, password_hash, token_version,
       created_at, updated_at
FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_newest ON users(created_at DESC, id);
CREATE INDEX users_role ON users(role, created_at DESC, id);
