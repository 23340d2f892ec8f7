//! `commerce_http::serve`: what a client sees of the connection itself, and of a shutdown.

use std::time::Duration;

use poem::{handler, Route};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use commerce_http::serve::ConnectionLimits;

#[handler]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(300)).await;
    "done"
}

#[handler]
fn fast() -> &'static str {
    "fast"
}

/// Starts `serve` on a free port; the returned sender stops it.
async fn start() -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    start_limited(ConnectionLimits::default()).await
}

async fn start_limited(
    limits: ConnectionLimits,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(commerce_http::serve::serve_with_limits(
        listener,
        Route::new().at("/slow", slow).at("/fast", fast),
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(30),
        limits,
    ));
    (addr, stop, serving)
}

/// Whether the server closed `conn` within `within` (a read sees its end).
async fn closed_within(conn: &mut TcpStream, within: Duration) -> bool {
    let mut rest = Vec::new();
    matches!(
        tokio::time::timeout(within, conn.read_to_end(&mut rest)).await,
        Ok(Ok(_)) | Ok(Err(_))
    )
}

async fn ask_fast(conn: &mut TcpStream) -> String {
    conn.write_all(b"GET /fast HTTP/1.1\r\nhost: shop\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0; 1024];
    let n = conn.read(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test]
async fn a_client_that_trickles_its_header_or_idles_is_cut_off() {
    let (addr, _stop, _serving) = start_limited(ConnectionLimits {
        header_read_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(900),
        max_connections: 100,
    })
    .await;
    // Half a header, then a byte every 100 ms: alive, but never done.
    let mut trickler = TcpStream::connect(&addr).await.unwrap();
    trickler
        .write_all(b"GET /fast HTTP/1.1\r\nho")
        .await
        .unwrap();
    let trickling = tokio::spawn(async move {
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if trickler.write_all(b"s").await.is_err() {
                return (trickler, true);
            }
        }
        (trickler, false)
    });
    // An idle keep-alive connection outlives the header timeout and not the idle one.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    assert!(ask_fast(&mut idle).await.ends_with("fast"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        ask_fast(&mut idle).await.ends_with("fast"),
        "idle for less than its timeout"
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(3)).await,
        "idle past its timeout"
    );
    let (mut trickler, write_failed) = trickling.await.unwrap();
    assert!(
        write_failed || closed_within(&mut trickler, Duration::from_millis(100)).await,
        "the trickling client was cut off"
    );
}

#[tokio::test]
async fn past_the_cap_clients_wait_until_a_connection_closes() {
    let (addr, _stop, _serving) = start_limited(ConnectionLimits {
        max_connections: 2,
        ..ConnectionLimits::default()
    })
    .await;
    let mut first = TcpStream::connect(&addr).await.unwrap();
    let mut second = TcpStream::connect(&addr).await.unwrap();
    assert!(ask_fast(&mut first).await.ends_with("fast"));
    assert!(ask_fast(&mut second).await.ends_with("fast"));
    let mut third = TcpStream::connect(&addr).await.unwrap();
    third
        .write_all(b"GET /fast HTTP/1.1\r\nhost: shop\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0; 1024];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut answer)).await;
    assert!(
        early.is_err(),
        "a third connection is not served while two are open"
    );
    drop(first);
    let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut answer))
        .await
        .expect("served once a connection closed")
        .unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).ends_with("fast"));
}

#[tokio::test]
async fn keep_alive_connections_answer_request_after_request() {
    let (addr, _stop, _serving) = start().await;
    let mut conn = TcpStream::connect(&addr).await.unwrap();
    for _ in 0..3 {
        conn.write_all(b"GET /fast HTTP/1.1\r\nhost: shop\r\n\r\n")
            .await
            .unwrap();
        let mut answer = vec![0; 1024];
        let n = conn.read(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.ends_with("fast"), "{answer}");
    }
}

#[tokio::test]
async fn a_shutdown_finishes_the_request_in_flight_and_closes_idle_connections() {
    let (addr, stop, serving) = start().await;
    // An idle keep-alive connection, which must not hold the shutdown for the grace period.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /fast HTTP/1.1\r\nhost: shop\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0; 1024];
    assert!(idle.read(&mut answer).await.unwrap() > 0);
    let mut waiting = TcpStream::connect(&addr).await.unwrap();
    waiting
        .write_all(b"GET /slow HTTP/1.1\r\nhost: shop\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    // The answer comes whole, and then the connection closes.
    let mut whole = Vec::new();
    waiting.read_to_end(&mut whole).await.unwrap();
    let whole = String::from_utf8_lossy(&whole);
    assert!(whole.starts_with("HTTP/1.1 200 OK"), "{whole}");
    assert!(whole.ends_with("done"), "{whole}");
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("serve returns once its connections are done, well before the grace period")
        .unwrap()
        .unwrap();
    assert_eq!(
        idle.read(&mut answer).await.unwrap(),
        0,
        "the idle connection is closed"
    );
    assert!(
        TcpStream::connect(&addr).await.is_err(),
        "no new connection is taken"
    );
}
