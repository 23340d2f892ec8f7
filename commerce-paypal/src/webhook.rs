//! PayPal's webhooks, verified offline (no call to PayPal's verify-webhook-signature API):
//! PayPal signs `transmission_id|transmission_time|webhook_id|crc32` (the CRC32 of the raw
//! body as an unsigned decimal) with RSA-SHA256 under the certificate whose URL it sends in
//! `PAYPAL-CERT-URL`. The certificate is fetched only from hosts on an allow-list (PayPal's
//! own by default; anyone could otherwise sign with a certificate of their own), only over
//! HTTPS unless the host is a loopback test fake, must be within its validity, and is kept
//! for a day. Then the events the shop acts on are read.
//! <https://developer.paypal.com/api/rest/webhooks/rest/#link-verifysignature>

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, Utc};
use commerce_core::ids::PaymentId;
use commerce_core::money::Money;
use commerce_core::payment::{ProviderEvent, ProviderEventKind};
use commerce_core::ports::{WebhookError, WebhookHeaders};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::sha2::Sha256;
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde::Deserialize;
use tokio::sync::Mutex;
use x509_cert::der::{Decode, DecodePem, Encode};
use x509_cert::Certificate;

use crate::amount::from_paypal;

/// The hosts PayPal serves its webhook signing certificates from.
pub const PAYPAL_CERT_HOSTS: &[&str] = &[
    "api.paypal.com",
    "api-m.paypal.com",
    "api.sandbox.paypal.com",
    "api-m.sandbox.paypal.com",
];

/// How long a fetched certificate is used before it is fetched again.
const CERT_LIFE: Duration = Duration::from_secs(24 * 3600);
/// At most this many certificates are kept (PayPal rotates them rarely).
const CERT_CACHE: usize = 16;
/// A certificate larger than this is not PayPal's.
const MAX_CERT_BYTES: usize = 64 * 1024;

/// The certificates met so far, by URL.
#[derive(Default)]
pub(crate) struct Certificates {
    known: Mutex<HashMap<String, (RsaPublicKey, Instant)>>,
}

/// What signs a webhook, from its headers.
struct Transmission<'a> {
    id: &'a str,
    time: &'a str,
    signature: &'a str,
    cert_url: &'a str,
}

fn header<'a>(headers: &'a WebhookHeaders, name: &str) -> Result<&'a str, WebhookError> {
    headers
        .get(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| WebhookError::BadSignature(format!("no {} header", name.to_uppercase())))
}

/// The string PayPal signs.
pub fn signed_text(transmission_id: &str, time: &str, webhook_id: &str, body: &[u8]) -> String {
    format!(
        "{transmission_id}|{time}|{webhook_id}|{}",
        crc32fast::hash(body)
    )
}

/// Checks the certificate URL against the allow-list before anything is fetched.
pub(crate) fn allowed_cert_url(url: &str, hosts: &[String]) -> Result<url::Url, WebhookError> {
    let refused = |why: &str| WebhookError::BadSignature(format!("PAYPAL-CERT-URL {why}"));
    let parsed = url::Url::parse(url).map_err(|_| refused("is not a URL"))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| refused("names no host"))?
        .to_ascii_lowercase();
    if !hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        return Err(refused("names a host that is not PayPal's"));
    }
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(refused("is not https")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refused("carries credentials"));
    }
    Ok(parsed)
}

/// The public key of a PEM certificate (the first of a chain), if it is valid `now`.
pub(crate) fn certificate_key(pem: &[u8], now: DateTime<Utc>) -> Result<RsaPublicKey, String> {
    let certificate = match Certificate::load_pem_chain(pem) {
        Ok(chain) => chain.into_iter().next(),
        Err(_) => Certificate::from_pem(pem)
            .or_else(|_| Certificate::from_der(pem))
            .ok(),
    }
    .ok_or("the certificate cannot be read")?;
    let validity = &certificate.tbs_certificate.validity;
    let at = |t: x509_cert::time::Time| DateTime::<Utc>::from(t.to_system_time());
    if now < at(validity.not_before) || now > at(validity.not_after) {
        return Err("the certificate is not valid now".into());
    }
    let spki = certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    RsaPublicKey::from_public_key_der(&spki).map_err(|_| "the certificate's key is not RSA".into())
}

