//! Cases on products, categories, reviews and the catalog generation.

use super::*;

/// Conformance case: Products round trip with versions.
pub async fn products_round_trip_with_versions<S: Storage>(store: Arc<S>) {
    let p = product("Lamp", Decimal::new(3000, 2), 4);
    store
        .insert_product(&p, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(
        ProductStore::product(&*store, p.id).await.unwrap(),
        Some(p.clone())
    );
    let mut changed = p.clone();
    changed.name = "Desk lamp".into();
    let stored = store
        .update_product(&changed, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(stored.version, p.version + 1);
    assert_eq!(
        ProductStore::product(&*store, p.id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "Desk lamp"
    );
    // Writing from the old version again is refused, and nothing changes.
    let mut stale = p.clone();
    stale.name = "Stale".into();
    assert_eq!(
        store.update_product(&stale, &ChangeRecord::none()).await,
        Err(StorageError::VersionConflict)
    );
    assert_eq!(
        ProductStore::product(&*store, p.id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "Desk lamp"
    );
    let mut twin = product("Twin", Decimal::ONE, 1);
    twin.slug = p.slug.clone();
    assert_eq!(
        store.insert_product(&twin, &ChangeRecord::none()).await,
        Err(StorageError::Duplicate(UniqueRule::ProductSlug))
    );
    let v = product_with_variants("Shirt", &[2, 3]);
    store
        .insert_product(&v, &ChangeRecord::none())
        .await
        .unwrap();
    let fetched = store
        .products(&[p.id, v.id, ProductId::random()])
        .await
        .unwrap();
    assert_eq!(fetched.len(), 2);
    let shirt = fetched.iter().find(|x| x.id == v.id).unwrap();
    assert_eq!(shirt.variants, v.variants);
    assert_eq!(shirt.inventory_count, 5);
    // A price keeps its currency and that currency's scale, the variants' prices too.
    let mut dinar = product_with_variants("Dinar lamp", &[1, 1]);
    dinar.price = Money::new(Decimal::new(12_500, 3), Currency::KWD).unwrap();
    dinar.variants[1].price = Some(Money::new(Decimal::new(13, 0), Currency::KWD).unwrap());
    store
        .insert_product(&dinar, &ChangeRecord::none())
        .await
        .unwrap();
    let fetched = ProductStore::product(&*store, dinar.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fetched, dinar);
    assert_eq!(fetched.price.to_string(), "12.500 KWD");
    assert_eq!(
        fetched
            .unit_price(Some(fetched.variants[1].id))
            .map(|m| m.to_string()),
        Some("13.000 KWD".to_string())
    );
    store
        .delete_product(p.id, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(ProductStore::product(&*store, p.id).await.unwrap(), None);
    assert_eq!(
        store.delete_product(p.id, &ChangeRecord::none()).await,
        Err(StorageError::NotFound)
    );
}

/// Every rule a write can break is named exactly (not just "a duplicate"), and nothing of
/// the refused write is stored.
pub async fn each_unique_rule_and_reference_is_reported_exactly<S: Storage>(store: Arc<S>) {
    let duplicate = |rule| Err(StorageError::Duplicate(rule));
    let missing = |reference| Err(StorageError::MissingReference(reference));

    let lamp = product("Lamp", Decimal::ONE, 5);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let mut same_id = product("Other lamp", Decimal::ONE, 5);
    same_id.id = lamp.id;
    assert_eq!(
        store.insert_product(&same_id, &ChangeRecord::none()).await,
        duplicate(UniqueRule::RecordId)
    );

    let mut shirt = product_with_variants("Shirt", &[1, 1]);
    shirt.variants[1].sku = shirt.variants[0].sku.to_lowercase();
    assert_eq!(
        store.insert_product(&shirt, &ChangeRecord::none()).await,
        duplicate(UniqueRule::VariantSku)
    );
    assert_eq!(
        ProductStore::product(&*store, shirt.id).await.unwrap(),
        None,
        "a refused product leaves nothing behind"
    );

    let mut filed = product("Filed", Decimal::ONE, 1);
    filed.category_id = Some(CategoryId::random());
    assert_eq!(
        store.insert_product(&filed, &ChangeRecord::none()).await,
        missing(Reference::Category)
    );
    let mut moved = ProductStore::product(&*store, lamp.id)
        .await
        .unwrap()
        .unwrap();
    moved.category_id = Some(CategoryId::random());
    assert_eq!(
        store
            .update_product(&moved, &ChangeRecord::none())
            .await
            .map(|_| ()),
        missing(Reference::Category)
    );

    let orphan_category = Category {
        id: CategoryId::random(),
        name: "Orphans".into(),
        slug: "orphans".into(),
        parent_id: Some(CategoryId::random()),
        created_at: now(),
        updated_at: now(),
    };
    assert_eq!(
        store
            .insert_category(&orphan_category, &ChangeRecord::none())
            .await,
        missing(Reference::ParentCategory)
    );

    let ada = user("ada@example.com");
    store
        .insert_user(&ada, &ChangeRecord::none())
        .await
        .unwrap();
    let stray_review = review(ProductId::random(), ada.id, 4);
    assert_eq!(
        store
            .insert_review(&stray_review, &ChangeRecord::none())
            .await,
        missing(Reference::Product)
    );
    let stray_address = SavedAddress {
        id: AddressId::random(),
        user_id: UserId::random(),
        label: None,
        address: address(),
        is_default: false,
        created_at: now(),
    };
    assert_eq!(
        store.save_address(&stray_address).await,
        missing(Reference::User)
    );

    let guest = |token: &str| {
        Cart::new(
            CartId::random(),
            None,
            Some(token.into()),
            Currency::USD,
            now(),
        )
    };
    store.insert_cart(&guest("same-token")).await.unwrap();
    assert_eq!(
        store.insert_cart(&guest("same-token")).await,
        duplicate(UniqueRule::GuestCartToken)
    );

    let o = order(None, &[(&lamp, None, 1)]);
    store.place_order(&new_order(o.clone(), "a")).await.unwrap();
    let paid = |reference: &str| {
        let mut p = Payment::new(PaymentId::random(), o.id, "stripe", o.totals.total, now());
        p.provider_reference = Some(reference.into());
        p
    };
    store.insert_payment(&paid("pi_1")).await.unwrap();
    assert_eq!(
        store.insert_payment(&paid("pi_1")).await,
        duplicate(UniqueRule::PaymentReference)
    );
    let mut second = paid("pi_2");
    store.insert_payment(&second).await.unwrap();
    second.provider_reference = Some("pi_1".into());
    assert_eq!(
        store.update_payment(&second, &ChangeRecord::none()).await,
        duplicate(UniqueRule::PaymentReference)
    );

    let unknown_promotion = NewOrder {
        promotion_ids: vec![PromotionId::random()],
        ..new_order(order(None, &[(&lamp, None, 1)]), "b")
    };
    assert_eq!(
        store.place_order(&unknown_promotion).await,
        Err(PlaceOrderError::Storage(StorageError::MissingReference(
            Reference::Promotion
        )))
    );
    assert_eq!(
        stock_of(&*store, lamp.id).await,
        4,
        "the refused order took no stock"
    );
}

/// Conformance case: Product listings filter sort and page.
pub async fn product_listings_filter_sort_and_page<S: Storage>(store: Arc<S>) {
    let now = now();
    let root = Category {
        id: CategoryId::random(),
        name: "Home".into(),
        slug: "home".into(),
        parent_id: None,
        created_at: now,
        updated_at: now,
    };
    store
        .insert_category(&root, &ChangeRecord::none())
        .await
        .unwrap();
    let vendor = UserId::random();
    let mut ids = Vec::new();
    for i in 0..25u32 {
        let mut p = product(
            &format!("Item {i:02}"),
            Decimal::new(1000 + i64::from(i) * 100, 2),
            i % 3,
        );
        p.created_at = now - Duration::minutes(i64::from(i));
        if i % 2 == 0 {
            p.category_id = Some(root.id);
        }
        if i % 5 == 0 {
            p.vendor_id = vendor;
        }
        if i == 24 {
            p.status = ProductStatus::Draft;
        }
        if i == 7 {
            p.name = "Copper kettle".into();
            p.description = "A kettle of copper.".into();
        }
        if i == 8 {
            p.description = "Pairs well with a kettle.".into();
        }
        ids.push(p.id);
        store
            .insert_product(&p, &ChangeRecord::none())
            .await
            .unwrap();
    }
    let active = vec![ProductStatus::Active];
    let base = ProductQuery {
        statuses: active.clone(),
        ..Default::default()
    };
    // Newest first, 10 a page: three pages, every active product exactly once.
    let mut seen = Vec::new();
    let mut page = PageRequest::first(10);
    loop {
        let result = store
            .list_products(&ProductQuery {
                page: page.clone(),
                ..base.clone()
            })
            .await
            .unwrap();
        assert!(result.items.len() <= 10);
        seen.extend(result.items.iter().map(|p| p.id));
        match result.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ids[..24].to_vec(),
        "newest first, no repeats, no gaps"
    );
    let q = |f: ProductQuery| {
        let store = store.clone();
        async move { store.list_products(&f).await.unwrap().items }
    };
    let in_category = q(ProductQuery {
        category_ids: Some(vec![root.id]),
        page: PageRequest::first(100),
        ..base.clone()
    })
    .await;
    assert_eq!(in_category.len(), 12);
    let priced = q(ProductQuery {
        min_price: Some(Decimal::new(1500, 2)),
        max_price: Some(Decimal::new(1700, 2)),
        ..base.clone()
    })
    .await;
    assert_eq!(priced.iter().map(|p| p.price).collect::<Vec<_>>().len(), 3);
    let in_stock = q(ProductQuery {
        in_stock: true,
        page: PageRequest::first(100),
        ..base.clone()
    })
    .await;
    assert!(in_stock.iter().all(|p| p.inventory_count > 0));
    assert_eq!(in_stock.len(), 16);
    let by_vendor = q(ProductQuery {
        vendor_id: Some(vendor),
        ..base.clone()
    })
    .await;
    assert_eq!(by_vendor.len(), 5);
    let cheapest = q(ProductQuery {
        sort: ProductSort::PriceAsc,
        page: PageRequest::first(3),
        ..base.clone()
    })
    .await;
    assert_eq!(
        cheapest
            .iter()
            .map(|p| p.price.amount())
            .collect::<Vec<_>>(),
        vec![
            Decimal::new(1000, 2),
            Decimal::new(1100, 2),
            Decimal::new(1200, 2)
        ]
    );
    let dearest = q(ProductQuery {
        sort: ProductSort::PriceDesc,
        page: PageRequest::first(1),
        ..base.clone()
    })
    .await;
    assert_eq!(
        dearest[0].price.amount(),
        Decimal::new(3300, 2),
        "the draft (34.00) is not listed"
    );
    let by_name = q(ProductQuery {
        sort: ProductSort::Name,
        page: PageRequest::first(1),
        ..base.clone()
    })
    .await;
    assert_eq!(by_name[0].name, "Copper kettle");
    let found = q(ProductQuery {
        text: Some("kettle".into()),
        sort: ProductSort::Relevance,
        ..base.clone()
    })
    .await;
    assert_eq!(
        found.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![ids[7], ids[8]],
        "a name match ranks first"
    );
    let any_status = q(ProductQuery {
        page: PageRequest::first(100),
        ..Default::default()
    })
    .await;
    assert_eq!(any_status.len(), 25);
}

/// Conformance case: Deleting a category moves its children up.
pub async fn deleting_a_category_moves_its_children_up<S: Storage>(store: Arc<S>) {
    let now = now();
    let cat = |name: &str, parent| Category {
        id: CategoryId::random(),
        name: name.into(),
        slug: slugify(name),
        parent_id: parent,
        created_at: now,
        updated_at: now,
    };
    let a = cat("Clothing", None);
    let b = cat("Shirts", Some(a.id));
    let c = cat("Linen shirts", Some(b.id));
    for x in [&a, &b, &c] {
        store
            .insert_category(x, &ChangeRecord::none())
            .await
            .unwrap();
    }
    assert!(matches!(
        store
            .insert_category(&cat("Clothing", None), &ChangeRecord::none())
            .await,
        Err(StorageError::Duplicate(UniqueRule::CategorySlug))
    ));
    let mut p = product("Tee", Decimal::ONE, 1);
    p.category_id = Some(b.id);
    store
        .insert_product(&p, &ChangeRecord::none())
        .await
        .unwrap();
    store
        .delete_category(b.id, &ChangeRecord::none())
        .await
        .unwrap();
    let all = store.categories().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        all.iter().find(|x| x.id == c.id).unwrap().parent_id,
        Some(a.id)
    );
    assert_eq!(
        ProductStore::product(&*store, p.id)
            .await
            .unwrap()
            .unwrap()
            .category_id,
        None
    );
    assert_eq!(
        store.delete_category(b.id, &ChangeRecord::none()).await,
        Err(StorageError::NotFound)
    );
}

/// Conformance case: Low stock lists active products at or below their threshold.
pub async fn low_stock_lists_active_products_at_or_below_their_threshold<S: Storage>(
    store: Arc<S>,
) {
    // The default threshold is 5: "at" counts as low.
    let empty = product("Empty", Decimal::ONE, 0);
    let at = product("At threshold", Decimal::ONE, 5);
    let above = product("Above", Decimal::ONE, 6);
    let mut archived = product("Archived", Decimal::ONE, 1);
    archived.status = ProductStatus::Archived;
    for p in [&above, &at, &archived, &empty] {
        store
            .insert_product(p, &ChangeRecord::none())
            .await
            .unwrap();
    }
    let low: Vec<ProductId> = store
        .low_stock(10)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(
        low,
        vec![empty.id, at.id],
        "lowest first, active only, threshold included"
    );
    assert_eq!(store.low_stock(1).await.unwrap().len(), 1);

    // Sold by variant: low when a variant is at or below its own threshold (else the
    // product's), whatever their sum.
    let mut shirt = product_with_variants("Shirt", &[12, 9]);
    shirt.variants[1].low_stock_threshold = Some(9);
    let mut socks = product_with_variants("Socks", &[12, 9]);
    socks.variants[1].low_stock_threshold = Some(2);
    let mut hats = product_with_variants("Hats", &[40, 5]);
    hats.low_stock_threshold = 5;
    for p in [&shirt, &socks, &hats] {
        store
            .insert_product(p, &ChangeRecord::none())
            .await
            .unwrap();
    }
    let low: Vec<ProductId> = store
        .low_stock(10)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert!(low.contains(&shirt.id) && low.contains(&hats.id), "{low:?}");
    assert!(!low.contains(&socks.id));
    for listed in store.low_stock(10).await.unwrap() {
        assert!(listed.is_low_on_stock(), "{}", listed.name);
    }
}

/// Whatever is kept under the catalog generation (encoded listings) is only as right as
/// this: every change a catalog read can show must move it, and reads must not.
pub async fn the_catalog_generation_moves_with_every_catalog_change<S: Storage>(store: Arc<S>) {
    let Some(mut seen) = store.catalog_generation().await.unwrap() else {
        // A store that cannot tell must say so every time.
        assert_eq!(store.catalog_generation().await.unwrap(), None);
        return;
    };
    let mut moved = |now: Option<u64>, what: &str| {
        let now = now.expect("a store that told once tells every time");
        assert_ne!(now, seen, "{what} must move the catalog generation");
        seen = now;
    };
    let lamp = product("Lamp", Decimal::ONE, 5);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    moved(store.catalog_generation().await.unwrap(), "a new product");
    let mut renamed = lamp.clone();
    renamed.name = "Desk lamp".into();
    let lamp = store
        .update_product(&renamed, &ChangeRecord::none())
        .await
        .unwrap();
    moved(store.catalog_generation().await.unwrap(), "a product edit");

    // Reads leave it alone.
    let still = store.catalog_generation().await.unwrap();
    ProductStore::product(&*store, lamp.id).await.unwrap();
    store
        .list_products(&ProductQuery {
            page: PageRequest::default(),
            ..Default::default()
        })
        .await
        .unwrap();
    store.categories().await.unwrap();
    assert_eq!(store.catalog_generation().await.unwrap(), still);

    let placed = order(None, &[(&lamp, None, 2)]);
    store
        .place_order(&new_order(placed.clone(), "a"))
        .await
        .unwrap();
    moved(
        store.catalog_generation().await.unwrap(),
        "stock reserved by an order",
    );
    let mut cancelled = placed;
    cancelled.transition(OrderStatus::Cancelled, now()).unwrap();
    store
        .update_order(&cancelled, StockMovement::Release.into())
        .await
        .unwrap();
    moved(
        store.catalog_generation().await.unwrap(),
        "stock given back",
    );

    let ada = user("ada@example.com");
    store
        .insert_user(&ada, &ChangeRecord::none())
        .await
        .unwrap();
    let review = review(lamp.id, ada.id, 4);
    store
        .insert_review(&review, &ChangeRecord::none())
        .await
        .unwrap();
    moved(store.catalog_generation().await.unwrap(), "a new rating");
    let mut rejected = review;
    rejected.status = ReviewStatus::Rejected;
    store
        .update_review(&rejected, &ChangeRecord::none())
        .await
        .unwrap();
    moved(
        store.catalog_generation().await.unwrap(),
        "a rating withdrawn",
    );

    let at = now();
    let mut lights = Category {
        id: CategoryId::random(),
        name: "Lights".into(),
        slug: "lights".into(),
        parent_id: None,
        created_at: at,
        updated_at: at,
    };
    store
        .insert_category(&lights, &ChangeRecord::none())
        .await
        .unwrap();
    moved(store.catalog_generation().await.unwrap(), "a new category");
    lights.name = "Lighting".into();
    store
        .update_category(&lights, &ChangeRecord::none())
        .await
        .unwrap();
    moved(
        store.catalog_generation().await.unwrap(),
        "a renamed category",
    );
    store
        .delete_category(lights.id, &ChangeRecord::none())
        .await
        .unwrap();
    moved(
        store.catalog_generation().await.unwrap(),
        "a deleted category",
    );
    store
        .delete_product(lamp.id, &ChangeRecord::none())
        .await
        .unwrap();
    moved(
        store.catalog_generation().await.unwrap(),
        "a deleted product",
    );
}

/// Conformance case: Reviews keep the rating current.
pub async fn reviews_keep_the_rating_current<S: Storage>(store: Arc<S>) {
    let p = product("Kettle", Decimal::ONE, 5);
    store
        .insert_product(&p, &ChangeRecord::none())
        .await
        .unwrap();
    let (ada, bob) = (user("ada@example.com"), user("bob@example.com"));
    store
        .insert_user(&ada, &ChangeRecord::none())
        .await
        .unwrap();
    store
        .insert_user(&bob, &ChangeRecord::none())
        .await
        .unwrap();
    let review = |u: &User, rating| review(p.id, u.id, rating);
    let first = review(&ada, 5);
    store
        .insert_review(&first, &ChangeRecord::none())
        .await
        .unwrap();
    store
        .insert_review(&review(&bob, 2), &ChangeRecord::none())
        .await
        .unwrap();
    let pid = p.id;
    let both = walk(|page| {
        let store = store.clone();
        async move { store.reviews(pid, &page).await }
    })
    .await;
    assert_eq!(both.len(), 2, "every approved review once, page by page");
    assert!(
        matches!(
            store
                .insert_review(&review(&ada, 1), &ChangeRecord::none())
                .await,
            Err(StorageError::Duplicate(UniqueRule::OneReviewPerCustomer))
        ),
        "one review per customer"
    );
    let rating = ProductStore::product(&*store, p.id)
        .await
        .unwrap()
        .unwrap()
        .rating;
    assert_eq!((rating.average, rating.count), (Decimal::new(35, 1), 2));
    let mut hidden = first.clone();
    hidden.status = ReviewStatus::Rejected;
    store
        .update_review(&hidden, &ChangeRecord::none())
        .await
        .unwrap();
    let rating = ProductStore::product(&*store, p.id)
        .await
        .unwrap()
        .unwrap()
        .rating;
    assert_eq!((rating.average, rating.count), (Decimal::TWO, 1));
    assert_eq!(
        store
            .reviews(p.id, &PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert!(store.has_reviewed(p.id, ada.id).await.unwrap());
    // The staff's list: every product's, newest first, by status or not.
    let all = walk(|page| {
        let store = store.clone();
        async move { store.all_reviews(None, &page).await }
    })
    .await;
    assert_eq!(all.len(), 2, "every review once, page by page");
    let rejected = store
        .all_reviews(Some(ReviewStatus::Rejected), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        rejected.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [first.id]
    );
    let approved = store
        .all_reviews(Some(ReviewStatus::Approved), &PageRequest::default())
        .await
        .unwrap();
    assert!(approved
        .items
        .iter()
        .all(|r| r.status == ReviewStatus::Approved));
    assert_eq!(approved.items.len(), 1);
    assert!(store
        .all_reviews(Some(ReviewStatus::Pending), &PageRequest::default())
        .await
        .unwrap()
        .items
        .is_empty());
}
