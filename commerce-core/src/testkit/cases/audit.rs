//! The audit log: entries written with their change and only with it, the actor's email
//! filled in by storage, filters and keyset pages.

use super::*;
use crate::audit::{
    AuditActor, AuditChanges, AuditEntry, AuditOutcome, AuditQuery, AuditTarget, RequestOrigin,
};

fn entry(
    actor: Option<&User>,
    action: &str,
    target: AuditTarget,
    at: chrono::DateTime<Utc>,
) -> AuditEntry {
    let mut changes = AuditChanges::new();
    changes.insert(
        "name".into(),
        (serde_json::json!("Old ✓"), serde_json::json!("New ✓")),
    );
    AuditEntry {
        id: AuditEntryId::random(),
        at,
        actor: actor.map(|u| AuditActor {
            id: u.id,
            role: u.role,
            email: None,
        }),
        action: action.to_string(),
        target,
        changes,
        origin: RequestOrigin {
            ip: Some("203.0.113.7".into()),
            user_agent: Some("Mozilla/5.0 (ünïcode)".into()),
            request_id: Some("req-1".into()),
        },
        outcome: AuditOutcome::Succeeded,
    }
}

fn query() -> AuditQuery {
    AuditQuery {
        page: PageRequest::first(50),
        ..Default::default()
    }
}

async fn actions<S: Storage>(store: &S, query: AuditQuery) -> Vec<String> {
    store
        .audit_entries(&query)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.action)
        .collect()
}

