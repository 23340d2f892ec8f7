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

    // Paying twice with one key: the second answer is the first one, replayed.
    let order_id = first.body["id"].as_str().unwrap();
    let mut replies = Vec::new();
    for _ in 0..2 {
        let r = s
            .call(Method::POST, "/api/payments/create-intent")
            .token(&token)
            .header("Idempotency-Key", "pay-1")
            .json(json!({"order_id": order_id}))
            .send()
            .await;
        r.expect(StatusCode::CREATED, None);
        replies.push(r);
    }
    assert_eq!(replies[0].header("idempotent-replayed"), None);
    assert_eq!(replies[1].header("idempotent-replayed"), Some("true"));
    assert_eq!(replies[0].body["id"], replies[1].body["id"]);

    // A blank key is a field error, and nothing is reserved.
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

#[tokio::test]
async fn a_refusal_is_replayed_even_after_the_shop_changed() {
    let s = start().await;
    let admin = s.admin_token().await;
    s.call(Method::POST, "/api/admin/shipping-methods")
        .token(&admin)
        .json(json!({"name": "Standard", "price": "5.00"}))
        .send()
        .await
        .expect(StatusCode::CREATED, None);
    let lamp = s.product("Desk lamp", Decimal::new(2500, 2), 1).await;
    let token = s.customer("ana@example.com").await;
    let body = json!({"items": [{"product_id": lamp.id.to_string(), "quantity": 3}],
        "shipping_address": {"full_name": "Ana", "line1": "1 Main St", "city": "Austin",
            "region": "TX", "postal_code": "78701", "country": "US"}});
    let order = |key: &'static str| {
        s.call(Method::POST, "/api/orders")
            .token(&token)
            .header("Idempotency-Key", key)
            .json(body.clone())
            .send()
    };
    order("k")
        .await
        .expect(StatusCode::CONFLICT, Some("out_of_stock"));
    s.call(Method::PUT, &format!("/api/products/{}", lamp.id))
        .token(&admin)
        .json(json!({"inventory_count": 10}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    // The retry gets the first answer, not a second attempt; a new key is a new attempt.
    let retried = order("k").await;
    retried.expect(StatusCode::CONFLICT, Some("out_of_stock"));
    assert_eq!(retried.header("idempotent-replayed"), Some("true"));
    order("k2").await.expect(StatusCode::CREATED, None);
}
