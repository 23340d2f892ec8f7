//! Cases on carts and orders after checkout: cancelling, versions, listings, expiry of unpaid orders and old guest carts.

use super::*;

/// Conformance case: Carts round trip with versions.
pub async fn carts_round_trip_with_versions<S: Storage>(store: Arc<S>) {
    let user = user("cart@example.com");
    store
        .insert_user(&user, &ChangeRecord::none())
        .await
        .unwrap();
    let mut cart = Cart::new(
        CartId::random(),
        None,
        Some("token-hash".into()),
        Currency::USD,
        now(),
    );
    store.insert_cart(&cart).await.unwrap();
    assert_eq!(
        store
            .cart_by_token("token-hash")
            .await
            .unwrap()
            .map(|c| c.id),
        Some(cart.id)
    );
    let p = product("Mug", Decimal::ONE, 9);
    store
        .insert_product(&p, &ChangeRecord::none())
        .await
        .unwrap();
    cart.add_item(CartItemId::random(), p.id, None, 2, 9, now())
        .unwrap();
    cart.add_code("WELCOME", now()).unwrap();
    cart.shipping_address = Some(address());
    let stored = store.update_cart(&cart).await.unwrap();
    assert_eq!(stored.version, 2);
    let read = CartStore::cart(&*store, cart.id).await.unwrap().unwrap();
    assert_eq!(read.items, cart.items);
    assert_eq!(read.discount_codes, vec!["WELCOME"]);
    assert_eq!(read.shipping_address, Some(address()));
    assert_eq!(
        store.update_cart(&cart).await,
        Err(StorageError::VersionConflict)
    );
    let mine = Cart::new(CartId::random(), Some(user.id), None, Currency::USD, now());
    store.insert_cart(&mine).await.unwrap();
    assert_eq!(
        store.cart_of_customer(user.id).await.unwrap().map(|c| c.id),
        Some(mine.id)
    );
    let second = Cart::new(CartId::random(), Some(user.id), None, Currency::USD, now());
    assert!(
        matches!(
            store.insert_cart(&second).await,
            Err(StorageError::Duplicate(UniqueRule::OneCartPerCustomer))
        ),
        "one cart per customer"
    );
    store.delete_cart(cart.id).await.unwrap();
    assert_eq!(store.cart_by_token("token-hash").await.unwrap(), None);
}

