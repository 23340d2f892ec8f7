//! Every storage port of `commerce-core` on PostgreSQL (sqlx), for shops that run several
//! server processes on one database.
//!
//! Map of the crate:
//! - [`PgStore`]: the store; one pool on the primary, and an optional one on a read replica
//!   that public catalog reads may use ([`PgOptions::read_url`]).
//! - [`schema`]: the embedded migrations, applied at open under an advisory lock.
//! - [`changes`]: one `LISTEN` connection per process. It moves the catalog and settings
//!   generations when another process changes them (so caches built on them stay right
//!   across processes), and is the [`PgEventBus`]: domain events published by one process
//!   reach subscribers in all of them.
//! - [`temporary`]: throwaway databases cloned from a migrated template, for tests.
//! - one module per aggregate: catalog (products, categories, reviews), carts, orders,
//!   payments, users (with tokens), promotions, settings, idempotency keys, login attempts,
//!   webhooks (the outbox, endpoints and deliveries).
//!
//! Semantics are those of the SQLite adapter, checked by the same conformance kit: money is
//! `numeric`, times `timestamptz`, optimistic versions are checked in each `UPDATE`'s
//! `WHERE`, listings are keyset pages, and `place_order` is one transaction that takes
//! stock with a guarded `UPDATE ... WHERE inventory_count >= $n`, locking rows in id order.
//! A deadlock or serialization failure is retried a few times, never reported as such.
//!
//! Opening a shop on PostgreSQL (compiled here, not run: it needs a server; see
//! [`PgStore::open_temporary`] for one that runs wherever a database is):
//!
//! ```no_run
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use commerce_core::Commerce;
//! use commerce_sqlx::{PgOptions, PgStore};
//!
//! let store = PgStore::open("postgres://shop@localhost/shop", PgOptions::default()).await?;
//! let shop = Commerce::builder(Arc::new(store.clone()))
//!     // Events published by one server process reach subscribers in all of them.
//!     .events(store.event_bus())
//!     .build();
//! # drop(shop);
//! # Ok::<(), commerce_sqlx::OpenError>(())
//! # }).unwrap();
//! ```

#![warn(missing_docs)]
// docs.rs marks each item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod audit;
mod carts;
mod catalog;
pub mod changes;
mod connections;
mod errors;
mod gathered;
mod idempotency;
mod login_attempts;
mod orders;
mod page;
mod payments;
mod promotions;
pub mod schema;
mod settings;
mod social;
mod stock_alerts;
pub mod temporary;
mod webhooks;
mod wishlists;

pub(crate) use errors::{storage_error, Retryable};
pub(crate) use webhooks::{stock_now, tell, tell_stock, units_of};
mod users;

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use commerce_core::ports::StorageError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};

pub use changes::PgEventBus;

/// Why a database could not be opened. Each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL cannot be read as a PostgreSQL connection URL.
    #[error("{url} is not a PostgreSQL URL: {reason}")]
    BadUrl {
        /// The URL, its password hidden.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No connection could be made (the server down, a wrong host, port or credentials).
    #[error("cannot reach PostgreSQL at {url}: {reason}")]
    Unreachable {
        /// The URL, its password hidden.
        url: String,
        /// What the driver said.
        reason: String,
    },
    /// A newer build wrote the schema: run that build, or restore a backup. Nothing is
    /// touched.
    #[error("the database at {url} was written by a newer version of commerce (schema {found}, this build knows up to {known}); upgrade commerce or use a backup")]
    NewerSchema {
        /// The URL, its password hidden.
        url: String,
        /// The schema version in the database.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// An applied migration's checksum differs from this build's: the database was made by
    /// another build of the schema. Nothing is touched.
    #[error("migration {version} of the database at {url} differs from this build's ({reason}); released migrations are never edited, so this database was made by another build")]
    EditedMigration {
        /// The URL, its password hidden.
        url: String,
        /// The migration that differs.
        version: i64,
        /// How it differs.
        reason: String,
    },
    /// A migration failed and was rolled back whole.
    #[error("migrating the database at {url} to schema {version} failed, nothing of it was applied: {reason}")]
    Migration {
        /// The URL, its password hidden.
        url: String,
        /// The migration that failed.
        version: i64,
        /// What PostgreSQL said.
        reason: String,
    },
}

/// How the store uses PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections to the primary at most. Four more are kept: one for `LISTEN`, and the
    /// connections of the three writers that gather small writes into one statement (new
    /// payments, new carts, cart updates), each opened with its first write.
    pub max_connections: u32,
    /// How long a query waits for a free connection (or for a new one to open) before the
    /// request is answered as unavailable rather than left hanging.
    pub acquire_timeout: Duration,
    /// A streaming replica for public catalog reads (listings, the category tree, reviews).
    /// Right after any catalog change those reads go to the primary until the replica has
    /// replayed it, so no one reads their own change as missing and nothing stale is cached.
    pub read_url: Option<String>,
    /// Connections to the replica at most.
    pub read_max_connections: u32,
    /// How often a deadlock or serialization failure is retried before it is reported as
    /// unavailable storage.
    pub retries: u32,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
            read_url: None,
            read_max_connections: 8,
            retries: 5,
        }
    }
}

