//! PayPal beside Stripe, end to end over HTTP against the fake PayPal
//! (`commerce_paypal::fake`): checkout creates a PayPal order there, the buyer approves it,
//! confirming (or PayPal's signed webhooks) captures it and pays the order, refunds go back
//! through it; and a shop offering Stripe and PayPal at once sends each payment to its own.

use std::sync::Arc;

use commerce_paypal::fake::{Delivery, FakePayPal};
use commerce_paypal::PayPalGateway;
use commerce_stripe::fake::FakeStripe;
use commerce_stripe::StripeGateway;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::shopping::{set_up_shop, TEXAS};
use crate::support::{start_with_gateways, Server};

/// A shop whose only provider is the fake PayPal, its webhooks sent to the shop.
async fn shop_on_paypal() -> (Server, FakePayPal) {
    let paypal = FakePayPal::start().await;
    let gateway = PayPalGateway::new(paypal.config()).expect("a gateway");
    let s = start_with_gateways("USD", vec![Arc::new(gateway)]).await;
    paypal.send_webhooks_to(&format!("{}/api/webhooks/paypal", s.base));
    (s, paypal)
}

/// A customer's checkout of two lamps at 30.00 (shipped to Texas, taxed), paying with
/// `provider` (the default when `None`): the checkout's answer and the customer's token.
async fn checkout_with(s: &Server, provider: Option<&str>) -> (Value, String) {
    let lamp = s.product("Lamp", Decimal::new(3000, 2), 10).await;
    let customer = s
        .customer(&format!("ana-{}@example.com", uuid::Uuid::new_v4()))
        .await;
    s.call(Method::POST, "/api/cart/items")
        .token(&customer)
        .json(json!({"product_id": lamp.id.to_string(), "quantity": 2}))
        .send()
        .await
        .expect(StatusCode::CREATED, None);
    let address: Value = serde_json::from_str(TEXAS).unwrap();
    let mut body = json!({"shipping_address": address});
    if let Some(provider) = provider {
        body["payment_provider"] = json!(provider);
    }
    let placed = s
        .call(Method::POST, "/api/cart/checkout")
        .token(&customer)
        .json(body)
        .send()
        .await
        .expect(StatusCode::CREATED, None)
        .clone();
    (placed, customer)
}

