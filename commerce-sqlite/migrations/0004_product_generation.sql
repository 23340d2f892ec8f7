-- 0004: a counter that changes whenever a product or one of its variants does (stock
-- included), so readers can cache product listings and still see any process's changes.

ALTER TABLE catalog_generation ADD COLUMN products INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER products_generation_insert AFTER INSERT ON products BEGIN
    UPDATE catalog_generation SET products = products + 1 WHERE id = 1;
END;
CREATE TRIGGER products_generation_update AFTER UPDATE ON products BEGIN
    UPDATE catalog_generation SET products = products + 1 WHERE id = 1;
END;
CREATE TRIGGER products_generation_delete AFTER DELETE ON products BEGIN
    UPDATE catalog_generation SET products = products + 1 WHERE id = 1;
END;
CREATE TRIGGER variants_generation_insert AFTER INSERT ON product_variants BEGIN
    UPDATE catalog_generation SET products = products + 1 WHERE id = 1;
END;
CREATE TRIGGER variants_generation_update AFTER UPDATE ON product_variants BEGIN
    UPDATE catalog_generation SET products = products + 1 WHERE id = 1;
END;
CREATE TRIGGER variants_generation_delete AFTER DELETE ON product_variants BEGIN
    UPDATE catalog_generation SET products = products + 1 WHERE id = 1;
END;
