//! The OpenAPI document agrees with what the server really sends: responses of the main
//! flows are checked against the schema the document gives for that path, method and status.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::support::{start, Reply};

/// Checks `value` against `schema` (the subset poem-openapi emits: $ref, type, format,
/// properties, required, items, additionalProperties, nullable, allOf/oneOf/anyOf).
fn check(spec: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if value.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
        return;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &spec["components"]["schemas"][name];
        assert!(!target.is_null(), "{r} is not in the document");
        return check(spec, target, value, at, errors);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            check(spec, s, value, at, errors);
        }
        return;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(any) = schema.get(key).and_then(Value::as_array) {
            let fits = any.iter().any(|s| {
                let mut e = Vec::new();
                check(spec, s, value, at, &mut e);
                e.is_empty()
            });
            if !fits {
                errors.push(format!("{at}: fits none of {key}"));
            }
            return;
        }
    }
    if value.is_null() {
        if schema.get("nullable") != Some(&Value::Bool(true)) && schema.get("type").is_some() {
            errors.push(format!("{at}: null, but the schema does not allow null"));
        }
        return;
    }
    let ty = schema.get("type").and_then(Value::as_str);
    let ok = match ty {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if !ok {
        errors.push(format!("{at}: {value} is not a {}", ty.unwrap_or("?")));
        return;
    }
    match (schema.get("format").and_then(Value::as_str), value.as_str()) {
        (Some("uuid"), Some(s)) if uuid::Uuid::parse_str(s).is_err() => {
            errors.push(format!("{at}: {s} is not a uuid"))
        }
        (Some("date-time"), Some(s)) if chrono::DateTime::parse_from_rfc3339(s).is_err() => {
            errors.push(format!("{at}: {s} is not RFC 3339"))
        }
        _ => {}
    }
    if let Some(obj) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = req.as_str().unwrap_or_default();
            if !obj.contains_key(name) {
                errors.push(format!("{at}.{name}: required but missing"));
            }
        }
        for (name, v) in obj {
            match props.and_then(|p| p.get(name)) {
                Some(s) => check(spec, s, v, &format!("{at}.{name}"), errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Object(_)) => {
                        let s = &schema["additionalProperties"];
                        check(spec, s, v, &format!("{at}.{name}"), errors)
                    }
                    _ if props.is_some() => {
                        errors.push(format!("{at}.{name}: sent but not in the schema"))
                    }
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            check(spec, items, v, &format!("{at}[{i}]"), errors);
        }
    }
}

/// The operation's response schema for this status (or `default`), by path template.
fn response_schema<'a>(spec: &'a Value, method: &str, template: &str, status: u16) -> &'a Value {
    let op = &spec["paths"][template][method];
    assert!(!op.is_null(), "{method} {template} is not in the document");
    let responses = &op["responses"];
    let r = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))
        .unwrap_or_else(|| panic!("{method} {template}: status {status} is not documented"));
    let content = r["content"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {template} {status}: no content documented"));
    let (_, media) = content.iter().next().expect("a media type");
    &media["schema"]
}

struct Checker {
    spec: Value,
    errors: Vec<String>,
    checked: usize,
}

impl Checker {
    fn check(&mut self, method: &str, template: &str, reply: &Reply) {
        let schema = response_schema(&self.spec, method, template, reply.status.as_u16()).clone();
        let mut errors = Vec::new();
        check(&self.spec, &schema, &reply.body, "", &mut errors);
        for e in errors {
            self.errors
                .push(format!("{method} {template} {}: {e}", reply.status));
        }
        self.checked += 1;
    }
}

