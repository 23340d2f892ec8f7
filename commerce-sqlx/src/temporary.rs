//! Throwaway databases for tests, as crates.io's test suite makes them: the schema is
//! migrated once into a template database, and each test gets `CREATE DATABASE ... TEMPLATE`
//! of it (a file copy, milliseconds), so tests are isolated and run in parallel. Each is
//! dropped when its store's last handle goes; ones left by a killed run are swept later.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::{Connection, Executor};

use crate::{connect_options, redact, schema, OpenError, PgOptions, PgStore};

/// Names every database this module makes.
const PREFIX: &str = "commerce_test_";

/// Test databases older than this are from a run that died: dropped when seen.
const ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// Serialises template creation across test processes ("template" in ASCII).
const TEMPLATE_LOCK: i64 = 0x7465_6d70_6c61_7465;

/// The template of this build's schema: its name carries the migrations' checksum, so a new
/// migration makes a new template and an old one is never reused for it.
fn template_name() -> String {
    format!("commerce_template_{}", &schema::fingerprint()[..16])
}

fn unreachable(url: &str) -> impl Fn(sqlx::Error) -> OpenError + '_ {
    move |e| OpenError::Unreachable {
        url: redact(url),
        reason: e.to_string(),
    }
}

/// Connections the server accepts from tests of this process, shared by its temporary
/// stores: each takes what its pool may open (plus listening and this module's own) before
/// it opens, and gives it back when dropped, so parallel tests wait for one another instead
/// of finding the server full.
static BUDGET: OnceLock<(Arc<Semaphore>, u32)> = OnceLock::new();

/// Connections left for other clients of the server (psql, other test processes).
const SPARE_CONNECTIONS: u32 = 12;

/// The budget, and how many connections it holds in all.
async fn connection_budget(conn: &mut PgConnection) -> (Arc<Semaphore>, u32) {
    if let Some(budget) = BUDGET.get() {
        return budget.clone();
    }
    let allowed: u32 = sqlx::query_scalar::<_, String>("SHOW max_connections")
        .fetch_one(&mut *conn)
        .await
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let reserved: u32 = sqlx::query_scalar::<_, String>("SHOW superuser_reserved_connections")
        .fetch_one(&mut *conn)
        .await
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let budget = allowed.saturating_sub(reserved + SPARE_CONNECTIONS).max(8);
    BUDGET
        .get_or_init(|| (Arc::new(Semaphore::new(budget as usize)), budget))
        .clone()
}

/// A database of its own with this build's schema, on a server the tests share; dropped
/// when this (or the store it was opened as) goes.
pub struct TemporaryDatabase {
    url: String,
    guard: DropOnLast,
}

impl TemporaryDatabase {
    /// Makes one on the server `url` points at (the database it names is only used to create
    /// and drop others). Waits while other temporary databases of this process hold the
    /// connections the server allows, `connections` being what this one will use.
    pub async fn create(url: &str, connections: u32) -> Result<TemporaryDatabase, OpenError> {
        Self::make(url, connections, true).await
    }

    /// Like [`create`](Self::create), but empty: no schema at all, as a new shop's database
    /// is before its first start.
    pub async fn empty(url: &str, connections: u32) -> Result<TemporaryDatabase, OpenError> {
        Self::make(url, connections, false).await
    }

    async fn make(
        url: &str,
        connections: u32,
        with_schema: bool,
    ) -> Result<TemporaryDatabase, OpenError> {
        let admin = connect_options(url)?;
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .map_err(unreachable(url))?;
        let (budget, total) = connection_budget(&mut conn).await;
        // A database wanting more than the whole budget runs alone.
        let permit = budget
            .acquire_many_owned((connections + 1).min(total))
            .await
            .map_err(|_| OpenError::Unreachable {
                url: redact(url),
                reason: "the test connection budget is closed".into(),
            })?;
        let template = if with_schema {
            let template = template_name();
            ensure_template(&mut conn, &admin, &template, url).await?;
            template
        } else {
            "template0".to_string()
        };
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let name = format!(
            "{PREFIX}{created}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        conn.execute(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
        )))
        .await
        .map_err(unreachable(url))?;
        let _ = conn.close().await;
        Ok(TemporaryDatabase {
            url: with_database(url, &name),
            guard: DropOnLast {
                admin,
                name,
                _permit: permit,
            },
        })
    }

    /// Its URL, for other processes (servers under test) to open.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl PgStore {
    /// A store on a new temporary database (see [`TemporaryDatabase`]), dropped when the
    /// store's last handle goes: for tests.
    ///
    /// Runs against the database `COMMERCE_TEST_DATABASE_URL` names, as this workspace's
    /// PostgreSQL tests do (and does nothing without it):
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use commerce_core::{account::Role, Commerce};
    /// use commerce_sqlx::{PgOptions, PgStore};
    ///
    /// let Ok(url) = std::env::var("COMMERCE_TEST_DATABASE_URL") else { return Ok(()) };
    /// let store = PgStore::open_temporary(&url, PgOptions::default()).await?;
    /// let shop = Commerce::builder(Arc::new(store.clone())).events(store.event_bus()).build();
    /// let admin = shop.accounts().create_user("admin@shop.test", "a-long-password", "Admin", Role::Admin, true).await?;
    /// assert_eq!(admin.role, Role::Admin);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn open_temporary(url: &str, options: PgOptions) -> Result<PgStore, OpenError> {
        // The pools, the listener and the three writers.
        let replica = if options.read_url.is_some() {
            options.read_max_connections
        } else {
            0
        };
        let database =
            TemporaryDatabase::create(url, options.max_connections + replica + 4).await?;
        Self::open_inner(&database.url.clone(), options, Some(database.guard)).await
    }
}

