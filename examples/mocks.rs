//! Testing your shop code without a payment provider: swap the payment gateway for a mockall
//! mock (feature `mocks` of `commerce`), state what the provider is asked and what it answers,
//! and check the engine's behaviour. Every port has a `Mock...` twin; storage can be mocked the
//! same way, or kept in memory as here.
//!
//! Run: `cargo run --example mocks` (its test also runs with `cargo test`).

use std::sync::Arc;

use commerce::account::{Address, Role};
use commerce::catalog::NewProduct;
use commerce::memory::MemoryStore;
use commerce::order::OrderStatus;
use commerce::payment::PaymentStatus;
use commerce::ports::{GatewayIntent, MockPaymentGateway};
use commerce::service::{DirectOrder, ItemRequest};
use commerce::{Caller, Commerce, CommerceError};
use mockall::predicate::always;
use rust_decimal::Decimal;

/// A customer orders two mugs at 12.50; the provider is asked for exactly 25.00 and declines
/// the card. The order stays pending (and its stock reserved) so the customer can retry.
async fn a_declined_card_leaves_the_order_pending() -> Result<(), CommerceError> {
    let mut gateway = MockPaymentGateway::new();
    gateway.expect_provider().return_const("mockpay");
    gateway
        .expect_create_intent()
        .withf(|payment, order, _key| {
            payment.amount.minor_units() == Ok(2500) && payment.order_id == order.id
        })
        .times(1)
        .returning(|payment, _order, _key| {
            Ok(GatewayIntent {
                provider_reference: format!("mock_{}", payment.id),
                client_secret: None,
                approve_url: None,
                status: PaymentStatus::RequiresPayment,
            })
        });
    gateway
        .expect_confirm()
        .with(always())
        .times(1)
        .returning(|_| Ok(PaymentStatus::Failed));
    gateway.expect_refund().never();

    let shop = Commerce::builder(Arc::new(MemoryStore::new()))
        .gateway(Arc::new(gateway))
        .build();
    let admin = shop
        .accounts()
        .create_user(
            "admin@shop.test",
            "a-long-password",
            "Admin",
            Role::Admin,
            true,
        )
        .await?;
    let admin = Caller::user(admin.id, admin.role);
    let mug = shop
        .catalog()
        .create_product(
            &admin,
            NewProduct {
                name: "Mug".into(),
                price: Decimal::new(1250, 2),
                inventory_count: 5,
                ..Default::default()
            },
        )
        .await?;
    let ada = shop
        .accounts()
        .register("ada@example.com", "password123", "Ada")
        .await?;
    let ada = Caller::user(ada.id, ada.role);
    let order = shop
        .orders()
        .create(
            &ada,
            DirectOrder {
                items: vec![ItemRequest {
                    product_id: mug.id,
                    variant_id: None,
                    quantity: 2,
                }],
                shipping_address: Some(Address {
                    line1: Some("1 Main St".into()),
                    city: Some("Springfield".into()),
                    postal_code: Some("12345".into()),
                    country: "US".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await?;
    let payment = shop.payments().create_intent(&ada, order.id).await?;
    assert_eq!(payment.provider, "mockpay");
    let payment = shop.payments().confirm(&ada, payment.id).await?;
    assert_eq!(payment.status, PaymentStatus::Failed);
    let order = shop.orders().order(&ada, order.id).await?;
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(
        shop.catalog().product(&ada, mug.id).await?.inventory_count,
        3
    );
    println!(
        "declined as expected: order {} is {}, payment {}",
        order.number,
        order.status.as_str(),
        payment.status.as_str()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), CommerceError> {
    a_declined_card_leaves_the_order_pending().await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_declined_card_leaves_the_order_pending() {
        super::a_declined_card_leaves_the_order_pending()
            .await
            .unwrap();
    }
}
