//! The shop's storage: SQLite (the default) or PostgreSQL, as the settings say.

use std::sync::Arc;

use commerce::postgres::{PgOptions, PgStore};
use commerce::service::CommerceBuilder;
use commerce::sqlite::{SqliteOptions, SqliteStore, Synchronous};
use commerce::Commerce;

use crate::config::Database;

/// A shop's builder over the configured database; an unreachable one is an error here.
pub(crate) async fn storage(
    database: &Database,
    synchronous: Synchronous,
) -> Result<CommerceBuilder, Box<dyn std::error::Error>> {
    Ok(match database {
        Database::Sqlite(path) => {
            let options = SqliteOptions {
                synchronous,
                ..SqliteOptions::default()
            };
            Commerce::builder(Arc::new(SqliteStore::open_with(path, options).await?))
        }
        Database::Postgres {
            url,
            read_url,
            pool,
        } => {
            let options = PgOptions {
                max_connections: *pool,
                read_url: read_url.clone(),
                ..PgOptions::default()
            };
            let store = PgStore::open(url, options).await?;
            // Events cross processes, so each server's subscribers see every server's orders.
            Commerce::builder(Arc::new(store.clone())).events(store.event_bus())
        }
    })
}
