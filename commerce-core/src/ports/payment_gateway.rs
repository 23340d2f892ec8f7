//! The payment provider.

use super::*;

/// What a payment provider said about a new payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayIntent {
    pub provider_reference: String,
    pub client_secret: Option<String>,
    pub status: PaymentStatus,
}

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
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// `test` or `stripe`: stored on each payment.
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
    /// here; card providers are confirmed by the client and only asked).
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
    /// Verifies a webhook the provider sent (`signature` is its signature header, `body` the
    /// raw bytes, checked before anything is parsed) and reads it. `Ok(None)` for a genuine
    /// event the shop does not act on.
    fn read_webhook(
        &self,
        _signature: Option<String>,
        _body: &[u8],
        _now: DateTime<Utc>,
    ) -> Result<Option<ProviderEvent>, WebhookError> {
        Err(WebhookError::NotOffered)
    }
}
