//! Promotions (discount codes and automatic ones) and their use per customer. The usage
//! count is a column, counted in SQL under its limit by `place_order`.

use async_trait::async_trait;
use commerce_core::ids::PromotionId;
use commerce_core::ports::{Page, PageRequest, PromotionStore, StorageError};
use commerce_core::promotion::Promotion;
use rusqlite::{params, OptionalExtension, Row};

use crate::codec::{json, newest_first_page, time_text, NewestFirst, RowExt};
use crate::{found, storage_error, SqliteStore, Told};
use commerce_core::outbox::ChangeRecord;

fn promotion_from_row(r: &Row<'_>) -> rusqlite::Result<Promotion> {
    let mut p: Promotion = r.json(0)?;
    p.used_count = r.count(1)?;
    Ok(p)
}

#[async_trait]
impl PromotionStore for SqliteStore {
    async fn insert_promotion(
        &self,
        promotion: &Promotion,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        let p = promotion.clone();
        self.write_told(told, move |conn| {
            conn.execute(
                "INSERT INTO promotions (id, code, used_count, usage_limit, per_customer_limit, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![p.id.to_string(), p.code, p.used_count, p.usage_limit, p.per_customer_limit, json(&p)?, time_text(p.created_at)],
            )
            .map_err(storage_error)?;
            Ok(())
        })
        .await
    }

    /// The terms change; `used_count` stays what orders made it.
    async fn update_promotion(
        &self,
        promotion: &Promotion,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        let p = promotion.clone();
        self.write_told(told, move |conn| {
            let n = conn
                .execute(
                    "UPDATE promotions SET code = ?1, usage_limit = ?2, per_customer_limit = ?3, data = ?4 WHERE id = ?5",
                    params![p.code, p.usage_limit, p.per_customer_limit, json(&p)?, p.id.to_string()],
                )
                .map_err(storage_error)?;
            found(n)
        })
        .await
    }

    async fn delete_promotion(
        &self,
        id: PromotionId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        self.write_told(told, move |conn| {
            let tx = &*conn;
            let n = tx
                .execute("DELETE FROM promotions WHERE id = ?1", [id.to_string()])
                .map_err(storage_error)?;
            found(n)?;
            tx.execute(
                "DELETE FROM promotion_uses WHERE promotion_id = ?1",
                [id.to_string()],
            )
            .map_err(storage_error)?;
            Ok(())
        })
        .await
    }

    async fn promotion(&self, id: PromotionId) -> Result<Option<Promotion>, StorageError> {
        self.read_inline(move |conn| {
            conn.prepare_cached("SELECT data, used_count FROM promotions WHERE id = ?1")
                .map_err(storage_error)?
                .query_row([id.to_string()], promotion_from_row)
                .optional()
                .map_err(storage_error)
        })
        .await
    }

    async fn list_promotions(&self, page: &PageRequest) -> Result<Page<Promotion>, StorageError> {
        let page = page.clone();
        self.read(move |conn| {
            let listing = NewestFirst {
                kind: "promotions",
                columns: "data, used_count",
                from: "FROM promotions WHERE 1 = 1",
                ids_descending: false,
            };
            newest_first_page(conn, listing, Vec::new(), &page, promotion_from_row)
        })
        .await
    }

    async fn promotions_for_pricing(
        &self,
        codes: &[String],
    ) -> Result<Vec<Promotion>, StorageError> {
        let codes = codes.to_vec();
        // The automatic promotions and a few codes: a small indexed read, on the worker.
        self.read_inline(move |conn| {
            let mut sql =
                String::from("SELECT data, used_count FROM promotions WHERE code IS NULL");
            if !codes.is_empty() {
                sql.push_str(&format!(
                    " OR code IN ({})",
                    vec!["?"; codes.len()].join(",")
                ));
            }
            sql.push_str(" ORDER BY id");
            let mut stmt = conn.prepare_cached(&sql).map_err(storage_error)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(codes), promotion_from_row)
                .map_err(storage_error)?;
            rows.collect::<Result<_, _>>().map_err(storage_error)
        })
        .await
    }

    async fn customer_uses(
        &self,
        customer_key: &str,
        ids: &[PromotionId],
    ) -> Result<Vec<(PromotionId, u32)>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let key = customer_key.to_string();
        let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        self.read_inline(move |conn| {
            let sql = format!(
                "SELECT promotion_id, uses FROM promotion_uses WHERE customer_key = ? AND promotion_id IN ({})",
                vec!["?"; ids.len()].join(",")
            );
            let mut args = vec![key];
            args.extend(ids);
            let mut stmt = conn.prepare_cached(&sql).map_err(storage_error)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args), |r| Ok((r.id::<PromotionId>(0)?, r.count(1)?)))
                .map_err(storage_error)?;
            rows.collect::<Result<_, _>>().map_err(storage_error)
        })
        .await
    }
}
