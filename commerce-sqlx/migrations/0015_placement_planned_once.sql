-- 0015 (the write path): the order placement's statements are planned once per connection.
-- PL/pgSQL keeps a plan for each statement of a function, and PostgreSQL plans a statement
-- with parameters afresh on each execution ("custom" plans) for as long as its generic plan
-- looks dearer: here, for ever, since the estimates of a lookup by an array of ids grow with
-- the array's assumed length. Every statement of this function finds its rows by primary key
-- or unique key, where the generic plan is the custom one; measured under checkout load,
-- planning them was about a seventh of PostgreSQL's CPU per order.
ALTER FUNCTION commerce_place_order SET plan_cache_mode = force_generic_plan;
