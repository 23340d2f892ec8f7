//! The schema, embedded in the crate and applied at open: versioned, forward only, each
//! migration in its own transaction and recorded (with a checksum) in `schema_migrations`.
//! A session advisory lock makes processes that start at once take turns, so each migration
//! runs once. A database made by a newer build is refused rather than misread, and one whose
//! recorded migration differs from this build's is refused too.

use sha2::{Digest, Sha256};
use sqlx::postgres::PgPool;
use sqlx::{Connection, Row};

use crate::{redact, OpenError};

/// Every migration, in order. Append only: a released migration is never edited.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (
        2,
        "product_currency",
        include_str!("../migrations/0002_product_currency.sql"),
    ),
    (
        3,
        "housekeeping",
        include_str!("../migrations/0003_housekeeping.sql"),
    ),
    (4, "money", include_str!("../migrations/0004_money.sql")),
    (
        5,
        "webhooks",
        include_str!("../migrations/0005_webhooks.sql"),
    ),
    (
        6,
        "audit_log",
        include_str!("../migrations/0006_audit_log.sql"),
    ),
    (
        7,
        "variant_thresholds",
        include_str!("../migrations/0007_variant_thresholds.sql"),
    ),
    (
        8,
        "manager_role",
        include_str!("../migrations/0008_manager_role.sql"),
    ),
    (
        9,
        "wishlists",
        include_str!("../migrations/0009_wishlists.sql"),
    ),
    (
        10,
        "social_sign_in",
        include_str!("../migrations/0010_social_sign_in.sql"),
    ),
    (
        11,
        "review_queue",
        include_str!("../migrations/0011_review_queue.sql"),
    ),
    (
        12,
        "place_order_in_one_call",
        include_str!("../migrations/0012_place_order_in_one_call.sql"),
    ),
    (
        13,
        "promotions_in_the_setup",
        include_str!("../migrations/0013_promotions_in_the_setup.sql"),
    ),
    (
        14,
        "stock_updates_in_place",
        include_str!("../migrations/0014_stock_updates_in_place.sql"),
    ),
    (
        15,
        "placement_planned_once",
        include_str!("../migrations/0015_placement_planned_once.sql"),
    ),
    (
        16,
        "carts_updated_in_place",
        include_str!("../migrations/0016_carts_updated_in_place.sql"),
    ),
    (
        17,
        "orders_without_waiting",
        include_str!("../migrations/0017_orders_without_waiting.sql"),
    ),
    (
        18,
        "carts_saved_together",
        include_str!("../migrations/0018_carts_saved_together.sql"),
    ),
    (
        19,
        "stock_rules_as_domains",
        include_str!("../migrations/0019_stock_rules_as_domains.sql"),
    ),
    (
        20,
        "order_lines_from_the_order",
        include_str!("../migrations/0020_order_lines_from_the_order.sql"),
    ),
];

/// The advisory lock key migrations run under ("commerce" in ASCII).
const MIGRATION_LOCK: i64 = 0x636f_6d6d_6572_6365;

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// The SHA-256 of a migration's text, as recorded.
pub fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One checksum of every migration: names this build's schema (test templates, bench data).
pub fn fingerprint() -> String {
    let all: String = MIGRATIONS.iter().map(|(_, _, sql)| checksum(sql)).collect();
    checksum(&all)
}

/// The version a database is at (0 for an empty one).
pub async fn current_version(pool: &PgPool) -> Result<i64, sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        .fetch_one(pool)
        .await
}

pub(crate) async fn migrate(pool: &PgPool, url: &str) -> Result<(), OpenError> {
    let url = redact(url);
    let failed = |version: i64| {
        let url = url.clone();
        move |e: sqlx::Error| OpenError::Migration {
            url,
            version,
            reason: e.to_string(),
        }
    };
    let mut conn = pool.acquire().await.map_err(failed(0))?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(failed(0))?;
    let outcome = migrate_locked(&mut conn, &url).await;
    // Dropping the connection would release the lock too, but the pool keeps it open.
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await;
    if unlocked.is_err() {
        conn.close_on_drop();
    }
    outcome
}

async fn migrate_locked(
    conn: &mut sqlx::pool::PoolConnection<sqlx::Postgres>,
    url: &str,
) -> Result<(), OpenError> {
    let failed = |version: i64| {
        move |e: sqlx::Error| OpenError::Migration {
            url: url.to_string(),
            version,
            reason: e.to_string(),
        }
    };
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version     bigint PRIMARY KEY,
             name        text NOT NULL,
             checksum    text NOT NULL,
             applied_at  timestamptz NOT NULL DEFAULT now()
         )",
    )
    .execute(&mut **conn)
    .await
    .map_err(failed(0))?;
    let applied = sqlx::query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        .fetch_all(&mut **conn)
        .await
        .map_err(failed(0))?;
    let known = latest_version();
    let mut found = 0;
    for row in &applied {
        let version: i64 = row.try_get(0).map_err(failed(0))?;
        let recorded: String = row.try_get(1).map_err(failed(version))?;
        found = found.max(version);
        if let Some((_, _, sql)) = MIGRATIONS.iter().find(|m| m.0 == version) {
            if recorded != checksum(sql) {
                return Err(OpenError::EditedMigration {
                    url: url.to_string(),
                    version,
                    reason: format!("checksum {recorded}, this build's {}", checksum(sql)),
                });
            }
        }
    }
    if found > known {
        return Err(OpenError::NewerSchema {
            url: url.to_string(),
            found,
            known,
        });
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > found) {
        let mut tx = conn.begin().await.map_err(failed(*version))?;
        sqlx::raw_sql(*sql)
            .execute(&mut *tx)
            .await
            .map_err(failed(*version))?;
        sqlx::query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)")
            .bind(version)
            .bind(name)
            .bind(checksum(sql))
            .execute(&mut *tx)
            .await
            .map_err(failed(*version))?;
        tx.commit().await.map_err(failed(*version))?;
    }
    Ok(())
}
