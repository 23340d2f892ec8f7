//! The payment port of `commerce-core` on PayPal, beside or instead of Stripe.
//!
//! Map of the crate:
//! - [`PayPalGateway`]: the `PaymentGateway` adapter, named `paypal`. A payment is a PayPal
//!   order (Orders v2, intent `CAPTURE`) for exactly the order total, carrying our payment's
//!   id as `custom_id`; the buyer approves it on PayPal's page (the payment's `approve_url`);
//!   confirming it captures it (an order captured already is read, not captured again);
//!   refunds go to its capture, in full or in part. A payment the shop cancelled is never
//!   captured: PayPal takes nothing until the shop captures, so cancelling needs no call.
//! - [`client`]: a small typed client on reqwest (OAuth token cached, `PayPal-Request-Id` on
//!   every write, retries on network errors, 429 and 5xx only), not an SDK.
//! - [`amount`]: amounts as PayPal takes them (HUF, JPY and TWD in whole units only; other
//!   currencies refused, never rounded).
//! - [`webhook`]: webhooks verified offline against PayPal's certificate, and the events the
//!   shop acts on.
//! - [`fake`] (feature `fake`): a fake PayPal on 127.0.0.1 for tests, embedders' included.
//!
//! A shop taking payments through Stripe by default and through PayPal when the buyer
//! chooses it (`payment_provider: "paypal"`); see [`fake`] for a whole payment against the
//! fake PayPal:
//!
//! ```
//! use std::sync::Arc;
//! use commerce_core::{memory::MemoryStore, Commerce};
//! use commerce_paypal::{PayPalConfig, PayPalGateway, LIVE};
//!
//! // From the environment in a real shop (PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET, PAYPAL_WEBHOOK_ID).
//! let mut config = PayPalConfig::new("client-id", "client-secret", "webhook-id");
//! config.client.api_base = LIVE.into(); // the sandbox otherwise
//! config.return_url = "https://shop.example/orders/{ORDER_ID}?paypal=approved".into();
//! let paypal = PayPalGateway::new(config)?;
//! let shop = Commerce::builder(Arc::new(MemoryStore::new()))
//!     .test_payments() // stands for Stripe here: the default
//!     .add_gateway(Arc::new(paypal))
//!     .build();
//! assert_eq!(shop.payment_providers(), ["test", "paypal"]);
//! # Ok::<(), commerce_paypal::SetupError>(())
//! ```

#![warn(missing_docs)]
// docs.rs marks each item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod amount;
pub mod client;
#[cfg(feature = "fake")]
#[cfg_attr(docsrs, doc(cfg(feature = "fake")))]
pub mod fake;
pub mod webhook;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::money::Money;
use commerce_core::order::Order;
use commerce_core::payment::{Payment, PaymentStatus, ProviderEvent, ProviderEventKind};
use commerce_core::ports::{
    GatewayError, GatewayIntent, PaymentGateway, WebhookError, WebhookHeaders,
};
use serde::Deserialize;
use serde_json::json;

pub use client::{install_tls_provider, ClientOptions, ClientSecret, PayPalError, LIVE, SANDBOX};
pub use webhook::PAYPAL_CERT_HOSTS;

/// What the adapter needs to know.
#[derive(Debug, Clone)]
pub struct PayPalConfig {
    /// The REST app's client id.
    pub client_id: String,
    /// The REST app's secret; never printed.
    pub client_secret: ClientSecret,
    /// The id PayPal gave the webhook endpoint (`POST /api/webhooks/paypal`): it is part of
    /// what PayPal signs.
    pub webhook_id: String,
    /// Where calls go (the sandbox by default) and how they are retried.
    pub client: ClientOptions,
    /// The hosts a webhook's `PAYPAL-CERT-URL` may name ([`PAYPAL_CERT_HOSTS`] by default).
    /// A loopback host here (a test fake) may be fetched over plain HTTP.
    pub cert_hosts: Vec<String>,
    /// Where PayPal sends the buyer after approving: `{ORDER_ID}` is replaced by our order's
    /// id (PayPal adds `token=<its order id>`).
    pub return_url: String,
    /// Where it sends a buyer who gives up.
    pub cancel_url: String,
}

