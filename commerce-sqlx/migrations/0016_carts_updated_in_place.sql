-- 0016 (the write path): a cart's update is a HOT update. Every add to cart and every checkout
-- moves the cart's `updated_at`, and the sweeper's index on it (guest carts by age) made each
-- such update a new row version in all four of the carts' indexes. The sweeper needs no more
-- than the day: `touched_on`, the UTC day of `updated_at`, kept by PostgreSQL itself, changes
-- at most once a day per cart, so the update stays in place; the purge narrows by the day
-- through the index and filters by the exact time. (Adding the column rewrites the table
-- once, under its lock.)
ALTER TABLE carts
    ADD COLUMN touched_on date GENERATED ALWAYS AS ((updated_at AT TIME ZONE 'UTC')::date) STORED;
CREATE INDEX carts_guest_day ON carts (touched_on) WHERE customer_id IS NULL;
DROP INDEX carts_guest_age;
-- Room on each page for a cart's next version, so the update can stay in place.
ALTER TABLE carts SET (fillfactor = 85);
