//! Payment providers that need no account: none at all, and the built-in test provider.

use super::*;

/// What a shop built without a payment provider has: every payment is refused with
/// `GatewayError::NotConfigured`, so no order is ever marked paid by accident.
#[derive(Default)]
pub struct NoPaymentProvider;

impl NoPaymentProvider {
    /// Its `provider()`.
    pub const NAME: &'static str = "none";
}

#[async_trait]
impl PaymentGateway for NoPaymentProvider {
    fn provider(&self) -> &'static str {
        Self::NAME
    }

    async fn create_intent(
        &self,
        _payment: &Payment,
        _order: &Order,
        _idempotency_key: &str,
    ) -> Result<GatewayIntent, GatewayError> {
        Err(GatewayError::NotConfigured)
    }

    async fn confirm(&self, _payment: &Payment) -> Result<PaymentStatus, GatewayError> {
        Err(GatewayError::NotConfigured)
    }

    async fn refund(
        &self,
        _payment: &Payment,
        _amount: Money,
        _idempotency_key: &str,
    ) -> Result<String, GatewayError> {
        Err(GatewayError::NotConfigured)
    }

    async fn create_checkout_session(
        &self,
        _payment: &Payment,
        _order: &Order,
        _idempotency_key: &str,
    ) -> Result<HostedCheckout, GatewayError> {
        Err(GatewayError::NotConfigured)
    }
}

/// The built-in test payment provider: payments are created with a `test_pi_` reference and
/// succeed when confirmed, so a shop runs end to end with no provider account. An amount
/// ending in .13 (13 minor units for zero-decimal currencies) is declined on confirm, to
/// exercise the failure path.
#[derive(Default)]
pub struct TestPaymentGateway;

#[async_trait]
impl PaymentGateway for TestPaymentGateway {
    fn provider(&self) -> &'static str {
        "test"
    }

    async fn create_intent(
        &self,
        payment: &Payment,
        _order: &Order,
        _idempotency_key: &str,
    ) -> Result<GatewayIntent, GatewayError> {
        let reference = format!("test_pi_{}", payment.id.as_uuid().simple());
        Ok(GatewayIntent {
            client_secret: Some(format!("{reference}_secret")),
            provider_reference: reference,
            approve_url: None,
            status: PaymentStatus::RequiresPayment,
        })
    }

    async fn confirm(&self, payment: &Payment) -> Result<PaymentStatus, GatewayError> {
        let declined = payment.amount.minor_units().is_ok_and(|m| m % 100 == 13);
        Ok(if declined {
            PaymentStatus::Failed
        } else {
            PaymentStatus::Succeeded
        })
    }

    async fn refund(
        &self,
        _payment: &Payment,
        _amount: Money,
        idempotency_key: &str,
    ) -> Result<String, GatewayError> {
        // One reference per key, as a real provider answers a retried refund.
        Ok(format!("test_re_{}", idempotency_key.replace('-', "")))
    }
}
