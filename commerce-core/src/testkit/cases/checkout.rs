//! Cases on placing orders: all or nothing, every line kept, never overselling under concurrency.

use super::*;

/// Conformance case: Placing an order reserves stock counts usage and empties the cart.
pub async fn placing_an_order_reserves_stock_counts_usage_and_empties_the_cart<S: Storage>(
    store: Arc<S>,
) {
    let user = user("buyer@example.com");
    store
        .insert_user(&user, &ChangeRecord::none())
        .await
        .unwrap();
    let lamp = product("Lamp", Decimal::new(3000, 2), 10);
    let shirt = product_with_variants("Shirt", &[4, 6]);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    store
        .insert_product(&shirt, &ChangeRecord::none())
        .await
        .unwrap();
    let promo = promotion(Some("SAVE"), Some(100), Some(5));
    store
        .insert_promotion(&promo, &ChangeRecord::none())
        .await
        .unwrap();
    let mut cart = Cart::new(CartId::random(), Some(user.id), None, Currency::USD, now());
    store.insert_cart(&cart).await.unwrap();
    cart.add_item(CartItemId::random(), lamp.id, None, 3, 10, now())
        .unwrap();
    let cart = store.update_cart(&cart).await.unwrap();
    let large = shirt.variants[1].id;
    let order = order(Some(user.id), &[(&lamp, None, 3), (&shirt, Some(large), 2)]);
    let new = NewOrder {
        order: order.clone(),
        promotion_ids: vec![promo.id],
        customer_key: user.id.to_string(),
        cart: Some((cart.id, cart.version)),
        record: ChangeRecord::none(),
    };
    let levels = store.place_order(&new).await.unwrap();
    assert_eq!(levels.len(), 2);
    assert!(levels.contains(&StockLevel {
        product_id: lamp.id,
        variant_id: None,
        available: 7,
        threshold: lamp.low_stock_threshold
    }));
    assert_eq!(stock_of(&*store, lamp.id).await, 7);
    let stored_shirt = ProductStore::product(&*store, shirt.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored_shirt
            .variants
            .iter()
            .map(|v| v.inventory_count)
            .collect::<Vec<_>>(),
        vec![4, 4]
    );
    assert_eq!(stored_shirt.inventory_count, 8);
    assert_eq!(
        store.promotion(promo.id).await.unwrap().unwrap().used_count,
        1
    );
    assert_eq!(
        store
            .customer_uses(&user.id.to_string(), &[promo.id])
            .await
            .unwrap(),
        vec![(promo.id, 1)]
    );
    let emptied = CartStore::cart(&*store, cart.id).await.unwrap().unwrap();
    assert!(emptied.items.is_empty());
    assert!(emptied.version > cart.version);
    assert_eq!(
        OrderStore::order(&*store, order.id).await.unwrap(),
        Some(order.clone())
    );
    // An unpaid order does not count as bought (its buyer may not review yet); paid does.
    assert!(!store.has_bought(user.id, lamp.id).await.unwrap());
    let mut paid = order.clone();
    paid.transition(OrderStatus::Paid, Utc::now()).unwrap();
    let paid = store
        .update_order(&paid, StockMovement::None.into())
        .await
        .unwrap();
    assert!(store.has_bought(user.id, lamp.id).await.unwrap());
    assert!(!store
        .has_bought(user.id, ProductId::random())
        .await
        .unwrap());
    let mut refunded = paid.clone();
    refunded
        .transition(OrderStatus::Refunded, Utc::now())
        .unwrap();
    store
        .update_order(&refunded, StockMovement::Release.into())
        .await
        .unwrap();
    assert!(
        !store.has_bought(user.id, lamp.id).await.unwrap(),
        "a refunded order does not count"
    );
    let clash = new_order(
        Order {
            id: OrderId::random(),
            ..order
        },
        "x",
    );
    assert!(
        matches!(
            store.place_order(&clash).await,
            Err(PlaceOrderError::Storage(StorageError::Duplicate(
                UniqueRule::OrderNumber
            )))
        ),
        "order numbers are unique"
    );
}

