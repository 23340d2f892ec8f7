//! Social sign-in: an OpenID Connect client for one provider (Google, Apple, Microsoft,
//! Auth0, Keycloak, Okta: any that publishes a discovery document).
//!
//! - [`OidcClient::new`] takes the provider's settings; its discovery document is read from
//!   the issuer (`/.well-known/openid-configuration`) when first needed, kept an hour, and
//!   its `issuer` must be the configured one exactly. An `http://` issuer is accepted only on
//!   a loopback address (tests).
//! - [`OidcClient::authorization_url`] is where the browser goes: the authorization code flow
//!   with PKCE (S256, [`Pkce`]), and a `state` and `nonce` ([`random_token`]) the caller keeps.
//! - [`OidcClient::exchange`] trades the code for the ID token at the token endpoint,
//!   authenticating as the discovery document says (`client_secret_basic` where it says
//!   nothing, the specification's default; else `client_secret_post`).
//! - [`OidcClient::verify_id_token`] checks it: a signature by one of the provider's keys
//!   (fetched from its JWKS, kept, and fetched again once when a token names a key not yet
//!   seen; a key id looked for in vain is not looked for again for a minute), an algorithm on the allow-list (never `none`, never an HMAC one, which would make
//!   a public key a shared secret), `iss` exactly, `aud` containing the client id (and `azp`
//!   naming it when there are several), `exp`, `iat` with a minute's leeway, and the nonce.
//!
//! Feature `fake`: [`fake::FakeProvider`], a provider on 127.0.0.1 for tests.

#![warn(missing_docs)]
// docs.rs marks each item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

#[cfg(feature = "fake")]
#[cfg_attr(docsrs, doc(cfg(feature = "fake")))]
pub mod fake;

/// How long a discovery document is kept before it is read again.
const DISCOVERY_KEPT: Duration = Duration::from_secs(3600);
/// A key named by a token and not found after fetching the keys again is not looked for
/// again for this long; and the keys are fetched again at most `REFETCHES_PER_MINUTE` times a
/// minute: a flood of tokens naming made-up keys is not a flood of requests to the provider.
const MISSING_KEY_KEPT: Duration = Duration::from_secs(60);
const REFETCHES_PER_MINUTE: usize = 10;
/// Clock skew allowed on `exp` and `iat`.
const LEEWAY_SECONDS: i64 = 60;
/// The oldest `iat` taken: a flow lives 10 minutes.
const OLDEST_ISSUE_SECONDS: i64 = 600;

/// The signing algorithms an ID token may use: asymmetric ones only.
pub const ALLOWED_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// One provider, as the shop configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// The provider's name in the API (`google`).
    pub name: String,
    /// What a sign-in button says (`Google`).
    pub display_name: String,
    /// The issuer URL (`https://accounts.google.com`): its discovery document is read from
    /// `/.well-known/openid-configuration` under it, and ID tokens must name it. `http://`
    /// only on a loopback address (a test provider).
    pub issuer: String,
    /// The client id the provider gave the shop; ID tokens must be addressed to it.
    pub client_id: String,
    /// The client secret; sent to the token endpoint only, never logged.
    pub client_secret: String,
    /// Asked for besides `openid` (default `email profile`).
    pub scopes: Vec<String>,
}

/// What signing in with the provider failed on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The settings cannot work (an `http://` issuer off loopback, a discovery document of
    /// another issuer).
    #[error("the provider is not set up right: {0}")]
    Misconfigured(String),
    /// The provider cannot be reached or answered with a server error; worth trying again.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the code (used, expired, a wrong PKCE verifier or redirect URI).
    #[error("the provider refused the sign-in: {0}")]
    Refused(String),
    /// The ID token failed a check.
    #[error("the ID token is not valid: {0}")]
    InvalidToken(String),
}

/// The provider's discovery document: what this client uses of it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Discovery {
    /// Must be the configured issuer exactly.
    pub issuer: String,
    /// Where the browser is sent to sign in.
    pub authorization_endpoint: String,
    /// Where the server redeems the code.
    pub token_endpoint: String,
    /// The provider's signing keys (JWKS).
    pub jwks_uri: String,
    /// How the client may authenticate at the token endpoint (`client_secret_basic` when
    /// listed or absent, else `client_secret_post`).
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// The algorithms ID tokens may be signed with (RS256 is what this client takes).
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Option<Vec<String>>,
}

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The issuer that vouches for it.
    pub issuer: String,
    /// The user's stable id at that issuer (`sub`): with the issuer, what a sign-in is
    /// found by.
    pub subject: String,
    /// The email the provider gives, if any.
    pub email: Option<String>,
    /// Whether the provider vouches that the email is the user's.
    pub email_verified: bool,
    /// The user's name, if the provider gives one.
    pub name: Option<String>,
}

