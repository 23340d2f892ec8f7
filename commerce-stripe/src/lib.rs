//! The payment port of `commerce-core` on Stripe: real money.
//!
//! Map of the crate:
//! - [`StripeGateway`]: the `PaymentGateway` adapter. PaymentIntents (created for exactly the
//!   order total, with automatic payment methods and the order in their metadata; read back
//!   to confirm; cancelled with their order), refunds (full or partial, never past what was
//!   captured: the core checks before asking), Checkout Sessions for shops with no card form
//!   of their own, and webhooks read into the engine's events.
//! - [`client`]: a small typed client on reqwest for the endpoints used, not a generated SDK:
//!   Stripe's SDK crates are large and slow to build for the handful of calls a shop makes
//!   (../shared/CRATES.md), and a small client keeps every request visible.
//! - [`amount`]: amounts as Stripe counts them (zero- and three-decimal currencies).
//! - [`webhook`]: the `Stripe-Signature` check and the events the shop acts on.
//! - [`fake`] (feature `fake`): a fake Stripe on 127.0.0.1 for tests, embedders' included.
//!
//! A shop taking payments through Stripe (see [`fake`] for a whole payment against the fake
//! Stripe):
//!
//! ```
//! use std::sync::Arc;
//! use commerce_core::{memory::MemoryStore, Commerce};
//! use commerce_stripe::{StripeConfig, StripeGateway};
//!
//! // The keys come from the environment in a real shop (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET).
//! let mut config = StripeConfig::new("sk_test_123", "whsec_123");
//! config.checkout_success_url = "https://shop.example/orders/{ORDER_ID}/thanks".into();
//! let stripe = StripeGateway::new(config)?;
//! let shop = Commerce::builder(Arc::new(MemoryStore::new())).gateway(Arc::new(stripe)).build();
//! assert_eq!(shop.payment_providers(), ["stripe"]);
//! # Ok::<(), commerce_stripe::SetupError>(())
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
use commerce_core::payment::{Payment, PaymentStatus};
use commerce_core::ports::{
    GatewayError, GatewayIntent, HostedCheckout, PaymentGateway, WebhookError, WebhookHeaders,
};
use commerce_core::service::ProviderEvent;
use serde::Deserialize;

pub use client::{install_tls_provider, ClientOptions, SecretKey, StripeError, STRIPE_VERSION};

/// What the adapter needs to know.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// `sk_live_...` or `sk_test_...` (a restricted key with PaymentIntents, Refunds and
    /// Checkout Sessions write access is enough).
    pub secret_key: SecretKey,
    /// The webhook endpoint's signing secret, `whsec_...`.
    pub webhook_secret: SecretKey,
    /// Where calls go and how they are retried.
    pub client: ClientOptions,
    /// Where Stripe Checkout sends the customer after paying: `{ORDER_ID}` is replaced by the
    /// order's id, and Stripe replaces `{CHECKOUT_SESSION_ID}`.
    pub checkout_success_url: String,
    /// Where it sends a customer who gives up.
    pub checkout_cancel_url: String,
}

impl StripeConfig {
    /// A configuration with the API key and the webhook secret, Stripe's API, and return
    /// URLs on `localhost:8080` (set your shop's).
    pub fn new(secret_key: impl Into<String>, webhook_secret: impl Into<String>) -> Self {
        Self {
            secret_key: SecretKey::new(secret_key),
            webhook_secret: SecretKey::new(webhook_secret),
            client: ClientOptions::default(),
            checkout_success_url: "http://localhost:8080/orders/{ORDER_ID}?checkout=success".into(),
            checkout_cancel_url: "http://localhost:8080/orders/{ORDER_ID}?checkout=cancelled"
                .into(),
        }
    }
}

/// The `PaymentGateway` on Stripe.
pub struct StripeGateway {
    client: client::Client,
    webhook_secret: SecretKey,
    success_url: String,
    cancel_url: String,
}

impl std::fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeGateway").finish_non_exhaustive()
    }
}

/// The adapter could not be made (its HTTP client's TLS setup failed).
#[derive(Debug, thiserror::Error)]
#[error("the Stripe client cannot be made: {0}")]
pub struct SetupError(String);

