-- 0004: a shipping method's price (and its free-above threshold) is money, so its currency is
-- kept beside it, as 0002 did for products. The shop's currency is fixed when it is set up:
-- rows from before take the saved shop currency, or USD (the default) where none was saved.
ALTER TABLE shipping_methods ADD COLUMN currency text NOT NULL DEFAULT 'USD'
    CONSTRAINT shipping_methods_currency_code CHECK (currency ~ '^[A-Z]{3}$');
UPDATE shipping_methods
   SET currency = COALESCE((SELECT data->>'currency' FROM store_settings WHERE id = 1), 'USD');
ALTER TABLE shipping_methods ALTER COLUMN currency DROP DEFAULT;
