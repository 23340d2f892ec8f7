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
//! ```ignore
//! let store = Arc::new(commerce_sqlite::SqliteStore::open("data/commerce.db").await?);
//! let shop = commerce_core::Commerce::builder(store).build();
//! ```

mod carts;
mod catalog;
mod codec;
mod errors;
mod idempotency;
mod login_attempts;
mod orders;
mod payments;
mod promotions;
pub mod schema;
mod settings;
mod users;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use commerce_core::ports::StorageError;
use rusqlite::{Connection, ErrorCode, OpenFlags};

pub(crate) use errors::{storage_error, writing};

/// Why a database could not be opened. Each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("{path} is not a SQLite database (or it is corrupt): {reason}")]
    NotADatabase { path: PathBuf, reason: String },
    #[error("{path} was written by a newer version of commerce (schema {found}, this build knows up to {known}); upgrade commerce or use a backup")]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("migrating {path} to schema {version} failed, nothing was changed: {reason}")]
    Migration {
        path: PathBuf,
        version: i64,
        reason: String,
    },
}

/// How hard a commit waits for the disk (SQLite's `synchronous`, in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// Every commit is on the disk before it is acknowledged: an order the API answered 201
    /// for survives a power loss or a kernel crash. Costs an fsync per commit (shared by the
    /// writes that commit together).
    Full,
    /// Commits reach the operating system, and the disk at each checkpoint: a killed
    /// process loses nothing, but a power loss or kernel crash may lose the last commits
    /// (never corrupts the file). Faster where fsync is slow.
    Normal,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

impl std::str::FromStr for Synchronous {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Ok(Synchronous::Full),
            "normal" => Ok(Synchronous::Normal),
            other => Err(format!("synchronous is full or normal, not {other}")),
        }
    }
}

/// How the store uses SQLite.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Whether a commit waits for the disk [`Synchronous::Full`]: a shop acknowledges orders
    /// and payments, and they must outlive a power cut.
    pub synchronous: Synchronous,
    /// Reader connections (each keeps its own page cache, so keep it small).
    pub readers: usize,
    /// How long a connection waits for a lock held by another process before failing.
    pub busy_timeout: Duration,
    /// Page cache per connection, in KiB. Small on purpose: each connection has its own,
    /// and a reader's cache is reset whenever another connection writes, at a cost that
    /// grows with its size (2 MiB measured faster than 8 MiB on the storage bench).
    pub cache_kib: i64,
    /// A cap on the database size in pages (SQLite's `max_page_count`); past it, writes fail
    /// as they would on a full disk. `None`: no cap but the disk's.
    pub max_pages: Option<u64>,
    /// The longest the catalog generation (what the HTTP layer keeps encoded listings
    /// under) may miss a change that another process made to the same file: the counter is
    /// read from the file again once its last reading is this old. This store's own writes
    /// count at once, always. Reading it on every request took a read transaction (file
    /// locks, an fstat) per request; 1 ms makes that one in dozens at load, and no person
    /// can tell. Zero reads it every time.
    pub other_writers_seen_within: Duration,
    /// Called with the text of each SQL statement as it starts, on every connection
    /// (SQLite's trace hook): for logging or counting statements. Triggered statements are
    /// reported too, as `-- TRIGGER name`.
    pub on_statement: Option<fn(&str)>,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            readers: 4,
            busy_timeout: Duration::from_secs(5),
            cache_kib: 2 * 1024,
            max_pages: None,
            other_writers_seen_within: Duration::from_millis(1),
            on_statement: None,
        }
    }
}

/// A reading of the catalog generation from the file.
#[derive(Clone, Copy)]
struct GenerationSeen {
    generation: u64,
    /// `Inner::writes` just before it was read.
    writes: u64,
    /// Just before it was read.
    at: Instant,
}

/// All storage ports on one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

/// Listings kept at most; past it the cache starts again (queries are mostly the same few
/// pages, so a simple bound serves).
const MAX_CACHED_LISTINGS: usize = 512;

#[derive(Default)]
struct ListingCache {
    generation: i64,
    pages: std::collections::HashMap<
        String,
        Arc<commerce_core::ports::Page<commerce_core::catalog::Product>>,
    >,
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
    reader_returned: Condvar,
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
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, OpenError> {
        Self::open_with(path, SqliteOptions::default()).await
    }

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
                reader_returned: Condvar::new(),
                temporary,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// What a reading of the catalog generation taken now is compared against: the writes
    /// run here so far, and the time.
    pub(crate) fn generation_moment(&self) -> (u64, Instant) {
        (self.inner.writes.load(Ordering::Acquire), Instant::now())
    }

