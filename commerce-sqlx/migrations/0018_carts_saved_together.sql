-- 0018 (the write path): cart updates gathered into one call. Each add to cart was an UPDATE
-- and a commit of its own; the store's cart writer (`gathered`) now sends the updates waiting
-- at once in one call, so under load many share one statement and one commit. Each update
-- keeps its own version check: the answer says, per cart in the order given, whether it was
-- saved (false: changed by someone else since it was read, or gone; the store tells which).
-- Carts are updated in id order, so two processes' writers lock their carts in one order and
-- never wait for each other in turn; one cart twice in a call is saved once, at the version
-- read, and the second finds it changed, as two calls would.
CREATE FUNCTION commerce_update_carts(
    cart_ids uuid[], read_versions bigint[], cart_customers uuid[], cart_tokens text[],
    cart_data jsonb[], cart_updated timestamptz[]
) RETURNS boolean[]
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    saved boolean[] := array_fill(false, ARRAY[cardinality(cart_ids)]);
    i int;
    changed int;
BEGIN
    FOR i IN
        SELECT u.position FROM unnest(cart_ids) WITH ORDINALITY AS u(cart_id, position)
         ORDER BY u.cart_id, u.position
    LOOP
        UPDATE carts c
           SET customer_id = cart_customers[i], guest_token_hash = cart_tokens[i],
               data = cart_data[i], version = read_versions[i] + 1, updated_at = cart_updated[i]
         WHERE c.id = cart_ids[i] AND c.version = read_versions[i];
        GET DIAGNOSTICS changed = ROW_COUNT;
        saved[i] := changed = 1;
    END LOOP;
    RETURN saved;
END $$;