/// Conformance case: Variants sell only by name and from their own stock.
pub async fn variants_sell_only_by_name_and_from_their_own_stock<S: Storage>(store: Arc<S>) {
    let shirt = product_with_variants("Shirt", &[2, 5]);
    let lamp = product("Lamp", Decimal::ONE, 5);
    store
        .insert_product(&shirt, &ChangeRecord::none())
        .await
        .unwrap();
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let (small, large) = (shirt.variants[0].id, shirt.variants[1].id);
    let place = |units: &[(&Product, Option<VariantId>, u32)]| {
        let new = new_order(order(None, units), "a");
        let store = store.clone();
        async move { store.place_order(&new).await }
    };
    assert_eq!(
        place(&[(&shirt, None, 1)]).await.unwrap_err(),
        PlaceOrderError::Unavailable(shirt.id),
        "a product sold by variant is not sold without one"
    );
    assert_eq!(
        place(&[(&lamp, Some(small), 1)]).await.unwrap_err(),
        PlaceOrderError::Unavailable(lamp.id),
        "nor a product without variants with one"
    );
    assert_eq!(
        place(&[(&shirt, Some(VariantId::random()), 1)])
            .await
            .unwrap_err(),
        PlaceOrderError::Unavailable(shirt.id),
        "nor a variant it does not have"
    );
    assert_eq!(
        place(&[(&shirt, Some(small), 3)]).await.unwrap_err(),
        PlaceOrderError::OutOfStock {
            product_id: shirt.id,
            variant_id: Some(small),
            available: 2
        }
    );
    let levels = place(&[(&shirt, Some(small), 2), (&shirt, Some(large), 1)])
        .await
        .unwrap();
    assert!(levels.contains(&StockLevel {
        product_id: shirt.id,
        variant_id: Some(small),
        available: 0,
        threshold: shirt.low_stock_threshold
    }));
    let stored = ProductStore::product(&*store, shirt.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored
            .variants
            .iter()
            .map(|v| v.inventory_count)
            .collect::<Vec<_>>(),
        vec![0, 4]
    );
    assert_eq!(
        stored.inventory_count, 4,
        "the product counts its variants' sum"
    );
    assert_eq!(
        stock_of(&*store, lamp.id).await,
        5,
        "refused orders took nothing"
    );
}

