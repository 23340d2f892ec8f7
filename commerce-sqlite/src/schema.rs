//! The schema, embedded in the crate and applied on open: versioned, forward only, each
//! migration in its own transaction and recorded in `schema_migrations`. A database made by
//! an older version upgrades in place; one made by a newer version is refused with a clear
//! error rather than misread.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use crate::OpenError;

/// Every migration, in order. Append only: a released migration is never edited.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (
        2,
        "catalog_generation",
        include_str!("../migrations/0002_catalog_generation.sql"),
    ),
    (
        3,
        "idempotency_keys",
        include_str!("../migrations/0003_idempotency_keys.sql"),
    ),
    (
        4,
        "product_generation",
        include_str!("../migrations/0004_product_generation.sql"),
    ),
    (
        5,
        "login_failures",
        include_str!("../migrations/0005_login_failures.sql"),
    ),
    (
        6,
        "client_rates",
        include_str!("../migrations/0006_client_rates.sql"),
    ),
    (
        7,
        "product_currency",
        include_str!("../migrations/0007_product_currency.sql"),
    ),
    (
        8,
        "housekeeping",
        include_str!("../migrations/0008_housekeeping.sql"),
    ),
    (9, "money", include_str!("../migrations/0009_money.sql")),
    (
        10,
        "webhooks",
        include_str!("../migrations/0010_webhooks.sql"),
    ),
    (
        11,
        "audit_log",
        include_str!("../migrations/0011_audit_log.sql"),
    ),
    (
        12,
        "variant_thresholds",
        include_str!("../migrations/0012_variant_thresholds.sql"),
    ),
    (
        13,
        "manager_role",
        include_str!("../migrations/0013_manager_role.sql"),
    ),
    (
        14,
        "wishlists",
        include_str!("../migrations/0014_wishlists.sql"),
    ),
    (
        15,
        "social_sign_in",
        include_str!("../migrations/0015_social_sign_in.sql"),
    ),
    (
        16,
        "review_queue",
        include_str!("../migrations/0016_review_queue.sql"),
    ),
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// The version a database is at (0 for a new file).
pub fn current_version(conn: &Connection) -> rusqlite::Result<i64> {
    let has_table: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if has_table.is_none() {
        return Ok(0);
    }
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )
}

pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), OpenError> {
    let failed = |version: i64, e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            OpenError::NotADatabase {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        }
        _ => OpenError::Migration {
            path: path.to_path_buf(),
            version,
            reason: e.to_string(),
        },
    };
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             applied_at TEXT NOT NULL
         )",
    )
    .map_err(|e| failed(0, e))?;
    let found = current_version(conn).map_err(|e| failed(0, e))?;
    let known = latest_version();
    if found > known {
        return Err(OpenError::NewerSchema {
            path: path.to_path_buf(),
            found,
            known,
        });
    }
    let pending: Vec<_> = MIGRATIONS.iter().filter(|m| m.0 > found).collect();
    if pending.is_empty() {
        return Ok(());
    }
    // A migration that makes a table again (SQLite cannot change a constraint in place) must
    // not have foreign keys act while the old table is dropped: they are off while
    // migrations run (a pragma that only works outside a transaction), checked before each
    // commit, and back as they were after.
    let enforced: bool = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .map_err(|e| failed(0, e))?;
    conn.execute_batch("PRAGMA foreign_keys = OFF")
        .map_err(|e| failed(0, e))?;
    let migrated = run_migrations(conn, &pending, &failed);
    if enforced {
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .map_err(|e| failed(0, e))?;
    }
    migrated
}

/// Each migration in its own transaction, its foreign keys checked before it commits.
fn run_migrations(
    conn: &mut Connection,
    pending: &[&(i64, &str, &str)],
    failed: &dyn Fn(i64, rusqlite::Error) -> OpenError,
) -> Result<(), OpenError> {
    for (version, name, sql) in pending.iter().copied() {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| failed(*version, e))?;
        tx.execute_batch(sql).map_err(|e| failed(*version, e))?;
        let broken: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()
            .map_err(|e| failed(*version, e))?;
        if let Some(table) = broken {
            return Err(failed(
                *version,
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                    Some(format!(
                        "a row of {table} refers to nothing after the migration"
                    )),
                ),
            ));
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![version, name, crate::codec::time_text(chrono::Utc::now())],
        )
        .map_err(|e| failed(*version, e))?;
        tx.commit().map_err(|e| failed(*version, e))?;
    }
    Ok(())
}
