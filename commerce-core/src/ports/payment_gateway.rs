//! The payment provider.

use super::*;

/// What a payment provider said about a new payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayIntent {
    /// The provider's id of the payment (`pi_...`, a PayPal order id): webhooks name it.
    pub provider_reference: String,
    /// What the buyer's client confirms the payment with (Stripe's client secret), or a
    /// secret of the adapter's own that lets a guest confirm; never logged.
    pub client_secret: Option<String>,
    /// Where the buyer approves the payment, for providers paid on their own page (PayPal's
    /// `approve` link); `None` for card providers confirmed by the client.
    #[serde(default)]
    pub approve_url: Option<String>,
    /// Its status at the provider now (usually `requires_payment`).
    pub status: PaymentStatus,
}

/// The headers a provider's webhook came with, for the adapter to find its signature in
/// (Stripe's `Stripe-Signature`, PayPal's `PAYPAL-TRANSMISSION-*`). Names are compared
/// without regard to case, as HTTP does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookHeaders(Vec<(String, String)>);

impl WebhookHeaders {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same headers and `name: value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(name, value);
        self
    }

    /// Adds `name: value` (a repeated name keeps every value; `get` gives the first).
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0
            .push((name.into().to_ascii_lowercase(), value.into()));
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why the provider did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The provider refused (card declined, amount invalid...). Shown to the customer.
    #[error("the payment provider declined: {0}")]
    Declined(String),
    /// The provider could not be reached or failed; safe to retry.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider cannot take the request as it is (an amount its rules cannot express, a
    /// parameter it refuses): not the customer's doing, and a retry will not help.
    #[error("the payment provider refused the request: {0}")]
    Invalid(String),
    /// This provider has no such thing (a hosted checkout page).
    #[error("the payment provider does not offer this")]
    NotOffered,
    /// The shop was built without a payment provider.
    #[error("no payment provider is set up")]
    NotConfigured,
}

/// A payment page hosted by the provider (Stripe Checkout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostedCheckout {
    /// The provider's id of the session (`cs_...`).
    pub provider_reference: String,
    /// Where to send the customer to pay.
    pub url: String,
}

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Missing, malformed, wrong or too old: not from the provider, or replayed.
    #[error("the webhook signature is not valid: {0}")]
    BadSignature(String),
    /// Signed, but not an event the adapter can read.
    #[error("the webhook cannot be read: {0}")]
    Malformed(String),
    /// This provider sends no webhooks.
    #[error("this payment provider sends no webhooks")]
    NotOffered,
    /// Reading it needs the provider (its signing certificate), which cannot be reached now:
    /// the provider should send it again.
    #[error("the payment provider cannot be reached to read the webhook: {0}")]
    Unreachable(String),
}

/// A payment provider (`commerce-stripe`, `commerce-paypal`, the built-in test provider). A
/// shop may have several, by name. Every call that creates or refunds carries an
/// idempotency key derived from the engine's own ids, which the adapter passes on, so a
/// retry never charges or refunds twice; the engine checks amounts and refund limits before
/// asking, and applies what the provider reports monotonically.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Its name (`test`, `stripe`, `paypal`): stored on each payment, chosen by a customer's
    /// `payment_provider`, and the last part of its webhook path. Unique within a shop.
    fn provider(&self) -> &'static str;
    /// Creates the provider's payment for exactly `payment.amount`, for `order` (its number
    /// and lines, for the provider's records); `idempotency_key` makes a retried call return
    /// the same provider payment.
    async fn create_intent(
        &self,
        payment: &Payment,
        order: &Order,
        idempotency_key: &str,
    ) -> Result<GatewayIntent, GatewayError>;
    /// The payment's status now, as the provider has it (the built-in test provider confirms
    /// here; card providers are confirmed by the client and only asked; PayPal captures an
    /// approved order here). A payment the shop cancelled must not be captured.
    async fn confirm(&self, payment: &Payment) -> Result<PaymentStatus, GatewayError>;
    /// Refunds `amount`; returns the provider's refund id.
    async fn refund(
        &self,
        payment: &Payment,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<String, GatewayError>;
    /// Cancels a payment nothing was captured of, so that it can no longer be paid.
    async fn cancel(&self, _payment: &Payment) -> Result<(), GatewayError> {
        Ok(())
    }
    /// A payment page hosted by the provider for `order`, for exactly `payment.amount`;
    /// `NotOffered` from providers without one.
    async fn create_checkout_session(
        &self,
        _payment: &Payment,
        _order: &Order,
        _idempotency_key: &str,
    ) -> Result<HostedCheckout, GatewayError> {
        Err(GatewayError::NotOffered)
    }
    /// Verifies a webhook the provider sent (its signature is in `headers`, `body` is the raw
    /// bytes, checked before anything is parsed) and reads it. `Ok(None)` for a genuine
    /// event the shop does not act on. May call the provider (PayPal's signing certificate,
    /// a refund's capture); a failure to reach it is `Unreachable`, so the provider retries.
    async fn read_webhook(
        &self,
        _headers: &WebhookHeaders,
        _body: &[u8],
        _now: DateTime<Utc>,
    ) -> Result<Option<ProviderEvent>, WebhookError> {
        Err(WebhookError::NotOffered)
    }
}
