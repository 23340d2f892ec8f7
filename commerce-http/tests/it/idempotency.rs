//! `Idempotency-Key`: a retried order is the same order; a reused key with another body is
//! refused; keys belong to their caller.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::json;

use crate::support::start;

#[tokio::test]
async fn a_retried_order_is_placed_once() {
    let s = start().await;
    let admin = s.admin_token().await;
    s.call(Method::POST, "/api/admin/shipping-methods")
        .token(&admin)
        .json(json!({"name": "Standard", "price": "5.00"}))
        .send()
        .await
        .expect(StatusCode::CREATED, None);
    let lamp = s.product("Desk lamp", Decimal::new(2500, 2), 10).await;
    let token = s.customer("ana@example.com").await;
    let body = json!({"items": [{"product_id": lamp.id.to_string(), "quantity": 2}],
        "shipping_address": {"full_name": "Ana", "line1": "1 Main St", "city": "Austin",
            "region": "TX", "postal_code": "78701", "country": "US"}});

    let first = s
        .call(Method::POST, "/api/orders")
        .token(&token)
        .header("Idempotency-Key", "order-1")
        .json(body.clone())
        .send()
        .await;
    first.expect(StatusCode::CREATED, None);
    let again = s
        .call(Method::POST, "/api/orders")
        .token(&token)
        .header("Idempotency-Key", "order-1")
        .json(body.clone())
        .send()
        .await;
    again.expect(StatusCode::CREATED, None);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let (_, _, p) = s.get(&format!("/api/products/{}", lamp.id)).await;
    assert_eq!(p["inventory_count"], 8, "reserved once");

    let mut other = body.clone();
    other["items"][0]["quantity"] = json!(1);
    s.call(Method::POST, "/api/orders")
        .token(&token)
        .header("Idempotency-Key", "order-1")
        .json(other)
        .send()
        .await
        .expect(StatusCode::CONFLICT, Some("idempotency_key_reused"));

    // Another customer's key of the same name is theirs.
    let bea = s.customer("bea@example.com").await;
    let theirs = s
        .call(Method::POST, "/api/orders")
        .token(&bea)
        .header("Idempotency-Key", "order-1")
        .json(body.clone())
        .send()
        .await;
    theirs.expect(StatusCode::CREATED, None);
    assert_ne!(theirs.body["id"], first.body["id"]);

    // Paying twice with one key makes one payment.
    let order_id = first.body["id"].as_str().unwrap();
    let intents: Vec<_> = create_intent_twice(&s, &token, order_id).await;
    assert_eq!(intents[0], intents[1]);

    // A refused request is replayed as refused (nothing ran twice), a bad key is a 422.
    s.call(Method::POST, "/api/orders")
        .token(&token)
        .header("Idempotency-Key", " ")
        .json(body.clone())
        .send()
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    let (_, _, p) = s.get(&format!("/api/products/{}", lamp.id)).await;
    assert_eq!(p["inventory_count"], 6);
}

async fn create_intent_twice(
    s: &crate::support::Server,
    token: &str,
    order_id: &str,
) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = s
            .call(Method::POST, "/api/payments/create-intent")
            .token(token)
            .header("Idempotency-Key", "pay-1")
            .json(json!({"order_id": order_id}))
            .send()
            .await;
        r.expect(StatusCode::CREATED, None);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    ids
}