/// All storage ports on one PostgreSQL database. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    /// The hot paths' connections, kept between statements without sqlx's ping.
    kept: connections::KeptConnections,
    /// New payments, written together (see `gathered`).
    new_payments: gathered::Gathered<payments::NewPayments>,
    /// New carts and cart updates, saved together (see `gathered`).
    new_carts: gathered::Gathered<carts::NewCarts>,
    cart_updates: gathered::Gathered<carts::CartUpdates>,
    replica: Option<PgPool>,
    changes: Arc<changes::Changes>,
    /// Small lists read on nearly every cart write and checkout, kept while their generation
    /// (moved by any process's change) stays the same.
    categories: Kept<commerce_core::catalog::Category>,
    tax_rates: Kept<commerce_core::tax::TaxRate>,
    shipping_methods: Kept<commerce_core::shipping::ShippingMethod>,
    retries: u32,
    /// Drops a temporary database when the last handle goes.
    _temporary: Option<temporary::DropOnLast>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.changes.stop();
    }
}

/// Parses a URL into connect options named `commerce` in `pg_stat_activity`; without TLS to
/// a server on this machine unless the URL or `PGSSLMODE` asks for a mode
/// ([`plain_on_loopback`]).
pub(crate) fn connect_options(url: &str) -> Result<PgConnectOptions, OpenError> {
    PgConnectOptions::from_str(url)
        .map(|o| {
            let o = o.application_name("commerce");
            if plain_on_loopback(url, &o, std::env::var_os("PGSSLMODE").is_some()) {
                o.ssl_mode(PgSslMode::Disable)
            } else {
                o
            }
        })
        .map_err(|e| OpenError::BadUrl {
            url: redact(url),
            reason: e.to_string(),
        })
}

/// Whether to talk to the server without TLS: it is on this machine (a loopback address or
/// `localhost`) and no TLS mode was asked for, neither in the URL (`sslmode`) nor in the
/// environment. sqlx, like libpq, takes TLS whenever the server offers it (`prefer`), and
/// on loopback that protects nothing (the bytes never leave the kernel) while costing the
/// server about 8 % of its instructions per order and PostgreSQL the same work again. A URL
/// that names a mode keeps it; a server that accepts only TLS is connected to with TLS
/// ([`PgStore::open`] retries so when refused).
fn plain_on_loopback(url: &str, options: &PgConnectOptions, mode_in_environment: bool) -> bool {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let mode_in_url = query.split('&').any(|pair| {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        key == "sslmode" || key == "ssl-mode"
    });
    if mode_in_url || mode_in_environment || options.get_socket().is_some() {
        return false;
    }
    let host = options.get_host();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A first connection with `options`, to see that the server answers; when it refuses a
/// connection without TLS that [`plain_on_loopback`] chose (its `pg_hba.conf` has only
/// `hostssl` lines for this address), the same with TLS when offered, as sqlx would have
/// connected. Answers the options that worked.
async fn connect_first(
    url: &str,
    options: PgConnectOptions,
) -> Result<PgConnectOptions, sqlx::Error> {
    use sqlx::Connection;
    let first = sqlx::PgConnection::connect_with(&options).await;
    let (connection, options) = match first {
        Err(sqlx::Error::Database(e))
            // invalid_authorization_specification: no pg_hba.conf line lets it in.
            if e.code().as_deref() == Some("28000")
                && matches!(options.get_ssl_mode(), PgSslMode::Disable)
                && plain_on_loopback(url, &options, std::env::var_os("PGSSLMODE").is_some()) =>
        {
            let options = options.ssl_mode(PgSslMode::Prefer);
            (sqlx::PgConnection::connect_with(&options).await?, options)
        }
        first => (first?, options),
    };
    connection.close().await?;
    Ok(options)
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn pool_options(max: u32, options: &PgOptions) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max.max(1))
        .min_connections(0)
        .acquire_timeout(options.acquire_timeout)
        // A ping per acquire is a round trip per query; a broken connection is found by
        // the query itself (answered as unavailable) and dropped when it goes back.
        .test_before_acquire(false)
        .idle_timeout(Some(Duration::from_secs(300)))
}

