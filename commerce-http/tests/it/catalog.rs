//! Public catalog: browsing, filtering, paging, search, and the operations endpoints.

use commerce_core::catalog::NewProduct;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::support::{assert_problem, start};

#[tokio::test]
async fn health_ready_and_request_ids() {
    let s = start().await;
    let (status, headers, body) = s.get("/health").await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, serde_json::json!({"status": "ok"}))
    );
    assert!(!headers["x-request-id"].is_empty());
    let (status, _, _) = s.get("/ready").await;
    assert_eq!(status, StatusCode::OK);
    let echoed = s
        .http
        .get(format!("{}/health", s.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn the_store_starts_in_usd_excluding_tax() {
    let s = start().await;
    let (status, _, body) = s.get("/api/store").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["currency"], "USD");
    assert_eq!(body["prices_include_tax"], false);
    assert_eq!(body["tax_rounding"], "line");
    assert_eq!(body["tax_shipping"], false);
}

#[tokio::test]
async fn browsing_filtering_and_paging_products() {
    let s = start().await;
    let clothing = s
        .shop
        .catalog()
        .create_category(&s.admin, "Clothing", None, None)
        .await
        .unwrap();
    let shirts = s
        .shop
        .catalog()
        .create_category(&s.admin, "Shirts", None, Some(clothing.id))
        .await
        .unwrap();
    let tee = s
        .shop
        .catalog()
        .create_product(
            &s.admin,
            NewProduct {
                name: "Linen tee".into(),
                price: Decimal::new(1999, 2),
                category_id: Some(shirts.id),
                inventory_count: 3,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    s.product("Copper kettle", Decimal::new(4500, 2), 0).await;
    s.product("Mug", Decimal::new(800, 2), 5).await;

    let (status, _, body) = s.get(&format!("/api/products/{}", tee.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["price"],
        serde_json::json!({"amount": "19.99", "currency": "USD"})
    );
    assert_eq!(body["status"], "active");
    assert_eq!(body["version"], 1);

    let (_, _, body) = s
        .get(&format!("/api/products?category={}", clothing.id))
        .await;
    assert_eq!(
        body["items"].as_array().unwrap().len(),
        1,
        "descendant categories included"
    );
    let (_, _, body) = s.get("/api/products?sort=price_asc&in_stock=true").await;
    let names: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Mug", "Linen tee"]);
    let (_, _, body) = s.get("/api/products?min_price=10&max_price=45.00").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 2);

    // Pages of one, by cursor, cover everything once.
    let mut seen = Vec::new();
    let mut next = String::from("/api/products?limit=1");
    loop {
        let (status, _, body) = s.get(&next).await;
        assert_eq!(status, StatusCode::OK);
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_string()),
        );
        match body["next_cursor"].as_str() {
            Some(c) => next = format!("/api/products?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3);

    let (_, _, body) = s.get("/api/products/search?q=kettle").await;
    assert_eq!(body["items"][0]["name"], "Copper kettle");
    let (status, _, body) = s
        .get(&format!("/api/categories/{}/products", clothing.id))
        .await;
    assert_eq!(
        (status, body["items"].as_array().unwrap().len()),
        (StatusCode::OK, 1)
    );

    let (_, _, body) = s.get("/api/categories").await;
    assert_eq!(body[0]["name"], "Clothing");
    assert_eq!(body[0]["children"][0]["name"], "Shirts");
}

#[tokio::test]
async fn bad_requests_get_specific_problems_never_a_500() {
    let s = start().await;
    let cases: &[(&str, StatusCode, &str)] = &[
        (
            "/api/products/8b5a1b0e-0000-4000-8000-000000000000",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/products/not-a-uuid",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/products?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/products?limit=101",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/products?min_price=abc",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/products?min_price=20&max_price=10",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/products?sort=cheapest",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/products?cursor=zz",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/products?category=8b5a1b0e-0000-4000-8000-000000000000",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/products?in_stock=maybe",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/products?limit=-5",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/products?limit=ten",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "/api/products/search",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        ("/api/nothing-here", StatusCode::NOT_FOUND, "not_found"),
    ];
    for (path, expected, code) in cases {
        let (status, headers, body) = s.get(path).await;
        assert_eq!(status, *expected, "{path}: {body}");
        assert_problem(status, &headers, &body, code);
    }
    let (_, _, body) = s.get("/api/products?limit=0").await;
    assert_eq!(body["errors"][0]["field"], "limit");
    assert_eq!(body["errors"][0]["message"], "must be 1 to 100");
    let (_, _, body) = s.get("/api/products?in_stock=maybe").await;
    assert_eq!(body["errors"][0]["field"], "in_stock");
    assert!(
        !body["detail"].as_str().unwrap().contains("occurred while"),
        "{body}"
    );
    // Empty values, as an HTML form sends its empty fields, are absent.
    let (status, _, body) = s
        .get("/api/products?cursor=&min_price=&max_price=&sort=&limit=5")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, body) = s.get("/api/products?sort=cheapest").await;
    assert_eq!(body["errors"][0]["field"], "sort");
    assert_eq!(
        body["errors"][0]["message"],
        "one of newest, price_asc, price_desc, rating, name"
    );
    // The document states the same rules.
    let (_, _, document) = s.get("/openapi.json").await;
    let limit = document["paths"]["/products"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap()["schema"]
        .clone();
    assert_eq!(
        (&limit["minimum"], &limit["maximum"], &limit["default"]),
        (&json!(1.0), &json!(100.0), &json!(20))
    );
    let sort = document["paths"]["/products"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "sort")
        .unwrap()["schema"]
        .clone();
    assert_eq!(
        sort["enum"],
        json!(["", "newest", "price_asc", "price_desc", "rating", "name"])
    );
    let resp = s
        .http
        .post(format!("{}/api/store", s.base))
        .send()
        .await
        .unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_problem(status, &headers, &body, "method_not_allowed");
}

#[tokio::test]
async fn the_openapi_document_describes_what_is_served() {
    let s = start().await;
    let (status, _, spec) = s.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/products",
        "/products/{id}",
        "/products/search",
        "/categories",
        "/store",
        "/shipping-methods",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} is not in the document"
        );
    }
    let money = &spec["components"]["schemas"]["Money"]["properties"];
    assert_eq!(money["amount"]["type"], "string");
    // Ids in paths are UUIDs in the document, though a non-UUID is answered 404, not 400.
    for (path, method) in [
        ("/products/{id}", "get"),
        ("/orders/{id}/cancel", "put"),
        ("/categories/{id}/products", "get"),
        ("/admin/tax-rates/{id}", "delete"),
    ] {
        let id = spec["paths"][path][method]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["in"] == "path"))
            .unwrap_or_else(|| panic!("{method} {path} has a path parameter"));
        assert_eq!(
            (&id["schema"]["type"], &id["schema"]["format"]),
            (&Value::from("string"), &Value::from("uuid")),
            "{method} {path}"
        );
    }
    let docs = s
        .http
        .get(format!("{}/docs/", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_in_the_prometheus_format() {
    let s = start().await;
    s.get("/api/store").await;
    s.get("/api/products/not-a-uuid").await;
    let resp = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("commerce_http_requests_total{method=\"GET\",status=\"200\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("commerce_http_requests_total{method=\"GET\",status=\"404\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("# TYPE commerce_http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn a_flood_from_one_address_gets_429_with_retry_after() {
    let s = crate::support::start_with(commerce_http::ApiConfig {
        clients: commerce_http::limits::ClientLimits {
            per_second: 1,
            burst: 3,
            exempt_loopback: false,
        },
        ..Default::default()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = s.call(reqwest::Method::GET, "/api/store").send().await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            r.expect(StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"));
            assert!(r.header("retry-after").is_some());
        }
        statuses.push(r.status.as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 429, 429]);
}

#[tokio::test]
async fn low_stock_thresholds_come_from_the_store_the_product_and_each_variant() {
    use reqwest::Method;
    let s = start().await;
    let admin = s.admin_token().await;
    let store = s
        .call(Method::PUT, "/api/admin/store")
        .token(&admin)
        .json(json!({"low_stock_threshold": 3}))
        .send()
        .await;
    assert_eq!(store.expect(StatusCode::OK, None)["low_stock_threshold"], 3);
    let created = s
        .call(Method::POST, "/api/products")
        .token(&admin)
        .json(json!({
            "name": "Wool socks",
            "price": "9.00",
            "variants": [
                {"sku": "SOCK-S", "inventory_count": 20},
                {"sku": "SOCK-L", "inventory_count": 6, "low_stock_threshold": 6}
            ]
        }))
        .send()
        .await;
    let product = created.expect(StatusCode::CREATED, None).clone();
    assert_eq!(product["low_stock_threshold"], 3);
    assert_eq!(product["variants"][0]["low_stock_threshold"], Value::Null);
    assert_eq!(product["variants"][1]["low_stock_threshold"], 6);
    // 26 in all, far above 3: low all the same, for its large size is at its own line.
    let dashboard = s
        .call(Method::GET, "/api/admin/dashboard")
        .token(&admin)
        .send()
        .await;
    let low = dashboard.expect(StatusCode::OK, None)["low_stock"].clone();
    assert!(
        low.as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == product["id"]),
        "{low}"
    );
    let refused = s
        .call(Method::PUT, "/api/admin/store")
        .token(&admin)
        .json(json!({"low_stock_threshold": -1}))
        .send()
        .await;
    refused.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
}
