//! The category tree on SQLite, cached under the catalog generation.

use super::*;

fn category_from_row(r: &Row<'_>) -> rusqlite::Result<Category> {
    Ok(Category {
        id: r.id(0)?,
        name: r.get(1)?,
        slug: r.get(2)?,
        parent_id: r.opt_id(3)?,
        created_at: r.time(4)?,
        updated_at: r.time(5)?,
    })
}

#[async_trait]
impl CategoryStore for SqliteStore {
    /// Served from a cache while the category generation (bumped by triggers on every
    /// change, by any process) is the one it was read at. On the worker: nearly always one
    /// row by key, and every cart price asks.
    async fn categories(&self) -> Result<Vec<Category>, StorageError> {
        let store = self.clone();
        let list = self
            .read_inline(move |conn| {
                let generation: i64 = conn
                    .prepare_cached("SELECT categories FROM catalog_generation WHERE id = 1")
                    .map_err(storage_error)?
                    .query_row([], |r| r.get(0))
                    .map_err(storage_error)?;
                if let Some(cached) = store.cached_categories(generation) {
                    return Ok(cached);
                }
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT id, name, slug, parent_id, created_at, updated_at FROM categories",
                    )
                    .map_err(storage_error)?;
                let rows = stmt
                    .query_map([], category_from_row)
                    .map_err(storage_error)?;
                let list: std::sync::Arc<Vec<Category>> =
                    std::sync::Arc::new(rows.collect::<Result<_, _>>().map_err(storage_error)?);
                store.cache_categories(generation, list.clone());
                Ok(list)
            })
            .await?;
        Ok(list.as_ref().clone())
    }

    async fn insert_category(
        &self,
        category: &Category,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        let c = category.clone();
        self.write_told(told, move |conn| {
            conn.execute(
                "INSERT INTO categories (id, name, slug, parent_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![c.id.to_string(), c.name, c.slug, c.parent_id.map(|p| p.to_string()), time_text(c.created_at), time_text(c.updated_at)],
            )
            .map_err(writing("categories"))?;
            Ok(())
        })
        .await
    }

    async fn update_category(
        &self,
        category: &Category,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        let c = category.clone();
        self.write_told(told, move |conn| {
            let n = conn
                .execute(
                    "UPDATE categories SET name = ?1, slug = ?2, parent_id = ?3, updated_at = ?4 WHERE id = ?5",
                    params![c.name, c.slug, c.parent_id.map(|p| p.to_string()), time_text(c.updated_at), c.id.to_string()],
                )
                .map_err(writing("categories"))?;
            found(n)
        })
        .await
    }

    async fn delete_category(
        &self,
        id: CategoryId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        self.write_told(told, move |conn| {
            let tx = &*conn;
            let id = id.to_string();
            let parent: Option<Option<String>> = tx
                .query_row(
                    "SELECT parent_id FROM categories WHERE id = ?1",
                    [&id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(storage_error)?;
            let Some(parent) = parent else {
                return Err(StorageError::NotFound);
            };
            tx.execute(
                "UPDATE categories SET parent_id = ?1 WHERE parent_id = ?2",
                params![parent, id],
            )
            .map_err(storage_error)?;
            tx.execute(
                "UPDATE products SET category_id = NULL WHERE category_id = ?1",
                [&id],
            )
            .map_err(storage_error)?;
            tx.execute("DELETE FROM categories WHERE id = ?1", [&id])
                .map_err(storage_error)?;
            Ok(())
        })
        .await
    }
}
