//! The shopping flow over HTTP: guest cart, sign-in merging it, codes, delivery, checkout,
//! payment with the test provider, the order's life, cancellation; and who may do what.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::support::{start, Server};

/// The admin sets up shipping, tax and a code through the API.
pub(crate) async fn set_up_shop(s: &Server, admin: &str) -> (String, String) {
    let standard = s
        .call(Method::POST, "/api/admin/shipping-methods")
        .token(admin)
        .json(json!({"name": "Standard", "price": "5.00", "free_above": "100"}))
        .send()
        .await;
    let standard = standard.expect(StatusCode::CREATED, None)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let express = s
        .call(Method::POST, "/api/admin/shipping-methods")
        .token(admin)
        .json(json!({"name": "Express", "price": 15}))
        .send()
        .await;
    let express = express.expect(StatusCode::CREATED, None)["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.call(Method::POST, "/api/admin/tax-rates")
        .token(admin)
        .json(json!({"country": "US", "region": "TX", "rate": "0.0825"}))
        .send()
        .await
        .expect(StatusCode::CREATED, None);
    let code = s
        .call(Method::POST, "/api/admin/discounts")
        .token(admin)
        .json(json!({"code": "welcome10", "kind": "percent", "value": "10"}))
        .send()
        .await;
    let code = code.expect(StatusCode::CREATED, None).clone();
    assert_eq!(code["code"], "WELCOME10");
    assert_eq!(code["class"], "order");
    let big = s
        .call(Method::POST, "/api/admin/discounts")
        .token(admin)
        .json(json!({"code": "BIGSPENDER", "kind": "fixed", "value": "20", "min_subtotal": "500"}))
        .send()
        .await;
    big.expect(StatusCode::CREATED, None);
    (standard, express)
}

fn money(v: &Value) -> (&str, &str) {
    (
        v["amount"].as_str().unwrap_or("?"),
        v["currency"].as_str().unwrap_or("?"),
    )
}

pub(crate) const TEXAS: &str = r#"{"full_name": "Ana Lima", "line1": "1 Main St", "city": "Austin",
    "region": "TX", "postal_code": "78701", "country": "US"}"#;