/// Conformance case: A cart comes with its products: every product its lines name and those
/// asked for besides, each once and as it is now (after a sale), whoever owns the cart; and
/// the products asked for when there is no cart. A store that reads the cart alone
/// (`products: None`) is held to the cart only.
pub async fn a_cart_comes_with_its_products<S: Storage>(store: Arc<S>) {
    let mug = product("Mug", Decimal::ONE, 9);
    let lamp = product_with_variants("Lamp", &[3, 4]);
    let vase = product("Vase", Decimal::TEN, 2);
    for p in [&mug, &lamp, &vase] {
        store
            .insert_product(p, &ChangeRecord::none())
            .await
            .unwrap();
    }
    let user = user("with-products@example.com");
    store
        .insert_user(&user, &ChangeRecord::none())
        .await
        .unwrap();
    let mut guest = Cart::new(
        CartId::random(),
        None,
        Some("guest-hash".into()),
        Currency::USD,
        now(),
    );
    // Two lines of one product (its two variants) and one of another.
    for variant in &lamp.variants {
        guest
            .add_item(CartItemId::random(), lamp.id, Some(variant.id), 1, 3, now())
            .unwrap();
    }
    guest
        .add_item(CartItemId::random(), mug.id, None, 2, 9, now())
        .unwrap();
    store.insert_cart(&guest).await.unwrap();
    let guest = store.update_cart(&guest).await.unwrap();
    let mut mine = Cart::new(CartId::random(), Some(user.id), None, Currency::USD, now());
    mine.add_item(CartItemId::random(), vase.id, None, 1, 2, now())
        .unwrap();
    store.insert_cart(&mine).await.unwrap();
    // A sale after the carts were written: what comes back is the stock as it is now.
    store
        .place_order(&new_order(order(None, &[(&mug, None, 4)]), "a"))
        .await
        .unwrap();
    let sorted = |mut products: Vec<Product>| {
        products.sort_by_key(|p| p.id);
        products
    };
    let now_stored = |ids: Vec<ProductId>| {
        let store = store.clone();
        async move { sorted(store.products(&ids).await.unwrap()) }
    };

    let read = store
        .cart_with_products(
            &StoredCartOwner::Guest {
                token_hash: "guest-hash".into(),
            },
            &[vase.id, mug.id, ProductId::random()],
        )
        .await
        .unwrap();
    assert_eq!(read.cart, Some(guest.clone()), "the guest's cart as stored");
    if let Some(products) = read.products {
        let products = sorted(products);
        assert_eq!(products, now_stored(vec![mug.id, lamp.id, vase.id]).await);
        let mug_now = products.iter().find(|p| p.id == mug.id).unwrap();
        assert_eq!(mug_now.inventory_count, 5, "stock after the sale");
        assert_eq!(
            products
                .iter()
                .find(|p| p.id == lamp.id)
                .unwrap()
                .variants
                .len(),
            2
        );
    }

    let read = store
        .cart_with_products(&StoredCartOwner::Customer(user.id), &[])
        .await
        .unwrap();
    assert_eq!(
        read.cart.map(|c| (c.id, c.items)),
        Some((mine.id, mine.items.clone()))
    );
    if let Some(products) = read.products {
        assert_eq!(sorted(products), now_stored(vec![vase.id]).await);
    }

    // No cart: the products asked for, if the store reads them.
    let read = store
        .cart_with_products(
            &StoredCartOwner::Guest {
                token_hash: "nobody".into(),
            },
            &[lamp.id],
        )
        .await
        .unwrap();
    assert_eq!(read.cart, None);
    if let Some(products) = read.products {
        assert_eq!(sorted(products), now_stored(vec![lamp.id]).await);
    }
    let read = store
        .cart_with_products(&StoredCartOwner::Customer(UserId::random()), &[])
        .await
        .unwrap();
    assert_eq!(read.cart, None);
    assert_eq!(read.products.unwrap_or_default(), Vec::<Product>::new());

    // An emptied cart comes back empty, with no product of its old lines.
    let mut emptied = guest.clone();
    emptied.items.clear();
    store.update_cart(&emptied).await.unwrap();
    let read = store
        .cart_with_products(
            &StoredCartOwner::Guest {
                token_hash: "guest-hash".into(),
            },
            &[],
        )
        .await
        .unwrap();
    assert_eq!(read.cart.map(|c| c.items.len()), Some(0));
    assert_eq!(read.products.unwrap_or_default(), Vec::<Product>::new());
}

