//! Conversions between domain values and SQLite columns. A value that cannot be read back
//! (a hand-edited row) surfaces as `StorageError::Corrupt`, never a panic.

use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use commerce_core::money::{Currency, Money};
use commerce_core::ports::StorageError;
use rusqlite::types::Type;
use rusqlite::Row;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

/// RFC 3339 in UTC with microseconds: fixed width, so it sorts as text.
pub fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Prices × 10^4 as an integer, for exact comparisons and sorting in SQL.
pub fn amount_key(d: Decimal) -> i64 {
    let scaled = d * Decimal::from(10_000);
    i64::try_from(scaled.trunc()).unwrap_or(if d.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}

pub fn json<T: Serialize>(value: &T) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|e| StorageError::Corrupt(format!("cannot encode: {e}")))
}

fn bad(index: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e))
}

/// Typed reads inside row closures; a malformed value becomes a conversion error, which
/// `storage_error` reports as corrupt data.
pub trait RowExt {
    fn id<T: From<Uuid>>(&self, index: usize) -> rusqlite::Result<T>;
    fn opt_id<T: From<Uuid>>(&self, index: usize) -> rusqlite::Result<Option<T>>;
    fn time(&self, index: usize) -> rusqlite::Result<DateTime<Utc>>;
    fn opt_time(&self, index: usize) -> rusqlite::Result<Option<DateTime<Utc>>>;
    fn decimal(&self, index: usize) -> rusqlite::Result<Decimal>;
    fn opt_decimal(&self, index: usize) -> rusqlite::Result<Option<Decimal>>;
    /// An amount and, in another column, its currency's code.
    fn money(&self, amount: usize, currency: usize) -> rusqlite::Result<Money>;
    /// An amount, if set, in a currency known from elsewhere (a variant's product's).
    fn opt_money(&self, amount: usize, currency: Currency) -> rusqlite::Result<Option<Money>>;
    fn json<T: DeserializeOwned>(&self, index: usize) -> rusqlite::Result<T>;
    fn count(&self, index: usize) -> rusqlite::Result<u32>;
}

impl RowExt for Row<'_> {
    fn id<T: From<Uuid>>(&self, index: usize) -> rusqlite::Result<T> {
        let text: String = self.get(index)?;
        Uuid::parse_str(&text)
            .map(T::from)
            .map_err(|e| bad(index, e))
    }

    fn opt_id<T: From<Uuid>>(&self, index: usize) -> rusqlite::Result<Option<T>> {
        let text: Option<String> = self.get(index)?;
        text.map(|t| Uuid::parse_str(&t).map(T::from).map_err(|e| bad(index, e)))
            .transpose()
    }

    fn time(&self, index: usize) -> rusqlite::Result<DateTime<Utc>> {
        let text: String = self.get(index)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| bad(index, e))
    }

    fn opt_time(&self, index: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
        let text: Option<String> = self.get(index)?;
        text.map(|t| {
            DateTime::parse_from_rfc3339(&t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| bad(index, e))
        })
        .transpose()
    }

    fn decimal(&self, index: usize) -> rusqlite::Result<Decimal> {
        let text: String = self.get(index)?;
        Decimal::from_str(&text).map_err(|e| bad(index, e))
    }

    fn opt_decimal(&self, index: usize) -> rusqlite::Result<Option<Decimal>> {
        let text: Option<String> = self.get(index)?;
        text.map(|t| Decimal::from_str(&t).map_err(|e| bad(index, e)))
            .transpose()
    }

    fn money(&self, amount: usize, currency: usize) -> rusqlite::Result<Money> {
        let code: String = self.get(currency)?;
        let currency = Currency::from_code(&code).map_err(|e| bad(currency, e))?;
        Money::new(self.decimal(amount)?, currency).map_err(|e| bad(amount, e))
    }

    fn opt_money(&self, amount: usize, currency: Currency) -> rusqlite::Result<Option<Money>> {
        self.opt_decimal(amount)?
            .map(|a| Money::new(a, currency).map_err(|e| bad(amount, e)))
            .transpose()
    }

    fn json<T: DeserializeOwned>(&self, index: usize) -> rusqlite::Result<T> {
        let text: String = self.get(index)?;
        serde_json::from_str(&text).map_err(|e| bad(index, e))
    }

    fn count(&self, index: usize) -> rusqlite::Result<u32> {
        let n: i64 = self.get(index)?;
        u32::try_from(n).map_err(|e| bad(index, e))
    }
}

pub use commerce_core::cursor::{decode as decode_cursor, encode as encode_cursor};

/// What a newest-first listing reads: `SELECT {columns} {from}`, where `from` ends in a WHERE
/// clause the keyset condition can extend.
pub struct NewestFirst<'a> {
    /// Names the listing inside its cursors, so a cursor of another listing is refused.
    pub kind: &'a str,
    pub columns: &'a str,
    pub from: &'a str,
    /// Ties on `created_at` go by id descending instead of ascending.
    pub ids_descending: bool,
}

/// A keyset page, newest first: seeks straight to the cursor (the leading `created_at <= ?`
/// is what lets SQLite use the index), reads one row more than asked to know whether another
/// page follows, and hands out the cursor of the last row.
pub fn newest_first_page<T>(
    conn: &rusqlite::Connection,
    listing: NewestFirst<'_>,
    mut args: Vec<rusqlite::types::Value>,
    page: &commerce_core::ports::PageRequest,
    item: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<commerce_core::ports::Page<T>, StorageError> {
    use rusqlite::types::Value;
    let limit = page.effective_limit();
    let (after, order) = if listing.ids_descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let mut sql = format!(
        "SELECT {}, created_at, id {}",
        listing.columns, listing.from
    );
    if let Some(c) = &page.cursor {
        let v = decode_cursor(listing.kind, c, 2)?;
        sql.push_str(&format!(
            " AND created_at <= ? AND (created_at < ? OR (created_at = ? AND id {after} ?))"
        ));
        args.extend([
            Value::Text(v[0].clone()),
            Value::Text(v[0].clone()),
            Value::Text(v[0].clone()),
            Value::Text(v[1].clone()),
        ]);
    }
    sql.push_str(&format!(" ORDER BY created_at DESC, id {order} LIMIT ?"));
    args.push(Value::Integer(limit as i64 + 1));
    let mut stmt = conn.prepare_cached(&sql).map_err(crate::storage_error)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            let keys = r.as_ref().column_count();
            Ok((
                item(r)?,
                r.get::<_, String>(keys - 2)?,
                r.get::<_, String>(keys - 1)?,
            ))
        })
        .map_err(crate::storage_error)?;
    let mut items = Vec::with_capacity(limit + 1);
    let mut last_keys = None;
    for row in rows {
        let (value, created, id) = row.map_err(crate::storage_error)?;
        if items.len() == limit {
            // The extra row only says that another page follows.
            return Ok(commerce_core::ports::Page {
                items,
                next_cursor: last_keys.map(|k: [String; 2]| encode_cursor(listing.kind, &k)),
            });
        }
        items.push(value);
        last_keys = Some([created, id]);
    }
    Ok(commerce_core::ports::Page {
        items,
        next_cursor: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_sort_as_text() {
        let a = time_text(
            DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
                .unwrap()
                .with_timezone(&Utc),
        );
        assert_eq!(a, "2026-01-02T03:04:05.000000Z");
        assert_eq!(amount_key(Decimal::new(1999, 2)), 199_900);
    }
}