impl PayPalConfig {
    /// A configuration for PayPal's sandbox with the app's credentials and the webhook's
    /// id, PayPal's certificate hosts, and return URLs on `localhost:8080` (set your shop's).
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        webhook_id: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: ClientSecret::new(client_secret),
            webhook_id: webhook_id.into(),
            client: ClientOptions::default(),
            cert_hosts: PAYPAL_CERT_HOSTS.iter().map(|h| h.to_string()).collect(),
            return_url: "http://localhost:8080/orders/{ORDER_ID}?paypal=approved".into(),
            cancel_url: "http://localhost:8080/orders/{ORDER_ID}?paypal=cancelled".into(),
        }
    }
}

/// The `PaymentGateway` on PayPal.
pub struct PayPalGateway {
    client: client::Client,
    webhook_id: String,
    cert_hosts: Vec<String>,
    certificates: webhook::Certificates,
    return_url: String,
    cancel_url: String,
}

impl std::fmt::Debug for PayPalGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayPalGateway").finish_non_exhaustive()
    }
}

/// The adapter could not be made: no client or webhook id, or its HTTP client's TLS setup
/// failed.
#[derive(Debug, thiserror::Error)]
#[error("the PayPal client cannot be made: {0}")]
pub struct SetupError(String);

/// A PayPal order as far as the adapter reads it.
#[derive(Debug, Deserialize)]
struct PayPalOrder {
    id: String,
    status: Option<String>,
    #[serde(default)]
    purchase_units: Vec<PurchaseUnit>,
    #[serde(default)]
    links: Vec<webhook::Link>,
}

#[derive(Debug, Deserialize)]
struct PurchaseUnit {
    payments: Option<UnitPayments>,
}

#[derive(Debug, Deserialize)]
struct UnitPayments {
    #[serde(default)]
    captures: Vec<webhook::Capture>,
}

#[derive(Debug, Deserialize)]
struct PayPalRefund {
    id: String,
    status: Option<String>,
}

impl PayPalOrder {
    /// The order's capture (one per order: intent `CAPTURE`, one purchase unit).
    fn capture(&self) -> Option<&webhook::Capture> {
        self.purchase_units
            .iter()
            .filter_map(|u| u.payments.as_ref())
            .flat_map(|p| p.captures.iter())
            .next()
    }

    /// Where the buyer approves it: `payer-action` (with a payment source) or `approve`.
    fn approve_url(&self) -> Option<String> {
        self.links
            .iter()
            .find(|l| l.rel == "payer-action" || l.rel == "approve")
            .map(|l| l.href.clone())
    }

    /// The order's state in the engine's terms: its capture's, once captured.
    fn payment_status(&self) -> PaymentStatus {
        if let Some(capture) = self.capture() {
            return capture_status(capture.status.as_deref());
        }
        match self.status.as_deref() {
            Some("VOIDED") => PaymentStatus::Cancelled,
            // Approved, not yet captured: still the shop's to capture.
            _ => PaymentStatus::RequiresPayment,
        }
    }
}

fn capture_status(status: Option<&str>) -> PaymentStatus {
    match status {
        Some("COMPLETED" | "PARTIALLY_REFUNDED" | "REFUNDED") => PaymentStatus::Succeeded,
        Some("PENDING") => PaymentStatus::Processing,
        Some("DECLINED" | "FAILED") => PaymentStatus::Failed,
        _ => PaymentStatus::Processing,
    }
}

/// Issues that mean the buyer's money was refused: told to the buyer, who may try again.
const DECLINED: &[&str] = &[
    "INSTRUMENT_DECLINED",
    "TRANSACTION_REFUSED",
    "PAYER_CANNOT_PAY",
    "PAYER_ACCOUNT_RESTRICTED",
    "PAYER_ACCOUNT_LOCKED_OR_CLOSED",
    "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING",
    "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED",
    "CARD_EXPIRED",
    "COMPLIANCE_VIOLATION",
];

