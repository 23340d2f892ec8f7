//! Newest-first keyset pages, the shape of most listings.

use chrono::{DateTime, SecondsFormat, Utc};
use commerce_core::cursor;
use commerce_core::ports::{Page, PageRequest, StorageError};
use sqlx::postgres::{PgRow, Postgres};
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::{col, storage_error};

/// A time in a cursor: RFC 3339 in UTC to the microsecond, what PostgreSQL keeps.
pub(crate) fn time_key(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A page, newest first, of `sql`: a `SELECT` whose last two columns are `created_at` and
/// `id`, ending in a `WHERE` clause the keyset condition extends. It seeks straight to the
/// cursor (the leading `created_at <=` is what lets an index serve it), reads one row more
/// than asked to know whether another page follows, and hands out the last row's cursor.
pub(crate) async fn newest_first_page<T>(
    pool: &sqlx::PgPool,
    mut sql: QueryBuilder<Postgres>,
    kind: &str,
    ids_descending: bool,
    page: &PageRequest,
    item: impl Fn(&PgRow) -> Result<T, StorageError>,
) -> Result<Page<T>, StorageError> {
    let limit = page.effective_limit();
    let (after, order) = if ids_descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some(c) = &page.cursor {
        let v = cursor::decode(kind, c, 2)?;
        let t = parse_time(&v[0]).ok_or(StorageError::InvalidCursor)?;
        let id: Uuid = v[1].parse().map_err(|_| StorageError::InvalidCursor)?;
        sql.push(" AND created_at <= ")
            .push_bind(t)
            .push(" AND (created_at < ")
            .push_bind(t)
            .push(" OR (created_at = ")
            .push_bind(t)
            .push(format!(" AND id {after} "))
            .push_bind(id)
            .push("))");
    }
    sql.push(format!(" ORDER BY created_at DESC, id {order} LIMIT "))
        .push_bind(limit as i64 + 1);
    let rows = sql.build().fetch_all(pool).await.map_err(storage_error)?;
    let mut items = Vec::with_capacity(rows.len().min(limit));
    let mut last = None;
    for row in rows.iter().take(limit) {
        items.push(item(row)?);
        let keys = row_len(row);
        let created: DateTime<Utc> = col(row, keys - 2)?;
        let id: Uuid = col(row, keys - 1)?;
        last = Some([time_key(created), id.to_string()]);
    }
    let next_cursor = if rows.len() > limit {
        last.map(|k| cursor::encode(kind, &k))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

fn row_len(row: &PgRow) -> usize {
    use sqlx::Row;
    row.len()
}