/// A PKCE pair: the verifier the server keeps and the S256 challenge the browser carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkce {
    /// Random, 43 characters of base64url: kept by the server until the callback.
    pub verifier: String,
    /// `BASE64URL(SHA256(verifier))`, sent in the authorization URL.
    pub challenge: String,
}

impl Pkce {
    /// A new verifier (32 random bytes, 43 characters) and its challenge.
    pub fn new() -> Result<Pkce, OidcError> {
        let verifier = random_token()?;
        let challenge = Pkce::challenge_of(&verifier);
        Ok(Pkce {
            verifier,
            challenge,
        })
    }

    /// The S256 challenge of a verifier: base64url of its SHA-256.
    pub fn challenge_of(verifier: &str) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    }
}

/// 32 random bytes in base64url: a `state`, a `nonce` or a PKCE verifier.
pub fn random_token() -> Result<String, OidcError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| OidcError::Unavailable(format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

struct Kept<T> {
    value: Arc<T>,
    at: Instant,
}

/// The provider's keys as last fetched, the key ids looked for in vain, and when the keys
/// were fetched again lately.
#[derive(Default)]
struct Keys {
    set: Option<Arc<JwkSet>>,
    missing: std::collections::HashMap<String, Instant>,
    refetched: std::collections::VecDeque<Instant>,
}

/// A client of one OpenID Connect provider. Cheap to share (`Arc` it).
pub struct OidcClient {
    settings: ProviderSettings,
    http: reqwest::Client,
    discovery: Mutex<Option<Kept<Discovery>>>,
    keys: Mutex<Keys>,
}

/// Whether `url` is http(s) as allowed: https anywhere, http only on a loopback host.
fn allowed_url(url: &str) -> Result<url::Url, OidcError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| OidcError::Misconfigured(format!("{url} is not a URL: {e}")))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        _ => Err(OidcError::Misconfigured(format!(
            "{url}: only https, or http on a loopback address"
        ))),
    }
}

fn http_client() -> Result<reqwest::Client, OidcError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| OidcError::Misconfigured(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("commerce-oidc/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| OidcError::Misconfigured(e.to_string()))
}

/// What a token endpoint answers.
#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
}

/// The claims checked beyond what the JWT library checks.
#[derive(Deserialize)]
struct IdClaims {
    iss: String,
    sub: String,
    aud: serde_json::Value,
    #[serde(default)]
    azp: Option<String>,
    iat: i64,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<String>,
}

impl OidcClient {
    /// A client of the provider `settings` name. Refuses an `http://` issuer off loopback;
    /// the provider is not called until the first sign-in (its discovery document and keys
    /// are then fetched and kept).
    ///
    /// ```
    /// use commerce_oidc::{OidcClient, OidcError, ProviderSettings};
    ///
    /// let google = |issuer: &str| ProviderSettings {
    ///     name: "google".into(),
    ///     display_name: "Google".into(),
    ///     issuer: issuer.into(),
    ///     client_id: "1234.apps.googleusercontent.com".into(),
    ///     client_secret: "from-the-environment".into(),
    ///     scopes: vec![], // openid, email and profile
    /// };
    /// let client = OidcClient::new(google("https://accounts.google.com"))?;
    /// assert_eq!(client.settings().name, "google");
    /// // Plain HTTP is for a provider on loopback (a test's) only.
    /// assert!(OidcClient::new(google("http://accounts.example")).is_err());
    /// # Ok::<(), OidcError>(())
    /// ```
    pub fn new(settings: ProviderSettings) -> Result<OidcClient, OidcError> {
        allowed_url(&settings.issuer)?;
        Ok(OidcClient {
            settings,
            http: http_client()?,
            discovery: Mutex::new(None),
            keys: Mutex::new(Keys::default()),
        })
    }

