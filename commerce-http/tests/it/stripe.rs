//! Real money through Stripe, end to end over HTTP against the fake Stripe
//! (`commerce_stripe::fake`): checkout creates a PaymentIntent there, its signed webhooks
//! move the order, refunds go back through it, and Checkout Sessions pay orders on Stripe's
//! own page.

use std::sync::Arc;

use commerce_stripe::fake::{Delivery, FakeStripe};
use commerce_stripe::{StripeGateway, STRIPE_VERSION};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::shopping::set_up_shop;
use crate::support::{start, start_with_gateway, Server};

const SECRET_KEY: &str = "sk_test_fake_commerce";
const WEBHOOK_SECRET: &str = "whsec_fake_commerce";

/// A shop on the fake Stripe, its webhooks sent to the shop.
async fn shop_on_stripe() -> (Server, FakeStripe) {
    let stripe = FakeStripe::start(SECRET_KEY, WEBHOOK_SECRET).await;
    let gateway = StripeGateway::new(stripe.config()).expect("a gateway");
    let s = start_with_gateway(Arc::new(gateway)).await;
    stripe.send_webhooks_to(&format!("{}/api/webhooks/stripe", s.base));
    (s, stripe)
}

/// A customer's checkout of two lamps at 30.00 (shipped to Texas, taxed), in a shop set up
/// for it: the checkout's answer and the customer's token.
async fn checkout(s: &Server) -> (Value, String) {
    let admin = s.admin_token().await;
    set_up_shop(s, &admin).await;
    checkout_again(s).await
}

/// Another such checkout in a shop set up already.
async fn checkout_again(s: &Server) -> (Value, String) {
    let lamp = s.product("Lamp", Decimal::new(3000, 2), 10).await;
    let customer = s
        .customer(&format!("ana-{}@example.com", uuid::Uuid::new_v4()))
        .await;
    (s.buy(&customer, &lamp, 2).await, customer)
}

async fn order(s: &Server, id: &str) -> Value {
    let admin = s.admin_token().await;
    s.call(Method::GET, &format!("/api/orders/{id}"))
        .token(&admin)
        .send()
        .await
        .expect(StatusCode::OK, None)
        .clone()
}

async fn payment(s: &Server, id: &str) -> Value {
    let admin = s.admin_token().await;
    s.call(Method::GET, &format!("/api/payments/{id}"))
        .token(&admin)
        .send()
        .await
        .expect(StatusCode::OK, None)
        .clone()
}

/// The order's total in cents.
fn cents(order: &Value) -> i64 {
    let total: Decimal = order["totals"]["total"]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    i64::try_from(total * Decimal::from(100)).unwrap()
}

