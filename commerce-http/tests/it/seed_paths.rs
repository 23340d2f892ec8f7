//! The seeds' clients were written against other paths than API.md's main ones (its alias
//! table). Each seed's own flow, driven through its own paths: same handlers, same rules.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::shopping::TEXAS;
use crate::support::{start, PASSWORD};

/// Seed 000: signs in at `POST /api/users/login`, pays at `POST /api/payments`.
#[tokio::test]
async fn seed_000_signs_in_and_pays_through_its_paths() {
    let s = start().await;
    let lamp = s.product("Lamp", Decimal::new(2500, 2), 5).await;
    s.call(Method::POST, "/api/auth/register")
        .json(json!({"email": "ana@example.com", "password": PASSWORD, "full_name": "Ana"}))
        .send()
        .await
        .expect(StatusCode::CREATED, None);
    // The same rules as the main path: a wrong password is the same 401.
    s.call(Method::POST, "/api/users/login")
        .json(json!({"email": "ana@example.com", "password": "not-the-password"}))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("invalid_credentials"));
    let login = s
        .call(Method::POST, "/api/users/login")
        .json(json!({"email": "ana@example.com", "password": PASSWORD}))
        .send()
        .await;
    let token = login.expect(StatusCode::OK, None)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let address: Value = serde_json::from_str(TEXAS).unwrap();
    let order = s
        .call(Method::POST, "/api/orders")
        .token(&token)
        .json(
            json!({"items": [{"product_id": lamp.id, "quantity": 2}], "shipping_address": address}),
        )
        .send()
        .await;
    let order_id = order.expect(StatusCode::CREATED, None)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Validation as on the main path.
    s.call(Method::POST, "/api/payments")
        .token(&token)
        .json(json!({"order_id": "not-an-id"}))
        .send()
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    let payment = s
        .call(Method::POST, "/api/payments")
        .token(&token)
        .header("Idempotency-Key", "pay-once")
        .json(json!({"order_id": order_id}))
        .send()
        .await;
    let payment = payment.expect(StatusCode::CREATED, None).clone();
    assert_eq!(payment["order_id"], order_id.as_str());
    assert!(payment["client_secret"].as_str().is_some());
    // An idempotent retry is answered from the kept response, as on the main path (the
    // header tells: a second create would find the order's open payment anyway).
    let again = s
        .call(Method::POST, "/api/payments")
        .token(&token)
        .header("Idempotency-Key", "pay-once")
        .json(json!({"order_id": order_id}))
        .send()
        .await;
    assert_eq!(again.expect(StatusCode::CREATED, None)["id"], payment["id"]);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let paid = s
        .call(Method::POST, "/api/payments/confirm")
        .token(&token)
        .json(json!({"payment_id": payment["id"]}))
        .send()
        .await;
    assert_eq!(paid.expect(StatusCode::OK, None)["status"], "succeeded");
    let order = s
        .call(Method::GET, &format!("/api/orders/{order_id}"))
        .token(&token)
        .send()
        .await;
    assert_eq!(order.expect(StatusCode::OK, None)["status"], "paid");
}

