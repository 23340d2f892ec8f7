//! SQLite's errors in the port's terms, in one table: which unique rule a constraint is
//! (by table and columns, as SQLite's message names them), which reference a foreign key
//! is (by the table written: SQLite does not say which key failed, and each table here holds
//! at most one), and which failures are worth retrying.

use commerce_core::ports::{Reference, StorageError, UniqueRule};
use rusqlite::ErrorCode;

/// The unique rule a constraint on `table`'s `columns` stands for (primary keys aside).
fn unique_rule(table: &str, columns: &[&str]) -> Option<UniqueRule> {
    Some(match (table, columns) {
        ("products", ["slug"]) => UniqueRule::ProductSlug,
        ("categories", ["slug"]) => UniqueRule::CategorySlug,
        ("product_variants", ["product_id", "sku"]) => UniqueRule::VariantSku,
        ("reviews", ["product_id", "user_id"]) => UniqueRule::OneReviewPerCustomer,
        ("users", ["email"]) => UniqueRule::UserEmail,
        ("carts", ["customer_id"]) => UniqueRule::OneCartPerCustomer,
        ("carts", ["guest_token_hash"]) => UniqueRule::GuestCartToken,
        ("orders", ["number"]) => UniqueRule::OrderNumber,
        ("payments", ["provider", "provider_reference"]) => UniqueRule::PaymentReference,
        ("promotions", ["code"]) => UniqueRule::PromotionCode,
        ("tax_rates", ["country", "region"]) => UniqueRule::TaxRateRegion,
        ("user_identities", ["issuer", "subject"]) => UniqueRule::ProviderIdentity,
        // Ids beside the sequence that orders them.
        ("webhook_deliveries", ["id"]) | ("audit_log", ["id"]) => UniqueRule::RecordId,
        _ => return None,
    })
}

/// The one reference a row of `table` makes to another, for a failed foreign key.
fn reference_of(table: &str) -> Option<Reference> {
    Some(match table {
        "products" => Reference::Category,
        "categories" => Reference::ParentCategory,
        "product_variants" | "reviews" | "stock_alerts" => Reference::Product,
        "addresses" | "one_time_tokens" | "refresh_tokens" | "wishlist_items"
        | "user_identities" | "sign_in_flows" => Reference::User,
        "payments" | "order_lines" => Reference::Order,
        _ => return None,
    })
}

/// "UNIQUE constraint failed: payments.provider, payments.provider_reference" → the table and
/// its columns.
fn constrained_columns(message: &str) -> Option<(&str, Vec<&str>)> {
    let list = message.strip_prefix("UNIQUE constraint failed: ")?;
    let mut table = None;
    let mut columns = Vec::new();
    for qualified in list.split(", ") {
        let (t, column) = qualified.split_once('.')?;
        if *table.get_or_insert(t) != t {
            return None;
        }
        columns.push(column);
    }
    Some((table?, columns))
}

/// For a write to `table`: a failed foreign key is that table's reference.
pub(crate) fn writing(table: &'static str) -> impl Fn(rusqlite::Error) -> StorageError {
    move |e| match reference_of(table) {
        Some(reference) if is_foreign_key(&e) => StorageError::MissingReference(reference),
        _ => storage_error(e),
    }
}