impl PgStore {
    /// Connects to `url`, brings the schema up to date (under an advisory lock, so several
    /// processes starting at once do not race) and starts listening for other processes'
    /// changes. An unreachable database is an error here, not at the first request.
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use std::time::Duration;
    /// use commerce_sqlx::{PgOptions, PgStore};
    ///
    /// let options = PgOptions { max_connections: 16, acquire_timeout: Duration::from_secs(2), ..Default::default() };
    /// let store = match PgStore::open("postgres://shop@db.internal/shop", options).await {
    ///     Ok(store) => store,
    ///     // The error says what to do: which host did not answer, which migration failed
    ///     // (the password in the URL is never shown).
    ///     Err(e) => return eprintln!("cannot open the shop's database: {e}"),
    /// };
    /// # drop(store);
    /// # });
    /// ```
    pub async fn open(url: &str, options: PgOptions) -> Result<PgStore, OpenError> {
        Self::open_inner(url, options, None).await
    }

    async fn open_inner(
        url: &str,
        options: PgOptions,
        temporary: Option<temporary::DropOnLast>,
    ) -> Result<PgStore, OpenError> {
        let connect = connect_options(url)?;
        let unreachable = |e: sqlx::Error| OpenError::Unreachable {
            url: redact(url),
            reason: e.to_string(),
        };
        // One plain connection first: the pool would only say that it timed out, this says why
        // (refused, unknown host, bad password, no such database).
        let connect = connect_first(url, connect).await.map_err(unreachable)?;
        // Names this process in what its connections notify, so it can skip its own.
        let origin = uuid::Uuid::new_v4();
        let pool = pool_options(options.max_connections, &options)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute(sqlx::AssertSqlSafe(format!(
                        "SET commerce.origin = '{}'",
                        origin.simple()
                    )))
                    .await
                    .map(|_| ())
                })
            })
            .connect_with(connect)
            .await
            .map_err(unreachable)?;
        schema::migrate(&pool, url).await?;
        let replica = match &options.read_url {
            Some(read_url) => {
                let unreachable = |e: sqlx::Error| OpenError::Unreachable {
                    url: redact(read_url),
                    reason: e.to_string(),
                };
                let read = connect_first(read_url, connect_options(read_url)?)
                    .await
                    .map_err(unreachable)?;
                Some(
                    pool_options(options.read_max_connections, &options)
                        .connect_with(read)
                        .await
                        .map_err(unreachable)?,
                )
            }
            None => None,
        };
        let changes = changes::Changes::start(pool.clone(), origin, replica.is_some())
            .await
            .map_err(unreachable)?;
        Ok(PgStore {
            inner: Arc::new(Inner {
                kept: connections::KeptConnections::new(pool.clone()),
                new_payments: gathered::Gathered::start(&pool, origin),
                new_carts: gathered::Gathered::start(&pool, origin),
                cart_updates: gathered::Gathered::start(&pool, origin),
                pool,
                replica,
                changes,
                categories: Kept::default(),
                tax_rates: Kept::default(),
                shipping_methods: Kept::default(),
                retries: options.retries,
                _temporary: temporary,
            }),
        })
    }

    /// The primary's pool, for embedders' own queries. Other processes learn of catalog or
    /// settings changes made through it, but this one does not (its own notifications are
    /// skipped, since its writes through the ports count at once): change those through the
    /// ports.
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// A connection for a hot path's statement, kept afterwards for the next one when the
    /// statement's result is given to [`Lease::settle`](connections::Lease::settle).
    pub(crate) async fn lease(&self) -> Result<connections::Lease<'_>, StorageError> {
        self.inner.kept.lease().await.map_err(storage_error)
    }

    /// The event bus on `LISTEN/NOTIFY`: what one process publishes reaches subscribers in
    /// every process on this database. Give it to `Commerce::builder(..).events(..)`.
    pub fn event_bus(&self) -> Arc<PgEventBus> {
        Arc::new(PgEventBus::new(self.inner.changes.clone()))
    }

    /// Where a public catalog read goes: the replica unless a catalog change it may not have
    /// replayed yet is pending.
    pub(crate) async fn catalog_reader(&self) -> &PgPool {
        match &self.inner.replica {
            Some(replica) if self.inner.changes.replica_is_current(replica).await => replica,
            _ => &self.inner.pool,
        }
    }

    /// Called after every write that may change what the public catalog shows.
    pub(crate) fn catalog_changed(&self) {
        self.inner.changes.catalog_changed_here();
    }

    /// Called after every write of settings, tax rates or shipping methods.
    pub(crate) fn settings_changed(&self) {
        self.inner.changes.settings_changed_here();
    }

    /// Runs `op` (a whole transaction), again when PostgreSQL aborted it as a deadlock
    /// victim or for a serialization failure, a bounded number of times with a short,
    /// growing, jittered pause. Any other error is returned at once.
    pub(crate) async fn retrying<T, E, F, Fut>(&self, mut op: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Retryable,
    {
        let mut attempt = 0u32;
        loop {
            match op().await {
                Err(e) if e.is_transient() && attempt < self.inner.retries => {
                    attempt += 1;
                    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0] % 8);
                    tokio::time::sleep(Duration::from_millis(u64::from(attempt) * 5 + jitter))
                        .await;
                }
                Err(e) if e.is_transient() => return Err(e.exhausted()),
                other => return other,
            }
        }
    }
}