/// Conformance case: Cancelling gives stock back and versions are enforced.
pub async fn cancelling_gives_stock_back_and_versions_are_enforced<S: Storage>(store: Arc<S>) {
    let lamp = product("Lamp", Decimal::ONE, 5);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let placed = order(None, &[(&lamp, None, 3)]);
    store
        .place_order(&new_order(placed.clone(), "a"))
        .await
        .unwrap();
    let stock = |p: Product| p.stock(None).unwrap();
    let read = || {
        let store = store.clone();
        async move {
            ProductStore::product(&*store, lamp.id)
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(
        stock(read().await),
        Stock {
            available: 2,
            reserved: 3
        }
    );
    let mut cancelled = placed.clone();
    cancelled.transition(OrderStatus::Cancelled, now()).unwrap();
    let stored = store
        .update_order(&cancelled, StockMovement::Release.into())
        .await
        .unwrap();
    assert_eq!(stored.version, placed.version + 1);
    assert_eq!(
        stock(read().await),
        Stock {
            available: 5,
            reserved: 0
        }
    );
    // A write from the old version is refused and gives nothing back twice.
    assert_eq!(
        store
            .update_order(&cancelled, StockMovement::Release.into())
            .await,
        Err(StorageError::VersionConflict)
    );
    assert_eq!(
        stock(read().await),
        Stock {
            available: 5,
            reserved: 0
        }
    );
    let read_order = OrderStore::order(&*store, placed.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read_order.status, OrderStatus::Cancelled);
    assert_eq!(read_order.status_history.len(), 2);
    // Shipping commits: the reserved units leave, what is available stays.
    let shirt = product_with_variants("Shirt", &[4, 4]);
    store
        .insert_product(&shirt, &ChangeRecord::none())
        .await
        .unwrap();
    let small = shirt.variants[0].id;
    let mut shipped = order(None, &[(&shirt, Some(small), 2)]);
    store
        .place_order(&new_order(shipped.clone(), "b"))
        .await
        .unwrap();
    for status in [
        OrderStatus::Paid,
        OrderStatus::Processing,
        OrderStatus::Shipped,
    ] {
        shipped.transition(status, now()).unwrap();
    }
    let movement = StockMovement::Commit;
    store.update_order(&shipped, movement.into()).await.unwrap();
    let shirt = ProductStore::product(&*store, shirt.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        shirt.stock(Some(small)),
        Some(Stock {
            available: 2,
            reserved: 0
        })
    );
    assert_eq!((shirt.inventory_count, shirt.reserved), (6, 0));
}

/// Conformance case: A sale moves the product version so stale writes fail.
pub async fn a_sale_moves_the_product_version_so_stale_writes_fail<S: Storage>(store: Arc<S>) {
    let lamp = product("Lamp", Decimal::ONE, 5);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    // An admin reads the product, a customer buys two, then the admin's edit arrives.
    let read_before_sale = ProductStore::product(&*store, lamp.id)
        .await
        .unwrap()
        .unwrap();
    let placed = order(None, &[(&lamp, None, 2)]);
    store
        .place_order(&new_order(placed.clone(), "a"))
        .await
        .unwrap();
    let mut stale = read_before_sale.clone();
    stale.name = "Renamed".into();
    assert_eq!(
        store.update_product(&stale, &ChangeRecord::none()).await,
        Err(StorageError::VersionConflict)
    );
    let after_sale = ProductStore::product(&*store, lamp.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after_sale.inventory_count, after_sale.name.as_str()),
        (3, "Lamp"),
        "the sale is not undone"
    );
    assert!(after_sale.version > read_before_sale.version);
    // The same for giving stock back.
    let mut cancelled = placed;
    cancelled.transition(OrderStatus::Cancelled, now()).unwrap();
    store
        .update_order(&cancelled, StockMovement::Release.into())
        .await
        .unwrap();
    let mut stale = after_sale.clone();
    stale.name = "Renamed".into();
    assert_eq!(
        store.update_product(&stale, &ChangeRecord::none()).await,
        Err(StorageError::VersionConflict)
    );
    assert_eq!(stock_of(&*store, lamp.id).await, 5);
}

/// Conformance case: Orders list newest first and report sales.
pub async fn orders_list_newest_first_and_report_sales<S: Storage>(store: Arc<S>) {
    let user = user("lister@example.com");
    store
        .insert_user(&user, &ChangeRecord::none())
        .await
        .unwrap();
    let lamp = product("Lamp", Decimal::new(1050, 2), 100);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let base = now() - Duration::days(2);
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut o = order(
            if i == 6 { None } else { Some(user.id) },
            &[(&lamp, None, 1)],
        );
        o.created_at = base + Duration::hours(i);
        if i < 3 {
            o.transition(OrderStatus::Paid, o.created_at).unwrap();
        }
        ids.push(o.id);
        store.place_order(&new_order(o, "k")).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut filter = OrderFilter {
        user_id: Some(user.id),
        page: PageRequest::first(4),
        ..Default::default()
    };
    loop {
        let page = store.list_orders(&filter).await.unwrap();
        seen.extend(page.items.iter().map(|o| o.id));
        match page.next_cursor {
            Some(c) => filter.page.cursor = Some(c),
            None => break,
        }
    }
    let mut expected: Vec<_> = ids[..6].to_vec();
    expected.reverse();
    assert_eq!(seen, expected, "the user's orders, newest first, paged");
    let paid = store
        .list_orders(&OrderFilter {
            status: Some(OrderStatus::Paid),
            page: PageRequest::first(50),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(paid.items.len(), 3);
    // One order by its number, with the other filters or without.
    let third = store.order(ids[2]).await.unwrap().unwrap();
    let by_number = |number: &str, status: Option<OrderStatus>| OrderFilter {
        number: Some(number.to_string()),
        status,
        page: PageRequest::first(50),
        ..Default::default()
    };
    let found = store
        .list_orders(&by_number(&third.number, None))
        .await
        .unwrap();
    assert_eq!(
        found.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        [third.id]
    );
    let other_status = store
        .list_orders(&by_number(&third.number, Some(OrderStatus::Pending)))
        .await
        .unwrap();
    assert!(other_status.items.is_empty());
    let nobody = store
        .list_orders(&by_number("CM-NO-SUCH-ORDER", None))
        .await
        .unwrap();
    assert!(nobody.items.is_empty() && nobody.next_cursor.is_none());
    let counts = store.count_by_status().await.unwrap();
    assert!(
        counts.contains(&(OrderStatus::Paid, 3)) && counts.contains(&(OrderStatus::Pending, 4))
    );
    let day = base.date_naive();
    let sales = store
        .daily_sales(day - Duration::days(1), day + Duration::days(1))
        .await
        .unwrap();
    let total: u32 = sales.iter().map(|d| d.orders).sum();
    assert_eq!(total, 3, "only paid orders are sales");
    let revenue = sales.iter().fold(Money::zero(Currency::USD), |acc, d| {
        acc.checked_add(&d.revenue).unwrap()
    });
    assert_eq!(revenue.amount(), Decimal::new(3150, 2));
    assert!(store
        .daily_sales(NaiveDate::MIN, day - Duration::days(5))
        .await
        .unwrap()
        .is_empty());
}

/// An order placed with a code, for the cases of its life after placement: placed (its
/// units reserved, the code's use counted for the buyer), as stored.
async fn placed_with_code<S: Storage>(
    store: &Arc<S>,
    promo: &Promotion,
    units: &[(&Product, Option<VariantId>, u32)],
    placed_at: chrono::DateTime<Utc>,
) -> Order {
    let buyer = user(&format!("buyer-{}@example.com", UserId::random()));
    store
        .insert_user(&buyer, &ChangeRecord::none())
        .await
        .unwrap();
    let mut placed = order(Some(buyer.id), units);
    placed.created_at = placed_at;
    placed
        .applied_promotions
        .push(crate::pricing::AppliedPromotion {
            id: promo.id,
            code: promo.code.clone(),
            class: crate::promotion::PromotionClass::Order,
            amount: Money::zero(Currency::USD),
            lines: vec![],
            shipping: Money::zero(Currency::USD),
        });
    store
        .place_order(&NewOrder {
            order: placed.clone(),
            promotion_ids: vec![promo.id],
            customer_key: placed.customer_key(),
            cart: None,
            record: ChangeRecord::none(),
        })
        .await
        .unwrap();
    placed
}

/// What the sweeper stores for an order left unpaid: cancelled, for want of payment.
fn expired_unpaid(order: &Order) -> Order {
    let mut expired = order.clone();
    expired
        .transition_because(
            OrderStatus::Cancelled,
            now(),
            Some(crate::order::StatusReason::PaymentTimeout),
        )
        .unwrap();
    expired
}

/// What the sweeper's cancellation does beside the order.
fn expiry() -> OrderEffects {
    OrderEffects {
        stock: StockMovement::Release,
        give_back_promotion_uses: true,
        record: ChangeRecord::none(),
    }
}

async fn uses_of<S: Storage>(store: &S, promo: &Promotion, order: &Order) -> (u32, u32) {
    let total = store.promotion(promo.id).await.unwrap().unwrap().used_count;
    let mine = store
        .customer_uses(&order.customer_key(), &[promo.id])
        .await
        .unwrap()
        .first()
        .map_or(0, |(_, n)| *n);
    (total, mine)
}

/// Conformance case: Unpaid orders expire giving back stock and discount uses.
pub async fn unpaid_orders_expire_giving_back_stock_and_discount_uses<S: Storage>(store: Arc<S>) {
    let lamp = product("Lamp", Decimal::TEN, 5);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let promo = promotion(Some("ONCE"), Some(10), Some(1));
    store
        .insert_promotion(&promo, &ChangeRecord::none())
        .await
        .unwrap();
    let t0 = now() - Duration::hours(2);
    let old = placed_with_code(&store, &promo, &[(&lamp, None, 2)], t0).await;
    let older =
        placed_with_code(&store, &promo, &[(&lamp, None, 1)], t0 - Duration::hours(1)).await;
    let recent = placed_with_code(&store, &promo, &[(&lamp, None, 1)], now()).await;
    assert_eq!(stock_of(&*store, lamp.id).await, 1);
    assert_eq!(uses_of(&*store, &promo, &old).await, (3, 1));

    // Pending orders placed before the cut, oldest first, at most as many as asked.
    let cut = now() - Duration::minutes(30);
    let unpaid = store.unpaid_orders(cut, 10).await.unwrap();
    let ids: Vec<OrderId> = unpaid.iter().map(|o| o.id).collect();
    assert_eq!(ids, vec![older.id, old.id]);
    assert_eq!(unpaid[1], old, "read whole, at its version");
    assert_eq!(store.unpaid_orders(cut, 1).await.unwrap().len(), 1);

    // Cancelled for want of payment: its units and its code's uses come back, in total
    // and for its buyer; the recent order keeps its own.
    let expired = expired_unpaid(&old);
    let stored = store.update_order(&expired, expiry()).await.unwrap();
    assert!(stored.expired_unpaid());
    assert_eq!(stock_of(&*store, lamp.id).await, 3);
    assert_eq!(uses_of(&*store, &promo, &old).await, (2, 0));
    assert_eq!(uses_of(&*store, &promo, &recent).await.1, 1);
    // Only once: a second process's write from the same version is refused and gives
    // nothing back twice.
    assert_eq!(
        store.update_order(&expired, expiry()).await,
        Err(StorageError::VersionConflict)
    );
    assert_eq!(stock_of(&*store, lamp.id).await, 3);
    assert_eq!(uses_of(&*store, &promo, &old).await, (2, 0));
    let unpaid = store.unpaid_orders(cut, 10).await.unwrap();
    assert_eq!(
        unpaid.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![older.id]
    );
}

/// Conformance case: A promotion's uses add up whatever its limits were: counted while it had
/// no limit, given back, and counted under a limit set later, which holds the uses before it.
pub async fn a_promotion_s_uses_add_up_whatever_its_limits_were<S: Storage>(store: Arc<S>) {
    let lamp = product("Lamp", Decimal::TEN, 50);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let mut promo = promotion(Some("OPEN"), None, None);
    store
        .insert_promotion(&promo, &ChangeRecord::none())
        .await
        .unwrap();
    let mut placed = Vec::new();
    for _ in 0..3 {
        placed.push(placed_with_code(&store, &promo, &[(&lamp, None, 1)], now()).await);
    }
    assert_eq!(uses_of(&*store, &promo, &placed[0]).await, (3, 1));
    store
        .update_order(&expired_unpaid(&placed[0]), expiry())
        .await
        .unwrap();
    assert_eq!(uses_of(&*store, &promo, &placed[0]).await, (2, 0));

    // A limit of three, set now, holds the two uses before it: one more, then no more.
    promo.usage_limit = Some(3);
    store
        .update_promotion(&promo, &ChangeRecord::none())
        .await
        .unwrap();
    placed.push(placed_with_code(&store, &promo, &[(&lamp, None, 1)], now()).await);
    assert_eq!(uses_of(&*store, &promo, &placed[3]).await, (3, 1));
    let buyer = user("late@example.com");
    store
        .insert_user(&buyer, &ChangeRecord::none())
        .await
        .unwrap();
    let mut refused = new_order(order(Some(buyer.id), &[(&lamp, None, 1)]), "late");
    refused.promotion_ids = vec![promo.id];
    assert_eq!(
        store.place_order(&refused).await.unwrap_err(),
        PlaceOrderError::UsageExhausted(promo.id)
    );
    assert_eq!(
        stock_of(&*store, lamp.id).await,
        47,
        "the refused order took nothing"
    );
    // A use given back makes room again, whichever way it was counted.
    store
        .update_order(&expired_unpaid(&placed[1]), expiry())
        .await
        .unwrap();
    assert_eq!(uses_of(&*store, &promo, &placed[1]).await, (2, 0));
    store.place_order(&refused).await.unwrap();
    assert_eq!(
        store.promotion(promo.id).await.unwrap().unwrap().used_count,
        3
    );

    // The limit lifted: counted on from three.
    promo.usage_limit = None;
    store
        .update_promotion(&promo, &ChangeRecord::none())
        .await
        .unwrap();
    placed.push(placed_with_code(&store, &promo, &[(&lamp, None, 1)], now()).await);
    assert_eq!(uses_of(&*store, &promo, &placed[4]).await, (4, 1));
    let listed = store
        .list_promotions(&PageRequest::first(50))
        .await
        .unwrap();
    assert_eq!(
        listed
            .items
            .iter()
            .find(|p| p.id == promo.id)
            .map(|p| p.used_count),
        Some(4),
        "listed with the same count"
    );
}

/// Conformance case: An expired order paid late comes back only while its stock is there.
pub async fn an_expired_order_paid_late_comes_back_only_while_its_stock_is_there<S: Storage>(
    store: Arc<S>,
) {
    let lamp = product("Lamp", Decimal::TEN, 3);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let promo = promotion(Some("LATE"), Some(2), Some(1));
    store
        .insert_promotion(&promo, &ChangeRecord::none())
        .await
        .unwrap();
    let placed = placed_with_code(&store, &promo, &[(&lamp, None, 2)], now()).await;
    let expired = store
        .update_order(&expired_unpaid(&placed), expiry())
        .await
        .unwrap();
    assert_eq!(stock_of(&*store, lamp.id).await, 3);

    // Paid late while the units are there: reserved again, the code counted again (the
    // customer paid the discounted price), the order paid.
    let mut back = expired.clone();
    back.reinstate_paid(now()).unwrap();
    back.payment_status = PaymentStatus::Succeeded;
    let stored = store
        .reinstate_order(&back, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(stored.status, OrderStatus::Paid);
    assert_eq!(stored.version, back.version + 1);
    assert_eq!(stock_of(&*store, lamp.id).await, 1);
    assert_eq!(uses_of(&*store, &promo, &placed).await, (1, 1));
    assert_eq!(
        OrderStore::order(&*store, placed.id).await.unwrap(),
        Some(stored.clone())
    );
    // From a stale version: refused, nothing reserved twice.
    assert_eq!(
        store.reinstate_order(&back, &ChangeRecord::none()).await,
        Err(PlaceOrderError::Storage(StorageError::VersionConflict))
    );
    assert_eq!(stock_of(&*store, lamp.id).await, 1);

    // Another expires and its units are sold meanwhile: coming back is refused for the
    // line short, and nothing is written.
    let second = placed_with_code(&store, &promo, &[(&lamp, None, 1)], now()).await;
    let second = store
        .update_order(&expired_unpaid(&second), expiry())
        .await
        .unwrap();
    let rival = order(None, &[(&lamp, None, 1)]);
    store.place_order(&new_order(rival, "rival")).await.unwrap();
    assert_eq!(stock_of(&*store, lamp.id).await, 0);
    let mut back = second.clone();
    back.reinstate_paid(now()).unwrap();
    match store.reinstate_order(&back, &ChangeRecord::none()).await {
        Err(PlaceOrderError::OutOfStock {
            product_id,
            available,
            ..
        }) => assert_eq!((product_id, available), (lamp.id, 0)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        OrderStore::order(&*store, second.id).await.unwrap(),
        Some(second.clone()),
        "still cancelled, at its version"
    );
    assert_eq!(uses_of(&*store, &promo, &placed).await.0, 1);
}

/// Conformance case: Guest carts untouched for long are purged.
pub async fn guest_carts_untouched_for_long_are_purged<S: Storage>(store: Arc<S>) {
    let user = user("keeps@example.com");
    store
        .insert_user(&user, &ChangeRecord::none())
        .await
        .unwrap();
    let long_ago = now() - Duration::days(40);
    let old_guest = Cart::new(
        CartId::random(),
        None,
        Some("old".into()),
        Currency::USD,
        long_ago,
    );
    let new_guest = Cart::new(
        CartId::random(),
        None,
        Some("new".into()),
        Currency::USD,
        now(),
    );
    let old_customer = Cart::new(
        CartId::random(),
        Some(user.id),
        None,
        Currency::USD,
        long_ago,
    );
    for cart in [&old_guest, &new_guest, &old_customer] {
        store.insert_cart(cart).await.unwrap();
    }
    let purged = store
        .purge_guest_carts(now() - Duration::days(30))
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert_eq!(CartStore::cart(&*store, old_guest.id).await.unwrap(), None);
    assert!(CartStore::cart(&*store, new_guest.id)
        .await
        .unwrap()
        .is_some());
    assert!(
        CartStore::cart(&*store, old_customer.id)
            .await
            .unwrap()
            .is_some(),
        "a customer's cart is kept however old"
    );
    // Around the cut-off, to the second, whatever a store narrows by first (PostgreSQL: the
    // day): both carts are of the cut-off's day.
    let cut_off = (now() - Duration::days(30))
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    let just_before = Cart::new(
        CartId::random(),
        None,
        Some("just-before".into()),
        Currency::USD,
        cut_off - Duration::seconds(1),
    );
    let just_after = Cart::new(
        CartId::random(),
        None,
        Some("just-after".into()),
        Currency::USD,
        cut_off + Duration::seconds(1),
    );
    for cart in [&just_before, &just_after] {
        store.insert_cart(cart).await.unwrap();
    }
    assert_eq!(store.purge_guest_carts(cut_off).await.unwrap(), 1);
    assert_eq!(
        CartStore::cart(&*store, just_before.id).await.unwrap(),
        None
    );
    assert!(
        CartStore::cart(&*store, just_after.id)
            .await
            .unwrap()
            .is_some(),
        "a cart touched after the cut-off, the same day, is kept"
    );
}

/// Conformance case: Updates of one cart made at once from the same version (two requests
/// that read it together): exactly one is saved, every other is refused as a version conflict,
/// and the cart is the one saved. Updates of other carts at the same moment are all saved.
pub async fn concurrent_updates_of_one_cart_save_one_and_refuse_the_rest<S: Storage>(
    store: Arc<S>,
) {
    const WRITERS: u32 = 12;
    let p = product("Mug", Decimal::ONE, 1000);
    store
        .insert_product(&p, &ChangeRecord::none())
        .await
        .unwrap();
    let shared = Cart::new(
        CartId::random(),
        None,
        Some("shared".into()),
        Currency::USD,
        now(),
    );
    store.insert_cart(&shared).await.unwrap();
    let mut own = Vec::new();
    for i in 0..WRITERS {
        let cart = Cart::new(
            CartId::random(),
            None,
            Some(format!("own-{i}")),
            Currency::USD,
            now(),
        );
        store.insert_cart(&cart).await.unwrap();
        own.push(cart);
    }
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let store = store.clone();
        let (mut shared, mut own) = (shared.clone(), own[i as usize].clone());
        tasks.push(tokio::spawn(async move {
            shared
                .add_item(CartItemId::random(), p.id, None, i + 1, 1000, now())
                .unwrap();
            own.add_item(CartItemId::random(), p.id, None, i + 1, 1000, now())
                .unwrap();
            let (shared, own) = tokio::join!(store.update_cart(&shared), store.update_cart(&own));
            (shared, own.map(|c| c.version))
        }));
    }
    let mut saved = Vec::new();
    for t in tasks {
        let (shared, own) = t.await.expect("the task ran");
        assert_eq!(own, Ok(2), "another cart's update is saved");
        match shared {
            Ok(cart) => saved.push(cart),
            Err(StorageError::VersionConflict) => {}
            Err(other) => panic!("unexpected failure: {other:?}"),
        }
    }
    assert_eq!(
        saved.len(),
        1,
        "exactly one update of the shared cart is saved"
    );
    let stored = store.cart(shared.id).await.unwrap().unwrap();
    assert_eq!(stored, saved[0]);
    assert_eq!(stored.version, 2);
}
