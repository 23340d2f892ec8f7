//! Behaviour of the services, through the same calls an embedder or the HTTP layer makes.

use std::sync::Arc;

use rust_decimal::dec;
use rust_decimal::Decimal;

use super::*;
use crate::account::{Address, Role};
use crate::catalog::{NewProduct, NewVariant, ProductChanges, ProductStatus};
use crate::events::DomainEvent;
use crate::memory::{MemoryMailer, MemoryStore, MemoryTokenIssuer};
use crate::order::{Order, OrderStatus};
use crate::outbox::ChangeRecord;
use crate::payment::PaymentStatus;
use crate::ports::PageRequest;
use crate::pricing::RejectionReason;
use crate::promotion::{PromotionClass, PromotionDraft};

struct Shop {
    commerce: Commerce,
    mail: Arc<MemoryMailer>,
    admin: Caller,
}

async fn shop() -> Shop {
    let mail = Arc::new(MemoryMailer::default());
    let commerce = Commerce::builder(Arc::new(MemoryStore::new()))
        .test_payments()
        .mailer(mail.clone())
        .token_issuer(Arc::new(MemoryTokenIssuer::default()))
        .build();
    let admin = first_admin(&commerce).await;
    Shop {
        commerce,
        mail,
        admin,
    }
}

/// The shop's first admin, signed in.
async fn first_admin(commerce: &Commerce) -> Caller {
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
    Caller::user(admin.id, Role::Admin)
}

