-- 0012 (variant_thresholds): a variant's own low-stock threshold; NULL takes its product's.
ALTER TABLE product_variants ADD COLUMN low_stock_threshold INTEGER;
