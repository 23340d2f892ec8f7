//! Serving the API over HTTP/1.1: one lean hyper connection per client.
//!
//! `poem::Server` would serve it too, but it wraps every connection in hyper-util's
//! HTTP/1-or-2 detector and a cancellation token of its own. With 10,000 keep-alive clients
//! that cost about 26 KiB per connection, against about 16 KiB for hyper's HTTP/1 connection
//! alone (README, performance: "Many open connections"); most of what is left is hyper's 8 KiB
//! read and header buffers. HTTP/2 is not served: a shop's clients reach the API through a
//! proxy or load balancer, which speaks HTTP/1.1 to it (and HTTP/2 to browsers itself).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use poem::endpoint::BoxEndpoint;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, EndpointExt, Request, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::AbortHandle;

/// What hyper sends: poem's response body, boxed.
type ResponseBody = BoxBody<bytes::Bytes, io::Error>;

/// A request's answer on its way.
type Answer =
    Pin<Box<dyn Future<Output = Result<hyper::Response<ResponseBody>, Infallible>> + Send>>;

/// What a public server holds its clients to, so that slow or idle ones cannot take every
/// connection (or file descriptor) it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From a request's first byte to its whole head [10 s]: a client that sends a header a
    /// byte at a time is cut off.
    pub header_read_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request [60 s].
    pub idle_timeout: Duration,
    /// Connections open at once (default 10,000); further clients wait in the listen queue until
    /// one closes.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
        }
    }
}

/// How long a failed `accept` (most often: out of file descriptors) waits before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `endpoint` (such as [`crate::routes`]) on `listener` until `shutdown` completes,
/// with the default [`ConnectionLimits`]. Then it takes no new connection, lets each open one
/// finish the request it is answering, and returns once all are closed or `grace` has passed.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use commerce_core::Commerce;
/// use commerce_http::{routes, serve::serve, ApiConfig};
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let address = listener.local_addr()?;
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let api = routes(Commerce::in_memory(), ApiConfig::default());
/// let server = tokio::spawn(serve(listener, api, async { let _ = stopped.await; }, Duration::from_secs(5)));
///
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// let mut client = tokio::net::TcpStream::connect(address).await?;
/// client.write_all(b"GET /health HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n").await?;
/// let mut answer = String::new();
/// client.read_to_string(&mut answer).await?;
/// assert!(answer.starts_with("HTTP/1.1 200 OK"));
///
/// stop.send(()).unwrap(); // as on SIGTERM: open requests finish, then it returns
/// server.await??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub async fn serve<E>(
    listener: TcpListener,
    endpoint: E,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> io::Result<()>
where
    E: Endpoint + 'static,
{
    serve_with_limits(
        listener,
        endpoint,
        shutdown,
        grace,
        ConnectionLimits::default(),
    )
    .await
}

/// [`serve`] with the given limits on connections.
pub async fn serve_with_limits<E>(
    listener: TcpListener,
    endpoint: E,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
    limits: ConnectionLimits,
) -> io::Result<()>
where
    E: Endpoint + 'static,
{
    // Boxed once: the connection's future then has one small endpoint type, not the
    // layered type of every middleware.
    let endpoint: Arc<BoxEndpoint<'static, Response>> =
        Arc::new(endpoint.map_to_response().boxed());
    let local = LocalAddr(Addr::SocketAddr(listener.local_addr()?));
    let (stop, stopping) = watch::channel(false);
    // Every connection holds a sender; `recv` answers `None` once the last one is dropped.
    let (open, mut all_closed) = mpsc::channel::<Infallible>(1);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let watched = Arc::new(Watchlist::default());
    let clock = Clock::new();
    let reaper = tokio::spawn(reap(watched.clone(), clock, limits));
    tokio::pin!(shutdown);
    loop {
        // A slot first: past the cap, clients wait in the kernel's listen queue.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, or a client gone before it was accepted: the
                    // server carries on with the connections it has.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let activity = Arc::new(Activity::new(clock));
        let task = tokio::spawn(connection(
            Watched {
                stream,
                activity: activity.clone(),
            },
            remote,
            local.clone(),
            endpoint.clone(),
            stopping.clone(),
            (open.clone(), slot),
        ));
        watched.add(Arc::downgrade(&activity), task.abort_handle(), remote);
    }
    drop(listener);
    let _ = stop.send(true);
    drop(open);
    let _ = tokio::time::timeout(grace, all_closed.recv()).await;
    reaper.abort();
    Ok(())
}