/// Seed 004: its profile at `/api/auth/profile`, its cart at `POST /api/cart` and
/// `PUT/DELETE /api/cart/{itemId}`, and the admin's `PUT /api/orders/{id}/status`.
#[tokio::test]
async fn seed_004_keeps_a_profile_and_a_cart_and_moves_orders_through_its_paths() {
    let s = start().await;
    let lamp = s.product("Lamp", Decimal::new(2500, 2), 5).await;
    let mug = s.product("Mug", Decimal::new(800, 2), 5).await;
    let token = s.customer("bo@example.com").await;

    let me = s
        .call(Method::GET, "/api/auth/profile")
        .token(&token)
        .send()
        .await;
    assert_eq!(me.expect(StatusCode::OK, None)["email"], "bo@example.com");
    s.call(Method::GET, "/api/auth/profile")
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, None);
    let renamed = s
        .call(Method::PUT, "/api/auth/profile")
        .token(&token)
        .json(json!({"full_name": "Bo Lind"}))
        .send()
        .await;
    assert_eq!(renamed.expect(StatusCode::OK, None)["full_name"], "Bo Lind");
    let main = s
        .call(Method::GET, "/api/users/profile")
        .token(&token)
        .send()
        .await;
    assert_eq!(main.body["full_name"], "Bo Lind");

    // Adding twice grows the line (add or merge), as on the main path.
    for _ in 0..2 {
        s.call(Method::POST, "/api/cart")
            .token(&token)
            .json(json!({"product_id": lamp.id, "quantity": 1}))
            .send()
            .await
            .expect(StatusCode::CREATED, None);
    }
    let cart = s
        .call(Method::POST, "/api/cart")
        .token(&token)
        .json(json!({"product_id": mug.id, "quantity": 1}))
        .send()
        .await;
    let items = cart.expect(StatusCode::CREATED, None)["items"]
        .as_array()
        .unwrap()
        .clone();
    let line = |product: &str| {
        items
            .iter()
            .find(|i| i["product_id"] == product)
            .unwrap()
            .clone()
    };
    let (lamp_line, mug_line) = (line(&lamp.id.to_string()), line(&mug.id.to_string()));
    assert_eq!(lamp_line["quantity"], 2);
    s.call(Method::POST, "/api/cart")
        .token(&token)
        .json(json!({"product_id": lamp.id, "quantity": 0}))
        .send()
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    let updated = s
        .call(
            Method::PUT,
            &format!("/api/cart/{}", lamp_line["id"].as_str().unwrap()),
        )
        .token(&token)
        .json(json!({"quantity": 3}))
        .send()
        .await;
    updated.expect(StatusCode::OK, None);
    let removed = s
        .call(
            Method::DELETE,
            &format!("/api/cart/{}", mug_line["id"].as_str().unwrap()),
        )
        .token(&token)
        .send()
        .await;
    let left = removed.expect(StatusCode::OK, None)["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["quantity"], 3);
    // A line that is not in the cart is 404, as on the main path.
    s.call(
        Method::DELETE,
        "/api/cart/8b5a1b0e-0000-4000-8000-000000000000",
    )
    .token(&token)
    .send()
    .await
    .expect(StatusCode::NOT_FOUND, Some("not_found"));

    let address: Value = serde_json::from_str(TEXAS).unwrap();
    let checkout = s
        .call(Method::POST, "/api/cart/checkout")
        .token(&token)
        .json(json!({"shipping_address": address}))
        .send()
        .await;
    let checkout = checkout.expect(StatusCode::CREATED, None).clone();
    let order_id = checkout["order"]["id"].as_str().unwrap().to_string();
    s.call(Method::POST, "/api/payments/confirm")
        .token(&token)
        .json(json!({"payment_id": checkout["payment"]["id"]}))
        .send()
        .await
        .expect(StatusCode::OK, None);

    // Admins only, and the status machine holds.
    let status = format!("/api/orders/{order_id}/status");
    s.call(Method::PUT, &status)
        .token(&token)
        .json(json!({"status": "processing"}))
        .send()
        .await
        .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    let admin = s.admin_token().await;
    s.call(Method::PUT, &status)
        .token(&admin)
        .json(json!({"status": "delivered"}))
        .send()
        .await
        .expect(StatusCode::CONFLICT, Some("invalid_transition"));
    for next in ["processing", "shipped"] {
        let moved = s
            .call(Method::PUT, &status)
            .token(&admin)
            .json(json!({"status": next}))
            .send()
            .await;
        assert_eq!(moved.expect(StatusCode::OK, None)["status"], next);
    }
}

/// Each alias is in the document, deprecated, pointing at its main path.
#[tokio::test]
async fn the_aliases_are_documented_as_deprecated_with_their_main_path() {
    let s = start().await;
    let (status, _, document) = s.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for (alias, method, main) in [
        ("/users/login", "post", "POST /api/auth/login"),
        ("/payments", "post", "POST /api/payments/create-intent"),
        ("/auth/profile", "get", "GET /api/users/profile"),
        ("/auth/profile", "put", "PUT /api/users/profile"),
        ("/cart", "post", "POST /api/cart/items"),
        ("/cart/{id}", "put", "PUT /api/cart/items/{id}"),
        ("/cart/{id}", "delete", "DELETE /api/cart/items/{id}"),
        (
            "/orders/{id}/status",
            "put",
            "PUT /api/admin/orders/{id}/status",
        ),
        ("/payment/webhook", "post", "POST /api/webhooks/stripe"),
    ] {
        let operation = &document["paths"][alias][method];
        assert_eq!(operation["deprecated"], true, "{method} {alias}");
        let said = format!(
            "{} {}",
            operation["summary"].as_str().unwrap_or_default(),
            operation["description"].as_str().unwrap_or_default()
        );
        assert!(said.contains(main), "{method} {alias}: {said}");
    }
}
