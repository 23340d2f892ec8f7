//! The order event stream over HTTP: `GET /api/orders/{id}/events`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::shopping::set_up_shop;
use crate::support::{start, start_with, Server};

/// One event of a stream, or a comment line.
#[derive(Debug, Clone, PartialEq)]
pub enum Sse {
    Event {
        kind: String,
        id: String,
        data: Value,
    },
    Comment,
}

/// A stream being read, block by block.
pub struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    pub async fn open(s: &Server, path: &str, token: &str, last_event_id: Option<&str>) -> Stream {
        let mut request = s.http.get(format!("{}{path}", s.base)).bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("a response");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "an event stream"
        );
        Stream {
            response,
            buffer: String::new(),
        }
    }

    /// The next block within `wait`; `None` when the stream ended or nothing came.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Sse> {
        tokio::time::timeout(wait, self.next()).await.ok().flatten()
    }

    async fn next(&mut self) -> Option<Sse> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return Some(parse(&block));
            }
            let chunk = self.response.chunk().await.ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Whether the server ends the stream within `wait` (whatever it sends meanwhile).
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, async {
            while let Ok(Some(_)) = self.response.chunk().await {}
        })
        .await
        .is_ok()
    }

    /// The next event, skipping comments.
    pub async fn event_within(&mut self, wait: Duration) -> Option<(String, String, Value)> {
        loop {
            match self.next_within(wait).await? {
                Sse::Event { kind, id, data } => return Some((kind, id, data)),
                Sse::Comment => continue,
            }
        }
    }
}

fn parse(block: &str) -> Sse {
    let (mut kind, mut id, mut data) = (String::new(), String::new(), String::new());
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            kind = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("id:") {
            id = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim());
        }
    }
    if kind.is_empty() && id.is_empty() && data.is_empty() {
        return Sse::Comment;
    }
    Sse::Event {
        kind,
        id,
        data: serde_json::from_str(&data).unwrap_or(Value::Null),
    }
}

