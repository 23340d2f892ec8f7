//! Promotions (discount codes and automatic ones) and their use per customer. The usage
//! count is counted in SQL by `place_order`: in the `used_count` column under the limit when
//! there is one, else in the rows of `promotion_use_counts` (migration 0017); a promotion's
//! uses are both together ([`USED_COUNT`]).

use async_trait::async_trait;
use commerce_core::ids::PromotionId;
use commerce_core::ports::{Page, PageRequest, PromotionStore, StorageError};
use commerce_core::promotion::Promotion;
use sqlx::postgres::PgRow;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::page::newest_first_page;
use crate::{col, count, found, json, json_col, storage_error, tell, PgStore};
use commerce_core::outbox::ChangeRecord;

/// A promotion's uses in all, as a column of a query on `promotions`.
const USED_COUNT: &str =
    "GREATEST(promotions.used_count + commerce_use_count_parts(promotions.id), 0)";

fn promotion_from_row(r: &PgRow) -> Result<Promotion, StorageError> {
    let mut p: Promotion = json_col(r, 0)?;
    p.used_count = count(col(r, 1)?)?;
    Ok(p)
}

#[async_trait]
impl PromotionStore for PgStore {
    async fn insert_promotion(
        &self,
        p: &Promotion,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        self.execute_recorded(
            sqlx::query(
                "INSERT INTO promotions (id, code, used_count, usage_limit, per_customer_limit, data, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(p.id.as_uuid())
            .bind(&p.code)
            .bind(i64::from(p.used_count))
            .bind(p.usage_limit.map(i64::from))
            .bind(p.per_customer_limit.map(i64::from))
            .bind(json(p)?)
            .bind(p.created_at),
            record,
        )
        .await?;
        // Automatic promotions are kept with the shop's setup (migration 0013 tells the
        // other processes).
        self.settings_changed();
        Ok(())
    }

    /// The terms change; `used_count` stays what orders made it.
    async fn update_promotion(
        &self,
        p: &Promotion,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let touched = self
            .execute_recorded(
                sqlx::query(
                    "UPDATE promotions SET code = $1, usage_limit = $2, per_customer_limit = $3, data = $4 WHERE id = $5",
                )
                .bind(&p.code)
                .bind(p.usage_limit.map(i64::from))
                .bind(p.per_customer_limit.map(i64::from))
                .bind(json(p)?)
                .bind(p.id.as_uuid()),
                record,
            )
            .await?;
        self.settings_changed();
        found(touched)
    }

    async fn delete_promotion(
        &self,
        id: PromotionId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        found(
            sqlx::query("DELETE FROM promotions WHERE id = $1")
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?
                .rows_affected(),
        )?;
        sqlx::query("DELETE FROM promotion_uses WHERE promotion_id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
        sqlx::query("DELETE FROM promotion_use_counts WHERE promotion_id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
        tell(&mut tx, record).await?;
        tx.commit().await.map_err(storage_error)?;
        self.settings_changed();
        Ok(())
    }

    async fn promotion(&self, id: PromotionId) -> Result<Option<Promotion>, StorageError> {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql =
            SQL.get_or_init(|| format!("SELECT data, {USED_COUNT} FROM promotions WHERE id = $1"));
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id.as_uuid())
            .fetch_optional(self.pool())
            .await
            .map_err(storage_error)?
            .as_ref()
            .map(promotion_from_row)
            .transpose()
    }

    async fn list_promotions(&self, page: &PageRequest) -> Result<Page<Promotion>, StorageError> {
        let sql = QueryBuilder::new(format!(
            "SELECT data, {USED_COUNT}, created_at, id FROM promotions WHERE true"
        ));
        newest_first_page(
            self.pool(),
            sql,
            "promotions",
            false,
            page,
            promotion_from_row,
        )
        .await
    }

    async fn promotions_for_pricing(
        &self,
        codes: &[String],
    ) -> Result<Vec<Promotion>, StorageError> {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql = SQL.get_or_init(|| {
            format!(
                "SELECT data, {USED_COUNT} FROM promotions WHERE code IS NULL OR code = ANY($1) ORDER BY id"
            )
        });
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(codes)
            .fetch_all(self.pool())
            .await
            .map_err(storage_error)?
            .iter()
            .map(promotion_from_row)
            .collect()
    }

    async fn customer_uses(
        &self,
        customer_key: &str,
        ids: &[PromotionId],
    ) -> Result<Vec<(PromotionId, u32)>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = ids.iter().map(|i| i.as_uuid()).collect();
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(
            "SELECT promotion_id, uses FROM promotion_uses WHERE customer_key = $1 AND promotion_id = ANY($2)",
        )
        .bind(customer_key)
        .bind(ids)
        .fetch_all(self.pool())
        .await
        .map_err(storage_error)?;
        rows.into_iter()
            .map(|(id, uses)| Ok((id.into(), count(uses)?)))
            .collect()
    }
}
