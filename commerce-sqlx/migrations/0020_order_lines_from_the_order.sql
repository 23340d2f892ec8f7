-- 0020 (the write path): an order's lines are read from the order itself; the table that
-- repeated them is gone, and a view of the same name and columns reads them from the orders.
-- Guests' orders leave `orders_user`, and the placement sets its mark without a query.
--
-- Every order already keeps its lines in its document (`orders.data -> 'lines'`, with the
-- product, variant and quantity of each), and the table was read for one thing only: whether
-- a customer has bought a product, before a review. Writing it cost each order one more
-- statement, a row and two index entries per line, and a foreign-key check that locks the
-- new order's row (another WAL record): about a tenth of PostgreSQL's CPU per placement
-- (35 of 330 µs measured on a one-line order, pgbench, one client). The question is now
-- asked of the customer's own orders (`orders_user`), a handful of documents.
--
-- Processes of an older build write the table on placement: stop them before this build
-- migrates (as with every migration, a build refuses a database newer than itself at start).
DROP TABLE order_lines;
-- Only order lines' quantities used it.
DROP DOMAIN commerce_quantity;

-- For reports and hand-written queries: one row per line, as the table had them.
CREATE VIEW order_lines AS
SELECT o.id AS order_id,
       (l.ordinality - 1)::int AS position,
       (l.line ->> 'product_id')::uuid AS product_id,
       (l.line ->> 'variant_id')::uuid AS variant_id,
       (l.line ->> 'quantity')::bigint AS quantity
  FROM orders o
 CROSS JOIN LATERAL jsonb_array_elements(o.data -> 'lines') WITH ORDINALITY AS l(line, ordinality);

-- Guests' orders no longer go into `orders_user`: it answers "this customer's orders" only,
-- and a guest order paid for an entry no query reads (2 % of a guest placement's
-- instructions, callgrind on a single-user backend: 1,329,628 -> 1,301,504 a call). Every
-- query through it names a customer (`user_id = $n`), which PostgreSQL proves implies the
-- index's condition. Rebuilt in this migration's transaction: writes to `orders` wait for
-- the build (seconds per million customers' orders).
DROP INDEX orders_user;
CREATE INDEX orders_user ON orders (user_id, created_at DESC, id DESC) WHERE user_id IS NOT NULL;

-- As in 0017 without the lines' four arrays (and their INSERT), and the placement's mark set
-- by assignments: PL/pgSQL evaluates those as simple expressions, where PERFORM runs each
-- through the executor as a query (1 % of a call).
DROP FUNCTION commerce_place_order(
    uuid[], uuid[], bigint[], uuid[], text, uuid, bigint, uuid, text, uuid, text, numeric,
    text, jsonb, bigint, timestamptz, timestamptz, int[], uuid[], uuid[], bigint[],
    uuid[], text[], timestamptz[], jsonb[], boolean);
CREATE FUNCTION commerce_place_order(
    unit_products uuid[], unit_variants uuid[], unit_quantities bigint[],
    promotion_ids uuid[], customer text,
    cart_id uuid, cart_version bigint,
    order_id uuid, order_number text, order_user uuid, order_status text, order_total numeric,
    order_currency text, order_data jsonb, order_version bigint,
    order_created timestamptz, order_updated timestamptz,
    event_ids uuid[], event_types text[], event_times timestamptz[], event_data jsonb[],
    stock_watched boolean
) RETURNS TABLE (product_id uuid, variant_id uuid, available bigint, threshold bigint)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    told text;
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
    told := set_config('commerce.catalog_told_after', 'on', true);
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
    INSERT INTO outbox_events (id, type, occurred_at, data)
    SELECT e.id, e.type, e.occurred_at, e.data
      FROM unnest(event_ids, event_types, event_times, event_data) AS e(id, type, occurred_at, data);

    told := set_config('commerce.catalog_told_after', 'off', true);
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
