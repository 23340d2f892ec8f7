-- 0002: a product's price is money, so its currency is kept beside it (a variant's price is in
-- its product's currency). The shop's currency is fixed before its first product: rows from
-- before take the saved shop currency, or USD (the default) where none was saved. A shop built
-- with another default currency that never saved its settings gets a clear error at checkout
-- ("priced in USD, but the shop sells in ...") rather than a mixed-currency total.
ALTER TABLE products ADD COLUMN currency text NOT NULL DEFAULT 'USD'
    CONSTRAINT products_currency_code CHECK (currency ~ '^[A-Z]{3}$');
UPDATE products
   SET currency = COALESCE((SELECT data->>'currency' FROM store_settings WHERE id = 1), 'USD');
ALTER TABLE products ALTER COLUMN currency DROP DEFAULT;
