//! Every storage port of `commerce-core` on SQLite: the embedded default.
//!
//! - One file, created on first open; WAL mode, `synchronous=FULL` (see [`Synchronous`]), a busy timeout, foreign
//!   keys on. The schema is embedded and migrated forward on open ([`schema`]).
//! - One writer connection on a thread of its own (SQLite has one writer anyway; queuing
//!   writes in-process avoids busy waits). Writes that queue up meanwhile commit together:
//!   one `BEGIN IMMEDIATE` transaction, a savepoint each, a failed one undone alone, nobody
//!   answered before `COMMIT`. A checkpointer thread runs SQLite's checkpoints beside it.
//! - A small pool of readers: lookups of microseconds run on the async worker; longer
//!   queries with `block_in_place` on a multi-threaded runtime (the worker's other tasks move
//!   to another thread first, so the runtime never stalls), on the blocking pool on a
//!   current-thread runtime.
//! - Checkout's `place_order` is one atomic write; stock is taken with a guarded
//!   `UPDATE ... WHERE inventory_count >= ? RETURNING ...`; optimistic versions are checked
//!   in the UPDATE's WHERE clause; listings use keyset pagination.
//!
//! Map of the crate: here the store, its connections and opening; `options` ([`SqliteOptions`],
//! [`Synchronous`], [`OpenError`]); `writer` (the writer thread, grouped commits,
//! checkpoints); `readers` (the reader pool); `caches` (the catalog generation, categories
//! and listings kept under it); `errors` (SQLite's errors as the port's, in one table);
//! `codec` (column conversions); [`schema`] (migrations); one module per port: `catalog`,
//! `carts`, `orders`, `payments`, `users`, `promotions`, `settings`, `idempotency`,
//! `login_attempts`, `webhooks` (the outbox, endpoints and deliveries).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use commerce_core::{Commerce, Currency};
//! use commerce_sqlite::SqliteStore;
//!
//! # let dir = std::env::temp_dir().join(format!("commerce-doc-{}", uuid::Uuid::new_v4().simple()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let path = dir.join("commerce.db");
//! // `path` is where the shop lives, such as "data/commerce.db".
//! let store = Arc::new(SqliteStore::open(&path).await?);
//! let shop = Commerce::builder(store).test_payments().build();
//! shop.admin().initialise_store("Corner Shop", Currency::EUR).await?;
//! assert_eq!(shop.settings().await?.currency, Currency::EUR);
//! # drop(shop);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

#![warn(missing_docs)]
// docs.rs marks each item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod audit;
mod caches;
mod carts;
mod catalog;
mod codec;
mod errors;
mod idempotency;
mod login_attempts;
mod options;
mod orders;
mod payments;
mod promotions;
mod readers;
pub mod schema;
mod settings;
mod social;
mod stock_alerts;
mod users;
mod webhooks;
mod wishlists;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use commerce_core::ports::StorageError;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use caches::{GenerationSeen, ListingCache};
pub(crate) use errors::{storage_error, writing};
pub use options::{OpenError, SqliteOptions, Synchronous};
use readers::lock;
pub(crate) use webhooks::{stock_now, tell, tell_stock, units_of, Told};
use writer::{spawn_writer, WriteJob};

