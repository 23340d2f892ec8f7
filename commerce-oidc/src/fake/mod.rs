//! A fake OpenID Connect provider on 127.0.0.1, for tests: a discovery document, its keys
//! (RS256), an authorize endpoint that approves at once (a 302 to the redirect URI with a
//! code and the state), and a token endpoint that checks the client's secret (Basic), the
//! code (once), the redirect URI and the PKCE verifier before it signs an ID token.
//!
//! A test says who signs in next ([`FakeProvider::sign_in_as`]) and may spoil the next ID
//! token ([`Spoil`]: another nonce, another audience, expired, signed with a key the provider
//! does not publish, `alg: none`, HS256 keyed by the public key) to see each refused, or
//! rotate the signing key to see the client fetch the keys again.
//!
//! A whole sign-in, as a shop's server runs it (the browser's part played by a client that
//! does not follow the redirect):
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use commerce_oidc::fake::{FakeProvider, FakeUser};
//! use commerce_oidc::{random_token, OidcClient, Pkce, ProviderSettings};
//!
//! let provider = FakeProvider::start("shop-client", "shop-secret").await;
//! provider.sign_in_as(FakeUser {
//!     subject: "sub-42".into(), email: "bea@example.com".into(), email_verified: true, name: "Bea".into(),
//! });
//! let client = OidcClient::new(ProviderSettings {
//!     name: "fake".into(), display_name: "Fake".into(), issuer: provider.issuer().into(),
//!     client_id: "shop-client".into(), client_secret: "shop-secret".into(), scopes: vec![],
//! })?;
//!
//! // The shop keeps state, nonce and the PKCE verifier with the browser's session.
//! let (state, nonce, pkce) = (random_token()?, random_token()?, Pkce::new()?);
//! let callback = "http://127.0.0.1:9/auth/callback";
//! let url = client.authorization_url(callback, &state, &nonce, &pkce.challenge).await?;
//!
//! let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
//! let answer = browser.get(&url).send().await?;
//! let back = url::Url::parse(answer.headers()["location"].to_str()?)?;
//! let query: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
//! assert_eq!(query["state"], state);
//!
//! let id_token = client.exchange(&query["code"], &pkce.verifier, callback).await?;
//! let who = client.verify_id_token(&id_token, &nonce, chrono::Utc::now().timestamp()).await?;
//! assert_eq!((who.subject.as_str(), who.email.as_deref()), ("sub-42", Some("bea@example.com")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{handler, EndpointExt, Request, Response, Route};
use serde_json::{json, Value};

use crate::Pkce;

/// The fake's two signing keys (RSA 2048, PKCS#1 DER) and their moduli (base64url).
const KEYS: [(&str, &[u8], &str); 2] = [
    (
        "fake-key-1",
        include_bytes!("first.der"),
        include_str!("first.n"),
    ),
    (
        "fake-key-2",
        include_bytes!("second.der"),
        include_str!("second.n"),
    ),
];

/// How the next ID token is spoiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spoil {
    /// Another sign-in's nonce.
    Nonce,
    /// For another client.
    Audience,
    /// Two audiences and no `azp`.
    SeveralAudiences,
    /// Expired an hour ago.
    Expired,
    /// Issued by another issuer.
    Issuer,
    /// Signed with a key the provider does not publish.
    UnpublishedKey,
    /// `alg: none`, no signature.
    NoSignature,
    /// HS256 with the published public key's modulus as the secret.
    SymmetricWithPublicKey,
}

/// Who the authorize endpoint signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    /// The ID token's `sub`.
    pub subject: String,
    /// Its `email`.
    pub email: String,
    /// Its `email_verified`.
    pub email_verified: bool,
    /// Its `name`.
    pub name: String,
}

