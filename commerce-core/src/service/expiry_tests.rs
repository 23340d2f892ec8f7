//! Unpaid orders expire, and a payment that still arrives is never lost.

use std::sync::Arc;

use rust_decimal::dec;

use super::*;
use crate::account::Role;
use crate::catalog::NewProduct;
use crate::memory::{ManualClock, MemoryMailer, MemoryStore, TestPaymentGateway};
use crate::order::{Order, OrderStatus, StatusReason};
use crate::payment::{Payment, PaymentStatus};
use crate::ports::{GatewayError, GatewayIntent, PaymentGateway};
use crate::promotion::PromotionDraft;

/// The built-in test provider, except that it cannot cancel a payment (as Stripe cannot once
/// the customer is paying): the case where a payment arrives after its order expired.
struct CannotCancel;

#[async_trait::async_trait]
impl PaymentGateway for CannotCancel {
    fn provider(&self) -> &'static str {
        TestPaymentGateway.provider()
    }
    async fn create_intent(
        &self,
        payment: &Payment,
        order: &Order,
        key: &str,
    ) -> Result<GatewayIntent, GatewayError> {
        TestPaymentGateway.create_intent(payment, order, key).await
    }
    async fn confirm(&self, payment: &Payment) -> Result<PaymentStatus, GatewayError> {
        TestPaymentGateway.confirm(payment).await
    }
    async fn refund(
        &self,
        payment: &Payment,
        amount: crate::money::Money,
        key: &str,
    ) -> Result<String, GatewayError> {
        TestPaymentGateway.refund(payment, amount, key).await
    }
    async fn cancel(&self, _payment: &Payment) -> Result<(), GatewayError> {
        Err(GatewayError::Unavailable("the customer is paying".into()))
    }
}

struct Shop {
    commerce: Commerce,
    clock: Arc<ManualClock>,
    mail: Arc<MemoryMailer>,
    customer: Caller,
    lamp: crate::catalog::Product,
}

