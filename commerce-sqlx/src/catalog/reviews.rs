//! Reviews on PostgreSQL, and the rating they keep on their product.

use super::*;

const REVIEW_COLUMNS: &str = "id, product_id, user_id, rating, title, body, status, created_at";

fn review_from_row(r: &PgRow) -> Result<Review, StorageError> {
    let status: String = col(r, 6)?;
    let status = match status.as_str() {
        "pending" => ReviewStatus::Pending,
        "approved" => ReviewStatus::Approved,
        "rejected" => ReviewStatus::Rejected,
        other => {
            return Err(StorageError::Corrupt(format!(
                "unknown review status {other}"
            )))
        }
    };
    let rating: i32 = col(r, 3)?;
    Ok(Review {
        id: col::<Uuid>(r, 0)?.into(),
        product_id: col::<Uuid>(r, 1)?.into(),
        user_id: col::<Uuid>(r, 2)?.into(),
        rating: u8::try_from(rating)
            .map_err(|_| StorageError::Corrupt(format!("rating {rating}")))?,
        title: col(r, 4)?,
        body: col(r, 5)?,
        status,
        created_at: col(r, 7)?,
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
async fn refresh_rating(conn: &mut PgConnection, product_id: Uuid) -> Result<(), StorageError> {
    let row = sqlx::query(
        "SELECT COUNT(*), COALESCE(SUM(rating), 0)::bigint FROM reviews WHERE product_id = $1 AND status = 'approved'",
    )
    .bind(product_id)
    .fetch_one(&mut *conn)
    .await
    .map_err(storage_error)?;
    let (reviews, sum): (i64, i64) = (col(&row, 0)?, col(&row, 1)?);
    let rating = Rating::from_totals(
        u64::try_from(sum).unwrap_or(0),
        u32::try_from(reviews).unwrap_or(u32::MAX),
    );
    sqlx::query("UPDATE products SET rating_average = $1, rating_count = $2 WHERE id = $3")
        .bind(rating.average)
        .bind(i64::from(rating.count))
        .bind(product_id)
        .execute(&mut *conn)
        .await
        .map_err(storage_error)?;
    Ok(())
}

#[async_trait]
impl ReviewStore for PgStore {
    async fn insert_review(&self, r: &Review, record: &ChangeRecord) -> Result<(), StorageError> {
        self.retrying(|| async {
            let mut tx = self.pool().begin().await.map_err(storage_error)?;
            sqlx::query(
                "INSERT INTO reviews (id, product_id, user_id, rating, title, body, status, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(r.id.as_uuid())
            .bind(r.product_id.as_uuid())
            .bind(r.user_id.as_uuid())
            .bind(i32::from(r.rating))
            .bind(&r.title)
            .bind(&r.body)
            .bind(review_status(r.status))
            .bind(r.created_at)
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
            refresh_rating(&mut tx, r.product_id.as_uuid()).await?;
            tell(&mut tx, record).await?;
            tx.commit().await.map_err(storage_error)
        })
        .await?;
        self.catalog_changed();
        Ok(())
    }

    async fn update_review(&self, r: &Review, record: &ChangeRecord) -> Result<(), StorageError> {
        self.retrying(|| async {
            let mut tx = self.pool().begin().await.map_err(storage_error)?;
            let changed = sqlx::query(
                "UPDATE reviews SET rating = $1, title = $2, body = $3, status = $4 WHERE id = $5",
            )
            .bind(i32::from(r.rating))
            .bind(&r.title)
            .bind(&r.body)
            .bind(review_status(r.status))
            .bind(r.id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?
            .rows_affected();
            found(changed)?;
            refresh_rating(&mut tx, r.product_id.as_uuid()).await?;
            tell(&mut tx, record).await?;
            tx.commit().await.map_err(storage_error)
        })
        .await?;
        self.catalog_changed();
        Ok(())
    }

    async fn review(&self, id: ReviewId) -> Result<Option<Review>, StorageError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REVIEW_COLUMNS} FROM reviews WHERE id = $1"
        )))
        .bind(id.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(storage_error)?
        .as_ref()
        .map(review_from_row)
        .transpose()
    }

    /// A public read: from the replica when there is one and it is current.
    async fn reviews(
        &self,
        product_id: ProductId,
        page: &PageRequest,
    ) -> Result<Page<Review>, StorageError> {
        let mut sql = QueryBuilder::new(format!(
            "SELECT {REVIEW_COLUMNS}, created_at, id FROM reviews WHERE status = 'approved' AND product_id = "
        ));
        sql.push_bind(product_id.as_uuid());
        newest_first_page(
            self.catalog_reader().await,
            sql,
            "reviews",
            false,
            page,
            review_from_row,
        )
        .await
    }

    async fn all_reviews(
        &self,
        status: Option<ReviewStatus>,
        page: &PageRequest,
    ) -> Result<Page<Review>, StorageError> {
        let mut sql = QueryBuilder::new(format!(
            "SELECT {REVIEW_COLUMNS}, created_at, id FROM reviews WHERE true"
        ));
        if let Some(status) = status {
            sql.push(" AND status = ").push_bind(status.as_str());
        }
        // The staff's list reads the primary: a moderation just made must show.
        newest_first_page(self.pool(), sql, "reviews", false, page, review_from_row).await
    }

    async fn has_reviewed(
        &self,
        product_id: ProductId,
        user_id: UserId,
    ) -> Result<bool, StorageError> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM reviews WHERE product_id = $1 AND user_id = $2)",
        )
        .bind(product_id.as_uuid())
        .bind(user_id.as_uuid())
        .fetch_one(self.pool())
        .await
        .map_err(storage_error)
    }
}
