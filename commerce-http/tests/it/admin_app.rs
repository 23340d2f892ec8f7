//! The admin web app's serving (`/admin`, feature `admin-app`) and the listing it reads its
//! products from (`GET /api/admin/products`). The app itself runs in a real browser in
//! `.ci/admin_browser.py`.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::json;

use crate::support::start;

#[tokio::test]
async fn the_app_is_served_with_a_strict_policy_and_revalidated() {
    let s = start().await;
    for path in ["/admin", "/admin/"] {
        let page = s
            .http
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
            "{csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        assert!(page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = page.text().await.unwrap();
        assert!(html.contains(r#"<script type="module" src="/admin/app.js">"#));
    }
    let script = s
        .http
        .get(format!("{}/admin/app.js", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let etag = script.headers()["etag"].to_str().unwrap().to_string();
    let again = s
        .http
        .get(format!("{}/admin/app.js", s.base))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    for missing in ["/admin/nope.js", "/admin/..%2Fapp.js"] {
        let r = s
            .http
            .get(format!("{}{missing}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{missing}");
    }
    let post = s
        .http
        .post(format!("{}/admin", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.headers()["allow"], "GET, HEAD, OPTIONS");
}

#[tokio::test]
async fn staff_list_every_product_and_vendors_their_own() {
    let s = start().await;
    let admin = s.admin_token().await;
    let vendor = s.user_with_role("vera@example.com", "vendor").await;
    let shop_lamp = s.product("Shop lamp", Decimal::new(2000, 2), 3).await;
    let made = s
        .call(Method::POST, "/api/products")
        .token(&vendor)
        .json(json!({"name": "Vera's vase", "price": "15.00", "inventory_count": 4}))
        .send()
        .await;
    let vase = made.expect(StatusCode::CREATED, None)["id"]
        .as_str()
        .unwrap()
        .to_string();

    let listed = |token: String, query: &'static str| {
        let s = &s;
        async move {
            let r = s
                .call(Method::GET, &format!("/api/admin/products{query}"))
                .token(&token)
                .send()
                .await;
            r.expect(StatusCode::OK, None)["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    // The admin sees the vendor's pending product beside the shop's, newest first.
    assert_eq!(
        listed(admin.clone(), "").await,
        [vase.clone(), shop_lamp.id.to_string()]
    );
    assert_eq!(
        listed(admin.clone(), "?status=pending_approval").await,
        [vase.as_str()]
    );
    assert_eq!(
        listed(admin.clone(), "?status=active").await,
        [shop_lamp.id.to_string()]
    );
    // A manager too; a vendor only their own, whatever they ask.
    let manager = s.user_with_role("max@example.com", "manager").await;
    assert_eq!(listed(manager, "").await.len(), 2);
    assert_eq!(listed(vendor.clone(), "").await, [vase.as_str()]);
    // A customer and nobody may not.
    let customer = s.customer("cleo@example.com").await;
    let refused = s
        .call(Method::GET, "/api/admin/products")
        .token(&customer)
        .send()
        .await;
    refused.expect(StatusCode::FORBIDDEN, Some("forbidden"));
    let anonymous = s.call(Method::GET, "/api/admin/products").send().await;
    anonymous.expect(StatusCode::UNAUTHORIZED, None);
    let bad = s
        .call(Method::GET, "/api/admin/products?status=sold")
        .token(&admin)
        .send()
        .await;
    bad.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
}

#[tokio::test]
async fn staff_find_an_order_by_number_and_list_reviews_to_moderate() {
    let s = start().await;
    let admin = s.admin_token().await;
    crate::shopping::set_up_shop(&s, &admin).await;
    let lamp = s.product("Lamp", Decimal::new(3000, 2), 10).await;
    let customer = s.customer("rita@example.com").await;
    let first = s.buy(&customer, &lamp, 1).await;
    let second = s.buy(&customer, &lamp, 1).await;
    let number = first["order"]["number"].as_str().unwrap().to_string();
    // As a customer reads it out: any case, spaces around (encoded in the query).
    let query = format!("/api/admin/orders?number={}", number.to_lowercase());
    let found = s.call(Method::GET, &query).token(&admin).send().await;
    let items = found.expect(StatusCode::OK, None)["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], first["order"]["id"]);
    assert_ne!(items[0]["id"], second["order"]["id"]);
    let none = s
        .call(Method::GET, "/api/admin/orders?number=CM-00000000-NOPE")
        .token(&admin)
        .send()
        .await;
    assert_eq!(none.expect(StatusCode::OK, None)["items"], json!([]));
    let bad = s
        .call(Method::GET, "/api/admin/orders?number=CM%20%3Cscript%3E")
        .token(&admin)
        .send()
        .await;
    bad.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));

    // Reviews: every product's, newest first, by status; moderation moves one between lists.
    let payment = first["payment"]["id"].as_str().unwrap();
    s.call(Method::POST, "/api/payments/confirm")
        .token(&customer)
        .json(json!({"payment_id": payment}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    let written = s
        .call(Method::POST, &format!("/api/products/{}/reviews", lamp.id))
        .token(&customer)
        .json(json!({"rating": 4, "title": "Bright", "body": "Lights the desk."}))
        .send()
        .await;
    let review = written.expect(StatusCode::CREATED, None)["id"].clone();
    let listed = |query: &'static str| {
        let s = &s;
        let admin = admin.clone();
        async move {
            let r = s
                .call(Method::GET, &format!("/api/admin/reviews{query}"))
                .token(&admin)
                .send()
                .await;
            r.expect(StatusCode::OK, None)["items"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    assert_eq!(listed("").await[0]["id"], review);
    assert_eq!(listed("?status=approved").await.len(), 1);
    assert!(listed("?status=rejected").await.is_empty());
    s.call(
        Method::PUT,
        &format!("/api/admin/reviews/{}", review.as_str().unwrap()),
    )
    .token(&admin)
    .json(json!({"status": "rejected"}))
    .send()
    .await
    .expect(StatusCode::OK, None);
    assert_eq!(listed("?status=rejected").await[0]["id"], review);
    assert!(listed("?status=approved").await.is_empty());
    // Staff only.
    let refused = s
        .call(Method::GET, "/api/admin/reviews")
        .token(&customer)
        .send()
        .await;
    refused.expect(StatusCode::FORBIDDEN, Some("forbidden"));
}
