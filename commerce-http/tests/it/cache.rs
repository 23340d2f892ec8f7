//! Public catalog replies are kept encoded between changes: every change, by the API or by
//! the embedding program, shows in the very next read, and nothing shown only to a vendor or
//! an admin reaches anyone else.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::support::{start, Server};

const TEXAS: &str = r#"{"full_name": "Ana Lima", "line1": "1 Main St", "city": "Austin",
    "region": "TX", "postal_code": "78701", "country": "US"}"#;

async fn listed(s: &Server, path: &str) -> Vec<Value> {
    let (status, _, body) = s.get(path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().expect("items").clone()
}

fn field<'a>(items: &'a [Value], id: &str, name: &str) -> Option<&'a Value> {
    items.iter().find(|p| p["id"] == id).map(|p| &p[name])
}

#[tokio::test]
async fn a_change_shows_in_the_next_read_of_a_product_and_its_listings() {
    let s = start().await;
    let admin = s.admin_token().await;
    let lamp = s.product("Desk lamp", Decimal::new(2500, 2), 3).await;
    let id = lamp.id.to_string();
    let by_id = format!("/api/products/{id}");
    // Read each twice: the second is the kept one.
    for _ in 0..2 {
        let (_, headers, body) = s.get(&by_id).await;
        assert_eq!(body["price"]["amount"], "25.00");
        assert_eq!(headers["etag"], "\"1\"");
        let items = listed(&s, "/api/products?in_stock=true").await;
        assert_eq!(field(&items, &id, "inventory_count"), Some(&json!(3)));
    }

    // A price change through the API.
    s.call(Method::PUT, &by_id)
        .token(&admin)
        .json(json!({"price": "19.50"}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    let (_, headers, body) = s.get(&by_id).await;
    assert_eq!(body["price"]["amount"], "19.50");
    assert_eq!(headers["etag"], "\"2\"");
    let items = listed(&s, "/api/products?in_stock=true").await;
    assert_eq!(
        field(&items, &id, "price").map(|p| &p["amount"]),
        Some(&json!("19.50"))
    );

    // A sale of every unit: the stock shows, and the in-stock listing drops it.
    let customer = s.customer("ana@example.com").await;
    let address: Value = serde_json::from_str(TEXAS).unwrap();
    s.call(Method::POST, "/api/orders")
        .token(&customer)
        .json(json!({"items": [{"product_id": id, "quantity": 3}], "shipping_address": address}))
        .send()
        .await
        .expect(StatusCode::CREATED, None);
    let (_, _, body) = s.get(&by_id).await;
    assert_eq!(body["inventory_count"], 0);
    assert!(field(&listed(&s, "/api/products?in_stock=true").await, &id, "id").is_none());
    assert_eq!(
        field(&listed(&s, "/api/products").await, &id, "inventory_count"),
        Some(&json!(0))
    );

    // A change the embedding program makes through the core, not the API.
    s.shop
        .catalog()
        .update_product(
            &s.admin,
            lamp.id,
            commerce_core::catalog::ProductChanges {
                name: Some("Reading lamp".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let (_, _, body) = s.get(&by_id).await;
    assert_eq!(body["name"], "Reading lamp");
    let found = listed(&s, "/api/products/search?q=reading").await;
    assert_eq!(found.len(), 1, "search sees the new name");
}

#[tokio::test]
async fn what_only_its_vendor_or_an_admin_may_see_is_never_kept_for_others() {
    let s = start().await;
    let admin = s.admin_token().await;
    let vendor = s.user_with_role("vera@example.com", "vendor").await;
    let created = s
        .call(Method::POST, "/api/products")
        .token(&vendor)
        .json(json!({"name": "Tea pot", "price": "30.00", "inventory_count": 4}))
        .send()
        .await;
    let id = created.expect(StatusCode::CREATED, None)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let by_id = format!("/api/products/{id}");
    // Its vendor and the admin read it first; a visitor after them still gets 404.
    for token in [&vendor, &admin] {
        s.call(Method::GET, &by_id)
            .token(token)
            .send()
            .await
            .expect(StatusCode::OK, None);
    }
    s.call(Method::GET, &by_id)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));

    // Approved, everyone sees it; archived, a visitor no longer does, from either path.
    s.call(Method::PUT, &format!("/api/admin/products/{id}/approve"))
        .token(&admin)
        .send()
        .await
        .expect(StatusCode::OK, None);
    s.call(Method::GET, &by_id)
        .send()
        .await
        .expect(StatusCode::OK, None);
    assert!(field(&listed(&s, "/api/products").await, &id, "id").is_some());
    s.call(Method::PUT, &by_id)
        .token(&vendor)
        .json(json!({"status": "archived"}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    s.call(Method::GET, &by_id)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    assert!(field(&listed(&s, "/api/products").await, &id, "id").is_none());
    s.call(Method::GET, &by_id)
        .token(&vendor)
        .send()
        .await
        .expect(StatusCode::OK, None);
}

#[tokio::test]
async fn the_category_tree_and_its_listings_follow_changes() {
    let s = start().await;
    let admin = s.admin_token().await;
    let (_, _, tree) = s.get("/api/categories").await;
    assert_eq!(tree, json!([]));
    let made = s
        .call(Method::POST, "/api/categories")
        .token(&admin)
        .json(json!({"name": "Lighting"}))
        .send()
        .await;
    let category = made.expect(StatusCode::CREATED, None)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, _, tree) = s.get("/api/categories").await;
    assert_eq!(tree[0]["name"], "Lighting");
    let location = made.header("location").unwrap().to_string();
    let (_, _, one) = s.get(&location).await;
    assert_eq!(
        (&one["name"], &one["children"]),
        (&json!("Lighting"), &json!([]))
    );
    s.call(Method::POST, "/api/categories")
        .token(&admin)
        .json(json!({"name": "Desk lamps", "parent_id": category}))
        .send()
        .await
        .expect(StatusCode::CREATED, None);
    let (_, _, one) = s.get(&location).await;
    assert_eq!(one["children"][0]["name"], "Desk lamps", "{one}");
    let in_category = format!("/api/categories/{category}/products");
    assert!(listed(&s, &in_category).await.is_empty());
    let lamp = s.product("Desk lamp", Decimal::new(2500, 2), 3).await;
    s.call(Method::PUT, &format!("/api/products/{}", lamp.id))
        .token(&admin)
        .json(json!({"category_id": category}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    assert_eq!(listed(&s, &in_category).await.len(), 1);
    s.call(Method::PUT, &format!("/api/categories/{category}"))
        .token(&admin)
        .json(json!({"name": "Lamps"}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    let (_, _, tree) = s.get("/api/categories").await;
    assert_eq!(tree[0]["name"], "Lamps");
    let (status, _, _) = s
        .get("/api/categories/8b5a1b0e-0000-4000-8000-000000000000")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// `commerce_catalog_cache_reads_total{result}` from `/metrics`.
async fn cache_reads(s: &Server) -> (u64, u64) {
    let text = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let count = |result: &str| {
        let prefix = format!("commerce_catalog_cache_reads_total{{result=\"{result}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {result} count in {text}"))
    };
    (count("hit"), count("miss"))
}

#[tokio::test]
async fn a_read_is_kept_by_what_it_asks_not_by_how_its_url_is_spelled() {
    let s = start().await;
    s.product("Desk lamp", Decimal::new(2500, 2), 3).await;
    let (hits, misses) = cache_reads(&s).await;
    listed(&s, "/api/products?sort=price_asc&limit=5").await;
    assert_eq!(
        cache_reads(&s).await,
        (hits, misses + 1),
        "the first is built"
    );
    // The same read: parameters in another order, one the API ignores.
    listed(&s, "/api/products?limit=5&sort=price_asc").await;
    listed(&s, "/api/products?limit=5&sort=price_asc&utm_source=mail").await;
    assert_eq!(cache_reads(&s).await, (hits + 2, misses + 1));
    // Another read is built.
    listed(&s, "/api/products?limit=6&sort=price_asc").await;
    assert_eq!(cache_reads(&s).await, (hits + 2, misses + 2));
    // A change: built again, then kept again.
    s.product("Floor lamp", Decimal::new(9900, 2), 1).await;
    let items = listed(&s, "/api/products?sort=price_asc&limit=5").await;
    assert_eq!(items.len(), 2);
    listed(&s, "/api/products?sort=price_asc&limit=5").await;
    assert_eq!(cache_reads(&s).await, (hits + 3, misses + 3));
}