/// Conformance case: An order of many lines keeps every line.
pub async fn an_order_of_many_lines_keeps_every_line<S: Storage>(store: Arc<S>) {
    let buyer = user("many@example.com");
    store
        .insert_user(&buyer, &ChangeRecord::none())
        .await
        .unwrap();
    let mut products = Vec::new();
    for i in 0..19 {
        let p = product(&format!("Item {i}"), Decimal::ONE, 10);
        store
            .insert_product(&p, &ChangeRecord::none())
            .await
            .unwrap();
        products.push(p);
    }
    let units: Vec<(&Product, Option<VariantId>, u32)> =
        products.iter().map(|p| (p, None, 2)).collect();
    let placed = order(Some(buyer.id), &units);
    let levels = store
        .place_order(&new_order(placed.clone(), "many"))
        .await
        .unwrap();
    assert_eq!(levels.len(), 19);
    assert_eq!(
        OrderStore::order(&*store, placed.id).await.unwrap(),
        Some(placed)
    );
    for p in &products {
        assert_eq!(stock_of(&*store, p.id).await, 8, "{}", p.name);
    }
    // Refused for its last line (8 left, 9 wanted): no line's units are taken, however
    // many products an adapter takes per statement.
    let mut units: Vec<(&Product, Option<VariantId>, u32)> =
        products.iter().map(|p| (p, None, 1)).collect();
    units[18].2 = 9;
    let err = store
        .place_order(&new_order(order(Some(buyer.id), &units), "many-2"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        PlaceOrderError::OutOfStock {
            product_id: products[18].id,
            variant_id: None,
            available: 8
        }
    );
    for p in &products {
        assert_eq!(stock_of(&*store, p.id).await, 8, "{} untouched", p.name);
    }
    // Two lines of one product take the sum of their units, guarded as one.
    let twice = [
        (&products[0], None, 5),
        (&products[1], None, 1),
        (&products[0], None, 4),
    ];
    let err = store
        .place_order(&new_order(order(Some(buyer.id), &twice), "many-3"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        PlaceOrderError::OutOfStock {
            product_id: products[0].id,
            variant_id: None,
            available: 8
        }
    );
    let twice = [
        (&products[0], None, 5),
        (&products[1], None, 1),
        (&products[0], None, 3),
    ];
    store
        .place_order(&new_order(order(Some(buyer.id), &twice), "many-4"))
        .await
        .unwrap();
    assert_eq!(stock_of(&*store, products[0].id).await, 0);
    assert_eq!(stock_of(&*store, products[1].id).await, 7);
}

/// Conformance case: Placing an order is all or nothing.
pub async fn placing_an_order_is_all_or_nothing<S: Storage>(store: Arc<S>) {
    let plenty = product("Plenty", Decimal::ONE, 100);
    let scarce = product("Scarce", Decimal::ONE, 1);
    let mut hidden = product("Hidden", Decimal::ONE, 5);
    hidden.status = ProductStatus::Archived;
    for p in [&plenty, &scarce, &hidden] {
        store
            .insert_product(p, &ChangeRecord::none())
            .await
            .unwrap();
    }
    let limited = promotion(Some("ONCE"), Some(1), None);
    let mine = promotion(Some("MINE"), None, Some(1));
    store
        .insert_promotion(&limited, &ChangeRecord::none())
        .await
        .unwrap();
    store
        .insert_promotion(&mine, &ChangeRecord::none())
        .await
        .unwrap();
    let err = store
        .place_order(&new_order(
            order(None, &[(&plenty, None, 5), (&scarce, None, 2)]),
            "a",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        PlaceOrderError::OutOfStock {
            product_id: scarce.id,
            variant_id: None,
            available: 1
        }
    );
    assert_eq!(
        stock_of(&*store, plenty.id).await,
        100,
        "the first line's units are not taken"
    );
    let err = store
        .place_order(&new_order(
            order(None, &[(&plenty, None, 1), (&hidden, None, 1)]),
            "a",
        ))
        .await
        .unwrap_err();
    assert_eq!(err, PlaceOrderError::Unavailable(hidden.id));
    // Usage limits are counted inside the transaction.
    let mut first = new_order(order(None, &[(&plenty, None, 1)]), "a");
    first.promotion_ids = vec![limited.id, mine.id];
    store.place_order(&first).await.unwrap();
    let mut second = new_order(order(None, &[(&plenty, None, 1)]), "b");
    second.promotion_ids = vec![limited.id];
    assert_eq!(
        store.place_order(&second).await.unwrap_err(),
        PlaceOrderError::UsageExhausted(limited.id)
    );
    let mut again = new_order(order(None, &[(&plenty, None, 1)]), "a");
    again.promotion_ids = vec![mine.id];
    assert_eq!(
        store.place_order(&again).await.unwrap_err(),
        PlaceOrderError::CustomerLimitReached(mine.id)
    );
    let mut other = new_order(order(None, &[(&plenty, None, 1)]), "b");
    other.promotion_ids = vec![mine.id];
    store.place_order(&other).await.unwrap();
    assert_eq!(
        stock_of(&*store, plenty.id).await,
        98,
        "only the two placed orders took stock"
    );
    assert_eq!(
        store
            .promotion(limited.id)
            .await
            .unwrap()
            .unwrap()
            .used_count,
        1
    );
    assert_eq!(
        store.promotion(mine.id).await.unwrap().unwrap().used_count,
        2
    );
    // A cart changed since it was priced refuses the whole order.
    let mut cart = Cart::new(
        CartId::random(),
        None,
        Some("t".into()),
        Currency::USD,
        now(),
    );
    store.insert_cart(&cart).await.unwrap();
    cart.add_item(CartItemId::random(), plenty.id, None, 1, 100, now())
        .unwrap();
    store.update_cart(&cart).await.unwrap();
    let mut stale = new_order(order(None, &[(&plenty, None, 1)]), "c");
    stale.cart = Some((cart.id, cart.version));
    assert_eq!(
        store.place_order(&stale).await.unwrap_err(),
        PlaceOrderError::CartChanged
    );
    assert_eq!(stock_of(&*store, plenty.id).await, 98);
    assert_eq!(
        OrderStore::order(&*store, stale.order.id).await.unwrap(),
        None
    );
}

/// Conformance case: Concurrent checkouts of the last units never oversell.
pub async fn concurrent_checkouts_of_the_last_units_never_oversell<S: Storage>(store: Arc<S>) {
    const UNITS: u32 = 5;
    const BUYERS: usize = 24;
    let last = product("Last units", Decimal::new(999, 2), UNITS);
    let shirt = product_with_variants("Last shirts", &[UNITS, 100]);
    store
        .insert_product(&last, &ChangeRecord::none())
        .await
        .unwrap();
    store
        .insert_product(&shirt, &ChangeRecord::none())
        .await
        .unwrap();
    let small = shirt.variants[0].id;
    let mut tasks = Vec::new();
    for i in 0..BUYERS {
        let store = store.clone();
        let (last, shirt) = (last.clone(), shirt.clone());
        tasks.push(tokio::spawn(async move {
            let units: Vec<(&Product, Option<VariantId>, u32)> = if i % 2 == 0 {
                vec![(&last, None, 1)]
            } else {
                vec![(&shirt, Some(small), 1)]
            };
            store
                .place_order(&new_order(order(None, &units), &format!("buyer-{i}")))
                .await
        }));
    }
    let mut sold = 0;
    for t in tasks {
        match t.await.expect("the task ran") {
            Ok(_) => sold += 1,
            Err(PlaceOrderError::OutOfStock { .. }) => {}
            Err(other) => panic!("unexpected failure: {other:?}"),
        }
    }
    assert_eq!(
        sold,
        2 * UNITS as usize,
        "exactly the units in stock were sold"
    );
    assert_eq!(stock_of(&*store, last.id).await, 0);
    let shirt = ProductStore::product(&*store, shirt.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shirt.variants[0].inventory_count, 0);
    assert_eq!(shirt.variants[1].inventory_count, 100);
}

/// Every buyer at once (on PostgreSQL, each on its own connection when the pool allows):
/// exactly the units in stock are sold, and the stock ends at zero, never below.
pub async fn fifty_buyers_of_the_last_ten_units_leave_exactly_ten_orders<S: Storage>(
    store: Arc<S>,
) {
    const UNITS: u32 = 10;
    const BUYERS: usize = 50;
    let last = product("Last ten", Decimal::new(2500, 2), UNITS);
    store
        .insert_product(&last, &ChangeRecord::none())
        .await
        .unwrap();
    let start = Arc::new(tokio::sync::Barrier::new(BUYERS));
    let tasks: Vec<_> = (0..BUYERS)
        .map(|i| {
            let (store, last, start) = (store.clone(), last.clone(), start.clone());
            tokio::spawn(async move {
                let new = new_order(order(None, &[(&last, None, 1)]), &format!("buyer-{i}"));
                start.wait().await;
                store.place_order(&new).await.map(|_| new.order.id)
            })
        })
        .collect();
    let mut placed = Vec::new();
    for t in tasks {
        match t.await.expect("the task ran") {
            Ok(id) => placed.push(id),
            Err(PlaceOrderError::OutOfStock { available, .. }) => {
                assert!(available < UNITS, "refused with {available} left")
            }
            Err(other) => panic!("a buyer got {other:?}, not a sale or out of stock"),
        }
    }
    assert_eq!(placed.len(), UNITS as usize, "exactly ten orders");
    let stored = ProductStore::product(&*store, last.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.inventory_count, stored.reserved), (0, UNITS));
    for id in placed {
        assert!(OrderStore::order(&*store, id).await.unwrap().is_some());
    }
}

/// Two products bought by many carts at once, half listing them one way round and half
/// the other: a store that locked rows in line order could deadlock; none may fail.
pub async fn checkouts_taking_two_products_in_opposite_orders_never_fail<S: Storage>(
    store: Arc<S>,
) {
    const ROUNDS: usize = 40;
    let lamp = product("Lamp", Decimal::ONE, 1_000);
    let shirt = product_with_variants("Shirt", &[1_000, 1_000]);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    store
        .insert_product(&shirt, &ChangeRecord::none())
        .await
        .unwrap();
    let large = shirt.variants[1].id;
    let tasks: Vec<_> = (0..ROUNDS)
        .map(|i| {
            let (store, lamp, shirt) = (store.clone(), lamp.clone(), shirt.clone());
            tokio::spawn(async move {
                let units: Vec<(&Product, Option<VariantId>, u32)> = if i % 2 == 0 {
                    vec![(&lamp, None, 2), (&shirt, Some(large), 3)]
                } else {
                    vec![(&shirt, Some(large), 3), (&lamp, None, 2)]
                };
                store
                    .place_order(&new_order(order(None, &units), &format!("cart-{i}")))
                    .await
            })
        })
        .collect();
    for t in tasks {
        if let Err(e) = t.await.expect("the task ran") {
            panic!("a checkout failed: {e:?}");
        }
    }
    assert_eq!(stock_of(&*store, lamp.id).await, 1_000 - 2 * ROUNDS as u32);
    let shirt = ProductStore::product(&*store, shirt.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        shirt
            .variants
            .iter()
            .map(|v| v.inventory_count)
            .collect::<Vec<_>>(),
        vec![1_000, 1_000 - 3 * ROUNDS as u32]
    );
    assert_eq!(shirt.reserved, 3 * ROUNDS as u32);
}
