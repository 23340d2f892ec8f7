//! Cases on the shop's setup: promotion codes, settings, tax rates and shipping.

use super::*;

/// Conformance case: Promotion codes are unique and pricing gets the right ones.
pub async fn promotion_codes_are_unique_and_pricing_gets_the_right_ones<S: Storage>(store: Arc<S>) {
    let auto = promotion(None, None, None);
    let save = promotion(Some("SAVE"), Some(10), None);
    let other = promotion(Some("OTHER"), None, None);
    for p in [&auto, &save, &other] {
        store
            .insert_promotion(p, &ChangeRecord::none())
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .insert_promotion(&promotion(Some("SAVE"), None, None), &ChangeRecord::none())
            .await,
        Err(StorageError::Duplicate(UniqueRule::PromotionCode))
    );
    let listed = walk(|page| {
        let store = store.clone();
        async move { store.list_promotions(&page).await }
    })
    .await;
    assert_eq!(listed.len(), 3, "every promotion once, page by page");
    let mut for_pricing: Vec<_> = store
        .promotions_for_pricing(&["SAVE".into()])
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    for_pricing.sort();
    let mut expected = vec![auto.id, save.id];
    expected.sort();
    assert_eq!(for_pricing, expected);
    let mut changed = save.clone();
    changed.active = false;
    store
        .update_promotion(&changed, &ChangeRecord::none())
        .await
        .unwrap();
    assert!(!store.promotion(save.id).await.unwrap().unwrap().active);
    assert_eq!(
        store
            .list_promotions(&PageRequest::first(2))
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    store
        .delete_promotion(other.id, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(store.promotion(other.id).await.unwrap(), None);
    // Amounts come back as the money they were, currency included.
    let yen = PromotionDraft {
        code: Some("YEN500".into()),
        kind: "fixed".into(),
        value: Some(Decimal::from(500)),
        min_subtotal: Some(Decimal::from(3000)),
        ..Default::default()
    }
    .validate(PromotionId::random(), Currency::JPY, now())
    .expect("a valid promotion");
    store
        .insert_promotion(&yen, &ChangeRecord::none())
        .await
        .unwrap();
    let read = store.promotion(yen.id).await.unwrap().unwrap();
    assert_eq!(read, yen);
    assert_eq!(
        read.min_subtotal,
        Some(Money::new(Decimal::from(3000), Currency::JPY).unwrap())
    );
    assert!(store
        .customer_uses("nobody", &[save.id])
        .await
        .unwrap()
        .iter()
        .all(|(_, n)| *n == 0));
}

/// Conformance case: Settings tax rates and shipping round trip.
pub async fn settings_tax_rates_and_shipping_round_trip<S: Storage>(store: Arc<S>) {
    assert_eq!(store.store_settings().await.unwrap(), None);
    let mut settings = StoreSettings {
        name: "Shop".into(),
        currency: Currency::EUR,
        ..Default::default()
    };
    settings.tax.prices_include_tax = true;
    store
        .save_store_settings(&settings, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(store.store_settings().await.unwrap(), Some(settings));
    let now = now();
    let us = TaxRate::new(TaxRateId::random(), "US", None, Decimal::new(5, 2), now).unwrap();
    let tx = TaxRate::new(
        TaxRateId::random(),
        "US",
        Some("TX"),
        Decimal::new(825, 4),
        now,
    )
    .unwrap();
    store
        .save_tax_rate(&us, &ChangeRecord::none())
        .await
        .unwrap();
    store
        .save_tax_rate(&tx, &ChangeRecord::none())
        .await
        .unwrap();
    let dup = TaxRate::new(TaxRateId::random(), "US", Some("TX"), Decimal::ONE, now).unwrap();
    assert!(matches!(
        store.save_tax_rate(&dup, &ChangeRecord::none()).await,
        Err(StorageError::Duplicate(UniqueRule::TaxRateRegion))
    ));
    let rates = store.tax_rates().await.unwrap();
    assert_eq!(
        crate::tax::rate_for(&rates, "US", Some("TX")),
        Decimal::new(825, 4)
    );
    store
        .delete_tax_rate(us.id, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(store.tax_rates().await.unwrap().len(), 1);
    let ship = ShippingMethod::new(
        ShippingMethodId::random(),
        "Express",
        Decimal::new(1500, 2),
        Some(Decimal::new(10000, 2)),
        true,
        Currency::EUR,
        now,
    )
    .unwrap();
    store
        .save_shipping_method(&ship, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(store.shipping_methods().await.unwrap(), vec![ship.clone()]);
    store
        .delete_shipping_method(ship.id, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(
        store
            .delete_shipping_method(ship.id, &ChangeRecord::none())
            .await,
        Err(StorageError::NotFound)
    );
}
