-- 0001: the first schema.
--
-- Choices made here:
-- * Ids are UUID strings (TEXT), as the API shows them.
-- * Money is TEXT holding the exact decimal; never REAL. Where SQL must compare or sort prices,
--   a *_key INTEGER column holds the amount × 10^4 (exact for every currency scale up to 4).
-- * Times are RFC 3339 TEXT in UTC with a fixed width (microseconds, `Z`), so they sort as text.
-- * Aggregates whose inner parts are never queried (a cart's lines, an order's frozen lines and
--   explanation, a payment's refunds, a promotion's terms) are stored whole as JSON in `data`,
--   next to the columns queries and constraints need. Stock is never in JSON: it is decremented
--   in SQL with a guard, so it can never go below zero.

CREATE TABLE categories (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    parent_id   TEXT REFERENCES categories(id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX categories_parent ON categories(parent_id);

-- Implicit rowid kept: the full-text index points at it.
CREATE TABLE products (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    -- Lower-cased in Rust (SQLite's lower() only folds ASCII), for sorting by name.
    name_key             TEXT NOT NULL,
    slug                 TEXT NOT NULL UNIQUE,
    description          TEXT NOT NULL,
    price                TEXT NOT NULL,
    price_key            INTEGER NOT NULL,
    category_id          TEXT REFERENCES categories(id),
    -- No foreign key: embedders may own products for vendors that are not users here.
    vendor_id            TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('draft', 'pending_approval', 'active', 'archived')),
    -- Without variants: this product's own stock. With variants: the sums of theirs.
    inventory_count      INTEGER NOT NULL CHECK (inventory_count >= 0),
    reserved             INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    low_stock_threshold  INTEGER NOT NULL,
    has_variants         INTEGER NOT NULL DEFAULT 0,
    images               TEXT NOT NULL DEFAULT '[]',
    rating_average       TEXT NOT NULL DEFAULT '0',
    rating_key           INTEGER NOT NULL DEFAULT 0,
    rating_count         INTEGER NOT NULL DEFAULT 0,
    version              INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
-- One index per listing order the services ask for; status leads because the public listing
-- only shows active products, and the id closes each key for keyset pagination.
CREATE INDEX products_newest ON products(status, created_at DESC, id);
CREATE INDEX products_price ON products(status, price_key, id);
CREATE INDEX products_name ON products(status, name_key, id);
CREATE INDEX products_rating ON products(status, rating_key DESC, rating_count DESC, id);
CREATE INDEX products_category ON products(category_id, status, created_at DESC);
CREATE INDEX products_vendor ON products(vendor_id, status, created_at DESC);
CREATE INDEX products_low_stock ON products(status, inventory_count);

CREATE TABLE product_variants (
    id               TEXT PRIMARY KEY,
    product_id       TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    sku              TEXT NOT NULL COLLATE NOCASE,
    options          TEXT NOT NULL,
    price            TEXT,
    inventory_count  INTEGER NOT NULL CHECK (inventory_count >= 0),
    reserved         INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    UNIQUE (product_id, sku)
);
CREATE INDEX product_variants_product ON product_variants(product_id, position);

-- Full text over name and description, kept in step by triggers; ranked with bm25.
CREATE VIRTUAL TABLE products_fts USING fts5(
    name, description,
    content = 'products', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts(rowid, name, description) VALUES (new.rowid, new.name, new.description);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts(products_fts, rowid, name, description) VALUES ('delete', old.rowid, old.name, old.description);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF name, description ON products BEGIN
    INSERT INTO products_fts(products_fts, rowid, name, description) VALUES ('delete', old.rowid, old.name, old.description);
    INSERT INTO products_fts(rowid, name, description) VALUES (new.rowid, new.name, new.description);
END;

CREATE TABLE reviews (
    id          TEXT PRIMARY KEY,
    product_id  TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (product_id, user_id)
);
CREATE INDEX reviews_product ON reviews(product_id, status, created_at DESC, id);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    full_name       TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('customer', 'vendor', 'admin')),
    is_active       INTEGER NOT NULL,
    email_verified  INTEGER NOT NULL,
    password_hash   TEXT NOT NULL,
    token_version   INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX users_newest ON users(created_at DESC, id);
CREATE INDEX users_role ON users(role, created_at DESC, id);

CREATE TABLE addresses (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label       TEXT,
    address     TEXT NOT NULL,
    is_default  INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX addresses_user ON addresses(user_id, created_at, id);

CREATE TABLE one_time_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX one_time_tokens_user ON one_time_tokens(user_id);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    issued_at   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);

-- One cart per customer; guests find theirs by the hash of their token.
CREATE TABLE carts (
    id                TEXT PRIMARY KEY,
    customer_id       TEXT UNIQUE,
    guest_token_hash  TEXT UNIQUE,
    data              TEXT NOT NULL,
    version           INTEGER NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE TABLE orders (
    id          TEXT PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    user_id     TEXT,
    status      TEXT NOT NULL,
    total       TEXT NOT NULL,
    currency    TEXT NOT NULL,
    data        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX orders_user ON orders(user_id, created_at DESC, id DESC);
CREATE INDEX orders_status ON orders(status, created_at DESC, id DESC);
CREATE INDEX orders_newest ON orders(created_at DESC, id DESC);

-- The units of each order, for giving stock back and for "has this customer bought it".
CREATE TABLE order_lines (
    order_id    TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    product_id  TEXT NOT NULL,
    variant_id  TEXT,
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, position)
);
CREATE INDEX order_lines_product ON order_lines(product_id, order_id);

CREATE TABLE payments (
    id                  TEXT PRIMARY KEY,
    order_id            TEXT NOT NULL REFERENCES orders(id),
    provider            TEXT NOT NULL,
    provider_reference  TEXT,
    data                TEXT NOT NULL,
    created_at          TEXT NOT NULL
);
CREATE UNIQUE INDEX payments_reference ON payments(provider, provider_reference) WHERE provider_reference IS NOT NULL;
CREATE INDEX payments_order ON payments(order_id, created_at, id);

-- Provider event ids already applied: a replayed webhook is acknowledged, not applied twice.
CREATE TABLE provider_events (
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (provider, event_id)
);

-- used_count is a column, not in `data`: it is counted in SQL under its limit.
CREATE TABLE promotions (
    id                  TEXT PRIMARY KEY,
    code                TEXT UNIQUE,
    used_count          INTEGER NOT NULL DEFAULT 0,
    usage_limit         INTEGER,
    per_customer_limit  INTEGER,
    data                TEXT NOT NULL,
    created_at          TEXT NOT NULL
);
CREATE INDEX promotions_automatic ON promotions(code) WHERE code IS NULL;
CREATE INDEX promotions_newest ON promotions(created_at DESC, id);

CREATE TABLE promotion_uses (
    promotion_id  TEXT NOT NULL,
    customer_key  TEXT NOT NULL,
    uses          INTEGER NOT NULL,
    PRIMARY KEY (promotion_id, customer_key)
);

CREATE TABLE store_settings (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    data  TEXT NOT NULL
);

-- '' for "no region": NULLs would not collide in the UNIQUE constraint.
CREATE TABLE tax_rates (
    id          TEXT PRIMARY KEY,
    country     TEXT NOT NULL,
    region      TEXT NOT NULL DEFAULT '',
    rate        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (country, region)
);

CREATE TABLE shipping_methods (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    price       TEXT NOT NULL,
    price_key   INTEGER NOT NULL,
    free_above  TEXT,
    active      INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
