//! Social sign-in through the engine's service, against the fake provider: accounts found by
//! (issuer, subject), made for a verified email, linked only when both sides vouch for it,
//! linked by a signed-in owner, and each refusal.

use std::sync::Arc;

use commerce_core::account::Role;
use commerce_core::memory::{MemoryStore, MemoryTokenIssuer};
use commerce_core::{Caller, Commerce, CommerceError};
use commerce_oidc::fake::{FakeProvider, FakeUser};
use commerce_oidc::{OidcClient, ProviderSettings};

const CLIENT_ID: &str = "shop-client";
const SECRET: &str = "shop-secret";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn shop(provider: &FakeProvider) -> Commerce {
    let client = OidcClient::new(ProviderSettings {
        name: "fake".into(),
        display_name: "Fake ID".into(),
        issuer: provider.issuer().to_string(),
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        scopes: Vec::new(),
    })
    .unwrap();
    Commerce::builder(Arc::new(MemoryStore::new()))
        .token_issuer(Arc::new(MemoryTokenIssuer::default()))
        .identity_provider(Arc::new(client))
        .build()
}

fn person(subject: &str, email: &str, verified: bool) -> FakeUser {
    FakeUser {
        subject: subject.into(),
        email: email.into(),
        email_verified: verified,
        name: "Someone".into(),
    }
}

/// Start, the browser at the provider, and the code and state it brings back.
async fn to_callback(shop: &Commerce, caller: &Caller) -> (String, String) {
    let started = shop
        .social_sign_in()
        .start(caller, "fake", REDIRECT)
        .await
        .unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = browser
        .get(&started.authorization_url)
        .send()
        .await
        .unwrap();
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    let back: std::collections::HashMap<String, String> = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(back["state"], started.state);
    (back["code"].clone(), back["state"].clone())
}

async fn sign_in(
    shop: &Commerce,
    caller: &Caller,
) -> Result<commerce_core::service::Session, CommerceError> {
    let (code, state) = to_callback(shop, caller).await;
    shop.social_sign_in().finish("fake", &code, &state).await
}

#[tokio::test]
async fn a_new_person_becomes_a_customer_and_comes_back_to_the_same_account() {
    let provider = FakeProvider::start(CLIENT_ID, SECRET).await;
    let shop = shop(&provider).await;
    assert_eq!(
        shop.social_sign_in().providers(),
        [("fake".to_string(), "Fake ID".to_string())]
    );
    provider.sign_in_as(person("sub-1", "New.Person@Example.com", true));
    let first = sign_in(&shop, &Caller::Anonymous).await.unwrap();
    assert_eq!(first.user.email, "new.person@example.com");
    assert_eq!(first.user.role, Role::Customer);
    assert!(first.user.email_verified);
    assert!(!first.access_token.is_empty() && !first.refresh_token.is_empty());
    // The same provider account, even with another email now: the same user.
    provider.sign_in_as(person("sub-1", "changed@example.com", true));
    let again = sign_in(&shop, &Caller::Anonymous).await.unwrap();
    assert_eq!(again.user.id, first.user.id);
    // No password was set: none signs in, the empty one included.
    for tried in ["", "a-long-password"] {
        assert_eq!(
            shop.accounts()
                .login("new.person@example.com", tried)
                .await
                .err(),
            Some(CommerceError::InvalidCredentials)
        );
    }
}

#[tokio::test]
async fn an_existing_account_is_linked_only_when_both_sides_vouch_for_the_email() {
    let provider = FakeProvider::start(CLIENT_ID, SECRET).await;
    let shop = shop(&provider).await;
    let accounts = shop.accounts();
    // Verified here and there: linked.
    let ann = accounts
        .create_user(
            "ann@example.com",
            "a-long-password",
            "Ann",
            Role::Customer,
            true,
        )
        .await
        .unwrap();
    provider.sign_in_as(person("sub-ann", "ann@example.com", true));
    assert_eq!(
        sign_in(&shop, &Caller::Anonymous).await.unwrap().user.id,
        ann.id
    );
    // Not verified here: the owner must link it.
    accounts
        .register("bob@example.com", "a-long-password", "Bob")
        .await
        .unwrap();
    provider.sign_in_as(person("sub-bob", "bob@example.com", true));
    assert_eq!(
        sign_in(&shop, &Caller::Anonymous).await.err(),
        Some(CommerceError::AccountLinkRequired)
    );
    // Not vouched for by the provider: likewise, and nobody new is made either.
    provider.sign_in_as(person("sub-ann-2", "ann@example.com", false));
    assert_eq!(
        sign_in(&shop, &Caller::Anonymous).await.err(),
        Some(CommerceError::AccountLinkRequired)
    );
    provider.sign_in_as(person("sub-x", "x@example.com", false));
    assert!(matches!(
        sign_in(&shop, &Caller::Anonymous).await,
        Err(CommerceError::OauthFailed(_))
    ));
    // Bob, signed in, links the provider himself; then it signs him in.
    let bob = accounts
        .login("bob@example.com", "a-long-password")
        .await
        .unwrap()
        .user;
    let me = Caller::user(bob.id, bob.role);
    provider.sign_in_as(person("sub-bob", "bob@example.com", true));
    assert_eq!(sign_in(&shop, &me).await.unwrap().user.id, bob.id);
    assert_eq!(
        sign_in(&shop, &Caller::Anonymous).await.unwrap().user.id,
        bob.id
    );
    // A provider account linked to Ann cannot be linked to Bob.
    provider.sign_in_as(person("sub-ann", "ann@example.com", true));
    assert!(matches!(
        sign_in(&shop, &me).await,
        Err(CommerceError::Conflict(_))
    ));
    // Each social sign-in, and each that failed at the provider's end, is in the audit log.
    let admin = accounts
        .create_user(
            "admin@example.com",
            "a-long-password",
            "Admin",
            Role::Admin,
            true,
        )
        .await
        .unwrap();
    let log = shop
        .audit_log()
        .entries(
            &Caller::user(admin.id, Role::Admin),
            commerce_core::audit::AuditQuery {
                target_type: Some("provider".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let reasons: Vec<String> = log
        .items
        .iter()
        .map(|e| {
            e.changes["reason"]
                .1
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "conflict",
            "oauth_failed",
            "account_link_required",
            "account_link_required"
        ]
    );
    assert!(log
        .items
        .iter()
        .all(|e| e.action == "auth.login_failed" && e.actor.is_none()));
}

#[tokio::test]
async fn a_used_or_unknown_state_and_a_foreign_redirect_are_refused() {
    let provider = FakeProvider::start(CLIENT_ID, SECRET).await;
    let shop = shop(&provider).await;
    let (code, state) = to_callback(&shop, &Caller::Anonymous).await;
    let social = shop.social_sign_in();
    social.finish("fake", &code, &state).await.unwrap();
    // The same callback again: its state was used.
    assert!(matches!(
        social.finish("fake", &code, &state).await,
        Err(CommerceError::OauthFailed(_))
    ));
    assert!(matches!(
        social.finish("fake", "any", "made-up-state").await,
        Err(CommerceError::OauthFailed(_))
    ));
    // A state of this provider's flow offered to another provider name.
    let (code, state) = to_callback(&shop, &Caller::Anonymous).await;
    assert_eq!(
        social.finish("other", &code, &state).await.err(),
        Some(CommerceError::NotFound("provider"))
    );
    let refused = social
        .start(
            &Caller::Anonymous,
            "fake",
            "https://evil.example.com/callback",
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "validation_failed");
}
