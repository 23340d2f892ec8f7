//! The category tree on PostgreSQL.

use super::*;

fn category_from_row(r: &PgRow) -> Result<Category, StorageError> {
    Ok(Category {
        id: col::<Uuid>(r, 0)?.into(),
        name: col(r, 1)?,
        slug: col(r, 2)?,
        parent_id: col::<Option<Uuid>>(r, 3)?.map(Into::into),
        created_at: col(r, 4)?,
        updated_at: col(r, 5)?,
    })
}

#[async_trait]
impl CategoryStore for PgStore {
    /// A public read: from the replica when there is one and it is current.
    /// Kept while the catalog generation stays the same.
    async fn categories(&self) -> Result<Vec<Category>, StorageError> {
        let generation = self.inner.changes.catalog_generation();
        self.inner
            .categories
            .get_or_read(generation, || async {
                sqlx::query(
                    "SELECT id, name, slug, parent_id, created_at, updated_at FROM categories",
                )
                .fetch_all(self.catalog_reader().await)
                .await
                .map_err(storage_error)?
                .iter()
                .map(category_from_row)
                .collect()
            })
            .await
    }

    async fn insert_category(
        &self,
        c: &Category,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        self.execute_recorded(
            sqlx::query(
                "INSERT INTO categories (id, name, slug, parent_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(c.id.as_uuid())
            .bind(&c.name)
            .bind(&c.slug)
            .bind(c.parent_id.map(|p| p.as_uuid()))
            .bind(c.created_at)
            .bind(c.updated_at),
            record,
        )
        .await?;
        self.catalog_changed();
        Ok(())
    }

    async fn update_category(
        &self,
        c: &Category,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let changed = self
            .execute_recorded(
                        sqlx::query(
                            "UPDATE categories SET name = $1, slug = $2, parent_id = $3, updated_at = $4 WHERE id = $5",
                        )
                        .bind(&c.name)
                        .bind(&c.slug)
                        .bind(c.parent_id.map(|p| p.as_uuid()))
                        .bind(c.updated_at)
                        .bind(c.id.as_uuid()),
                record,
            )
            .await?;
        self.catalog_changed();
        found(changed)
    }

    async fn delete_category(
        &self,
        id: CategoryId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        self.retrying(|| async {
            let mut tx = self.pool().begin().await.map_err(storage_error)?;
            // Locks the category, so that no child is added under it meanwhile.
            let parent: Option<Option<Uuid>> =
                sqlx::query_scalar("SELECT parent_id FROM categories WHERE id = $1 FOR UPDATE")
                    .bind(id.as_uuid())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(storage_error)?;
            let Some(parent) = parent else {
                return Err(StorageError::NotFound);
            };
            sqlx::query("UPDATE categories SET parent_id = $1 WHERE parent_id = $2")
                .bind(parent)
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?;
            sqlx::query("UPDATE products SET category_id = NULL WHERE category_id = $1")
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?;
            sqlx::query("DELETE FROM categories WHERE id = $1")
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?;
            tell(&mut tx, record).await?;
            tx.commit().await.map_err(storage_error)
        })
        .await?;
        self.catalog_changed();
        Ok(())
    }
}
