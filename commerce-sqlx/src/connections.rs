//! Connections kept between the statements of the hot paths (carts, the products a cart
//! prices, order placement, payments).
//!
//! sqlx pings every connection that goes back to its pool (a `Sync` and its answer, in a task
//! of its own): after a one-statement request that is as many exchanges with PostgreSQL as the
//! request itself, and on this path PostgreSQL's CPU is the limit. A connection whose
//! statement finished is handed to the next statement here instead, unpinged: it is known to
//! be in step with the server, since its last answer was read to the end.
//!
//! What could be out of step goes back to sqlx's pool, which pings it (and closes it if the
//! ping fails): a lease dropped before its statement finished (the request's future was
//! dropped mid-statement) or whose statement failed other than with PostgreSQL's own answer
//! (an I/O error, a protocol error). A connection kept here also goes back to the pool once it
//! has been out of it for [`BACK_TO_POOL_AFTER`], so sqlx's idle and lifetime limits still
//! apply to it.
//!
//! The hot paths hold at most half of the pool, in use or kept idle here: the other half is
//! always there for the paths that use the pool directly (transactions, embedders' own queries
//! through [`PgStore::pool`](crate::PgStore::pool)), which would otherwise wait on connections
//! idle in this list. Statements wait for a lease in turn (a fair semaphore): a newcomer
//! taking the connection just kept while others wait would leave some requests waiting for
//! seconds under load (measured: p99 over a second, and timeouts).

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool};
use sqlx::Postgres;
use tokio::sync::{Semaphore, SemaphorePermit};

/// How long a kept connection stays out of sqlx's pool before it is handed back (and pinged
/// there, its lifetime checked).
pub(crate) const BACK_TO_POOL_AFTER: Duration = Duration::from_secs(30);

pub(crate) struct KeptConnections {
    pool: PgPool,
    idle: Mutex<Vec<Idle>>,
    /// False for a pool of one: a connection kept idle here would be the only one, and a
    /// transaction would wait for it.
    keep_idle: bool,
    /// One per connection the hot paths may hold, in use or idle.
    turns: Semaphore,
    /// How long a statement waits for its turn, as for a connection from the pool.
    acquire_timeout: Duration,
}

struct Idle {
    connection: PoolConnection<Postgres>,
    /// When it was taken from sqlx's pool.
    taken: Instant,
}

impl KeptConnections {
    /// Holds at most half of `pool`'s connections, at least one, and waits for a turn as long
    /// as the pool waits for a connection (both read from the pool's own settings).
    pub(crate) fn new(pool: PgPool) -> KeptConnections {
        let max_connections = pool.options().get_max_connections();
        let acquire_timeout = pool.options().get_acquire_timeout();
        KeptConnections {
            pool,
            idle: Mutex::new(Vec::new()),
            keep_idle: max_connections >= 2,
            turns: Semaphore::new((max_connections / 2).max(1) as usize),
            acquire_timeout,
        }
    }

    /// A connection for one statement (or a few in a row): the one kept most recently, else one
    /// from the pool. Give the statement's result to [`Lease::settle`].
    pub(crate) async fn lease(&self) -> Result<Lease<'_>, sqlx::Error> {
        let started = Instant::now();
        let turn = match tokio::time::timeout(self.acquire_timeout, self.turns.acquire()).await {
            Ok(Ok(turn)) => turn,
            // Never closed; a timeout is the pool's own error, so it reads the same.
            Ok(Err(_)) | Err(_) => return Err(sqlx::Error::PoolTimedOut),
        };
        let kept = self
            .idle
            .lock()
            .map(|mut idle| idle.pop())
            .unwrap_or(None)
            // One out of the pool for too long is dropped here, before another is asked
            // for: back to the pool, which pings it (and may hand it out again).
            .filter(|idle| idle.taken.elapsed() < BACK_TO_POOL_AFTER);
        let (connection, taken) = match kept {
            Some(idle) => (idle.connection, idle.taken),
            None => {
                let left = self.acquire_timeout.saturating_sub(started.elapsed());
                match tokio::time::timeout(left, self.pool.acquire()).await {
                    Ok(connection) => (connection?, Instant::now()),
                    Err(_) => return Err(sqlx::Error::PoolTimedOut),
                }
            }
        };
        Ok(Lease {
            connection: Some(connection),
            taken,
            home: self,
            settled: false,
            _turn: turn,
        })
    }

    /// How many connections are kept idle now (for tests).
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.idle.lock().map(|idle| idle.len()).unwrap_or(0)
    }
}

impl Drop for KeptConnections {
    fn drop(&mut self) {
        let idle = match self.idle.get_mut() {
            Ok(idle) => std::mem::take(idle),
            Err(poisoned) => std::mem::take(poisoned.into_inner()),
        };
        // Going back to the pool takes a task on the runtime; with none (a store dropped
        // after its runtime), the connections are closed where they are.
        if tokio::runtime::Handle::try_current().is_err() {
            for kept in idle {
                drop(kept.connection.detach());
            }
        }
    }
}