fn is_foreign_key(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

/// Maps SQLite's errors to the port's: a unique constraint becomes `Duplicate` with its
/// rule; a foreign key `MissingReference` where the write says which table it was
/// ([`writing`]); a full disk or a lock held too long `Unavailable`.
pub(crate) fn storage_error(e: rusqlite::Error) -> StorageError {
    if let rusqlite::Error::SqliteFailure(failure, message) = &e {
        let message = message.as_deref().unwrap_or_default();
        match failure.extended_code {
            rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                return StorageError::Duplicate(UniqueRule::RecordId)
            }
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
                return match constrained_columns(message)
                    .and_then(|(table, columns)| unique_rule(table, &columns))
                {
                    Some(rule) => StorageError::Duplicate(rule),
                    // A rowid table's `id TEXT PRIMARY KEY` is a unique index to SQLite.
                    None if message.ends_with(".id") => {
                        StorageError::Duplicate(UniqueRule::RecordId)
                    }
                    None => StorageError::Corrupt(format!(
                        "a unique rule this build does not know: {message}"
                    )),
                };
            }
            rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                return StorageError::Corrupt(format!(
                    "a foreign key failed in a write that names no table: {message}"
                ))
            }
            rusqlite::ffi::SQLITE_CONSTRAINT_CHECK => {
                return StorageError::Corrupt(format!("a check failed: {message}"))
            }
            _ => {}
        }
        return match failure.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                StorageError::Unavailable("the database is locked by another process".into())
            }
            ErrorCode::DiskFull => StorageError::Unavailable("the disk is full".into()),
            ErrorCode::ReadOnly
            | ErrorCode::CannotOpen
            | ErrorCode::SystemIoFailure
            | ErrorCode::PermissionDenied => {
                StorageError::Unavailable(format!("the database cannot be written: {e}"))
            }
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                StorageError::Corrupt(e.to_string())
            }
            _ => StorageError::Unavailable(e.to_string()),
        };
    }
    match e {
        rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
            StorageError::Corrupt(e.to_string())
        }
        other => StorageError::Unavailable(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    /// Foreign keys that no write can break, because the rows they point to are read in the
    /// same transaction that writes them (a delivery is made from the endpoint and the event the
    /// dispatch just read): kept for integrity and for `ON DELETE CASCADE`, mapped to no reference.
    const KEYS_NO_WRITE_BREAKS: [(&str, &str); 2] = [
        ("webhook_deliveries", "endpoint_id"),
        ("webhook_deliveries", "event_seq"),
    ];

    fn migrated() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        crate::schema::migrate(&mut conn, std::path::Path::new(":memory:")).unwrap();
        conn
    }

    fn tables(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .unwrap();
        let names = stmt.query_map([], |r| r.get(0)).unwrap();
        names.collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn every_unique_index_of_the_schema_is_a_rule() {
        let conn = migrated();
        let mut seen = Vec::new();
        for table in tables(&conn) {
            let mut list = conn
                .prepare(&format!("PRAGMA index_list(\"{table}\")"))
                .unwrap();
            let indexes: Vec<(String, bool, String)> = list
                .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            for (index, unique, origin) in indexes {
                if !unique || origin == "pk" {
                    continue;
                }
                let mut info = conn
                    .prepare(&format!("PRAGMA index_info(\"{index}\")"))
                    .unwrap();
                let columns: Vec<String> = info
                    .query_map([], |r| r.get(2))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
                let rule = unique_rule(&table, &columns)
                    .unwrap_or_else(|| panic!("{table}({columns:?}) maps to no unique rule"));
                seen.push(rule);
            }
        }
        for rule in UniqueRule::ALL {
            assert!(
                rule == UniqueRule::RecordId || seen.contains(&rule),
                "{rule:?} has no index in the schema"
            );
        }
    }

    #[test]
    fn every_foreign_key_of_the_schema_is_a_reference() {
        let conn = migrated();
        for table in tables(&conn) {
            let mut list = conn
                .prepare(&format!("PRAGMA foreign_key_list(\"{table}\")"))
                .unwrap();
            let columns: Vec<String> = list
                .query_map([], |r| r.get(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            for column in columns {
                if KEYS_NO_WRITE_BREAKS.contains(&(table.as_str(), column.as_str())) {
                    continue;
                }
                let reference = reference_of(&table)
                    .unwrap_or_else(|| panic!("{table}.{column} maps to no reference"));
                assert_eq!(reference.field(), column, "{table}.{column}");
            }
        }
    }

    #[test]
    fn the_failures_sqlite_reports_name_their_rule() {
        let conn = migrated();
        conn.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY); INSERT INTO t VALUES ('a');")
            .unwrap();
        let twice = conn.execute("INSERT INTO t VALUES ('a')", []).unwrap_err();
        assert_eq!(
            storage_error(twice),
            StorageError::Duplicate(UniqueRule::RecordId)
        );
        assert_eq!(
            constrained_columns(
                "UNIQUE constraint failed: payments.provider, payments.provider_reference"
            ),
            Some(("payments", vec!["provider", "provider_reference"]))
        );
        assert_eq!(
            constrained_columns("UNIQUE constraint failed: index 'x'"),
            None
        );
        let orphan = conn
            .execute(
                "INSERT INTO addresses (id, user_id, label, address, is_default, created_at) VALUES ('a', 'nobody', '', '{}', 0, '')",
                [],
            )
            .unwrap_err();
        assert_eq!(
            writing("addresses")(orphan),
            StorageError::MissingReference(Reference::User)
        );
    }
}