#[tokio::test]
async fn guest_cart_merge_code_delivery_checkout_pay_ship_deliver() {
    let s = start().await;
    let admin = s.admin_token().await;
    let (standard, _express) = set_up_shop(&s, &admin).await;
    let lamp = s.product("Desk lamp", Decimal::new(2500, 2), 10).await;
    let mug = s.product("Mug", Decimal::new(1250, 2), 3).await;

    // A guest's first write creates the cart and hands out its token.
    let added = s
        .call(Method::POST, "/api/cart/items")
        .json(json!({"product_id": lamp.id.to_string(), "quantity": 2}))
        .send()
        .await;
    added.expect(StatusCode::CREATED, None);
    let cart_token = added
        .header("x-cart-token")
        .expect("a cart token")
        .to_string();
    let first_version = added.header("etag").expect("an ETag").to_string();
    assert_eq!(first_version, format!("\"{}\"", added.body["version"]));
    assert_eq!(money(&added.body["totals"]["subtotal"]), ("50.00", "USD"));
    assert_eq!(money(&added.body["totals"]["shipping"]), ("0.00", "USD"));

    // Too many mugs: 409 and the cart is unchanged.
    s.call(Method::POST, "/api/cart/items")
        .cart(Some(&cart_token))
        .json(json!({"product_id": mug.id.to_string(), "quantity": 4}))
        .send()
        .await
        .expect(StatusCode::CONFLICT, Some("out_of_stock"));
    let cart = s
        .call(Method::GET, "/api/cart")
        .cart(Some(&cart_token))
        .send()
        .await;
    assert_eq!(cart.body["items"].as_array().unwrap().len(), 1);
    assert!(
        cart.header("x-cart-token").is_none(),
        "only a new cart's token is sent"
    );

    let with_mug = s
        .call(Method::POST, "/api/cart/items")
        .cart(Some(&cart_token))
        .json(json!({"product_id": mug.id.to_string(), "quantity": 1}))
        .send()
        .await;
    with_mug.expect(StatusCode::CREATED, None);
    let current = with_mug.body["version"].to_string();

    // A stale If-Match is refused; the right one (quoted or bare) goes through.
    let code = s
        .call(Method::POST, "/api/cart/discounts")
        .cart(Some(&cart_token))
        .header("If-Match", &first_version)
        .json(json!({"code": "welcome10"}))
        .send()
        .await;
    code.expect(StatusCode::PRECONDITION_FAILED, Some("version_mismatch"));
    let coded = s
        .call(Method::POST, "/api/cart/discounts")
        .cart(Some(&cart_token))
        .header("If-Match", &current)
        .json(json!({"code": "welcome10"}))
        .send()
        .await;
    let coded = coded.expect(StatusCode::OK, None).clone();
    assert_eq!(coded["discount_codes"], json!(["WELCOME10"]));
    assert_eq!(money(&coded["totals"]["subtotal"]), ("62.50", "USD"));
    assert_eq!(money(&coded["totals"]["discount"]), ("6.25", "USD"));
    assert_eq!(coded["applied_promotions"][0]["code"], "WELCOME10");

    // A code the cart does not qualify for yet is kept and explained; an unknown one is 422.
    let kept = s
        .call(Method::POST, "/api/cart/discounts")
        .cart(Some(&cart_token))
        .json(json!({"code": "BIGSPENDER"}))
        .send()
        .await;
    let kept = kept.expect(StatusCode::OK, None).clone();
    let rejected = &kept["rejected_promotions"][0];
    assert_eq!(
        (rejected["code"].as_str(), rejected["reason"].as_str()),
        (Some("BIGSPENDER"), Some("minimum_not_met"))
    );
    let unknown = s
        .call(Method::POST, "/api/cart/discounts")
        .cart(Some(&cart_token))
        .json(json!({"code": "NOPE"}))
        .send()
        .await;
    unknown.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_discount"));
    assert_eq!(unknown.body["reason"], "unknown_code");
    s.call(Method::DELETE, "/api/cart/discounts/bigspender")
        .cart(Some(&cart_token))
        .send()
        .await
        .expect(StatusCode::OK, None);

    // Signing in with the guest token merges the cart.
    let customer = s.customer("ana@example.com").await;
    let login = s
        .call(Method::POST, "/api/auth/login")
        .cart(Some(&cart_token))
        .json(json!({"email": "ana@example.com", "password": crate::support::PASSWORD}))
        .send()
        .await;
    let token = login.expect(StatusCode::OK, None)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let _ = customer;
    let mine = s.call(Method::GET, "/api/cart").token(&token).send().await;
    let mine = mine.expect(StatusCode::OK, None).clone();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    assert_eq!(mine["discount_codes"], json!(["WELCOME10"]));

    // Delivery to Texas: 8.25 % tax on the discounted lines, standard shipping.
    let address: Value = serde_json::from_str(TEXAS).unwrap();
    let delivered = s
        .call(Method::PUT, "/api/cart/delivery")
        .token(&token)
        .json(json!({"shipping_address": address, "shipping_method": standard}))
        .send()
        .await;
    let priced = delivered.expect(StatusCode::OK, None).clone();
    // 62.50 - 6.25 = 56.25; tax per line (line rounding): lamp 45.00 * 0.0825 = 3.7125 -> 3.71,
    // mug 11.25 * 0.0825 = 0.928125 -> 0.93; 4.64. Shipping 5.00 untaxed.
    assert_eq!(money(&priced["totals"]["tax"]), ("4.64", "USD"));
    assert_eq!(money(&priced["totals"]["shipping"]), ("5.00", "USD"));
    assert_eq!(money(&priced["totals"]["total"]), ("65.89", "USD"));
    let line_taxes: Vec<&str> = priced["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["tax"]["amount"].as_str().unwrap())
        .collect();
    assert_eq!(line_taxes.len(), 2);

    let checkout = s
        .call(Method::POST, "/api/cart/checkout")
        .token(&token)
        .json(json!({"shipping_address": address}))
        .send()
        .await;
    let done = checkout.expect(StatusCode::CREATED, None).clone();
    let order = &done["order"];
    assert_eq!(order["status"], "pending");
    assert_eq!(money(&order["totals"]["total"]), ("65.89", "USD"));
    assert_eq!(order["status_history"][0]["status"], "pending");
    assert!(checkout
        .header("location")
        .unwrap()
        .ends_with(order["id"].as_str().unwrap()));
    let payment = &done["payment"];
    assert!(done.get("payment_error").is_none(), "{done}");
    assert_eq!(payment["provider"], "test");
    assert_eq!(payment["status"], "requires_payment");
    let order_id = order["id"].as_str().unwrap().to_string();

    // Stock is reserved by the pending order; the cart is empty.
    let (_, _, lamp_now) = s.get(&format!("/api/products/{}", lamp.id)).await;
    assert_eq!(lamp_now["inventory_count"], 8);
    let empty = s.call(Method::GET, "/api/cart").token(&token).send().await;
    assert_eq!(empty.body["items"].as_array().unwrap().len(), 0);

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
    let order = order.expect(StatusCode::OK, None).clone();
    assert_eq!(order["status"], "paid");
    assert_eq!(order["payment_status"], "succeeded");

    // The admin ships and delivers; skipping a step is refused.
    s.call(Method::PUT, &format!("/api/admin/orders/{order_id}/status"))
        .token(&admin)
        .json(json!({"status": "delivered"}))
        .send()
        .await
        .expect(StatusCode::CONFLICT, Some("invalid_transition"));
    for status in ["processing", "shipped", "delivered"] {
        let r = s
            .call(Method::PUT, &format!("/api/admin/orders/{order_id}/status"))
            .token(&admin)
            .json(json!({"status": status}))
            .send()
            .await;
        assert_eq!(r.expect(StatusCode::OK, None)["status"], status);
    }
    // A delivered order can no longer be cancelled by its customer.
    s.call(Method::PUT, &format!("/api/orders/{order_id}/cancel"))
        .token(&token)
        .send()
        .await
        .expect(StatusCode::CONFLICT, Some("invalid_transition"));
    let mine = s
        .call(Method::GET, "/api/users/orders")
        .token(&token)
        .send()
        .await;
    let mine = mine.expect(StatusCode::OK, None).clone();
    assert_eq!(mine["items"][0]["status"], "delivered");
    assert_eq!(
        mine["items"][0]["status_history"].as_array().unwrap().len(),
        5
    );

    let dashboard = s
        .call(Method::GET, "/api/admin/dashboard")
        .token(&admin)
        .send()
        .await;
    let dashboard = dashboard.expect(StatusCode::OK, None).clone();
    assert_eq!(money(&dashboard["revenue"]), ("65.89", "USD"));
}

#[tokio::test]
async fn cancelling_gives_stock_back_and_refunds_a_paid_order() {
    let s = start().await;
    let admin = s.admin_token().await;
    set_up_shop(&s, &admin).await;
    let lamp = s.product("Desk lamp", Decimal::new(2500, 2), 5).await;
    let token = s.customer("ana@example.com").await;
    let address: Value = serde_json::from_str(TEXAS).unwrap();

    let order = s
        .call(Method::POST, "/api/orders")
        .token(&token)
        .json(
            json!({"items": [{"product_id": lamp.id.to_string(), "quantity": 2}],
            "shipping_address": address}),
        )
        .send()
        .await;
    let order = order.expect(StatusCode::CREATED, None).clone();
    // The method defaults to the cheapest active one.
    assert_eq!(order["shipping_method"]["name"], "Standard");
    let id = order["id"].as_str().unwrap().to_string();
    let (_, _, p) = s.get(&format!("/api/products/{}", lamp.id)).await;
    assert_eq!(p["inventory_count"], 3);

    let intent = s
        .call(Method::POST, "/api/payments/create-intent")
        .token(&token)
        .json(json!({"order_id": id}))
        .send()
        .await;
    let intent = intent.expect(StatusCode::CREATED, None).clone();
    assert!(intent["provider_reference"].as_str().is_some());
    s.call(Method::POST, "/api/payments/confirm")
        .token(&token)
        .json(json!({"payment_id": intent["id"]}))
        .send()
        .await
        .expect(StatusCode::OK, None);

    let cancelled = s
        .call(Method::PUT, &format!("/api/orders/{id}/cancel"))
        .token(&token)
        .send()
        .await;
    let cancelled = cancelled.expect(StatusCode::OK, None).clone();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["payment_status"], "refunded");
    let (_, _, p) = s.get(&format!("/api/products/{}", lamp.id)).await;
    assert_eq!(p["inventory_count"], 5);
    // Twice is a conflict, not a second refund.
    s.call(Method::PUT, &format!("/api/orders/{id}/cancel"))
        .token(&token)
        .send()
        .await
        .expect(StatusCode::CONFLICT, Some("invalid_transition"));

    // A direct order with a code that does not apply reserves nothing.
    let refused = s
        .call(Method::POST, "/api/orders")
        .token(&token)
        .json(
            json!({"items": [{"product_id": lamp.id.to_string(), "quantity": 1}],
            "shipping_address": address, "discount_codes": ["BIGSPENDER"]}),
        )
        .send()
        .await;
    refused.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_discount"));
    assert_eq!(refused.body["reason"], "minimum_not_met");
    let (_, _, p) = s.get(&format!("/api/products/{}", lamp.id)).await;
    assert_eq!(p["inventory_count"], 5);

    // More than is in stock: 409, nothing reserved.
    s.call(Method::POST, "/api/orders")
        .token(&token)
        .json(
            json!({"items": [{"product_id": lamp.id.to_string(), "quantity": 6}],
            "shipping_address": address}),
        )
        .send()
        .await
        .expect(StatusCode::CONFLICT, Some("out_of_stock"));
    let (_, _, p) = s.get(&format!("/api/products/{}", lamp.id)).await;
    assert_eq!(p["inventory_count"], 5);
}