/// PayPal's errors in the engine's terms. The credentials are never part of any of them.
fn gateway_error(e: PayPalError) -> GatewayError {
    match e {
        PayPalError::Refused { issue, message, .. }
            if issue.as_deref().is_some_and(|i| DECLINED.contains(&i)) =>
        {
            GatewayError::Declined(format!("{message} ({})", issue.unwrap_or_default()))
        }
        PayPalError::Refused { issue, message, .. } => GatewayError::Invalid(match issue {
            Some(issue) => format!("{message} ({issue})"),
            None => message,
        }),
        PayPalError::Authentication => {
            tracing::error!(
                "PayPal refused the configured credentials (PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET)"
            );
            GatewayError::Unavailable("the payment provider refused the shop's credentials".into())
        }
        other => GatewayError::Unavailable(other.to_string()),
    }
}

fn reference(payment: &Payment) -> Result<&str, GatewayError> {
    payment
        .provider_reference
        .as_deref()
        .ok_or_else(|| GatewayError::Invalid("the payment was never registered with PayPal".into()))
}

/// A PayPal id in a path: PayPal's are letters and digits; anything else is not one.
fn path_id(id: &str) -> Result<&str, GatewayError> {
    if !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Ok(id)
    } else {
        Err(GatewayError::Invalid(format!("{id:?} is not a PayPal id")))
    }
}

fn amount_json(money: &Money) -> Result<serde_json::Value, GatewayError> {
    let (currency_code, value) =
        amount::to_paypal(money).map_err(|e| GatewayError::Invalid(e.to_string()))?;
    Ok(json!({"currency_code": currency_code, "value": value}))
}

impl PayPalGateway {
    /// The gateway for `config`; PayPal is not called until the first payment (the token is
    /// fetched then).
    ///
    /// ```
    /// use commerce_core::ports::PaymentGateway;
    /// use commerce_paypal::{PayPalConfig, PayPalGateway};
    ///
    /// let gateway = PayPalGateway::new(PayPalConfig::new("client-id", "client-secret", "webhook-id"))?;
    /// assert_eq!(gateway.provider(), "paypal");
    /// # Ok::<(), commerce_paypal::SetupError>(())
    /// ```
    pub fn new(config: PayPalConfig) -> Result<PayPalGateway, SetupError> {
        if config.client_id.trim().is_empty() || config.webhook_id.trim().is_empty() {
            return Err(SetupError(
                "a client id and a webhook id are needed (PAYPAL_CLIENT_ID, PAYPAL_WEBHOOK_ID)"
                    .into(),
            ));
        }
        Ok(PayPalGateway {
            client: client::Client::new(config.client_id, config.client_secret, config.client)
                .map_err(SetupError)?,
            webhook_id: config.webhook_id,
            cert_hosts: config.cert_hosts,
            certificates: webhook::Certificates::default(),
            return_url: config.return_url,
            cancel_url: config.cancel_url,
        })
    }

    async fn order(&self, id: &str) -> Result<PayPalOrder, GatewayError> {
        self.client
            .get(&format!("/v2/checkout/orders/{}", path_id(id)?))
            .await
            .map_err(gateway_error)
    }

