//! The few Stripe endpoints the adapter uses, on reqwest: form-encoded requests with
//! Stripe's bracket notation, the pinned `Stripe-Version`, an `Idempotency-Key` on every
//! POST, timeouts, and retries with backoff on network errors, 429 and 5xx only (a retry
//! carries the same key, so Stripe answers it with the first result: nothing is charged or
//! refunded twice). Stripe's error bodies become [`StripeError`]s.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The API version every request pins, so that Stripe's answers keep the shape this adapter
/// reads whatever the account's default is.
pub const STRIPE_VERSION: &str = "2024-06-20";

/// What a Stripe call can come to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripeError {
    /// The card was declined: Stripe's message is meant for the customer.
    #[error("{message}")]
    Card {
        /// Stripe's message, meant for the customer.
        message: String,
        /// Stripe's error code (`card_declined`).
        code: Option<String>,
        /// The bank's reason (`insufficient_funds`).
        decline_code: Option<String>,
    },
    /// The request is not one Stripe takes (a parameter, an object's state).
    #[error("{message}")]
    InvalidRequest {
        /// Stripe's message.
        message: String,
        /// Stripe's error code (`payment_intent_unexpected_state`).
        code: Option<String>,
        /// The parameter it is about.
        param: Option<String>,
    },
    /// The API key was refused.
    #[error("Stripe refused the API key")]
    Authentication,
    /// Too many requests: retried with backoff, then reported.
    #[error("Stripe is rate limiting this account")]
    RateLimited,
    /// A retry carried a key already used for other parameters.
    #[error("{0}")]
    Idempotency(String),
    /// Stripe failed (5xx), or answered what this adapter cannot read.
    #[error("Stripe failed: {0}")]
    Api(String),
    /// Stripe could not be reached (or did not answer in time).
    #[error("Stripe could not be reached: {0}")]
    Network(String),
}

impl StripeError {
    /// A code Stripe gave for the refusal, for deciding what it means.
    pub fn code(&self) -> Option<&str> {
        match self {
            StripeError::Card { code, .. } | StripeError::InvalidRequest { code, .. } => {
                code.as_deref()
            }
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
    code: Option<String>,
    decline_code: Option<String>,
    param: Option<String>,
}

/// The secret API key; shown nowhere, not even in `Debug`.
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps a secret so that it is never printed.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for signing and headers only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// How calls are made.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `https://api.stripe.com`, or a fake's address in tests.
    pub api_base: String,
    /// A whole call (connecting, sending, reading the answer) at most.
    pub timeout: Duration,
    /// Retries after the first try, on network errors, 429 and 5xx.
    pub retries: u32,
    /// The first retry's pause; each next one doubles, up to 2 s, with jitter.
    pub backoff: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            api_base: "https://api.stripe.com".into(),
            timeout: Duration::from_secs(30),
            retries: 2,
            backoff: Duration::from_millis(250),
        }
    }
}

pub(crate) struct Client {
    http: reqwest::Client,
    key: SecretKey,
    options: ClientOptions,
}

/// A form of Stripe's bracket notation: `metadata[order_id]=...`, `line_items[0][quantity]=1`.
pub(crate) type Form = Vec<(String, String)>;

/// Makes ring the process's rustls provider, unless one is set already.
///
/// This crate turns on reqwest's `rustls-no-provider` (ring instead of the aws-lc C build),
/// and Cargo turns a feature on for every user of a crate in the build: a `reqwest::Client`
/// made elsewhere in the same program without TLS settings of its own then needs a provider
/// set for the process. The adapter sets it when it makes its client; call this first if
/// such a client may be made before.
pub fn install_tls_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: one provider is set either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// An HTTP client on rustls with the ring provider and the webpki roots: no system library
/// and no C build.
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
        .user_agent(concat!("commerce-stripe/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

impl Client {
    pub(crate) fn new(key: SecretKey, options: ClientOptions) -> Result<Client, String> {
        let http = http_client(options.timeout)?;
        Ok(Client { http, key, options })
    }

    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &Form,
        idempotency_key: &str,
    ) -> Result<T, StripeError> {
        self.call(reqwest::Method::POST, path, Some((form, idempotency_key)))
            .await
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, StripeError> {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<(&Form, &str)>,
    ) -> Result<T, StripeError> {
        let url = format!("{}{path}", self.options.api_base.trim_end_matches('/'));
        let mut attempt = 0u32;
        loop {
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(self.key.expose())
                .header("Stripe-Version", STRIPE_VERSION);
            if let Some((form, key)) = body {
                request = request.header("Idempotency-Key", key).form(form);
            }
            let outcome = match request.send().await {
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
                    tracing::debug!(error = %e, attempt, ?pause, "retrying a Stripe call");
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
/// Stripe asked for, if it did).
enum Attempt {
    Final(StripeError),
    Retry(StripeError, Option<Duration>),
}

/// A failure to reach Stripe, told by what failed.
fn network(e: reqwest::Error) -> StripeError {
    StripeError::Network(if e.is_timeout() {
        "the call timed out".into()
    } else if e.is_connect() {
        "the connection failed".into()
    } else {
        e.without_url().to_string()
    })
}

async fn read<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, Attempt> {
    let status = response.status();
    // Stripe says whether a failed request is worth retrying; it knows best.
    let should_retry = response
        .headers()
        .get("Stripe-Should-Retry")
        .and_then(|v| v.to_str().ok())
        .map(|v| v == "true");
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
        return serde_json::from_slice(&bytes).map_err(|e| {
            Attempt::Final(StripeError::Api(format!(
                "an answer that cannot be read: {e}"
            )))
        });
    }
    let detail = serde_json::from_slice::<ErrorBody>(&bytes)
        .ok()
        .map(|b| b.error);
    let message = detail
        .as_ref()
        .and_then(|d| d.message.clone())
        .unwrap_or_else(|| format!("HTTP {status}"));
    let error = match (status.as_u16(), detail) {
        (401, _) => StripeError::Authentication,
        (429, _) => StripeError::RateLimited,
        (_, Some(d)) if d.kind.as_deref() == Some("card_error") => StripeError::Card {
            message,
            code: d.code,
            decline_code: d.decline_code,
        },
        (_, Some(d)) if d.kind.as_deref() == Some("idempotency_error") => {
            StripeError::Idempotency(message)
        }
        (s, _) if s >= 500 => StripeError::Api(message),
        (_, Some(d)) => StripeError::InvalidRequest {
            message,
            code: d.code,
            param: d.param,
        },
        (_, None) => StripeError::InvalidRequest {
            message,
            code: None,
            param: None,
        },
    };
    let retry = match should_retry {
        Some(told) => told,
        None => status.as_u16() == 429 || status.is_server_error(),
    };
    Err(if retry {
        Attempt::Retry(error, retry_after)
    } else {
        Attempt::Final(error)
    })
}
