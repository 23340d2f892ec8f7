-- 0001: the whole schema on PostgreSQL, equal in meaning to the SQLite adapter's.
--
-- Choices made here:
-- * Ids are uuid; money is numeric (exact, never a float); times are timestamptz, which keeps
--   microseconds, as the core's clock does.
-- * Aggregates whose inner parts are never queried (a cart's lines, an order's frozen lines
--   and explanation, a payment's refunds, a promotion's terms, the shop's settings) are
--   stored whole as jsonb in `data`, beside the columns that queries and constraints need.
--   Stock is never in JSON: it is taken in SQL with a guard, so it can never go below zero.
-- * Every constraint is named: the adapter maps a violation to the field it is about by the
--   constraint's name, never by parsing the message.
-- * Counts are bigint: a u32 does not fit in integer.

CREATE TABLE categories (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    slug        text NOT NULL CONSTRAINT categories_slug_key UNIQUE,
    parent_id   uuid CONSTRAINT categories_parent_id_fkey REFERENCES categories(id),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX categories_parent ON categories(parent_id);

CREATE TABLE products (
    id                   uuid PRIMARY KEY,
    name                 text NOT NULL,
    -- Lower-cased in Rust and compared bytewise ("C"), as SQLite sorts it.
    name_key             text COLLATE "C" NOT NULL,
    slug                 text NOT NULL CONSTRAINT products_slug_key UNIQUE,
    description          text NOT NULL,
    price                numeric NOT NULL,
    category_id          uuid CONSTRAINT products_category_id_fkey REFERENCES categories(id),
    -- No foreign key: embedders may own products for vendors that are not users here.
    vendor_id            uuid NOT NULL,
    status               text NOT NULL CONSTRAINT products_status_check
                             CHECK (status IN ('draft', 'pending_approval', 'active', 'archived')),
    -- Without variants: this product's own stock. With variants: the sums of theirs.
    inventory_count      bigint NOT NULL CONSTRAINT products_inventory_check CHECK (inventory_count >= 0),
    reserved             bigint NOT NULL DEFAULT 0 CONSTRAINT products_reserved_check CHECK (reserved >= 0),
    low_stock_threshold  bigint NOT NULL,
    has_variants         boolean NOT NULL DEFAULT false,
    images               jsonb NOT NULL DEFAULT '[]',
    rating_average       numeric NOT NULL DEFAULT 0,
    rating_count         bigint NOT NULL DEFAULT 0,
    version              bigint NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    -- Full text: name words weighted A, description words B, tokenised and folded in Rust
    -- exactly as search input is (words of letters and digits, lower case, no diacritics),
    -- so no text search configuration or extension is needed and no input is query syntax.
    search               tsvector NOT NULL
);
-- One index per listing order the services ask for; status leads because the public listing
-- only shows active products, and the id closes each key for keyset pagination.
CREATE INDEX products_newest ON products(status, created_at DESC, id);
CREATE INDEX products_price ON products(status, price, id);
CREATE INDEX products_name ON products(status, name_key, id);
CREATE INDEX products_rating ON products(status, rating_average DESC, rating_count DESC, id);
CREATE INDEX products_category ON products(category_id, status, created_at DESC);
CREATE INDEX products_vendor ON products(vendor_id, status, created_at DESC);
CREATE INDEX products_low_stock ON products(status, inventory_count);
CREATE INDEX products_search ON products USING gin (search);

CREATE TABLE product_variants (
    id               uuid PRIMARY KEY,
    product_id       uuid NOT NULL CONSTRAINT product_variants_product_id_fkey
                         REFERENCES products(id) ON DELETE CASCADE,
    position         integer NOT NULL,
    sku              text NOT NULL,
    options          jsonb NOT NULL,
    price            numeric,
    inventory_count  bigint NOT NULL CONSTRAINT product_variants_inventory_check CHECK (inventory_count >= 0),
    reserved         bigint NOT NULL DEFAULT 0 CONSTRAINT product_variants_reserved_check CHECK (reserved >= 0)
);
-- SKUs are unique within a product, whatever their case (SQLite: COLLATE NOCASE).
CREATE UNIQUE INDEX product_variants_sku_key ON product_variants(product_id, lower(sku));
CREATE INDEX product_variants_product ON product_variants(product_id, position);

CREATE TABLE reviews (
    id          uuid PRIMARY KEY,
    product_id  uuid NOT NULL CONSTRAINT reviews_product_id_fkey REFERENCES products(id) ON DELETE CASCADE,
    user_id     uuid NOT NULL,
    rating      integer NOT NULL CONSTRAINT reviews_rating_check CHECK (rating BETWEEN 1 AND 5),
    title       text NOT NULL,
    body        text NOT NULL,
    status      text NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT reviews_one_per_customer_key UNIQUE (product_id, user_id)
);
CREATE INDEX reviews_product ON reviews(product_id, status, created_at DESC, id);

CREATE TABLE users (
    id              uuid PRIMARY KEY,
    email           text NOT NULL CONSTRAINT users_email_key UNIQUE,
    full_name       text NOT NULL,
    role            text NOT NULL CONSTRAINT users_role_check CHECK (role IN ('customer', 'vendor', 'admin')),
    is_active       boolean NOT NULL,
    email_verified  boolean NOT NULL,
    password_hash   text NOT NULL,
    token_version   bigint NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX users_newest ON users(created_at DESC, id);
CREATE INDEX users_role ON users(role, created_at DESC, id);

CREATE TABLE addresses (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL CONSTRAINT addresses_user_id_fkey REFERENCES users(id) ON DELETE CASCADE,
    label       text,
    address     jsonb NOT NULL,
    is_default  boolean NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX addresses_user ON addresses(user_id, created_at, id);

CREATE TABLE one_time_tokens (
    token_hash  text PRIMARY KEY,
    user_id     uuid NOT NULL CONSTRAINT one_time_tokens_user_id_fkey REFERENCES users(id) ON DELETE CASCADE,
    purpose     text NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX one_time_tokens_user ON one_time_tokens(user_id);

CREATE TABLE refresh_tokens (
    token_hash  text PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL CONSTRAINT refresh_tokens_user_id_fkey REFERENCES users(id) ON DELETE CASCADE,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);

-- One cart per customer; guests find theirs by the hash of their token.
CREATE TABLE carts (
    id                uuid PRIMARY KEY,
    customer_id       uuid CONSTRAINT carts_customer_id_key UNIQUE,
    guest_token_hash  text CONSTRAINT carts_guest_token_hash_key UNIQUE,
    data              jsonb NOT NULL,
    version           bigint NOT NULL,
    updated_at        timestamptz NOT NULL
);

CREATE TABLE orders (
    id          uuid PRIMARY KEY,
    number      text NOT NULL CONSTRAINT orders_number_key UNIQUE,
    user_id     uuid,
    status      text NOT NULL,
    total       numeric NOT NULL,
    currency    text NOT NULL,
    data        jsonb NOT NULL,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX orders_user ON orders(user_id, created_at DESC, id DESC);
CREATE INDEX orders_status ON orders(status, created_at DESC, id DESC);
CREATE INDEX orders_newest ON orders(created_at DESC, id DESC);

-- The units of each order, for giving stock back and for "has this customer bought it".
CREATE TABLE order_lines (
    order_id    uuid NOT NULL CONSTRAINT order_lines_order_id_fkey REFERENCES orders(id) ON DELETE CASCADE,
    position    integer NOT NULL,
    product_id  uuid NOT NULL,
    variant_id  uuid,
    quantity    bigint NOT NULL CONSTRAINT order_lines_quantity_check CHECK (quantity > 0),
    PRIMARY KEY (order_id, position)
);
CREATE INDEX order_lines_product ON order_lines(product_id, order_id);

CREATE TABLE payments (
    id                  uuid PRIMARY KEY,
    order_id            uuid NOT NULL CONSTRAINT payments_order_id_fkey REFERENCES orders(id),
    provider            text NOT NULL,
    provider_reference  text,
    data                jsonb NOT NULL,
    created_at          timestamptz NOT NULL
);
CREATE UNIQUE INDEX payments_reference_key ON payments(provider, provider_reference) WHERE provider_reference IS NOT NULL;
CREATE INDEX payments_order ON payments(order_id, created_at, id);

-- Provider event ids already applied: a replayed webhook is acknowledged, not applied twice.
CREATE TABLE provider_events (
    provider     text NOT NULL,
    event_id     text NOT NULL,
    received_at  timestamptz NOT NULL,
    PRIMARY KEY (provider, event_id)
);

-- used_count is a column, not in `data`: it is counted in SQL under its limit.
CREATE TABLE promotions (
    id                  uuid PRIMARY KEY,
    code                text CONSTRAINT promotions_code_key UNIQUE,
    used_count          bigint NOT NULL DEFAULT 0,
    usage_limit         bigint,
    per_customer_limit  bigint,
    data                jsonb NOT NULL,
    created_at          timestamptz NOT NULL
);
CREATE INDEX promotions_automatic ON promotions(id) WHERE code IS NULL;
CREATE INDEX promotions_newest ON promotions(created_at DESC, id);

CREATE TABLE promotion_uses (
    promotion_id  uuid NOT NULL,
    customer_key  text NOT NULL,
    uses          bigint NOT NULL,
    PRIMARY KEY (promotion_id, customer_key)
);

CREATE TABLE store_settings (
    id    integer PRIMARY KEY CONSTRAINT store_settings_one_row CHECK (id = 1),
    data  jsonb NOT NULL
);

-- '' for "no region": NULLs would not collide in the UNIQUE constraint.
CREATE TABLE tax_rates (
    id          uuid PRIMARY KEY,
    country     text NOT NULL,
    region      text NOT NULL DEFAULT '',
    rate        numeric NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT tax_rates_country_region_key UNIQUE (country, region)
);

CREATE TABLE shipping_methods (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    price       numeric NOT NULL,
    free_above  numeric,
    active      boolean NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- Idempotency keys of the HTTP layer: one row per (scope, key). `response` is NULL while
-- the first request runs; then it holds the status, headers and body replayed to retries.
CREATE TABLE idempotency_keys (
    scope        text NOT NULL,
    key          text NOT NULL,
    fingerprint  text NOT NULL,
    created_at   timestamptz NOT NULL,
    response     jsonb,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

-- Failed sign-ins per key (an email, a client address), shared by every server process.
CREATE TABLE login_failures (
    key  text NOT NULL,
    at   timestamptz NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, at DESC);
CREATE INDEX login_failures_at ON login_failures(at);

-- Request rates per client address (GCRA's theoretical arrival time), shared by every server
-- process, so the per-address request limit holds across them.
CREATE TABLE client_rates (
    client  text PRIMARY KEY,
    tat     timestamptz NOT NULL
);
CREATE INDEX client_rates_tat ON client_rates(tat);

-- Cross-process invalidation: after a transaction that changed what the public catalog shows
-- (products, their variants and stock, ratings, categories) or the shop's settings commits,
-- every process listening learns of it and drops what it kept. One notification per channel
-- per transaction: PostgreSQL folds identical notifications of one transaction into one. The
-- payload is the writing process's `commerce.origin` (set on each of its connections), so a
-- process skips its own, which it counted when it wrote; other writers send ''.
CREATE FUNCTION commerce_notify_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('commerce_catalog', COALESCE(current_setting('commerce.origin', true), ''));
    RETURN NULL;
END $$;
CREATE FUNCTION commerce_notify_settings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('commerce_settings', COALESCE(current_setting('commerce.origin', true), ''));
    RETURN NULL;
END $$;
CREATE TRIGGER products_changed AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION commerce_notify_catalog();
CREATE TRIGGER product_variants_changed AFTER INSERT OR UPDATE OR DELETE ON product_variants
    FOR EACH STATEMENT EXECUTE FUNCTION commerce_notify_catalog();
CREATE TRIGGER categories_changed AFTER INSERT OR UPDATE OR DELETE ON categories
    FOR EACH STATEMENT EXECUTE FUNCTION commerce_notify_catalog();
CREATE TRIGGER store_settings_changed AFTER INSERT OR UPDATE OR DELETE ON store_settings
    FOR EACH STATEMENT EXECUTE FUNCTION commerce_notify_settings();
CREATE TRIGGER tax_rates_changed AFTER INSERT OR UPDATE OR DELETE ON tax_rates
    FOR EACH STATEMENT EXECUTE FUNCTION commerce_notify_settings();
CREATE TRIGGER shipping_methods_changed AFTER INSERT OR UPDATE OR DELETE ON shipping_methods
    FOR EACH STATEMENT EXECUTE FUNCTION commerce_notify_settings();