    /// The generation as last read from the file, if it still holds at `moment`: no write
    /// ran here since, and it is younger than `other_writers_seen_within`.
    pub(crate) fn generation_still_seen(&self, (writes, now): (u64, Instant)) -> Option<u64> {
        let seen = (*self.inner.generation_seen.read().ok()?)?;
        (seen.writes == writes
            && now.duration_since(seen.at) < self.inner.other_writers_seen_within)
            .then_some(seen.generation)
    }

    /// Remembers a reading of the file taken at `moment` (just before it was read).
    pub(crate) fn saw_generation(&self, generation: u64, (writes, at): (u64, Instant)) {
        if let Ok(mut seen) = self.inner.generation_seen.write() {
            *seen = Some(GenerationSeen {
                generation,
                writes,
                at,
            });
        }
    }

    pub(crate) fn cached_categories(
        &self,
        generation: i64,
    ) -> Option<Arc<Vec<commerce_core::catalog::Category>>> {
        lock(&self.inner.categories)
            .as_ref()
            .filter(|(g, _)| *g == generation)
            .map(|(_, c)| c.clone())
    }

    pub(crate) fn cache_categories(
        &self,
        generation: i64,
        categories: Arc<Vec<commerce_core::catalog::Category>>,
    ) {
        *lock(&self.inner.categories) = Some((generation, categories));
    }

    pub(crate) fn cached_listing(
        &self,
        generation: i64,
        key: &str,
    ) -> Option<Arc<commerce_core::ports::Page<commerce_core::catalog::Product>>> {
        let cache = lock(&self.inner.listings);
        (cache.generation == generation)
            .then(|| cache.pages.get(key).cloned())
            .flatten()
    }

    pub(crate) fn cache_listing(
        &self,
        generation: i64,
        key: String,
        page: Arc<commerce_core::ports::Page<commerce_core::catalog::Product>>,
    ) {
        let mut cache = lock(&self.inner.listings);
        // A page read at an older generation than the cache's is not kept; a newer one
        // starts a new cache.
        if generation < cache.generation {
            return;
        }
        if generation > cache.generation || cache.pages.len() >= MAX_CACHED_LISTINGS {
            cache.pages.clear();
            cache.generation = generation;
        }
        cache.pages.insert(key, page);
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

    /// Runs `f` on a reader connection without blocking the async runtime.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    {
        // A permit per reader connection: never more blocking reads in flight than there
        // are connections, so callers wait here, asynchronously, instead of piling up
        // threads that block on the pool.
        let _permit = self
            .inner
            .reader_permits
            .acquire()
            .await
            .map_err(|_| StorageError::Unavailable("the store is closed".into()))?;
        let inner = self.inner.clone();
        blocking(move || {
            let reader = ReaderGuard::take(&inner);
            match reader.conn.as_ref() {
                Some(conn) => f(conn),
                None => Err(StorageError::Unavailable("no reader connection".into())),
            }
        })
        .await
    }

    /// Runs a read of microseconds (a lookup by key, a cache check) on the async worker
    /// itself: handing the worker to another thread, as `read` does, costs more than such a
    /// read. Never for queries whose cost grows with the data.
    pub(crate) async fn read_inline<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        F: FnOnce(&Connection) -> Result<T, StorageError>,
    {
        let _permit = self
            .inner
            .reader_permits
            .acquire()
            .await
            .map_err(|_| StorageError::Unavailable("the store is closed".into()))?;
        // The permit guarantees a free connection, so this does not wait.
        let reader = ReaderGuard::take(&self.inner);
        match reader.conn.as_ref() {
            Some(conn) => f(conn),
            None => Err(StorageError::Unavailable("no reader connection".into())),
        }
    }

    /// Runs `f` on the writer connection, on the writer's thread: writes queue there, one at
    /// a time, which is how SQLite works anyway. Each write is atomic without a transaction
    /// of its own: the writer runs it inside `BEGIN IMMEDIATE` (alone, or in a savepoint of
    /// a group, see [`run_group`]) and undoes it whole if `f` returns an error. Each is
    /// answered once its commit is done.
    pub(crate) async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        self.queue_write(false, f).await
    }

    /// [`write`](Self::write) for an `f` that changes the file with one statement (it may
    /// read besides): with no other write queued, SQLite commits that statement by itself,
    /// which saves the `BEGIN` and `COMMIT` round trips.
    pub(crate) async fn write_one_statement<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        self.queue_write(true, f).await
    }

    async fn queue_write<T, E, F>(&self, one_statement: bool, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let (reply, answered) = tokio::sync::oneshot::channel();
        let writes = self.inner.writes.clone();
        let run = Box::new(move |conn: &mut Connection| {
            let done = f(conn);
            Ran {
                failed: done.is_err(),
                tell: Box::new(move |lost| {
                    // Counted before the caller hears of it, so its next read sees the write.
                    writes.fetch_add(1, Ordering::Release);
                    let answer = match (done, lost) {
                        (Err(e), _) => Err(e),
                        (Ok(_), Some(lost)) => Err(E::from(lost)),
                        (Ok(v), None) => Ok(v),
                    };
                    // A caller that gave up waiting does not undo the write; it just is not told.
                    let _ = reply.send(answer);
                }),
            }
        });
        let job = WriteJob { one_statement, run };
        let stopped = || StorageError::Unavailable("the database writer stopped".into());
        self.inner.writer.send(job).map_err(|_| stopped())?;
        // Dropped unanswered only if `f` panicked (the writer carries on with the next).
        answered.await.map_err(|_| E::from(stopped()))?
    }
}

