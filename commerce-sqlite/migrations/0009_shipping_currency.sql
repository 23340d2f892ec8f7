-- 0009: a shipping method's price (and its free-above threshold) is money, so its currency is
-- kept beside it, as 0007 did for products. The shop's currency is fixed when it is set up:
-- rows from before take the saved shop currency, or USD (the default) where none was saved.
ALTER TABLE shipping_methods ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
UPDATE shipping_methods
   SET currency = COALESCE((SELECT json_extract(data, '$.currency') FROM store_settings WHERE id = 1), 'USD');
