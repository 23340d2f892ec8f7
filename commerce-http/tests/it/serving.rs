//! `commerce_http::serve`: what a client sees of the connection itself, and of a shutdown.

use std::time::Duration;

use poem::{handler, Route};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(commerce_http::serve::serve(
        listener,
        Route::new().at("/slow", slow).at("/fast", fast),
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(30),
    ));
    (addr, stop, serving)
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