/// A write, run on the writer's thread inside a savepoint of the group's transaction.
struct WriteJob {
    /// It changes the file with one statement, so alone it needs no transaction.
    one_statement: bool,
    run: Box<dyn FnOnce(&mut Connection) -> Ran + Send>,
}

/// A write that has run, not yet committed: whether it failed (its savepoint is then rolled
/// back), and how to answer its caller once the group's fate is known: `None` if committed,
/// or why the write was lost.
struct Ran {
    failed: bool,
    tell: Box<dyn FnOnce(Option<StorageError>) + Send>,
}

/// The most writes one transaction commits together.
const GROUP_MOST: usize = 64;

/// Runs queued writes in one transaction, each in a savepoint of its own: a failed write is
/// rolled back to its savepoint and leaves the others be. Under load most of a write's cost
/// is the pages it appends to the log (an order touches a dozen, shared with the next order:
/// stock rows, indexes, the catalog generation), so one commit for many writes costs little
/// more than one for one. Nobody is told of success before the commit.
fn run_group(conn: &mut Connection, jobs: Vec<WriteJob>) {
    if jobs.len() == 1 {
        for job in jobs {
            run_one(conn, job);
        }
        return;
    }
    let mut jobs = jobs.into_iter();
    let mut committing: Vec<Box<dyn FnOnce(Option<StorageError>) + Send>> = Vec::new();
    if conn.execute_batch("BEGIN IMMEDIATE").is_err() {
        // Cannot open the group (the file locked by another process past the busy timeout):
        // each write runs alone and meets the error itself.
        for job in jobs {
            run_alone(conn, job);
        }
        return;
    }
    while let Some(job) = jobs.next() {
        let _ = conn.execute_batch("SAVEPOINT write");
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.run)(conn)));
        match ran {
            Ok(ran) if !ran.failed => committing.push(ran.tell),
            failed => {
                let _ = conn.execute_batch("ROLLBACK TO write");
                // A panicked write's caller is told by its answer channel closing.
                if let Ok(ran) = failed {
                    (ran.tell)(None);
                }
            }
        }
        let _ = conn.execute_batch("RELEASE write");
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (a full disk, an I/O error): what the
            // group wrote is gone; the rest starts over on its own.
            for tell in committing.drain(..) {
                tell(Some(StorageError::Unavailable(
                    "the database could not keep the write (rolled back)".into(),
                )));
            }
            for job in jobs {
                run_alone(conn, job);
            }
            return;
        }
    }
    let lost = conn.execute_batch("COMMIT").err().map(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        storage_error(e)
    });
    for tell in committing {
        tell(lost.clone());
    }
}

/// A write with none queued behind it: its own `BEGIN IMMEDIATE` transaction, committed or
/// rolled back whole.
fn run_one(conn: &mut Connection, job: WriteJob) {
    if job.one_statement && conn.is_autocommit() {
        // SQLite runs the statement in a transaction of its own and commits it, or undoes
        // it and `f` returns the error.
        if let Ok(ran) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.run)(conn)))
        {
            (ran.tell)(None);
        }
        return;
    }
    if conn.execute_batch("BEGIN IMMEDIATE").is_err() {
        return run_alone(conn, job);
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.run)(conn))) {
        Ok(ran) if !ran.failed => {
            let lost = conn.execute_batch("COMMIT").err().map(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                storage_error(e)
            });
            (ran.tell)(lost);
        }
        failed => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            if let Ok(ran) = failed {
                (ran.tell)(None);
            }
        }
    }
}

/// One write in a transaction of its own (its savepoint, outside any transaction).
fn run_alone(conn: &mut Connection, job: WriteJob) {
    let _ = conn.execute_batch("SAVEPOINT write");
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.run)(conn))) {
        Ok(ran) if !ran.failed => {
            let lost = conn.execute_batch("RELEASE write").err().map(storage_error);
            if lost.is_some() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            (ran.tell)(lost);
        }
        failed => {
            let _ = conn.execute_batch("ROLLBACK TO write; RELEASE write");
            if let Ok(ran) = failed {
                (ran.tell)(None);
            }
        }
    }
}