/// A PaymentIntent as far as the adapter reads it.
#[derive(Debug, Deserialize)]
struct PaymentIntent {
    id: String,
    status: String,
    client_secret: Option<String>,
    last_payment_error: Option<serde_json::Value>,
}

/// A Checkout Session as far as the adapter reads it.
#[derive(Debug, Deserialize)]
struct CheckoutSession {
    id: String,
    url: Option<String>,
    status: Option<String>,
    payment_status: Option<String>,
    payment_intent: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StripeRefund {
    id: String,
    status: Option<String>,
}

/// A PaymentIntent's status in the engine's terms. One that needs the customer (a card to
/// enter, 3-D Secure to pass) is still waiting for payment.
fn intent_status(intent: &PaymentIntent) -> PaymentStatus {
    match intent.status.as_str() {
        "succeeded" => PaymentStatus::Succeeded,
        "processing" | "requires_capture" => PaymentStatus::Processing,
        "canceled" => PaymentStatus::Cancelled,
        // Back to requires_payment_method after a decline: the attempt failed.
        "requires_payment_method" if intent.last_payment_error.is_some() => PaymentStatus::Failed,
        _ => PaymentStatus::RequiresPayment,
    }
}

impl StripeGateway {
    /// The gateway for `config`; Stripe is not called until the first payment.
    ///
    /// ```
    /// use commerce_core::ports::PaymentGateway;
    /// use commerce_stripe::{StripeConfig, StripeGateway};
    ///
    /// let gateway = StripeGateway::new(StripeConfig::new("sk_test_123", "whsec_123"))?;
    /// assert_eq!(gateway.provider(), "stripe");
    /// # Ok::<(), commerce_stripe::SetupError>(())
    /// ```
    pub fn new(config: StripeConfig) -> Result<StripeGateway, SetupError> {
        Ok(StripeGateway {
            client: client::Client::new(config.secret_key, config.client).map_err(SetupError)?,
            webhook_secret: config.webhook_secret,
            success_url: config.checkout_success_url,
            cancel_url: config.checkout_cancel_url,
        })
    }