    /// Captures an approved order; one captured already (by a webhook racing the buyer's
    /// confirmation, or a retry) is read instead. Not approved yet: still to be paid.
    async fn capture(&self, payment: &Payment) -> Result<PaymentStatus, GatewayError> {
        let id = path_id(reference(payment)?)?;
        let captured: Result<PayPalOrder, PayPalError> = self
            .client
            .post(
                &format!("/v2/checkout/orders/{id}/capture"),
                &json!({}),
                // Fresh for each confirmation (a retry of this call keeps it): an answer
                // such as "not approved yet" must not be replayed once the buyer approved.
                // One order is captured once whatever the id (intent CAPTURE).
                &format!(
                    "commerce-capture-{}-{}",
                    payment.id,
                    &uuid::Uuid::new_v4().simple().to_string()[..8]
                ),
            )
            .await;
        match captured {
            Ok(order) => Ok(order.payment_status()),
            Err(e) if e.issue() == Some("ORDER_ALREADY_CAPTURED") => {
                Ok(self.order(id).await?.payment_status())
            }
            Err(e)
                if matches!(
                    e.issue(),
                    Some("ORDER_NOT_APPROVED" | "PAYER_ACTION_REQUIRED")
                ) =>
            {
                Ok(PaymentStatus::RequiresPayment)
            }
            // A declined source: this attempt failed; the buyer may approve another.
            Err(e) if e.issue().is_some_and(|i| DECLINED.contains(&i)) => {
                tracing::info!(payment = %payment.id, issue = ?e.issue(), "PayPal declined a capture");
                Ok(PaymentStatus::Failed)
            }
            Err(e) => Err(gateway_error(e)),
        }
    }

    /// The capture of a paid payment, for refunds.
    async fn capture_id(&self, payment: &Payment) -> Result<String, GatewayError> {
        let order = self.order(reference(payment)?).await?;
        order
            .capture()
            .map(|c| c.id.clone())
            .ok_or_else(|| GatewayError::Invalid("the PayPal order has not been captured".into()))
    }

    /// A refund event: the capture is read for what was taken and whose it is, the refund
    /// for the running total.
    async fn refund_event(
        &self,
        event: &webhook::Event,
    ) -> Result<Option<ProviderEvent>, WebhookError> {
        let refund: webhook::RefundResource = serde_json::from_value(event.resource.clone())
            .map_err(|e| WebhookError::Malformed(format!("the refund resource: {e}")))?;
        // PAYMENT.CAPTURE.REVERSED may carry the capture itself rather than a refund.
        let (capture_id, refund_id) = match refund.capture_id() {
            Some(capture) => (capture, Some(refund.id.clone())),
            None => (refund.id.clone(), None),
        };
        let id = path_id(&capture_id).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        let capture: webhook::Capture = self
            .client
            .get(&format!("/v2/payments/captures/{id}"))
            .await
            .map_err(|e| match e {
                PayPalError::Refused { .. } => {
                    WebhookError::Malformed(format!("the refunded capture: {e}"))
                }
                other => WebhookError::Unreachable(other.to_string()),
            })?;
        let captured = capture
            .amount
            .as_ref()
            .ok_or_else(|| WebhookError::Malformed("a capture without an amount".into()))?
            .money()?;
        let refunded = match (
            refund
                .seller_payable_breakdown
                .as_ref()
                .and_then(|b| b.total_refunded_amount.as_ref()),
            &refund.amount,
            refund_id.is_some(),
        ) {
            (Some(total), _, _) => total.money()?,
            // A reversal takes back the whole capture.
            (None, _, false) => captured,
            (None, Some(amount), true) => amount.money()?,
            (None, None, true) => {
                return Err(WebhookError::Malformed("a refund without an amount".into()))
            }
        };
        Ok(Some(ProviderEvent {
            event_id: event.id.clone(),
            payment_id: webhook::payment_id(capture.custom_id.as_deref()),
            reference: capture.order_id().unwrap_or(&capture.id).to_string(),
            kind: ProviderEventKind::Refunded {
                captured,
                refunded,
                refund_reference: refund_id,
            },
        }))
    }
}

