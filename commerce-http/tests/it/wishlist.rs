//! The wishlist through the API: one entry per product, newest first, current prices and
//! stock, and products archived or deleted shown as unavailable.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::support::*;

async fn wishlist(s: &Server, token: &str) -> Value {
    let (status, _, list) = s.get_as(token, "/api/wishlist").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list
}

async fn add(s: &Server, token: &str, body: Value) -> crate::support::Reply {
    s.call(Method::POST, "/api/wishlist/items")
        .token(token)
        .json(body)
        .send()
        .await
}

#[tokio::test]
async fn a_customer_keeps_products_for_later_and_sees_them_as_they_are_now() {
    let s = start().await;
    let admin = s.admin_token().await;
    let ana = s.customer("ana@example.com").await;
    let lamp = s.product("Desk lamp", Decimal::new(3000, 2), 4).await;
    let vase = s.product("Vase", Decimal::new(1200, 2), 0).await;
    let chair = s.product("Chair", Decimal::new(9900, 2), 2).await;
    for p in [&lamp, &vase, &chair] {
        add(&s, &ana, json!({"product_id": p.id.to_string()}))
            .await
            .expect(StatusCode::CREATED, None);
    }
    // Twice is once.
    let again = add(&s, &ana, json!({"product_id": lamp.id.to_string()})).await;
    let list = again.expect(StatusCode::CREATED, None).clone();
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["product_id"].as_str().unwrap())
        .collect();
    let (lamp_id, vase_id, chair_id) = (
        lamp.id.to_string(),
        vase.id.to_string(),
        chair.id.to_string(),
    );
    assert_eq!(ids, [chair_id.as_str(), vase_id.as_str(), lamp_id.as_str()]);

    // The price changes, the vase is archived, the chair deleted.
    s.call(Method::PUT, &format!("/api/products/{lamp_id}"))
        .token(&admin)
        .json(json!({"price": "27.50"}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    s.call(Method::PUT, &format!("/api/products/{vase_id}"))
        .token(&admin)
        .json(json!({"status": "archived"}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    s.call(Method::DELETE, &format!("/api/products/{chair_id}"))
        .token(&admin)
        .send()
        .await;
    let list = wishlist(&s, &ana).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "nothing silently gone: {list}");
    let chair = &items[0]["product"];
    assert_eq!(chair["name"], "Chair");
    assert_eq!(chair["status"], "deleted");
    assert_eq!(chair["available"], false);
    assert_eq!(chair["price"], Value::Null);
    let vase = &items[1]["product"];
    assert_eq!(
        (vase["status"].clone(), vase["available"].clone()),
        (json!("archived"), json!(false))
    );
    let lamp = &items[2]["product"];
    assert_eq!(lamp["price"], json!({"amount": "27.50", "currency": "USD"}));
    assert_eq!(lamp["inventory_count"], 4);
    assert_eq!(
        (lamp["status"].clone(), lamp["available"].clone()),
        (json!("active"), json!(true))
    );

    // Removing, twice over, and another customer's list is their own.
    let removed = s
        .call(Method::DELETE, &format!("/api/wishlist/items/{lamp_id}"))
        .token(&ana)
        .send()
        .await;
    assert_eq!(
        removed.expect(StatusCode::OK, None)["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    s.call(Method::DELETE, &format!("/api/wishlist/items/{lamp_id}"))
        .token(&ana)
        .send()
        .await
        .expect(StatusCode::OK, None);
    let bea = s.customer("bea@example.com").await;
    assert_eq!(wishlist(&s, &bea).await["items"], json!([]));
}

#[tokio::test]
async fn what_cannot_be_wished_for_is_refused() {
    let s = start().await;
    let ana = s.customer("ana@example.com").await;
    let lamp = s.product("Desk lamp", Decimal::new(3000, 2), 4).await;
    // A product that is not for sale, or not there.
    let unknown = add(&s, &ana, json!({"product_id": uuid::Uuid::new_v4()})).await;
    let problem = unknown.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(problem["errors"][0]["field"], "product_id");
    // A variant of another product.
    let wrong = add(
        &s,
        &ana,
        json!({"product_id": lamp.id.to_string(), "variant_id": uuid::Uuid::new_v4()}),
    )
    .await;
    let problem = wrong.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(problem["errors"][0]["field"], "variant_id");
    // Guests have no wishlist.
    let (status, _, _) = s.get("/api/wishlist").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let bad = s
        .call(Method::DELETE, "/api/wishlist/items/not-an-id")
        .token(&ana)
        .send()
        .await;
    assert!(bad.status.is_client_error());
}