/// Starts the writer's thread, which owns the writer connection until the store is dropped
/// (its queue's last sender gone), and the checkpointer's thread beside it.
fn spawn_writer(
    mut conn: Connection,
    path: &Path,
    options: &SqliteOptions,
) -> Result<std::sync::mpsc::Sender<WriteJob>, OpenError> {
    let cannot_start = |what: &str, e: String| OpenError::Io {
        path: path.to_path_buf(),
        reason: format!("cannot start the {what}: {e}"),
    };
    // Checkpoints copy the log into the database and wait for the disk (fsync): run by the
    // writer, as SQLite does by default, every write queued behind one waits too. So the
    // writer only nudges the checkpointer, which runs them on its own connection. SQLite's
    // own checkpoint stays as a backstop, far out, should the checkpointer fall behind.
    let checkpointer = connect(path, options)?;
    conn.execute_batch(&format!(
        "PRAGMA wal_autocheckpoint = {}",
        CHECKPOINT_BACKSTOP_PAGES
    ))
    .map_err(|e| cannot_start("writer", e.to_string()))?;
    let (nudge, nudged) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || run_checkpoints(checkpointer, nudged))
        .map_err(|e| cannot_start("checkpointer thread", e.to_string()))?;
    let (jobs, queue) = std::sync::mpsc::channel::<WriteJob>();
    std::thread::Builder::new()
        .name("sqlite-writer".into())
        .spawn(move || {
            while let Ok(first) = queue.recv() {
                let mut group = vec![first];
                while group.len() < GROUP_MOST {
                    match queue.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                run_group(&mut conn, group);
                // Full means a nudge is already waiting.
                let _ = nudge.try_send(());
            }
        })
        .map_err(|e| cannot_start("writer thread", e.to_string()))?;
    Ok(jobs)
}

/// The log size (in pages) at which the writer checkpoints by itself, should the
/// checkpointer not have: 16 times SQLite's default.
const CHECKPOINT_BACKSTOP_PAGES: u32 = 16_000;

/// How long the checkpointer lets writes gather after a nudge, so that under load one
/// checkpoint covers several of them. Short, because a checkpoint's cost grows with the
/// pages it copies and the writes committed meanwhile wait on it: under the write bench
/// (64 connections), 50 ms gave checkout a p99 of 51-62 ms, 10 ms 30-34 ms, 5 ms 28-31 ms
/// and 2 ms 26-28 ms, at the same throughput. 5 ms is at most 200 checkpoints a second.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(5);

/// Checkpoints after writes, until the writer is gone. `PASSIVE` never blocks the writer or
/// readers: it copies what no reader still needs, and the log starts over once all of it is.
fn run_checkpoints(conn: Connection, nudged: std::sync::mpsc::Receiver<()>) {
    while nudged.recv().is_ok() {
        std::thread::sleep(CHECKPOINT_EVERY);
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "SQLite checkpoint failed; the writer's backstop will run it");
        }
    }
}

/// Runs blocking database work from async code. On a multi-threaded runtime it runs in place
/// with `block_in_place`, which first hands this worker's other tasks to another thread, so
/// nothing else waits and the caller skips a thread round trip; on a current-thread runtime
/// it goes to the blocking pool; outside any runtime it just runs.
async fn blocking<T, E, F>(f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StorageError> + Send + 'static,
    F: FnOnce() -> Result<T, E> + Send + 'static,
{
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        Ok(_) => tokio::task::spawn_blocking(f).await.map_err(|e| {
            E::from(StorageError::Unavailable(format!(
                "storage task failed: {e}"
            )))
        })?,
        Err(_) => f(),
    }
}

/// A poisoned lock only means another call panicked mid-way; SQLite rolled its transaction
/// back, so the connection is still sound.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A reader connection borrowed from the pool and given back when dropped (even on panic).
struct ReaderGuard<'a> {
    inner: &'a Inner,
    conn: Option<Connection>,
}

impl<'a> ReaderGuard<'a> {
    fn take(inner: &'a Inner) -> Self {
        let mut readers = lock(&inner.readers);
        loop {
            if let Some(conn) = readers.pop() {
                return Self {
                    inner,
                    conn: Some(conn),
                };
            }
            readers = inner
                .reader_returned
                .wait(readers)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for ReaderGuard<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            lock(&self.inner.readers).push(conn);
            self.inner.reader_returned.notify_one();
        }
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
