//! Writes gathered into one statement: new payments, new carts and cart updates.
//!
//! Each is a statement and a commit of its own, one per request, and on PostgreSQL a small
//! write's statement and commit cost more machine time than the write itself (measured with
//! pgbench alone: a payment insert ~190 µs of CPU on its own, ~55–80 µs in a statement of
//! 4–8; a cart update ~167 µs alone, ~46 µs in a call of 8). A task writes them instead: the
//! writes that arrive while its statement runs go in its next one, as SQLite's writer gathers
//! its transactions. Under load many requests share one statement and one commit; alone, a
//! write waits for nobody.
//!
//! The task has a connection of its own, not the pool's: through the hot paths' fair turns
//! (`connections`) it would wait behind every request's statements, and every gathered write
//! with it (measured: checkout fell from ~1,500 to ~730 a second that way).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};
use sqlx::Connection;
use tokio::sync::{mpsc, oneshot};

use commerce_core::ports::StorageError;

use crate::storage_error;

/// At most this many writes go in one statement.
const WRITES_PER_STATEMENT: usize = 128;

/// A statement's future, borrowing its connection and rows.
pub(crate) type Written<'c, A> =
    Pin<Box<dyn Future<Output = Result<Vec<A>, sqlx::Error>> + Send + 'c>>;

/// One kind of write that can be gathered: how a batch of them is one statement.
pub(crate) trait GatheredWrite: Send + 'static {
    /// A write, encoded by the request that asks for it.
    type Row: Send + Sync + 'static;
    /// What the request hears back when PostgreSQL took its write.
    type Answer: Send + 'static;

    /// Writes `rows` in one statement (so in one transaction), answering each in order. A
    /// statement PostgreSQL refuses must have written nothing: its rows are then written
    /// again one by one, each refused or written on its own account.
    fn write<'c>(
        connection: &'c mut PgConnection,
        rows: &'c [&'c Self::Row],
    ) -> Written<'c, Self::Answer>;
}

/// The queue of one kind of write, and the task that writes it. The task ends when the store
/// does (the queue's last sender dropped), after writing what was queued.
pub(crate) struct Gathered<W: GatheredWrite> {
    queue: mpsc::Sender<Waiting<W>>,
}

/// A write waiting, and where its request hears how it went.
struct Waiting<W: GatheredWrite> {
    row: W::Row,
    written: oneshot::Sender<Result<W::Answer, StorageError>>,
}

impl<W: GatheredWrite> Gathered<W> {
    /// The task connects on its first write, with `pool`'s options, and names itself `origin`
    /// as the pool's connections do.
    pub(crate) fn start(pool: &PgPool, origin: uuid::Uuid) -> Gathered<W> {
        let (queue, waiting) = mpsc::channel(WRITES_PER_STATEMENT * 8);
        let writer = Writer {
            connect: pool.connect_options(),
            origin,
            patience: pool.options().get_acquire_timeout(),
            connection: None,
        };
        tokio::spawn(write_all::<W>(writer, waiting));
        Gathered { queue }
    }

    /// Writes `row` with whatever else is waiting. The row comes back as the error when the
    /// task is gone (only if it panicked): the caller then writes it itself.
    pub(crate) async fn write(
        &self,
        row: W::Row,
    ) -> Result<Result<W::Answer, StorageError>, W::Row> {
        let (written, answer) = oneshot::channel();
        match self.queue.send(Waiting { row, written }).await {
            Ok(()) => Ok(answer.await.unwrap_or_else(|_| {
                Err(StorageError::Unavailable(
                    "the database writer stopped before it answered".into(),
                ))
            })),
            Err(mpsc::error::SendError(waiting)) => Err(waiting.row),
        }
    }
}

/// The task's connection, made when first needed and again after a failed exchange.
struct Writer {
    connect: Arc<PgConnectOptions>,
    origin: uuid::Uuid,
    /// How long it waits to connect, and its statements for a row lock: the pool's acquire
    /// timeout, as long as a request waits for a pooled connection.
    patience: Duration,
    connection: Option<PgConnection>,
}

impl Writer {
    /// One statement for the rows. A connection whose exchange failed (not PostgreSQL's own
    /// refusal) is out of step and is made again for the next.
    async fn write<W: GatheredWrite>(
        &mut self,
        rows: &[&W::Row],
    ) -> Result<Vec<W::Answer>, sqlx::Error> {
        let connection = match self.connection.take() {
            Some(connection) => connection,
            None => self.open().await?,
        };
        let connection = self.connection.insert(connection);
        let written = W::write(connection, rows).await;
        if let Err(e) = &written {
            if !matches!(e, sqlx::Error::Database(_)) {
                self.connection = None;
            }
        }
        written
    }

