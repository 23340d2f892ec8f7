//! Payments: one per order attempt, with the provider's reference, a status that only moves
//! forward, and refunds that never exceed what was captured.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{OrderId, PaymentId, RefundId};
use crate::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    RequiresPayment,
    Processing,
    Succeeded,
    Failed,
    Refunded,
    PartiallyRefunded,
}

impl PaymentStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            PaymentStatus::RequiresPayment => "requires_payment",
            PaymentStatus::Processing => "processing",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentStatus> {
        use PaymentStatus::*;
        [
            RequiresPayment,
            Processing,
            Succeeded,
            Failed,
            Refunded,
            PartiallyRefunded,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// Whether a report of `next` moves the payment forward. A failed attempt may still be
    /// retried and succeed; nothing goes back from succeeded, and refunded is final.
    fn advances_to(&self, next: PaymentStatus) -> bool {
        use PaymentStatus::*;
        matches!(
            (self, next),
            (RequiresPayment, Processing | Succeeded | Failed)
                | (Processing, Succeeded | Failed)
                | (Failed, Processing | Succeeded)
                | (Succeeded, PartiallyRefunded | Refunded)
                | (PartiallyRefunded, Refunded)
        )
    }

    pub fn is_captured(&self) -> bool {
        matches!(
            self,
            PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded
        )
    }
}

/// What applying a status report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The payment moved to a new status.
    Changed,
    /// Already there, or the report is older than what is known: nothing changed.
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub id: RefundId,
    pub amount: Money,
    pub provider_reference: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("nothing was captured, so nothing can be refunded")]
    NotCaptured,
    #[error("a refund must be more than zero")]
    NotPositive,
    #[error("refunds would exceed the {captured} captured ({refunded} already refunded)")]
    ExceedsCaptured { captured: Money, refunded: Money },
    #[error("refund in a different currency")]
    Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: PaymentId,
    pub order_id: OrderId,
    /// `test` (built in) or `stripe`.
    pub provider: String,
    /// The provider's id, e.g. a PaymentIntent `pi_...`.
    pub provider_reference: Option<String>,
    /// Handed to the client to confirm the payment; never logged.
    pub client_secret: Option<String>,
    /// Exactly the order total.
    pub amount: Money,
    pub status: PaymentStatus,
    pub refunds: Vec<Refund>,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Payment {
    pub fn new(
        id: PaymentId,
        order_id: OrderId,
        provider: &str,
        amount: Money,
        now: DateTime<Utc>,
    ) -> Payment {
        Payment {
            id,
            order_id,
            provider: provider.to_string(),
            provider_reference: None,
            client_secret: None,
            amount,
            status: PaymentStatus::RequiresPayment,
            refunds: Vec::new(),
            failure_reason: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Applies a status reported by the client or the provider. Monotonic and idempotent: a
    /// repeat or a late, older report is a no-op, never an error, so a client confirmation and
    /// a webhook racing each other converge on one state.
    pub fn apply_status(&mut self, next: PaymentStatus, now: DateTime<Utc>) -> Transition {
        if self.status == next || !self.status.advances_to(next) {
            return Transition::Unchanged;
        }
        self.status = next;
        self.updated_at = now;
        Transition::Changed
    }

    pub fn refunded(&self) -> Money {
        self.refunds
            .iter()
            .fold(Money::zero(self.amount.currency()), |acc, r| {
                acc.checked_add(&r.amount).unwrap_or(acc)
            })
    }

    /// What may still be refunded.
    pub fn refundable(&self) -> Money {
        if !self.status.is_captured() {
            return Money::zero(self.amount.currency());
        }
        self.amount
            .checked_sub(&self.refunded())
            .unwrap_or(self.amount)
    }

    /// Records a refund; the total refunded never exceeds the amount captured.
    pub fn add_refund(&mut self, refund: Refund, now: DateTime<Utc>) -> Result<(), RefundError> {
        if !self.status.is_captured() {
            return Err(RefundError::NotCaptured);
        }
        if refund.amount.currency() != self.amount.currency() {
            return Err(RefundError::Currency);
        }
        if refund.amount.is_zero() || refund.amount.is_negative() {
            return Err(RefundError::NotPositive);
        }
        if refund.amount.amount() > self.refundable().amount() {
            return Err(RefundError::ExceedsCaptured {
                captured: self.amount,
                refunded: self.refunded(),
            });
        }
        self.refunds.push(refund);
        let next = if self.refundable().is_zero() {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        };
        self.status = next;
        self.updated_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use PaymentStatus::*;

    fn payment() -> Payment {
        Payment::new(
            PaymentId::random(),
            OrderId::random(),
            "test",
            Money::parse("50.00", Currency::USD).unwrap(),
            Utc::now(),
        )
    }

    fn refund(amount: &str) -> Refund {
        Refund {
            id: RefundId::random(),
            amount: Money::parse(amount, Currency::USD).unwrap(),
            provider_reference: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn transitions_are_monotonic_and_idempotent() {
        let mut p = payment();
        assert_eq!(p.apply_status(Processing, Utc::now()), Transition::Changed);
        assert_eq!(p.apply_status(Succeeded, Utc::now()), Transition::Changed);
        // The same report twice, and a late older one, change nothing.
        assert_eq!(p.apply_status(Succeeded, Utc::now()), Transition::Unchanged);
        assert_eq!(
            p.apply_status(Processing, Utc::now()),
            Transition::Unchanged
        );
        assert_eq!(p.apply_status(Failed, Utc::now()), Transition::Unchanged);
        assert_eq!(p.status, Succeeded);
    }

    #[test]
    fn a_failed_attempt_may_still_succeed() {
        let mut p = payment();
        p.apply_status(Failed, Utc::now());
        assert_eq!(p.apply_status(Succeeded, Utc::now()), Transition::Changed);
    }

    #[test]
    fn refunds_never_exceed_the_captured_amount() {
        let mut p = payment();
        assert_eq!(
            p.add_refund(refund("1.00"), Utc::now()),
            Err(RefundError::NotCaptured)
        );
        p.apply_status(Succeeded, Utc::now());
        p.add_refund(refund("20.00"), Utc::now()).unwrap();
        assert_eq!(p.status, PartiallyRefunded);
        assert!(matches!(
            p.add_refund(refund("30.01"), Utc::now()),
            Err(RefundError::ExceedsCaptured { .. })
        ));
        p.add_refund(refund("30.00"), Utc::now()).unwrap();
        assert_eq!(p.status, Refunded);
        assert!(p.refundable().is_zero());
        assert_eq!(
            p.add_refund(refund("0.00"), Utc::now()),
            Err(RefundError::NotPositive)
        );
    }
}
