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
use std::sync::Arc;
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use poem::endpoint::BoxEndpoint;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, EndpointExt, Request, Response};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

/// What hyper sends: poem's response body, boxed.
type ResponseBody = BoxBody<bytes::Bytes, io::Error>;

/// A request's answer on its way.
type Answer =
    Pin<Box<dyn Future<Output = Result<hyper::Response<ResponseBody>, Infallible>> + Send>>;

/// How long a failed `accept` (most often: out of file descriptors) waits before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `endpoint` (such as [`crate::routes`]) on `listener` until `shutdown` completes.
/// Then it takes no new connection, lets each open one finish the request it is answering,
/// and returns once all are closed or `grace` has passed.
pub async fn serve<E>(
    listener: TcpListener,
    endpoint: E,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
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
    tokio::pin!(shutdown);
    loop {
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
        tokio::spawn(connection(
            stream,
            remote,
            local.clone(),
            endpoint.clone(),
            stopping.clone(),
            open.clone(),
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    drop(open);
    let _ = tokio::time::timeout(grace, all_closed.recv()).await;
    Ok(())
}

/// One client's connection: requests in turn until it closes, or until the server stops
/// (then the request being answered is finished and the connection closed).
async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    local: LocalAddr,
    endpoint: Arc<BoxEndpoint<'static, Response>>,
    mut stopping: watch::Receiver<bool>,
    _open: mpsc::Sender<Infallible>,
) {
    // Responses go out whole (head and body in one write), so Nagle only adds delay.
    let _ = stream.set_nodelay(true);
    let remote = RemoteAddr(Addr::SocketAddr(remote));
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let request = Request::from((request, local.clone(), remote.clone(), Scheme::HTTP));
        let endpoint = endpoint.clone();
        // Boxed: hyper keeps a slot the size of this future for the connection's whole life,
        // so a boxed one keeps 16 bytes there instead of a whole request between requests.
        let answer: Answer = Box::pin(async move {
            let response = endpoint.get_response(request).await;
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