struct Grant {
    user: FakeUser,
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

struct State {
    user: FakeUser,
    /// Index into `KEYS` of the key that signs and is published.
    signing: usize,
    /// Whether the other key is published too (after a rotation, both for a while).
    publish_both: bool,
    grants: HashMap<String, Grant>,
    spoil: Option<Spoil>,
    next_code: u64,
    token_requests: u64,
    key_requests: u64,
    /// Only `client_secret_post` in the discovery document.
    post_only: bool,
    /// The next authorization keeps another challenge than the one it was given: its code
    /// is then redeemed with a verifier that does not match, as an intercepted code would be.
    swap_next_challenge: bool,
}

struct Shared {
    issuer: String,
    client_id: String,
    client_secret: String,
    state: Mutex<State>,
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running fake provider; stops when dropped.
pub struct FakeProvider {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeProvider {
    /// Starts a provider on a free loopback port for the client `client_id`.
    pub async fn start(client_id: &str, client_secret: &str) -> FakeProvider {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("a free loopback port for the fake provider");
        let addr = *acceptor.local_addr()[0]
            .as_socket_addr()
            .expect("a socket address");
        let shared = Arc::new(Shared {
            issuer: format!("http://{addr}"),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            state: Mutex::new(State {
                user: FakeUser {
                    subject: "fake-subject-1".into(),
                    email: "ann@example.com".into(),
                    email_verified: true,
                    name: "Ann".into(),
                },
                signing: 0,
                publish_both: false,
                grants: HashMap::new(),
                spoil: None,
                next_code: 1,
                token_requests: 0,
                key_requests: 0,
                post_only: false,
                swap_next_challenge: false,
            }),
        });
        let app = Route::new()
            .at("/.well-known/openid-configuration", discovery)
            .at("/jwks", jwks)
            .at("/authorize", authorize)
            .at("/token", token)
            .data(shared.clone());
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        FakeProvider { shared, server }
    }

    /// The issuer: `http://127.0.0.1:<port>`.
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    /// Who the next authorization signs in.
    pub fn sign_in_as(&self, user: FakeUser) {
        lock(&self.shared).user = user;
    }

    /// Spoils the next ID token the token endpoint signs.
    pub fn spoil_next_token(&self, spoil: Spoil) {
        lock(&self.shared).spoil = Some(spoil);
    }

    /// Signs with the other key from now on, publishing both (a rotation in progress) or the
    /// new one only.
    pub fn rotate_key(&self, publish_both: bool) {
        let mut s = lock(&self.shared);
        s.signing = 1 - s.signing;
        s.publish_both = publish_both;
    }

    /// Makes the next authorization's code need another PKCE verifier than the client's:
    /// what a code intercepted and redeemed by someone else looks like to the provider.
    pub fn swap_next_challenge(&self) {
        lock(&self.shared).swap_next_challenge = true;
    }

    /// Offers only `client_secret_post` at the token endpoint.
    pub fn only_client_secret_post(&self) {
        lock(&self.shared).post_only = true;
    }

    /// How many times the token endpoint was called.
    pub fn token_requests(&self) -> u64 {
        lock(&self.shared).token_requests
    }