/// A list as read at a generation.
pub(crate) struct Kept<T>(std::sync::Mutex<Option<(u64, Arc<Vec<T>>)>>);

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Self(std::sync::Mutex::new(None))
    }
}

impl<T: Clone> Kept<T> {
    /// The list kept at `generation`, else `read`'s (kept when the generation is known).
    /// The generation is taken before reading, so what is kept is at least that new.
    pub(crate) async fn get_or_read<F, Fut>(
        &self,
        generation: Option<u64>,
        read: F,
    ) -> Result<Vec<T>, StorageError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<T>, StorageError>>,
    {
        if let Some(g) = generation {
            if let Ok(kept) = self.0.lock() {
                if let Some((at, list)) = kept.as_ref() {
                    if *at == g {
                        return Ok(list.as_ref().clone());
                    }
                }
            }
        }
        let list = read().await?;
        if let (Some(g), Ok(mut kept)) = (generation, self.0.lock()) {
            if kept.as_ref().is_none_or(|(at, _)| *at <= g) {
                *kept = Some((g, Arc::new(list.clone())));
            }
        }
        Ok(list)
    }
}

/// An UPDATE or DELETE by id that changed no row means there was no such row.
pub(crate) fn found(changed: u64) -> Result<(), StorageError> {
    if changed == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}

/// A stored count as the domain's u32; a negative or huge one is corrupt data.
pub(crate) fn count(n: i64) -> Result<u32, StorageError> {
    u32::try_from(n).map_err(|_| StorageError::Corrupt(format!("count {n} out of range")))
}

/// A stored version as the domain's u64.
pub(crate) fn version(n: i64) -> Result<u64, StorageError> {
    u64::try_from(n).map_err(|_| StorageError::Corrupt(format!("version {n} out of range")))
}

