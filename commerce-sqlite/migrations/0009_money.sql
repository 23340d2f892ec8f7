-- 0009: every amount is money. A shipping method's price (and its free-above threshold) gets
-- its currency beside it, as 0007 did for products; a fixed promotion's value and a
-- promotion's minimum subtotal, kept in its JSON, become `{"amount": ..., "currency": ...}`.
-- The shop's currency is fixed when it is set up: what was stored before takes the saved shop
-- currency, or USD (the default) where none was saved.
ALTER TABLE shipping_methods ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
UPDATE shipping_methods
   SET currency = COALESCE((SELECT json_extract(data, '$.currency') FROM store_settings WHERE id = 1), 'USD');
UPDATE promotions
   SET data = json_set(data, '$.kind.value', json_object(
           'amount', json_extract(data, '$.kind.value'),
           'currency', COALESCE((SELECT json_extract(data, '$.currency') FROM store_settings WHERE id = 1), 'USD')))
 WHERE json_extract(data, '$.kind.kind') = 'fixed' AND json_type(data, '$.kind.value') IN ('text', 'integer', 'real');
UPDATE promotions
   SET data = json_set(data, '$.min_subtotal', json_object(
           'amount', json_extract(data, '$.min_subtotal'),
           'currency', COALESCE((SELECT json_extract(data, '$.currency') FROM store_settings WHERE id = 1), 'USD')))
 WHERE json_type(data, '$.min_subtotal') IN ('text', 'integer', 'real');
