//! Writes: one writer connection on a thread of its own; writes that queue up commit together, each in a savepoint.

use super::*;

impl SqliteStore {
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
pub(crate) struct WriteJob {
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
pub(crate) fn spawn_writer(
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