#[tokio::test]
async fn a_card_payment_from_checkout_to_a_full_refund() {
    let (s, stripe) = shop_on_stripe().await;
    let (placed, _) = checkout(&s).await;
    let order_id = placed["order"]["id"].as_str().unwrap().to_string();
    let payment_id = placed["payment"]["id"].as_str().unwrap().to_string();
    assert_eq!(placed["payment"]["provider"], "stripe");
    let intent = placed["payment"]["provider_reference"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(intent.starts_with("pi_"), "{intent}");
    assert!(placed["payment"]["client_secret"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{intent}_secret_")));

    // What Stripe was asked, exactly.
    let created = stripe
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/payment_intents")
        .unwrap();
    assert!(created.authorized);
    assert_eq!(created.stripe_version.as_deref(), Some(STRIPE_VERSION));
    assert_eq!(
        created.idempotency_key.as_deref(),
        Some(format!("commerce-payment-intent-{payment_id}").as_str())
    );
    let total = cents(&placed["order"]);
    assert_eq!(created.field("amount"), Some(total.to_string().as_str()));
    assert_eq!(created.field("currency"), Some("usd"));
    assert_eq!(
        created.field("automatic_payment_methods[enabled]"),
        Some("true")
    );
    assert_eq!(created.field("metadata[order_id]"), Some(order_id.as_str()));
    assert_eq!(
        created.field("metadata[payment_id]"),
        Some(payment_id.as_str())
    );
    assert_eq!(
        created.field("metadata[order_number]"),
        placed["order"]["number"].as_str()
    );

    // The customer pays; Stripe says so.
    let paid = stripe.succeed(&intent);
    assert_eq!(stripe.deliver(&paid).await, 200);
    let now = order(&s, &order_id).await;
    assert_eq!(now["status"], "paid");
    assert_eq!(now["payment_status"], "succeeded");

    // A partial refund by the admin goes through Stripe, once.
    let admin = s.admin_token().await;
    let refunded = s
        .call(
            Method::POST,
            &format!("/api/admin/orders/{order_id}/refund"),
        )
        .token(&admin)
        .json(json!({"amount": "5.00"}))
        .send()
        .await;
    let refunded = refunded.expect(StatusCode::OK, None);
    assert_eq!(refunded["status"], "paid");
    assert_eq!(refunded["payment_status"], "partially_refunded");
    let asked = stripe
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/refunds")
        .unwrap();
    assert_eq!(asked.field("payment_intent"), Some(intent.as_str()));
    assert_eq!(asked.field("amount"), Some("500"));
    assert!(asked
        .idempotency_key
        .as_deref()
        .is_some_and(|k| k.starts_with("commerce-refund-")));
    // Stripe's report of that refund is the shop's own: recorded once.
    let echo = stripe.last_event("charge.refunded").unwrap();
    assert_eq!(stripe.deliver(&echo).await, 200);
    assert_eq!(
        payment(&s, &payment_id).await["refunds"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The rest refunded in Stripe's dashboard: the order is refunded.
    let rest = stripe.refund_in_dashboard(&intent, total - 500);
    assert_eq!(stripe.deliver(&rest).await, 200);
    let now = order(&s, &order_id).await;
    assert_eq!(now["status"], "refunded");
    assert_eq!(now["payment_status"], "refunded");
    let p = payment(&s, &payment_id).await;
    assert_eq!(p["status"], "refunded");
    assert_eq!(p["refunds"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_declined_card_leaves_the_order_payable() {
    let (s, stripe) = shop_on_stripe().await;
    let (placed, customer) = checkout(&s).await;
    let order_id = placed["order"]["id"].as_str().unwrap().to_string();
    let payment_id = placed["payment"]["id"].as_str().unwrap().to_string();
    let intent = placed["payment"]["provider_reference"].as_str().unwrap();
    let declined = stripe.decline(intent, "insufficient_funds");
    assert_eq!(stripe.deliver(&declined).await, 200);
    let p = payment(&s, &payment_id).await;
    assert_eq!(p["status"], "failed");
    assert!(p["failure_reason"]
        .as_str()
        .unwrap()
        .contains("insufficient_funds"));
    assert_eq!(order(&s, &order_id).await["status"], "pending");
    // A new attempt: a new intent, which succeeds.
    let again = s
        .call(Method::POST, "/api/payments/create-intent")
        .token(&customer)
        .json(json!({"order_id": order_id}))
        .send()
        .await;
    let again = again.expect(StatusCode::CREATED, None).clone();
    let second = again["provider_reference"].as_str().unwrap();
    assert_ne!(second, intent);
    let paid = stripe.succeed(second);
    assert_eq!(stripe.deliver(&paid).await, 200);
    assert_eq!(order(&s, &order_id).await["status"], "paid");
    // A 3-D Secure step on an intent is not an event the shop acts on: acknowledged.
    let action = stripe.require_action(intent);
    assert_eq!(stripe.deliver(&action).await, 200);
}

#[tokio::test]
async fn duplicate_concurrent_and_reordered_events_apply_once() {
    let (s, stripe) = shop_on_stripe().await;
    let (placed, _) = checkout(&s).await;
    let order_id = placed["order"]["id"].as_str().unwrap().to_string();
    let intent = placed["payment"]["provider_reference"].as_str().unwrap();
    // A failure made first, a success after; they arrive the other way round.
    let failed = stripe.decline(intent, "card_declined");
    let paid = stripe.succeed(intent);
    let statuses = stripe.deliver_concurrently(&paid, 4).await;
    assert_eq!(statuses, vec![200; 4], "every copy is acknowledged");
    assert_eq!(stripe.deliver(&failed).await, 200);
    assert_eq!(stripe.deliver(&paid).await, 200);
    let now = order(&s, &order_id).await;
    assert_eq!(now["status"], "paid", "a late failure never undoes paid");
    let history: Vec<&str> = now["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, vec!["pending", "paid"], "paid once");
    let p = payment(&s, placed["payment"]["id"].as_str().unwrap()).await;
    assert_eq!(p["status"], "succeeded");
}

#[tokio::test]
async fn webhooks_are_verified_before_anything_is_read() {
    let (s, stripe) = shop_on_stripe().await;
    let (placed, _) = checkout(&s).await;
    let order_id = placed["order"]["id"].as_str().unwrap().to_string();
    let intent = placed["payment"]["provider_reference"].as_str().unwrap();
    let paid = stripe.succeed(intent);
    let refused = [
        Delivery {
            signed_at: Some(chrono::Utc::now().timestamp() - 301),
            ..Default::default()
        },
        Delivery {
            secret: Some("whsec_someone_else".into()),
            ..Default::default()
        },
        Delivery {
            tampered: true,
            ..Default::default()
        },
        Delivery {
            unsigned: true,
            ..Default::default()
        },
    ];
    for how in refused {
        assert_eq!(
            stripe.deliver_with(&paid, how.clone()).await,
            400,
            "{how:?}"
        );
    }
    assert_eq!(order(&s, &order_id).await["status"], "pending");
    // The answer is a problem that says why.
    let r = s
        .call(Method::POST, "/api/webhooks/stripe")
        .header("Stripe-Signature", "t=1,v1=00")
        .raw("application/json", "not even json")
        .send()
        .await;
    r.expect(StatusCode::BAD_REQUEST, Some("invalid_signature"));
    // Signed but unreadable: 400 too, named so.
    let at = chrono::Utc::now().timestamp();
    let body = r#"{"id": "evt_x", "type": "payment_intent.succeeded", "data": {}}"#;
    let signature = format!(
        "t={at},v1={}",
        commerce_stripe::webhook::sign(body.as_bytes(), WEBHOOK_SECRET, at)
    );
    s.call(Method::POST, "/api/webhooks/stripe")
        .header("Stripe-Signature", &signature)
        .raw("application/json", body)
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST, Some("malformed_webhook"));
    // Signed, of a kind the shop does not act on: acknowledged.
    let body =
        r#"{"id": "evt_y", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}"#;
    let signature = format!(
        "t={at},v1={}",
        commerce_stripe::webhook::sign(body.as_bytes(), WEBHOOK_SECRET, at)
    );
    let r = s
        .call(Method::POST, "/api/webhooks/stripe")
        .header("Stripe-Signature", &signature)
        .raw("application/json", body)
        .send()
        .await;
    assert_eq!(r.expect(StatusCode::OK, None)["received"], true);
    // Seed 004's path is the same endpoint.
    stripe.send_webhooks_to(&format!("{}/api/payment/webhook", s.base));
    assert_eq!(stripe.deliver(&paid).await, 200);
    assert_eq!(order(&s, &order_id).await["status"], "paid");
}

#[tokio::test]
async fn a_checkout_session_pays_the_order_on_stripes_page() {
    let (s, stripe) = shop_on_stripe().await;
    let (placed, customer) = checkout(&s).await;
    let order_id = placed["order"]["id"].as_str().unwrap().to_string();
    let key = uuid::Uuid::new_v4().to_string();
    let hosted = s
        .call(Method::POST, "/api/payment/checkout")
        .token(&customer)
        .header("Idempotency-Key", &key)
        .json(json!({"order_id": order_id}))
        .send()
        .await;
    let hosted = hosted.expect(StatusCode::CREATED, None).clone();
    // A retry of the same request is the same session, not a second one.
    let retried = s
        .call(Method::POST, "/api/payment/checkout")
        .token(&customer)
        .header("Idempotency-Key", &key)
        .json(json!({"order_id": order_id}))
        .send()
        .await;
    assert_eq!(
        retried.expect(StatusCode::CREATED, None)["session_id"],
        hosted["session_id"]
    );
    assert_eq!(hosted["provider"], "stripe");
    let session_id = hosted["session_id"].as_str().unwrap().to_string();
    assert!(session_id.starts_with("cs_"));
    assert!(hosted["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/pay/{session_id}")));
    // The session's lines add up to exactly the order total.
    let session = stripe.checkout_session(&session_id).unwrap();
    assert_eq!(session["amount_total"], cents(&placed["order"]));
    let names: Vec<&str> = session["line_items"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert!(names[0].starts_with("Lamp"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("Shipping")), "{names:?}");
    assert_eq!(session["client_reference_id"], order_id.as_str());
    // Paid on the page: the completed session marks the order paid; the intent's own
    // report after it changes nothing.
    let events = stripe.complete_session(&session_id);
    assert_eq!(stripe.deliver(&events[1]).await, 200);
    assert_eq!(order(&s, &order_id).await["status"], "paid");
    assert_eq!(stripe.deliver(&events[0]).await, 200);
    let hosted_payment = payment(&s, hosted["payment_id"].as_str().unwrap()).await;
    assert_eq!(hosted_payment["status"], "succeeded");
    assert!(hosted_payment["provider_reference"]
        .as_str()
        .unwrap()
        .starts_with("pi_"));
    // Its refund goes to the session's payment intent.
    let admin = s.admin_token().await;
    let r = s
        .call(
            Method::POST,
            &format!("/api/admin/orders/{order_id}/refund"),
        )
        .token(&admin)
        .json(json!({}))
        .send()
        .await;
    assert_eq!(r.expect(StatusCode::OK, None)["status"], "refunded");
    // The built-in test provider has no hosted page.
    let plain = start().await;
    let (placed, customer) = checkout(&plain).await;
    plain
        .call(Method::POST, "/api/payment/checkout")
        .token(&customer)
        .json(json!({"order_id": placed["order"]["id"]}))
        .send()
        .await
        .expect(StatusCode::CONFLICT, Some("conflict"));
}

#[tokio::test]
async fn stripe_failures_are_retried_then_clear_problems() {
    let (s, stripe) = shop_on_stripe().await;
    // Two 500s, then success: the same key each time, one intent.
    stripe.fail_next(500, 2);
    let (placed, customer) = checkout(&s).await;
    assert_eq!(placed["payment"]["provider"], "stripe");
    let tries: Vec<_> = stripe
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/payment_intents")
        .collect();
    assert_eq!(tries.len(), 3);
    assert!(tries
        .iter()
        .all(|t| t.idempotency_key == tries[0].idempotency_key));
    // Stripe down for longer: the order stands, its payment is made later.
    let order_id = placed["order"]["id"].as_str().unwrap().to_string();
    let cancelled = s
        .call(Method::PUT, &format!("/api/orders/{order_id}/cancel"))
        .token(&customer)
        .send()
        .await;
    cancelled.expect(StatusCode::OK, None);
    stripe.fail_next(503, 20);
    let (later, customer) = checkout_again(&s).await;
    assert_eq!(later["payment"], Value::Null, "{later}");
    let r = s
        .call(Method::POST, "/api/payments/create-intent")
        .token(&customer)
        .json(json!({"order_id": later["order"]["id"]}))
        .send()
        .await;
    r.expect(StatusCode::BAD_GATEWAY, Some("provider_unavailable"));
}

#[tokio::test]
async fn a_refused_api_key_is_a_problem_that_never_shows_the_key() {
    let stripe = FakeStripe::start(SECRET_KEY, WEBHOOK_SECRET).await;
    let mut config = stripe.config();
    config.secret_key = commerce_stripe::SecretKey::new("sk_test_wrong_key_never_shown");
    let s = start_with_gateway(Arc::new(StripeGateway::new(config).unwrap())).await;
    let (placed, customer) = checkout(&s).await;
    assert_eq!(placed["payment"], Value::Null);
    // The order stands, and the answer says why it has no payment, as a problem with the
    // request's id.
    assert_eq!(placed["order"]["status"], "pending");
    let told = &placed["payment_error"];
    assert_eq!(told["code"], "provider_unavailable", "{placed}");
    assert_eq!(told["status"], 502);
    assert_eq!(
        told["request_id"].as_str().map(str::len),
        Some(32),
        "{told}"
    );
    assert!(!placed.to_string().contains("sk_test"), "{placed}");
    let r = s
        .call(Method::POST, "/api/payments/create-intent")
        .token(&customer)
        .json(json!({"order_id": placed["order"]["id"]}))
        .send()
        .await;
    r.expect(StatusCode::BAD_GATEWAY, Some("provider_unavailable"));
    assert!(!r.text.contains("sk_test"), "{}", r.text);
    assert!(stripe.requests().iter().all(|q| !q.authorized));
}
