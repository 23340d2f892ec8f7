-- 0013 (promotions in the setup): the automatic promotions are kept in memory with the
-- shop's settings, tax rates and shipping methods, so a change of a promotion's terms tells
-- every process, as those do. A use counted by an order (`used_count` alone) does not: a kept
-- copy is used only while no automatic promotion has a usage limit.
CREATE TRIGGER promotions_changed
    AFTER INSERT OR DELETE OR UPDATE OF code, usage_limit, per_customer_limit, data ON promotions
    FOR EACH STATEMENT EXECUTE FUNCTION commerce_notify_settings();
