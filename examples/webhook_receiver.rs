//! A webhook receiver for load runs: answers every delivery 204 and counts them, with the
//! count at `GET /count`. It checks nothing (a real receiver verifies each signature, see
//! `commerce::webhook_signing::verify`); it is the far end of `benches/http_writes.sh` with
//! `BENCH_WEBHOOK=1`.
//!
//! Run: `cargo run --release --example webhook_receiver -- 127.0.0.1:8082`

use std::sync::atomic::{AtomicU64, Ordering};

use poem::listener::TcpListener;
use poem::web::Data;
use poem::{handler, http::StatusCode, EndpointExt, Route};

#[handler]
fn receive(received: Data<&&'static AtomicU64>) -> StatusCode {
    received.fetch_add(1, Ordering::Relaxed);
    StatusCode::NO_CONTENT
}

#[handler]
fn count(received: Data<&&'static AtomicU64>) -> String {
    received.load(Ordering::Relaxed).to_string()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8082".into());
    let received: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
    eprintln!("webhook receiver on http://{bind}");
    let app = Route::new()
        .at("/count", poem::get(count))
        .at("/*path", poem::post(receive))
        .data(received);
    poem::Server::new(TcpListener::bind(bind)).run(app).await?;
    Ok(())
}