    /// The payment intent behind a payment: its own reference, or a hosted session's.
    async fn intent_of(&self, payment: &Payment) -> Result<String, GatewayError> {
        let reference = reference(payment)?;
        if !reference.starts_with("cs_") {
            return Ok(reference.to_string());
        }
        let session: CheckoutSession = self
            .client
            .get(&format!("/v1/checkout/sessions/{reference}"))
            .await
            .map_err(gateway_error)?;
        session
            .payment_intent
            .ok_or_else(|| GatewayError::Invalid("the checkout session has not been paid".into()))
    }
}

fn reference(payment: &Payment) -> Result<&str, GatewayError> {
    payment
        .provider_reference
        .as_deref()
        .ok_or_else(|| GatewayError::Invalid("the payment was never registered with Stripe".into()))
}

fn amount_of(money: &Money) -> Result<(i64, String), GatewayError> {
    amount::to_stripe(money).map_err(|e| GatewayError::Invalid(e.to_string()))
}

/// Stripe's errors in the engine's terms. The API key is never part of any of them.
fn gateway_error(e: StripeError) -> GatewayError {
    match e {
        StripeError::Card {
            message,
            decline_code,
            code,
        } => GatewayError::Declined(match decline_code.or(code) {
            Some(code) => format!("{message} ({code})"),
            None => message,
        }),
        StripeError::InvalidRequest { message, .. } | StripeError::Idempotency(message) => {
            GatewayError::Invalid(message)
        }
        StripeError::Authentication => {
            tracing::error!("Stripe refused the configured API key (STRIPE_SECRET_KEY)");
            GatewayError::Unavailable("the payment provider refused the shop's credentials".into())
        }
        other => GatewayError::Unavailable(other.to_string()),
    }
}

/// The metadata every intent and session carries: the webhook finds the payment by it.
fn metadata(prefix: &str, payment: &Payment, order: &Order) -> client::Form {
    vec![
        (format!("{prefix}[payment_id]"), payment.id.to_string()),
        (format!("{prefix}[order_id]"), order.id.to_string()),
        (format!("{prefix}[order_number]"), order.number.clone()),
    ]
}

/// The lines a Checkout Session shows: the order's, each at what it costs after its discount
/// (and its tax, when prices exclude it; Stripe adds no tax or discount of its own), then
/// shipping as the rest, so that they add up to exactly `total` (minor units). Should they
/// not, the order is one line.
fn checkout_lines(order: &Order, total: i64) -> Result<Vec<(String, i64)>, GatewayError> {
    let mut named = Vec::with_capacity(order.lines.len());
    let (mut with_tax, mut without_tax) = (Vec::new(), Vec::new());
    for line in &order.lines {
        let net = line
            .subtotal
            .checked_sub(&line.discount)
            .map_err(|e| GatewayError::Invalid(e.to_string()))?;
        let gross = net
            .checked_add(&line.tax)
            .map_err(|e| GatewayError::Invalid(e.to_string()))?;
        named.push(if line.sku.is_empty() {
            format!("{} × {}", line.name, line.quantity)
        } else {
            format!("{} ({}) × {}", line.name, line.sku, line.quantity)
        });
        with_tax.push(amount_of(&gross)?.0);
        without_tax.push(amount_of(&net)?.0);
    }
    let fits = |costs: &Vec<i64>| {
        let sum: i64 = costs.iter().sum();
        costs.iter().all(|c| *c >= 0) && sum <= total
    };
    // Tax-exclusive prices add their tax; tax-inclusive ones already hold it.
    let costs = [with_tax, without_tax].into_iter().find(fits);
    let Some(costs) = costs else {
        return Ok(vec![(format!("Order {}", order.number), total)]);
    };
    let rest = total - costs.iter().sum::<i64>();
    let mut lines: Vec<(String, i64)> = named.into_iter().zip(costs).collect();
    if rest > 0 {
        let shipping = order
            .shipping_method
            .as_ref()
            .map_or("Shipping".to_string(), |m| format!("Shipping: {}", m.name));
        lines.push((shipping, rest));
    }
    // Stripe takes no line of zero (a free gift); the total is unchanged without it.
    lines.retain(|(_, amount)| *amount > 0);
    if lines.is_empty() {
        lines.push((format!("Order {}", order.number), total));
    }
    Ok(lines)
}

#[async_trait]
impl PaymentGateway for StripeGateway {
    fn provider(&self) -> &'static str {
        "stripe"
    }

    async fn create_intent(
        &self,
        payment: &Payment,
        order: &Order,
        idempotency_key: &str,
    ) -> Result<GatewayIntent, GatewayError> {
        let (amount, currency) = amount_of(&payment.amount)?;
        let mut form: client::Form = vec![
            ("amount".into(), amount.to_string()),
            ("currency".into(), currency),
            ("automatic_payment_methods[enabled]".into(), "true".into()),
            ("description".into(), format!("Order {}", order.number)),
        ];
        form.extend(metadata("metadata", payment, order));
        if let Some(email) = &order.email {
            form.push(("receipt_email".into(), email.clone()));
        }
        let intent: PaymentIntent = self
            .client
            .post(
                "/v1/payment_intents",
                &form,
                &format!("commerce-payment-intent-{idempotency_key}"),
            )
            .await
            .map_err(gateway_error)?;
        Ok(GatewayIntent {
            status: intent_status(&intent),
            provider_reference: intent.id,
            client_secret: intent.client_secret,
            approve_url: None,
        })
    }

    async fn confirm(&self, payment: &Payment) -> Result<PaymentStatus, GatewayError> {
        let reference = reference(payment)?;
        if reference.starts_with("cs_") {
            let session: CheckoutSession = self
                .client
                .get(&format!("/v1/checkout/sessions/{reference}"))
                .await
                .map_err(gateway_error)?;
            return Ok(
                match (session.payment_status.as_deref(), session.status.as_deref()) {
                    (Some("paid"), _) => PaymentStatus::Succeeded,
                    (_, Some("expired")) => PaymentStatus::Cancelled,
                    (_, Some("complete")) => PaymentStatus::Processing,
                    _ => PaymentStatus::RequiresPayment,
                },
            );
        }
        let intent: PaymentIntent = self
            .client
            .get(&format!("/v1/payment_intents/{reference}"))
            .await
            .map_err(gateway_error)?;
        Ok(intent_status(&intent))
    }