async fn ready(s: &Server) {
    let admin = s.admin_token().await;
    set_up_shop(s, &admin).await;
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

async fn confirm(s: &Server, customer: &str, payment_id: &str) -> Value {
    s.call(Method::POST, "/api/payments/confirm")
        .token(customer)
        .json(json!({"payment_id": payment_id}))
        .send()
        .await
        .expect(StatusCode::OK, None)
        .clone()
}

fn ids(placed: &Value) -> (String, String, String) {
    let text = |v: &Value| v.as_str().expect("a string").to_string();
    (
        text(&placed["order"]["id"]),
        text(&placed["payment"]["id"]),
        text(&placed["payment"]["provider_reference"]),
    )
}

#[tokio::test]
async fn a_paypal_payment_from_checkout_through_approval_to_refunds() {
    let (s, paypal) = shop_on_paypal().await;
    ready(&s).await;
    let (placed, customer) = checkout_with(&s, Some("paypal")).await;
    let (order_id, payment_id, paypal_order) = ids(&placed);
    assert_eq!(placed["payment"]["provider"], "paypal");
    assert_eq!(placed["payment"]["status"], "requires_payment");
    assert_eq!(
        placed["payment"]["approve_url"].as_str().unwrap(),
        format!("{}/checkoutnow?token={paypal_order}", paypal.api_base())
    );

    // What PayPal was asked, exactly: a token, then the order with its request id.
    let asked = paypal.requests();
    assert_eq!(asked[0].path, "/v1/oauth2/token");
    assert!(asked[0].authorized);
    let created = asked
        .iter()
        .find(|r| r.path == "/v2/checkout/orders")
        .unwrap();
    assert!(created.authorized);
    assert_eq!(
        created.request_id.as_deref(),
        Some(format!("commerce-order-{payment_id}").as_str())
    );
    let unit = &created.body["purchase_units"][0];
    assert_eq!(created.body["intent"], "CAPTURE");
    assert_eq!(unit["custom_id"], payment_id.as_str());
    assert_eq!(unit["reference_id"], order_id.as_str());
    assert_eq!(unit["amount"]["currency_code"], "USD");
    assert_eq!(
        unit["amount"]["value"],
        placed["order"]["totals"]["total"]["amount"]
    );

    // Confirming before the buyer approved captures nothing.
    let early = confirm(&s, &customer, &payment_id).await;
    assert_eq!(early["status"], "requires_payment");
    assert_eq!(order(&s, &order_id).await["status"], "pending");

    // The buyer approves on PayPal's page; confirming captures.
    paypal.approve(&paypal_order);
    let paid = confirm(&s, &customer, &payment_id).await;
    assert_eq!(paid["status"], "succeeded");
    let now = order(&s, &order_id).await;
    assert_eq!(now["status"], "paid");
    assert_eq!(now["payment_status"], "succeeded");
    let capture = paypal.capture_of(&paypal_order).expect("a capture");
    assert_eq!(capture["status"], "COMPLETED");
    // Every write carried a request id, and the token was fetched once.
    let asked = paypal.requests();
    assert!(asked
        .iter()
        .filter(|r| r.method == "POST" && r.path != "/v1/oauth2/token")
        .all(|r| r.request_id.is_some()));
    assert_eq!(
        asked
            .iter()
            .filter(|r| r.path == "/v1/oauth2/token")
            .count(),
        1
    );
    // Confirming again asks nothing more.
    let before = asked.len();
    assert_eq!(
        confirm(&s, &customer, &payment_id).await["status"],
        "succeeded"
    );
    assert_eq!(paypal.requests().len(), before);

    // PayPal's own report of the capture changes nothing.
    let completed = paypal.last_event("PAYMENT.CAPTURE.COMPLETED").unwrap();
    assert_eq!(paypal.deliver(&completed).await, 200);
    assert_eq!(order(&s, &order_id).await["status"], "paid");

    // A partial refund by the admin goes to the capture, once.
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
    assert_eq!(refunded["payment_status"], "partially_refunded");
    let capture_id = capture["id"].as_str().unwrap();
    let asked = paypal
        .requests()
        .into_iter()
        .find(|r| r.path == format!("/v2/payments/captures/{capture_id}/refund"))
        .unwrap();
    assert_eq!(
        asked.body["amount"],
        json!({"currency_code": "USD", "value": "5.00"})
    );
    assert!(asked
        .request_id
        .as_deref()
        .is_some_and(|id| id.starts_with("commerce-refund-")));
    // PayPal's report of that refund is the shop's own: recorded once.
    let echo = paypal.last_event("PAYMENT.CAPTURE.REFUNDED").unwrap();
    assert_eq!(paypal.deliver(&echo).await, 200);
    assert_eq!(
        payment(&s, &payment_id).await["refunds"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The rest, refunded by the admin: the order is refunded, PayPal's capture too.
    let rest = s
        .call(
            Method::POST,
            &format!("/api/admin/orders/{order_id}/refund"),
        )
        .token(&admin)
        .json(json!({}))
        .send()
        .await;
    assert_eq!(rest.expect(StatusCode::OK, None)["status"], "refunded");
    assert_eq!(paypal.capture(capture_id).unwrap()["status"], "REFUNDED");
    let p = payment(&s, &payment_id).await;
    assert_eq!(p["status"], "refunded");
    assert_eq!(p["refunds"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn paypals_webhooks_alone_pay_the_order_once() {
    let (s, paypal) = shop_on_paypal().await;
    ready(&s).await;
    let (placed, _) = checkout_with(&s, None).await;
    // PayPal is this shop's only provider: its default.
    assert_eq!(placed["payment"]["provider"], "paypal");
    let (order_id, payment_id, paypal_order) = ids(&placed);

    // The buyer approves and closes the tab: the approval's webhook captures.
    let approved = paypal.approve(&paypal_order);
    assert_eq!(paypal.deliver(&approved).await, 200);
    assert_eq!(order(&s, &order_id).await["status"], "paid");
    assert_eq!(payment(&s, &payment_id).await["status"], "succeeded");
    let captures = |paypal: &FakePayPal| {
        paypal
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/capture"))
            .count()
    };
    assert_eq!(captures(&paypal), 1);

    // The same event again is acknowledged, not applied: no second capture is asked.
    assert_eq!(paypal.deliver(&approved).await, 200);
    assert_eq!(captures(&paypal), 1);
    // The capture's report, then the approval's once more in another transmission, out of
    // order: nothing moves.
    let completed = paypal.last_event("PAYMENT.CAPTURE.COMPLETED").unwrap();
    assert_eq!(paypal.deliver(&completed).await, 200);
    assert_eq!(paypal.deliver(&completed).await, 200);
    assert_eq!(order(&s, &order_id).await["status"], "paid");
    assert_eq!(
        order(&s, &order_id).await["status_history"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn the_capture_report_pays_an_order_captured_elsewhere() {
    let (s, paypal) = shop_on_paypal().await;
    ready(&s).await;
    let (placed, customer) = checkout_with(&s, Some("paypal")).await;
    let (order_id, payment_id, paypal_order) = ids(&placed);
    // Captured (by a confirmation whose answer was lost), then reported by webhook; a later
    // confirmation meets ORDER_ALREADY_CAPTURED and reads the capture.
    paypal.approve(&paypal_order);
    let gateway = PayPalGateway::new(paypal.config()).unwrap();
    let p = s
        .shop
        .payments()
        .payment(&s.admin, payment_id.parse::<uuid::Uuid>().unwrap().into())
        .await
        .unwrap();
    use commerce_core::ports::PaymentGateway;
    assert_eq!(
        gateway.confirm(&p).await.unwrap(),
        commerce_core::payment::PaymentStatus::Succeeded
    );
    let completed = paypal.last_event("PAYMENT.CAPTURE.COMPLETED").unwrap();
    assert_eq!(paypal.deliver(&completed).await, 200);
    assert_eq!(order(&s, &order_id).await["status"], "paid");
    let again = confirm(&s, &customer, &payment_id).await;
    assert_eq!(again["status"], "succeeded");
}

#[tokio::test]
async fn forged_tampered_and_unsigned_webhooks_are_refused() {
    let (s, paypal) = shop_on_paypal().await;
    ready(&s).await;
    let (placed, _) = checkout_with(&s, Some("paypal")).await;
    let (order_id, _, paypal_order) = ids(&placed);
    let approved = paypal.approve(&paypal_order);
    let refused = [
        Delivery {
            forged: true,
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
        // Signed for another endpoint.
        Delivery {
            webhook_id: Some("WH-SOMEONE-ELSE".into()),
            ..Default::default()
        },
        // A certificate from a host that is not on the allow-list.
        Delivery {
            cert_url: Some("http://localhost:9/certs/evil.pem".into()),
            ..Default::default()
        },
        Delivery {
            cert_url: Some("https://paypal.example.com/cert.pem".into()),
            ..Default::default()
        },
    ];
    for how in refused {
        let described = format!("{how:?}");
        assert_eq!(
            paypal.deliver_with(&approved, how).await,
            400,
            "{described}"
        );
    }
    assert_eq!(order(&s, &order_id).await["status"], "pending");
    assert!(!paypal
        .requests()
        .iter()
        .any(|r| r.path.ends_with("/capture")));
    // A refused delivery does not use up the event: the genuine one is applied.
    assert_eq!(paypal.deliver(&approved).await, 200);
    assert_eq!(order(&s, &order_id).await["status"], "paid");

    // The answer to a forged webhook says why, as problem JSON.
    let forged = s
        .call(Method::POST, "/api/webhooks/paypal")
        .header("PAYPAL-TRANSMISSION-ID", "x")
        .header("PAYPAL-TRANSMISSION-TIME", "2026-12-06T10:00:00Z")
        .header("PAYPAL-TRANSMISSION-SIG", "bm90IGEgc2lnbmF0dXJl")
        .header("PAYPAL-CERT-URL", &paypal.cert_url())
        .header("PAYPAL-AUTH-ALGO", "SHA256withRSA")
        .json(json!({"id": "WH-X", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {}}))
        .send()
        .await;
    forged.expect(StatusCode::BAD_REQUEST, Some("invalid_signature"));
    let missing = s
        .call(Method::POST, "/api/webhooks/paypal")
        .json(json!({}))
        .send()
        .await;
    missing.expect(StatusCode::BAD_REQUEST, Some("invalid_signature"));
}

#[tokio::test]
async fn a_declined_capture_leaves_the_order_payable() {
    let (s, paypal) = shop_on_paypal().await;
    ready(&s).await;
    let (placed, customer) = checkout_with(&s, Some("paypal")).await;
    let (order_id, payment_id, paypal_order) = ids(&placed);
    paypal.approve(&paypal_order);
    paypal.decline_next_capture();
    let declined = confirm(&s, &customer, &payment_id).await;
    assert_eq!(declined["status"], "failed");
    assert!(declined["failure_reason"].as_str().is_some());
    assert_eq!(order(&s, &order_id).await["status"], "pending");
    // The buyer approves with another source; the next confirmation captures.
    paypal.approve(&paypal_order);
    assert_eq!(
        confirm(&s, &customer, &payment_id).await["status"],
        "succeeded"
    );
    assert_eq!(order(&s, &order_id).await["status"], "paid");
}

#[tokio::test]
async fn a_pending_capture_that_paypal_denies_fails_the_payment() {
    let (s, paypal) = shop_on_paypal().await;
    ready(&s).await;
    let (placed, customer) = checkout_with(&s, Some("paypal")).await;
    let (order_id, payment_id, paypal_order) = ids(&placed);
    paypal.approve(&paypal_order);
    paypal.pend_next_capture();
    assert_eq!(
        confirm(&s, &customer, &payment_id).await["status"],
        "processing"
    );
    let capture = paypal.capture_of(&paypal_order).unwrap();
    let denied = paypal.deny_capture(capture["id"].as_str().unwrap());
    assert_eq!(paypal.deliver(&denied).await, 200);
    let p = payment(&s, &payment_id).await;
    assert_eq!(p["status"], "failed");
    assert!(p["failure_reason"]
        .as_str()
        .unwrap()
        .contains("DENIED_BY_RISK"));
    assert_eq!(order(&s, &order_id).await["status"], "pending");
}

#[tokio::test]
async fn a_refund_in_paypals_dashboard_is_recorded() {
    let (s, paypal) = shop_on_paypal().await;
    ready(&s).await;
    let (placed, customer) = checkout_with(&s, Some("paypal")).await;
    let (order_id, payment_id, paypal_order) = ids(&placed);
    paypal.approve(&paypal_order);
    confirm(&s, &customer, &payment_id).await;
    let capture = paypal.capture_of(&paypal_order).unwrap();
    let refunded = paypal.refund_in_dashboard(capture["id"].as_str().unwrap(), "5.00");
    assert_eq!(paypal.deliver(&refunded).await, 200);
    let p = payment(&s, &payment_id).await;
    assert_eq!(p["status"], "partially_refunded");
    assert_eq!(p["refunds"][0]["amount"]["amount"], "5.00");
    assert_eq!(
        order(&s, &order_id).await["payment_status"],
        "partially_refunded"
    );
    // Delivered twice, recorded once.
    assert_eq!(paypal.deliver(&refunded).await, 200);
    assert_eq!(
        payment(&s, &payment_id).await["refunds"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn tokens_are_renewed_and_failures_retried() {
    let (s, paypal) = shop_on_paypal().await;
    ready(&s).await;
    // PayPal fails twice (503, 429), then answers: the order is made on the third try.
    paypal.fail_next(503, 1);
    paypal.fail_next(429, 1);
    let (placed, customer) = checkout_with(&s, Some("paypal")).await;
    let (order_id, payment_id, paypal_order) = ids(&placed);
    let creates = paypal
        .requests()
        .iter()
        .filter(|r| r.path == "/v2/checkout/orders")
        .count();
    assert_eq!(creates, 3);
    assert!(paypal.order(&paypal_order).is_some());
    // The token PayPal issued stops working: one new token, and the capture goes through.
    paypal.expire_tokens();
    paypal.approve(&paypal_order);
    assert_eq!(
        confirm(&s, &customer, &payment_id).await["status"],
        "succeeded"
    );
    assert_eq!(order(&s, &order_id).await["status"], "paid");
    let tokens = paypal
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/oauth2/token")
        .count();
    assert_eq!(tokens, 2);
}

#[tokio::test]
async fn amounts_paypal_cannot_take_are_refused_not_rounded() {
    let paypal = FakePayPal::start().await;
    let gateway = PayPalGateway::new(paypal.config()).expect("a gateway");
    let s = start_with_gateways("HUF", vec![Arc::new(gateway)]).await;
    let admin = s.admin_token().await;
    s.call(Method::POST, "/api/admin/shipping-methods")
        .token(&admin)
        .json(json!({"name": "Posta", "price": "1000"}))
        .send()
        .await
        .expect(StatusCode::CREATED, None);
    let customer = s.customer("ildiko@example.com").await;
    let address = json!({"full_name": "Ildikó", "line1": "Fő utca 1", "city": "Budapest",
        "postal_code": "1011", "country": "HU"});
    let buy = |price: Decimal| {
        let s = &s;
        let customer = customer.clone();
        let address = address.clone();
        async move {
            let item = s.product("Paprika", price, 10).await;
            s.call(Method::POST, "/api/cart/items")
                .token(&customer)
                .json(json!({"product_id": item.id.to_string(), "quantity": 1}))
                .send()
                .await
                .expect(StatusCode::CREATED, None);
            s.call(Method::POST, "/api/cart/checkout")
                .token(&customer)
                .json(json!({"shipping_address": address, "payment_provider": "paypal"}))
                .send()
                .await
                .expect(StatusCode::CREATED, None)
                .clone()
        }
    };
    // 1500.50 forint: PayPal takes HUF in whole forints only. The order stands unpaid, and
    // nothing was sent to PayPal.
    let fractional = buy(Decimal::new(150050, 2)).await;
    assert!(fractional["payment"].is_null());
    assert_eq!(fractional["payment_error"]["code"], "conflict");
    assert!(fractional["payment_error"]["detail"]
        .as_str()
        .unwrap()
        .contains("whole units"));
    assert!(!paypal
        .requests()
        .iter()
        .any(|r| r.path == "/v2/checkout/orders"));
    // A whole amount goes as PayPal writes it: no decimals.
    let whole = buy(Decimal::new(1500, 0)).await;
    assert_eq!(whole["payment"]["provider"], "paypal");
    let created = paypal
        .requests()
        .into_iter()
        .find(|r| r.path == "/v2/checkout/orders")
        .unwrap();
    assert_eq!(
        created.body["purchase_units"][0]["amount"],
        json!({"currency_code": "HUF", "value": "2500"})
    );
}

/// A shop offering Stripe (its default) and PayPal.
async fn shop_on_both() -> (Server, FakeStripe, FakePayPal) {
    let stripe = FakeStripe::start("sk_test_fake_commerce", "whsec_fake_commerce").await;
    let paypal = FakePayPal::start().await;
    let s = start_with_gateways(
        "USD",
        vec![
            Arc::new(StripeGateway::new(stripe.config()).unwrap()),
            Arc::new(PayPalGateway::new(paypal.config()).unwrap()),
        ],
    )
    .await;
    stripe.send_webhooks_to(&format!("{}/api/webhooks/stripe", s.base));
    paypal.send_webhooks_to(&format!("{}/api/webhooks/paypal", s.base));
    (s, stripe, paypal)
}

#[tokio::test]
async fn a_shop_with_stripe_and_paypal_sends_each_payment_to_its_own_provider() {
    let (s, stripe, paypal) = shop_on_both().await;
    ready(&s).await;
    let (_, _, store) = s.get("/api/store").await;
    assert_eq!(store["payment_providers"], json!(["stripe", "paypal"]));

    // No provider named: the first, Stripe. PayPal named: PayPal.
    let (by_card, _) = checkout_with(&s, None).await;
    assert_eq!(by_card["payment"]["provider"], "stripe");
    assert!(by_card["payment"]["approve_url"].is_null());
    let (by_paypal, customer) = checkout_with(&s, Some("paypal")).await;
    assert_eq!(by_paypal["payment"]["provider"], "paypal");
    let (card_order, card_payment, intent) = ids(&by_card);
    let (paypal_order_id, paypal_payment, paypal_order) = ids(&by_paypal);

    // Confirming the PayPal payment (approved, not yet captured) captures it at PayPal and
    // asks Stripe nothing.
    paypal.approve(&paypal_order);
    let stripe_calls = stripe.requests().len();
    assert_eq!(
        confirm(&s, &customer, &paypal_payment).await["status"],
        "succeeded"
    );
    assert_eq!(stripe.requests().len(), stripe_calls);
    assert!(paypal.capture_of(&paypal_order).is_some());
    // Stripe's webhook moves its own payment; a PayPal event never touches it.
    let paid = stripe.succeed(&intent);
    assert_eq!(stripe.deliver(&paid).await, 200);
    assert_eq!(order(&s, &card_order).await["status"], "paid");
    assert_eq!(order(&s, &paypal_order_id).await["status"], "paid");
    assert_eq!(payment(&s, &card_payment).await["provider"], "stripe");
    assert_eq!(payment(&s, &paypal_payment).await["provider"], "paypal");

    // Refunds go to the provider that took the payment.
    let admin = s.admin_token().await;
    for id in [&paypal_order_id, &card_order] {
        s.call(Method::POST, &format!("/api/admin/orders/{id}/refund"))
            .token(&admin)
            .json(json!({"amount": "1.00"}))
            .send()
            .await
            .expect(StatusCode::OK, None);
    }
    assert_eq!(
        paypal
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/refund"))
            .count(),
        1
    );
    assert_eq!(
        stripe
            .requests()
            .iter()
            .filter(|r| r.path == "/v1/refunds")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_provider_the_shop_does_not_offer_is_refused_before_anything_is_written() {
    let (s, _stripe, paypal) = shop_on_both().await;
    ready(&s).await;
    let lamp = s.product("Lamp", Decimal::new(3000, 2), 10).await;
    let customer = s.customer("bea@example.com").await;
    s.call(Method::POST, "/api/cart/items")
        .token(&customer)
        .json(json!({"product_id": lamp.id.to_string(), "quantity": 1}))
        .send()
        .await
        .expect(StatusCode::CREATED, None);
    let address: Value = serde_json::from_str(TEXAS).unwrap();
    for provider in ["bitcoin", "test", "none"] {
        let refused = s
            .call(Method::POST, "/api/cart/checkout")
            .token(&customer)
            .json(json!({"shipping_address": address, "payment_provider": provider}))
            .send()
            .await;
        let body = refused.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
        assert_eq!(body["errors"][0]["field"], "payment_provider", "{body}");
        assert!(body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("stripe, paypal"));
    }
    // Nothing was placed: no order, the cart and the stock as they were.
    let (_, _, orders) = s.get_as(&customer, "/api/orders").await;
    assert_eq!(
        orders["items"].as_array().map_or(0, Vec::len),
        0,
        "{orders}"
    );
    let (_, _, cart) = s.get_as(&customer, "/api/cart").await;
    assert_eq!(cart["items"].as_array().unwrap().len(), 1);
    let (_, _, product) = s.get(&format!("/api/products/{}", lamp.id)).await;
    assert_eq!(product["inventory_count"], 10);

    // A direct order keeps the provider named; paying it later goes there.
    let direct = s
        .call(Method::POST, "/api/orders")
        .token(&customer)
        .json(
            json!({"items": [{"product_id": lamp.id.to_string(), "quantity": 1}],
            "shipping_address": address, "payment_provider": "paypal"}),
        )
        .send()
        .await;
    let direct = direct.expect(StatusCode::CREATED, None).clone();
    let intent = s
        .call(Method::POST, "/api/payments/create-intent")
        .token(&customer)
        .json(json!({"order_id": direct["id"]}))
        .send()
        .await;
    let intent = intent.expect(StatusCode::CREATED, None).clone();
    assert_eq!(intent["provider"], "paypal");
    assert!(paypal
        .order(intent["provider_reference"].as_str().unwrap())
        .is_some());
    // Asked again for the same provider: the same open payment. Asked for Stripe: a Stripe one.
    let same = s
        .call(Method::POST, "/api/payments/create-intent")
        .token(&customer)
        .json(json!({"order_id": direct["id"], "payment_provider": "paypal"}))
        .send()
        .await;
    assert_eq!(same.expect(StatusCode::CREATED, None)["id"], intent["id"]);
    let by_card = s
        .call(Method::POST, "/api/payments/create-intent")
        .token(&customer)
        .json(json!({"order_id": direct["id"], "payment_provider": "stripe"}))
        .send()
        .await;
    assert_eq!(
        by_card.expect(StatusCode::CREATED, None)["provider"],
        "stripe"
    );
    let unknown = s
        .call(Method::POST, "/api/payments/create-intent")
        .token(&customer)
        .json(json!({"order_id": direct["id"], "payment_provider": "bitcoin"}))
        .send()
        .await;
    unknown.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    // A webhook for a provider the shop does not have is not found.
    let none = s
        .call(Method::POST, "/api/webhooks/test")
        .json(json!({}))
        .send()
        .await;
    none.expect(StatusCode::NOT_FOUND, None);
}

#[tokio::test]
async fn a_cancelled_orders_paypal_payment_is_never_captured() {
    let (s, paypal) = shop_on_paypal().await;
    ready(&s).await;
    let (placed, customer) = checkout_with(&s, Some("paypal")).await;
    let (order_id, payment_id, paypal_order) = ids(&placed);
    let cancelled = s
        .call(Method::PUT, &format!("/api/orders/{order_id}/cancel"))
        .token(&customer)
        .send()
        .await;
    assert_eq!(
        cancelled.expect(StatusCode::OK, None)["status"],
        "cancelled"
    );
    assert_eq!(payment(&s, &payment_id).await["status"], "cancelled");
    // The buyer approves at PayPal all the same: the shop captures nothing, so no money moves.
    let approved = paypal.approve(&paypal_order);
    assert_eq!(paypal.deliver(&approved).await, 200);
    assert_eq!(
        confirm(&s, &customer, &payment_id).await["status"],
        "cancelled"
    );
    assert!(!paypal
        .requests()
        .iter()
        .any(|r| r.path.ends_with("/capture")));
    assert!(paypal.capture_of(&paypal_order).is_none());
    assert_eq!(order(&s, &order_id).await["status"], "cancelled");
}

#[tokio::test]
async fn a_guest_confirms_with_the_checkouts_secret() {
    let (s, paypal) = shop_on_paypal().await;
    ready(&s).await;
    let lamp = s.product("Lamp", Decimal::new(3000, 2), 10).await;
    let added = s
        .call(Method::POST, "/api/cart/items")
        .json(json!({"product_id": lamp.id.to_string(), "quantity": 1}))
        .send()
        .await;
    added.expect(StatusCode::CREATED, None);
    let cart = added.header("X-Cart-Token").unwrap().to_string();
    let address: Value = serde_json::from_str(TEXAS).unwrap();
    let placed = s
        .call(Method::POST, "/api/cart/checkout")
        .cart(Some(&cart))
        .json(
            json!({"shipping_address": address, "email": "guest@example.com",
            "payment_provider": "paypal"}),
        )
        .send()
        .await;
    let placed = placed.expect(StatusCode::CREATED, None).clone();
    let (order_id, payment_id, paypal_order) = ids(&placed);
    let secret = placed["payment"]["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(secret.starts_with(&format!("{paypal_order}_secret_")));
    paypal.approve(&paypal_order);
    // Without the secret, a guest's confirmation names nothing.
    let stranger = s
        .call(Method::POST, "/api/payments/confirm")
        .json(json!({"payment_id": payment_id, "client_secret": "guess"}))
        .send()
        .await;
    stranger.expect(StatusCode::NOT_FOUND, None);
    assert!(!paypal
        .requests()
        .iter()
        .any(|r| r.path.ends_with("/capture")));
    let paid = s
        .call(Method::POST, "/api/payments/confirm")
        .json(json!({"payment_id": payment_id, "client_secret": secret}))
        .send()
        .await;
    assert_eq!(paid.expect(StatusCode::OK, None)["status"], "succeeded");
    assert_eq!(order(&s, &order_id).await["status"], "paid");
}