#[async_trait]
impl PaymentGateway for PayPalGateway {
    fn provider(&self) -> &'static str {
        "paypal"
    }

    /// A PayPal order for exactly the payment's amount, to be approved by the buyer.
    async fn create_intent(
        &self,
        payment: &Payment,
        order: &Order,
        idempotency_key: &str,
    ) -> Result<GatewayIntent, GatewayError> {
        let order_id = order.id.to_string();
        let body = json!({
            "intent": "CAPTURE",
            "purchase_units": [{
                "reference_id": order_id,
                "custom_id": payment.id.to_string(),
                "description": format!("Order {}", order.number),
                "amount": amount_json(&payment.amount)?,
            }],
            "payment_source": {"paypal": {"experience_context": {
                "user_action": "PAY_NOW",
                "shipping_preference": "NO_SHIPPING",
                "return_url": self.return_url.replace("{ORDER_ID}", &order_id),
                "cancel_url": self.cancel_url.replace("{ORDER_ID}", &order_id),
            }}},
        });
        let created: PayPalOrder = self
            .client
            .post(
                "/v2/checkout/orders",
                &body,
                &format!("commerce-order-{idempotency_key}"),
            )
            .await
            .map_err(gateway_error)?;
        let approve_url = created.approve_url();
        if approve_url.is_none() {
            return Err(GatewayError::Unavailable(
                "PayPal gave the order no approval link".into(),
            ));
        }
        // PayPal has no client secret; this one of ours stands in for owning the order, so
        // that a guest (who has only the checkout's answer) may confirm the payment.
        let secret = format!(
            "{}_secret_{}{}",
            created.id,
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        Ok(GatewayIntent {
            status: created.payment_status(),
            provider_reference: created.id,
            client_secret: Some(secret),
            approve_url,
        })
    }

    /// Captures the order once the buyer approved it; before that it is still to be paid.
    /// A payment the shop cancelled is not captured (the buyer may still approve it at
    /// PayPal: nothing is taken until the shop captures).
    async fn confirm(&self, payment: &Payment) -> Result<PaymentStatus, GatewayError> {
        if payment.status == PaymentStatus::Cancelled {
            return Ok(PaymentStatus::Cancelled);
        }
        self.capture(payment).await
    }

    async fn refund(
        &self,
        payment: &Payment,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<String, GatewayError> {
        let capture = self.capture_id(payment).await?;
        let refund: PayPalRefund = self
            .client
            .post(
                &format!("/v2/payments/captures/{}/refund", path_id(&capture)?),
                &json!({
                    "amount": amount_json(&amount)?,
                    "custom_id": payment.id.to_string(),
                    "note_to_payer": "Refund",
                }),
                &format!("commerce-refund-{idempotency_key}"),
            )
            .await
            .map_err(gateway_error)?;
        match refund.status.as_deref() {
            Some("FAILED" | "CANCELLED") => Err(GatewayError::Declined(
                "PayPal could not refund the payment".into(),
            )),
            _ => Ok(refund.id),
        }
    }

    /// Nothing to call: PayPal takes nothing until the shop captures, and `confirm` never
    /// captures a cancelled payment.
    async fn cancel(&self, _payment: &Payment) -> Result<(), GatewayError> {
        Ok(())
    }

    async fn read_webhook(
        &self,
        headers: &WebhookHeaders,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<ProviderEvent>, WebhookError> {
        self.certificates
            .verify(
                headers,
                body,
                &self.webhook_id,
                &self.cert_hosts,
                self.client.http(),
                now,
            )
            .await?;
        let event: webhook::Event = serde_json::from_slice(body)
            .map_err(|e| WebhookError::Malformed(format!("not a PayPal event: {e}")))?;
        match event.event_type.as_str() {
            "CHECKOUT.ORDER.APPROVED" => webhook::approval_event(&event),
            "PAYMENT.CAPTURE.COMPLETED"
            | "PAYMENT.CAPTURE.PENDING"
            | "PAYMENT.CAPTURE.DENIED"
            | "PAYMENT.CAPTURE.DECLINED" => webhook::capture_event(&event),
            "PAYMENT.CAPTURE.REFUNDED" | "PAYMENT.CAPTURE.REVERSED" => {
                self.refund_event(&event).await
            }
            _ => Ok(None),
        }
    }
}
