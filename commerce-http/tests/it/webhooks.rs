//! Outbound webhooks through the API, delivered to a receiver on 127.0.0.1 and verified with
//! the Standard Webhooks algorithm as a receiver would.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commerce_core::webhook_signing::{verify, WebhookSecret};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{handler, Body, EndpointExt, Request, Response, Route};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::support::*;

/// A delivery as the receiver got it: its headers and body.
#[derive(Debug, Clone)]
struct Got {
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Receiver {
    got: Mutex<Vec<Got>>,
    /// Statuses to answer with, in order; 204 once they run out.
    answers: Mutex<VecDeque<u16>>,
}

#[handler]
async fn receive(request: &Request, body: Body, receiver: Data<&Arc<Receiver>>) -> Response {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let body = body.into_vec().await.unwrap_or_default();
    receiver.got.lock().unwrap().push(Got {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    let status = receiver.answers.lock().unwrap().pop_front().unwrap_or(204);
    Response::builder()
        .status(poem::http::StatusCode::from_u16(status).unwrap())
        .finish()
}

async fn receiver(answers: &[u16]) -> (String, Arc<Receiver>) {
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let receiver = Arc::new(Receiver::default());
    receiver.answers.lock().unwrap().extend(answers);
    let app = Route::new().at("/*path", receive).data(receiver.clone());
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    (format!("http://{addr}/hooks"), receiver)
}

/// Waits (up to 15 s) for the receiver to have `n` deliveries.
async fn received(receiver: &Receiver, n: usize) -> Vec<Got> {
    for _ in 0..300 {
        let got = receiver.got.lock().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the receiver got {} deliveries, not {n}",
        receiver.got.lock().unwrap().len()
    );
}

fn verified(secret: &str, got: &Got) {
    let now = chrono::Utc::now().timestamp();
    verify(
        &WebhookSecret::parse(secret).unwrap(),
        &got.id,
        &got.timestamp,
        &got.signature,
        &got.body,
        now,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", got.id));
}

async fn endpoint(s: &Server, admin: &str, url: &str, events: Value) -> Value {
    let created = s
        .call(Method::POST, "/api/admin/webhooks")
        .token(admin)
        .json(json!({"url": url, "events": events, "description": "the ERP"}))
        .send()
        .await;
    let body = created.expect(StatusCode::CREATED, None).clone();
    let id = body["id"].as_str().unwrap();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/admin/webhooks/{id}").as_str())
    );
    body
}

#[tokio::test]
async fn an_order_placed_and_paid_arrives_as_created_and_paid_signed() {
    let s = start_with_webhooks(&[Duration::ZERO]).await;
    let admin = s.admin_token().await;
    let (url, receiver) = receiver(&[]).await;
    let hook = endpoint(&s, &admin, &url, json!(["order.created", "order.paid"])).await;
    let secret = hook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(hook["events"], json!(["order.created", "order.paid"]));
    assert_eq!(hook["active"], true);

    let lamp = s.product("Lamp", Decimal::new(2500, 2), 5).await;
    let customer = s.customer("ana@example.com").await;
    let placed = s.buy(&customer, &lamp, 2).await;
    let order = &placed["order"];
    let intent = s
        .call(Method::POST, "/api/payments/create-intent")
        .token(&customer)
        .json(json!({"order_id": order["id"]}))
        .send()
        .await
        .expect(StatusCode::CREATED, None)
        .clone();
    s.call(Method::POST, "/api/payments/confirm")
        .token(&customer)
        .json(json!({"payment_id": intent["id"]}))
        .send()
        .await
        .expect(StatusCode::OK, None);

    let got = received(&receiver, 2).await;
    let types: Vec<Value> = got.iter().map(|g| g.json()["type"].clone()).collect();
    assert_eq!(types, [json!("order.created"), json!("order.paid")]);
    for g in &got {
        verified(secret, g);
        assert!(g.id.starts_with("evt_"));
        let data = &g.json()["data"];
        assert_eq!(data["id"], order["id"]);
        assert_eq!(data["number"], order["number"]);
        assert_eq!(data["total"], order["totals"]["total"]);
    }
    assert_ne!(got[0].id, got[1].id);
    assert_eq!(got[1].json()["data"]["status"], "paid");
    // The secret is shown on creation only.
    let (status, _, shown) = s
        .get_as(
            &admin,
            &format!("/api/admin/webhooks/{}", hook["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(shown.get("secret").is_none());
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_event_on_the_third_attempt() {
    let s = start_with_webhooks(&[Duration::ZERO, Duration::from_secs(1)]).await;
    let admin = s.admin_token().await;
    let (url, receiver) = receiver(&[500, 500]).await;
    let hook = endpoint(&s, &admin, &url, json!(["*"])).await;
    let id = hook["id"].as_str().unwrap();
    let queued = s
        .call(Method::POST, &format!("/api/admin/webhooks/{id}/test"))
        .token(&admin)
        .send()
        .await;
    let delivery = queued.expect(StatusCode::ACCEPTED, None)["delivery_id"]
        .as_str()
        .unwrap()
        .to_string();
    let got = received(&receiver, 3).await;
    assert!(got.iter().all(|g| g.id == got[0].id), "one webhook-id");
    assert_eq!(got[2].json()["type"], "webhook.test");
    verified(hook["secret"].as_str().unwrap(), &got[2]);
    // The listing shows the three attempts and the success (recorded after the answer).
    let mut listed = Value::Null;
    for _ in 0..100 {
        let (_, _, page) = s
            .get_as(&admin, &format!("/api/admin/webhooks/{id}/deliveries"))
            .await;
        listed = page["items"][0].clone();
        if listed["state"] == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(listed["id"], delivery);
    assert_eq!(listed["state"], "succeeded");
    assert_eq!(listed["attempts"], 3);
    assert_eq!(listed["last_status_code"], 204);
    assert_eq!(listed["event_type"], "webhook.test");
    assert_eq!(listed["event_id"], got[0].id);

    // Sent again by hand: a fourth delivery with the same id.
    s.call(
        Method::POST,
        &format!("/api/admin/webhooks/{id}/deliveries/{delivery}/retry"),
    )
    .token(&admin)
    .send()
    .await
    .expect(StatusCode::ACCEPTED, None);
    let got = received(&receiver, 4).await;
    assert_eq!(got[3].id, got[0].id);
}

#[tokio::test]
async fn endpoints_are_managed_by_admins_only_and_checked() {
    let s = start_with_webhooks(&[Duration::ZERO]).await;
    let admin = s.admin_token().await;
    let customer = s.customer("ana@example.com").await;
    s.call(Method::GET, "/api/admin/webhooks")
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    s.call(Method::GET, "/api/admin/webhooks")
        .token(&customer)
        .send()
        .await
        .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    for (body, field) in [
        (
            json!({"url": "ftp://example.com/in", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://user:pw@example.com/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com/#x", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com/in", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.com/in", "events": ["order.shipped"]}),
            "events[0]",
        ),
    ] {
        let r = s
            .call(Method::POST, "/api/admin/webhooks")
            .token(&admin)
            .json(body.clone())
            .send()
            .await;
        let problem = r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }

    let a = endpoint(
        &s,
        &admin,
        "https://erp.example.com/in",
        json!(["*", "order.paid"]),
    )
    .await;
    // "*" already says everything.
    assert_eq!(a["events"], json!(["*"]));
    let id = a["id"].as_str().unwrap();
    let b = endpoint(
        &s,
        &admin,
        "https://crm.example.com/in",
        json!(["customer.created"]),
    )
    .await;
    let (_, _, page) = s.get_as(&admin, "/api/admin/webhooks?limit=1").await;
    assert_eq!(page["items"][0]["id"], a["id"]);
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let (_, _, rest) = s
        .get_as(
            &admin,
            &format!("/api/admin/webhooks?limit=1&cursor={cursor}"),
        )
        .await;
    assert_eq!(rest["items"][0]["id"], b["id"]);
    assert_eq!(rest["next_cursor"], Value::Null);

    // A replacement keeps `active` when it is not sent.
    let off = s
        .call(Method::PUT, &format!("/api/admin/webhooks/{id}"))
        .token(&admin)
        .json(
            json!({"url": "https://erp.example.com/v2", "events": ["order.paid"], "active": false}),
        )
        .send()
        .await;
    assert_eq!(off.expect(StatusCode::OK, None)["active"], false);
    let kept = s
        .call(Method::PUT, &format!("/api/admin/webhooks/{id}"))
        .token(&admin)
        .json(json!({"url": "https://erp.example.com/v3", "events": ["order.paid"]}))
        .send()
        .await;
    let kept = kept.expect(StatusCode::OK, None);
    assert_eq!(kept["active"], false);
    assert_eq!(kept["url"], "https://erp.example.com/v3");
    assert_eq!(kept["description"], Value::Null);

    let rotated = s
        .call(
            Method::POST,
            &format!("/api/admin/webhooks/{id}/rotate-secret"),
        )
        .token(&admin)
        .send()
        .await;
    let rotated = rotated.expect(StatusCode::OK, None);
    assert!(rotated["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_ne!(rotated["secret"], a["secret"]);

    let unknown = uuid::Uuid::new_v4();
    s.call(
        Method::POST,
        &format!("/api/admin/webhooks/{id}/deliveries/{unknown}/retry"),
    )
    .token(&admin)
    .send()
    .await
    .expect(StatusCode::NOT_FOUND, Some("not_found"));
    s.call(Method::POST, &format!("/api/admin/webhooks/{unknown}/test"))
        .token(&admin)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    s.call(Method::DELETE, &format!("/api/admin/webhooks/{id}"))
        .token(&admin)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT, None);
    s.call(Method::GET, &format!("/api/admin/webhooks/{id}"))
        .token(&admin)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
}

#[tokio::test]
async fn private_targets_are_refused_where_the_server_does_not_allow_them() {
    let s = start().await;
    let admin = s.admin_token().await;
    for url in [
        "http://127.0.0.1:9/in",
        "http://localhost/in",
        "http://169.254.169.254/x",
    ] {
        let r = s
            .call(Method::POST, "/api/admin/webhooks")
            .token(&admin)
            .json(json!({"url": url, "events": ["*"]}))
            .send()
            .await;
        let problem = r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
        assert_eq!(problem["errors"][0]["field"], "url", "{url}");
    }
}

#[tokio::test]
async fn a_guest_waiting_for_a_sold_out_product_is_mailed_once_when_it_is_back() {
    let s = start().await;
    let vase = s.product("Vase", Decimal::TEN, 0).await;
    let path = format!("/api/products/{}/stock-alerts", vase.id);
    let asked = s
        .call(Method::POST, &path)
        .json(json!({"email": " Ana@Example.com "}))
        .send()
        .await;
    let alert = asked.expect(StatusCode::CREATED, None).clone();
    assert_eq!(alert["email"], "ana@example.com");
    assert_eq!(alert["product_id"], vase.id.to_string());
    assert_eq!(alert["variant_id"], Value::Null);
    // Asked twice: one alert.
    let again = s
        .call(Method::POST, &path)
        .json(json!({"email": "ana@example.com"}))
        .send()
        .await;
    assert_eq!(again.expect(StatusCode::CREATED, None)["id"], alert["id"]);
    s.call(Method::POST, &path)
        .json(json!({}))
        .send()
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    s.call(
        Method::POST,
        &format!("/api/products/{}/stock-alerts", uuid::Uuid::new_v4()),
    )
    .json(json!({"email": "ana@example.com"}))
    .send()
    .await
    .expect(StatusCode::NOT_FOUND, Some("not_found"));
    let lamp = s.product("Lamp", Decimal::TEN, 3).await;
    s.call(
        Method::POST,
        &format!("/api/products/{}/stock-alerts", lamp.id),
    )
    .json(json!({"email": "ana@example.com"}))
    .send()
    .await
    .expect(StatusCode::CONFLICT, Some("conflict"));

    // Nothing is sent while it is sold out; restocked, one mail, and only one.
    s.shop.sweep().await.unwrap();
    let admin = s.admin_token().await;
    s.call(Method::PUT, &format!("/api/products/{}", vase.id))
        .token(&admin)
        .json(json!({"inventory_count": 5}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    assert_eq!(s.shop.sweep().await.unwrap().stock_alerts_sent, 1);
    assert_eq!(s.shop.sweep().await.unwrap().stock_alerts_sent, 0);
    let mails: Vec<String> = std::fs::read_dir(&s.mail_dir)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .filter(|t| t.contains("Subject: Back in stock: Vase"))
        .collect();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: ana@example.com"));
}
