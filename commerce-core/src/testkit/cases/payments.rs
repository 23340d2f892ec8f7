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

/// Conformance case: Payments written at the same moment are each stored, and one that breaks
/// a rule (a provider reference already taken, an order that does not exist) is refused on its
/// own account: the others written with it are stored all the same. (A store may write
/// payments that arrive together in one statement; this is what holds whatever it does.)
pub async fn payments_written_at_once_each_get_their_own_answer<S: Storage>(store: Arc<S>) {
    const PAYMENTS: usize = 40;
    let lamp = product("Lamp", Decimal::ONE, 5);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let o = order(None, &[(&lamp, None, 1)]);
    store.place_order(&new_order(o.clone(), "a")).await.unwrap();
    let mut first = Payment::new(PaymentId::random(), o.id, "stripe", o.totals.total, now());
    first.provider_reference = Some("pi_taken".into());
    store.insert_payment(&first).await.unwrap();

    let mut payments = Vec::new();
    for i in 0..PAYMENTS {
        // Payments 3, 13, 23 and 33 reuse the reference taken; 8, 18, 28 and 38 name no order.
        let (order_id, reference) = match i % 10 {
            3 => (o.id, "pi_taken".to_string()),
            8 => (OrderId::random(), format!("pi_{i}")),
            _ => (o.id, format!("pi_{i}")),
        };
        let mut p = Payment::new(
            PaymentId::random(),
            order_id,
            "stripe",
            o.totals.total,
            now(),
        );
        p.provider_reference = Some(reference);
        payments.push(p);
    }
    let writes: Vec<_> = payments
        .iter()
        .cloned()
        .map(|p| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_payment(&p).await })
        })
        .collect();
    let mut stored = vec![first];
    for (i, (write, p)) in writes.into_iter().zip(&payments).enumerate() {
        let answer = write.await.expect("the write ran");
        match i % 10 {
            3 => assert_eq!(
                answer,
                Err(StorageError::Duplicate(UniqueRule::PaymentReference)),
                "payment {i} reuses a reference"
            ),
            8 => assert_eq!(
                answer,
                Err(StorageError::MissingReference(Reference::Order)),
                "payment {i} names no order"
            ),
            _ => {
                assert_eq!(answer, Ok(()), "payment {i}");
                stored.push(p.clone());
            }
        }
    }
    let mut of_order = store.payments_of_order(o.id).await.unwrap();
    let by_id = |a: &Payment, b: &Payment| a.id.as_uuid().cmp(&b.id.as_uuid());
    of_order.sort_by(by_id);
    stored.sort_by(by_id);
    assert_eq!(of_order.len(), PAYMENTS - PAYMENTS / 5 + 1);
    assert_eq!(of_order, stored);
    for p in &stored {
        assert_eq!(store.payment(p.id).await.unwrap().as_ref(), Some(p));
    }
}
