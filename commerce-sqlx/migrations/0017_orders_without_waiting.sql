-- 0017 (the write path): orders no longer wait for each other on two things.
--
-- 1. A sale no longer notifies other processes inside its transaction. The catalog
-- trigger's NOTIFY (0001) made every order that took stock a notifying transaction, and
-- PostgreSQL commits those one at a time: a notifying transaction holds one lock for the
-- whole database from before its commit record until after its flush, so no two sales could
-- share a flush (group commit) and each waited for the one before. Measured with the
-- placement alone (pgbench, 16 clients): 2,200-2,500 placements/s with the trigger,
-- 4,100-4,400 without; a bare stock update 3,900 against 10,100.
--
-- Now `commerce_place_order` marks its transaction, the trigger stays quiet for it, and the
-- process that placed the order tells the others itself once it has committed, many sales
-- in one notification (commerce-sqlx's `changes`: within a few milliseconds, as its events).
-- Every other write of products, variants and categories (the order placed the long way,
-- cancellations, staff's edits, another tool's UPDATE) still notifies from the trigger.
CREATE OR REPLACE FUNCTION commerce_notify_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('commerce.catalog_told_after', true) = 'on' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('commerce_catalog', COALESCE(current_setting('commerce.origin', true), ''));
    RETURN NULL;
END $$;

-- 2. Orders that use a promotion with no limit in all no longer wait for each other. Each
-- such order added one to the promotion's `used_count`, one row, so every order using an
-- automatic promotion held that row's lock until its commit was flushed and the next one
-- waited for it: with the demo shop's automatic promotion, direct orders ran at 1,500/s,
-- and at 2,500/s with it turned off.
--
-- Now such a use is counted in one of sixteen rows of `promotion_use_counts`, picked by the
-- order's id, so orders meet only when they pick the same row. A promotion with a limit in
-- all is counted as before, in `used_count` under its guard, which adds the other rows'
-- counts (uses from before the limit was set). Giving a use back (a cancelled order) or
-- counting it again goes to the order's row, whichever way it was counted, so a row may go
-- below zero; the promotion's uses in all are `used_count` and every row's, never below zero.
CREATE TABLE promotion_use_counts (
    promotion_id uuid NOT NULL,
    part smallint NOT NULL,
    uses bigint NOT NULL,
    PRIMARY KEY (promotion_id, part)
);
-- No foreign key: its check would lock the promotion's row for every order, the wait this
-- removes (deleting a promotion deletes its rows).

-- Which of the sixteen rows an order counts in: its id's last byte (random in the ids the
-- engine makes), so the same row for its use, its give-back and a count again.
CREATE FUNCTION commerce_use_count_part(order_id uuid) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (get_byte(uuid_send(order_id), 15) & 15)::smallint
$$;

-- A promotion's uses counted in its rows.
CREATE FUNCTION commerce_use_count_parts(promotion uuid) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(sum(uses), 0)::bigint FROM promotion_use_counts WHERE promotion_id = promotion
$$;

