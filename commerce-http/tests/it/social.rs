//! Social sign-in through the API against the fake OpenID Connect provider on 127.0.0.1: the
//! whole flow, the account it makes, a guest cart merged, linking by a signed-in user, and
//! each refusal (a replayed state, a wrong nonce, a wrong audience, an expired token, a code
//! bound to another PKCE verifier, a redirect URI not allowed, an account that must be linked
//! first).

use commerce_oidc::fake::{FakeProvider, FakeUser, Spoil};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

const CLIENT_ID: &str = "shop-client";
const SECRET: &str = "shop-secret";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn start_sign_in(s: &Server, token: Option<&str>) -> Value {
    let mut call = s
        .call(Method::POST, "/api/auth/oauth/fake/start")
        .json(json!({"redirect_uri": REDIRECT}));
    if let Some(t) = token {
        call = call.token(t);
    }
    call.send().await.expect(StatusCode::OK, None).clone()
}

/// The browser at the provider, and what it brings back: (code, state).
async fn at_provider(started: &Value) -> (String, String) {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = browser
        .get(started["authorization_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND);
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    let back: std::collections::HashMap<String, String> = url_pairs(&location);
    (back["code"].clone(), back["state"].clone())
}

fn url_pairs(location: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(location)
        .expect("a URL")
        .query_pairs()
        .into_owned()
        .collect()
}

async fn callback(
    s: &Server,
    code: &str,
    state: &str,
    cart: Option<&str>,
) -> crate::support::Reply {
    s.call(Method::POST, "/api/auth/oauth/fake/callback")
        .cart(cart)
        .json(json!({"code": code, "state": state}))
        .send()
        .await
}

fn person(subject: &str, email: &str, verified: bool) -> FakeUser {
    FakeUser {
        subject: subject.into(),
        email: email.into(),
        email_verified: verified,
        name: "Dee Example".into(),
    }
}

#[tokio::test]
async fn a_shopper_signs_in_with_the_provider_and_keeps_their_cart() {
    let provider = FakeProvider::start(CLIENT_ID, SECRET).await;
    let s = start_with_sign_in(provider.issuer(), CLIENT_ID, SECRET).await;
    let (status, _, providers) = s.get("/api/auth/oauth/providers").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        providers,
        json!([{"name": "fake", "display_name": "Fake ID"}])
    );

    // A guest's cart, merged at sign-in.
    let lamp = s
        .product("Lamp", rust_decimal::Decimal::new(1500, 2), 5)
        .await;
    let added = s
        .call(Method::POST, "/api/cart/items")
        .json(json!({"product_id": lamp.id.to_string(), "quantity": 2}))
        .send()
        .await;
    let cart_token = added.header("x-cart-token").unwrap().to_string();
    provider.sign_in_as(person("sub-dee", "dee@example.com", true));
    let started = start_sign_in(&s, None).await;
    let (code, state) = at_provider(&started).await;
    assert_eq!(state, started["state"]);
    let tokens = callback(&s, &code, &state, Some(&cart_token)).await;
    let tokens = tokens.expect(StatusCode::OK, None).clone();
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let (_, _, me) = s.get_as(&access, "/api/users/profile").await;
    assert_eq!(me["email"], "dee@example.com");
    assert_eq!(me["role"], "customer");
    let (_, _, cart) = s.get_as(&access, "/api/cart").await;
    assert_eq!(cart["items"][0]["quantity"], 2, "{cart}");
    // No password to give: the first one is set without `current_password`.
    s.call(Method::PUT, "/api/users/profile")
        .token(&access)
        .json(json!({"password": "a-brand-new-password"}))
        .send()
        .await
        .expect(StatusCode::OK, None);
    s.login("dee@example.com", "a-brand-new-password").await;
    // The same callback twice: the state was used.
    callback(&s, &code, &state, None)
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("oauth_failed"));
}

#[tokio::test]
async fn spoiled_tokens_and_foreign_redirects_are_refused() {
    let provider = FakeProvider::start(CLIENT_ID, SECRET).await;
    let s = start_with_sign_in(provider.issuer(), CLIENT_ID, SECRET).await;
    for spoil in [Spoil::Nonce, Spoil::Audience, Spoil::Expired] {
        provider.spoil_next_token(spoil);
        let (code, state) = at_provider(&start_sign_in(&s, None).await).await;
        callback(&s, &code, &state, None)
            .await
            .expect(StatusCode::UNAUTHORIZED, Some("oauth_failed"));
    }
    // The server's PKCE verifier is what redeems the code: a code bound to another one (as
    // an intercepted code redeemed elsewhere would be) is refused.
    provider.swap_next_challenge();
    let (code, state) = at_provider(&start_sign_in(&s, None).await).await;
    callback(&s, &code, &state, None)
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("oauth_failed"));
    // A made-up state.
    callback(&s, "code-1", "made-up", None)
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("oauth_failed"));
    // Back to somewhere not allowed (only loopback URIs when none are configured).
    let refused = s
        .call(Method::POST, "/api/auth/oauth/fake/start")
        .json(json!({"redirect_uri": "https://evil.example.com/callback"}))
        .send()
        .await;
    let problem = refused.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(problem["errors"][0]["field"], "redirect_uri");
    s.call(Method::POST, "/api/auth/oauth/nobody/start")
        .json(json!({"redirect_uri": REDIRECT}))
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
}

#[tokio::test]
async fn an_account_of_that_email_is_linked_by_its_owner_first() {
    let provider = FakeProvider::start(CLIENT_ID, SECRET).await;
    let s = start_with_sign_in(provider.issuer(), CLIENT_ID, SECRET).await;
    // Registered, email not verified: the provider's word is not enough.
    let eve = s.customer("eve@example.com").await;
    provider.sign_in_as(person("sub-eve", "eve@example.com", true));
    let (code, state) = at_provider(&start_sign_in(&s, None).await).await;
    callback(&s, &code, &state, None)
        .await
        .expect(StatusCode::CONFLICT, Some("account_link_required"));
    // Signed in, she links it; then it signs her in.
    let (code, state) = at_provider(&start_sign_in(&s, Some(&eve)).await).await;
    let linked = callback(&s, &code, &state, None).await;
    let access = linked.expect(StatusCode::OK, None)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, _, me) = s.get_as(&access, "/api/users/profile").await;
    assert_eq!(me["email"], "eve@example.com");
    let (code, state) = at_provider(&start_sign_in(&s, None).await).await;
    callback(&s, &code, &state, None)
        .await
        .expect(StatusCode::OK, None);
}
