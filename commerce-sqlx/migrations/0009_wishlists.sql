-- 0009 (wishlists): customers' products to buy later. No foreign key to products: an entry
-- outlives its product (shown as unavailable, by the name it had). `variant_key` is the
-- variant's id or the nil UUID (a key must not be NULL to be unique).
CREATE TABLE wishlist_items (
    user_id     uuid NOT NULL CONSTRAINT wishlist_items_user_id_fkey REFERENCES users(id) ON DELETE CASCADE,
    product_id  uuid NOT NULL,
    variant_key uuid NOT NULL,
    name        text NOT NULL,
    added_at    timestamptz NOT NULL,
    seq         bigserial NOT NULL,
    PRIMARY KEY (user_id, product_id, variant_key)
);
CREATE INDEX wishlist_items_newest ON wishlist_items(user_id, added_at DESC, seq DESC);