    /// What the client was made with.
    pub fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    /// The discovery document, read from the issuer when not kept (an hour).
    pub async fn discovery(&self) -> Result<Arc<Discovery>, OidcError> {
        let mut kept = self.discovery.lock().await;
        if let Some(k) = kept.as_ref().filter(|k| k.at.elapsed() < DISCOVERY_KEPT) {
            return Ok(k.value.clone());
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.settings.issuer.trim_end_matches('/')
        );
        let found: Discovery = self.get_json(&url).await?;
        if found.issuer != self.settings.issuer {
            return Err(OidcError::Misconfigured(format!(
                "the discovery document names issuer {}, not {}",
                found.issuer, self.settings.issuer
            )));
        }
        for endpoint in [
            &found.authorization_endpoint,
            &found.token_endpoint,
            &found.jwks_uri,
        ] {
            allowed_url(endpoint)?;
        }
        let value = Arc::new(found);
        *kept = Some(Kept {
            value: value.clone(),
            at: Instant::now(),
        });
        Ok(value)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let answer = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| OidcError::Unavailable(format!("{url}: {e}")))?;
        if !answer.status().is_success() {
            return Err(OidcError::Unavailable(format!(
                "{url} answered {}",
                answer.status()
            )));
        }
        answer
            .json()
            .await
            .map_err(|e| OidcError::Unavailable(format!("{url} sent what cannot be read: {e}")))
    }

    /// Where to send the browser: the authorization endpoint with the code flow's
    /// parameters.
    pub async fn authorization_url(
        &self,
        redirect_uri: &str,
        state: &str,
        nonce: &str,
        pkce_challenge: &str,
    ) -> Result<String, OidcError> {
        let discovery = self.discovery().await?;
        let mut url = allowed_url(&discovery.authorization_endpoint)?;
        let mut scope = vec!["openid".to_string()];
        if self.settings.scopes.is_empty() {
            scope.extend(["email".to_string(), "profile".to_string()]);
        } else {
            scope.extend(
                self.settings
                    .scopes
                    .iter()
                    .filter(|s| *s != "openid")
                    .cloned(),
            );
        }
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &scope.join(" "))
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", pkce_challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(url.into())
    }

    /// Trades an authorization code for its ID token (not yet checked: see
    /// [`verify_id_token`](Self::verify_id_token)).
    pub async fn exchange(
        &self,
        code: &str,
        pkce_verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, OidcError> {
        let discovery = self.discovery().await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", pkce_verifier),
        ];
        let methods = discovery.token_endpoint_auth_methods_supported.as_deref();
        let basic = methods.is_none_or(|m| m.iter().any(|x| x == "client_secret_basic"));
        let post = methods.is_some_and(|m| m.iter().any(|x| x == "client_secret_post"));
        let mut request = self.http.post(&discovery.token_endpoint);
        if basic {
            // RFC 6749 2.3.1: each part form-encoded before the Basic encoding.
            let id = form_encoded(&self.settings.client_id);
            let secret = form_encoded(&self.settings.client_secret);
            request = request.basic_auth(id, Some(secret));
        } else if post {
            form.push(("client_id", &self.settings.client_id));
            form.push(("client_secret", &self.settings.client_secret));
        } else {
            return Err(OidcError::Misconfigured(
                "the token endpoint takes neither client_secret_basic nor client_secret_post"
                    .into(),
            ));
        }
        let answer = request
            .form(&form)
            .send()
            .await
            .map_err(|e| OidcError::Unavailable(format!("token endpoint: {e}")))?;
        let status = answer.status();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(OidcError::Unavailable(format!(
                "the token endpoint answered {status}"
            )));
        }
        if !status.is_success() {
            let body = answer.text().await.unwrap_or_default();
            let error = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or_else(|| status.to_string());
            return Err(OidcError::Refused(error));
        }
        let tokens: TokenAnswer = answer.json().await.map_err(|e| {
            OidcError::Unavailable(format!("the token endpoint sent what cannot be read: {e}"))
        })?;
        tokens
            .id_token
            .ok_or_else(|| OidcError::InvalidToken("the token endpoint sent no ID token".into()))
    }

    /// The key a token names (`kid`; the only key when it names none): from the keys kept,
    /// else from the keys fetched again (once per key id a minute, ten times a minute at
    /// most: keys rotate, made-up ids must not make the client hammer the provider).
    async fn key_for(
        &self,
        kid: Option<&str>,
    ) -> Result<Option<jsonwebtoken::jwk::Jwk>, OidcError> {
        let find = |set: &JwkSet| match kid {
            Some(kid) => set.find(kid).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        let mut keys = self.keys.lock().await;
        if let Some(found) = keys.set.as_deref().and_then(find) {
            return Ok(Some(found));
        }
        let now = Instant::now();
        keys.missing
            .retain(|_, at| now.duration_since(*at) < MISSING_KEY_KEPT);
        keys.refetched
            .retain(|at| now.duration_since(*at) < Duration::from_secs(60));
        let name = kid.unwrap_or_default().to_string();
        let may_fetch = keys.set.is_none()
            || (!keys.missing.contains_key(&name) && keys.refetched.len() < REFETCHES_PER_MINUTE);
        if !may_fetch {
            return Ok(None);
        }
        let discovery = self.discovery().await?;
        let set: JwkSet = self.get_json(&discovery.jwks_uri).await?;
        let set = Arc::new(set);
        if keys.set.is_some() {
            keys.refetched.push_back(now);
        }
        keys.set = Some(set.clone());
        let found = find(&set);
        if found.is_none() {
            if keys.missing.len() >= 1000 {
                keys.missing.clear();
            }
            keys.missing.insert(name, now);
        }
        Ok(found)
    }

    /// Checks an ID token and says who signed in. `now` in Unix seconds.
    pub async fn verify_id_token(
        &self,
        token: &str,
        nonce: &str,
        now: i64,
    ) -> Result<Identity, OidcError> {
        let invalid = |why: String| OidcError::InvalidToken(why);
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| invalid(format!("its header cannot be read: {e}")))?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(invalid(format!(
                "{:?} is not an allowed algorithm",
                header.alg
            )));
        }
        let discovery = self.discovery().await?;
        if let Some(offered) = &discovery.id_token_signing_alg_values_supported {
            let name = format!("{:?}", header.alg);
            if !offered.contains(&name) {
                return Err(invalid(format!("the provider does not sign with {name}")));
            }
        }
        let jwk = self
            .key_for(header.kid.as_deref())
            .await?
            .ok_or_else(|| invalid("it names a key the provider does not publish".into()))?;
        if let Some(alg) = jwk.common.key_algorithm {
            if format!("{alg:?}") != format!("{:?}", header.alg) {
                return Err(invalid("its algorithm is not its key's".into()));
            }
        }
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| invalid(format!("the provider's key cannot be used: {e}")))?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS as u64;
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.client_id]);
        validation.validate_nbf = true;
        // `iat` is required by the claims' type (and checked below against `now`).
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
            .map_err(|e| invalid(e.to_string()))?
            .claims;
        // What the library checked, said again where a mistake would be costly.
        if claims.iss != self.settings.issuer {
            return Err(invalid("another issuer".into()));
        }
        let audiences: Vec<&str> = match &claims.aud {
            serde_json::Value::String(a) => vec![a.as_str()],
            serde_json::Value::Array(all) => all.iter().filter_map(|a| a.as_str()).collect(),
            _ => Vec::new(),
        };
        if !audiences.contains(&self.settings.client_id.as_str()) {
            return Err(invalid("it is for another client".into()));
        }
        if audiences.len() > 1 && claims.azp.as_deref() != Some(self.settings.client_id.as_str()) {
            return Err(invalid(
                "several audiences and no azp naming this client".into(),
            ));
        }
        if claims.iat > now + LEEWAY_SECONDS {
            return Err(invalid("issued in the future".into()));
        }
        if claims.iat < now - OLDEST_ISSUE_SECONDS {
            return Err(invalid("issued too long ago".into()));
        }
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(invalid("its nonce is not this sign-in's".into()));
        }
        let email_verified = match claims.email_verified {
            Some(serde_json::Value::Bool(b)) => b,
            // Some providers send it as a string.
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        };
        Ok(Identity {
            issuer: claims.iss,
            subject: claims.sub,
            email: claims.email,
            email_verified,
            name: claims.name,
        })
    }
}

