//! The audit log as staff, customers and sign-ins meet it, through the services.

use std::sync::Arc;

use rust_decimal::dec;

use super::*;
use crate::account::{Role, User};
use crate::audit::{AuditOutcome, AuditQuery, RequestOrigin};
use crate::catalog::{NewProduct, ProductChanges};
use crate::memory::{MemoryStore, MemoryTokenIssuer};
use crate::ports::PageRequest;
use crate::webhook::WebhookEndpointDraft;

async fn shop() -> (Commerce, Caller, User) {
    let key = crate::webhook_signing::SealingKey::parse(
        &crate::webhook_signing::SealingKey::generate_text().unwrap(),
    )
    .unwrap();
    let shop = Commerce::builder(Arc::new(MemoryStore::new()))
        .test_payments()
        .token_issuer(Arc::new(MemoryTokenIssuer::default()))
        .sealing_key(key)
        .build();
    let admin = shop
        .accounts()
        .create_user(
            "admin@shop.test",
            "admin-password",
            "Admin",
            Role::Admin,
            true,
        )
        .await
        .unwrap();
    (shop.clone(), Caller::user(admin.id, Role::Admin), admin)
}

async fn log(shop: &Commerce, admin: &Caller) -> Vec<crate::audit::AuditEntry> {
    shop.audit_log()
        .entries(
            admin,
            AuditQuery {
                page: PageRequest::first(100),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn staff_changes_are_recorded_with_what_changed_where_from_and_by_whom() {
    let (shop, admin, admin_user) = shop().await;
    let origin = RequestOrigin {
        ip: Some("198.51.100.4".into()),
        user_agent: Some("admin-tool/1.0".into()),
        request_id: Some("r-42".into()),
    };
    let lamp = origin
        .clone()
        .scope(shop.catalog().create_product(
            &admin,
            NewProduct {
                name: "Lamp".into(),
                price: dec!(10.00),
                inventory_count: 4,
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    origin
        .clone()
        .scope(shop.catalog().update_product(
            &admin,
            lamp.id,
            ProductChanges {
                price: Some(dec!(12.50)),
                inventory_count: Some(9),
                ..Default::default()
            },
            None,
        ))
        .await
        .unwrap();
    let entries = log(&shop, &admin).await;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["product.update", "product.create"]);
    let update = &entries[0];
    assert_eq!(update.target.kind, "product");
    assert_eq!(update.target.id, Some(lamp.id.to_string()));
    assert_eq!(update.origin, origin);
    assert_eq!(update.outcome, AuditOutcome::Succeeded);
    let actor = update.actor.as_ref().unwrap();
    assert_eq!(actor.id, admin_user.id);
    assert_eq!(actor.email.as_deref(), Some("admin@shop.test"));
    // Exactly what changed, nothing of the bookkeeping.
    let fields: Vec<&str> = update.changes.keys().map(String::as_str).collect();
    assert_eq!(fields, ["inventory_count", "price"]);
    assert_eq!(update.changes["inventory_count"], (4.into(), 9.into()));
    // Created: every field from nothing.
    assert!(entries[1].changes["name"].0.is_null());
    assert_eq!(entries[1].changes["name"].1, "Lamp");
}

#[tokio::test]
async fn customers_changes_to_their_own_things_are_not_audited() {
    let (shop, admin, _) = shop().await;
    let customer = shop
        .accounts()
        .register("ann@example.com", "password123", "Ann")
        .await
        .unwrap();
    let ann = Caller::user(customer.id, Role::Customer);
    shop.accounts()
        .update_profile(&ann, Some("Ann B"), None, None)
        .await
        .unwrap();
    assert!(log(&shop, &admin).await.is_empty());
}

#[tokio::test]
async fn setup_users_and_webhooks_are_audited_and_secrets_never_shown() {
    let (shop, admin, _) = shop().await;
    let rate = shop
        .admin()
        .save_tax_rate(&admin, None, "US", Some("TX"), dec!(0.0825))
        .await
        .unwrap();
    shop.admin()
        .save_tax_rate(&admin, Some(rate.id), "US", Some("TX"), dec!(0.09))
        .await
        .unwrap();
    shop.admin().delete_tax_rate(&admin, rate.id).await.unwrap();
    let bob = shop
        .accounts()
        .register("bob@example.com", "password123", "Bob")
        .await
        .unwrap();
    shop.accounts()
        .admin_update_user(&admin, bob.id, Some(Role::Vendor), None)
        .await
        .unwrap();
    let hook = shop
        .webhooks()
        .create_endpoint(
            &admin,
            WebhookEndpointDraft {
                url: "https://hooks.example.com/in".into(),
                events: vec!["order.paid".into()],
                description: None,
                active: None,
            },
        )
        .await
        .unwrap();
    shop.webhooks()
        .rotate_secret(&admin, hook.endpoint.id)
        .await
        .unwrap();
    let entries = log(&shop, &admin).await;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "webhook.rotate_secret",
            "webhook.create",
            "user.update",
            "tax_rate.delete",
            "tax_rate.update",
            "tax_rate.create",
        ]
    );
    assert!(entries[0].changes.is_empty());
    let role = &entries[2].changes;
    assert_eq!(role["role"], ("customer".into(), "vendor".into()));
    assert!(!role.contains_key("token_version") && !role.contains_key("password_hash"));
    assert_eq!(entries[4].changes["rate"], ("0.0825".into(), "0.09".into()));
    assert!(entries[3].changes["country"].1.is_null());
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains(&hook.secret) && !text.contains("argon2"));
}

#[tokio::test]
async fn sign_ins_are_recorded_right_wrong_unknown_and_refused() {
    let (shop, admin, admin_user) = shop().await;
    shop.accounts()
        .login("admin@shop.test", "admin-password")
        .await
        .unwrap();
    assert_eq!(
        shop.accounts()
            .login("admin@shop.test", "wrong-password")
            .await
            .err(),
        Some(CommerceError::InvalidCredentials)
    );
    assert!(shop
        .accounts()
        .login("ghost@example.com", "whatever1")
        .await
        .is_err());
    // However often a locked account is tried, a minute gets one entry.
    for _ in 0..3 {
        shop.audit_log()
            .sign_in_refused("Admin@Shop.test")
            .await
            .unwrap();
    }
    let entries = log(&shop, &admin).await;
    let seen: Vec<(&str, AuditOutcome, Option<&str>, &str)> = entries
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.outcome,
                e.target.id.as_deref(),
                e.target.kind.as_str(),
            )
        })
        .collect();
    let me = admin_user.id.to_string();
    assert_eq!(
        seen,
        [
            (
                "auth.locked",
                AuditOutcome::Refused,
                Some(me.as_str()),
                "user"
            ),
            (
                "auth.login_failed",
                AuditOutcome::Failed,
                Some("ghost@example.com"),
                "email"
            ),
            (
                "auth.login_failed",
                AuditOutcome::Failed,
                Some(me.as_str()),
                "user"
            ),
            (
                "auth.login",
                AuditOutcome::Succeeded,
                Some(me.as_str()),
                "user"
            ),
        ]
    );
    assert_eq!(entries[3].actor.as_ref().map(|a| a.id), Some(admin_user.id));
    assert!(entries[2].actor.is_none());
}

#[tokio::test]
async fn only_admins_read_the_log_and_a_target_id_needs_its_type() {
    let (shop, admin, _) = shop().await;
    let vendor = Caller::user(crate::ids::UserId::random(), Role::Vendor);
    assert!(matches!(
        shop.audit_log()
            .entries(&vendor, AuditQuery::default())
            .await,
        Err(CommerceError::Forbidden(_))
    ));
    let err = shop
        .audit_log()
        .entries(
            &admin,
            AuditQuery {
                target_id: Some("x".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "validation_failed");
}