    /// How many times the keys were fetched.
    pub fn key_requests(&self) -> u64 {
        lock(&self.shared).key_requests
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

#[handler]
fn discovery(shared: Data<&Arc<Shared>>) -> Response {
    let issuer = &shared.issuer;
    let methods = if lock(&shared).post_only {
        json!(["client_secret_post"])
    } else {
        json!(["client_secret_basic", "client_secret_post"])
    };
    json_response(
        StatusCode::OK,
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": methods,
            "code_challenge_methods_supported": ["S256"],
        }),
    )
}

fn public_key(index: usize) -> Value {
    let (kid, _, modulus) = KEYS[index];
    json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": modulus.trim(), "e": "AQAB"})
}

#[handler]
fn jwks(shared: Data<&Arc<Shared>>) -> Response {
    let mut s = lock(&shared);
    s.key_requests += 1;
    let mut keys = vec![public_key(s.signing)];
    if s.publish_both {
        keys.push(public_key(1 - s.signing));
    }
    json_response(StatusCode::OK, json!({ "keys": keys }))
}

#[handler]
fn authorize(req: &Request, shared: Data<&Arc<Shared>>) -> Response {
    let query: HashMap<String, String> =
        serde_urlencoded::from_str(req.uri().query().unwrap_or_default()).unwrap_or_default();
    let get = |k: &str| query.get(k).cloned().unwrap_or_default();
    if get("response_type") != "code"
        || get("client_id") != shared.client_id
        || get("code_challenge_method") != "S256"
        || get("code_challenge").is_empty()
        || get("redirect_uri").is_empty()
        || !get("scope").split(' ').any(|s| s == "openid")
    {
        return json_response(StatusCode::BAD_REQUEST, json!({"error": "invalid_request"}));
    }
    let mut s = lock(&shared);
    let code = format!("code-{}", s.next_code);
    s.next_code += 1;
    let challenge = if std::mem::take(&mut s.swap_next_challenge) {
        Pkce::challenge_of("a verifier nobody was given")
    } else {
        get("code_challenge")
    };
    let grant = Grant {
        user: s.user.clone(),
        nonce: get("nonce"),
        challenge,
        redirect_uri: get("redirect_uri"),
    };
    s.grants.insert(code.clone(), grant);
    let separator = if get("redirect_uri").contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!(
        "{}{separator}{}",
        get("redirect_uri"),
        serde_urlencoded::to_string([("code", code.as_str()), ("state", get("state").as_str())])
            .unwrap_or_default()
    );
    Response::builder()
        .status(StatusCode::FOUND)
        .header("Location", location)
        .finish()
}

/// The client id and secret of a token request: from Basic, or from the form.
fn client_of(req: &Request, form: &HashMap<String, String>) -> Option<(String, String)> {
    if let Some(basic) = req
        .header("Authorization")
        .and_then(|h| h.strip_prefix("Basic "))
    {
        let decoded = String::from_utf8(STANDARD.decode(basic).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let unform = |s: &str| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
                .ok()
                .and_then(|v| v.into_iter().next().map(|(_, v)| v))
        };
        return Some((unform(id)?, unform(secret)?));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

#[handler]
async fn token(req: &Request, body: poem::Body, shared: Data<&Arc<Shared>>) -> Response {
    let bytes = body.into_vec().await.unwrap_or_default();
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let refuse = |error: &str| json_response(StatusCode::BAD_REQUEST, json!({"error": error}));
    let mut s = lock(&shared);
    s.token_requests += 1;
    match client_of(req, &form) {
        Some((id, secret)) if id == shared.client_id && secret == shared.client_secret => {}
        _ => return json_response(StatusCode::UNAUTHORIZED, json!({"error": "invalid_client"})),
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return refuse("unsupported_grant_type");
    }
    // A code works once, whatever comes of it.
    let Some(grant) = form.get("code").and_then(|c| s.grants.remove(c)) else {
        return refuse("invalid_grant");
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return refuse("invalid_grant");
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if Pkce::challenge_of(&verifier) != grant.challenge {
        return refuse("invalid_grant");
    }
    let spoil = s.spoil.take();
    let signing = s.signing;
    drop(s);
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": shared.issuer,
        "sub": grant.user.subject,
        "aud": shared.client_id,
        "iat": now,
        "exp": now + 300,
        "nonce": grant.nonce,
        "email": grant.user.email,
        "email_verified": grant.user.email_verified,
        "name": grant.user.name,
    });
    match spoil {
        Some(Spoil::Nonce) => claims["nonce"] = json!("another-sign-in"),
        Some(Spoil::Audience) => claims["aud"] = json!("another-client"),
        Some(Spoil::SeveralAudiences) => {
            claims["aud"] = json!([shared.client_id, "another-client"])
        }
        Some(Spoil::Expired) => {
            claims["iat"] = json!(now - 3600);
            claims["exp"] = json!(now - 3000);
        }
        Some(Spoil::Issuer) => claims["iss"] = json!("https://impostor.example.com"),
        _ => {}
    }
    let id_token = match spoil {
        Some(Spoil::NoSignature) => {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
            format!("{header}.{payload}.")
        }
        Some(Spoil::SymmetricWithPublicKey) => {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(KEYS[signing].0.to_string());
            let secret = KEYS[signing].2.trim().as_bytes();
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret))
                .unwrap_or_default()
        }
        _ => {
            // The unpublished key is the other one, under a name nobody published.
            let (key, kid) = match spoil {
                Some(Spoil::UnpublishedKey) => (1 - signing, "never-published"),
                _ => (signing, KEYS[signing].0),
            };
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some(kid.to_string());
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_der(KEYS[key].1))
                .unwrap_or_default()
        }
    };
    json_response(
        StatusCode::OK,
        json!({"access_token": "fake-access-token", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}),
    )
}
