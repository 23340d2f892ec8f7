//! The sender against a receiver on 127.0.0.1: what arrives, what is refused, and what a
//! redirect, a slow receiver and a closed port come to.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use commerce_core::ports::{WebhookAnswer, WebhookRequest, WebhookSender};
use commerce_webhooks::{HttpWebhookSender, SenderOptions};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{handler, Body, EndpointExt, Request, Response, Route};

/// What the receiver got: (path, content type, webhook-id, body).
type Received = Arc<Mutex<Vec<(String, String, String, Vec<u8>)>>>;

#[handler]
async fn receive(request: &Request, body: Body, got: Data<&Received>) -> Response {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let path = request.uri().path().to_string();
    let body = body.into_vec().await.unwrap_or_default();
    got.lock().unwrap().push((
        path.clone(),
        header("content-type"),
        header("webhook-id"),
        body,
    ));
    match path.as_str() {
        "/moved" => Response::builder()
            .status(poem::http::StatusCode::FOUND)
            .header("location", "/elsewhere")
            .finish(),
        "/busy" => Response::builder()
            .status(poem::http::StatusCode::TOO_MANY_REQUESTS)
            .header("retry-after", "30")
            .finish(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Response::builder().finish()
        }
        _ => Response::builder()
            .status(poem::http::StatusCode::NO_CONTENT)
            .finish(),
    }
}

async fn receiver() -> (String, Received) {
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let got: Received = Arc::default();
    let app = Route::new().at("/*path", receive).data(got.clone());
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    (format!("http://{addr}"), got)
}

fn request(url: String) -> WebhookRequest {
    WebhookRequest {
        url,
        headers: vec![
            ("webhook-id".into(), "evt_1".into()),
            ("webhook-timestamp".into(), "1700000000".into()),
            ("webhook-signature".into(), "v1,abc=".into()),
        ],
        body: br#"{"type":"webhook.test","timestamp":"2026-12-06T10:00:00.000Z","data":{}}"#
            .to_vec(),
    }
}

fn trusting() -> HttpWebhookSender {
    HttpWebhookSender::new(SenderOptions {
        timeout: Duration::from_secs(1),
        allow_private: true,
    })
    .unwrap()
}

#[tokio::test]
async fn a_delivery_arrives_with_its_headers_and_body() {
    let (base, got) = receiver().await;
    let answer = trusting().send(request(format!("{base}/hooks"))).await;
    assert_eq!(
        answer,
        WebhookAnswer::Status {
            code: 204,
            retry_after: None
        }
    );
    let got = got.lock().unwrap();
    assert_eq!(got.len(), 1);
    let (path, content_type, id, body) = &got[0];
    assert_eq!(path, "/hooks");
    assert_eq!(content_type, "application/json");
    assert_eq!(id, "evt_1");
    assert_eq!(body, &request(String::new()).body);
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let (base, got) = receiver().await;
    let guarded = HttpWebhookSender::new(SenderOptions::default()).unwrap();
    let port = base.rsplit(':').next().unwrap();
    for url in [
        format!("{base}/hooks"),
        format!("http://localhost:{port}/hooks"),
        format!("http://[::1]:{port}/hooks"),
        "http://169.254.169.254/latest/meta-data".to_string(),
        "http://10.0.0.1/".to_string(),
    ] {
        match guarded.send(request(url.clone())).await {
            WebhookAnswer::NoAnswer(why) => assert!(why.contains("refused"), "{url}: {why}"),
            other => panic!("{url} was not refused: {other:?}"),
        }
    }
    assert!(
        got.lock().unwrap().is_empty(),
        "nothing reached the receiver"
    );
    match guarded.send(request("ftp://example.com/".into())).await {
        WebhookAnswer::NoAnswer(why) => assert!(why.contains("http")),
        other => panic!("ftp was sent: {other:?}"),
    }
}

#[tokio::test]
async fn redirects_are_answers_never_followed() {
    let (base, got) = receiver().await;
    let answer = trusting().send(request(format!("{base}/moved"))).await;
    assert_eq!(
        answer,
        WebhookAnswer::Status {
            code: 302,
            retry_after: None
        }
    );
    let paths: Vec<String> = got.lock().unwrap().iter().map(|g| g.0.clone()).collect();
    assert_eq!(paths, ["/moved"]);
}

#[tokio::test]
async fn retry_after_slow_receivers_and_closed_ports() {
    let (base, _) = receiver().await;
    let sender = trusting();
    assert_eq!(
        sender.send(request(format!("{base}/busy"))).await,
        WebhookAnswer::Status {
            code: 429,
            retry_after: Some(Duration::from_secs(30))
        }
    );
    match sender.send(request(format!("{base}/slow"))).await {
        WebhookAnswer::NoAnswer(why) => assert_eq!(why, "no answer within 1 s"),
        other => panic!("a slow receiver: {other:?}"),
    }
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    match sender
        .send(request(format!("http://127.0.0.1:{port}/")))
        .await
    {
        WebhookAnswer::NoAnswer(why) => assert!(!why.is_empty()),
        other => panic!("a closed port: {other:?}"),
    }
}
