-- 0014 (wishlists): customers' products to buy later. No foreign key to products: an entry
-- outlives its product (shown as unavailable, by the name it had). `variant_key` is the
-- variant's id or '' (a key must not be NULL to be unique).
CREATE TABLE wishlist_items (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    product_id  TEXT NOT NULL,
    variant_key TEXT NOT NULL,
    name        TEXT NOT NULL,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (user_id, product_id, variant_key)
);
CREATE INDEX wishlist_items_newest ON wishlist_items(user_id, added_at DESC);