impl Certificates {
    /// The key of the certificate at `url` (checked against `hosts` first), fetched once a
    /// day.
    async fn key(
        &self,
        url: &str,
        hosts: &[String],
        http: &reqwest::Client,
        now: DateTime<Utc>,
    ) -> Result<RsaPublicKey, WebhookError> {
        let checked = allowed_cert_url(url, hosts)?;
        {
            let known = self.known.lock().await;
            if let Some((key, at)) = known.get(url) {
                if at.elapsed() < CERT_LIFE {
                    return Ok(key.clone());
                }
            }
        }
        let unreachable =
            |why: String| WebhookError::Unreachable(format!("PayPal's certificate: {why}"));
        let response = http
            .get(checked)
            .send()
            .await
            .map_err(|e| unreachable(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(unreachable(format!("HTTP {}", response.status())));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| unreachable(e.without_url().to_string()))?;
        if bytes.len() > MAX_CERT_BYTES {
            return Err(WebhookError::BadSignature(
                "the certificate is too large to be PayPal's".into(),
            ));
        }
        let key = certificate_key(&bytes, now).map_err(WebhookError::BadSignature)?;
        let mut known = self.known.lock().await;
        if known.len() >= CERT_CACHE {
            known.retain(|_, (_, at)| at.elapsed() < CERT_LIFE);
            if known.len() >= CERT_CACHE {
                known.clear();
            }
        }
        known.insert(url.to_string(), (key.clone(), Instant::now()));
        Ok(key)
    }

    /// Verifies a webhook's transmission signature over `body`.
    pub(crate) async fn verify(
        &self,
        headers: &WebhookHeaders,
        body: &[u8],
        webhook_id: &str,
        hosts: &[String],
        http: &reqwest::Client,
        now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        let t = Transmission {
            id: header(headers, "paypal-transmission-id")?,
            time: header(headers, "paypal-transmission-time")?,
            signature: header(headers, "paypal-transmission-sig")?,
            cert_url: header(headers, "paypal-cert-url")?,
        };
        if let Some(algo) = headers.get("paypal-auth-algo") {
            if !algo.trim().eq_ignore_ascii_case("SHA256withRSA") {
                return Err(WebhookError::BadSignature(format!(
                    "PAYPAL-AUTH-ALGO {algo} is not SHA256withRSA"
                )));
            }
        }
        let signature = base64::engine::general_purpose::STANDARD
            .decode(t.signature)
            .ok()
            .and_then(|bytes| Signature::try_from(bytes.as_slice()).ok())
            .ok_or_else(|| {
                WebhookError::BadSignature("PAYPAL-TRANSMISSION-SIG is not a signature".into())
            })?;
        let key = self.key(t.cert_url, hosts, http, now).await?;
        let text = signed_text(t.id, t.time, webhook_id, body);
        VerifyingKey::<Sha256>::new(key)
            .verify(text.as_bytes(), &signature)
            .map_err(|_| {
                WebhookError::BadSignature(
                    "the transmission signature does not match this webhook".into(),
                )
            })
    }
}

/// A webhook event as far as the adapter reads it.
#[derive(Debug, Deserialize)]
pub(crate) struct Event {
    pub id: String,
    pub event_type: String,
    #[serde(default)]
    pub resource: serde_json::Value,
}

/// `{currency_code, value}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Amount {
    pub currency_code: String,
    pub value: String,
}

impl Amount {
    pub(crate) fn money(&self) -> Result<Money, WebhookError> {
        from_paypal(&self.currency_code, &self.value)
            .map_err(|e| WebhookError::Malformed(e.to_string()))
    }
}