/// Conformance case: Audit entries are written with their change and listed newest first.
pub async fn audit_entries_are_written_with_their_change_and_listed_newest_first<S: Storage>(
    store: Arc<S>,
) {
    let mut admin = user("boss@example.com");
    admin.role = Role::Admin;
    store
        .insert_user(&admin, &ChangeRecord::none())
        .await
        .unwrap();
    let t0 = now();

    // With a change: the entry is there, with the actor's email read by storage.
    let lamp = product("Lamp", Decimal::TEN, 3);
    let created = entry(
        Some(&admin),
        "product.create",
        AuditTarget::new("product", lamp.id),
        t0,
    );
    store
        .insert_product(&lamp, &ChangeRecord::audited(Some(created.clone())))
        .await
        .unwrap();
    let page = store.audit_entries(&query()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let stored = &page.items[0];
    assert_eq!(stored.id, created.id);
    assert_eq!(stored.action, "product.create");
    assert_eq!(stored.target, created.target);
    assert_eq!(stored.changes, created.changes);
    assert_eq!(stored.origin, created.origin);
    assert_eq!(stored.outcome, AuditOutcome::Succeeded);
    assert_eq!(stored.at, t0);
    let actor = stored.actor.as_ref().expect("an actor");
    assert_eq!((actor.id, actor.role), (admin.id, Role::Admin));
    assert_eq!(actor.email.as_deref(), Some("boss@example.com"));

    // A change refused by storage leaves no entry: the entry is part of the change.
    let unknown = promotion(Some("NOPE"), None, None);
    let refused = entry(
        Some(&admin),
        "discount.update",
        AuditTarget::new("discount", unknown.id),
        t0,
    );
    assert_eq!(
        store
            .update_promotion(&unknown, &ChangeRecord::audited(Some(refused)))
            .await,
        Err(StorageError::NotFound)
    );
    let mut taken = product("Lamp", Decimal::TEN, 3);
    taken.slug = lamp.slug.clone();
    let duplicate = entry(
        Some(&admin),
        "product.create",
        AuditTarget::new("product", taken.id),
        t0,
    );
    assert!(store
        .insert_product(&taken, &ChangeRecord::audited(Some(duplicate)))
        .await
        .is_err());
    assert_eq!(actions(&*store, query()).await, ["product.create"]);

    // Writes of every kind that carry a record write its entry.
    let sale = promotion(Some("SALE"), None, None);
    store
        .insert_promotion(
            &sale,
            &ChangeRecord::audited(Some(entry(
                Some(&admin),
                "discount.create",
                AuditTarget::new("discount", sale.id),
                t0 + Duration::seconds(1),
            ))),
        )
        .await
        .unwrap();
    let settings = StoreSettings::default();
    store
        .save_store_settings(
            &settings,
            &ChangeRecord::audited(Some(entry(
                Some(&admin),
                "store.update",
                AuditTarget::only("store"),
                t0 + Duration::seconds(2),
            ))),
        )
        .await
        .unwrap();
    let mut demoted = admin.clone();
    demoted.full_name = "Boss".into();
    store
        .update_user(
            &demoted,
            &ChangeRecord::audited(Some(entry(
                Some(&admin),
                "user.update",
                AuditTarget::new("user", admin.id),
                t0 + Duration::seconds(3),
            ))),
        )
        .await
        .unwrap();
    // Sign-ins change nothing else: appended alone, with no actor when they failed.
    let mut failed = entry(
        None,
        "auth.login_failed",
        AuditTarget::new("email", "nobody@example.com"),
        t0 + Duration::seconds(4),
    );
    failed.outcome = AuditOutcome::Failed;
    failed.changes.clear();
    store.append_audit(&[failed.clone()]).await.unwrap();
    assert_eq!(
        actions(&*store, query()).await,
        [
            "auth.login_failed",
            "user.update",
            "store.update",
            "discount.create",
            "product.create"
        ]
    );
    let stored = store.audit_entries(&query()).await.unwrap().items[0].clone();
    assert_eq!(stored.actor, None);
    assert_eq!(stored.outcome, AuditOutcome::Failed);
    assert!(stored.changes.is_empty());

    // Filters, each alone and together.
    let by_admin = AuditQuery {
        actor: Some(admin.id),
        ..query()
    };
    assert_eq!(actions(&*store, by_admin).await.len(), 4);
    let nobody = AuditQuery {
        actor: Some(UserId::random()),
        ..query()
    };
    assert!(actions(&*store, nobody).await.is_empty());
    let one_action = AuditQuery {
        action: Some("store.update".into()),
        ..query()
    };
    assert_eq!(actions(&*store, one_action).await, ["store.update"]);
    let one_target = AuditQuery {
        target_type: Some("product".into()),
        target_id: Some(lamp.id.to_string()),
        ..query()
    };
    assert_eq!(actions(&*store, one_target).await, ["product.create"]);
    let products = AuditQuery {
        target_type: Some("product".into()),
        ..query()
    };
    assert_eq!(actions(&*store, products).await, ["product.create"]);
    let window = AuditQuery {
        from: Some(t0 + Duration::seconds(1)),
        to: Some(t0 + Duration::seconds(3)),
        ..query()
    };
    assert_eq!(
        actions(&*store, window).await,
        ["store.update", "discount.create"]
    );
    let together = AuditQuery {
        actor: Some(admin.id),
        from: Some(t0 + Duration::seconds(2)),
        ..query()
    };
    assert_eq!(
        actions(&*store, together).await,
        ["user.update", "store.update"]
    );

    // Keyset pages: each entry once, in order, and one written meanwhile does not show up
    // on a later page of the same listing.
    let first = store
        .audit_entries(&AuditQuery {
            page: PageRequest::first(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    let mut later = entry(
        Some(&admin),
        "category.create",
        AuditTarget::new("category", "c"),
        t0,
    );
    later.at = t0 + Duration::seconds(9);
    store.append_audit(&[later]).await.unwrap();
    let mut seen: Vec<String> = first.items.iter().map(|e| e.action.clone()).collect();
    let mut cursor = first.next_cursor;
    while let Some(c) = cursor {
        let page = store
            .audit_entries(&AuditQuery {
                page: PageRequest {
                    limit: 2,
                    cursor: Some(c),
                },
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|e| e.action));
        cursor = page.next_cursor;
    }
    assert_eq!(
        seen,
        [
            "auth.login_failed",
            "user.update",
            "store.update",
            "discount.create",
            "product.create"
        ]
    );
    assert_eq!(
        store
            .audit_entries(&AuditQuery {
                page: PageRequest {
                    limit: 2,
                    cursor: Some("not a cursor".into()),
                },
                ..Default::default()
            })
            .await
            .err(),
        Some(StorageError::InvalidCursor)
    );
}