#[tokio::test]
async fn responses_of_the_main_flows_match_the_document() {
    let s = start().await;
    let (_, _, spec) = s.get("/openapi.json").await;
    let mut c = Checker {
        spec,
        errors: Vec::new(),
        checked: 0,
    };
    let admin = s.admin_token().await;
    let lamp = s.product("Desk lamp", Decimal::new(2500, 2), 10).await;
    let r = s
        .call(Method::POST, "/api/admin/shipping-methods")
        .token(&admin)
        .json(json!({"name": "Standard", "price": "5.00"}))
        .send()
        .await;
    c.check("post", "/admin/shipping-methods", &r);
    let shipping_location = r.header("location").unwrap().to_string();
    let r = s
        .call(Method::POST, "/api/admin/tax-rates")
        .token(&admin)
        .json(json!({"country": "US", "region": "TX", "rate": "0.0825"}))
        .send()
        .await;
    c.check("post", "/admin/tax-rates", &r);
    let tax_location = r.header("location").unwrap().to_string();
    // The Location of what was created answers with it.
    for (location, template, shown) in [
        (
            &shipping_location,
            "/admin/shipping-methods/{id}",
            "Standard",
        ),
        (&tax_location, "/admin/tax-rates/{id}", "0.0825"),
    ] {
        let one = s.call(Method::GET, location).token(&admin).send().await;
        assert_eq!(one.status, StatusCode::OK, "{location}: {}", one.text);
        assert!(one.text.contains(shown), "{}", one.text);
        c.check("get", template, &one);
    }
    let r = s
        .call(Method::POST, "/api/admin/discounts")
        .token(&admin)
        .json(json!({"code": "WELCOME10", "kind": "percent", "value": "10"}))
        .send()
        .await;
    c.check("post", "/admin/discounts", &r);
    let r = s
        .call(Method::POST, "/api/auth/register")
        .json(
            json!({"email": "ana@example.com", "password": "a-long-password", "full_name": "Ana"}),
        )
        .send()
        .await;
    c.check("post", "/auth/register", &r);
    let r = s
        .call(Method::POST, "/api/auth/login")
        .json(json!({"email": "ana@example.com", "password": "a-long-password"}))
        .send()
        .await;
    c.check("post", "/auth/login", &r);
    let token = r.body["access_token"].as_str().unwrap().to_string();
    for (path, template) in [
        ("/api/store".to_string(), "/store"),
        ("/api/shipping-methods".into(), "/shipping-methods"),
        ("/api/categories".into(), "/categories"),
        ("/api/products".into(), "/products"),
        (format!("/api/products/{}", lamp.id), "/products/{id}"),
        ("/api/products/search?q=lamp".into(), "/products/search"),
        ("/api/products/nope".into(), "/products/{id}"),
    ] {
        let r = s.call(Method::GET, &path).send().await;
        c.check("get", template, &r);
    }
    let r = s
        .call(Method::POST, "/api/cart/items")
        .token(&token)
        .json(json!({"product_id": lamp.id.to_string(), "quantity": 2}))
        .send()
        .await;
    c.check("post", "/cart/items", &r);
    let r = s
        .call(Method::POST, "/api/cart/discounts")
        .token(&token)
        .json(json!({"code": "WELCOME10"}))
        .send()
        .await;
    c.check("post", "/cart/discounts", &r);
    let r = s
        .call(Method::POST, "/api/cart/discounts")
        .token(&token)
        .json(json!({"code": "NOPE"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    c.check("post", "/cart/discounts", &r);
    let address = json!({"full_name": "Ana", "line1": "1 Main St", "city": "Austin",
        "region": "TX", "postal_code": "78701", "country": "US"});
    let r = s
        .call(Method::POST, "/api/cart/checkout")
        .token(&token)
        .json(json!({"shipping_address": address}))
        .send()
        .await;
    c.check("post", "/cart/checkout", &r);
    let order_id = r.body["order"]["id"].as_str().unwrap().to_string();
    let payment_id = r.body["payment"]["id"].as_str().unwrap().to_string();
    let r = s
        .call(Method::POST, "/api/payments/confirm")
        .token(&token)
        .json(json!({"payment_id": payment_id}))
        .send()
        .await;
    c.check("post", "/payments/confirm", &r);
    let r = s
        .call(Method::GET, &format!("/api/orders/{order_id}"))
        .token(&token)
        .send()
        .await;
    c.check("get", "/orders/{id}", &r);
    let r = s
        .call(Method::GET, "/api/users/orders")
        .token(&token)
        .send()
        .await;
    c.check("get", "/users/orders", &r);
    let r = s.call(Method::GET, "/api/cart").token(&token).send().await;
    c.check("get", "/cart", &r);
    for (path, template) in [
        ("/api/admin/dashboard", "/admin/dashboard"),
        ("/api/admin/users", "/admin/users"),
        ("/api/admin/orders", "/admin/orders"),
        ("/api/admin/discounts", "/admin/discounts"),
        ("/api/admin/tax-rates", "/admin/tax-rates"),
    ] {
        let r = s.call(Method::GET, path).token(&admin).send().await;
        c.check("get", template, &r);
    }
    let r = s
        .call(Method::GET, "/api/admin/dashboard")
        .token(&token)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    c.check("get", "/admin/dashboard", &r);
    assert!(c.checked >= 25, "{}", c.checked);
    assert!(c.errors.is_empty(), "{}", c.errors.join("\n"));
}
