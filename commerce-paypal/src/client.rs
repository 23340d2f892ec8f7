//! The few PayPal endpoints the adapter uses, on reqwest: an OAuth access token from the
//! client credentials (cached until shortly before it expires, fetched again once when PayPal
//! answers 401), JSON requests with a `PayPal-Request-Id` on every write (a retry carries the
//! same id, so PayPal answers it with the first result: nothing is captured or refunded
//! twice), timeouts, and retries with backoff on network errors, 429 and 5xx only. PayPal's
//! error bodies become [`PayPalError`]s.

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

/// What a PayPal call can come to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayPalError {
    /// PayPal refused the request as it is (`UNPROCESSABLE_ENTITY`, `INVALID_REQUEST`,
    /// `RESOURCE_NOT_FOUND`...): `issue` is the first of its details (`INSTRUMENT_DECLINED`,
    /// `ORDER_NOT_APPROVED`, `ORDER_ALREADY_CAPTURED`, ...).
    #[error("{message}")]
    Refused {
        /// The HTTP status (400, 404, 409, 422).
        status: u16,
        /// PayPal's error name (`UNPROCESSABLE_ENTITY`).
        name: Option<String>,
        /// The first detail's issue (`INSTRUMENT_DECLINED`).
        issue: Option<String>,
        /// PayPal's description of it.
        message: String,
    },
    /// The client id and secret were refused.
    #[error("PayPal refused the client credentials")]
    Authentication,
    /// Too many requests: retried with backoff, then reported.
    #[error("PayPal is rate limiting this account")]
    RateLimited,
    /// PayPal failed (5xx), or answered what this adapter cannot read.
    #[error("PayPal failed: {0}")]
    Api(String),
    /// PayPal could not be reached (or did not answer in time).
    #[error("PayPal could not be reached: {0}")]
    Network(String),
}

impl PayPalError {
    /// The issue PayPal named, for deciding what a refusal means.
    pub fn issue(&self) -> Option<&str> {
        match self {
            PayPalError::Refused { issue, .. } => issue.as_deref(),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    name: Option<String>,
    message: Option<String>,
    #[serde(default)]
    details: Vec<ErrorDetail>,
    // OAuth's errors: `{"error": "invalid_client", "error_description": ...}`.
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    issue: Option<String>,
    description: Option<String>,
}

/// The client secret; shown nowhere, not even in `Debug`.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret so that it is never printed.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(***)")
    }
}

/// How calls are made.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `https://api-m.sandbox.paypal.com` (the default), `https://api-m.paypal.com` for live
    /// payments, or a fake's address in tests.
    pub api_base: String,
    /// A whole call (connecting, sending, reading the answer) at most.
    pub timeout: Duration,
    /// Retries after the first try, on network errors, 429 and 5xx.
    pub retries: u32,
    /// The first retry's pause; each next one doubles, up to 2 s, with jitter.
    pub backoff: Duration,
}

/// PayPal's sandbox, where a shop tries PayPal before taking real money.
pub const SANDBOX: &str = "https://api-m.sandbox.paypal.com";
/// PayPal's live API.
pub const LIVE: &str = "https://api-m.paypal.com";

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            api_base: SANDBOX.into(),
            timeout: Duration::from_secs(30),
            retries: 2,
            backoff: Duration::from_millis(250),
        }
    }
}

/// An access token and when to stop using it.
struct Token {
    value: String,
    renew_at: Instant,
}

pub(crate) struct Client {
    http: reqwest::Client,
    client_id: String,
    secret: ClientSecret,
    options: ClientOptions,
    /// One token for every call; the lock also makes concurrent first calls fetch it once.
    token: Mutex<Option<Token>>,
}

/// Makes ring the process's rustls provider, unless one is set already (see
/// `commerce-stripe`'s function of the same name: the same feature, the same reason).
pub fn install_tls_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: one provider is set either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// An HTTP client on rustls with the ring provider and the webpki roots, never following
/// redirects (a certificate URL must be what was checked, not where it leads).
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    install_tls_provider();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("commerce-paypal/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<u64>,
}