/// `application/x-www-form-urlencoded` of one value.
fn form_encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn port_error(e: OidcError) -> commerce_core::ports::IdentityProviderError {
    use commerce_core::ports::IdentityProviderError as E;
    match e {
        OidcError::Unavailable(why) => E::Unavailable(why),
        OidcError::Refused(why) | OidcError::InvalidToken(why) => E::Refused(why),
        OidcError::Misconfigured(why) => E::Misconfigured(why),
    }
}

/// The client as the engine's identity provider port: `CommerceBuilder::identity_provider`.
#[async_trait::async_trait]
impl commerce_core::ports::IdentityProvider for OidcClient {
    fn name(&self) -> String {
        self.settings.name.clone()
    }

    fn display_name(&self) -> String {
        self.settings.display_name.clone()
    }

    async fn authorization_url(
        &self,
        redirect_uri: &str,
        state: &str,
        nonce: &str,
        pkce_challenge: &str,
    ) -> Result<String, commerce_core::ports::IdentityProviderError> {
        OidcClient::authorization_url(self, redirect_uri, state, nonce, pkce_challenge)
            .await
            .map_err(port_error)
    }

    async fn identify(
        &self,
        code: &str,
        pkce_verifier: &str,
        redirect_uri: &str,
        nonce: &str,
    ) -> Result<commerce_core::ports::VerifiedIdentity, commerce_core::ports::IdentityProviderError>
    {
        let token = self
            .exchange(code, pkce_verifier, redirect_uri)
            .await
            .map_err(port_error)?;
        let who = self
            .verify_id_token(&token, nonce, chrono::Utc::now().timestamp())
            .await
            .map_err(port_error)?;
        Ok(commerce_core::ports::VerifiedIdentity {
            issuer: who.issuer,
            subject: who.subject,
            email: who.email,
            email_verified: who.email_verified,
            name: who.name,
        })
    }
}
