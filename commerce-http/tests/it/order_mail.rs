//! Order mail, read from the mail directory: confirmed when paid, then shipped, refunded or
//! cancelled.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::json;

use crate::shopping::set_up_shop;
use crate::support::{start, Server};

/// The mail to `to` whose subject contains `about`, waiting briefly: it goes out after the
/// answer.
async fn mail_about(s: &Server, to: &str, about: &str) -> String {
    for _ in 0..200 {
        let found: Option<String> = std::fs::read_dir(&s.mail_dir)
            .ok()
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p: &PathBuf| p.extension().is_some_and(|x| x == "eml"))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .find(|t| {
                t.contains(&format!("To: {to}\r\n"))
                    && t.lines()
                        .any(|l| l.starts_with("Subject:") && l.contains(about))
            });
        if let Some(text) = found {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no mail to {to} about {about}");
}

#[tokio::test]
async fn the_customer_is_mailed_when_the_order_is_paid_shipped_refunded_or_cancelled() {
    let s = start().await;
    let admin = s.admin_token().await;
    set_up_shop(&s, &admin).await;
    let lamp = s.product("Brass lamp", Decimal::new(3000, 2), 10).await;
    let email = "ana.mail@example.com";
    let customer = s.customer(email).await;
    let mut orders = Vec::new();
    for _ in 0..2 {
        orders.push(s.buy(&customer, &lamp, 2).await);
    }
    let (first, second) = (&orders[0], &orders[1]);
    let number = first["order"]["number"].as_str().unwrap();
    s.call(Method::POST, "/api/payments/confirm")
        .token(&customer)
        .json(json!({"payment_id": first["payment"]["id"]}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    let confirmed = mail_about(&s, email, &format!("order {number} is confirmed")).await;
    assert!(confirmed.contains("multipart/alternative"));
    assert!(confirmed.contains("2 × Brass lamp"), "{confirmed}");
    let total = first["order"]["totals"]["total"]["amount"]
        .as_str()
        .unwrap();
    assert!(
        confirmed.contains(&format!("Total: {total} USD")),
        "{confirmed}"
    );
    assert!(confirmed.contains("1 Main St"), "the delivery address");
    assert!(confirmed.contains("<table"), "and an HTML part");

    let id = first["order"]["id"].as_str().unwrap();
    for status in ["processing", "shipped"] {
        s.call(Method::PUT, &format!("/api/admin/orders/{id}/status"))
            .token(&admin)
            .json(json!({"status": status}))
            .send()
            .await
            .expect(StatusCode::OK, None);
    }
    mail_about(&s, email, &format!("order {number} is on its way")).await;
    s.call(Method::POST, &format!("/api/admin/orders/{id}/refund"))
        .token(&admin)
        .json(json!({}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    mail_about(&s, email, &format!("order {number} is refunded")).await;

    let other = second["order"]["number"].as_str().unwrap();
    s.call(
        Method::PUT,
        &format!(
            "/api/orders/{}/cancel",
            second["order"]["id"].as_str().unwrap()
        ),
    )
    .token(&customer)
    .send()
    .await
    .expect(StatusCode::OK, None);
    mail_about(&s, email, &format!("order {other} is cancelled")).await;
}
