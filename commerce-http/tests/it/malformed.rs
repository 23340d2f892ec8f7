//! Malformed input of every kind gets the documented 4xx problem, never a 500, and changes
//! nothing.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::json;

use crate::support::start;

#[tokio::test]
async fn broken_json_wrong_types_and_missing_fields() {
    let s = start().await;
    let lamp = s.product("Desk lamp", Decimal::new(2500, 2), 10).await;
    let cases: &[(&str, StatusCode, &str, Option<&str>)] = &[
        (
            "{\"product_id\": ",
            StatusCode::BAD_REQUEST,
            "malformed_json",
            None,
        ),
        ("", StatusCode::BAD_REQUEST, "malformed_json", None),
        ("nul", StatusCode::BAD_REQUEST, "malformed_json", None),
        (
            "[1, 2]",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("body"),
        ),
        (
            "{}",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("product_id"),
        ),
        (
            r#"{"product_id": "not-a-uuid", "quantity": 1}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("product_id"),
        ),
        (
            r#"{"product_id": "PRODUCT", "quantity": -3}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("quantity"),
        ),
        (
            r#"{"product_id": "PRODUCT", "quantity": "two"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("quantity"),
        ),
        (
            r#"{"product_id": "PRODUCT", "quantity": 1.5}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("quantity"),
        ),
        (
            r#"{"product_id": "PRODUCT", "quantity": 0}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("quantity"),
        ),
        (
            r#"{"product_id": "PRODUCT", "quantity": 99999999999}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("quantity"),
        ),
        (
            r#"{"product_id": "8b5a1b0e-0000-4000-8000-000000000000", "quantity": 1}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("product_id"),
        ),
    ];
    for (body, status, code, field) in cases {
        let body = body.replace("PRODUCT", &lamp.id.to_string());
        let r = s
            .call(Method::POST, "/api/cart/items")
            .raw("application/json", body.clone())
            .send()
            .await;
        assert_eq!(r.status, *status, "{body}: {}", r.text);
        r.expect(*status, Some(code));
        if let Some(field) = field {
            assert_eq!(r.body["errors"][0]["field"], *field, "{body}: {}", r.text);
        }
    }
    // Nested fields are named with dots.
    let r = s
        .call(Method::POST, "/api/orders")
        .json(
            json!({"items": [{"product_id": lamp.id.to_string(), "quantity": "x"}],
            "shipping_address": {"country": "US"}, "email": "a@example.com"}),
        )
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "items[0].quantity");
    let r = s
        .call(Method::POST, "/api/orders")
        .json(
            json!({"items": [{"product_id": lamp.id.to_string(), "quantity": 1}],
            "shipping_address": {"country": "United States", "line1": "1 Main St",
                "city": "Austin", "postal_code": "78701"},
            "email": "a@example.com"}),
        )
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "shipping_address.country");

    // Nothing was reserved by any of it.
    let (_, _, p) = s.get(&format!("/api/products/{}", lamp.id)).await;
    assert_eq!(p["inventory_count"], 10);
}

