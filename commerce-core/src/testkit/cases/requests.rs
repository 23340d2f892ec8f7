//! Cases on what the HTTP edge keeps: idempotency keys and client request times.

use super::*;

/// Conformance case: Idempotency keys claim once replay and expire.
pub async fn idempotency_keys_claim_once_replay_and_expire<S: Storage>(store: Arc<S>) {
    let t0 = now();
    let day = chrono::Duration::hours(24);
    let minute = chrono::Duration::minutes(1);
    let claim = |scope: &'static str, key: &'static str, print: &'static str, at| {
        let store = store.clone();
        async move {
            store
                .claim_idempotency_key(scope, key, print, at, at - day, at - minute)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        claim("user:a", "k1", "f1", t0).await,
        IdempotencyClaim::Claimed
    );
    // Running: the fingerprint is told, no response yet.
    assert_eq!(
        claim("user:a", "k1", "f1", t0).await,
        IdempotencyClaim::Existing {
            fingerprint: "f1".into(),
            response: None
        }
    );
    // The same key in another scope is another key.
    assert_eq!(
        claim("user:b", "k1", "f2", t0).await,
        IdempotencyClaim::Claimed
    );
    let response = KeptResponse {
        status: 201,
        headers: vec![("location".into(), "/api/orders/1".into())],
        body: b"{\"id\": 1}".to_vec(),
    };
    store
        .complete_idempotency_key("user:a", "k1", &response)
        .await
        .unwrap();
    let later = t0 + chrono::Duration::hours(2);
    assert_eq!(
        claim("user:a", "k1", "f1", later).await,
        IdempotencyClaim::Existing {
            fingerprint: "f1".into(),
            response: Some(response.clone())
        }
    );
    // An unfinished claim older than the abandon limit is free again; a finished one is
    // kept for the whole day.
    assert_eq!(
        claim("user:b", "k1", "f3", later).await,
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        claim("user:a", "k1", "f9", t0 + day + minute).await,
        IdempotencyClaim::Claimed
    );
    // Released keys are free.
    assert_eq!(
        claim("user:c", "k", "f", t0).await,
        IdempotencyClaim::Claimed
    );
    store.release_idempotency_key("user:c", "k").await.unwrap();
    assert_eq!(
        claim("user:c", "k", "g", t0).await,
        IdempotencyClaim::Claimed
    );
    // Completing a key nobody claimed is NotFound; purging removes old records.
    assert_eq!(
        store
            .complete_idempotency_key("user:z", "none", &response)
            .await,
        Err(StorageError::NotFound)
    );
    let purged = store
        .purge_idempotency_keys(t0 + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(purged, 1, "only user:c's record was made at t0");
    assert_eq!(
        claim("user:c", "k", "h", later).await,
        IdempotencyClaim::Claimed
    );
}

/// Conformance case: Concurrent claims of one idempotency key let one through.
pub async fn concurrent_claims_of_one_idempotency_key_let_one_through<S: Storage>(store: Arc<S>) {
    let t0 = now();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_idempotency_key(
                        "user:a",
                        "same",
                        &format!("f{i}"),
                        t0,
                        t0 - chrono::Duration::hours(24),
                        t0 - chrono::Duration::minutes(1),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut claimed = 0;
    for t in tasks {
        if t.await.unwrap() == IdempotencyClaim::Claimed {
            claimed += 1;
        }
    }
    assert_eq!(claimed, 1);
}

/// Conformance case: Client request times add up from now.
pub async fn client_request_times_add_up_from_now<S: Storage>(store: Arc<S>) {
    let t0 = now();
    let tenth = std::time::Duration::from_millis(100);
    let ms = |n: i64| Duration::milliseconds(n);
    let a = || ("ip:192.0.2.1".to_string(), 0u32);
    // A new client starts from now: 5 requests at a tenth of a second each.
    let times = store
        .add_client_requests(&[(a().0, 5), ("ip:192.0.2.2".into(), 1)], tenth, t0)
        .await
        .unwrap();
    assert!(times.contains(&(a().0, t0 + ms(500))), "{times:?}");
    assert!(times.contains(&("ip:192.0.2.2".into(), t0 + ms(100))));
    // Another process adds to the same time, from where it is.
    let times = store
        .add_client_requests(&[(a().0, 2)], tenth, t0 + ms(100))
        .await
        .unwrap();
    assert_eq!(times, vec![(a().0, t0 + ms(700))]);
    // A time in the past starts again from now.
    let later = t0 + ms(10_000);
    let times = store
        .add_client_requests(&[(a().0, 1)], tenth, later)
        .await
        .unwrap();
    assert_eq!(times, vec![(a().0, later + ms(100))]);
    // Old times are forgotten.
    assert_eq!(store.purge_client_rates(t0 + ms(1_000)).await.unwrap(), 1);
    assert_eq!(store.purge_client_rates(t0 + ms(1_000)).await.unwrap(), 0);
}