/// A pending order of a new customer: its id, the customer's token and the payment's id.
async fn pending_order(s: &Server) -> (String, String, String) {
    let lamp = s.product("Lamp", Decimal::new(3000, 2), 10).await;
    let customer = s
        .customer(&format!("ana-{}@example.com", uuid::Uuid::new_v4()))
        .await;
    let done = s.buy(&customer, &lamp, 1).await;
    (
        done["order"]["id"].as_str().unwrap().to_string(),
        customer,
        done["payment"]["id"].as_str().unwrap().to_string(),
    )
}

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn the_owner_watches_an_order_move_live_and_picks_up_where_they_left() {
    let s = start().await;
    let admin = s.admin_token().await;
    set_up_shop(&s, &admin).await;
    let (order, customer, payment) = pending_order(&s).await;
    let path = format!("/api/orders/{order}/events");
    let mut stream = Stream::open(&s, &path, &customer, None).await;
    let (kind, id, data) = stream
        .event_within(SECOND)
        .await
        .expect("the current status");
    assert_eq!((kind.as_str(), id.as_str()), ("order.status", "1"));
    assert_eq!(data["order_id"], order.as_str());
    assert_eq!(data["status"], "pending");
    assert!(data["at"].is_string());
    // A payment, then the admin's changes: each within a second, in order.
    s.call(Method::POST, "/api/payments/confirm")
        .token(&customer)
        .json(json!({"payment_id": payment}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    let (_, id, data) = stream.event_within(SECOND).await.expect("paid");
    assert_eq!((id.as_str(), data["status"].as_str()), ("2", Some("paid")));
    for (n, status) in [(3, "processing"), (4, "shipped")] {
        s.call(Method::PUT, &format!("/api/admin/orders/{order}/status"))
            .token(&admin)
            .json(json!({"status": status}))
            .send()
            .await
            .expect(StatusCode::OK, None);
        let (_, id, data) = stream.event_within(SECOND).await.expect("a change");
        assert_eq!((id, data["status"].clone()), (n.to_string(), json!(status)));
    }
    drop(stream);
    // Back after number 2: 3 and 4, then nothing until the next change.
    let mut again = Stream::open(&s, &path, &customer, Some("2")).await;
    let ids: Vec<String> = [
        again.event_within(SECOND).await.unwrap().1,
        again.event_within(SECOND).await.unwrap().1,
    ]
    .to_vec();
    assert_eq!(ids, vec!["3", "4"]);
    assert!(again
        .event_within(Duration::from_millis(200))
        .await
        .is_none());
    s.call(Method::PUT, &format!("/api/admin/orders/{order}/status"))
        .token(&admin)
        .json(json!({"status": "delivered"}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    let (_, id, data) = again.event_within(SECOND).await.expect("delivered");
    assert_eq!(
        (id.as_str(), data["status"].as_str()),
        ("5", Some("delivered"))
    );
}

#[tokio::test]
async fn only_the_owner_or_an_admin_may_watch_and_a_cancellation_is_told() {
    let s = start().await;
    let admin = s.admin_token().await;
    set_up_shop(&s, &admin).await;
    let (order, customer, _) = pending_order(&s).await;
    let path = format!("/api/orders/{order}/events");
    s.call(Method::GET, &path)
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    let stranger = s.customer("stranger@example.com").await;
    s.call(Method::GET, &path)
        .token(&stranger)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    let mut watching = Stream::open(&s, &path, &admin, None).await;
    assert_eq!(
        watching.event_within(SECOND).await.unwrap().2["status"],
        "pending"
    );
    s.call(Method::PUT, &format!("/api/orders/{order}/cancel"))
        .token(&customer)
        .send()
        .await
        .expect(StatusCode::OK, None);
    assert_eq!(
        watching.event_within(SECOND).await.unwrap().2["status"],
        "cancelled"
    );
}

#[tokio::test]
async fn an_idle_stream_sends_comments_and_ends_when_the_server_shuts_down() {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let s = start_with(commerce_http::ApiConfig {
        shutdown: Some(stopped),
        order_events_keep_alive: Duration::from_millis(100),
        ..Default::default()
    })
    .await;
    let admin = s.admin_token().await;
    set_up_shop(&s, &admin).await;
    let (order, customer, _) = pending_order(&s).await;
    let mut stream =
        Stream::open(&s, &format!("/api/orders/{order}/events"), &customer, None).await;
    assert!(matches!(
        stream.next_within(SECOND).await,
        Some(Sse::Event { .. })
    ));
    assert_eq!(stream.next_within(SECOND).await, Some(Sse::Comment));
    stop.send(true).unwrap();
    // The comment already on its way may come; then the stream ends (a live one would send
    // a comment every 100 ms, so a second of nothing is its end).
    let mut ended = false;
    for _ in 0..3 {
        match stream.next_within(SECOND).await {
            None => {
                ended = true;
                break;
            }
            Some(Sse::Comment) => continue,
            Some(other) => panic!("{other:?}"),
        }
    }
    assert!(ended, "the stream ended with the server");
}

/// Each stream holds a connection and a task: one user may keep only so many open (429
/// past it), and a user who is deactivated loses theirs at the next check.
#[tokio::test]
async fn open_streams_are_capped_per_user_and_end_when_the_user_is_deactivated() {
    let s = start_with(commerce_http::ApiConfig {
        streams: commerce_http::streams::StreamLimits {
            per_user: 2,
            total: 100,
            recheck_every: Duration::from_millis(200),
        },
        ..Default::default()
    })
    .await;
    let admin = s.admin_token().await;
    set_up_shop(&s, &admin).await;
    let (order, customer, _) = pending_order(&s).await;
    let path = format!("/api/orders/{order}/events");
    let mut first = Stream::open(&s, &path, &customer, None).await;
    let mut second = Stream::open(&s, &path, &customer, None).await;
    let third = s.call(Method::GET, &path).token(&customer).send().await;
    third.expect(StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"));
    assert!(third.header("retry-after").is_some());
    // The admin's streams are counted apart.
    let mut watched_by_admin = Stream::open(&s, &path, &admin, None).await;
    assert!(first.event_within(SECOND).await.is_some());
    assert!(second.event_within(SECOND).await.is_some());
    assert!(watched_by_admin.event_within(SECOND).await.is_some());

    // A stream that ends gives its place back.
    drop(second);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = Stream::open(&s, &path, &customer, None).await;
    assert!(again.event_within(SECOND).await.is_some());

    let me = s
        .call(Method::GET, "/api/users/profile")
        .token(&customer)
        .send()
        .await;
    let id = me.body["id"].as_str().unwrap().to_string();
    s.call(Method::PUT, &format!("/api/admin/users/{id}"))
        .token(&admin)
        .json(json!({"is_active": false}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    for stream in [&mut first, &mut again] {
        assert!(
            stream.ends_within(Duration::from_secs(3)).await,
            "the deactivated user's stream ended"
        );
    }
    assert!(
        !watched_by_admin
            .ends_within(Duration::from_millis(600))
            .await,
        "the admin's stream stays open"
    );
}
