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

/// A reader connection borrowed from the pool and given back when dropped (even on panic).
pub(crate) struct ReaderGuard<'a> {
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