/// All storage ports on one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// The category list and the generation it was read at (see migration 0002).
    categories: Mutex<Option<(i64, Arc<Vec<commerce_core::catalog::Category>>)>>,
    /// Product listings by query, and the product generation they were read at (see
    /// migration 0004); emptied when the generation moves.
    listings: Mutex<ListingCache>,
    /// The writer connection lives on its own thread, which runs the queued writes one after
    /// another: async callers wait for their answer without holding a thread, and under load
    /// the thread goes from one write to the next without sleeping.
    writer: std::sync::mpsc::Sender<WriteJob>,
    /// Writes run on the writer (committed or not), counted so that the catalog generation
    /// is read from the file again after any of them.
    writes: Arc<AtomicU64>,
    /// The catalog generation as last read from the file.
    generation_seen: RwLock<Option<GenerationSeen>>,
    other_writers_seen_within: Duration,
    readers: Mutex<Vec<Connection>>,
    reader_permits: tokio::sync::Semaphore,
    /// Removes a temporary database's files when the last handle goes.
    temporary: bool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.temporary {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = self.path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

fn connect(path: &Path, options: &SqliteOptions) -> Result<Connection, OpenError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(|e| OpenError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let classify = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => {
            OpenError::NotADatabase {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        }
        _ => OpenError::Io {
            path: path.to_path_buf(),
            reason: e.to_string(),
        },
    };
    conn.busy_timeout(options.busy_timeout).map_err(classify)?;
    // journal_mode answers with a row; the others are plain settings. Reading the header here
    // is also what reveals a file that is not a database.
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .map_err(classify)?;
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {}; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{};",
        options.synchronous.pragma(),
        options.cache_kib.max(64)
    ))
    .map_err(classify)?;
    conn.set_prepared_statement_cache_capacity(64);
    if let Some(hook) = options.on_statement {
        // trace_v2 takes no argument to carry the caller's function; the older hook does.
        #[allow(deprecated)]
        conn.trace(Some(hook));
    }
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// What was written is there when the file is opened again:
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use commerce_core::{account::Role, Commerce};
    /// use commerce_sqlite::SqliteStore;
    ///
    /// # let dir = std::env::temp_dir().join(format!("commerce-doc-{}", uuid::Uuid::new_v4().simple()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let path = dir.join("commerce.db");
    /// let shop = Commerce::builder(Arc::new(SqliteStore::open(&path).await?)).build();
    /// shop.accounts().create_user("admin@shop.test", "a-long-password", "Admin", Role::Admin, true).await?;
    /// drop(shop);
    ///
    /// let shop = Commerce::builder(Arc::new(SqliteStore::open(&path).await?)).build();
    /// let taken = shop.accounts().register("admin@shop.test", "another-password", "Eve").await;
    /// assert_eq!(taken.unwrap_err().code(), "email_taken");
    /// # drop(shop);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, OpenError> {
        Self::open_with(path, SqliteOptions::default()).await
    }

    /// As [`open`](Self::open), with the pool size, durability and other
    /// [`SqliteOptions`]. Fails with an [`OpenError`] that says what to do, never on a half
    /// migrated file: each migration is one transaction.
    pub async fn open_with(
        path: impl AsRef<Path>,
        options: SqliteOptions,
    ) -> Result<SqliteStore, OpenError> {
        let path = path.as_ref().to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(path, options, false))
            .await
            .map_err(|e| OpenError::Io {
                path: PathBuf::new(),
                reason: e.to_string(),
            })?
    }

    /// A fresh database in the system's temporary directory, deleted when the last handle is
    /// dropped: for tests.
    pub async fn open_temporary() -> Result<SqliteStore, OpenError> {
        let path =
            std::env::temp_dir().join(format!("commerce-{}.db", uuid::Uuid::new_v4().simple()));
        tokio::task::spawn_blocking(move || {
            Self::open_blocking(path, SqliteOptions::default(), true)
        })
        .await
        .map_err(|e| OpenError::Io {
            path: PathBuf::new(),
            reason: e.to_string(),
        })?
    }

    fn open_blocking(
        path: PathBuf,
        options: SqliteOptions,
        temporary: bool,
    ) -> Result<SqliteStore, OpenError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| OpenError::Io {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        }
        let mut writer = connect(&path, &options)?;
        schema::migrate(&mut writer, &path)?;
        if let Some(pages) = options.max_pages {
            writer
                .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
                .map_err(|e| OpenError::Io {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
        }
        let readers = (0..options.readers.max(1))
            .map(|_| connect(&path, &options))
            .collect::<Result<Vec<_>, _>>()?;
        let writer = spawn_writer(writer, &path, &options)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                categories: Mutex::new(None),
                listings: Mutex::new(ListingCache::default()),
                writer,
                writes: Arc::new(AtomicU64::new(0)),
                generation_seen: RwLock::new(None),
                other_writers_seen_within: options.other_writers_seen_within,
                reader_permits: tokio::sync::Semaphore::new(readers.len()),
                readers: Mutex::new(readers),
                temporary,
            }),
        })
    }

    /// The database file (for a temporary store, where it was made).
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// How hard this store's commits wait for the disk, as SQLite reports it: what the
    /// server's banner shows.
    pub async fn synchronous(&self) -> Result<Synchronous, StorageError> {
        let level: i64 = self
            .read(|conn| {
                conn.query_row("PRAGMA synchronous", [], |row| row.get(0))
                    .map_err(|e| StorageError::Unavailable(e.to_string()))
            })
            .await?;
        // SQLite's numbers: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA; only the first two are weaker.
        Ok(if level >= 2 {
            Synchronous::Full
        } else {
            Synchronous::Normal
        })
    }
}

/// An UPDATE or DELETE by id that changed no row means there was no such row.
pub(crate) fn found(changed: usize) -> Result<(), StorageError> {
    if changed == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}
