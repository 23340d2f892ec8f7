//! Cases on the outbox and webhooks: events written with their change (never without it),
//! dispatched to the endpoints that hear them in commit order, leased to one relay at a time,
//! and attempts recorded.

use super::*;
use crate::webhook::{
    AfterAttempt, DeliveryAttempt, DeliveryAttempts, DeliveryState, DueDelivery, EventFilter,
    EventType, SealedSecrets, WebhookEndpoint,
};

fn endpoint(url: &str, events: EventFilter) -> WebhookEndpoint {
    let at = now();
    WebhookEndpoint {
        id: WebhookEndpointId::random(),
        url: url.into(),
        events,
        description: None,
        active: true,
        failing_since: None,
        created_at: at,
        updated_at: at,
    }
}

fn sealed(byte: u8) -> SealedSecrets {
    SealedSecrets {
        current: vec![byte; 60],
        previous: None,
    }
}

fn event(kind: EventType, n: u32) -> OutboxEvent {
    OutboxEvent::new(
        EventId::random(),
        kind,
        now(),
        serde_json::json!({ "n": n, "text": "ünïcode ✓" }),
    )
}

fn telling(events: &[OutboxEvent]) -> ChangeRecord {
    ChangeRecord::telling(events.to_vec())
}

/// Every delivery due for the endpoint, taken with a lease and given back.
async fn due_events<S: Storage>(store: &S, id: WebhookEndpointId) -> Vec<OutboxEvent> {
    let relay = uuid::Uuid::new_v4();
    let t = now();
    let leased = store
        .lease_webhook_endpoints(relay, t, t + Duration::minutes(5), 100, 1_000)
        .await
        .unwrap();
    let mut events = Vec::new();
    for l in leased {
        if l.endpoint.id == id {
            events.extend(l.deliveries.into_iter().map(|d| d.event));
        }
        store
            .release_webhook_endpoint(l.endpoint.id, relay)
            .await
            .unwrap();
    }
    events
}