/// A version for SQL; versions start at 1 and only grow, so this fits.
pub(crate) fn sql_version(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A value for a `jsonb` column: its JSON text, bound as it is.
pub(crate) type StoredJson = sqlx::types::Json<Box<serde_json::value::RawValue>>;

/// JSON for a `jsonb` column, written straight from the value. Through a `serde_json::Value`
/// (built, written out, dropped) an order's JSON cost the server a fifth of its instructions
/// per order (callgrind, 2026-12-07).
pub(crate) fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<StoredJson, StorageError> {
    serde_json::value::to_raw_value(value)
        .map(sqlx::types::Json)
        .map_err(|e| StorageError::Corrupt(format!("cannot encode: {e}")))
}

/// A value read from a `jsonb` column.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, StorageError> {
    serde_json::from_value(value)
        .map_err(|e| StorageError::Corrupt(format!("stored JSON cannot be read: {e}")))
}

/// A stored amount as money in `currency`; off its scale is corrupt data.
pub(crate) fn money_in(
    amount: rust_decimal::Decimal,
    currency: commerce_core::money::Currency,
) -> Result<commerce_core::money::Money, StorageError> {
    commerce_core::money::Money::new(amount, currency)
        .map_err(|e| StorageError::Corrupt(format!("a stored amount: {e}")))
}

/// A stored currency code; one this build does not know is corrupt data.
pub(crate) fn currency_of(code: &str) -> Result<commerce_core::money::Currency, StorageError> {
    commerce_core::money::Currency::from_code(code)
        .map_err(|e| StorageError::Corrupt(format!("a stored currency: {e}")))
}

/// Reads column `index` of a row as `T`, a decoding failure being corrupt data.
pub(crate) fn col<'r, T>(row: &'r sqlx::postgres::PgRow, index: usize) -> Result<T, StorageError>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    use sqlx::Row;
    row.try_get(index).map_err(storage_error)
}

/// A `jsonb` column read straight into `T`, with no `serde_json::Value` built and dropped
/// between for each cart, order or product read.
pub(crate) fn json_col<T: serde::de::DeserializeOwned>(
    row: &sqlx::postgres::PgRow,
    index: usize,
) -> Result<T, StorageError> {
    col::<sqlx::types::Json<T>>(row, index).map(|j| j.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_without_their_password() {
        assert_eq!(
            redact("postgres://shop:s3cret@db.internal:5432/shop"),
            "postgres://shop:***@db.internal:5432/shop"
        );
        assert_eq!(redact("postgres://db/shop"), "postgres://db/shop");
        assert_eq!(redact("postgres://shop@db/shop"), "postgres://shop@db/shop");
    }

    fn plain(url: &str, mode_in_environment: bool) -> bool {
        let options = PgConnectOptions::from_str(url).unwrap();
        plain_on_loopback(url, &options, mode_in_environment)
    }

    #[test]
    fn a_server_on_this_machine_is_talked_to_without_tls_unless_a_mode_is_asked_for() {
        for url in [
            "postgres://shop@127.0.0.1/shop",
            "postgres://shop@127.0.0.2:5433/shop",
            "postgres://shop@localhost/shop?application_name=x",
            "postgres://shop@LOCALHOST/shop",
            "postgres://shop@[::1]:5432/shop",
        ] {
            assert!(plain(url, false), "{url}");
            assert!(!plain(url, true), "{url}: PGSSLMODE is set");
        }
        for url in [
            "postgres://shop@127.0.0.1/shop?sslmode=prefer",
            "postgres://shop@127.0.0.1/shop?application_name=x&sslmode=require",
            "postgres://shop@localhost/shop?ssl-mode=verify-full",
            "postgres://shop@db.internal/shop",
            "postgres://shop@10.0.0.5/shop",
            "postgres://shop@[2001:db8::1]/shop",
            "postgres:///shop?host=/var/run/postgresql",
        ] {
            assert!(!plain(url, false), "{url}");
        }
        if std::env::var_os("PGSSLMODE").is_none() {
            let mode = |url| connect_options(url).unwrap().get_ssl_mode();
            assert!(matches!(
                mode("postgres://shop@127.0.0.1/shop"),
                PgSslMode::Disable
            ));
            assert!(matches!(
                mode("postgres://shop@db.internal/shop"),
                PgSslMode::Prefer
            ));
            assert!(matches!(
                mode("postgres://shop@127.0.0.1/shop?sslmode=require"),
                PgSslMode::Require
            ));
        }
    }
}