impl Client {
    pub(crate) fn new(
        client_id: String,
        secret: ClientSecret,
        options: ClientOptions,
    ) -> Result<Client, String> {
        let http = http_client(options.timeout)?;
        Ok(Client {
            http,
            client_id,
            secret,
            options,
            token: Mutex::new(None),
        })
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.options.api_base.trim_end_matches('/'))
    }

    /// The cached token, or a new one; `stale` is a token PayPal just refused, replaced even
    /// if it has not expired yet.
    async fn token(&self, stale: Option<&str>) -> Result<String, PayPalError> {
        let mut slot = self.token.lock().await;
        if let Some(token) = slot.as_ref() {
            let refused = stale == Some(token.value.as_str());
            if !refused && Instant::now() < token.renew_at {
                return Ok(token.value.clone());
            }
        }
        let answer: TokenAnswer = self
            .with_retries(|| {
                self.http
                    .post(self.url("/v1/oauth2/token"))
                    .basic_auth(&self.client_id, Some(self.secret.expose()))
                    .form(&[("grant_type", "client_credentials")])
            })
            .await?;
        // Renewed a minute early (or at half its life when it is short), so that no call
        // carries a token that expires on the way.
        let life = Duration::from_secs(answer.expires_in.unwrap_or(300));
        let margin = Duration::from_secs(60).min(life / 2);
        *slot = Some(Token {
            value: answer.access_token.clone(),
            renew_at: Instant::now() + (life - margin),
        });
        Ok(answer.access_token)
    }

    /// A JSON POST with its `PayPal-Request-Id`.
    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
        request_id: &str,
    ) -> Result<T, PayPalError> {
        self.authorized(|token| {
            self.http
                .post(self.url(path))
                .bearer_auth(token)
                .header("PayPal-Request-Id", request_id)
                .header("Prefer", "return=representation")
                .json(body)
        })
        .await
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, PayPalError> {
        self.authorized(|token| self.http.get(self.url(path)).bearer_auth(token))
            .await
    }

    /// A call with the access token; a 401 fetches a new token once and tries again.
    async fn authorized<T: DeserializeOwned>(
        &self,
        request: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<T, PayPalError> {
        let token = self.token(None).await?;
        match self.with_retries(|| request(&token)).await {
            Err(PayPalError::Authentication) => {
                let fresh = self.token(Some(&token)).await?;
                self.with_retries(|| request(&fresh)).await
            }
            other => other,
        }
    }

    async fn with_retries<T: DeserializeOwned>(
        &self,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<T, PayPalError> {
        let mut attempt = 0u32;
        loop {
            let outcome = match request().send().await {
                Ok(response) => read(response).await,
                Err(e) => Err(Attempt::Retry(network(e), None)),
            };
            match outcome {
                Ok(value) => return Ok(value),
                Err(Attempt::Final(e)) => return Err(e),
                Err(Attempt::Retry(e, _)) if attempt >= self.options.retries => return Err(e),
                Err(Attempt::Retry(e, after)) => {
                    attempt += 1;
                    let pause = after.unwrap_or_else(|| self.backoff(attempt));
                    tracing::debug!(error = %e, attempt, ?pause, "retrying a PayPal call");
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    /// The pause before retry `attempt` (from 1): doubling from the first, at most 2 s, with
    /// up to a quarter more at random so that many clients do not retry in step.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .options
            .backoff
            .saturating_mul(1 << (attempt - 1).min(8))
            .min(Duration::from_secs(2));
        let jitter = u32::from(uuid::Uuid::new_v4().as_bytes()[0]);
        base + base * jitter / 1024
    }
}

/// An attempt's end: a result to return, or an error worth another try (after a pause
/// PayPal asked for, if it did).
enum Attempt {
    Final(PayPalError),
    Retry(PayPalError, Option<Duration>),
}

/// A failure to reach PayPal, told by what failed.
fn network(e: reqwest::Error) -> PayPalError {
    PayPalError::Network(if e.is_timeout() {
        "the call timed out".into()
    } else if e.is_connect() {
        "the connection failed".into()
    } else {
        e.without_url().to_string()
    })
}

async fn read<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, Attempt> {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(5)));
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Attempt::Retry(network(e), None))?;
    if status.is_success() {
        // A capture answered `204 No Content` (without `Prefer`) is still an object.
        let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
        return serde_json::from_slice(bytes).map_err(|e| {
            Attempt::Final(PayPalError::Api(format!(
                "an answer that cannot be read: {e}"
            )))
        });
    }
    let body = serde_json::from_slice::<ErrorBody>(&bytes).ok();
    let code = status.as_u16();
    if code == 401 {
        return Err(Attempt::Final(PayPalError::Authentication));
    }
    if code == 429 {
        return Err(Attempt::Retry(PayPalError::RateLimited, retry_after));
    }
    let message = body
        .as_ref()
        .and_then(|b| {
            let detail = b.details.first().and_then(|d| d.description.clone());
            detail
                .or_else(|| b.message.clone())
                .or_else(|| b.error_description.clone())
        })
        .unwrap_or_else(|| format!("HTTP {status}"));
    if status.is_server_error() {
        return Err(Attempt::Retry(PayPalError::Api(message), retry_after));
    }
    let (name, issue) = match body {
        Some(b) => (
            b.name.or(b.error),
            b.details.into_iter().find_map(|d| d.issue),
        ),
        None => (None, None),
    };
    Err(Attempt::Final(PayPalError::Refused {
        status: code,
        name,
        issue,
        message,
    }))
}