/// A capture as far as the adapter reads it.
#[derive(Debug, Deserialize)]
pub(crate) struct Capture {
    pub id: String,
    pub status: Option<String>,
    pub amount: Option<Amount>,
    pub custom_id: Option<String>,
    pub supplementary_data: Option<SupplementaryData>,
    pub status_details: Option<StatusDetails>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SupplementaryData {
    pub related_ids: Option<RelatedIds>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RelatedIds {
    pub order_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct StatusDetails {
    pub reason: Option<String>,
}

impl Capture {
    /// The PayPal order the capture belongs to: the payment's reference.
    pub(crate) fn order_id(&self) -> Option<&str> {
        self.supplementary_data
            .as_ref()
            .and_then(|s| s.related_ids.as_ref())
            .and_then(|r| r.order_id.as_deref())
    }
}

/// A refund as far as the adapter reads it.
#[derive(Debug, Deserialize)]
pub(crate) struct RefundResource {
    pub id: String,
    pub amount: Option<Amount>,
    pub seller_payable_breakdown: Option<RefundBreakdown>,
    #[serde(default)]
    pub links: Vec<Link>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RefundBreakdown {
    pub total_refunded_amount: Option<Amount>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Link {
    pub href: String,
    pub rel: String,
}

impl RefundResource {
    /// The capture refunded: the `up` link's last segment.
    pub(crate) fn capture_id(&self) -> Option<String> {
        self.links
            .iter()
            .find(|l| l.rel == "up" && l.href.contains("/captures/"))
            .and_then(|l| l.href.trim_end_matches('/').rsplit('/').next())
            .map(str::to_string)
    }
}

/// Our payment's id, which every purchase unit carries as `custom_id`.
pub(crate) fn payment_id(custom_id: Option<&str>) -> Option<PaymentId> {
    custom_id.and_then(|c| c.parse::<uuid::Uuid>().ok().map(PaymentId::from))
}

fn resource<T: serde::de::DeserializeOwned>(event: &Event) -> Result<T, WebhookError> {
    serde_json::from_value(event.resource.clone())
        .map_err(|e| WebhookError::Malformed(format!("the {} resource: {e}", event.event_type)))
}

/// Reads a capture event (completed, pending, denied, declined).
pub(crate) fn capture_event(event: &Event) -> Result<Option<ProviderEvent>, WebhookError> {
    let capture: Capture = resource(event)?;
    let kind = match event.event_type.as_str() {
        "PAYMENT.CAPTURE.COMPLETED" => ProviderEventKind::Succeeded {
            amount: capture
                .amount
                .as_ref()
                .ok_or_else(|| WebhookError::Malformed("a capture without an amount".into()))?
                .money()?,
            reference: None,
        },
        "PAYMENT.CAPTURE.PENDING" => ProviderEventKind::Processing,
        _ => ProviderEventKind::Failed {
            reason: Some(
                match capture
                    .status_details
                    .as_ref()
                    .and_then(|d| d.reason.as_deref())
                {
                    Some(reason) => format!("PayPal did not complete the payment ({reason})"),
                    None => format!(
                        "PayPal did not complete the payment ({})",
                        capture.status.as_deref().unwrap_or("declined")
                    ),
                },
            ),
        },
    };
    Ok(Some(ProviderEvent {
        event_id: event.id.clone(),
        payment_id: payment_id(capture.custom_id.as_deref()),
        reference: capture.order_id().unwrap_or(&capture.id).to_string(),
        kind,
    }))
}

/// Reads `CHECKOUT.ORDER.APPROVED`: the buyer approved; the shop captures.
pub(crate) fn approval_event(event: &Event) -> Result<Option<ProviderEvent>, WebhookError> {
    #[derive(Deserialize)]
    struct Order {
        id: String,
        #[serde(default)]
        purchase_units: Vec<Unit>,
    }
    #[derive(Deserialize)]
    struct Unit {
        custom_id: Option<String>,
    }
    let order: Order = resource(event)?;
    Ok(Some(ProviderEvent {
        event_id: event.id.clone(),
        payment_id: payment_id(
            order
                .purchase_units
                .first()
                .and_then(|u| u.custom_id.as_deref()),
        ),
        reference: order.id,
        kind: ProviderEventKind::Approved,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_text_carries_the_bodys_crc32_as_an_unsigned_decimal() {
        // CRC32 of "The quick brown fox jumps over the lazy dog" is 0x414FA339.
        let text = signed_text(
            "tid",
            "2026-12-06T10:00:00Z",
            "WH-1",
            b"The quick brown fox jumps over the lazy dog",
        );
        assert_eq!(text, "tid|2026-12-06T10:00:00Z|WH-1|1095738169");
        // Above 2^31: unsigned, never negative.
        assert!(!signed_text("t", "x", "w", b"a").contains('-'));
        assert_eq!(crc32fast::hash(b"a"), 0xE8B7BE43);
        assert!(signed_text("t", "x", "w", b"a").ends_with("|3904355907"));
    }

    #[test]
    fn certificates_come_only_from_allowed_hosts() {
        let paypal: Vec<String> = PAYPAL_CERT_HOSTS.iter().map(|h| h.to_string()).collect();
        let ok = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270";
        assert!(allowed_cert_url(ok, &paypal).is_ok());
        for bad in [
            "https://evil.example/cert.pem",
            "https://api.paypal.com.evil.example/cert.pem",
            "http://api.paypal.com/cert.pem",
            "https://user:pw@api.paypal.com/cert.pem",
            "ftp://api.paypal.com/cert.pem",
            "not a url",
            "http://127.0.0.1:9/cert.pem",
        ] {
            assert!(
                matches!(
                    allowed_cert_url(bad, &paypal),
                    Err(WebhookError::BadSignature(_))
                ),
                "{bad}"
            );
        }
        // A loopback fake, when the setting names it, over plain HTTP.
        let tests = vec!["127.0.0.1".to_string()];
        assert!(allowed_cert_url("http://127.0.0.1:4321/certs/fake.pem", &tests).is_ok());
        assert!(allowed_cert_url("http://10.0.0.1/certs/fake.pem", &tests).is_err());
    }

    #[test]
    fn a_refunds_capture_is_its_up_link() {
        let refund: RefundResource = serde_json::from_value(serde_json::json!({
            "id": "R1",
            "links": [
                {"href": "https://api.paypal.com/v2/payments/refunds/R1", "rel": "self"},
                {"href": "https://api.paypal.com/v2/payments/captures/C9", "rel": "up"}
            ]
        }))
        .unwrap();
        assert_eq!(refund.capture_id().as_deref(), Some("C9"));
    }
}