/// A connection taken for a statement. Dropped unsettled, it goes back to sqlx's pool.
pub(crate) struct Lease<'a> {
    connection: Option<PoolConnection<Postgres>>,
    taken: Instant,
    home: &'a KeptConnections,
    settled: bool,
    /// Given back after the connection is kept (fields drop after `drop`), so the next in
    /// turn finds it.
    _turn: SemaphorePermit<'a>,
}

impl Lease<'_> {
    /// Takes the statement's result: the connection is kept for the next statement when
    /// PostgreSQL answered it (rows, or an error of its own such as a unique violation), and
    /// goes back to the pool when the exchange itself failed.
    pub(crate) fn settle<T>(mut self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        self.settled = matches!(&result, Ok(_) | Err(sqlx::Error::Database(_)));
        result
    }
}

impl Deref for Lease<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        // Present from `lease` until drop.
        self.connection
            .as_deref()
            .expect("a lease holds its connection")
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.connection
            .as_deref_mut()
            .expect("a lease holds its connection")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        if !self.settled || !self.home.keep_idle {
            return; // back to the pool, pinged there
        }
        // No more are idle than turns exist: each was pushed by a lease holding a turn.
        if let Ok(mut idle) = self.home.idle.lock() {
            idle.push(Idle {
                connection,
                taken: self.taken,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::postgres::PgPoolOptions;

    /// No table is touched: the test database itself serves.
    async fn pool(max: u32, acquire_timeout: Duration) -> PgPool {
        let url = std::env::var("COMMERCE_TEST_DATABASE_URL").unwrap();
        PgPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(acquire_timeout)
            .connect(&url)
            .await
            .expect("the test database answers")
    }

    fn pid(
        conn: &mut PgConnection,
    ) -> impl std::future::Future<Output = Result<i32, sqlx::Error>> + '_ {
        sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(conn)
    }

    #[cfg_attr(
        not(postgres_tests),
        ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
    )]
    #[tokio::test]
    async fn a_settled_connection_is_the_next_statements_and_a_failed_exchange_is_not() {
        let kept = KeptConnections::new(pool(4, Duration::from_secs(2)).await);

        let mut lease = kept.lease().await.unwrap();
        let first = pid(&mut lease).await;
        let first = lease.settle(first).unwrap();
        assert_eq!(kept.idle(), 1);

        // PostgreSQL's own error keeps the connection: it answered and is ready.
        let mut lease = kept.lease().await.unwrap();
        assert_eq!(pid(&mut lease).await.unwrap(), first);
        let refused = sqlx::query("SELECT 1 / 0").execute(&mut *lease).await;
        assert!(lease.settle(refused).is_err());
        assert_eq!(kept.idle(), 1);
        let mut lease = kept.lease().await.unwrap();
        let again = pid(&mut lease).await;
        assert_eq!(lease.settle(again).unwrap(), first);

        // Unsettled (as when the request's future is dropped mid-statement): not kept.
        let mut lease = kept.lease().await.unwrap();
        let _ = pid(&mut lease).await;
        drop(lease);
        assert_eq!(kept.idle(), 0);
    }

    #[cfg_attr(
        not(postgres_tests),
        ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
    )]
    #[tokio::test]
    async fn a_pool_of_one_keeps_nothing_idle() {
        let pool = pool(1, Duration::from_secs(2)).await;
        let kept = KeptConnections::new(pool.clone());
        let mut lease = kept.lease().await.unwrap();
        let done = pid(&mut lease).await;
        lease.settle(done).unwrap();
        assert_eq!(kept.idle(), 0);
        // The one connection is the pool's again: a transaction gets it at once.
        let tx = tokio::time::timeout(Duration::from_secs(2), pool.begin()).await;
        assert!(
            matches!(tx, Ok(Ok(_))),
            "the pool had its connection to give"
        );
    }

    #[cfg_attr(
        not(postgres_tests),
        ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
    )]
    #[tokio::test]
    async fn the_hot_paths_hold_at_most_half_of_the_pool() {
        let pool = pool(4, Duration::from_millis(300)).await;
        let kept = KeptConnections::new(pool.clone());
        let mut first = kept.lease().await.unwrap();
        let mut second = kept.lease().await.unwrap();
        // A third waits its turn, and gives up after the acquire timeout.
        assert!(matches!(kept.lease().await, Err(sqlx::Error::PoolTimedOut)));
        // The other half is the pool's: two transactions still get a connection at once.
        let one = tokio::time::timeout(Duration::from_secs(2), pool.begin()).await;
        let two = tokio::time::timeout(Duration::from_secs(2), pool.begin()).await;
        assert!(
            matches!((&one, &two), (Ok(Ok(_)), Ok(Ok(_)))),
            "the pool had two to give"
        );
        drop((one, two));
        let a = pid(&mut first).await;
        let b = pid(&mut second).await;
        first.settle(a).unwrap();
        second.settle(b).unwrap();
        assert_eq!(kept.idle(), 2);
        // A turn given back is the next statement's, with the connection kept.
        let mut third = kept.lease().await.unwrap();
        let c = pid(&mut third).await;
        assert!(third.settle(c).is_ok());
        assert_eq!(kept.idle(), 2);
    }
}
