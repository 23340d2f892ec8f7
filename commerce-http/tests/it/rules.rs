//! The document states the rules the server keeps, to the letter: a value it allows is
//! taken, one it refuses is refused with 422 naming the field, amounts follow the shop's
//! currency, and each operation lists the problems it can answer with.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{start, start_in_currency};

fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
    &document["components"]["schemas"][name]
}

/// The string branch of an amount's schema (`anyOf`: string, number, money object).
fn amount_pattern(amount: &Value) -> String {
    amount["anyOf"][0]["pattern"]
        .as_str()
        .expect("an amount has a string pattern")
        .to_string()
}

#[tokio::test]
async fn the_document_states_lengths_ranges_patterns_and_amounts_in_the_shop_currency() {
    let s = start().await;
    let (status, _, document) = s.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let register = &schema(&document, "RegisterBody")["properties"];
    assert_eq!(register["password"]["minLength"], 8);
    assert_eq!(register["password"]["maxLength"], 128);
    // A name: something besides spaces, and no control character, as the core checks.
    let name = regex::Regex::new(register["full_name"]["pattern"].as_str().unwrap()).unwrap();
    assert!(name.is_match("Ana Lima") && name.is_match(" Zoë "));
    assert!(!name.is_match("   ") && !name.is_match("Ana\u{0}") && !name.is_match("Ana\nLima"));
    let description = &schema(&document, "ProductBody")["properties"]["description"];
    let description = regex::Regex::new(description["pattern"].as_str().unwrap()).unwrap();
    assert!(description.is_match("two\nlines\tand a tab\r\n"));
    assert!(!description.is_match("a bell\u{7}") && !description.is_match("\u{85}"));
    assert!(register["email"]["pattern"].as_str().unwrap().contains('@'));
    let item = &schema(&document, "AddItemBody")["properties"]["quantity"];
    assert_eq!(
        (item["minimum"].as_f64(), item["maximum"].as_f64()),
        (Some(1.0), Some(100_000.0))
    );
    let price = &schema(&document, "ProductBody")["properties"]["price"];
    let usd = amount_pattern(price);
    assert!(usd.contains(r"(\.[0-9]{1,2})?"), "{usd}");
    assert_eq!(price["anyOf"][1]["multipleOf"], 0.01);
    assert_eq!(
        schema(&document, "TaxRateBody")["properties"]["country"]["pattern"],
        "^[A-Za-z]{2}$"
    );
    assert_eq!(
        schema(&document, "StoreBody")["properties"]["tax_rounding"]["enum"],
        json!([null, "line", "order"])
    );
    let required = &schema(&document, "ParcelAddressBody")["required"];
    for field in ["line1", "city", "postal_code", "country"] {
        assert!(
            required.as_array().unwrap().contains(&json!(field)),
            "{field}"
        );
    }
    // Fields that may be left out are not required, whatever serde fills in.
    let shipping = &schema(&document, "ShippingMethodBody");
    assert_eq!(shipping["required"], json!(["name", "price"]));
    assert_eq!(shipping["properties"]["active"]["default"], true);
}

#[tokio::test]
async fn each_operation_lists_its_problems_and_whether_signing_in_is_optional() {
    let s = start().await;
    let (_, _, document) = s.get("/openapi.json").await;
    let statuses = |path: &str, method: &str| -> Vec<String> {
        let responses = document["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path}"));
        assert!(!responses.contains_key("default"), "{method} {path}");
        responses.keys().cloned().collect()
    };
    let add = statuses("/cart/items", "post");
    for status in [
        "201", "400", "401", "409", "412", "413", "415", "422", "429", "503",
    ] {
        assert!(
            add.contains(&status.to_string()),
            "POST /cart/items {status}: {add:?}"
        );
    }
    assert!(
        !add.contains(&"403".to_string()),
        "signing in is optional for a cart"
    );
    let product = statuses("/products/{id}", "get");
    assert!(product.contains(&"404".to_string()));
    for never in ["400", "409", "412", "413"] {
        assert!(
            !product.contains(&never.to_string()),
            "GET /products/{{id}} {never}"
        );
    }
    let store = statuses("/admin/store", "put");
    assert!(store.contains(&"401".to_string()) && store.contains(&"403".to_string()));
    assert_eq!(
        document["paths"]["/cart"]["get"]["security"],
        json!([{"BearerAuth": []}, {}])
    );
    assert_eq!(
        document["paths"]["/admin/store"]["put"]["security"],
        json!([{"BearerAuth": []}])
    );
    // The Swagger UI shows the same document.
    let page = s.http.get(format!("{}/docs", s.base)).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(
        page.contains("\"412\""),
        "the page holds the written document"
    );
}

