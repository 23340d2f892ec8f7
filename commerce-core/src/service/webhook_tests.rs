//! The webhook relay through the services: what a receiver gets, signed, and what the shop
//! does when it fails.

use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;

use super::*;
use crate::account::Role;
use crate::catalog::NewProduct;
use crate::memory::{ManualClock, MemoryMailer, MemoryStore, RecordingWebhookSender};
use crate::webhook::{DeliveryState, RetrySchedule, WebhookEndpointDraft};
use crate::webhook_signing::{verify, SealingKey, WebhookSecret};

struct Hooked {
    shop: Commerce,
    sender: Arc<RecordingWebhookSender>,
    clock: Arc<ManualClock>,
    mail: Arc<MemoryMailer>,
    admin: Caller,
    relay: uuid::Uuid,
}

async fn hooked(retries: &[u64]) -> Hooked {
    hooked_gathering(retries, WebhookRelayConfig::default().gather).await
}

/// A shop whose relay, once woken, waits `gather` for more writes before its round.
async fn hooked_gathering(retries: &[u64], gather: Duration) -> Hooked {
    let sender = Arc::new(RecordingWebhookSender::new());
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let mail = Arc::new(MemoryMailer::default());
    let config = EngineConfig {
        webhooks: WebhookRelayConfig {
            retries: RetrySchedule::new(retries.iter().map(|s| Duration::from_secs(*s)).collect())
                .unwrap(),
            gather,
            // Only a write wakes the relay in these tests.
            poll_every: Duration::from_secs(3_600),
            ..Default::default()
        },
        ..Default::default()
    };
    let key = SealingKey::parse(&SealingKey::generate_text().unwrap()).unwrap();
    let shop = Commerce::builder(Arc::new(MemoryStore::new()))
        .test_payments()
        .webhook_sender(sender.clone())
        .sealing_key(key)
        .clock(clock.clone())
        .mailer(mail.clone())
        .config(config)
        .build();
    let user = shop
        .accounts()
        .create_user(
            "admin@shop.test",
            "admin-password",
            "Admin",
            Role::Admin,
            true,
        )
        .await
        .unwrap();
    let relay = uuid::Uuid::new_v4();
    // What happened before any endpoint existed is no endpoint's.
    shop.relay_webhooks(relay).await.unwrap();
    Hooked {
        shop,
        sender,
        clock,
        mail,
        admin: Caller::user(user.id, Role::Admin),
        relay,
    }
}

