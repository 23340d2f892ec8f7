//! Reviews on SQLite, and the rating they keep on their product.

use super::*;
use crate::Told;

const REVIEW_COLUMNS: &str = "id, product_id, user_id, rating, title, body, status, created_at";

fn review_from_row(r: &Row<'_>) -> rusqlite::Result<Review> {
    let status: String = r.get(6)?;
    let status = match status.as_str() {
        "pending" => ReviewStatus::Pending,
        "approved" => ReviewStatus::Approved,
        "rejected" => ReviewStatus::Rejected,
        other => {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                6,
                rusqlite::types::Type::Text,
                format!("unknown review status {other}").into(),
            ))
        }
    };
    Ok(Review {
        id: r.id(0)?,
        product_id: r.id(1)?,
        user_id: r.id(2)?,
        rating: r.get(3)?,
        title: r.get(4)?,
        body: r.get(5)?,
        status,
        created_at: r.time(7)?,
    })
}

fn review_status(s: ReviewStatus) -> &'static str {
    match s {
        ReviewStatus::Pending => "pending",
        ReviewStatus::Approved => "approved",
        ReviewStatus::Rejected => "rejected",
    }
}

/// Recomputes a product's rating from its approved reviews, in the caller's transaction.
fn refresh_rating(tx: &Connection, product_id: &str) -> Result<(), StorageError> {
    let (count, sum): (i64, i64) = tx
        .query_row(
            "SELECT COUNT(*), COALESCE(SUM(rating), 0) FROM reviews WHERE product_id = ?1 AND status = 'approved'",
            [product_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(storage_error)?;
    let rating = Rating::from_totals(sum.max(0) as u64, u32::try_from(count).unwrap_or(u32::MAX));
    tx.execute(
        "UPDATE products SET rating_average = ?1, rating_key = ?2, rating_count = ?3 WHERE id = ?4",
        params![
            rating.average.to_string(),
            amount_key(rating.average),
            rating.count,
            product_id
        ],
    )
    .map_err(storage_error)?;
    Ok(())
}

#[async_trait]
impl ReviewStore for SqliteStore {
    async fn insert_review(
        &self,
        review: &Review,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let r = review.clone();
        let told = Told::of(record)?;
        self.write(move |conn| {
            let tx = &*conn;
            tx.execute(
                &format!("INSERT INTO reviews ({REVIEW_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                params![
                    r.id.to_string(),
                    r.product_id.to_string(),
                    r.user_id.to_string(),
                    r.rating,
                    r.title,
                    r.body,
                    review_status(r.status),
                    time_text(r.created_at)
                ],
            )
            .map_err(writing("reviews"))?;
            refresh_rating(tx, &r.product_id.to_string())?;
            tell(tx, &told)
        })
        .await
    }

    async fn update_review(
        &self,
        review: &Review,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        let r = review.clone();
        self.write_told(told, move |conn| {
            let tx = &*conn;
            let n = tx
                .execute(
                    "UPDATE reviews SET rating = ?1, title = ?2, body = ?3, status = ?4 WHERE id = ?5",
                    params![r.rating, r.title, r.body, review_status(r.status), r.id.to_string()],
                )
                .map_err(storage_error)?;
            found(n)?;
            refresh_rating(tx, &r.product_id.to_string())?;
            Ok(())
        })
        .await
    }

    async fn review(&self, id: ReviewId) -> Result<Option<Review>, StorageError> {
        self.read(move |conn| {
            conn.query_row(
                &format!("SELECT {REVIEW_COLUMNS} FROM reviews WHERE id = ?1"),
                [id.to_string()],
                review_from_row,
            )
            .optional()
            .map_err(storage_error)
        })
        .await
    }

    async fn reviews(
        &self,
        product_id: ProductId,
        page: &PageRequest,
    ) -> Result<Page<Review>, StorageError> {
        let page = page.clone();
        self.read(move |conn| {
            let listing = NewestFirst {
                kind: "reviews",
                columns: REVIEW_COLUMNS,
                from: "FROM reviews WHERE product_id = ? AND status = 'approved'",
                ids_descending: false,
            };
            newest_first_page(
                conn,
                listing,
                vec![Value::Text(product_id.to_string())],
                &page,
                review_from_row,
            )
        })
        .await
    }

    async fn all_reviews(
        &self,
        status: Option<ReviewStatus>,
        page: &PageRequest,
    ) -> Result<Page<Review>, StorageError> {
        let page = page.clone();
        self.read(move |conn| {
            let (from, args) = match status {
                Some(status) => (
                    "FROM reviews WHERE status = ?",
                    vec![Value::Text(status.as_str().into())],
                ),
                None => ("FROM reviews WHERE 1 = 1", Vec::new()),
            };
            let listing = NewestFirst {
                kind: "reviews",
                columns: REVIEW_COLUMNS,
                from,
                ids_descending: false,
            };
            newest_first_page(conn, listing, args, &page, review_from_row)
        })
        .await
    }

    async fn has_reviewed(
        &self,
        product_id: ProductId,
        user_id: UserId,
    ) -> Result<bool, StorageError> {
        self.read(move |conn| {
            conn.query_row(
                "SELECT 1 FROM reviews WHERE product_id = ?1 AND user_id = ?2",
                [product_id.to_string(), user_id.to_string()],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(storage_error)
        })
        .await
    }
}
