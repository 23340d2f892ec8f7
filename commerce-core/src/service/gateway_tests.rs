//! A shop with several payment providers: the buyer chooses one by name, and each payment's
//! confirmation, refunds and events go to the provider that took it.

use std::sync::{Arc, Mutex};

use rust_decimal::dec;

use super::*;
use crate::account::{Address, Role};
use crate::catalog::NewProduct;
use crate::memory::{MemoryStore, TestPaymentGateway};
use crate::order::Order;
use crate::payment::{Payment, PaymentStatus, ProviderEvent, ProviderEventKind};
use crate::ports::{GatewayError, GatewayIntent, PaymentGateway};

/// The built-in test provider under another name, counting what it is asked.
struct Named {
    name: &'static str,
    asked: Mutex<Vec<&'static str>>,
}

impl Named {
    fn new(name: &'static str) -> Arc<Named> {
        Arc::new(Named {
            name,
            asked: Mutex::new(Vec::new()),
        })
    }

    fn asked(&self) -> Vec<&'static str> {
        self.asked.lock().unwrap().clone()
    }

    fn ask(&self, what: &'static str) {
        self.asked.lock().unwrap().push(what);
    }
}

#[async_trait::async_trait]
impl PaymentGateway for Named {
    fn provider(&self) -> &'static str {
        self.name
    }
    async fn create_intent(
        &self,
        payment: &Payment,
        order: &Order,
        key: &str,
    ) -> Result<GatewayIntent, GatewayError> {
        self.ask("create");
        let mut intent = TestPaymentGateway
            .create_intent(payment, order, key)
            .await?;
        intent.provider_reference = format!("{}_{}", self.name, intent.provider_reference);
        intent.approve_url = Some(format!("https://{}.test/approve", self.name));
        Ok(intent)
    }
    async fn confirm(&self, payment: &Payment) -> Result<PaymentStatus, GatewayError> {
        self.ask("confirm");
        TestPaymentGateway.confirm(payment).await
    }
    async fn refund(
        &self,
        payment: &Payment,
        amount: crate::money::Money,
        key: &str,
    ) -> Result<String, GatewayError> {
        self.ask("refund");
        TestPaymentGateway.refund(payment, amount, key).await
    }
}

struct Shop {
    commerce: Commerce,
    admin: Caller,
    customer: Caller,
    lamp: crate::catalog::Product,
}

