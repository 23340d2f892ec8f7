//! What the tests that run the bundled server as a process share.

use std::path::PathBuf;

/// An HTTP client (the Stripe adapter in this build leaves reqwest's TLS provider to be set
/// for the process).
pub fn http_client() -> reqwest::Client {
    commerce::stripe::install_tls_provider();
    reqwest::Client::new()
}

/// The example server binary, which `cargo test` builds beside the test.
pub fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let server = target.join("examples").join("server");
    assert!(
        server.exists(),
        "{} is missing: build it with `cargo build --example server --features full`",
        server.display()
    );
    server
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Whether the server at `base` answers `/health` within 30 s.
pub async fn comes_up(base: &str) -> bool {
    let http = http_client();
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{base}/health")).send().await {
            if r.status().is_success() {
                return true;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

/// A webhook delivery as a receiver got it.
#[derive(Debug, Clone)]
#[allow(dead_code)]
pub struct Delivery {
    pub path: String,
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
}

pub type Deliveries = std::sync::Arc<std::sync::Mutex<Vec<Delivery>>>;

#[poem::handler]
async fn receive(
    request: &poem::Request,
    body: poem::Body,
    got: poem::web::Data<&Deliveries>,
) -> poem::http::StatusCode {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let body = body.into_vec().await.unwrap_or_default();
    got.lock().unwrap().push(Delivery {
        path: request.uri().path().to_string(),
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    poem::http::StatusCode::NO_CONTENT
}

/// A webhook receiver on 127.0.0.1:`port` that answers 204 to every delivery and keeps it.
#[allow(dead_code)]
pub async fn webhook_receiver(port: u16) -> Deliveries {
    use poem::listener::{Listener, TcpListener};
    use poem::EndpointExt;
    let got: Deliveries = Default::default();
    let acceptor = TcpListener::bind(format!("127.0.0.1:{port}"))
        .into_acceptor()
        .await
        .expect("the receiver's port");
    let app = poem::Route::new().at("/*path", receive).data(got.clone());
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    got
}