/// One client's connection: requests in turn until it closes, or until the server stops
/// (then the request being answered is finished and the connection closed).
async fn connection(
    stream: Watched,
    remote: SocketAddr,
    local: LocalAddr,
    endpoint: Arc<BoxEndpoint<'static, Response>>,
    mut stopping: watch::Receiver<bool>,
    _held: (mpsc::Sender<Infallible>, tokio::sync::OwnedSemaphorePermit),
) {
    // Responses go out whole (head and body in one write), so Nagle only adds delay.
    let _ = stream.stream.set_nodelay(true);
    let activity = stream.activity.clone();
    let remote = RemoteAddr(Addr::SocketAddr(remote));
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let request = Request::from((request, local.clone(), remote.clone(), Scheme::HTTP));
        let endpoint = endpoint.clone();
        let activity = activity.clone();
        activity.set(Phase::Answering);
        // Boxed: hyper keeps a slot the size of this future for the connection's whole life,
        // so a boxed one keeps 16 bytes there instead of a whole request between requests.
        let answer: Answer = Box::pin(async move {
            let response = endpoint.get_response(request).await;
            activity.set(Phase::Idle);
            Ok(hyper::Response::<ResponseBody>::from(response))
        });
        answer
    });
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stopping.wait_for(|stop| *stop) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// Milliseconds since the server started: cheap to store in an atomic.
#[derive(Clone, Copy)]
struct Clock(Instant);

impl Clock {
    fn new() -> Self {
        Clock(Instant::now())
    }

    fn now(self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// Where a connection is in its life, for the timeouts that apply to it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Phase {
    /// Waiting for a request's first byte (idle timeout).
    Idle = 0,
    /// A request's head is arriving (header-read timeout).
    ReadingHead = 1,
    /// The head is read and the request is being answered: the body's own timeout and the
    /// handler bound it, not the connection.
    Answering = 2,
}

struct Activity {
    clock: Clock,
    phase: AtomicU8,
    /// When the phase began, by the clock.
    since: AtomicU64,
}

impl Activity {
    fn new(clock: Clock) -> Self {
        Activity {
            clock,
            phase: AtomicU8::new(Phase::Idle as u8),
            since: AtomicU64::new(clock.now()),
        }
    }

    fn set(&self, phase: Phase) {
        self.since.store(self.clock.now(), Ordering::Relaxed);
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Relaxed) {
            0 => Phase::Idle,
            1 => Phase::ReadingHead,
            _ => Phase::Answering,
        }
    }

    /// The first bytes read while idle start a request's head.
    fn read_some(&self) {
        if self.phase() == Phase::Idle {
            self.set(Phase::ReadingHead);
        }
    }

    /// Whether the connection has overstayed the phase it is in.
    fn overdue(&self, now: u64, limits: &ConnectionLimits) -> bool {
        let allowed = match self.phase() {
            Phase::Idle => limits.idle_timeout,
            Phase::ReadingHead => limits.header_read_timeout,
            Phase::Answering => return false,
        };
        let allowed = u64::try_from(allowed.as_millis()).unwrap_or(u64::MAX);
        now.saturating_sub(self.since.load(Ordering::Relaxed)) > allowed
    }
}

/// The client's stream, noting when bytes arrive.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read_some();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// The open connections, for the one task that closes those overdue: one timer for all of
/// them instead of one per connection.
#[derive(Default)]
struct Watchlist(Mutex<Vec<Entry>>);

struct Entry {
    activity: Weak<Activity>,
    task: AbortHandle,
    peer: SocketAddr,
}

impl Watchlist {
    fn add(&self, activity: Weak<Activity>, task: AbortHandle, peer: SocketAddr) {
        if let Ok(mut entries) = self.0.lock() {
            entries.push(Entry {
                activity,
                task,
                peer,
            });
        }
    }
}

/// Every tick, closes the connections past their phase's timeout and forgets closed ones.
async fn reap(watched: Arc<Watchlist>, clock: Clock, limits: ConnectionLimits) {
    let shortest = limits.header_read_timeout.min(limits.idle_timeout);
    let tick = (shortest / 4).clamp(Duration::from_millis(10), Duration::from_millis(500));
    let mut ticks = tokio::time::interval(tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = clock.now();
        let Ok(mut entries) = watched.0.lock() else {
            return;
        };
        entries.retain(|entry| match entry.activity.upgrade() {
            None => false,
            Some(activity) if activity.overdue(now, &limits) => {
                tracing::debug!(peer = %entry.peer, phase = ?activity.phase(), "closing an overdue connection");
                entry.task.abort();
                false
            }
            Some(_) => true,
        });
    }
}