async fn shop(builder: CommerceBuilder) -> Shop {
    let commerce = builder.build();
    let admin = commerce
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
    let admin = Caller::user(admin.id, Role::Admin);
    let lamp = commerce
        .catalog()
        .create_product(
            &admin,
            NewProduct {
                name: "Lamp".into(),
                price: dec!(20.00),
                inventory_count: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let user = commerce
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
    Shop {
        commerce,
        admin,
        customer: Caller::user(user.id, Role::Customer),
        lamp,
    }
}

fn address() -> Address {
    Address {
        full_name: Some("Ana".into()),
        line1: Some("1 Main St".into()),
        city: Some("Austin".into()),
        region: Some("TX".into()),
        postal_code: Some("73301".into()),
        country: "US".into(),
        ..Default::default()
    }
}

async fn checkout(s: &Shop, provider: Option<&str>) -> Result<Checkout, CommerceError> {
    let owner = CartOwner::Customer(s.customer.user_id().unwrap());
    s.commerce
        .carts()
        .add_item(
            &owner,
            ItemRequest {
                product_id: s.lamp.id,
                variant_id: None,
                quantity: 1,
            },
            None,
        )
        .await
        .unwrap();
    s.commerce
        .carts()
        .checkout(
            &s.customer,
            &owner,
            CheckoutRequest {
                shipping_address: Some(address()),
                payment_provider: provider.map(str::to_string),
                ..Default::default()
            },
        )
        .await
}

fn store() -> CommerceBuilder {
    Commerce::builder(Arc::new(MemoryStore::new()))
}

#[test]
fn the_builder_keeps_one_provider_per_name_the_first_the_default() {
    let shop = store().build();
    assert!(shop.payment_providers().is_empty());
    // Added to a shop with none: the default.
    let shop = store().add_gateway(Named::new("paypal")).build();
    assert_eq!(shop.payment_providers(), ["paypal"]);
    let shop = store()
        .gateway(Named::new("stripe"))
        .add_gateway(Named::new("paypal"))
        .add_gateway(Named::new("paypal"))
        .test_payments()
        .build();
    // test_payments names a new default, replacing stripe.
    assert_eq!(shop.payment_providers(), ["test", "paypal"]);
    let shop = store()
        .gateway(Named::new("stripe"))
        .add_gateway(Named::new("paypal"))
        .gateway(Named::new("paypal"))
        .build();
    assert_eq!(shop.payment_providers(), ["paypal"]);
    let shop = store()
        .test_payments()
        .add_gateway(Named::new("paypal"))
        .add_gateway(Named::new("test"))
        .build();
    assert_eq!(shop.payment_providers(), ["test", "paypal"]);
}

#[tokio::test]
async fn each_payment_goes_to_the_provider_that_took_it() {
    let (stripe, paypal) = (Named::new("stripe"), Named::new("paypal"));
    let s = shop(store().gateway(stripe.clone()).add_gateway(paypal.clone())).await;
    let by_default = checkout(&s, None).await.unwrap();
    let chosen = checkout(&s, Some("paypal")).await.unwrap();
    let card = by_default.payment.unwrap();
    let pp = chosen.payment.unwrap();
    assert_eq!(card.provider, "stripe");
    assert_eq!(pp.provider, "paypal");
    assert_eq!(
        pp.approve_url.as_deref(),
        Some("https://paypal.test/approve")
    );
    assert_eq!(chosen.order.payment_provider.as_deref(), Some("paypal"));
    assert_eq!(by_default.order.payment_provider, None);
    assert_eq!(stripe.asked(), ["create"]);
    assert_eq!(paypal.asked(), ["create"]);

    let payments = s.commerce.payments();
    assert_eq!(
        payments.confirm(&s.customer, pp.id).await.unwrap().status,
        PaymentStatus::Succeeded
    );
    assert_eq!(paypal.asked(), ["create", "confirm"]);
    assert_eq!(stripe.asked(), ["create"]);
    s.commerce
        .orders()
        .refund(&s.admin, pp.order_id, None)
        .await
        .unwrap();
    assert_eq!(paypal.asked(), ["create", "confirm", "refund"]);
    assert_eq!(stripe.asked(), ["create"]);

    // Paying the order again without naming a provider keeps the one it was placed for.
    let again = checkout(&s, Some("paypal")).await.unwrap();
    let open = payments
        .create_intent(&s.customer, again.order.id)
        .await
        .unwrap();
    assert_eq!(open.id, again.payment.unwrap().id);
    let switched = payments
        .create_intent_through(&s.customer, again.order.id, Some("stripe"))
        .await
        .unwrap();
    assert_eq!(switched.provider, "stripe");
}

#[tokio::test]
async fn an_approval_is_confirmed_with_the_provider_it_came_from() {
    let (stripe, paypal) = (Named::new("stripe"), Named::new("paypal"));
    let s = shop(store().gateway(stripe.clone()).add_gateway(paypal.clone())).await;
    let placed = checkout(&s, Some("paypal")).await.unwrap();
    let payment = placed.payment.unwrap();
    let approved = ProviderEvent {
        event_id: "WH-1".into(),
        payment_id: Some(payment.id),
        reference: payment.provider_reference.clone().unwrap(),
        kind: ProviderEventKind::Approved,
    };
    // Stripe has no such payment: its events cannot touch PayPal's.
    assert_eq!(
        s.commerce
            .payments()
            .apply_provider_event("stripe", approved.clone())
            .await
            .unwrap(),
        WebhookOutcome::UnknownPayment
    );
    let WebhookOutcome::Applied(paid) = s
        .commerce
        .payments()
        .apply_provider_event("paypal", approved.clone())
        .await
        .unwrap()
    else {
        panic!("applied");
    };
    assert_eq!(paid.status, PaymentStatus::Succeeded);
    assert_eq!(paypal.asked(), ["create", "confirm"]);
    assert_eq!(
        s.commerce
            .payments()
            .apply_provider_event("paypal", approved)
            .await
            .unwrap(),
        WebhookOutcome::Duplicate
    );
    assert_eq!(paypal.asked(), ["create", "confirm"]);
    let order = s
        .commerce
        .orders()
        .order(&s.customer, placed.order.id)
        .await
        .unwrap();
    assert_eq!(order.status, crate::order::OrderStatus::Paid);
}

#[tokio::test]
async fn a_provider_not_offered_is_refused_before_anything_is_placed() {
    let s = shop(store().gateway(Named::new("stripe"))).await;
    let refused = checkout(&s, Some("paypal")).await.unwrap_err();
    match refused {
        CommerceError::Validation(errors) => {
            assert_eq!(errors.0[0].field, "payment_provider");
            assert_eq!(errors.0[0].message, "must be one of: stripe");
        }
        other => panic!("{other:?}"),
    }
    let lamp = s
        .commerce
        .catalog()
        .product(&s.admin, s.lamp.id)
        .await
        .unwrap();
    assert_eq!(lamp.inventory_count, 5, "no stock was taken");
    let direct = s
        .commerce
        .orders()
        .create(
            &s.customer,
            DirectOrder {
                items: vec![ItemRequest {
                    product_id: s.lamp.id,
                    variant_id: None,
                    quantity: 1,
                }],
                shipping_address: Some(address()),
                payment_provider: Some("none".into()),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(direct, Err(CommerceError::Validation(_))));
    // A shop that takes no payments says so.
    let none = shop(store()).await;
    match checkout(&none, Some("stripe")).await.unwrap_err() {
        CommerceError::Validation(errors) => {
            assert_eq!(errors.0[0].message, "this shop takes no payments yet")
        }
        other => panic!("{other:?}"),
    }
}
