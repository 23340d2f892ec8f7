//! The automatic promotions are kept in memory with the shop's setup. Two stores on one
//! database stand for two server processes: a promotion one of them creates, changes or
//! deletes reaches the other's prices (through the settings notification of migration 0013),
//! and a promotion with a usage limit is read afresh, so a use counted by one process's order
//! ends it for the other's next cart. And a sale made by one reaches the other's catalog
//! generation, told after its commit, even when the seller stops right after it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use commerce_core::account::{Address, Role};
use commerce_core::catalog::NewProduct;
use commerce_core::ids::ProductId;
use commerce_core::promotion::PromotionDraft;
use commerce_core::service::{CartOwner, DirectOrder, EngineConfig, ItemRequest};
use commerce_core::{Caller, Commerce};
use commerce_sqlx::temporary::TemporaryDatabase;
use commerce_sqlx::{PgOptions, PgStore};
use rust_decimal::Decimal;

/// A process of the shop: its own store (pools, listener) on the shared database. The
/// setup is kept for an hour unless a notification says otherwise, so what changes is
/// what the notification did.
async fn process(url: &str) -> (Commerce, PgStore) {
    let store = PgStore::open(
        url,
        PgOptions {
            max_connections: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let shop = Commerce::builder(Arc::new(store.clone()))
        .events(store.event_bus())
        .config(EngineConfig {
            settings_ttl: Duration::from_secs(3600),
            ..EngineConfig::default()
        })
        .test_payments()
        .build();
    (shop, store)
}

/// What a new guest cart of two mugs is discounted by in `shop`.
async fn discount_of_two(shop: &Commerce, mug: ProductId) -> String {
    let cart = shop
        .carts()
        .add_item(
            &CartOwner::Guest(None),
            ItemRequest {
                product_id: mug,
                variant_id: None,
                quantity: 2,
            },
            None,
        )
        .await
        .unwrap();
    cart.priced.discount.amount().to_string()
}

/// Polls `shop` until two mugs are discounted by `expected`, for up to five seconds.
async fn until_discount(shop: &Commerce, mug: ProductId, expected: &str) {
    let began = Instant::now();
    loop {
        let seen = discount_of_two(shop, mug).await;
        if seen == expected {
            return;
        }
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "the other process still prices a discount of {seen}, not {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
async fn automatic_promotions_kept_by_one_process_follow_the_others_changes() {
    let url = std::env::var("COMMERCE_TEST_DATABASE_URL").expect("COMMERCE_TEST_DATABASE_URL");
    let database = TemporaryDatabase::create(&url, 8).await.unwrap();
    let (first, first_store) = process(database.url()).await;
    let (second, second_store) = process(database.url()).await;

    let admin = first
        .accounts()
        .create_user(
            "admin@shop.test",
            "a-long-password",
            "Admin",
            Role::Admin,
            true,
        )
        .await
        .unwrap();
    let admin = Caller::user(admin.id, admin.role);
    let mug = first
        .catalog()
        .create_product(
            &admin,
            NewProduct {
                name: "Mug".into(),
                price: Decimal::new(1000, 2),
                inventory_count: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    // The second process keeps "no automatic promotion".
    assert_eq!(discount_of_two(&second, mug).await, "0.00");

    let ten_off = first
        .admin()
        .create_promotion(
            &admin,
            PromotionDraft {
                kind: "percent".into(),
                value: Some(Decimal::TEN),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // The first process applies its own change at once; the second once told.
    assert_eq!(discount_of_two(&first, mug).await, "2.00");
    until_discount(&second, mug, "2.00").await;

    first
        .admin()
        .update_promotion(
            &admin,
            ten_off.id,
            PromotionDraft {
                kind: "percent".into(),
                value: Some(Decimal::new(25, 0)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    until_discount(&second, mug, "5.00").await;

    first
        .admin()
        .delete_promotion(&admin, ten_off.id)
        .await
        .unwrap();
    until_discount(&second, mug, "0.00").await;

    // A promotion for the first order only: its use, counted by the first process's order,
    // ends it for the second process's next cart at once (a limited promotion is never
    // priced from a kept copy).
    first
        .admin()
        .create_promotion(
            &admin,
            PromotionDraft {
                kind: "fixed".into(),
                value: Some(Decimal::new(300, 2)),
                usage_limit: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    until_discount(&second, mug, "3.00").await;
    let order = first
        .orders()
        .create(
            &Caller::Anonymous,
            DirectOrder {
                items: vec![ItemRequest {
                    product_id: mug,
                    variant_id: None,
                    quantity: 1,
                }],
                shipping_address: Some(Address {
                    line1: Some("1 Main St".into()),
                    city: Some("Austin".into()),
                    region: Some("TX".into()),
                    postal_code: Some("78701".into()),
                    country: "US".into(),
                    ..Default::default()
                }),
                email: Some("first@example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(order.totals.discount.amount().to_string(), "3.00");
    assert_eq!(discount_of_two(&second, mug).await, "0.00");

    drop((first, second, first_store, second_store));
    drop(database);
}

/// A sale placed in one call keeps the catalog trigger quiet (migration 0017); the selling
/// process tells the others after its commit. Here it is dropped at once after the sale,
/// within the few milliseconds it gathers for: the other process still learns of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
async fn a_sale_reaches_the_other_process_even_when_the_seller_stops_at_once() {
    use commerce_core::outbox::ChangeRecord;
    use commerce_core::ports::{OrderStore, ProductStore};
    use commerce_core::testkit::fixtures::{new_order, order, product};

    let url = std::env::var("COMMERCE_TEST_DATABASE_URL").expect("COMMERCE_TEST_DATABASE_URL");
    let database = TemporaryDatabase::create(&url, 6).await.unwrap();
    let (_, watcher) = process(database.url()).await;
    let (_, seller) = process(database.url()).await;
    let lamp = product("Lamp", Decimal::TEN, 10);
    seller
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    // The insert's own notification (the trigger's) first, so that it is not the one seen.
    let generation = || async { watcher.catalog_generation().await.unwrap().unwrap() };
    let mut before = generation().await;
    let quiet = Instant::now();
    while quiet.elapsed() < Duration::from_millis(300) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = generation().await;
        assert!(now >= before);
        before = now;
    }
    seller
        .place_order(&new_order(order(None, &[(&lamp, None, 1)]), "guest"))
        .await
        .unwrap();
    drop(seller);
    let sold = Instant::now();
    while generation().await == before {
        assert!(
            sold.elapsed() < Duration::from_secs(5),
            "the other process never heard of the sale"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(
        watcher
            .product(lamp.id)
            .await
            .unwrap()
            .unwrap()
            .inventory_count,
        9
    );
}
