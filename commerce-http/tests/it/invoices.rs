//! `GET /api/orders/{id}/invoice`: a real PDF whose text has the order's number and total.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::json;

use crate::shopping::set_up_shop;
use crate::support::start;

#[tokio::test]
async fn the_owner_downloads_the_invoice_as_a_pdf_with_the_orders_figures() {
    let s = start().await;
    let admin = s.admin_token().await;
    set_up_shop(&s, &admin).await;
    s.call(Method::PUT, "/api/admin/store")
        .token(&admin)
        .json(
            json!({"name": "Brass & Linen", "address": {"full_name": "Brass & Linen Ltd",
            "line1": "4 Mill Lane", "city": "York", "postal_code": "YO1 7HH", "country": "GB"}}),
        )
        .send()
        .await
        .expect(StatusCode::OK, None);
    // A half address is refused with the field named, and the stored one stays.
    let refused = s
        .call(Method::PUT, "/api/admin/store")
        .token(&admin)
        .json(json!({"address": {"line1": "4 Mill Lane", "country": "GB"}}))
        .send()
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
        .clone();
    assert!(
        refused["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"].as_str().unwrap().starts_with("address.")),
        "{refused}"
    );
    let store = s
        .call(Method::GET, "/api/store")
        .send()
        .await
        .expect(StatusCode::OK, None)
        .clone();
    assert_eq!(store["address"]["line1"], "4 Mill Lane");
    assert_eq!(store["address"]["city"], "York");

    let lamp = s.product("Brass lamp", Decimal::new(3000, 2), 10).await;
    let customer = s.customer("ana.invoice@example.com").await;
    let order = s.buy(&customer, &lamp, 3).await["order"].clone();
    let id = order["id"].as_str().unwrap();
    let number = order["number"].as_str().unwrap();

    let response = s
        .http
        .get(format!("{}/api/orders/{id}/invoice", s.base))
        .bearer_auth(&customer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"invoice-{number}.pdf\"").as_str()
    );
    let pdf = response.bytes().await.unwrap();
    let text = pdf_extract::extract_text_from_mem(&pdf).expect("a PDF");
    assert!(text.contains(number), "{text}");
    let total = order["totals"]["total"]["amount"].as_str().unwrap();
    assert!(text.contains(total), "the total {total}: {text}");
    let tax = order["totals"]["tax"]["amount"].as_str().unwrap();
    assert!(text.contains(tax), "the tax {tax}");
    assert!(
        text.contains("Brass & Linen Ltd") && text.contains("4 Mill Lane"),
        "the seller"
    );
    assert!(text.contains("1 Main St"), "the buyer");

    // An admin may read it too; nobody else, and not without signing in.
    s.call(Method::GET, &format!("/api/orders/{id}/invoice"))
        .token(&admin)
        .send()
        .await
        .expect(StatusCode::OK, None);
    let stranger = s.customer("stranger.invoice@example.com").await;
    s.call(Method::GET, &format!("/api/orders/{id}/invoice"))
        .token(&stranger)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    s.call(Method::GET, &format!("/api/orders/{id}/invoice"))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
}