/// Conformance case: Writes tell the outbox with their change and never without.
pub async fn writes_tell_the_outbox_with_their_change_and_never_without<S: Storage>(store: Arc<S>) {
    let all = endpoint("https://erp.example.com/hooks", EventFilter::All);
    store
        .insert_webhook_endpoint(&all, &sealed(1), &ChangeRecord::none())
        .await
        .unwrap();
    let paid_only = endpoint(
        "https://warehouse.example.com/in",
        EventFilter::Only(vec![EventType::OrderPaid]),
    );
    store
        .insert_webhook_endpoint(&paid_only, &sealed(2), &ChangeRecord::none())
        .await
        .unwrap();
    let mut off = endpoint("https://off.example.com/", EventFilter::All);
    off.active = false;
    store
        .insert_webhook_endpoint(&off, &sealed(3), &ChangeRecord::none())
        .await
        .unwrap();

    let mut told = Vec::new();
    let mut tell = |kind: EventType| {
        let e = event(kind, told.len() as u32);
        told.push(e.clone());
        e
    };
    let lamp = product("Lamp", Decimal::TEN, 3);
    let created = tell(EventType::ProductCreated);
    store
        .insert_product(&lamp, &telling(&[created]))
        .await
        .unwrap();
    // A refused write tells nothing: a second product of the same slug.
    let mut twin = product("Lamp", Decimal::TEN, 3);
    twin.slug = lamp.slug.clone();
    assert!(store
        .insert_product(&twin, &telling(&[event(EventType::ProductCreated, 99)]))
        .await
        .is_err());
    let ada = user("ada@example.com");
    let welcome = tell(EventType::CustomerCreated);
    store.insert_user(&ada, &telling(&[welcome])).await.unwrap();
    assert!(store
        .insert_user(
            &user("ada@example.com"),
            &telling(&[event(EventType::CustomerCreated, 98)])
        )
        .await
        .is_err());
    // An order placed tells its creation; one refused for want of stock tells nothing.
    let placed = order(Some(ada.id), &[(&lamp, None, 2)]);
    let mut new = new_order(placed.clone(), &ada.id.to_string());
    new.record = telling(&[tell(EventType::OrderCreated)]);
    store.place_order(&new).await.unwrap();
    let mut greedy = new_order(order(Some(ada.id), &[(&lamp, None, 2)]), "someone");
    greedy.record = telling(&[event(EventType::OrderCreated, 97)]);
    assert!(store.place_order(&greedy).await.is_err());
    // A status change tells its events; a stale one nothing.
    let mut paid = placed.clone();
    paid.transition(OrderStatus::Paid, now()).unwrap();
    let moved = [
        tell(EventType::OrderStatusChanged),
        tell(EventType::OrderPaid),
    ];
    let stored = store
        .update_order(
            &paid,
            OrderEffects::new(StockMovement::None, telling(&moved)),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .update_order(
                &paid,
                OrderEffects::new(
                    StockMovement::None,
                    telling(&[event(EventType::OrderStatusChanged, 96)])
                )
            )
            .await,
        Err(StorageError::VersionConflict)
    );
    assert_eq!(stored.status, OrderStatus::Paid);
    let mut renamed = store.product(lamp.id).await.unwrap().unwrap();
    renamed.name = "Desk lamp".into();
    store
        .update_product(&renamed, &telling(&[tell(EventType::ProductUpdated)]))
        .await
        .unwrap();
    // A stale product write (the version moved) tells nothing.
    assert!(store
        .update_product(&renamed, &telling(&[event(EventType::ProductUpdated, 95)]))
        .await
        .is_err());
    let note = review(lamp.id, ada.id, 5);
    store
        .insert_review(&note, &telling(&[tell(EventType::ReviewCreated)]))
        .await
        .unwrap();
    let payment = Payment::new(
        PaymentId::random(),
        placed.id,
        "test",
        placed.totals.total,
        now(),
    );
    store.insert_payment(&payment).await.unwrap();
    store
        .update_payment(&payment, &telling(&[tell(EventType::PaymentFailed)]))
        .await
        .unwrap();
    let gone = product("Vase", Decimal::TEN, 1);
    store
        .insert_product(&gone, &ChangeRecord::none())
        .await
        .unwrap();
    store
        .delete_product(gone.id, &telling(&[tell(EventType::ProductDeleted)]))
        .await
        .unwrap();
    assert!(store
        .delete_product(gone.id, &telling(&[event(EventType::ProductDeleted, 94)]))
        .await
        .is_err());

    // Nothing is due before the dispatch.
    assert!(due_events(&*store, all.id).await.is_empty());
    let mut dispatched = 0;
    loop {
        let n = store.dispatch_events(now(), 3).await.unwrap();
        assert!(n <= 3);
        dispatched += n;
        if n == 0 {
            break;
        }
    }
    assert_eq!(dispatched as usize, told.len(), "every event told, once");
    assert_eq!(store.dispatch_events(now(), 100).await.unwrap(), 0);
    // The endpoint of everything gets every event, in commit order, as written.
    assert_eq!(due_events(&*store, all.id).await, told);
    let paid_events = due_events(&*store, paid_only.id).await;
    assert_eq!(paid_events.len(), 1);
    assert_eq!(paid_events[0].kind, EventType::OrderPaid);
    assert!(due_events(&*store, off.id).await.is_empty());
    let listed = store
        .webhook_deliveries(off.id, &PageRequest::first(10))
        .await
        .unwrap();
    assert!(listed.items.is_empty());
}

