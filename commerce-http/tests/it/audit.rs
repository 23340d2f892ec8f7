//! The audit log through the API: what staff change, from where, and sign-ins; its filters,
//! pages and refusals.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

async fn audit(s: &Server, admin: &str, query: &str) -> Value {
    let (status, _, page) = s.get_as(admin, &format!("/api/admin/audit{query}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

fn actions(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_price_change_is_recorded_with_its_actor_origin_and_change() {
    let s = start().await;
    let admin = s.admin_token().await;
    let created = s
        .call(Method::POST, "/api/products")
        .token(&admin)
        .header("user-agent", "shop-admin/2.1")
        .json(json!({"name": "Desk lamp", "price": "30.00", "inventory_count": 4}))
        .send()
        .await;
    let id = created.expect(StatusCode::CREATED, None)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let changed = s
        .call(Method::PUT, &format!("/api/products/{id}"))
        .token(&admin)
        .header("user-agent", "shop-admin/2.1")
        .header("x-request-id", "price-change-1")
        .json(json!({"price": "34.50"}))
        .send()
        .await;
    changed.expect(StatusCode::OK, None);

    let page = audit(&s, &admin, "?action=product.update").await;
    assert_eq!(actions(&page), ["product.update"]);
    let entry = &page["items"][0];
    assert_eq!(entry["actor"]["email"], ADMIN_EMAIL);
    assert_eq!(entry["actor"]["role"], "admin");
    assert_eq!(entry["target"], json!({"type": "product", "id": id}));
    assert_eq!(
        entry["changes"],
        json!({"price": [
            {"amount": "30.00", "currency": "USD"},
            {"amount": "34.50", "currency": "USD"}
        ]})
    );
    assert_eq!(entry["ip"], "127.0.0.1");
    assert_eq!(entry["user_agent"], "shop-admin/2.1");
    assert_eq!(entry["request_id"], "price-change-1");
    assert_eq!(entry["outcome"], "succeeded");

    // The product's whole history, by its target.
    let history = audit(&s, &admin, &format!("?target_type=product&target_id={id}")).await;
    assert_eq!(actions(&history), ["product.update", "product.create"]);
    let created = &history["items"][1]["changes"];
    assert_eq!(created["name"], json!([null, "Desk lamp"]));
}

#[tokio::test]
async fn order_moves_and_refunds_are_recorded_and_sign_ins_too() {
    let s = start().await;
    let admin = s.admin_token().await;
    let lamp = s
        .product("Lamp", rust_decimal::Decimal::new(2000, 2), 5)
        .await;
    let customer = s.customer("cleo@example.com").await;
    let placed = s.buy(&customer, &lamp, 1).await;
    let order = placed["order"]["id"].as_str().unwrap().to_string();
    let intent = s
        .call(Method::POST, "/api/payments/create-intent")
        .token(&customer)
        .json(json!({"order_id": order}))
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
    s.call(Method::PUT, &format!("/api/admin/orders/{order}/status"))
        .token(&admin)
        .json(json!({"status": "processing"}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    s.call(Method::POST, &format!("/api/admin/orders/{order}/refund"))
        .token(&admin)
        .json(json!({"amount": "5.00"}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    // A wrong password.
    s.call(Method::POST, "/api/auth/login")
        .json(json!({"email": "cleo@example.com", "password": "not-her-password"}))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("invalid_credentials"));

    let page = audit(&s, &admin, "").await;
    assert_eq!(
        actions(&page),
        [
            "auth.login_failed",
            "refund.create",
            "order.status",
            // The customer's own checkout and payment are not staff changes.
            "auth.login",
            "product.create",
            "auth.login",
        ]
    );
    let items = page["items"].as_array().unwrap();
    assert_eq!(items[0]["actor"], Value::Null);
    assert_eq!(items[0]["outcome"], "failed");
    assert_eq!(items[0]["target"]["type"], "user");
    assert_eq!(
        items[1]["changes"]["amount"],
        json!([null, {"amount": "5.00", "currency": "USD"}])
    );
    assert_eq!(items[1]["changes"]["order_id"], json!([null, order]));
    assert_eq!(
        items[2]["changes"],
        json!({"status": ["paid", "processing"]})
    );
    assert_eq!(items[2]["target"], json!({"type": "order", "id": order}));
    // Filters: one actor, a time window.
    let me = items[1]["actor"]["id"].as_str().unwrap();
    let mine = audit(&s, &admin, &format!("?actor={me}&action=auth.login")).await;
    assert_eq!(actions(&mine), ["auth.login"]);
    let at = items[2]["at"].as_str().unwrap();
    let since = audit(&s, &admin, &format!("?from={}", at.replace('+', "%2B"))).await;
    assert_eq!(
        actions(&since),
        ["auth.login_failed", "refund.create", "order.status"]
    );
}

#[tokio::test]
async fn pages_follow_each_other_and_bad_queries_are_refused() {
    let s = start().await;
    let admin = s.admin_token().await;
    for name in ["A", "B", "C"] {
        s.call(Method::POST, "/api/admin/tax-rates")
            .token(&admin)
            .json(json!({"country": "US", "region": name, "rate": "0.05"}))
            .send()
            .await
            .expect(StatusCode::CREATED, None);
    }
    let first = audit(&s, &admin, "?target_type=tax_rate&limit=2").await;
    assert_eq!(actions(&first), ["tax_rate.create", "tax_rate.create"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = audit(
        &s,
        &admin,
        &format!("?target_type=tax_rate&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(actions(&second), ["tax_rate.create"]);
    assert_eq!(second["next_cursor"], Value::Null);
    assert_eq!(second["items"][0]["changes"]["region"], json!([null, "A"]));

    for (query, code) in [
        ("?target_id=abc", "validation_failed"),
        ("?action=Product%20Update", "validation_failed"),
        ("?cursor=zz", "validation_failed"),
    ] {
        let (status, headers, body) = s.get_as(&admin, &format!("/api/admin/audit{query}")).await;
        assert_problem(status, &headers, &body, code);
    }
    let vendor = s.user_with_role("vera@example.com", "vendor").await;
    let (status, headers, body) = s.get_as(&vendor, "/api/admin/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_problem(status, &headers, &body, "forbidden");
    let (status, _, _) = s.get("/api/admin/audit").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
