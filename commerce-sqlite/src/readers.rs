//! Reads: a small pool of reader connections, used without blocking the async runtime.

use super::*;

impl SqliteStore {
    /// Runs `f` on a reader connection without blocking the async runtime.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    {
        // A permit per reader connection: never more blocking reads in flight than there
        // are connections, so callers wait here, asynchronously, instead of piling up
        // threads that block on the pool.
        self.inner
            .reader_permits
            .acquire()
            .await
            .map_err(|_| StorageError::Unavailable("the store is closed".into()))?
            .forget();
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
        self.inner
            .reader_permits
            .acquire()
            .await
            .map_err(|_| StorageError::Unavailable("the store is closed".into()))?
            .forget();
        let reader = ReaderGuard::take(&self.inner);
        match reader.conn.as_ref() {
            Some(conn) => f(conn),
            None => Err(StorageError::Unavailable("no reader connection".into())),
        }
    }
}

/// Runs blocking database work from async code. On a multi-threaded runtime it runs in place
/// with `block_in_place`, which first hands this worker's other tasks to another thread, so
/// nothing else waits and the caller skips a thread round trip; on a current-thread runtime
/// it goes to the blocking pool; outside any runtime it just runs.
pub(crate) async fn blocking<T, E, F>(f: F) -> Result<T, E>
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
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A reader connection borrowed from the pool, taken with a reader permit (forgotten by the
/// caller), and given back with its permit when dropped (even on panic, and on a blocking
/// pool's thread after the read's future was dropped). Permits are as many as connections and
/// go back only with a connection, so the pool is never empty when one is taken: there is no
/// condition variable to wait on or to signal (signalling one was a futex system call on
/// every read).
pub(crate) struct ReaderGuard<'a> {
    inner: &'a Inner,
    conn: Option<Connection>,
}

impl<'a> ReaderGuard<'a> {
    fn take(inner: &'a Inner) -> Self {
        Self {
            inner,
            conn: lock(&inner.readers).pop(),
        }
    }
}

impl Drop for ReaderGuard<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            lock(&self.inner.readers).push(conn);
        }
        self.inner.reader_permits.add_permits(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn store_with_one_reader() -> (SqliteStore, PathBuf) {
        let path =
            std::env::temp_dir().join(format!("commerce-{}.db", uuid::Uuid::new_v4().simple()));
        let options = SqliteOptions {
            readers: 1,
            ..SqliteOptions::default()
        };
        (SqliteStore::open_with(&path, options).await.unwrap(), path)
    }

    fn remove(path: &Path) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }

    fn one(conn: &Connection) -> Result<i64, StorageError> {
        conn.query_row("SELECT 1", [], |r| r.get(0))
            .map_err(|e| StorageError::Unavailable(e.to_string()))
    }

    /// Fifty reads at once through one reader connection, on a current-thread runtime (the
    /// blocking pool's path): each waits its turn, none finds the pool empty.
    #[tokio::test(flavor = "current_thread")]
    async fn more_reads_than_readers_wait_their_turn() {
        let (store, path) = store_with_one_reader().await;
        let reads = (0..50).map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .read(|conn| {
                        std::thread::sleep(Duration::from_millis(1));
                        one(conn)
                    })
                    .await
            })
        });
        for read in reads.collect::<Vec<_>>() {
            assert_eq!(read.await.unwrap().unwrap(), 1);
        }
        assert_eq!(store.read_inline(one).await.unwrap(), 1);
        drop(store);
        remove(&path);
    }

    /// A read given up while its connection is busy on the blocking pool keeps its turn until
    /// the connection is back: the next read waits for it instead of finding no connection.
    #[tokio::test(flavor = "current_thread")]
    async fn a_read_given_up_holds_its_connection_until_done() {
        let (store, path) = store_with_one_reader().await;
        let slow = store.read(|conn| {
            std::thread::sleep(Duration::from_millis(200));
            one(conn)
        });
        assert!(tokio::time::timeout(Duration::from_millis(20), slow)
            .await
            .is_err());
        assert_eq!(store.read(one).await.unwrap(), 1);
        assert_eq!(store.read_inline(one).await.unwrap(), 1);
        drop(store);
        remove(&path);
    }
}
