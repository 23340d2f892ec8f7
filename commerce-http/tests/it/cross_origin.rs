//! What each path answers (`Allow` on 405, `OPTIONS`) and CORS, with real preflight requests
//! as a browser sends them.

use commerce_http::{ApiConfig, CorsConfig};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::json;

use crate::support::{start, start_with, Server};

const SHOP: &str = "https://shop.example";

async fn with_origins(origins: &str) -> Server {
    start_with(ApiConfig {
        cors: CorsConfig {
            allowed_origins: CorsConfig::origins(origins).unwrap(),
            ..CorsConfig::default()
        },
        ..ApiConfig::default()
    })
    .await
}

/// The list in a comma-separated header, trimmed.
fn listed(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

#[tokio::test]
async fn a_405_says_what_the_path_allows_and_options_answers_it() {
    let s = start().await;
    let lamp = s.product("Lamp", Decimal::new(2500, 2), 3).await;
    let cases = [
        (
            Method::TRACE,
            "/api/store".to_string(),
            "GET, HEAD, OPTIONS",
        ),
        (
            Method::DELETE,
            "/api/products".to_string(),
            "GET, HEAD, POST, OPTIONS",
        ),
        (
            Method::POST,
            format!("/api/products/{}", lamp.id),
            "GET, HEAD, PUT, DELETE, OPTIONS",
        ),
        (
            Method::PUT,
            "/api/products/search".to_string(),
            "GET, HEAD, OPTIONS",
        ),
        (Method::PUT, "/health".to_string(), "GET, HEAD, OPTIONS"),
    ];
    for (method, path, allow) in cases {
        let r = s.call(method.clone(), &path).send().await;
        r.expect(StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"));
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
        let options = s.call(Method::OPTIONS, &path).send().await;
        assert_eq!(options.status, StatusCode::NO_CONTENT, "OPTIONS {path}");
        assert_eq!(options.header("allow"), Some(allow), "OPTIONS {path}");
    }
    // What Allow promises holds: HEAD answers as GET does, without the body.
    let head = s.call(Method::HEAD, "/api/products").send().await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.text.is_empty());
    // A path that does not exist is not found, whatever the method.
    s.call(Method::OPTIONS, "/api/nothing-here")
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
}

#[tokio::test]
async fn without_configured_origins_no_origin_is_let_in() {
    let s = start().await;
    let preflight = s
        .call(Method::OPTIONS, "/api/cart/items")
        .header("origin", SHOP)
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert_eq!(preflight.header("access-control-allow-origin"), None);
    let read = s
        .call(Method::GET, "/api/products")
        .header("origin", SHOP)
        .send()
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_configured_origin_passes_preflight_and_reads_the_exposed_headers() {
    let s = with_origins("https://shop.example, http://localhost:3000").await;
    let lamp = s.product("Lamp", Decimal::new(2500, 2), 3).await;
    let preflight = s
        .call(Method::OPTIONS, "/api/cart/items")
        .header("origin", SHOP)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "Content-Type, X-Cart-Token",
        )
        .send()
        .await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(preflight.header("access-control-allow-origin"), Some(SHOP));
    let methods = listed(preflight.header("access-control-allow-methods"));
    assert!(methods.contains(&"post".to_string()), "{methods:?}");
    let headers = listed(preflight.header("access-control-allow-headers"));
    for h in [
        "content-type",
        "x-cart-token",
        "authorization",
        "idempotency-key",
    ] {
        assert!(headers.contains(&h.to_string()), "{h} in {headers:?}");
    }
    assert_eq!(preflight.header("access-control-max-age"), Some("600"));
    assert!(listed(preflight.header("vary")).contains(&"origin".to_string()));

    // The request itself: the script may read the cart token, the request id and the ETag.
    let added = s
        .call(Method::POST, "/api/cart/items")
        .header("origin", SHOP)
        .json(json!({"product_id": lamp.id, "quantity": 1}))
        .send()
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(added.header("access-control-allow-origin"), Some(SHOP));
    let exposed = listed(added.header("access-control-expose-headers"));
    for h in ["x-cart-token", "etag", "x-request-id", "retry-after"] {
        assert!(exposed.contains(&h.to_string()), "{h} in {exposed:?}");
    }
    assert!(listed(added.header("vary")).contains(&"origin".to_string()));
    // Problems too, so the script can read why.
    let refused = s
        .call(Method::POST, "/api/cart/items")
        .header("origin", "http://localhost:3000")
        .json(json!({"product_id": lamp.id, "quantity": 0}))
        .send()
        .await;
    refused.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(
        refused.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
}

#[tokio::test]
async fn other_origins_methods_and_headers_get_no_cors_headers() {
    let s = with_origins(SHOP).await;
    let preflight = |origin: &'static str, method: &'static str, headers: &'static str| {
        let mut call = s
            .call(Method::OPTIONS, "/api/cart/items")
            .header("origin", origin)
            .header("access-control-request-method", method);
        if !headers.is_empty() {
            call = call.header("access-control-request-headers", headers);
        }
        call.send()
    };
    for (origin, method, headers) in [
        ("https://evil.example", "POST", ""),
        ("https://shop.example.evil.example", "POST", ""),
        (SHOP, "TRACE", ""),
        (SHOP, "POST", "content-type, x-not-allowed"),
    ] {
        let r = preflight(origin, method, headers).await;
        assert_eq!(
            r.header("access-control-allow-origin"),
            None,
            "{origin} {method} {headers}"
        );
        assert_eq!(r.header("access-control-allow-methods"), None);
    }
    // The request is answered (CORS is the browser's to enforce), without the headers that
    // would let another origin's script read it.
    let read = s
        .call(Method::GET, "/api/products")
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.header("access-control-allow-origin"), None);
    assert_eq!(read.header("access-control-expose-headers"), None);
}

#[tokio::test]
async fn any_origin_when_configured_with_a_star() {
    let s = with_origins("*").await;
    let read = s
        .call(Method::GET, "/api/products")
        .header("origin", "https://anywhere.example")
        .send()
        .await;
    assert_eq!(read.header("access-control-allow-origin"), Some("*"));
    let preflight = s
        .call(Method::OPTIONS, "/api/orders")
        .header("origin", "https://anywhere.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
}
