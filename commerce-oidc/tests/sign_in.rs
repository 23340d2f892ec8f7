//! The whole code flow against the fake provider on 127.0.0.1, as a shop's server runs it,
//! and each check that must refuse a sign-in.

use commerce_oidc::fake::{FakeProvider, FakeUser, Spoil};
use commerce_oidc::{random_token, OidcClient, OidcError, Pkce, ProviderSettings};

const CLIENT_ID: &str = "shop-client";
const SECRET: &str = "s3cret:with/odd&chars";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn client(provider: &FakeProvider) -> OidcClient {
    OidcClient::new(ProviderSettings {
        name: "fake".into(),
        display_name: "Fake".into(),
        issuer: provider.issuer().to_string(),
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        scopes: Vec::new(),
    })
    .unwrap()
}

/// What the browser brings back to the shop's callback: the code and the state.
async fn authorize(client: &OidcClient, state: &str, nonce: &str, pkce: &Pkce) -> (String, String) {
    let url = client
        .authorization_url(REDIRECT, state, nonce, &pkce.challenge)
        .await
        .unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = browser.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), 302, "{url}");
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    let back = url::Url::parse(&location).unwrap();
    assert!(location.starts_with(REDIRECT));
    let pairs: std::collections::HashMap<String, String> =
        back.query_pairs().into_owned().collect();
    (pairs["code"].clone(), pairs["state"].clone())
}

/// One whole sign-in; the identity, or what refused it.
async fn sign_in(client: &OidcClient) -> Result<commerce_oidc::Identity, OidcError> {
    let (state, nonce, pkce) = (random_token()?, random_token()?, Pkce::new()?);
    let (code, came_back) = authorize(client, &state, &nonce, &pkce).await;
    assert_eq!(came_back, state);
    let id_token = client.exchange(&code, &pkce.verifier, REDIRECT).await?;
    client
        .verify_id_token(&id_token, &nonce, chrono::Utc::now().timestamp())
        .await
}

fn invalid(result: Result<commerce_oidc::Identity, OidcError>) -> String {
    match result {
        Err(OidcError::InvalidToken(why)) => why,
        other => panic!("expected an invalid token, got {other:?}"),
    }
}

#[tokio::test]
async fn a_sign_in_goes_through_and_says_who_it_is() {
    let provider = FakeProvider::start(CLIENT_ID, SECRET).await;
    provider.sign_in_as(FakeUser {
        subject: "sub-42".into(),
        email: "bea@example.com".into(),
        email_verified: true,
        name: "Bea".into(),
    });
    let client = client(&provider);
    let identity = sign_in(&client).await.unwrap();
    assert_eq!(identity.issuer, provider.issuer());
    assert_eq!(identity.subject, "sub-42");
    assert_eq!(identity.email.as_deref(), Some("bea@example.com"));
    assert!(identity.email_verified);
    assert_eq!(identity.name.as_deref(), Some("Bea"));
    // The PKCE challenge of a verifier is base64url SHA-256 (RFC 7636's example).
    assert_eq!(
        Pkce::challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[tokio::test]
async fn spoiled_tokens_are_refused() {
    let provider = FakeProvider::start(CLIENT_ID, SECRET).await;
    let client = client(&provider);
    for (spoil, because) in [
        (Spoil::Nonce, "nonce"),
        (Spoil::Audience, "InvalidAudience"),
        (Spoil::SeveralAudiences, "azp"),
        (Spoil::Expired, "ExpiredSignature"),
        (Spoil::Issuer, "InvalidIssuer"),
        (Spoil::UnpublishedKey, "does not publish"),
        (Spoil::NoSignature, "header"),
        (Spoil::SymmetricWithPublicKey, "not an allowed algorithm"),
    ] {
        provider.spoil_next_token(spoil);
        let why = invalid(sign_in(&client).await);
        assert!(
            why.contains(because),
            "{spoil:?} refused for another reason: {why}"
        );
    }
    // And a sound one still goes through.
    sign_in(&client).await.unwrap();
}

#[tokio::test]
async fn a_wrong_verifier_a_used_code_and_another_redirect_are_refused_by_the_provider() {
    let provider = FakeProvider::start(CLIENT_ID, SECRET).await;
    let client = client(&provider);
    let (state, nonce, pkce) = (
        random_token().unwrap(),
        random_token().unwrap(),
        Pkce::new().unwrap(),
    );
    let (code, _) = authorize(&client, &state, &nonce, &pkce).await;
    let other = Pkce::new().unwrap();
    assert_eq!(
        client.exchange(&code, &other.verifier, REDIRECT).await,
        Err(OidcError::Refused("invalid_grant".into()))
    );
    // The code was spent by the failed try, as providers do.
    assert_eq!(
        client.exchange(&code, &pkce.verifier, REDIRECT).await,
        Err(OidcError::Refused("invalid_grant".into()))
    );
    let (code, _) = authorize(&client, &state, &nonce, &pkce).await;
    assert_eq!(
        client
            .exchange(&code, &pkce.verifier, "http://127.0.0.1:9/elsewhere")
            .await,
        Err(OidcError::Refused("invalid_grant".into()))
    );
    let (code, _) = authorize(&client, &state, &nonce, &pkce).await;
    client
        .exchange(&code, &pkce.verifier, REDIRECT)
        .await
        .unwrap();
    assert_eq!(
        client.exchange(&code, &pkce.verifier, REDIRECT).await,
        Err(OidcError::Refused("invalid_grant".into())),
        "a code works once"
    );
}

#[tokio::test]
async fn rotated_keys_are_fetched_again_and_made_up_ones_not_twice() {
    let provider = FakeProvider::start(CLIENT_ID, SECRET).await;
    let client = client(&provider);
    sign_in(&client).await.unwrap();
    assert_eq!(provider.key_requests(), 1);
    // The provider now signs with a key the client has not seen: it fetches the keys again.
    provider.rotate_key(false);
    sign_in(&client).await.unwrap();
    assert_eq!(provider.key_requests(), 2);
    sign_in(&client).await.unwrap();
    assert_eq!(provider.key_requests(), 2, "kept");
    // A key nobody publishes: looked for once, then refused without asking again.
    provider.spoil_next_token(Spoil::UnpublishedKey);
    let why = invalid(sign_in(&client).await);
    assert!(why.contains("key"), "{why}");
    assert_eq!(provider.key_requests(), 3);
    provider.spoil_next_token(Spoil::UnpublishedKey);
    invalid(sign_in(&client).await);
    assert_eq!(provider.key_requests(), 3);
}

#[tokio::test]
async fn the_client_authenticates_as_the_provider_offers_and_refuses_plain_http_elsewhere() {
    let provider = FakeProvider::start(CLIENT_ID, SECRET).await;
    provider.only_client_secret_post();
    let client = client(&provider);
    sign_in(&client).await.unwrap();
    let wrong_secret = OidcClient::new(ProviderSettings {
        client_secret: "wrong".into(),
        ..client.settings().clone()
    })
    .unwrap();
    let (state, nonce, pkce) = (
        random_token().unwrap(),
        random_token().unwrap(),
        Pkce::new().unwrap(),
    );
    let (code, _) = authorize(&wrong_secret, &state, &nonce, &pkce).await;
    assert_eq!(
        wrong_secret.exchange(&code, &pkce.verifier, REDIRECT).await,
        Err(OidcError::Refused("invalid_client".into()))
    );
    let off_loopback = OidcClient::new(ProviderSettings {
        issuer: "http://accounts.example.com".into(),
        ..client.settings().clone()
    });
    assert!(matches!(off_loopback, Err(OidcError::Misconfigured(_))));
}
