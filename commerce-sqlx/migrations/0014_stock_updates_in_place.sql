-- 0014 (the write path): a sale's stock update is a HOT update. PostgreSQL writes an UPDATE
-- in place on the row's page, touching no index, only when no indexed column changed; the
-- index on (status, inventory_count) made every sale a new row version in all ten of the
-- products' indexes (the text search one too), and left their entries to be skipped by every
-- read of those rows until vacuum (measured under checkout load: a fifth of PostgreSQL's time
-- in the order placement went to index inserts, another to index scans over dead entries).
-- The low-stock list it served is an admin's page: it reads the active products instead.
DROP INDEX products_low_stock;
-- Room on each page for the next version of its rows, so the update can stay in place.
ALTER TABLE products SET (fillfactor = 85);
ALTER TABLE product_variants SET (fillfactor = 85);
