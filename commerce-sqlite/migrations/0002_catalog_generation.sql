-- 0002: a counter that changes whenever a category does, so readers can cache the category
-- tree and still see another process's changes (one tiny read instead of the whole tree).

CREATE TABLE catalog_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    categories  INTEGER NOT NULL
);
INSERT INTO catalog_generation (id, categories) VALUES (1, 0);

CREATE TRIGGER categories_generation_insert AFTER INSERT ON categories BEGIN
    UPDATE catalog_generation SET categories = categories + 1 WHERE id = 1;
END;
CREATE TRIGGER categories_generation_update AFTER UPDATE ON categories BEGIN
    UPDATE catalog_generation SET categories = categories + 1 WHERE id = 1;
END;
CREATE TRIGGER categories_generation_delete AFTER DELETE ON categories BEGIN
    UPDATE catalog_generation SET categories = categories + 1 WHERE id = 1;
END;