#[tokio::test]
async fn wrong_content_type_is_415_and_huge_bodies_are_413() {
    let s = start().await;
    s.call(Method::POST, "/api/auth/login")
        .raw("text/plain", "email=a@example.com")
        .send()
        .await
        .expect(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type"),
        );
    let huge = format!(
        r#"{{"email": "a@example.com", "password": "{}", "full_name": "A"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    s.call(Method::POST, "/api/auth/register")
        .raw("application/json", huge.clone())
        .send()
        .await
        .expect(StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"));
    // Streamed without a length (chunked): still a 413 problem, not a dropped connection.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = huge
        .into_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let stream = futures_stream(chunks);
    s.call(Method::POST, "/api/auth/register")
        .raw("application/json", reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect(StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"));
    // Nobody was registered.
    s.call(Method::POST, "/api/auth/login")
        .json(json!({"email": "a@example.com", "password": "x"}))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("invalid_credentials"));
}

fn futures_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + Sync + 'static {
    tokio_stream::iter(chunks)
}

#[tokio::test]
async fn unknown_ids_and_bad_paths_are_404() {
    let s = start().await;
    let admin = s.admin_token().await;
    for (method, path) in [
        (Method::GET, "/api/orders/not-a-uuid"),
        (
            Method::GET,
            "/api/orders/8b5a1b0e-0000-4000-8000-000000000000",
        ),
        (
            Method::PUT,
            "/api/orders/8b5a1b0e-0000-4000-8000-000000000000/cancel",
        ),
        (Method::DELETE, "/api/admin/discounts/zzz"),
        (Method::GET, "/api/categories/zzz/products"),
        (Method::GET, "/api/products/zzz"),
        (
            Method::DELETE,
            "/api/admin/tax-rates/8b5a1b0e-0000-4000-8000-000000000000",
        ),
        (
            Method::DELETE,
            "/api/categories/8b5a1b0e-0000-4000-8000-000000000000",
        ),
    ] {
        let r = s.call(method.clone(), path).token(&admin).send().await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            r.text
        );
        r.expect(StatusCode::NOT_FOUND, Some("not_found"));
    }
    s.call(
        Method::PUT,
        "/api/cart/items/8b5a1b0e-0000-4000-8000-000000000000",
    )
    .token(&admin)
    .json(json!({"quantity": 1}))
    .send()
    .await
    .expect(StatusCode::NOT_FOUND, Some("not_found"));
    // Bad enum values and dates are field errors.
    let r = s
        .call(Method::GET, "/api/admin/orders?status=lost")
        .token(&admin)
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "status");
    // In bodies too, and the document lists exactly the words accepted (from the core's
    // own lists).
    let lamp = s.product("Lamp", Decimal::new(2500, 2), 3).await;
    let eve = s.customer("eve@example.com").await;
    let order = s.buy(&eve, &lamp, 1).await;
    let r = s
        .call(
            Method::PUT,
            &format!(
                "/api/admin/orders/{}/status",
                order["order"]["id"].as_str().unwrap()
            ),
        )
        .token(&admin)
        .json(json!({"status": "lost"}))
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "status");
    assert_eq!(
        r.body["errors"][0]["message"],
        "one of pending, paid, processing, shipped, delivered, cancelled, refunded"
    );
    let (_, _, document) = s.get("/openapi.json").await;
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["OrderStatusBody"]["properties"]["status"]["enum"],
        json!([
            "pending",
            "paid",
            "processing",
            "shipped",
            "delivered",
            "cancelled",
            "refunded"
        ])
    );
    assert_eq!(
        schemas["ReviewStatusBody"]["properties"]["status"]["enum"],
        json!(["pending", "approved", "rejected"])
    );
    // A change may leave the role out or send null: the nullable enum holds null.
    assert_eq!(
        schemas["UserChangesBody"]["properties"]["role"]["enum"],
        json!([null, "customer", "vendor", "manager", "admin"])
    );
    let eve_id = s
        .call(Method::GET, "/api/users/profile")
        .token(&eve)
        .send()
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let kept = s
        .call(Method::PUT, &format!("/api/admin/users/{eve_id}"))
        .token(&admin)
        .json(json!({"role": null, "is_active": true}))
        .send()
        .await;
    assert_eq!(kept.expect(StatusCode::OK, None)["role"], "customer");
    let r = s
        .call(Method::PUT, &format!("/api/admin/users/{eve_id}"))
        .token(&admin)
        .json(json!({"role": "owner"}))
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "role");
    let r = s
        .call(
            Method::GET,
            "/api/admin/reports/sales?from=2026-13-01&to=2026-12-01",
        )
        .token(&admin)
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "from");
    let r = s
        .call(Method::GET, "/api/admin/reports/sales?from=2026-12-01")
        .token(&admin)
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "to");
    let r = s
        .call(Method::POST, "/api/admin/discounts")
        .token(&admin)
        .json(json!({"kind": "percent", "value": "150"}))
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "value");
}