-- As in 0012 (and 0015's setting restated), with the mark of 1 set for the function's own
-- statements only (undone with them when the call undoes itself), and the promotion's use
-- counted as in 2.
CREATE OR REPLACE FUNCTION commerce_place_order(
    unit_products uuid[], unit_variants uuid[], unit_quantities bigint[],
    promotion_ids uuid[], customer text,
    cart_id uuid, cart_version bigint,
    order_id uuid, order_number text, order_user uuid, order_status text, order_total numeric,
    order_currency text, order_data jsonb, order_version bigint,
    order_created timestamptz, order_updated timestamptz,
    line_positions int[], line_products uuid[], line_variants uuid[], line_quantities bigint[],
    event_ids uuid[], event_types text[], event_times timestamptz[], event_data jsonb[],
    stock_watched boolean
) RETURNS TABLE (product_id uuid, variant_id uuid, available bigint, threshold bigint)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    i int;
    q bigint;
    left_now bigint;
    product_threshold bigint;
    variant_left bigint;
    variant_threshold bigint;
    per_customer bigint;
    total_limit bigint;
    taken_products uuid[] := '{}';
    taken_variants uuid[] := '{}';
    taken_left bigint[] := '{}';
    taken_thresholds bigint[] := '{}';
BEGIN
    -- The caller tells other processes of the stock it takes, after the commit.
    PERFORM set_config('commerce.catalog_told_after', 'on', true);
    FOR i IN 1 .. coalesce(array_length(unit_products, 1), 0) LOOP
        q := unit_quantities[i];
        UPDATE products p
           SET inventory_count = p.inventory_count - q, reserved = p.reserved + q,
               version = p.version + 1
         WHERE p.id = unit_products[i] AND p.status = 'active'
           AND p.has_variants = (unit_variants[i] IS NOT NULL) AND p.inventory_count >= q
        RETURNING p.inventory_count, p.low_stock_threshold INTO left_now, product_threshold;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'commerce_slow_path' USING DETAIL = 'stock';
        END IF;
        IF unit_variants[i] IS NOT NULL THEN
            UPDATE product_variants v
               SET inventory_count = v.inventory_count - q, reserved = v.reserved + q
             WHERE v.id = unit_variants[i] AND v.product_id = unit_products[i]
               AND v.inventory_count >= q
            RETURNING v.inventory_count, v.low_stock_threshold INTO variant_left, variant_threshold;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'commerce_slow_path' USING DETAIL = 'stock';
            END IF;
            left_now := variant_left;
            product_threshold := coalesce(variant_threshold, product_threshold);
        END IF;
        -- The lines StockChange::events draws: low stock reached, or none left.
        IF stock_watched AND ((left_now + q > product_threshold AND left_now <= product_threshold)
                              OR (left_now + q > 0 AND left_now = 0)) THEN
            RAISE EXCEPTION 'commerce_slow_path' USING DETAIL = 'stock line crossed';
        END IF;
        taken_products := taken_products || unit_products[i];
        taken_variants := taken_variants || unit_variants[i];
        taken_left := taken_left || left_now;
        taken_thresholds := taken_thresholds || product_threshold;
    END LOOP;

    -- Each promotion's use, under its limit and the customer's (ids in lock order). One with
    -- no limit in all is counted in the row of its counts the order picks (2 above).
    FOR i IN 1 .. coalesce(array_length(promotion_ids, 1), 0) LOOP
        SELECT pr.usage_limit, pr.per_customer_limit INTO total_limit, per_customer
          FROM promotions pr WHERE pr.id = promotion_ids[i];
        IF NOT FOUND THEN
            RAISE EXCEPTION 'commerce_slow_path' USING DETAIL = 'promotion';
        END IF;
        IF total_limit IS NULL THEN
            INSERT INTO promotion_use_counts AS s (promotion_id, part, uses)
            VALUES (promotion_ids[i], commerce_use_count_part(order_id), 1)
            ON CONFLICT (promotion_id, part) DO UPDATE SET uses = s.uses + 1;
        ELSE
            UPDATE promotions pr SET used_count = pr.used_count + 1
             WHERE pr.id = promotion_ids[i]
               AND (pr.usage_limit IS NULL
                    OR pr.used_count + commerce_use_count_parts(pr.id) < pr.usage_limit)
            RETURNING pr.per_customer_limit INTO per_customer;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'commerce_slow_path' USING DETAIL = 'promotion';
            END IF;
        END IF;
        IF per_customer <= 0 THEN
            RAISE EXCEPTION 'commerce_slow_path' USING DETAIL = 'promotion';
        END IF;
        INSERT INTO promotion_uses AS u (promotion_id, customer_key, uses)
        VALUES (promotion_ids[i], customer, 1)
        ON CONFLICT (promotion_id, customer_key) DO UPDATE SET uses = u.uses + 1
            WHERE per_customer IS NULL OR u.uses < per_customer;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'commerce_slow_path' USING DETAIL = 'promotion';
        END IF;
    END LOOP;

    IF cart_id IS NOT NULL THEN
        UPDATE carts c
           SET data = jsonb_set(jsonb_set(c.data, '{items}', '[]'::jsonb), '{discount_codes}', '[]'::jsonb),
               version = c.version + 1, updated_at = order_created
         WHERE c.id = cart_id AND c.version = cart_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'commerce_slow_path' USING DETAIL = 'cart';
        END IF;
    END IF;

    INSERT INTO orders (id, number, user_id, status, total, currency, data, version, created_at, updated_at)
    VALUES (order_id, order_number, order_user, order_status, order_total, order_currency,
            order_data, order_version, order_created, order_updated);
    INSERT INTO order_lines (order_id, position, product_id, variant_id, quantity)
    SELECT order_id, l.position, l.product_id, l.variant_id, l.quantity
      FROM unnest(line_positions, line_products, line_variants, line_quantities)
           AS l(position, product_id, variant_id, quantity);
    INSERT INTO outbox_events (id, type, occurred_at, data)
    SELECT e.id, e.type, e.occurred_at, e.data
      FROM unnest(event_ids, event_types, event_times, event_data) AS e(id, type, occurred_at, data);

    PERFORM set_config('commerce.catalog_told_after', 'off', true);
    RETURN QUERY SELECT t.p, t.v, t.l, t.th
                   FROM unnest(taken_products, taken_variants, taken_left, taken_thresholds)
                        AS t(p, v, l, th);
EXCEPTION
    WHEN raise_exception THEN
        IF SQLERRM <> 'commerce_slow_path' THEN
            RAISE;
        END IF;
        RETURN QUERY SELECT NULL::uuid, NULL::uuid, -1::bigint, -1::bigint;
END;
$$;