impl Shop {
    async fn product(&self, name: &str, price: Decimal, stock: u32) -> crate::catalog::Product {
        self.commerce
            .catalog()
            .create_product(
                &self.admin,
                NewProduct {
                    name: name.into(),
                    price,
                    inventory_count: stock,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    }

    async fn customer(&self, email: &str) -> Caller {
        let user = self
            .commerce
            .accounts()
            .register(email, "password123", "Customer")
            .await
            .unwrap();
        Caller::user(user.id, user.role)
    }

    async fn worked_example_setup(
        &self,
    ) -> (
        crate::catalog::Product,
        crate::catalog::Product,
        crate::shipping::ShippingMethod,
    ) {
        let a = self.product("Product A", dec!(19.99), 10).await;
        let b = self.product("Product B", dec!(5.00), 10).await;
        let admin = self.commerce.admin();
        admin
            .save_tax_rate(&self.admin, None, "US", Some("TX"), dec!(0.0825))
            .await
            .unwrap();
        let method = admin
            .save_shipping_method(&self.admin, None, "Standard", dec!(4.99), None, true)
            .await
            .unwrap();
        for (code, kind, value, class, combines) in [
            (
                "TENOFF",
                "percent",
                Some(dec!(10)),
                PromotionClass::Order,
                PromotionClass::Shipping,
            ),
            (
                "FREESHIP",
                "free_shipping",
                None,
                PromotionClass::Shipping,
                PromotionClass::Order,
            ),
        ] {
            admin
                .create_promotion(
                    &self.admin,
                    PromotionDraft {
                        code: Some(code.into()),
                        kind: kind.into(),
                        value,
                        class: Some(class),
                        combines_with: vec![combines],
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        (a, b, method)
    }
}

fn texas() -> Address {
    Address {
        full_name: Some("Ada Lovelace".into()),
        line1: Some("1 Main St".into()),
        city: Some("Austin".into()),
        region: Some("TX".into()),
        postal_code: Some("73301".into()),
        country: "US".into(),
        ..Default::default()
    }
}

/// A direct order of `quantity` units of one product, shipped to Texas.
fn order_of(product: &crate::catalog::Product, quantity: u32) -> DirectOrder {
    DirectOrder {
        items: vec![item(product, quantity)],
        shipping_address: Some(texas()),
        ..Default::default()
    }
}

impl Shop {
    /// Places an order for `customer` and pays it with the test provider.
    async fn paid_order(
        &self,
        customer: &Caller,
        product: &crate::catalog::Product,
        quantity: u32,
    ) -> crate::order::Order {
        let order = self
            .commerce
            .orders()
            .create(customer, order_of(product, quantity))
            .await
            .unwrap();
        let payments = self.commerce.payments();
        let payment = payments.create_intent(customer, order.id).await.unwrap();
        payments.confirm(customer, payment.id).await.unwrap();
        self.commerce
            .orders()
            .order(customer, order.id)
            .await
            .unwrap()
    }
}

fn item(product: &crate::catalog::Product, quantity: u32) -> ItemRequest {
    ItemRequest {
        product_id: product.id,
        variant_id: None,
        quantity,
    }
}

#[tokio::test]
async fn a_guest_prices_the_worked_example_checks_out_and_pays() {
    let shop = shop().await;
    let (a, b, method) = shop.worked_example_setup().await;
    let carts = shop.commerce.carts();
    let view = carts
        .add_item(&CartOwner::Guest(None), item(&a, 3), None)
        .await
        .unwrap();
    let token = view
        .new_guest_token
        .clone()
        .expect("a new guest cart has a token");
    let guest = CartOwner::Guest(Some(token));
    carts.add_item(&guest, item(&b, 1), None).await.unwrap();
    carts.add_code(&guest, "tenoff", None).await.unwrap();
    let view = carts.add_code(&guest, "FreeShip", None).await.unwrap();
    // Before a destination: no tax, no shipping.
    assert_eq!(view.priced.tax.amount(), dec!(0.00));
    assert_eq!(view.priced.shipping.amount(), dec!(0.00));
    let view = carts
        .set_delivery(
            &guest,
            Delivery {
                shipping_address: texas(),
                shipping_method: method.id,
            },
            Some(view.cart.version),
        )
        .await
        .unwrap();
    assert_eq!(view.priced.total.amount(), dec!(63.29));
    assert_eq!(view.priced.tax.amount(), dec!(4.82));
    assert_eq!(view.priced.discount.amount(), dec!(11.49));
    assert_eq!(view.names, vec!["Product A", "Product B"]);

    let checkout = carts
        .checkout(
            &Caller::Anonymous,
            &guest,
            CheckoutRequest {
                shipping_address: Some(texas()),
                email: Some("Guest@Example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let order = checkout.order;
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.totals.total.amount(), dec!(63.29));
    assert_eq!(order.email.as_deref(), Some("guest@example.com"));
    assert_eq!(order.lines[0].sku, "PRODUCT-A");
    assert_eq!(order.applied_promotions.len(), 2);
    let payment = checkout
        .payment
        .expect("the test provider is always reachable");
    assert_eq!(payment.amount, order.totals.total);
    assert_eq!(payment.status, PaymentStatus::RequiresPayment);
    // Stock is reserved by placing the order, and the cart is empty.
    let catalog = shop.commerce.catalog();
    assert_eq!(
        catalog
            .product(&Caller::Anonymous, a.id)
            .await
            .unwrap()
            .inventory_count,
        7
    );
    assert!(carts.cart(&guest).await.unwrap().cart.items.is_empty());
    // Each code counted once.
    let promotions = shop
        .commerce
        .admin()
        .promotions(&shop.admin, PageRequest::default())
        .await
        .unwrap();
    assert!(promotions.items.iter().all(|p| p.used_count == 1));
}

#[tokio::test]
async fn a_customer_pays_and_cancelling_a_paid_order_refunds_it_and_returns_stock() {
    let shop = shop().await;
    let (a, _, _) = shop.worked_example_setup().await;
    let ada = shop.customer("ada@example.com").await;
    let mut events = shop.commerce.subscribe();
    let carts = shop.commerce.carts();
    let me = CartOwner::of(&ada, None);
    carts.add_item(&me, item(&a, 2), None).await.unwrap();
    let checkout = carts
        .checkout(
            &ada,
            &me,
            CheckoutRequest {
                shipping_address: Some(texas()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // No method given and none on the cart: the cheapest active one.
    assert_eq!(checkout.order.totals.shipping.amount(), dec!(4.99));
    let payment = checkout.payment.unwrap();
    let payments = shop.commerce.payments();
    let paid = payments.confirm(&ada, payment.id).await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Succeeded);
    // A second confirmation is a no-op.
    assert_eq!(
        payments.confirm(&ada, payment.id).await.unwrap().status,
        PaymentStatus::Succeeded
    );
    let orders = shop.commerce.orders();
    let order = orders.order(&ada, checkout.order.id).await.unwrap();
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(order.payment_status, PaymentStatus::Succeeded);
    assert_eq!(
        shop.commerce
            .catalog()
            .product(&ada, a.id)
            .await
            .unwrap()
            .inventory_count,
        8
    );

    let cancelled = orders.cancel(&ada, order.id).await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.payment_status, PaymentStatus::Refunded);
    let history: Vec<_> = cancelled.status_history.iter().map(|h| h.status).collect();
    assert_eq!(
        history,
        vec![
            OrderStatus::Pending,
            OrderStatus::Paid,
            OrderStatus::Cancelled
        ]
    );
    assert_eq!(
        shop.commerce
            .catalog()
            .product(&ada, a.id)
            .await
            .unwrap()
            .inventory_count,
        10
    );

    let mut statuses = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let DomainEvent::OrderStatusChanged { status, .. } = event {
            statuses.push(status);
        }
    }
    assert_eq!(statuses, vec![OrderStatus::Paid, OrderStatus::Cancelled]);
}

#[tokio::test]
async fn the_status_machine_is_enforced_for_admins_and_owners() {
    let shop = shop().await;
    let a = shop.product("Lamp", dec!(30.00), 5).await;
    let ada = shop.customer("ada@example.com").await;
    let orders = shop.commerce.orders();
    let order = orders.create(&ada, order_of(&a, 1)).await.unwrap();
    let err = orders
        .set_status(&shop.admin, order.id, OrderStatus::Shipped)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_transition");
    let refund = orders
        .set_status(&shop.admin, order.id, OrderStatus::Refunded)
        .await
        .unwrap_err();
    assert_eq!(refund.code(), "invalid_transition");
    let payment = shop
        .commerce
        .payments()
        .create_intent(&ada, order.id)
        .await
        .unwrap();
    shop.commerce
        .payments()
        .confirm(&ada, payment.id)
        .await
        .unwrap();
    for status in [OrderStatus::Processing, OrderStatus::Shipped] {
        orders
            .set_status(&shop.admin, order.id, status)
            .await
            .unwrap();
    }
    assert_eq!(
        orders.cancel(&ada, order.id).await.unwrap_err().code(),
        "invalid_transition"
    );
    let delivered = orders
        .set_status(&shop.admin, order.id, OrderStatus::Delivered)
        .await
        .unwrap();
    assert_eq!(delivered.status_history.len(), 5);
    // Customers cannot move orders.
    assert_eq!(
        orders
            .set_status(&ada, order.id, OrderStatus::Refunded)
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    let refunded = orders.refund(&shop.admin, order.id, None).await.unwrap();
    assert_eq!(refunded.status, OrderStatus::Refunded);
    assert_eq!(refunded.payment_status, PaymentStatus::Refunded);
}

#[tokio::test]
async fn partial_refunds_never_exceed_the_captured_amount() {
    let shop = shop().await;
    let a = shop.product("Lamp", dec!(30.00), 5).await;
    let ada = shop.customer("ada@example.com").await;
    let orders = shop.commerce.orders();
    let order = shop.paid_order(&ada, &a, 1).await;
    let ten = crate::money::Money::parse("10.00", crate::money::Currency::USD).unwrap();
    let partly = orders
        .refund(&shop.admin, order.id, Some(ten))
        .await
        .unwrap();
    assert_eq!(partly.status, OrderStatus::Paid);
    assert_eq!(partly.payment_status, PaymentStatus::PartiallyRefunded);
    let too_much = crate::money::Money::parse("20.01", crate::money::Currency::USD).unwrap();
    assert_eq!(
        orders
            .refund(&shop.admin, order.id, Some(too_much))
            .await
            .unwrap_err()
            .code(),
        "conflict"
    );
    let rest = orders.refund(&shop.admin, order.id, None).await.unwrap();
    assert_eq!(rest.status, OrderStatus::Refunded);
    // Refunding the rest again: nothing is left, which is the order's state (409), not a
    // wrong request.
    let again = orders
        .refund(&shop.admin, order.id, None)
        .await
        .unwrap_err();
    assert_eq!(again.code(), "conflict", "{again}");
}

#[tokio::test]
async fn stock_is_never_oversold_and_a_failed_checkout_changes_nothing() {
    let shop = shop().await;
    let a = shop.product("Last ones", dec!(10.00), 3).await;
    let carts = shop.commerce.carts();
    let err = carts
        .add_item(&CartOwner::Guest(None), item(&a, 4), None)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        CommerceError::OutOfStock { available: 3, .. }
    ));
    let view = carts
        .add_item(&CartOwner::Guest(None), item(&a, 3), None)
        .await
        .unwrap();
    let guest = CartOwner::Guest(view.new_guest_token);
    // Someone else buys two meanwhile.
    let ada = shop.customer("ada@example.com").await;
    shop.commerce
        .orders()
        .create(&ada, order_of(&a, 2))
        .await
        .unwrap();
    let err = carts
        .checkout(
            &Caller::Anonymous,
            &guest,
            CheckoutRequest {
                shipping_address: Some(texas()),
                email: Some("g@example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        CommerceError::OutOfStock { available: 1, .. }
    ));
    assert_eq!(
        shop.commerce
            .catalog()
            .product(&ada, a.id)
            .await
            .unwrap()
            .inventory_count,
        1
    );
    assert_eq!(
        carts.cart(&guest).await.unwrap().cart.items.len(),
        1,
        "the cart is kept"
    );
}

#[tokio::test]
async fn codes_that_can_never_apply_are_refused_and_others_wait_for_the_cart_to_qualify() {
    let shop = shop().await;
    let a = shop.product("Mug", dec!(12.00), 50).await;
    let admin = shop.commerce.admin();
    admin
        .create_promotion(
            &shop.admin,
            PromotionDraft {
                code: Some("BIG50".into()),
                kind: "fixed".into(),
                value: Some(dec!(5.00)),
                min_subtotal: Some(dec!(50.00)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    admin
        .create_promotion(
            &shop.admin,
            PromotionDraft {
                code: Some("OLD".into()),
                kind: "percent".into(),
                value: Some(dec!(10)),
                ends_at: Some(chrono::Utc::now() - chrono::Duration::days(1)),
                starts_at: Some(chrono::Utc::now() - chrono::Duration::days(9)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let carts = shop.commerce.carts();
    let view = carts
        .add_item(&CartOwner::Guest(None), item(&a, 1), None)
        .await
        .unwrap();
    let guest = CartOwner::Guest(view.new_guest_token);
    let err = carts.add_code(&guest, "nope", None).await.unwrap_err();
    assert_eq!(
        err,
        CommerceError::InvalidDiscount {
            code: "NOPE".into(),
            reason: RejectionReason::UnknownCode
        }
    );
    let err = carts.add_code(&guest, "old", None).await.unwrap_err();
    assert_eq!(
        err,
        CommerceError::InvalidDiscount {
            code: "OLD".into(),
            reason: RejectionReason::Expired
        }
    );
    let view = carts.add_code(&guest, "big50", None).await.unwrap();
    assert_eq!(view.cart.discount_codes, vec!["BIG50"]);
    assert_eq!(
        view.priced.rejected[0].reason,
        RejectionReason::MinimumNotMet
    );
    let line = view.cart.items[0].id;
    let view = carts.update_item(&guest, line, 5, None).await.unwrap();
    assert_eq!(view.priced.discount.amount(), dec!(5.00));
    assert_eq!(view.priced.total.amount(), dec!(55.00));
    // A direct order with a code that does not apply is refused and reserves nothing.
    let ada = shop.customer("ada@example.com").await;
    let err = shop
        .commerce
        .orders()
        .create(
            &ada,
            DirectOrder {
                items: vec![item(&a, 1)],
                shipping_address: Some(texas()),
                discount_codes: vec!["BIG50".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        CommerceError::InvalidDiscount {
            code: "BIG50".into(),
            reason: RejectionReason::MinimumNotMet
        }
    );
    assert_eq!(
        shop.commerce
            .catalog()
            .product(&ada, a.id)
            .await
            .unwrap()
            .inventory_count,
        50
    );
}

#[tokio::test]
async fn a_stale_version_is_refused() {
    let shop = shop().await;
    let a = shop.product("Mug", dec!(12.00), 50).await;
    let carts = shop.commerce.carts();
    let view = carts
        .add_item(&CartOwner::Guest(None), item(&a, 1), None)
        .await
        .unwrap();
    let guest = CartOwner::Guest(view.new_guest_token);
    let v = view.cart.version;
    carts.add_item(&guest, item(&a, 1), Some(v)).await.unwrap();
    assert_eq!(
        carts
            .add_item(&guest, item(&a, 1), Some(v))
            .await
            .unwrap_err()
            .code(),
        "version_mismatch"
    );
    let catalog = shop.commerce.catalog();
    let changes = ProductChanges {
        price: Some(dec!(13.00)),
        ..Default::default()
    };
    let updated = catalog
        .update_product(&shop.admin, a.id, changes.clone(), Some(a.version))
        .await
        .unwrap();
    assert_eq!(updated.version, a.version + 1);
    assert_eq!(
        catalog
            .update_product(&shop.admin, a.id, changes, Some(a.version))
            .await
            .unwrap_err()
            .code(),
        "version_mismatch"
    );
}

#[tokio::test]
async fn logging_in_merges_the_guest_cart() {
    let shop = shop().await;
    let a = shop.product("Mug", dec!(12.00), 4).await;
    let b = shop.product("Tea", dec!(6.00), 10).await;
    let ada = shop.customer("ada@example.com").await;
    let carts = shop.commerce.carts();
    carts
        .add_item(&CartOwner::of(&ada, None), item(&a, 2), None)
        .await
        .unwrap();
    let view = carts
        .add_item(&CartOwner::Guest(None), item(&a, 3), None)
        .await
        .unwrap();
    let token = view.new_guest_token.unwrap();
    carts
        .add_item(&CartOwner::Guest(Some(token.clone())), item(&b, 1), None)
        .await
        .unwrap();
    let merged = carts
        .merge_guest_cart(ada.user_id().unwrap(), &token)
        .await
        .unwrap()
        .unwrap();
    let quantities: Vec<_> = merged
        .cart
        .items
        .iter()
        .map(|i| (i.product_id, i.quantity))
        .collect();
    assert_eq!(quantities, vec![(a.id, 4), (b.id, 1)]);
    // The guest cart is gone: its token now names nothing.
    assert!(carts
        .cart(&CartOwner::Guest(Some(token)))
        .await
        .unwrap()
        .cart
        .items
        .is_empty());
}

#[tokio::test]
async fn roles_and_ownership_are_enforced() {
    let shop = shop().await;
    let accounts = shop.commerce.accounts();
    let vendor_one = accounts
        .create_user("v1@shop.test", "password123", "V1", Role::Vendor, true)
        .await
        .unwrap();
    let vendor_two = accounts
        .create_user("v2@shop.test", "password123", "V2", Role::Vendor, true)
        .await
        .unwrap();
    let (v1, v2) = (
        Caller::user(vendor_one.id, Role::Vendor),
        Caller::user(vendor_two.id, Role::Vendor),
    );
    let ada = shop.customer("ada@example.com").await;
    let bob = shop.customer("bob@example.com").await;
    let catalog = shop.commerce.catalog();
    let draft = NewProduct {
        name: "Vase".into(),
        price: dec!(20.00),
        inventory_count: 3,
        ..Default::default()
    };
    assert_eq!(
        catalog
            .create_product(&ada, draft.clone())
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    assert_eq!(
        catalog
            .create_product(&Caller::Anonymous, draft.clone())
            .await
            .unwrap_err()
            .code(),
        "unauthenticated"
    );
    let vase = catalog.create_product(&v1, draft).await.unwrap();
    assert_eq!(vase.status, ProductStatus::PendingApproval);
    // Not public until approved; its vendor sees it; another vendor does not.
    assert_eq!(
        catalog
            .product(&Caller::Anonymous, vase.id)
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert!(catalog.product(&v1, vase.id).await.is_ok());
    assert_eq!(
        catalog.product(&v2, vase.id).await.unwrap_err().code(),
        "not_found"
    );
    let approve_self = ProductChanges {
        status: Some(ProductStatus::Active),
        ..Default::default()
    };
    assert_eq!(
        catalog
            .update_product(&v1, vase.id, approve_self, None)
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    catalog.approve_product(&shop.admin, vase.id).await.unwrap();
    let rename = ProductChanges {
        name: Some("Mine now".into()),
        ..Default::default()
    };
    assert_eq!(
        catalog
            .update_product(&v2, vase.id, rename.clone(), None)
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    assert!(catalog
        .update_product(&v1, vase.id, rename, None)
        .await
        .is_ok());
    // Nobody reads another customer's order.
    let orders = shop.commerce.orders();
    let order = orders.create(&ada, order_of(&vase, 1)).await.unwrap();
    assert_eq!(
        orders.order(&bob, order.id).await.unwrap_err().code(),
        "not_found"
    );
    assert!(orders.order(&shop.admin, order.id).await.is_ok());
    assert_eq!(
        orders.cancel(&bob, order.id).await.unwrap_err().code(),
        "not_found"
    );
}

#[tokio::test]
async fn registration_verification_and_sessions() {
    let shop = shop().await;
    let accounts = shop.commerce.accounts();
    let user = accounts
        .register(" Ada@Example.com ", "password123", "Ada")
        .await
        .unwrap();
    assert_eq!(user.email, "ada@example.com");
    assert!(!user.email_verified);
    assert_eq!(
        accounts
            .register("ADA@example.com", "password123", "Ada")
            .await
            .unwrap_err()
            .code(),
        "email_taken"
    );
    let err = accounts
        .register("not-an-email", "short", "")
        .await
        .unwrap_err();
    let CommerceError::Validation(fields) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        fields.fields().collect::<Vec<_>>(),
        vec!["email", "password", "full_name"]
    );

    let mail = shop
        .mail
        .sent()
        .into_iter()
        .find(|m| m.to == "ada@example.com")
        .unwrap();
    let token = mail
        .text
        .lines()
        .find(|l| l.len() == 64)
        .unwrap()
        .to_string();
    assert!(accounts.verify_email(&token).await.unwrap().email_verified);
    assert_eq!(
        accounts.verify_email(&token).await.unwrap_err().code(),
        "invalid_token",
        "single use"
    );

    // Unknown email and wrong password: the same answer.
    assert_eq!(
        accounts
            .login("nobody@example.com", "password123")
            .await
            .unwrap_err()
            .code(),
        "invalid_credentials"
    );
    assert_eq!(
        accounts
            .login("ada@example.com", "wrong-password")
            .await
            .unwrap_err()
            .code(),
        "invalid_credentials"
    );
    let session = accounts
        .login("ADA@example.com", "password123")
        .await
        .unwrap();
    assert_eq!(session.expires_in, 15 * 60);
    let caller = accounts.authenticate(&session.access_token).await.unwrap();
    assert_eq!(caller.user_id(), Some(user.id));

    // Rotation: the new refresh token works, the old one is now a reuse that ends the family.
    let second = accounts.refresh(&session.refresh_token).await.unwrap();
    assert_eq!(
        accounts
            .refresh(&session.refresh_token)
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );
    assert_eq!(
        accounts
            .refresh(&second.refresh_token)
            .await
            .unwrap_err()
            .code(),
        "invalid_token",
        "the family is revoked"
    );

    // Deactivation takes effect at once; the right password then learns the account is disabled.
    let third = accounts
        .login("ada@example.com", "password123")
        .await
        .unwrap();
    accounts
        .admin_update_user(&shop.admin, user.id, None, Some(false))
        .await
        .unwrap();
    assert_eq!(
        accounts
            .authenticate(&third.access_token)
            .await
            .unwrap_err()
            .code(),
        "unauthenticated"
    );
    assert_eq!(
        accounts
            .login("ada@example.com", "password123")
            .await
            .unwrap_err()
            .code(),
        "account_disabled"
    );
    assert_eq!(
        accounts
            .login("ada@example.com", "bad-password")
            .await
            .unwrap_err()
            .code(),
        "invalid_credentials"
    );
}

#[tokio::test]
async fn a_password_reset_ends_every_session() {
    let shop = shop().await;
    let accounts = shop.commerce.accounts();
    accounts
        .register("ada@example.com", "password123", "Ada")
        .await
        .unwrap();
    let session = accounts
        .login("ada@example.com", "password123")
        .await
        .unwrap();
    accounts
        .forgot_password("nobody@example.com")
        .await
        .unwrap();
    accounts.forgot_password("ada@example.com").await.unwrap();
    let mail = shop
        .mail
        .sent()
        .into_iter()
        .find(|m| m.subject.contains("Reset"))
        .unwrap();
    let token = mail
        .text
        .lines()
        .find(|l| l.len() == 64)
        .unwrap()
        .to_string();
    assert_eq!(
        accounts
            .reset_password(&token, "short")
            .await
            .unwrap_err()
            .code(),
        "validation_failed"
    );
    accounts
        .reset_password(&token, "new-password-1")
        .await
        .unwrap();
    assert_eq!(
        accounts
            .authenticate(&session.access_token)
            .await
            .unwrap_err()
            .code(),
        "unauthenticated"
    );
    assert_eq!(
        accounts
            .refresh(&session.refresh_token)
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );
    assert_eq!(
        accounts
            .login("ada@example.com", "password123")
            .await
            .unwrap_err()
            .code(),
        "invalid_credentials"
    );
    assert!(accounts
        .login("ada@example.com", "new-password-1")
        .await
        .is_ok());
    assert_eq!(
        accounts
            .reset_password(&token, "another-pass")
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );
}

#[tokio::test]
async fn a_provider_event_and_a_confirmation_converge_on_one_paid_order() {
    let shop = shop().await;
    let a = shop.product("Lamp", dec!(30.00), 5).await;
    let ada = shop.customer("ada@example.com").await;
    let order = shop
        .commerce
        .orders()
        .create(&ada, order_of(&a, 1))
        .await
        .unwrap();
    let payments = shop.commerce.payments();
    let payment = payments.create_intent(&ada, order.id).await.unwrap();
    assert_eq!(
        payments.create_intent(&ada, order.id).await.unwrap().id,
        payment.id,
        "the open payment is reused"
    );
    let event = ProviderEvent {
        event_id: "evt_1".into(),
        payment_id: None,
        reference: payment.provider_reference.clone().unwrap(),
        kind: ProviderEventKind::Succeeded {
            amount: payment.amount,
            reference: None,
        },
    };
    assert!(matches!(
        payments
            .apply_provider_event("test", event.clone())
            .await
            .unwrap(),
        WebhookOutcome::Applied(_)
    ));
    assert_eq!(
        payments.apply_provider_event("test", event).await.unwrap(),
        WebhookOutcome::Duplicate,
        "an event applies once"
    );
    // A late failure report does not undo the success.
    let late = ProviderEvent {
        event_id: "evt_0".into(),
        payment_id: Some(payment.id),
        reference: "another reference".into(),
        kind: ProviderEventKind::Failed {
            reason: Some("card declined".into()),
        },
    };
    match payments.apply_provider_event("test", late).await.unwrap() {
        WebhookOutcome::Applied(p) => assert_eq!(p.status, PaymentStatus::Succeeded),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        payments.confirm(&ada, payment.id).await.unwrap().status,
        PaymentStatus::Succeeded
    );
    let order = shop.commerce.orders().order(&ada, order.id).await.unwrap();
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(order.status_history.len(), 2);
}

#[tokio::test]
async fn variants_are_sold_by_their_own_price_and_stock() {
    let shop = shop().await;
    let shirt = shop
        .commerce
        .catalog()
        .create_product(
            &shop.admin,
            NewProduct {
                name: "Shirt".into(),
                price: dec!(20.00),
                variants: vec![
                    NewVariant {
                        sku: "SHIRT-M".into(),
                        options: [("size".into(), "M".into())].into(),
                        price: None,
                        inventory_count: 2,
                        low_stock_threshold: None,
                    },
                    NewVariant {
                        sku: "SHIRT-XL".into(),
                        options: [("size".into(), "XL".into())].into(),
                        price: Some(dec!(24.00)),
                        inventory_count: 1,
                        low_stock_threshold: None,
                    },
                ],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let carts = shop.commerce.carts();
    let bare = carts
        .add_item(&CartOwner::Guest(None), item(&shirt, 1), None)
        .await
        .unwrap_err();
    assert_eq!(bare.code(), "validation_failed");
    let xl = shirt.variants[1].id;
    let view = carts
        .add_item(
            &CartOwner::Guest(None),
            ItemRequest {
                product_id: shirt.id,
                variant_id: Some(xl),
                quantity: 1,
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(view.priced.total.amount(), dec!(24.00));
    assert_eq!(view.names, vec!["Shirt (XL)"]);
    let guest = CartOwner::Guest(view.new_guest_token);
    let err = carts
        .add_item(
            &guest,
            ItemRequest {
                product_id: shirt.id,
                variant_id: Some(xl),
                quantity: 1,
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "out_of_stock");
}

#[tokio::test]
async fn low_stock_is_announced() {
    let shop = shop().await;
    let a = shop.product("Rare", dec!(10.00), 7).await;
    let mut events = shop.commerce.subscribe();
    let ada = shop.customer("ada@example.com").await;
    shop.commerce
        .orders()
        .create(&ada, order_of(&a, 2))
        .await
        .unwrap();
    let mut low = None;
    while let Ok(e) = events.try_recv() {
        if let DomainEvent::LowStock { available, .. } = e {
            low = Some(available);
        }
    }
    assert_eq!(low, Some(5), "5 left is at the default threshold of 5");
}

#[tokio::test]
async fn a_new_product_takes_the_stores_low_stock_threshold_unless_it_has_its_own() {
    let shop = shop().await;
    let before = shop.product("Before", dec!(1.00), 9).await;
    assert_eq!(before.low_stock_threshold, 5, "a new shop's default");
    let admin = shop.commerce.admin();
    let store = admin
        .update_store(
            &shop.admin,
            StoreChanges {
                low_stock_threshold: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(store.low_stock_threshold, 2);
    let after = shop.product("After", dec!(1.00), 9).await;
    assert_eq!(after.low_stock_threshold, 2);
    let own = shop
        .commerce
        .catalog()
        .create_product(
            &shop.admin,
            NewProduct {
                name: "Own".into(),
                price: dec!(1.00),
                inventory_count: 9,
                low_stock_threshold: Some(7),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(own.low_stock_threshold, 7);
    // Products made before keep theirs.
    let kept = shop
        .commerce
        .catalog()
        .product(&shop.admin, before.id)
        .await
        .unwrap();
    assert_eq!(kept.low_stock_threshold, 5);
    let too_many = admin
        .update_store(
            &shop.admin,
            StoreChanges {
                low_stock_threshold: Some(crate::catalog::MAX_STOCK + 1),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), "validation_failed");
}

#[tokio::test]
async fn categories_nest_and_listings_include_descendants() {
    let shop = shop().await;
    let catalog = shop.commerce.catalog();
    let clothing = catalog
        .create_category(&shop.admin, "Clothing", None, None)
        .await
        .unwrap();
    let shirts = catalog
        .create_category(&shop.admin, "Shirts", None, Some(clothing.id))
        .await
        .unwrap();
    let err = catalog
        .update_category(&shop.admin, clothing.id, None, None, Some(Some(shirts.id)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "validation_failed");
    for (name, category, price) in [
        ("Tee", shirts.id, dec!(15.00)),
        ("Coat", clothing.id, dec!(90.00)),
    ] {
        catalog
            .create_product(
                &shop.admin,
                NewProduct {
                    name: name.into(),
                    price,
                    category_id: Some(category),
                    inventory_count: 1,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    shop.product("Mug", dec!(8.00), 0).await;
    let listed = catalog
        .category_products(clothing.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);
    let cheap_first = catalog
        .list_products(ProductListing {
            sort: Some(crate::ports::ProductSort::PriceAsc),
            in_stock: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        cheap_first
            .items
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Tee", "Coat"]
    );
    let found = catalog
        .search("coat", PageRequest::default())
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    let tree = catalog.categories().await.unwrap();
    assert_eq!(tree[0].children[0].category.id, shirts.id);
}

#[tokio::test]
async fn only_buyers_review_and_ratings_follow() {
    let shop = shop().await;
    let a = shop.product("Kettle", dec!(40.00), 5).await;
    let ada = shop.customer("ada@example.com").await;
    let catalog = shop.commerce.catalog();
    let review = crate::catalog::NewReview {
        rating: 4,
        title: "Good".into(),
        body: "Boils.".into(),
    };
    assert_eq!(
        catalog
            .add_review(&ada, a.id, review.clone())
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    // An order that is not paid yet does not make a buyer.
    let unpaid = shop
        .commerce
        .orders()
        .create(&ada, order_of(&a, 1))
        .await
        .unwrap();
    assert_eq!(
        catalog
            .add_review(&ada, a.id, review.clone())
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    shop.commerce
        .orders()
        .cancel(&ada, unpaid.id)
        .await
        .unwrap();
    shop.paid_order(&ada, &a, 1).await;
    catalog
        .add_review(&ada, a.id, review.clone())
        .await
        .unwrap();
    assert_eq!(
        catalog
            .add_review(&ada, a.id, review)
            .await
            .unwrap_err()
            .code(),
        "conflict"
    );
    let product = catalog.product(&ada, a.id).await.unwrap();
    assert_eq!((product.rating.average, product.rating.count), (dec!(4), 1));
}

#[tokio::test]
async fn the_sales_report_has_a_row_per_day() {
    let shop = shop().await;
    let a = shop.product("Lamp", dec!(30.00), 5).await;
    let ada = shop.customer("ada@example.com").await;
    shop.paid_order(&ada, &a, 1).await;
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(1);
    let csv = shop
        .commerce
        .admin()
        .sales_report_csv(&shop.admin, from, today)
        .await
        .unwrap();
    assert_eq!(
        csv,
        format!("date,orders,revenue,currency\n{from},0,0.00,USD\n{today},1,30.00,USD\n")
    );
    let dashboard = shop.commerce.admin().dashboard(&shop.admin).await.unwrap();
    assert_eq!(dashboard.revenue.amount(), dec!(30.00));
    assert_eq!(dashboard.orders_today, 1);
    assert_eq!(dashboard.top_products[0].2, 1);
}

#[tokio::test]
async fn made_up_slugs_never_clash_and_never_come_out_empty() {
    let shop = shop().await;
    let first = shop.product("Linen Shirt", dec!(10.00), 1).await;
    let second = shop.product("Linen Shirt", dec!(12.00), 1).await;
    let symbols = shop.product("!!!", dec!(1.00), 1).await;
    assert_eq!(first.slug, "linen-shirt");
    assert!(second.slug.starts_with("linen-shirt-") && second.slug != first.slug);
    assert!(symbols.slug.starts_with("item-"));
    // A slug the caller chose is never changed: a clash is their error to fix.
    let err = shop
        .commerce
        .catalog()
        .create_product(
            &shop.admin,
            NewProduct {
                name: "Other".into(),
                slug: Some("linen-shirt".into()),
                price: dec!(1.00),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "slug_taken");
    let catalog = shop.commerce.catalog();
    let men = catalog
        .create_category(&shop.admin, "Men", None, None)
        .await
        .unwrap();
    let women = catalog
        .create_category(&shop.admin, "Women", None, None)
        .await
        .unwrap();
    let a = catalog
        .create_category(&shop.admin, "Shirts", None, Some(men.id))
        .await
        .unwrap();
    let b = catalog
        .create_category(&shop.admin, "Shirts", None, Some(women.id))
        .await
        .unwrap();
    assert_ne!(a.slug, b.slug);
}

#[tokio::test]
async fn an_edit_after_a_sale_keeps_the_sale() {
    let shop = shop().await;
    let lamp = shop.product("Lamp", dec!(30.00), 5).await;
    let ada = shop.customer("ada@example.com").await;
    shop.commerce
        .orders()
        .create(&ada, order_of(&lamp, 2))
        .await
        .unwrap();
    let catalog = shop.commerce.catalog();
    let rename = ProductChanges {
        name: Some("Desk lamp".into()),
        ..Default::default()
    };
    // Written against the version read before the sale: refused, the client must reload.
    let err = catalog
        .update_product(&shop.admin, lamp.id, rename.clone(), Some(lamp.version))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "version_mismatch");
    // Without If-Match the edit applies to the current product: the sale stays.
    let renamed = catalog
        .update_product(&shop.admin, lamp.id, rename, None)
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.inventory_count),
        ("Desk lamp", 3)
    );
}

#[tokio::test]
async fn settings_are_kept_for_their_ttl_and_own_changes_apply_at_once() {
    let store = Arc::new(MemoryStore::new());
    let keeps = |ttl| {
        Commerce::builder(store.clone())
            .config(EngineConfig {
                settings_ttl: ttl,
                ..EngineConfig::default()
            })
            .build()
    };
    let hour = std::time::Duration::from_secs(3600);
    let (writer, cached, fresh) = (keeps(hour), keeps(hour), keeps(std::time::Duration::ZERO));
    let admin = writer
        .accounts()
        .create_user("a@shop.test", "admin-password", "A", Role::Admin, true)
        .await
        .unwrap();
    let admin = Caller::user(admin.id, admin.role);
    assert_eq!(cached.settings().await.unwrap().name, "Commerce");
    writer.settings().await.unwrap();
    writer
        .admin()
        .update_store(
            &admin,
            StoreChanges {
                name: Some("Corner Shop".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // The writer sees its change at once; another process within its TTL does not yet; one
    // that keeps nothing does.
    assert_eq!(writer.settings().await.unwrap().name, "Corner Shop");
    assert_eq!(cached.settings().await.unwrap().name, "Commerce");
    assert_eq!(fresh.settings().await.unwrap().name, "Corner Shop");
}

/// A provider event about `payment`, found by its reference.
fn provider_event(
    id: &str,
    payment: &crate::payment::Payment,
    kind: ProviderEventKind,
) -> ProviderEvent {
    ProviderEvent {
        event_id: id.into(),
        payment_id: None,
        reference: payment.provider_reference.clone().unwrap(),
        kind,
    }
}

fn money(text: &str) -> crate::money::Money {
    crate::money::Money::parse(text, crate::money::Currency::USD).unwrap()
}

#[tokio::test]
async fn a_reported_success_of_another_amount_is_refused_and_changes_nothing() {
    let shop = shop().await;
    let lamp = shop.product("Lamp", dec!(30.00), 5).await;
    let ada = shop.customer("ada@example.com").await;
    let order = shop
        .commerce
        .orders()
        .create(&ada, order_of(&lamp, 1))
        .await
        .unwrap();
    let payments = shop.commerce.payments();
    let payment = payments.create_intent(&ada, order.id).await.unwrap();
    let cheaper = provider_event(
        "evt_1",
        &payment,
        ProviderEventKind::Succeeded {
            amount: money("1.00"),
            reference: None,
        },
    );
    assert!(matches!(
        payments
            .apply_provider_event("test", cheaper)
            .await
            .unwrap(),
        WebhookOutcome::Refused(_)
    ));
    let order = shop.commerce.orders().order(&ada, order.id).await.unwrap();
    assert_eq!(order.status, OrderStatus::Pending);
    let eur = provider_event(
        "evt_2",
        &payment,
        ProviderEventKind::Succeeded {
            amount: crate::money::Money::parse("30.00", crate::money::Currency::EUR).unwrap(),
            reference: None,
        },
    );
    assert!(matches!(
        payments.apply_provider_event("test", eur).await.unwrap(),
        WebhookOutcome::Refused(_)
    ));
    assert_eq!(
        shop.commerce
            .orders()
            .order(&ada, order.id)
            .await
            .unwrap()
            .status,
        OrderStatus::Pending
    );
}

#[tokio::test]
async fn refunds_made_at_the_provider_are_recorded_by_their_running_total() {
    let shop = shop().await;
    let lamp = shop.product("Lamp", dec!(30.00), 5).await;
    let ada = shop.customer("ada@example.com").await;
    let order = shop
        .commerce
        .orders()
        .create(&ada, order_of(&lamp, 1))
        .await
        .unwrap();
    let payments = shop.commerce.payments();
    let payment = payments.create_intent(&ada, order.id).await.unwrap();
    let total = payment.amount;
    let refunded = |n: &str, id: &str| {
        provider_event(
            id,
            &payment,
            ProviderEventKind::Refunded {
                captured: total,
                refunded: money(n),
                refund_reference: Some(format!("re_{id}")),
            },
        )
    };
    // The refund report arrives before the success report: it proves the capture.
    payments
        .apply_provider_event("test", refunded("10.00", "a"))
        .await
        .unwrap();
    let order_now = shop.commerce.orders().order(&ada, order.id).await.unwrap();
    assert_eq!(order_now.status, OrderStatus::Paid);
    assert_eq!(order_now.payment_status, PaymentStatus::PartiallyRefunded);
    // The late success and a repeated running total change nothing.
    let late = provider_event(
        "b",
        &payment,
        ProviderEventKind::Succeeded {
            amount: total,
            reference: None,
        },
    );
    payments.apply_provider_event("test", late).await.unwrap();
    payments
        .apply_provider_event("test", refunded("10.00", "c"))
        .await
        .unwrap();
    let stored = payments.payment(&ada, payment.id).await.unwrap();
    assert_eq!(stored.refunded(), money("10.00"));
    // Then the rest: the order is refunded and its units come back.
    match payments
        .apply_provider_event("test", refunded("30.00", "d"))
        .await
        .unwrap()
    {
        WebhookOutcome::Applied(p) => {
            assert_eq!(p.status, PaymentStatus::Refunded);
            assert_eq!(p.refunds.len(), 2);
            assert_eq!(p.refunds[1].amount, money("20.00"));
        }
        other => panic!("{other:?}"),
    }
    let order_now = shop.commerce.orders().order(&ada, order.id).await.unwrap();
    assert_eq!(order_now.status, OrderStatus::Refunded);
    let lamp = shop
        .commerce
        .catalog()
        .product(&ada, lamp.id)
        .await
        .unwrap();
    assert_eq!(lamp.inventory_count, 5);
}

#[tokio::test]
async fn a_second_payment_of_a_paid_order_is_given_back() {
    let shop = shop().await;
    let lamp = shop.product("Lamp", dec!(30.00), 5).await;
    let ada = shop.customer("ada@example.com").await;
    let order = shop
        .commerce
        .orders()
        .create(&ada, order_of(&lamp, 1))
        .await
        .unwrap();
    let payments = shop.commerce.payments();
    let first = payments.create_intent(&ada, order.id).await.unwrap();
    // A second, separate payment of the same order (as a hosted session would be).
    let second = payments.start(&order, None).await.unwrap();
    for (i, p) in [&first, &second].into_iter().enumerate() {
        let paid = provider_event(
            &format!("evt_{i}"),
            p,
            ProviderEventKind::Succeeded {
                amount: p.amount,
                reference: None,
            },
        );
        payments.apply_provider_event("test", paid).await.unwrap();
    }
    let first = payments.payment(&ada, first.id).await.unwrap();
    let second = payments.payment(&ada, second.id).await.unwrap();
    assert_eq!(first.status, PaymentStatus::Succeeded);
    assert_eq!(
        second.status,
        PaymentStatus::Refunded,
        "paid twice: given back"
    );
    let order = shop.commerce.orders().order(&ada, order.id).await.unwrap();
    assert_eq!(order.status, OrderStatus::Paid);
}

#[tokio::test]
async fn cancelling_a_pending_order_gives_up_its_open_payment() {
    let shop = shop().await;
    let lamp = shop.product("Lamp", dec!(30.00), 5).await;
    let ada = shop.customer("ada@example.com").await;
    let order = shop
        .commerce
        .orders()
        .create(&ada, order_of(&lamp, 1))
        .await
        .unwrap();
    let payments = shop.commerce.payments();
    let payment = payments.create_intent(&ada, order.id).await.unwrap();
    shop.commerce.orders().cancel(&ada, order.id).await.unwrap();
    assert_eq!(
        payments.payment(&ada, payment.id).await.unwrap().status,
        PaymentStatus::Cancelled
    );
    // Paid at the provider anyway (a race): refunded at once, the order stays cancelled.
    let paid = provider_event(
        "evt_late",
        &payment,
        ProviderEventKind::Succeeded {
            amount: payment.amount,
            reference: None,
        },
    );
    payments.apply_provider_event("test", paid).await.unwrap();
    assert_eq!(
        shop.commerce
            .orders()
            .order(&ada, order.id)
            .await
            .unwrap()
            .status,
        OrderStatus::Cancelled
    );
}

#[tokio::test]
async fn the_test_provider_takes_no_webhooks_and_no_hosted_checkout() {
    let shop = shop().await;
    let lamp = shop.product("Lamp", dec!(30.00), 5).await;
    let ada = shop.customer("ada@example.com").await;
    let order = shop
        .commerce
        .orders()
        .create(&ada, order_of(&lamp, 1))
        .await
        .unwrap();
    let payments = shop.commerce.payments();
    assert_eq!(
        payments
            .receive_webhook("stripe", &Default::default(), b"{}")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        payments
            .receive_webhook("test", &Default::default(), b"{}")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        payments
            .create_hosted_checkout(&ada, order.id, None)
            .await
            .unwrap_err()
            .code(),
        "conflict"
    );
}

#[tokio::test]
async fn a_watcher_gets_each_status_change_once_and_in_order() {
    let shop = shop().await;
    let lamp = shop.product("Lamp", dec!(30.00), 5).await;
    let ada = shop.customer("ada@example.com").await;
    let order = shop
        .commerce
        .orders()
        .create(&ada, order_of(&lamp, 1))
        .await
        .unwrap();
    let mut watch = shop
        .commerce
        .watch_order(&ada, order.id, None)
        .await
        .unwrap();
    let first = watch.next().await.unwrap();
    assert_eq!((first.sequence, first.status), (1, OrderStatus::Pending));
    let payments = shop.commerce.payments();
    let payment = payments.create_intent(&ada, order.id).await.unwrap();
    payments.confirm(&ada, payment.id).await.unwrap();
    for status in [OrderStatus::Processing, OrderStatus::Shipped] {
        shop.commerce
            .orders()
            .set_status(&shop.admin, order.id, status)
            .await
            .unwrap();
    }
    let seen: Vec<(u64, OrderStatus)> = [
        watch.next().await.unwrap(),
        watch.next().await.unwrap(),
        watch.next().await.unwrap(),
    ]
    .into_iter()
    .map(|u| (u.sequence, u.status))
    .collect();
    assert_eq!(
        seen,
        vec![
            (2, OrderStatus::Paid),
            (3, OrderStatus::Processing),
            (4, OrderStatus::Shipped)
        ]
    );
    // A repeated announcement sends nothing twice.
    shop.commerce
        .ports
        .events
        .publish(DomainEvent::OrderStatusChanged {
            order_id: order.id,
            status: OrderStatus::Shipped,
            at: shop.commerce.now(),
        });
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(50), watch.next()).await;
    assert!(quiet.is_err(), "nothing new: {quiet:?}");
    // A client back after number 2 gets 3 and 4.
    let mut back = shop
        .commerce
        .watch_order(&ada, order.id, Some(2))
        .await
        .unwrap();
    assert_eq!(back.next().await.unwrap().sequence, 3);
    assert_eq!(back.next().await.unwrap().sequence, 4);
    // Someone else's order is not found.
    let bob = shop.customer("bob@example.com").await;
    assert_eq!(
        shop.commerce
            .watch_order(&bob, order.id, None)
            .await
            .err()
            .unwrap()
            .code(),
        "not_found"
    );
}

/// A mailer that fails its first `failures` sends.
struct FlakyMailer {
    failures: std::sync::atomic::AtomicU32,
    inner: MemoryMailer,
}

#[async_trait::async_trait]
impl crate::ports::Mailer for FlakyMailer {
    async fn send(&self, mail: &crate::ports::Mail) -> Result<(), crate::ports::MailError> {
        use std::sync::atomic::Ordering;
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(crate::ports::MailError("the relay is down".into()));
        }
        self.inner.send(mail).await
    }
}

/// A shop's first admin lists a lamp named `name` at 30.00 (5 in stock) and the customer Ada
/// orders `quantity` of it, delivered to Texas.
async fn ada_orders_lamps(commerce: &Commerce, name: &str, quantity: u32) -> (Caller, Order) {
    let admin = first_admin(commerce).await;
    let lamp = commerce
        .catalog()
        .create_product(
            &admin,
            NewProduct {
                name: name.into(),
                price: dec!(30.00),
                inventory_count: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ada = commerce
        .accounts()
        .register("ada@example.com", "password123", "Ada")
        .await
        .unwrap();
    let ada = Caller::user(ada.id, ada.role);
    let order = commerce
        .orders()
        .create(&ada, order_of(&lamp, quantity))
        .await
        .unwrap();
    (ada, order)
}

#[tokio::test]
async fn a_paid_order_is_confirmed_by_mail_even_when_the_first_sends_fail() {
    let mailer = Arc::new(FlakyMailer {
        failures: std::sync::atomic::AtomicU32::new(2),
        inner: MemoryMailer::default(),
    });
    let commerce = Commerce::builder(Arc::new(MemoryStore::new()))
        .test_payments()
        .mailer(mailer.clone())
        .config(EngineConfig {
            mail_retry_after: std::time::Duration::from_millis(5),
            ..EngineConfig::default()
        })
        .build();
    let (ada, order) = ada_orders_lamps(&commerce, "Lamp <b>", 2).await;
    let payment = commerce
        .payments()
        .create_intent(&ada, order.id)
        .await
        .unwrap();
    // The confirmation does not hold up the payment: it is answered before the mail goes.
    let paid = commerce.payments().confirm(&ada, payment.id).await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Succeeded);
    let mut confirmation = None;
    for _ in 0..100 {
        confirmation = mailer
            .inner
            .sent()
            .into_iter()
            .find(|m| m.subject.contains("confirmed"));
        if confirmation.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let mail = confirmation.expect("the confirmation, on the third try");
    assert_eq!(mail.to, "ada@example.com");
    assert!(mail.subject.contains(&order.number));
    assert!(mail.text.contains("2 × Lamp <b>"), "{}", mail.text);
    assert!(mail
        .text
        .contains(&format!("Total: {}", order.totals.total)));
    assert!(
        mail.text.contains("Austin"),
        "the delivery address: {}",
        mail.text
    );
    let html = mail.html.unwrap();
    assert!(html.contains("Lamp &lt;b&gt;"), "names are escaped in HTML");
    assert!(html.contains(&order.number));
}

#[tokio::test]
async fn a_shop_built_without_a_payment_provider_takes_orders_but_no_money() {
    let store = Arc::new(MemoryStore::new());
    let commerce = Commerce::builder(store.clone()).build();
    let (ada, order) = ada_orders_lamps(&commerce, "Lamp", 1).await;
    let refused = commerce
        .payments()
        .create_intent(&ada, order.id)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "conflict");
    assert!(
        refused.to_string().contains("no payment provider"),
        "{refused}"
    );
    // Nothing was paid, nothing half-made.
    assert!(store.payments_of_order(order.id).await.unwrap().is_empty());
    let order = commerce.orders().order(&ada, order.id).await.unwrap();
    assert_eq!(order.status, OrderStatus::Pending);
}

#[tokio::test]
async fn tax_rates_and_shipping_methods_changed_here_price_the_next_order() {
    let shop = shop().await;
    let lamp = shop.product("Lamp", dec!(10.00), 10).await;
    let ada = shop.customer("ada@example.com").await;
    let admin = shop.commerce.admin();
    let rate = admin
        .save_tax_rate(&shop.admin, None, "US", Some("TX"), dec!(0.10))
        .await
        .unwrap();
    let post = admin
        .save_shipping_method(&shop.admin, None, "Post", dec!(4.00), None, true)
        .await
        .unwrap();
    let orders = shop.commerce.orders();
    let first = orders.create(&ada, order_of(&lamp, 1)).await.unwrap();
    assert_eq!(
        (first.totals.tax.amount(), first.totals.shipping.amount()),
        (dec!(1.00), dec!(4.00))
    );
    // Both are kept between orders now; a change made here must not wait for them to expire.
    admin
        .save_tax_rate(&shop.admin, Some(rate.id), "US", Some("TX"), dec!(0.20))
        .await
        .unwrap();
    admin
        .save_shipping_method(&shop.admin, Some(post.id), "Post", dec!(6.00), None, true)
        .await
        .unwrap();
    let second = orders.create(&ada, order_of(&lamp, 1)).await.unwrap();
    assert_eq!(
        (second.totals.tax.amount(), second.totals.shipping.amount()),
        (dec!(2.00), dec!(6.00))
    );
    admin.delete_tax_rate(&shop.admin, rate.id).await.unwrap();
    admin
        .delete_shipping_method(&shop.admin, post.id)
        .await
        .unwrap();
    let named = DirectOrder {
        shipping_method: Some(post.id),
        ..order_of(&lamp, 1)
    };
    let err = orders.create(&ada, named).await.unwrap_err();
    assert_eq!(err.code(), "validation_failed");
    let third = orders.create(&ada, order_of(&lamp, 1)).await.unwrap();
    assert_eq!(
        (third.totals.tax.amount(), third.totals.shipping.amount()),
        (dec!(0.00), dec!(0.00))
    );
    assert!(admin.active_shipping_methods().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_promotion_on_a_category_discounts_products_of_its_subcategories_only() {
    let shop = shop().await;
    let catalog = shop.commerce.catalog();
    let home = catalog
        .create_category(&shop.admin, "Home", None, None)
        .await
        .unwrap();
    let lamps = catalog
        .create_category(&shop.admin, "Lamps", None, Some(home.id))
        .await
        .unwrap();
    let lamp = catalog
        .create_product(
            &shop.admin,
            NewProduct {
                name: "Lamp".into(),
                price: dec!(20.00),
                inventory_count: 5,
                category_id: Some(lamps.id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let pen = shop.product("Pen", dec!(5.00), 5).await;
    shop.commerce
        .admin()
        .create_promotion(
            &shop.admin,
            PromotionDraft {
                kind: "percent".into(),
                value: Some(dec!(10)),
                class: Some(crate::promotion::PromotionClass::Product),
                applies_to: crate::promotion::AppliesTo {
                    category_ids: vec![home.id],
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ada = shop.customer("ada@example.com").await;
    let order = shop
        .commerce
        .orders()
        .create(
            &ada,
            DirectOrder {
                items: vec![item(&lamp, 1), item(&pen, 1)],
                ..order_of(&lamp, 1)
            },
        )
        .await
        .unwrap();
    let discounts: Vec<_> = order
        .lines
        .iter()
        .map(|l| (l.name.as_str(), l.discount.amount()))
        .collect();
    assert_eq!(discounts, vec![("Lamp", dec!(2.00)), ("Pen", dec!(0.00))]);
    assert_eq!(order.totals.discount.amount(), dec!(2.00));
}

#[tokio::test]
async fn a_product_priced_in_another_currency_than_the_shops_is_never_sold() {
    use crate::money::{Currency, Money};
    use crate::ports::ProductStore;
    let store = Arc::new(MemoryStore::new());
    let commerce = Commerce::builder(store.clone())
        .test_payments()
        .token_issuer(Arc::new(MemoryTokenIssuer::default()))
        .build();
    let admin = first_admin(&commerce).await;
    let shop = Shop {
        commerce,
        mail: Arc::new(MemoryMailer::default()),
        admin,
    };
    let lamp = shop.product("Lamp", dec!(30.00), 5).await;
    // Written behind the engine's back: the shop sells in USD.
    let mut euro = ProductStore::product(&*store, lamp.id)
        .await
        .unwrap()
        .unwrap();
    euro.price = Money::new(dec!(30.00), Currency::EUR).unwrap();
    store
        .update_product(&euro, &ChangeRecord::none())
        .await
        .unwrap();
    let ada = shop.customer("ada@example.com").await;
    let err = shop
        .commerce
        .orders()
        .create(&ada, order_of(&lamp, 1))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CommerceError::Internal(m) if m.contains("priced in EUR") && m.contains("sells in USD")),
        "{err:?}"
    );
    let err = shop
        .commerce
        .carts()
        .add_item(&CartOwner::Guest(None), item(&lamp, 1), None)
        .await
        .unwrap_err();
    assert!(matches!(err, CommerceError::Internal(_)), "{err:?}");
    let after = ProductStore::product(&*store, lamp.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.inventory_count, after.reserved),
        (5, 0),
        "no stock taken"
    );
}

/// A hasher that takes its time, like Argon2 under load.
struct SlowHasher;

impl crate::ports::PasswordHasher for SlowHasher {
    fn hash(&self, password: &str) -> Result<String, crate::ports::HashError> {
        std::thread::sleep(std::time::Duration::from_millis(300));
        Ok(format!("slow:{password}"))
    }

    fn verify(&self, password: &str, hash: &str) -> Result<bool, crate::ports::HashError> {
        std::thread::sleep(std::time::Duration::from_millis(300));
        Ok(hash == format!("slow:{password}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_hashing_takes_turns_and_a_full_line_is_told_busy() {
    let shop = Commerce::builder(Arc::new(MemoryStore::new()))
        .hasher(Arc::new(SlowHasher))
        .config(EngineConfig {
            password_hashes_at_once: 1,
            password_hashes_waiting: 1,
            ..EngineConfig::default()
        })
        .build();
    let register = |n: usize| {
        let shop = shop.clone();
        async move {
            shop.accounts()
                .register(&format!("u{n}@example.com"), "a-long-password", "U")
                .await
        }
    };
    // One hashes, one waits its turn, the third finds the line full.
    let (a, b, c) = tokio::join!(register(1), register(2), async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        register(3).await
    });
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    assert!(matches!(c, Err(CommerceError::Busy(_))), "{c:?}");
    assert_eq!(c.unwrap_err().code(), "busy");
    // Nothing was stored for the one turned away, and it can try again.
    register(3).await.unwrap();
}

/// The core itself refuses control characters, whatever edge calls it (the HTTP layer's own
/// patterns say the same, but an embedder calls the services directly).
#[tokio::test]
async fn the_core_refuses_control_characters_by_field_and_keeps_line_breaks_where_lines_are() {
    let shop = shop().await;
    let fields = |e: CommerceError| match e {
        CommerceError::Validation(v) => v.fields().map(str::to_string).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    let catalog = shop.commerce.catalog();
    let draft = |name: &str, description: &str| NewProduct {
        name: name.into(),
        description: description.into(),
        price: dec!(5.00),
        inventory_count: 3,
        ..Default::default()
    };
    let refused = catalog
        .create_product(&shop.admin, draft("Lamp\u{0}", "warm\u{7}light"))
        .await
        .unwrap_err();
    assert_eq!(fields(refused), ["name", "description"]);
    let lamp = catalog
        .create_product(&shop.admin, draft("Lamp", "warm\r\n\tlight"))
        .await
        .unwrap();

    let mut order = order_of(&lamp, 1);
    if let Some(a) = order.shipping_address.as_mut() {
        a.line1 = Some("1 Main\u{85}St".into());
    }
    let ada = shop.customer("ada@example.com").await;
    let refused = shop
        .commerce
        .orders()
        .create(&ada, order)
        .await
        .unwrap_err();
    assert!(
        fields(refused).iter().any(|f| f.ends_with("line1")),
        "the address line is named"
    );
    let stored = catalog.product(&shop.admin, lamp.id).await.unwrap();
    assert_eq!(stored.inventory_count, 3, "nothing reserved");

    shop.paid_order(&ada, &lamp, 1).await;
    let review = crate::catalog::NewReview {
        rating: 5,
        title: "Bright\u{1b}[31m".into(),
        body: "Good.\nVery good.".into(),
    };
    let refused = catalog.add_review(&ada, lamp.id, review).await.unwrap_err();
    assert_eq!(fields(refused), ["title"]);

    let refused = shop
        .commerce
        .admin()
        .save_tax_rate(&shop.admin, None, "US", Some("TX\u{0}"), dec!(0.0825))
        .await
        .unwrap_err();
    assert_eq!(fields(refused), ["region"]);
}
