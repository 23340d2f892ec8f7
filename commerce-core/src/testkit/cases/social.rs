//! Social sign-in's storage: flows taken once and only while fresh, identities linked to one
//! account each, and a new account made with its identity or not at all.

use super::*;
use crate::social::{ProviderIdentity, SignInFlow};

fn flow(state_hash: &str, expires_in_minutes: i64) -> SignInFlow {
    SignInFlow {
        state_hash: state_hash.to_string(),
        provider: "google".into(),
        nonce: "nonce-✓".into(),
        pkce_verifier: "verifier".into(),
        redirect_uri: "https://shop.example.com/callback".into(),
        link_user: None,
        expires_at: now() + Duration::minutes(expires_in_minutes),
    }
}

fn identity(user: &User, subject: &str) -> ProviderIdentity {
    ProviderIdentity {
        user_id: user.id,
        issuer: "https://accounts.example.com".into(),
        subject: subject.to_string(),
        email: Some(user.email.clone()),
        linked_at: now(),
    }
}

/// Conformance case: Sign in flows work once and identities link one account.
pub async fn sign_in_flows_work_once_and_identities_link_one_account<S: Storage>(store: Arc<S>) {
    // A flow is taken once, whole.
    let mut linking = flow("a1", 10);
    let ann = user("ann@example.com");
    store
        .insert_user(&ann, &ChangeRecord::none())
        .await
        .unwrap();
    linking.link_user = Some(ann.id);
    store.insert_sign_in_flow(&linking).await.unwrap();
    assert_eq!(
        store.insert_sign_in_flow(&flow("a1", 10)).await,
        Err(StorageError::Duplicate(UniqueRule::RecordId))
    );
    assert_eq!(
        store.take_sign_in_flow("a1", now()).await.unwrap(),
        Some(linking)
    );
    assert_eq!(store.take_sign_in_flow("a1", now()).await.unwrap(), None);
    assert_eq!(
        store.take_sign_in_flow("unknown", now()).await.unwrap(),
        None
    );
    // Two callbacks racing for one flow: one gets it.
    store.insert_sign_in_flow(&flow("race", 10)).await.unwrap();
    let (a, b) = tokio::join!(
        store.take_sign_in_flow("race", now()),
        store.take_sign_in_flow("race", now())
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()]
            .iter()
            .filter(|f| f.is_some())
            .count(),
        1
    );
    // An expired flow is not given, and the sweeper forgets it.
    store.insert_sign_in_flow(&flow("old", -1)).await.unwrap();
    store
        .insert_sign_in_flow(&flow("older", -30))
        .await
        .unwrap();
    store.insert_sign_in_flow(&flow("fresh", 10)).await.unwrap();
    assert_eq!(store.take_sign_in_flow("old", now()).await.unwrap(), None);
    assert_eq!(
        store
            .purge_sign_in_flows(now() - Duration::minutes(5))
            .await
            .unwrap(),
        1
    );
    assert!(store
        .take_sign_in_flow("fresh", now())
        .await
        .unwrap()
        .is_some());

    // Identities: one account each, found by issuer and subject.
    store.link_identity(&identity(&ann, "sub-1")).await.unwrap();
    assert_eq!(
        store
            .identity_owner("https://accounts.example.com", "sub-1")
            .await
            .unwrap(),
        Some(ann.id)
    );
    assert_eq!(
        store
            .identity_owner("https://other.example.com", "sub-1")
            .await
            .unwrap(),
        None
    );
    let bob = user("bob@example.com");
    store
        .insert_user(&bob, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(
        store.link_identity(&identity(&bob, "sub-1")).await,
        Err(StorageError::Duplicate(UniqueRule::ProviderIdentity))
    );
    assert_eq!(
        store
            .link_identity(&identity(&user("ghost@example.com"), "sub-9"))
            .await,
        Err(StorageError::MissingReference(Reference::User))
    );
    // Several providers for one account.
    let mut other = identity(&ann, "sub-1");
    other.issuer = "https://login.example.org".into();
    store.link_identity(&other).await.unwrap();
    let linked: Vec<String> = store
        .identities(ann.id)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.issuer)
        .collect();
    assert_eq!(
        linked,
        ["https://accounts.example.com", "https://login.example.org"]
    );

    // A new account comes with its identity, or neither is stored.
    let cleo = user("cleo@example.com");
    store
        .insert_user_with_identity(&cleo, &identity(&cleo, "sub-2"), &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(
        store.user(cleo.id).await.unwrap().map(|u| u.id),
        Some(cleo.id)
    );
    let taken_email = user("cleo@example.com");
    assert_eq!(
        store
            .insert_user_with_identity(
                &taken_email,
                &identity(&taken_email, "sub-3"),
                &ChangeRecord::none()
            )
            .await,
        Err(StorageError::Duplicate(UniqueRule::UserEmail))
    );
    assert_eq!(
        store
            .identity_owner("https://accounts.example.com", "sub-3")
            .await
            .unwrap(),
        None
    );
    let dan = user("dan@example.com");
    assert_eq!(
        store
            .insert_user_with_identity(&dan, &identity(&dan, "sub-2"), &ChangeRecord::none())
            .await,
        Err(StorageError::Duplicate(UniqueRule::ProviderIdentity))
    );
    assert_eq!(
        store.user(dan.id).await.unwrap(),
        None,
        "no account without its identity"
    );
}
