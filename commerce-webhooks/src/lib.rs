//! The webhook sender of `commerce-core` over HTTP: each delivery a `POST` with
//! `content-type: application/json` and the Standard Webhooks headers the relay signed.
//!
//! What a shop's outbound requests must not do, it does not:
//! - **No redirects followed**: a 3xx is an answer (a failed attempt), never a second request
//!   somewhere else.
//! - **No private targets**: a URL naming, or a name resolving to, a loopback, private,
//!   link-local (cloud metadata among them), shared or unique-local address is refused, at
//!   every delivery and after DNS, so a name that later points inside the network is refused
//!   too (`allow_private` turns this off, for tests and for shops whose receivers are inside).
//!   No proxy is read from the environment, which would route around the check.
//! - **A timeout** (15 s by default) on the whole attempt; the answer's body is read up to
//!   64 KiB (so the connection can be used again) and otherwise ignored.
//! - TLS is rustls with the ring provider and the webpki roots, as `commerce-stripe`'s.
//!
//! ```
//! use commerce_webhooks::{HttpWebhookSender, SenderOptions};
//!
//! let sender = HttpWebhookSender::new(SenderOptions::default()).unwrap();
//! // commerce_core::Commerce::builder(store).webhook_sender(std::sync::Arc::new(sender))
//! # drop(sender);
//! ```

#![warn(missing_docs)]
// docs.rs marks each item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use commerce_core::ports::{WebhookAnswer, WebhookRequest, WebhookSender};
use commerce_core::webhook::is_private_target;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How the sender behaves.
#[derive(Debug, Clone)]
pub struct SenderOptions {
    /// The longest an attempt may take, connecting included (API.md: 15 s).
    pub timeout: Duration,
    /// Lets deliveries reach private, loopback and link-local addresses.
    pub allow_private: bool,
}

impl Default for SenderOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            allow_private: false,
        }
    }
}

/// Why the sender could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the webhook sender cannot be set up: {0}")]
pub struct SetupError(String);

/// The most of an answer's body read (and thrown away).
const MOST_BODY_READ: usize = 64 * 1024;

/// Sends deliveries with one pooled HTTP client.
pub struct HttpWebhookSender {
    client: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
}

impl HttpWebhookSender {
    /// A sender with `options`' timeout and private-target rule; fails only when its HTTP
    /// client cannot be made (TLS setup).
    pub fn new(options: SenderOptions) -> Result<HttpWebhookSender, SetupError> {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Losing a race to another installer is fine: one provider is set either way.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| SetupError(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(4)
            .user_agent(concat!("commerce-webhooks/", env!("CARGO_PKG_VERSION")));
        if !options.allow_private {
            builder = builder.dns_resolver(PublicAddressesOnly);
        }
        let client = builder.build().map_err(|e| SetupError(e.to_string()))?;
        Ok(HttpWebhookSender {
            client,
            allow_private: options.allow_private,
            timeout: options.timeout,
        })
    }

    /// Why a URL may not be sent to before any request: not a URL, not http(s), or an
    /// address literal that is private.
    fn refusal(&self, url: &reqwest::Url) -> Option<String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Some(format!("refused: {} is not an http(s) URL", url));
        }
        if self.allow_private {
            return None;
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(std::net::IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(std::net::IpAddr::V6(v6)),
            _ => None,
        };
        match literal {
            Some(ip) if is_private_target(ip) => Some(format!(
                "refused: {ip} is a private, loopback or link-local address"
            )),
            _ => None,
        }
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn send(&self, request: WebhookRequest) -> WebhookAnswer {
        let url = match reqwest::Url::parse(&request.url) {
            Ok(url) => url,
            Err(e) => return WebhookAnswer::NoAnswer(format!("refused: not a URL ({e})")),
        };
        if let Some(why) = self.refusal(&url) {
            return WebhookAnswer::NoAnswer(why);
        }
        let mut post = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in &request.headers {
            post = post.header(name.as_str(), value.as_str());
        }
        let mut answer = match post.body(request.body).send().await {
            Ok(answer) => answer,
            Err(e) => return WebhookAnswer::NoAnswer(describe(&e, self.timeout)),
        };
        let code = answer.status().as_u16();
        let retry_after = answer
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, chrono::Utc::now()));
        // Read a little of the body so the connection goes back to the pool; a receiver
        // that sends more is cut off (the attempt's outcome is its status).
        let mut read = 0;
        while read < MOST_BODY_READ {
            match answer.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        WebhookAnswer::Status { code, retry_after }
    }
}

/// A failed request in a line: the timeout, the refusal of a private address, or what the
/// connection said (its causes joined).
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&chrono::Utc) - now).to_std().ok()
}

/// Resolves names and keeps only public addresses: a name resolving only to private ones
/// is refused, so a delivery never reaches inside the network through DNS.
struct PublicAddressesOnly;

impl Resolve for PublicAddressesOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| !is_private_target(a.ip()))
                .collect();
            if public.is_empty() {
                return Err(format!(
                    "refused: {host} resolves only to private, loopback or link-local addresses"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-06T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Sun, 06 Dec 2026 10:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(retry_after("Sun, 06 Dec 2026 09:00:00 GMT", now), None);
        assert_eq!(retry_after("soon", now), None);
    }
}