impl Hooked {
    async fn endpoint(&self, events: &[&str]) -> EndpointWithSecret {
        self.shop
            .webhooks()
            .create_endpoint(
                &self.admin,
                WebhookEndpointDraft {
                    url: "https://erp.example.com/hooks".into(),
                    events: events.iter().map(|e| e.to_string()).collect(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    }

    async fn relay(&self) -> Relayed {
        self.shop.relay_webhooks(self.relay).await.unwrap()
    }

    /// A lamp at 10.00 with ten in stock.
    async fn lamp(&self) -> crate::catalog::Product {
        self.shop
            .catalog()
            .create_product(
                &self.admin,
                NewProduct {
                    name: "Lamp".into(),
                    price: Decimal::TEN,
                    inventory_count: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    }

    async fn paid_order(&self) -> crate::order::Order {
        let product = self.lamp().await;
        let order = self
            .shop
            .orders()
            .create(&self.admin, direct_order(product.id, 1))
            .await
            .unwrap();
        let payments = self.shop.payments();
        let payment = payments.create_intent(&self.admin, order.id).await.unwrap();
        payments.confirm(&self.admin, payment.id).await.unwrap();
        order
    }
}

/// An order of `quantity` units of one product, shipped to Texas.
fn direct_order(product_id: crate::ids::ProductId, quantity: u32) -> DirectOrder {
    DirectOrder {
        items: vec![ItemRequest {
            product_id,
            variant_id: None,
            quantity,
        }],
        shipping_address: Some(crate::account::Address {
            line1: Some("1 Main St".into()),
            city: Some("Austin".into()),
            postal_code: Some("73301".into()),
            country: "US".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn header<'a>(request: &'a WebhookRequest, name: &str) -> &'a str {
    request
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn body(request: &WebhookRequest) -> serde_json::Value {
    serde_json::from_slice(&request.body).unwrap()
}

#[tokio::test]
async fn an_order_placed_and_paid_reaches_the_endpoint_signed_in_order() {
    let h = hooked(&[0]).await;
    let hook = h.endpoint(&["order.created", "order.paid"]).await;
    assert!(hook.secret.starts_with("whsec_"));
    let order = h.paid_order().await;
    let round = h.relay().await;
    // product.created, order.created, order.status_changed, order.paid were dispatched.
    assert_eq!(round.dispatched, 4);
    assert_eq!((round.attempted, round.delivered), (2, 2));
    let sent = h.sender.sent();
    let types: Vec<String> = sent.iter().map(|r| body(r)["type"].to_string()).collect();
    assert_eq!(types, ["\"order.created\"", "\"order.paid\""]);
    let secret = WebhookSecret::parse(&hook.secret).unwrap();
    for request in &sent {
        assert_eq!(request.url, "https://erp.example.com/hooks");
        verify(
            &secret,
            header(request, "webhook-id"),
            header(request, "webhook-timestamp"),
            header(request, "webhook-signature"),
            &request.body,
            h.clock.now().timestamp(),
        )
        .unwrap();
        let data = &body(request)["data"];
        assert_eq!(data["id"], order.id.to_string());
        assert_eq!(data["number"], order.number);
        assert_eq!(data["total"]["currency"], "USD");
    }
    assert_eq!(body(&sent[1])["data"]["status"], "paid");
    // Delivered once: the next round sends nothing.
    assert_eq!(h.relay().await, Relayed::default());
    let deliveries = h
        .shop
        .webhooks()
        .deliveries(&h.admin, hook.endpoint.id, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(deliveries.items.len(), 2);
    assert!(deliveries
        .items
        .iter()
        .all(|d| d.state == DeliveryState::Succeeded && d.attempts == 1));
}

#[tokio::test]
async fn a_burst_of_writes_goes_out_together_once_the_gather_is_over() {
    let h = hooked_gathering(&[0], Duration::from_secs(2)).await;
    h.endpoint(&["order.created"]).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let relay = h.shop.spawn_webhook_relay(stopped);
    let product = h.lamp().await;
    // The relay's first round (at its start) is over, and it waits to be woken.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(h.sender.sent().is_empty());
    // Three orders, each waking the relay.
    for _ in 0..3 {
        h.shop
            .orders()
            .create(&h.admin, direct_order(product.id, 1))
            .await
            .unwrap();
    }
    // Well within the two seconds it gathers for, nothing has gone out.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(h.sender.sent().is_empty(), "sent before the gather ended");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while h.sender.sent().len() < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        h.sender.sent().len(),
        3,
        "the three orders, after the gather"
    );
    stop.send(true).unwrap();
    relay.await.unwrap();
}

#[tokio::test]
async fn a_failing_receiver_gets_the_event_again_with_the_same_id() {
    let h = hooked(&[0, 5]).await;
    let hook = h.endpoint(&["*"]).await;
    h.sender.answer_with([
        WebhookAnswer::Status {
            code: 500,
            retry_after: None,
        },
        WebhookAnswer::NoAnswer("connection refused".into()),
    ]);
    h.shop
        .webhooks()
        .send_test(&h.admin, hook.endpoint.id)
        .await
        .unwrap();
    assert_eq!(h.relay().await.delivered, 0);
    // The first wait is none: due again at once.
    assert_eq!(h.relay().await.delivered, 0);
    // The second is 5 s.
    assert_eq!(h.relay().await.attempted, 0);
    h.clock.advance(chrono::Duration::seconds(5));
    assert_eq!(h.relay().await.delivered, 1);
    let sent = h.sender.sent();
    assert_eq!(sent.len(), 3);
    assert!(sent
        .iter()
        .all(|r| header(r, "webhook-id") == header(&sent[0], "webhook-id")));
    assert_eq!(body(&sent[0])["type"], "webhook.test");
    let delivery = &h
        .shop
        .webhooks()
        .deliveries(&h.admin, hook.endpoint.id, PageRequest::first(10))
        .await
        .unwrap()
        .items[0];
    assert_eq!(delivery.attempts, 3);
    assert_eq!(delivery.state, DeliveryState::Succeeded);
    assert_eq!(delivery.last_status_code, Some(200));
}

#[tokio::test]
async fn a_delivery_out_of_tries_fails_and_can_be_retried_by_hand() {
    let h = hooked(&[0]).await;
    let hook = h.endpoint(&["*"]).await;
    let failing = || WebhookAnswer::Status {
        code: 503,
        retry_after: None,
    };
    h.sender.answer_with([failing(), failing()]);
    h.shop
        .webhooks()
        .send_test(&h.admin, hook.endpoint.id)
        .await
        .unwrap();
    h.relay().await;
    h.relay().await;
    let listed = |h: &Hooked| {
        let shop = h.shop.clone();
        let admin = h.admin;
        let id = hook.endpoint.id;
        async move {
            shop.webhooks()
                .deliveries(&admin, id, PageRequest::first(10))
                .await
                .unwrap()
                .items
                .remove(0)
        }
    };
    let failed = listed(&h).await;
    assert_eq!(failed.state, DeliveryState::Failed);
    assert_eq!(failed.attempts, 2);
    assert_eq!(failed.last_error.as_deref(), Some("answered 503"));
    assert_eq!(h.relay().await.attempted, 0);
    h.shop
        .webhooks()
        .retry_delivery(&h.admin, hook.endpoint.id, failed.id)
        .await
        .unwrap();
    assert_eq!(h.relay().await.delivered, 1);
    assert_eq!(listed(&h).await.state, DeliveryState::Succeeded);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let h = hooked(&[0, 0]).await;
    let hook = h.endpoint(&["*"]).await;
    h.sender.answer_with([WebhookAnswer::Status {
        code: 429,
        retry_after: Some(Duration::from_secs(120)),
    }]);
    h.shop
        .webhooks()
        .send_test(&h.admin, hook.endpoint.id)
        .await
        .unwrap();
    assert_eq!(h.relay().await.attempted, 1);
    h.clock.advance(chrono::Duration::seconds(119));
    assert_eq!(h.relay().await.attempted, 0);
    h.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(h.relay().await.delivered, 1);
}

#[tokio::test]
async fn gone_turns_the_endpoint_off_and_tells_the_admins() {
    let h = hooked(&[0, 0]).await;
    let hook = h.endpoint(&["*"]).await;
    h.sender.answer_with([WebhookAnswer::Status {
        code: 410,
        retry_after: None,
    }]);
    h.shop
        .webhooks()
        .send_test(&h.admin, hook.endpoint.id)
        .await
        .unwrap();
    h.shop
        .webhooks()
        .send_test(&h.admin, hook.endpoint.id)
        .await
        .unwrap();
    let round = h.relay().await;
    // The second test event is not sent to an endpoint that is gone.
    assert_eq!(round.attempted, 1);
    let endpoint = h
        .shop
        .webhooks()
        .endpoint(&h.admin, hook.endpoint.id)
        .await
        .unwrap();
    assert!(!endpoint.active);
    let mails = h.mail.sent();
    assert!(mails
        .iter()
        .any(|m| m.to == "admin@shop.test" && m.text.contains("410 Gone")));
    assert_eq!(h.relay().await.attempted, 0);
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_turned_off() {
    let h = hooked(&[0, 3_600 * 24, 3_600 * 24 * 3, 3_600 * 24 * 3]).await;
    let hook = h.endpoint(&["*"]).await;
    let down = || WebhookAnswer::NoAnswer("connection refused".into());
    h.sender.answer_with([down(), down(), down(), down()]);
    h.shop
        .webhooks()
        .send_test(&h.admin, hook.endpoint.id)
        .await
        .unwrap();
    h.relay().await;
    h.relay().await;
    h.clock.advance(chrono::Duration::days(1));
    h.relay().await;
    let on = h
        .shop
        .webhooks()
        .endpoint(&h.admin, hook.endpoint.id)
        .await
        .unwrap();
    assert!(on.active);
    assert!(on.failing_since.is_some());
    h.clock.advance(chrono::Duration::days(4));
    h.relay().await;
    let off = h
        .shop
        .webhooks()
        .endpoint(&h.admin, hook.endpoint.id)
        .await
        .unwrap();
    assert!(!off.active);
    assert!(h.mail.sent().iter().any(|m| m.text.contains("5 days")));
    // Turned on again, it starts a fresh streak.
    let again = h
        .shop
        .webhooks()
        .update_endpoint(
            &h.admin,
            hook.endpoint.id,
            WebhookEndpointDraft {
                url: off.url.clone(),
                events: vec!["*".into()],
                active: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(again.active);
    assert_eq!(again.failing_since, None);
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_for_a_day() {
    let h = hooked(&[0]).await;
    let hook = h.endpoint(&["*"]).await;
    let rotated = h
        .shop
        .webhooks()
        .rotate_secret(&h.admin, hook.endpoint.id)
        .await
        .unwrap();
    assert_ne!(rotated.secret, hook.secret);
    h.shop
        .webhooks()
        .send_test(&h.admin, hook.endpoint.id)
        .await
        .unwrap();
    h.relay().await;
    let request = h.sender.sent().remove(0);
    let signatures = header(&request, "webhook-signature");
    assert_eq!(signatures.split(' ').count(), 2);
    for secret in [&hook.secret, &rotated.secret] {
        verify(
            &WebhookSecret::parse(secret).unwrap(),
            header(&request, "webhook-id"),
            header(&request, "webhook-timestamp"),
            signatures,
            &request.body,
            h.clock.now().timestamp(),
        )
        .unwrap();
    }
    h.clock.advance(chrono::Duration::hours(25));
    h.shop
        .webhooks()
        .send_test(&h.admin, hook.endpoint.id)
        .await
        .unwrap();
    h.relay().await;
    let request = h.sender.sent().remove(1);
    assert_eq!(header(&request, "webhook-signature").split(' ').count(), 1);
}

#[tokio::test]
async fn only_admins_manage_webhooks_and_drafts_are_checked() {
    let h = hooked(&[0]).await;
    let vendor = Caller::user(crate::ids::UserId::random(), Role::Vendor);
    let draft = WebhookEndpointDraft {
        url: "https://erp.example.com/".into(),
        events: vec!["*".into()],
        ..Default::default()
    };
    assert!(matches!(
        h.shop
            .webhooks()
            .create_endpoint(&vendor, draft.clone())
            .await,
        Err(CommerceError::Forbidden(_))
    ));
    let bad = WebhookEndpointDraft {
        url: "ftp://erp.example.com/".into(),
        events: vec!["order.shipped".into()],
        ..Default::default()
    };
    match h.shop.webhooks().create_endpoint(&h.admin, bad).await {
        Err(CommerceError::Validation(errors)) => {
            let fields: Vec<&str> = errors.fields().collect();
            assert_eq!(fields, ["url", "events"]);
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    // Private targets are refused unless the server allows them.
    for url in [
        "http://127.0.0.1:9000/in",
        "http://localhost/in",
        "http://[fd00::1]/",
        "http://169.254.169.254/",
    ] {
        let private = WebhookEndpointDraft {
            url: url.into(),
            events: vec!["*".into()],
            ..Default::default()
        };
        match h.shop.webhooks().create_endpoint(&h.admin, private).await {
            Err(CommerceError::Validation(errors)) => {
                assert_eq!(errors.fields().collect::<Vec<_>>(), ["url"], "{url}")
            }
            other => panic!("{url} was taken: {other:?}"),
        }
    }
    // A shop without a sealing key says so rather than keep secrets in clear.
    let bare = Commerce::builder(Arc::new(MemoryStore::new())).build();
    assert!(matches!(
        bare.webhooks().create_endpoint(&h.admin, draft).await,
        Err(CommerceError::Conflict(_))
    ));
}

#[tokio::test]
async fn selling_the_last_units_and_cancelling_tell_the_stock_crossings() {
    let h = hooked(&[0]).await;
    h.endpoint(&[
        "inventory.low_stock",
        "inventory.out_of_stock",
        "inventory.back_in_stock",
    ])
    .await;
    let vase = h
        .shop
        .catalog()
        .create_product(
            &h.admin,
            NewProduct {
                name: "Vase".into(),
                price: Decimal::TEN,
                inventory_count: 2,
                low_stock_threshold: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let order = h
        .shop
        .orders()
        .create(&h.admin, direct_order(vase.id, 2))
        .await
        .unwrap();
    h.shop.orders().cancel(&h.admin, order.id).await.unwrap();
    h.relay().await;
    let told: Vec<(String, u64)> = h
        .sender
        .sent()
        .iter()
        .map(|r| {
            let b = body(r);
            (
                b["type"].as_str().unwrap().to_string(),
                b["data"]["inventory_count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        told,
        [
            ("inventory.low_stock".to_string(), 0),
            ("inventory.out_of_stock".to_string(), 0),
            ("inventory.back_in_stock".to_string(), 2),
        ]
    );
    assert_eq!(body(&h.sender.sent()[0])["data"]["name"], "Vase");
}

#[tokio::test]
async fn a_customer_is_alerted_at_their_own_address_for_a_variant_of_the_product() {
    let h = hooked(&[0]).await;
    let ana = h
        .shop
        .accounts()
        .create_user(
            "ana@example.com",
            "a-long-password",
            "Ana",
            Role::Customer,
            true,
        )
        .await
        .unwrap();
    let ana = Caller::user(ana.id, Role::Customer);
    let shirt = h
        .shop
        .catalog()
        .create_product(
            &h.admin,
            NewProduct {
                name: "Shirt".into(),
                price: Decimal::TEN,
                variants: vec![
                    crate::catalog::NewVariant {
                        sku: "S".into(),
                        inventory_count: 0,
                        ..Default::default()
                    },
                    crate::catalog::NewVariant {
                        sku: "M".into(),
                        inventory_count: 4,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let small = shirt.variants[0].id;
    let alert = h
        .shop
        .catalog()
        .alert_when_in_stock(&ana, shirt.id, Some(small), Some("someone@else.com"))
        .await
        .unwrap();
    assert_eq!(alert.email, "ana@example.com");
    assert_eq!(alert.variant_id, Some(small));
    // The medium is in stock; a variant of another product is not this product's.
    assert!(matches!(
        h.shop
            .catalog()
            .alert_when_in_stock(&ana, shirt.id, Some(shirt.variants[1].id), None)
            .await,
        Err(CommerceError::Conflict(_))
    ));
    match h
        .shop
        .catalog()
        .alert_when_in_stock(&ana, shirt.id, Some(crate::ids::VariantId::random()), None)
        .await
    {
        Err(CommerceError::Validation(e)) => {
            assert_eq!(e.fields().collect::<Vec<_>>(), ["variant_id"])
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.shop.sweep().await.unwrap().stock_alerts_sent, 0);
}
