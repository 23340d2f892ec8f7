//! The yardstick for read throughput: a bare Poem server that answers every request with
//! the bytes of a file, with none of the engine behind it. The API's read endpoints are held
//! to at least half of what this serves (issue: speed by design).
//!
//! Run: `cargo run --release --example bare_poem --features full -- 127.0.0.1:8081 page.json`

use poem::listener::TcpListener;
use poem::{handler, http::header, Response, Route};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:8081".into());
    let file = args.next().ok_or("usage: bare_poem ADDR FILE")?;
    let body: &'static [u8] = Box::leak(std::fs::read(file)?.into_boxed_slice());
    #[handler]
    fn page(body: poem::web::Data<&&'static [u8]>) -> Response {
        Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(*body.0)
    }
    eprintln!("bare poem on http://{bind}");
    poem::Server::new(TcpListener::bind(bind))
        .run(poem::EndpointExt::data(
            Route::new().at("/*path", poem::get(page)),
            body,
        ))
        .await?;
    Ok(())
}