#[tokio::test]
async fn fields_of_the_delivery_part_of_an_order_are_named_too() {
    let s = start().await;
    let lamp = s.product("Desk lamp", Decimal::new(2500, 2), 10).await;
    for (delivery, field) in [
        (json!({"shipping_address": 5}), "shipping_address"),
        (
            json!({"shipping_address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345"}}),
            "shipping_address.country",
        ),
        (json!({"address_id": "nope"}), "address_id"),
        (json!({"email": ["a@example.com"]}), "email"),
    ] {
        let mut body = json!({"items": [{"product_id": lamp.id.to_string(), "quantity": 1}]});
        for (k, v) in delivery.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = s.call(Method::POST, "/api/orders").json(body).send().await;
        r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
        assert_eq!(r.body["errors"][0]["field"], field, "{}", r.text);
    }
}

/// A NUL or other control character in text is 422 naming the field on every storage
/// (PostgreSQL cannot store NUL at all), and nothing is stored; line breaks are taken where a
/// field spans lines.
#[tokio::test]
async fn control_characters_in_text_are_refused_by_field() {
    let s = start().await;
    let admin = s.admin_token().await;
    for (body, field) in [
        (json!({"name": "\u{0}", "price": "5.00"}), "name"),
        (json!({"name": "Lamp\u{7}", "price": "5.00"}), "name"),
        (
            json!({"name": "Lamp", "price": "5.00", "description": "warm\u{0}light"}),
            "description",
        ),
    ] {
        let r = s
            .call(Method::POST, "/api/products")
            .token(&admin)
            .json(body)
            .send()
            .await;
        r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
        assert_eq!(r.body["errors"][0]["field"], field, "{}", r.text);
    }
    let (_, _, page) = s.get("/api/products").await;
    assert_eq!(
        page["items"].as_array().map(Vec::len),
        Some(0),
        "nothing stored"
    );

    let r = s
        .call(Method::POST, "/api/products")
        .token(&admin)
        .json(json!({"name": "Lamp", "price": "5.00", "description": "warm\r\n\tlight"}))
        .send()
        .await;
    r.expect(StatusCode::CREATED, None);

    let customer = s.customer("ana@example.com").await;
    let r = s
        .call(Method::PUT, "/api/users/profile")
        .token(&customer)
        .json(json!({"full_name": "Ana\u{0}Lima"}))
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "full_name", "{}", r.text);

    let lamp = s.product("Desk lamp", Decimal::new(2500, 2), 10).await;
    let r = s
        .call(Method::POST, "/api/orders")
        .json(json!({
            "items": [{"product_id": lamp.id.to_string(), "quantity": 1}],
            "email": "guest@example.com",
            "shipping_address": {"line1": "1 Main\u{0} St", "city": "Austin", "region": "TX",
                                  "postal_code": "78701", "country": "US"}
        }))
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(
        r.body["errors"][0]["field"], "shipping_address.line1",
        "{}",
        r.text
    );
    let (_, _, product) = s.get(&format!("/api/products/{}", lamp.id)).await;
    assert_eq!(product["inventory_count"], 10, "no stock taken");
}

/// A body that stops arriving is 408 `request_timeout` once its time is up, and the
/// connection is closed (the rest of the body could still come).
#[tokio::test]
async fn a_body_that_stalls_is_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = crate::support::start_with(commerce_http::ApiConfig {
        body: commerce_http::BodyLimits {
            read_timeout: std::time::Duration::from_millis(300),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let lamp = s.product("Desk lamp", Decimal::new(2500, 2), 10).await;
    let mut conn = tokio::net::TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .unwrap();
    conn.write_all(
        b"POST /api/cart/items HTTP/1.1\r\nhost: shop\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"product_id\": ",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        conn.read_to_end(&mut answer),
    )
    .await
    .expect("answered and closed")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    let (_, _, product) = s.get(&format!("/api/products/{}", lamp.id)).await;
    assert_eq!(product["inventory_count"], 10);
}