#[tokio::test]
async fn values_at_the_documented_bounds_are_taken_and_one_past_them_refused() {
    let s = start().await;
    let admin = s.admin_token().await;
    let create = |body: Value| {
        s.call(Method::POST, "/api/products")
            .token(&admin)
            .json(body)
            .send()
    };
    let r = create(json!({"name": "é".repeat(200), "price": "1000000000000", "inventory_count": 1_000_000_000})).await;
    r.expect(StatusCode::CREATED, None);
    for (body, field) in [
        (json!({"name": "é".repeat(201), "price": "1"}), "name"),
        (json!({"name": "   ", "price": "1"}), "name"),
        (
            json!({"name": "Lamp", "price": "1000000000000.01"}),
            "price",
        ),
        (json!({"name": "Lamp", "price": "1.999"}), "price"),
        (json!({"name": "Lamp", "price": " 1"}), "price"),
        (
            json!({"name": "Lamp", "price": "1", "inventory_count": 1_000_000_001}),
            "inventory_count",
        ),
        (
            json!({"name": "Lamp", "price": "1", "slug": "Lamp"}),
            "slug",
        ),
        (
            json!({"name": "Lamp", "price": "1", "variants": [{"sku": " "}]}),
            "variants[0].sku",
        ),
    ] {
        let r = create(body.clone()).await;
        r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
        assert_eq!(r.body["errors"][0]["field"], field, "{body}: {}", r.text);
    }
    let lamp = s
        .product("Desk lamp", rust_decimal::Decimal::new(2500, 2), 10)
        .await;
    let r = s
        .call(Method::POST, "/api/cart/items")
        .json(json!({"product_id": lamp.id.to_string(), "quantity": 0}))
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "quantity");
    let r = s
        .call(Method::POST, "/api/cart/items")
        .header("If-Match", "three")
        .json(json!({"product_id": lamp.id.to_string(), "quantity": 1}))
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "If-Match");
}

#[tokio::test]
async fn a_slug_another_product_has_is_a_conflict_not_a_malformed_slug() {
    let s = start().await;
    let admin = s.admin_token().await;
    let body = json!({"name": "Desk lamp", "slug": "desk-lamp", "price": "25"});
    let first = s
        .call(Method::POST, "/api/products")
        .token(&admin)
        .json(body.clone())
        .send()
        .await;
    first.expect(StatusCode::CREATED, None);
    let again = s
        .call(Method::POST, "/api/products")
        .token(&admin)
        .json(body)
        .send()
        .await;
    again.expect(StatusCode::CONFLICT, Some("slug_taken"));
    let category = |name: &str| {
        s.call(Method::POST, "/api/categories")
            .token(&admin)
            .json(json!({"name": name, "slug": "lamps"}))
            .send()
    };
    category("Lamps").await.expect(StatusCode::CREATED, None);
    category("Lights")
        .await
        .expect(StatusCode::CONFLICT, Some("slug_taken"));
}

#[tokio::test]
async fn a_yen_shop_documents_and_takes_whole_amounts_only() {
    let s = start_in_currency("JPY").await;
    let (_, _, document) = s.get("/openapi.json").await;
    let price = &schema(&document, "ProductBody")["properties"]["price"];
    let jpy = amount_pattern(price);
    assert!(!jpy.contains(r"\."), "{jpy}");
    assert_eq!(price["anyOf"][1]["multipleOf"], 1.0);
    let admin = s.admin_token().await;
    let create = |price: Value| {
        s.call(Method::POST, "/api/products")
            .token(&admin)
            .json(json!({"name": "Tea bowl", "price": price}))
            .send()
    };
    let r = create(json!("4500")).await;
    assert_eq!(
        r.expect(StatusCode::CREATED, None)["price"]["amount"],
        "4500"
    );
    for refused in [
        json!("4500.5"),
        json!(4500.5),
        json!({"amount": "1", "currency": "USD"}),
    ] {
        let r = create(refused.clone()).await;
        r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
        assert_eq!(r.body["errors"][0]["field"], "price", "{refused}");
    }
}