    /// A new connection, named as the pool's are. Its statements give up waiting for a row
    /// lock after the pool's acquire timeout: every write of its kind in this process waits
    /// behind the writer's statement, so one row held long by another transaction (a cart
    /// an embedder's transaction keeps locked) must not hold them all for as long. The
    /// statement then fails whole, its writes are retried one by one, and only the write
    /// that needs the held row is answered as unavailable.
    async fn open(&self) -> Result<PgConnection, sqlx::Error> {
        let lock_timeout = format!("{}ms", self.patience.as_millis().max(1));
        let open = async {
            let mut connection = PgConnection::connect_with(&self.connect).await?;
            sqlx::query(
                "SELECT set_config('commerce.origin', $1, false), set_config('lock_timeout', $2, false)",
            )
            .bind(self.origin.simple().to_string())
            .bind(lock_timeout)
            .execute(&mut connection)
            .await?;
            Ok(connection)
        };
        tokio::time::timeout(self.patience, open)
            .await
            .unwrap_or_else(|_| {
                Err(sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connecting to write timed out",
                )))
            })
    }
}

/// Writes what waits, all of it in one statement; each request hears its own answer. A
/// statement refused by PostgreSQL (one row breaking a rule, or a deadlock) wrote nothing, so
/// its rows are written again one by one. A statement whose exchange failed (the connection
/// lost) is answered as unavailable to all of its rows, as it would have been to each alone.
async fn write_all<W: GatheredWrite>(mut writer: Writer, mut waiting: mpsc::Receiver<Waiting<W>>) {
    let mut batch = Vec::with_capacity(WRITES_PER_STATEMENT);
    loop {
        batch.clear();
        if waiting.recv_many(&mut batch, WRITES_PER_STATEMENT).await == 0 {
            break;
        }
        let rows: Vec<&W::Row> = batch.iter().map(|w| &w.row).collect();
        let written = writer.write::<W>(&rows).await;
        drop(rows);
        match written {
            Ok(answers) if answers.len() == batch.len() => {
                for (waiting, answer) in batch.drain(..).zip(answers) {
                    // A request that stopped waiting (its client gone) has its write all the
                    // same, as a statement it had sent would.
                    let _ = waiting.written.send(Ok(answer));
                }
            }
            Ok(answers) => {
                let wrong = StorageError::Corrupt(format!(
                    "{} answers to a statement of {} writes",
                    answers.len(),
                    batch.len()
                ));
                for waiting in batch.drain(..) {
                    let _ = waiting.written.send(Err(wrong.clone()));
                }
            }
            Err(sqlx::Error::Database(_)) if batch.len() > 1 => {
                for waiting in batch.drain(..) {
                    let alone = writer
                        .write::<W>(&[&waiting.row])
                        .await
                        .and_then(|mut a| a.pop().ok_or(sqlx::Error::RowNotFound));
                    let _ = waiting.written.send(alone.map_err(storage_error));
                }
            }
            Err(e) => {
                let answer = storage_error(e);
                for waiting in batch.drain(..) {
                    let _ = waiting.written.send(Err(answer.clone()));
                }
            }
        }
    }
    if let Some(connection) = writer.connection.take() {
        let _ = connection.close().await;
    }
}

/// Writes `rows` as the task does when they all wait at once (queued before it starts, so
/// taken in one statement), on a connection of its own to `pool`'s database.
#[cfg(test)]
pub(crate) async fn write_queued<W: GatheredWrite>(
    pool: &PgPool,
    rows: Vec<W::Row>,
) -> Vec<Result<W::Answer, StorageError>> {
    let (queue, waiting) = mpsc::channel(rows.len().max(1));
    let mut answers = Vec::new();
    for row in rows {
        let (written, answer) = oneshot::channel();
        if queue.send(Waiting { row, written }).await.is_err() {
            unreachable!("the receiver is here");
        }
        answers.push(answer);
    }
    drop(queue);
    let writer = Writer {
        connect: pool.connect_options(),
        origin: uuid::Uuid::new_v4(),
        patience: Duration::from_secs(5),
        connection: None,
    };
    write_all::<W>(writer, waiting).await;
    let mut out = Vec::new();
    for answer in answers {
        out.push(answer.await.expect("every write is answered"));
    }
    out
}