#[tokio::test]
async fn a_guest_checks_out_and_pays_with_the_client_secret() {
    let s = start().await;
    let admin = s.admin_token().await;
    set_up_shop(&s, &admin).await;
    let mug = s.product("Mug", Decimal::new(1250, 2), 3).await;
    let added = s
        .call(Method::POST, "/api/cart/items")
        .json(json!({"product_id": mug.id.to_string(), "quantity": 1}))
        .send()
        .await;
    let cart = added.header("x-cart-token").unwrap().to_string();
    let address: Value = serde_json::from_str(TEXAS).unwrap();
    s.call(Method::POST, "/api/cart/checkout")
        .cart(Some(&cart))
        .json(json!({"shipping_address": address}))
        .send()
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    let done = s
        .call(Method::POST, "/api/cart/checkout")
        .cart(Some(&cart))
        .json(json!({"shipping_address": address, "email": "guest@example.com"}))
        .send()
        .await;
    let done = done.expect(StatusCode::CREATED, None).clone();
    assert_eq!(done["order"]["user_id"], Value::Null);
    let payment = &done["payment"];
    // Without the secret a guest cannot touch the payment.
    s.call(Method::POST, "/api/payments/confirm")
        .json(json!({"payment_id": payment["id"], "client_secret": "guess"}))
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    let paid = s
        .call(Method::POST, "/api/payments/confirm")
        .json(json!({"payment_id": payment["id"], "client_secret": payment["client_secret"]}))
        .send()
        .await;
    assert_eq!(paid.expect(StatusCode::OK, None)["status"], "succeeded");
}

