-- 0004: every amount is money. A shipping method's price (and its free-above threshold) gets
-- its currency beside it, as 0002 did for products; a fixed promotion's value and a
-- promotion's minimum subtotal, kept in its JSON, become `{"amount": ..., "currency": ...}`.
-- The shop's currency is fixed when it is set up: what was stored before takes the saved shop
-- currency, or USD (the default) where none was saved.
ALTER TABLE shipping_methods ADD COLUMN currency text NOT NULL DEFAULT 'USD'
    CONSTRAINT shipping_methods_currency_code CHECK (currency ~ '^[A-Z]{3}$');
UPDATE shipping_methods
   SET currency = COALESCE((SELECT data->>'currency' FROM store_settings WHERE id = 1), 'USD');
ALTER TABLE shipping_methods ALTER COLUMN currency DROP DEFAULT;
UPDATE promotions
   SET data = jsonb_set(data, '{kind,value}', jsonb_build_object(
           'amount', data->'kind'->'value',
           'currency', COALESCE((SELECT data->>'currency' FROM store_settings WHERE id = 1), 'USD')))
 WHERE data->'kind'->>'kind' = 'fixed' AND jsonb_typeof(data->'kind'->'value') IN ('string', 'number');
UPDATE promotions
   SET data = jsonb_set(data, '{min_subtotal}', jsonb_build_object(
           'amount', data->'min_subtotal',
           'currency', COALESCE((SELECT data->>'currency' FROM store_settings WHERE id = 1), 'USD')))
 WHERE jsonb_typeof(data->'min_subtotal') IN ('string', 'number');
