-- 0019 (the write path): the rules on stock, product status and currency, and on an order
-- line's quantity, are kept by the columns' types (domains) instead of CHECK constraints.
--
-- PostgreSQL checks a table's CHECK constraints on every row an INSERT or UPDATE writes,
-- whichever columns it sets, and each statement reads every one of them again from its
-- stored text and compiles it before the first row. An order takes stock with one UPDATE of
-- `products` per line, so each line paid for four constraints (the currency one a regular
-- expression) that the sale cannot break but two of, and the order line's INSERT for one
-- more. A domain's rule is checked where a value becomes the column's (a new row, or a SET
-- of that column), compiled into the statement's kept plan: a sale checks the stock and
-- the line's quantity and nothing else. Measured on a placement of one line (callgrind on a
-- single-user backend): 1,531,665 instructions a call with the constraints, 1,439,628 with
-- these domains, 1,433,501 with no rule at all.
--
-- The rules are the same, so are the errors: a value that breaks one is refused with
-- SQLSTATE 23514 (check_violation), as before.
CREATE DOMAIN commerce_stock AS bigint
    CONSTRAINT commerce_stock_not_negative CHECK (VALUE >= 0);
CREATE DOMAIN commerce_quantity AS bigint
    CONSTRAINT commerce_quantity_positive CHECK (VALUE > 0);
CREATE DOMAIN commerce_product_status AS text
    CONSTRAINT commerce_product_status_known
    CHECK (VALUE IN ('draft', 'pending_approval', 'active', 'archived'));
CREATE DOMAIN commerce_currency_code AS text
    CONSTRAINT commerce_currency_code_form CHECK (VALUE ~ '^[A-Z]{3}$');

ALTER TABLE products
    DROP CONSTRAINT products_status_check,
    DROP CONSTRAINT products_inventory_check,
    DROP CONSTRAINT products_reserved_check,
    DROP CONSTRAINT products_currency_code,
    ALTER COLUMN status TYPE commerce_product_status,
    ALTER COLUMN inventory_count TYPE commerce_stock,
    ALTER COLUMN reserved TYPE commerce_stock,
    ALTER COLUMN currency TYPE commerce_currency_code;

ALTER TABLE product_variants
    DROP CONSTRAINT product_variants_inventory_check,
    DROP CONSTRAINT product_variants_reserved_check,
    ALTER COLUMN inventory_count TYPE commerce_stock,
    ALTER COLUMN reserved TYPE commerce_stock;

ALTER TABLE order_lines
    DROP CONSTRAINT order_lines_quantity_check,
    ALTER COLUMN quantity TYPE commerce_quantity;