/// `url` naming `database` instead of its own.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// Makes the template once (under an advisory lock, so parallel test binaries wait for one
/// another), and sweeps databases of test runs that died.
async fn ensure_template(
    conn: &mut PgConnection,
    admin: &PgConnectOptions,
    template: &str,
    url: &str,
) -> Result<(), OpenError> {
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(unreachable(url))?;
    let made = make_template(conn, admin, template, url).await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut *conn)
        .await;
    made
}

async fn make_template(
    conn: &mut PgConnection,
    admin: &PgConnectOptions,
    template: &str,
    url: &str,
) -> Result<(), OpenError> {
    sweep_abandoned(conn, template).await;
    // Complete templates are marked as templates; anything else is a half-made one.
    let state: Option<bool> =
        sqlx::query_scalar("SELECT datistemplate FROM pg_database WHERE datname = $1")
            .bind(template)
            .fetch_optional(&mut *conn)
            .await
            .map_err(unreachable(url))?;
    match state {
        Some(true) => return Ok(()),
        Some(false) => {
            conn.execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{template}\" WITH (FORCE)"
            )))
            .await
            .map_err(unreachable(url))?;
        }
        None => {}
    }
    conn.execute(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{template}\""
    )))
    .await
    .map_err(unreachable(url))?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(admin.clone().database(template))
        .await
        .map_err(unreachable(url))?;
    let migrated = schema::migrate(&pool, url).await;
    pool.close().await;
    migrated?;
    conn.execute(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{template}\" WITH IS_TEMPLATE true"
    )))
    .await
    .map_err(unreachable(url))?;
    Ok(())
}

/// Drops test databases older than an hour (their run was killed before it could), and
/// templates of other schemas (older builds).
async fn sweep_abandoned(conn: &mut PgConnection, template: &str) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let templates: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE starts_with(datname, 'commerce_template_') AND datname <> $1",
    )
    .bind(template)
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    for old in templates {
        let _ = conn
            .execute(sqlx::AssertSqlSafe(format!(
                "ALTER DATABASE \"{old}\" WITH IS_TEMPLATE false"
            )))
            .await;
        let _ = conn
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{old}\" WITH (FORCE)"
            )))
            .await;
    }
    let names: Vec<String> =
        match sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind(PREFIX)
            .fetch_all(&mut *conn)
            .await
        {
            Ok(n) => n,
            Err(_) => return,
        };
    for name in names {
        let created = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|c| now.saturating_sub(c) > ABANDONED_AFTER.as_secs()) {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .await;
        }
    }
}

/// Drops a temporary database when dropped: on a thread of its own, since drop cannot wait
/// on the async runtime it may be running on.
pub(crate) struct DropOnLast {
    admin: PgConnectOptions,
    name: String,
    /// Given back to the budget after the database is dropped.
    _permit: OwnedSemaphorePermit,
}

impl Drop for DropOnLast {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
                    // FORCE ends the pool's and the listener's connections still closing.
                    let _ = conn
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        )))
                        .await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_another_database() {
        assert_eq!(
            with_database("postgres://u:p@127.0.0.1:5432/test", "x"),
            "postgres://u:p@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://127.0.0.1/test?sslmode=disable", "x"),
            "postgres://127.0.0.1/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://127.0.0.1", "x"),
            "postgres://127.0.0.1/x"
        );
    }
}