async fn shop(gateway: Arc<dyn PaymentGateway>) -> Shop {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let mail = Arc::new(MemoryMailer::default());
    let commerce = Commerce::builder(Arc::new(MemoryStore::new()))
        .gateway(gateway)
        .clock(clock.clone())
        .mailer(mail.clone())
        .build();
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
                inventory_count: 3,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    commerce
        .admin()
        .create_promotion(
            &admin,
            PromotionDraft {
                code: Some("ONCE".into()),
                kind: "percent".into(),
                value: Some(dec!(10)),
                per_customer_limit: Some(1),
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
        clock,
        mail,
        customer: Caller::user(user.id, Role::Customer),
        lamp,
    }
}

impl Shop {
    async fn order(&self, who: &Caller, quantity: u32, code: bool) -> Result<Order, CommerceError> {
        self.commerce
            .orders()
            .create(
                who,
                DirectOrder {
                    items: vec![ItemRequest {
                        product_id: self.lamp.id,
                        variant_id: None,
                        quantity,
                    }],
                    shipping_address: Some(crate::account::Address {
                        line1: Some("1 Main St".into()),
                        city: Some("Austin".into()),
                        region: Some("TX".into()),
                        postal_code: Some("78701".into()),
                        country: "US".into(),
                        ..Default::default()
                    }),
                    discount_codes: if code { vec!["ONCE".into()] } else { vec![] },
                    ..Default::default()
                },
            )
            .await
    }

    async fn stock(&self) -> u32 {
        self.commerce
            .catalog()
            .product(&Caller::Anonymous, self.lamp.id)
            .await
            .unwrap()
            .inventory_count
    }

    async fn stored(&self, id: crate::ids::OrderId) -> Order {
        self.commerce
            .orders()
            .order(&self.customer, id)
            .await
            .unwrap()
    }

    /// The customer's order of 2 lamps (with the code, or not), its payment started.
    async fn placed_with_payment(&self, code: bool) -> (Order, Payment) {
        let placed = self.order(&self.customer, 2, code).await.unwrap();
        let payment = self
            .commerce
            .payments()
            .create_intent(&self.customer, placed.id)
            .await
            .unwrap();
        (placed, payment)
    }

    /// The customer's order of 2 lamps (with the code, or not), its payment started, then
    /// left unpaid past the timeout and swept; the provider could not cancel the payment.
    async fn expired_with_open_payment(&self, code: bool) -> (Order, Payment) {
        let (placed, payment) = self.placed_with_payment(code).await;
        self.clock.advance(chrono::Duration::minutes(31));
        assert_eq!(self.commerce.sweep().await.unwrap().expired_orders, 1);
        assert_eq!(self.stored(placed.id).await.status, OrderStatus::Cancelled);
        (placed, payment)
    }

    /// Mail subjects, once the background sends are done.
    async fn subjects(&self) -> Vec<String> {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        self.mail.sent().into_iter().map(|m| m.subject).collect()
    }
}

#[tokio::test]
async fn an_unpaid_order_expires_giving_back_its_stock_and_its_code() {
    let s = shop(Arc::new(TestPaymentGateway)).await;
    let (placed, payment) = s.placed_with_payment(true).await;
    assert_eq!(s.stock().await, 1);
    // The code is used once per customer: a second order with it is refused.
    assert_eq!(
        s.order(&s.customer, 1, true).await.unwrap_err().code(),
        "invalid_discount"
    );

    // Not yet: within the timeout nothing moves.
    s.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(s.commerce.sweep().await.unwrap().expired_orders, 0);
    assert_eq!(s.stored(placed.id).await.status, OrderStatus::Pending);

    s.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(s.commerce.sweep().await.unwrap().expired_orders, 1);
    let expired = s.stored(placed.id).await;
    assert_eq!(expired.status, OrderStatus::Cancelled);
    assert_eq!(
        expired.status_history.last().and_then(|c| c.reason),
        Some(StatusReason::PaymentTimeout)
    );
    assert_eq!(s.stock().await, 3, "the units are for sale again");
    // Its open payment is cancelled, so it cannot be paid now.
    let payment = s
        .commerce
        .payments()
        .payment(&s.customer, payment.id)
        .await
        .unwrap();
    assert_eq!(payment.status, PaymentStatus::Cancelled);
    // The code's use came back with it.
    s.order(&s.customer, 1, true).await.unwrap();
    assert!(
        s.subjects()
            .await
            .iter()
            .any(|m| m.contains("was not paid in time")),
        "the customer is told"
    );
    // A second sweep finds nothing more to do.
    assert_eq!(s.commerce.sweep().await.unwrap().expired_orders, 0);
}

#[tokio::test]
async fn a_payment_after_expiry_pays_the_order_when_its_stock_is_still_there() {
    let s = shop(Arc::new(CannotCancel)).await;
    let (placed, payment) = s.expired_with_open_payment(true).await;
    assert_eq!(s.stock().await, 3);

    let paid = s
        .commerce
        .payments()
        .confirm(&s.customer, payment.id)
        .await
        .unwrap();
    assert_eq!(paid.status, PaymentStatus::Succeeded, "kept, not refunded");
    let order = s.stored(placed.id).await;
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(
        order.status_history.last().and_then(|c| c.reason),
        Some(StatusReason::PaidAfterTimeout)
    );
    assert_eq!(s.stock().await, 1, "its units are reserved again");
    assert_eq!(
        s.order(&s.customer, 1, true).await.unwrap_err().code(),
        "invalid_discount",
        "its code is counted again"
    );
    assert!(s
        .subjects()
        .await
        .iter()
        .any(|m| m.contains("is confirmed")));
}

#[tokio::test]
async fn a_payment_after_expiry_is_refunded_in_full_when_the_stock_is_gone() {
    let s = shop(Arc::new(CannotCancel)).await;
    let (placed, payment) = s.expired_with_open_payment(false).await;
    // Someone else buys the units meanwhile.
    let bo = s
        .commerce
        .accounts()
        .create_user(
            "bo@example.com",
            "a-long-password",
            "Bo",
            Role::Customer,
            true,
        )
        .await
        .unwrap();
    s.order(&Caller::user(bo.id, Role::Customer), 3, false)
        .await
        .unwrap();

    let paid = s
        .commerce
        .payments()
        .confirm(&s.customer, payment.id)
        .await
        .unwrap();
    assert_eq!(
        paid.status,
        PaymentStatus::Refunded,
        "the money goes back in full"
    );
    assert_eq!(paid.refunded(), paid.amount);
    let order = s.stored(placed.id).await;
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(s.stock().await, 0, "nothing oversold");
    assert!(
        s.subjects()
            .await
            .iter()
            .any(|m| m.contains("your payment for order") && m.contains("is refunded")),
        "the customer is told"
    );
}

#[tokio::test]
async fn old_guest_carts_are_swept_and_customers_carts_kept() {
    let s = shop(Arc::new(TestPaymentGateway)).await;
    let carts = s.commerce.carts();
    let item = ItemRequest {
        product_id: s.lamp.id,
        variant_id: None,
        quantity: 1,
    };
    let guest = carts
        .add_item(&CartOwner::Guest(None), item.clone(), None)
        .await
        .unwrap();
    carts
        .add_item(
            &CartOwner::Customer(s.customer.user_id().unwrap()),
            item,
            None,
        )
        .await
        .unwrap();
    s.clock.advance(chrono::Duration::days(31));
    let swept = s.commerce.sweep().await.unwrap();
    assert_eq!(swept.purged_carts, 1);
    let token = guest.new_guest_token.expect("a guest cart's token");
    let again = carts.cart(&CartOwner::Guest(Some(token))).await.unwrap();
    assert!(again.cart.items.is_empty(), "the guest's cart is gone");
    let kept = carts
        .cart(&CartOwner::Customer(s.customer.user_id().unwrap()))
        .await
        .unwrap();
    assert_eq!(kept.cart.items.len(), 1);
}