/// Conformance case: Deliveries are leased to one relay and keep their attempts.
pub async fn deliveries_are_leased_to_one_relay_and_keep_their_attempts<S: Storage>(store: Arc<S>) {
    let hook = endpoint("https://erp.example.com/hooks", EventFilter::All);
    store
        .insert_webhook_endpoint(&hook, &sealed(1), &ChangeRecord::none())
        .await
        .unwrap();
    let events: Vec<OutboxEvent> = (0..5)
        .map(|n| event(EventType::ProductCreated, n))
        .collect();
    for e in &events {
        let p = product(&format!("Thing {}", e.id), Decimal::ONE, 1);
        store
            .insert_product(&p, &telling(std::slice::from_ref(e)))
            .await
            .unwrap();
    }
    let t0 = now();
    assert_eq!(store.dispatch_events(t0, 100).await.unwrap(), 5);

    // One relay holds the endpoint; another finds nothing until it is given back.
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let until = t0 + Duration::minutes(5);
    let leased = store
        .lease_webhook_endpoints(a, t0, until, 10, 2)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(leased[0].secrets, sealed(1));
    let first_two: Vec<_> = leased[0]
        .deliveries
        .iter()
        .map(|d| d.event.clone())
        .collect();
    assert_eq!(first_two, events[..2].to_vec());
    assert!(leased[0].deliveries.iter().all(|d| d.attempts == 0));
    assert!(store
        .lease_webhook_endpoints(b, t0, until, 10, 2)
        .await
        .unwrap()
        .is_empty());
    // Releasing by another relay does nothing.
    store.release_webhook_endpoint(hook.id, b).await.unwrap();
    assert!(store
        .lease_webhook_endpoints(b, t0, until, 10, 2)
        .await
        .unwrap()
        .is_empty());
    // A lease that ran out is taken over.
    let later = until + Duration::seconds(1);
    let taken_over = store
        .lease_webhook_endpoints(b, later, later + Duration::minutes(5), 10, 2)
        .await
        .unwrap();
    assert_eq!(taken_over.len(), 1);
    store.release_webhook_endpoint(hook.id, b).await.unwrap();

    // The first succeeds, the second fails and waits.
    let first = &leased[0].deliveries[0];
    let second = &leased[0].deliveries[1];
    let t1 = t0 + Duration::seconds(1);
    let retry_at = t1 + Duration::seconds(5);
    store
        .record_delivery_attempts(&DeliveryAttempts {
            endpoint_id: hook.id,
            attempts: vec![
                DeliveryAttempt {
                    delivery_id: first.id,
                    at: t1,
                    status_code: Some(204),
                    error: None,
                    next: AfterAttempt::Succeeded,
                },
                DeliveryAttempt {
                    delivery_id: second.id,
                    at: t1,
                    status_code: Some(500),
                    error: Some("answered 500".into()),
                    next: AfterAttempt::RetryAt(retry_at),
                },
                // One the endpoint does not have is skipped.
                DeliveryAttempt {
                    delivery_id: WebhookDeliveryId::random(),
                    at: t1,
                    status_code: Some(204),
                    error: None,
                    next: AfterAttempt::Succeeded,
                },
            ],
            failing_since: Some(t1),
            disable_endpoint: false,
            relay: a,
            lease_until: t1 + Duration::minutes(5),
        })
        .await
        .unwrap();
    let stored = store.webhook_endpoint(hook.id).await.unwrap().unwrap();
    assert_eq!(stored.failing_since, Some(t1));
    // Now the third, fourth and fifth are due, not the second.
    let due: Vec<_> = store
        .lease_webhook_endpoints(a, t1, t1 + Duration::minutes(5), 10, 10)
        .await
        .unwrap()
        .remove(0)
        .deliveries;
    store.release_webhook_endpoint(hook.id, a).await.unwrap();
    assert_eq!(
        due.iter().map(|d| d.event.clone()).collect::<Vec<_>>(),
        events[2..].to_vec()
    );
    // Once its time comes, the second is due again first, with its attempt counted.
    let due: Vec<_> = store
        .lease_webhook_endpoints(a, retry_at, retry_at + Duration::minutes(5), 10, 10)
        .await
        .unwrap()
        .remove(0)
        .deliveries;
    store.release_webhook_endpoint(hook.id, a).await.unwrap();
    assert_eq!(due[0].event, events[1]);
    assert_eq!(due[0].attempts, 1);

    // The listing: newest first, paged, with each one's state.
    let page = store
        .webhook_deliveries(hook.id, &PageRequest::first(3))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
    let rest = store
        .webhook_deliveries(
            hook.id,
            &PageRequest {
                limit: 3,
                cursor: page.next_cursor.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 2);
    assert_eq!(rest.next_cursor, None);
    let listed: Vec<_> = page.items.iter().chain(&rest.items).collect();
    let ids: Vec<String> = listed.iter().map(|d| d.event_id.clone()).collect();
    let newest_first: Vec<String> = events.iter().rev().map(|e| e.webhook_id()).collect();
    assert_eq!(ids, newest_first);
    let succeeded = listed.iter().find(|d| d.id == first.id).unwrap();
    assert_eq!(succeeded.state, DeliveryState::Succeeded);
    assert_eq!(succeeded.attempts, 1);
    assert_eq!(succeeded.last_status_code, Some(204));
    assert_eq!(succeeded.next_attempt_at, None);
    assert_eq!(succeeded.event_type, EventType::ProductCreated);
    let waiting = listed.iter().find(|d| d.id == second.id).unwrap();
    assert_eq!(waiting.state, DeliveryState::Pending);
    assert_eq!(waiting.last_error.as_deref(), Some("answered 500"));
    assert_eq!(waiting.next_attempt_at, Some(retry_at));

    // A success clears the failing streak; a 410 fails the delivery and turns the endpoint off.
    let one = |delivery_id, status: u16, next, failing_since, disable_endpoint| DeliveryAttempts {
        endpoint_id: hook.id,
        attempts: vec![DeliveryAttempt {
            delivery_id,
            at: retry_at,
            status_code: Some(status),
            error: (status >= 300).then(|| format!("answered {status}")),
            next,
        }],
        failing_since,
        disable_endpoint,
        relay: a,
        lease_until: t1 + Duration::minutes(5),
    };
    store
        .record_delivery_attempts(&one(second.id, 200, AfterAttempt::Succeeded, None, false))
        .await
        .unwrap();
    assert_eq!(
        store
            .webhook_endpoint(hook.id)
            .await
            .unwrap()
            .unwrap()
            .failing_since,
        None
    );
    store
        .record_delivery_attempts(&one(
            due[1].id,
            410,
            AfterAttempt::Failed,
            Some(retry_at),
            true,
        ))
        .await
        .unwrap();
    let off = store.webhook_endpoint(hook.id).await.unwrap().unwrap();
    assert!(!off.active);
    assert!(store
        .lease_webhook_endpoints(a, retry_at, retry_at + Duration::minutes(5), 10, 10)
        .await
        .unwrap()
        .is_empty());
    // A retry by hand makes a failed delivery due again (once the endpoint is on).
    let mut on = off.clone();
    on.active = true;
    store
        .update_webhook_endpoint(&on, &ChangeRecord::none())
        .await
        .unwrap();
    store
        .retry_webhook_delivery(hook.id, due[1].id, retry_at)
        .await
        .unwrap();
    assert_eq!(
        store
            .retry_webhook_delivery(hook.id, WebhookDeliveryId::random(), retry_at)
            .await,
        Err(StorageError::NotFound)
    );
    let again = due_events_at(&*store, hook.id, retry_at).await;
    assert!(again.contains(&due[1].event.id));

    // An attempt recorded by the lease's holder renews the lease; one by another does not.
    let t2 = retry_at + Duration::seconds(1);
    let held = store
        .lease_webhook_endpoints(a, t2, t2 + Duration::seconds(30), 10, 10)
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    let attempt = |relay, lease_until| DeliveryAttempts {
        endpoint_id: hook.id,
        attempts: vec![DeliveryAttempt {
            delivery_id: due[1].id,
            at: t2,
            status_code: Some(500),
            error: Some("answered 500".into()),
            next: AfterAttempt::RetryAt(t2),
        }],
        failing_since: Some(t2),
        disable_endpoint: false,
        relay,
        lease_until,
    };
    store
        .record_delivery_attempts(&attempt(b, t2 + Duration::hours(1)))
        .await
        .unwrap();
    store
        .record_delivery_attempts(&attempt(a, t2 + Duration::minutes(10)))
        .await
        .unwrap();
    let t3 = t2 + Duration::minutes(1);
    assert!(store
        .lease_webhook_endpoints(b, t3, t3 + Duration::seconds(30), 10, 10)
        .await
        .unwrap()
        .is_empty());
    let t4 = t2 + Duration::minutes(11);
    assert_eq!(
        store
            .lease_webhook_endpoints(b, t4, t4 + Duration::seconds(30), 10, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn due_events_at<S: Storage>(
    store: &S,
    id: WebhookEndpointId,
    at: chrono::DateTime<Utc>,
) -> Vec<EventId> {
    let relay = uuid::Uuid::new_v4();
    let leased = store
        .lease_webhook_endpoints(relay, at, at + Duration::minutes(5), 100, 1_000)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for l in leased {
        if l.endpoint.id == id {
            ids.extend(l.deliveries.iter().map(|d| d.event.id));
        }
        store
            .release_webhook_endpoint(l.endpoint.id, relay)
            .await
            .unwrap();
    }
    ids
}

/// Conformance case: Webhook endpoints round trip rotate and take test events.
pub async fn webhook_endpoints_round_trip_rotate_and_take_test_events<S: Storage>(store: Arc<S>) {
    let first = endpoint("https://a.example.com/", EventFilter::All);
    let mut second = endpoint(
        "https://b.example.com/",
        EventFilter::Only(vec![EventType::OrderCreated, EventType::InventoryLowStock]),
    );
    second.created_at = first.created_at + Duration::seconds(1);
    second.description = Some("the warehouse".into());
    store
        .insert_webhook_endpoint(&first, &sealed(1), &ChangeRecord::none())
        .await
        .unwrap();
    store
        .insert_webhook_endpoint(&second, &sealed(2), &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(
        store
            .insert_webhook_endpoint(&first, &sealed(1), &ChangeRecord::none())
            .await,
        Err(StorageError::Duplicate(UniqueRule::RecordId))
    );
    assert_eq!(
        store.webhook_endpoint(second.id).await.unwrap(),
        Some(second.clone())
    );
    let page = store
        .webhook_endpoints(&PageRequest::first(1))
        .await
        .unwrap();
    assert_eq!(page.items, vec![first.clone()]);
    let rest = store
        .webhook_endpoints(&PageRequest {
            limit: 1,
            cursor: page.next_cursor,
        })
        .await
        .unwrap();
    assert_eq!(rest.items, vec![second.clone()]);
    assert_eq!(rest.next_cursor, None);

    let mut changed = second.clone();
    changed.url = "https://b.example.com/v2".into();
    changed.events = EventFilter::All;
    changed.description = None;
    changed.updated_at = now();
    store
        .update_webhook_endpoint(&changed, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(
        store.webhook_endpoint(second.id).await.unwrap(),
        Some(changed.clone())
    );
    let mut unknown = changed.clone();
    unknown.id = WebhookEndpointId::random();
    assert_eq!(
        store
            .update_webhook_endpoint(&unknown, &ChangeRecord::none())
            .await,
        Err(StorageError::NotFound)
    );

    // A rotation keeps the old secret signing until the time given.
    let until = now() + Duration::hours(24);
    store
        .rotate_webhook_secret(first.id, &[9u8; 60], until, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(
        store
            .rotate_webhook_secret(
                WebhookEndpointId::random(),
                &[9u8; 60],
                until,
                &ChangeRecord::none()
            )
            .await,
        Err(StorageError::NotFound)
    );
    // A test event goes to its endpoint alone, due at once, with the rotated secrets.
    let test = OutboxEvent::test(EventId::random(), now());
    let delivery = store
        .queue_test_event(first.id, &test, now())
        .await
        .unwrap();
    assert_eq!(
        store
            .queue_test_event(WebhookEndpointId::random(), &test, now())
            .await,
        Err(StorageError::NotFound)
    );
    assert_eq!(store.dispatch_events(now(), 100).await.unwrap(), 0);
    let relay = uuid::Uuid::new_v4();
    let t = now();
    let leased = store
        .lease_webhook_endpoints(relay, t, t + Duration::minutes(5), 10, 10)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(leased[0].endpoint.id, first.id);
    assert_eq!(leased[0].deliveries.len(), 1);
    assert_eq!(leased[0].deliveries[0].id, delivery);
    assert_eq!(leased[0].deliveries[0].event, test);
    assert_eq!(
        leased[0].secrets,
        SealedSecrets {
            current: vec![9u8; 60],
            previous: Some((vec![1u8; 60], until)),
        }
    );
    store
        .release_webhook_endpoint(first.id, relay)
        .await
        .unwrap();

    // Deleting an endpoint takes its deliveries with it.
    store
        .delete_webhook_endpoint(first.id, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(store.webhook_endpoint(first.id).await.unwrap(), None);
    assert!(store
        .webhook_deliveries(first.id, &PageRequest::first(10))
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(
        store
            .delete_webhook_endpoint(first.id, &ChangeRecord::none())
            .await,
        Err(StorageError::NotFound)
    );
}

/// The inventory events a store added to the outbox since the last call, as (type, product,
/// variant, inventory_count), through an endpoint that hears everything.
async fn inventory_told<S: Storage>(
    store: &S,
    hook: WebhookEndpointId,
) -> Vec<(EventType, ProductId, Option<VariantId>, u64)> {
    store.dispatch_events(now(), 1_000).await.unwrap();
    let relay = uuid::Uuid::new_v4();
    let t = now();
    let leased = store
        .lease_webhook_endpoints(relay, t, t + Duration::minutes(5), 10, 1_000)
        .await
        .unwrap();
    let mut told = Vec::new();
    let mut attempts = Vec::new();
    for l in leased.into_iter().filter(|l| l.endpoint.id == hook) {
        for d in l.deliveries {
            attempts.push(DeliveryAttempt {
                delivery_id: d.id,
                at: t,
                status_code: Some(204),
                error: None,
                next: AfterAttempt::Succeeded,
            });
            if !d.event.kind.as_str().starts_with("inventory.") {
                continue;
            }
            let data = &d.event.data;
            let product: ProductId = data["product_id"].as_str().unwrap().parse().unwrap();
            let variant: Option<VariantId> =
                data["variant_id"].as_str().map(|v| v.parse().unwrap());
            told.push((
                d.event.kind,
                product,
                variant,
                data["inventory_count"].as_u64().unwrap(),
            ));
        }
    }
    store
        .record_delivery_attempts(&DeliveryAttempts {
            endpoint_id: hook,
            attempts,
            failing_since: None,
            disable_endpoint: false,
            relay,
            lease_until: t,
        })
        .await
        .unwrap();
    store.release_webhook_endpoint(hook, relay).await.unwrap();
    told
}

/// Conformance case: Stock crossings tell inventory events once.
pub async fn stock_crossings_tell_inventory_events_once<S: Storage>(store: Arc<S>) {
    use EventType::{
        InventoryBackInStock as Back, InventoryLowStock as Low, InventoryOutOfStock as Out,
    };
    let hook = endpoint("https://warehouse.example.com/in", EventFilter::All);
    store
        .insert_webhook_endpoint(&hook, &sealed(1), &ChangeRecord::none())
        .await
        .unwrap();
    let watching = || ChangeRecord::none().watching_stock(now());
    // Threshold 5 (the default).
    let lamp = product("Lamp", Decimal::TEN, 7);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let sell = |n: u32| {
        let mut new = new_order(order(None, &[(&lamp, None, n)]), "guest@example.com");
        new.record = watching();
        new
    };
    // 7 → 6: nothing crossed.
    store.place_order(&sell(1)).await.unwrap();
    assert_eq!(inventory_told(&*store, hook.id).await, []);
    // 6 → 5: at the threshold.
    store.place_order(&sell(1)).await.unwrap();
    assert_eq!(
        inventory_told(&*store, hook.id).await,
        [(Low, lamp.id, None, 5)]
    );
    // 5 → 4: still low, told once already.
    store.place_order(&sell(1)).await.unwrap();
    assert_eq!(inventory_told(&*store, hook.id).await, []);
    // 4 → 0: out of stock (not low again).
    let last = sell(4);
    store.place_order(&last).await.unwrap();
    assert_eq!(
        inventory_told(&*store, hook.id).await,
        [(Out, lamp.id, None, 0)]
    );
    // Cancelled, its units come back: 0 → 4.
    let mut cancelled = last.order.clone();
    cancelled.transition(OrderStatus::Cancelled, now()).unwrap();
    store
        .update_order(
            &cancelled,
            OrderEffects::new(StockMovement::Release, watching()),
        )
        .await
        .unwrap();
    assert_eq!(
        inventory_told(&*store, hook.id).await,
        [(Back, lamp.id, None, 4)]
    );
    // Counted by hand: 4 → 20 crosses nothing told; 20 → 0 both lines at once.
    let mut counted = store.product(lamp.id).await.unwrap().unwrap();
    counted.inventory_count = 20;
    let counted = store.update_product(&counted, &watching()).await.unwrap();
    assert_eq!(inventory_told(&*store, hook.id).await, []);
    let mut emptied = counted.clone();
    emptied.inventory_count = 0;
    store.update_product(&emptied, &watching()).await.unwrap();
    assert_eq!(
        inventory_told(&*store, hook.id).await,
        [(Low, lamp.id, None, 0), (Out, lamp.id, None, 0)]
    );
    // A write that does not watch stock tells none, crossing or not.
    let mut refilled = store.product(lamp.id).await.unwrap().unwrap();
    refilled.inventory_count = 3;
    store
        .update_product(&refilled, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(inventory_told(&*store, hook.id).await, []);

    // A variant is told about by itself, at its own threshold when it has one.
    let mut shirt = product_with_variants("Shirt", &[2, 9]);
    shirt.variants[1].low_stock_threshold = Some(8);
    store
        .insert_product(&shirt, &ChangeRecord::none())
        .await
        .unwrap();
    let stored = store.product(shirt.id).await.unwrap().unwrap();
    let thresholds: Vec<Option<u32>> = stored
        .variants
        .iter()
        .map(|v| v.low_stock_threshold)
        .collect();
    assert_eq!(thresholds, [None, Some(8)]);
    let large = shirt.variants[1].id;
    let mut new = new_order(
        order(None, &[(&shirt, Some(large), 1)]),
        "guest@example.com",
    );
    new.record = watching();
    store.place_order(&new).await.unwrap();
    assert_eq!(
        inventory_told(&*store, hook.id).await,
        [(Low, shirt.id, Some(large), 8)]
    );
    // Counted by hand: 8 → 20 → 7 crosses its line again (not the product's 5).
    let mut counted = store.product(shirt.id).await.unwrap().unwrap();
    counted.update_stock(Some(large), |s| s.available = 20);
    let mut counted = store.update_product(&counted, &watching()).await.unwrap();
    assert_eq!(inventory_told(&*store, hook.id).await, []);
    counted.update_stock(Some(large), |s| s.available = 7);
    store.update_product(&counted, &watching()).await.unwrap();
    assert_eq!(
        inventory_told(&*store, hook.id).await,
        [(Low, shirt.id, Some(large), 7)]
    );
    let small = shirt.variants[0].id;
    let mut new = new_order(
        order(None, &[(&shirt, Some(small), 2)]),
        "guest@example.com",
    );
    new.record = watching();
    store.place_order(&new).await.unwrap();
    assert_eq!(
        inventory_told(&*store, hook.id).await,
        [(Out, shirt.id, Some(small), 0)]
    );
}

/// Conformance case: Webhook history done long ago is forgotten.
pub async fn webhook_history_done_long_ago_is_forgotten<S: Storage>(store: Arc<S>) {
    let hook = endpoint("https://erp.example.com/hooks", EventFilter::All);
    store
        .insert_webhook_endpoint(&hook, &sealed(1), &ChangeRecord::none())
        .await
        .unwrap();
    let long_ago = now() - Duration::days(40);
    let events: Vec<OutboxEvent> = (0..3)
        .map(|n| {
            let mut e = event(EventType::ProductCreated, n);
            e.at = long_ago;
            e
        })
        .collect();
    for e in &events {
        let p = product(&format!("Old {}", e.id), Decimal::ONE, 1);
        store
            .insert_product(&p, &telling(std::slice::from_ref(e)))
            .await
            .unwrap();
    }
    assert_eq!(store.dispatch_events(long_ago, 100).await.unwrap(), 3);
    let relay = uuid::Uuid::new_v4();
    let due = store
        .lease_webhook_endpoints(relay, long_ago, long_ago + Duration::minutes(5), 10, 10)
        .await
        .unwrap()
        .remove(0)
        .deliveries;
    let attempt = |d: &DueDelivery, next| DeliveryAttempt {
        delivery_id: d.id,
        at: long_ago,
        status_code: Some(204),
        error: None,
        next,
    };
    store
        .record_delivery_attempts(&DeliveryAttempts {
            endpoint_id: hook.id,
            attempts: vec![
                attempt(&due[0], AfterAttempt::Succeeded),
                attempt(&due[1], AfterAttempt::Failed),
                // Still to be tried: kept, with its event, however old.
                attempt(&due[2], AfterAttempt::RetryAt(now() + Duration::hours(1))),
            ],
            failing_since: None,
            disable_endpoint: false,
            relay,
            lease_until: long_ago,
        })
        .await
        .unwrap();
    store
        .release_webhook_endpoint(hook.id, relay)
        .await
        .unwrap();
    // A recent event (kept) and its delivery.
    let recent = event(EventType::ProductCreated, 9);
    let p = product("Recent", Decimal::ONE, 1);
    store
        .insert_product(&p, &telling(std::slice::from_ref(&recent)))
        .await
        .unwrap();
    store.dispatch_events(now(), 100).await.unwrap();

    let cutoff = now() - Duration::days(30);
    // Two deliveries done, then their two events: in bites of one.
    let mut gone = 0;
    for _ in 0..10 {
        let n = store.purge_webhook_history(cutoff, 1).await.unwrap();
        if n == 0 {
            break;
        }
        assert!(n <= 2);
        gone += n;
    }
    assert_eq!(gone, 4);
    let left: Vec<String> = store
        .webhook_deliveries(hook.id, &PageRequest::first(10))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|d| d.event_id)
        .collect();
    assert_eq!(left, [recent.webhook_id(), events[2].webhook_id()]);
    // The pending one is still sent, with its event whole.
    let later = now() + Duration::hours(2);
    let due = store
        .lease_webhook_endpoints(relay, later, later + Duration::minutes(5), 10, 10)
        .await
        .unwrap()
        .remove(0)
        .deliveries;
    assert_eq!(due[0].event, events[2]);
}

/// Conformance case: Stock alerts wait for stock and are sent once.
pub async fn stock_alerts_wait_for_stock_and_are_sent_once<S: Storage>(store: Arc<S>) {
    use crate::stock_alert::StockAlert;
    let lamp = product("Lamp", Decimal::TEN, 0);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let shirt = product_with_variants("Shirt", &[0, 3]);
    store
        .insert_product(&shirt, &ChangeRecord::none())
        .await
        .unwrap();
    let alert =
        |product: ProductId, variant: Option<VariantId>, email: &str, minutes: i64| StockAlert {
            id: StockAlertId::random(),
            product_id: product,
            variant_id: variant,
            email: email.into(),
            created_at: now() - Duration::minutes(minutes),
        };
    let ana = alert(lamp.id, None, "ana@example.com", 3);
    assert_eq!(store.insert_stock_alert(&ana).await.unwrap(), ana);
    // The same address for the same thing: one alert.
    let again = alert(lamp.id, None, "ana@example.com", 1);
    assert_eq!(store.insert_stock_alert(&again).await.unwrap(), ana);
    let bob = alert(lamp.id, None, "bob@example.com", 2);
    store.insert_stock_alert(&bob).await.unwrap();
    let small = alert(shirt.id, Some(shirt.variants[0].id), "ana@example.com", 1);
    store.insert_stock_alert(&small).await.unwrap();
    assert_eq!(
        store
            .insert_stock_alert(&alert(ProductId::random(), None, "x@example.com", 0))
            .await,
        Err(StorageError::MissingReference(Reference::Product))
    );
    // Nothing has stock: nothing is due (the shirt's other size has, not the one asked for).
    assert!(store.stock_alerts_due(10).await.unwrap().is_empty());

    let mut restocked = store.product(lamp.id).await.unwrap().unwrap();
    restocked.inventory_count = 4;
    store
        .update_product(&restocked, &ChangeRecord::none())
        .await
        .unwrap();
    let due = store.stock_alerts_due(10).await.unwrap();
    let emails: Vec<&str> = due.iter().map(|d| d.alert.email.as_str()).collect();
    assert_eq!(emails, ["ana@example.com", "bob@example.com"]);
    assert_eq!(due[0].name, "Lamp");
    assert_eq!(due[0].available, 4);
    assert_eq!(store.stock_alerts_due(1).await.unwrap().len(), 1);
    // Closed once: a second close (another process) is told it was taken.
    let at = now();
    assert!(store.close_stock_alert(ana.id, at).await.unwrap());
    assert!(!store.close_stock_alert(ana.id, at).await.unwrap());
    assert_eq!(
        store.close_stock_alert(StockAlertId::random(), at).await,
        Err(StorageError::NotFound)
    );
    let due = store.stock_alerts_due(10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].alert.id, bob.id);
    // A mail that failed: opened again, due again.
    store.close_stock_alert(bob.id, at).await.unwrap();
    store.reopen_stock_alert(bob.id).await.unwrap();
    assert_eq!(
        store.stock_alerts_due(10).await.unwrap()[0].alert.id,
        bob.id
    );
    // Once sent, the address may ask again: a new alert.
    let later = alert(lamp.id, None, "ana@example.com", 0);
    assert_eq!(store.insert_stock_alert(&later).await.unwrap(), later);
}