#[tokio::test]
async fn who_may_do_what() {
    let s = start().await;
    let admin = s.admin_token().await;
    set_up_shop(&s, &admin).await;
    let customer = s.customer("ana@example.com").await;
    let other = s.customer("bea@example.com").await;
    let vendor = s.user_with_role("vera@example.com", "vendor").await;
    let rival = s.user_with_role("rick@example.com", "vendor").await;

    let product = json!({"name": "Tea pot", "description": "Cast iron", "price": "30.00",
        "inventory_count": 4});
    s.call(Method::POST, "/api/products")
        .token(&customer)
        .json(product.clone())
        .send()
        .await
        .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    s.call(Method::POST, "/api/products")
        .json(product.clone())
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    let created = s
        .call(Method::POST, "/api/products")
        .token(&vendor)
        .json(product.clone())
        .send()
        .await;
    let created = created.expect(StatusCode::CREATED, None).clone();
    assert_eq!(created["status"], "pending_approval");
    let id = created["id"].as_str().unwrap().to_string();
    // Not public until approved, but its vendor sees it.
    s.call(Method::GET, &format!("/api/products/{id}"))
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    s.call(Method::GET, &format!("/api/products/{id}"))
        .token(&vendor)
        .send()
        .await
        .expect(StatusCode::OK, None);
    // Another vendor's product: unseen while pending, then seen but not theirs to change.
    s.call(Method::PUT, &format!("/api/products/{id}"))
        .token(&rival)
        .json(json!({"price": "1.00"}))
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    s.call(Method::PUT, &format!("/api/admin/products/{id}/approve"))
        .token(&vendor)
        .send()
        .await
        .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    let approved = s
        .call(Method::PUT, &format!("/api/admin/products/{id}/approve"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(approved.expect(StatusCode::OK, None)["status"], "active");
    let version = approved.header("etag").unwrap().to_string();
    s.call(Method::PUT, &format!("/api/products/{id}"))
        .token(&rival)
        .json(json!({"price": "1.00"}))
        .send()
        .await
        .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    s.call(Method::DELETE, &format!("/api/products/{id}"))
        .token(&rival)
        .send()
        .await
        .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    let updated = s
        .call(Method::PUT, &format!("/api/products/{id}"))
        .token(&vendor)
        .header("If-Match", &version)
        .json(json!({"price": 27.5}))
        .send()
        .await;
    assert_eq!(
        money(&updated.expect(StatusCode::OK, None)["price"]),
        ("27.50", "USD")
    );
    s.call(Method::PUT, &format!("/api/products/{id}"))
        .token(&vendor)
        .header("If-Match", &version)
        .json(json!({"price": "26"}))
        .send()
        .await
        .expect(StatusCode::PRECONDITION_FAILED, Some("version_mismatch"));

    // Nobody reads another customer's order.
    let address: Value = serde_json::from_str(TEXAS).unwrap();
    let order = s
        .call(Method::POST, "/api/orders")
        .token(&customer)
        .json(json!({"items": [{"product_id": id, "quantity": 1}], "shipping_address": address}))
        .send()
        .await;
    let order_id = order.expect(StatusCode::CREATED, None)["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (who, status) in [
        (&other, StatusCode::NOT_FOUND),
        (&vendor, StatusCode::NOT_FOUND),
        (&admin, StatusCode::OK),
        (&customer, StatusCode::OK),
    ] {
        let r = s
            .call(Method::GET, &format!("/api/orders/{order_id}"))
            .token(who)
            .send()
            .await;
        assert_eq!(r.status, status, "{}", r.text);
    }
    s.call(Method::PUT, &format!("/api/orders/{order_id}/cancel"))
        .token(&other)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    for path in [
        "/api/admin/dashboard",
        "/api/admin/users",
        "/api/admin/orders",
    ] {
        s.call(Method::GET, path)
            .token(&customer)
            .send()
            .await
            .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    }
}

#[tokio::test]
async fn buyers_review_and_admins_moderate() {
    let s = start().await;
    let admin = s.admin_token().await;
    set_up_shop(&s, &admin).await;
    let lamp = s.product("Desk lamp", Decimal::new(2500, 2), 5).await;
    let buyer = s.customer("ana@example.com").await;
    let stranger = s.customer("bea@example.com").await;
    let address: Value = serde_json::from_str(TEXAS).unwrap();
    let order = s
        .call(Method::POST, "/api/orders")
        .token(&buyer)
        .json(
            json!({"items": [{"product_id": lamp.id.to_string(), "quantity": 1}],
            "shipping_address": address}),
        )
        .send()
        .await;
    let order_id = order.expect(StatusCode::CREATED, None)["id"].clone();
    let intent = s
        .call(Method::POST, "/api/payments/create-intent")
        .token(&buyer)
        .json(json!({"order_id": order_id}))
        .send()
        .await;
    s.call(Method::POST, "/api/payments/confirm")
        .token(&buyer)
        .json(json!({"payment_id": intent.body["id"]}))
        .send()
        .await
        .expect(StatusCode::OK, None);

    let path = format!("/api/products/{}/reviews", lamp.id);
    let review = json!({"rating": 4, "title": "Bright", "body": "Lights the desk well."});
    s.call(Method::POST, &path)
        .token(&stranger)
        .json(review.clone())
        .send()
        .await
        .expect(StatusCode::FORBIDDEN, Some("forbidden"));
    let mut too_high = review.clone();
    too_high["rating"] = json!(6);
    let r = s
        .call(Method::POST, &path)
        .token(&buyer)
        .json(too_high)
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "rating");
    let created = s
        .call(Method::POST, &path)
        .token(&buyer)
        .json(review)
        .send()
        .await;
    let created = created.expect(StatusCode::CREATED, None).clone();
    let (_, _, listed) = s.get(&path).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let (_, _, product) = s.get(&format!("/api/products/{}", lamp.id)).await;
    assert_eq!(product["rating"]["count"], 1);
    assert_eq!(product["rating"]["average"], "4");

    let rejected = s
        .call(
            Method::PUT,
            &format!("/api/admin/reviews/{}", created["id"].as_str().unwrap()),
        )
        .token(&admin)
        .json(json!({"status": "rejected"}))
        .send()
        .await;
    assert_eq!(rejected.expect(StatusCode::OK, None)["status"], "rejected");
    let (_, _, listed) = s.get(&path).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
    let (_, _, product) = s.get(&format!("/api/products/{}", lamp.id)).await;
    assert_eq!(product["rating"]["count"], 0);
}

#[tokio::test]
async fn checking_out_with_no_cart_is_checking_out_an_empty_cart() {
    let s = start().await;
    let address: Value = serde_json::from_str(TEXAS).unwrap();
    // A customer who never added anything, and a guest with a token that names nothing.
    let customer = s.customer("nell@example.com").await;
    let signed_in = s
        .call(Method::POST, "/api/cart/checkout")
        .token(&customer)
        .json(json!({"shipping_address": address}))
        .send()
        .await;
    let body = signed_in.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(body["errors"][0]["field"], "items");
    let guest = s
        .call(Method::POST, "/api/cart/checkout")
        .cart(Some("no-such-cart-token"))
        .json(json!({"shipping_address": address, "email": "g@example.com"}))
        .send()
        .await;
    let body = guest.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(body["errors"][0]["field"], "items");
}
