//! Cases on payments and providers' events.

use super::*;

/// Conformance case: Provider events are recorded once.
pub async fn provider_events_are_recorded_once<S: Storage>(store: Arc<S>) {
    let lamp = product("Lamp", Decimal::ONE, 5);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let o = order(None, &[(&lamp, None, 1)]);
    store.place_order(&new_order(o.clone(), "a")).await.unwrap();
    let mut p = Payment::new(PaymentId::random(), o.id, "stripe", o.totals.total, now());
    p.provider_reference = Some("pi_123".into());
    store.insert_payment(&p).await.unwrap();
    p.apply_status(PaymentStatus::Succeeded, now());
    store
        .update_payment(&p, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(
        store
            .payment_by_reference("stripe", "pi_123")
            .await
            .unwrap(),
        Some(p.clone())
    );
    assert_eq!(
        store.payment_by_reference("test", "pi_123").await.unwrap(),
        None
    );
    assert_eq!(
        store.payments_of_order(o.id).await.unwrap(),
        vec![p.clone()]
    );
    assert!(store
        .record_provider_event("stripe", "evt_1")
        .await
        .unwrap());
    assert!(!store
        .record_provider_event("stripe", "evt_1")
        .await
        .unwrap());
    assert!(store.record_provider_event("test", "evt_1").await.unwrap());
    // An event whose applying failed is forgotten, so the provider's retry applies it.
    store
        .forget_provider_event("stripe", "evt_1")
        .await
        .unwrap();
    assert!(store
        .record_provider_event("stripe", "evt_1")
        .await
        .unwrap());
    assert!(!store.record_provider_event("test", "evt_1").await.unwrap());
    let orphan = Payment::new(
        PaymentId::random(),
        OrderId::random(),
        "test",
        o.totals.total,
        now(),
    );
    assert!(matches!(
        store.insert_payment(&orphan).await,
        Err(StorageError::MissingReference(Reference::Order))
    ));
}