    async fn refund(
        &self,
        payment: &Payment,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<String, GatewayError> {
        let intent = self.intent_of(payment).await?;
        let (minor, _) = amount_of(&amount)?;
        let form: client::Form = vec![
            ("payment_intent".into(), intent),
            ("amount".into(), minor.to_string()),
            ("metadata[payment_id]".into(), payment.id.to_string()),
            ("metadata[refund_id]".into(), idempotency_key.to_string()),
        ];
        let refund: StripeRefund = self
            .client
            .post(
                "/v1/refunds",
                &form,
                &format!("commerce-refund-{idempotency_key}"),
            )
            .await
            .map_err(gateway_error)?;
        match refund.status.as_deref() {
            Some("failed") | Some("canceled") => Err(GatewayError::Declined(
                "Stripe could not refund the payment".into(),
            )),
            _ => Ok(refund.id),
        }
    }

    async fn cancel(&self, payment: &Payment) -> Result<(), GatewayError> {
        let reference = reference(payment)?;
        let (path, key) = if reference.starts_with("cs_") {
            (
                format!("/v1/checkout/sessions/{reference}/expire"),
                format!("commerce-expire-{}", payment.id),
            )
        } else {
            (
                format!("/v1/payment_intents/{reference}/cancel"),
                format!("commerce-cancel-{}", payment.id),
            )
        };
        match self
            .client
            .post::<serde_json::Value>(&path, &Vec::new(), &key)
            .await
        {
            Ok(_) => Ok(()),
            // Cancelled already (or never opened): nothing left to do.
            Err(e) if e.code() == Some("payment_intent_unexpected_state") => {
                let intent: PaymentIntent = self
                    .client
                    .get(&format!("/v1/payment_intents/{reference}"))
                    .await
                    .map_err(gateway_error)?;
                match intent.status.as_str() {
                    "canceled" => Ok(()),
                    other => Err(GatewayError::Invalid(format!(
                        "the payment intent is {other} and cannot be cancelled"
                    ))),
                }
            }
            Err(e) => Err(gateway_error(e)),
        }
    }

    /// A session with the order's lines (see `checkout_lines`) for exactly its total.
    async fn create_checkout_session(
        &self,
        payment: &Payment,
        order: &Order,
        idempotency_key: &str,
    ) -> Result<HostedCheckout, GatewayError> {
        let (total, currency) = amount_of(&payment.amount)?;
        let lines = checkout_lines(order, total)?;
        let mut form: client::Form = vec![
            ("mode".into(), "payment".into()),
            (
                "success_url".into(),
                self.success_url
                    .replace("{ORDER_ID}", &order.id.to_string()),
            ),
            (
                "cancel_url".into(),
                self.cancel_url.replace("{ORDER_ID}", &order.id.to_string()),
            ),
            ("client_reference_id".into(), order.id.to_string()),
        ];
        for (i, (name, amount)) in lines.into_iter().enumerate() {
            let at = |field: &str| format!("line_items[{i}]{field}");
            form.push((at("[quantity]"), "1".into()));
            form.push((at("[price_data][currency]"), currency.clone()));
            form.push((at("[price_data][unit_amount]"), amount.to_string()));
            form.push((at("[price_data][product_data][name]"), name));
        }
        if let Some(email) = &order.email {
            form.push(("customer_email".into(), email.clone()));
        }
        form.extend(metadata("metadata", payment, order));
        form.extend(metadata("payment_intent_data[metadata]", payment, order));
        let session: CheckoutSession = self
            .client
            .post(
                "/v1/checkout/sessions",
                &form,
                &format!("commerce-checkout-session-{idempotency_key}"),
            )
            .await
            .map_err(gateway_error)?;
        let url = session
            .url
            .ok_or_else(|| GatewayError::Unavailable("Stripe gave the session no URL".into()))?;
        Ok(HostedCheckout {
            provider_reference: session.id,
            url,
        })
    }

    async fn read_webhook(
        &self,
        headers: &WebhookHeaders,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<ProviderEvent>, WebhookError> {
        webhook::verify(
            headers.get("stripe-signature"),
            body,
            self.webhook_secret.expose(),
            now,
        )?;
        webhook::read_event(body)
    }
}
