//! How a database is opened: the options, and why an open failed.

use super::*;

/// Why a database could not be opened. Each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file or its directory cannot be opened or made (permissions, a missing parent, a
    /// full disk): fix the path or its rights.
    #[error("cannot open {path}: {reason}")]
    Io {
        /// The database file.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// The file is not a SQLite database, or is damaged: restore a backup.
    #[error("{path} is not a SQLite database (or it is corrupt): {reason}")]
    NotADatabase {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        reason: String,
    },
    /// A newer build wrote the schema: run that build, or restore a backup. Nothing is
    /// touched.
    #[error("{path} was written by a newer version of commerce (schema {found}, this build knows up to {known}); upgrade commerce or use a backup")]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// The schema version in the file.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A migration failed and was rolled back whole: the file is as it was.
    #[error("migrating {path} to schema {version} failed, nothing was changed: {reason}")]
    Migration {
        /// The database file.
        path: PathBuf,
        /// The migration that failed.
        version: i64,
        /// What SQLite said.
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
    pub(crate) fn pragma(self) -> &'static str {
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
