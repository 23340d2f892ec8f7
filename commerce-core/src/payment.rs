//! Payments: one per order attempt, with the provider's reference, a status that only moves
//! forward, and refunds that never exceed what was captured.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{OrderId, PaymentId, RefundId};
use crate::money::Money;

/// Where a payment stands; it only moves forward (`Payment::apply_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Created with the provider, not paid yet (the buyer has a card to enter or a page to approve).
    RequiresPayment,
    /// The provider is working on it (a pending capture, a bank transfer).
    Processing,
    /// Paid in full.
    Succeeded,
    /// The last attempt failed; it may still be tried again and succeed.
    Failed,
    /// All of it given back.
    Refunded,
    /// Some of it given back.
    PartiallyRefunded,
    /// Given up before anything was captured (the order was cancelled, or the provider's
    /// session expired); the order, if still pending, is paid with a new payment.
    Cancelled,
}

impl PaymentStatus {
    /// Its name in the API (`requires_payment`).
    pub fn as_str(&self) -> &'static str {
        match self {
            PaymentStatus::RequiresPayment => "requires_payment",
            PaymentStatus::Processing => "processing",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
            PaymentStatus::Cancelled => "cancelled",
        }
    }

    /// The status of that name.
    pub fn parse(s: &str) -> Option<PaymentStatus> {
        use PaymentStatus::*;
        [
            RequiresPayment,
            Processing,
            Succeeded,
            Failed,
            Refunded,
            PartiallyRefunded,
            Cancelled,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// Whether a report of `next` moves the payment forward. A failed attempt may still be
    /// retried and succeed; nothing goes back from succeeded, and refunded and cancelled are
    /// final.
    fn advances_to(&self, next: PaymentStatus) -> bool {
        use PaymentStatus::*;
        matches!(
            (self, next),
            (RequiresPayment, Processing | Succeeded | Failed | Cancelled)
                | (Processing, Succeeded | Failed | Cancelled)
                | (Failed, Processing | Succeeded | Cancelled)
                | (Succeeded, PartiallyRefunded | Refunded)
                | (PartiallyRefunded, Refunded)
        )
    }

    /// Still waiting to be paid: the one a pending order's customer pays with.
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            PaymentStatus::RequiresPayment | PaymentStatus::Processing
        )
    }

    /// Whether money was taken (succeeded, even if refunded since).
    pub fn is_captured(&self) -> bool {
        matches!(
            self,
            PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded
        )
    }
}

/// What a provider reported about one of its payments (from a verified webhook), in the
/// engine's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's event id: an event seen before is acknowledged and not applied again.
    pub event_id: String,
    /// Our payment's id when the provider carries it back (Stripe's metadata); without it the
    /// payment is found by `reference`.
    pub payment_id: Option<PaymentId>,
    /// The provider's id of the payment the event is about (`pi_...`, or `cs_...` for a
    /// hosted checkout session).
    pub reference: String,
    /// What it reports.
    pub kind: ProviderEventKind,
}

/// What a provider reported, in the engine's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderEventKind {
    /// The provider is processing the customer's payment.
    Processing,
    /// The buyer approved the payment on the provider's page; the shop now confirms it with
    /// the provider (PayPal: captures it), as `POST /api/payments/confirm` would.
    Approved,
    /// Paid. `amount` is what the provider took: applied only when it is the payment's
    /// amount, in its currency. `reference` is the provider's payment id when it differs from
    /// the one the payment was made with (the payment intent of a hosted session), which
    /// refunds then use.
    Succeeded {
        /// What the provider took.
        amount: Money,
        /// The provider's payment id, when it differs from the payment's reference.
        reference: Option<String>,
    },
    /// An attempt failed (a declined card); the order stays payable.
    Failed {
        /// The provider's reason, when it gives one.
        reason: Option<String>,
    },
    /// Given up at the provider (cancelled, or a hosted session expired).
    Cancelled,
    /// Refunded at the provider. `refunded` is everything refunded so far for the payment (a
    /// running total, so a late or repeated report changes nothing), `captured` what was
    /// taken, `refund_reference` the provider's id of the newest refund when told.
    Refunded {
        /// What was taken.
        captured: Money,
        /// Everything refunded so far (a running total).
        refunded: Money,
        /// The provider's id of the newest refund, when told.
        refund_reference: Option<String>,
    },
}

/// What applying a status report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The payment moved to a new status.
    Changed,
    /// Already there, or the report is older than what is known: nothing changed.
    Unchanged,
}

/// Money given back on a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// The refund's id (the provider's idempotency key is made from it).
    pub id: RefundId,
    /// How much.
    pub amount: Money,
    /// The provider's id of the refund, once it answered.
    pub provider_reference: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// Why a refund was refused before asking the provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    /// The payment has not been captured (or was given up).
    #[error("nothing was captured, so nothing can be refunded")]
    NotCaptured,
    /// Zero or less.
    #[error("a refund must be more than zero")]
    NotPositive,
    /// More than is left to refund.
    #[error("refunds would exceed the {captured} captured ({refunded} already refunded)")]
    ExceedsCaptured {
        /// What was captured.
        captured: Money,
        /// What was refunded before.
        refunded: Money,
    },
    /// In another currency than the payment.
    #[error("refund in a different currency")]
    Currency,
}

/// A payment of an order through one provider; an order may have several attempts, one
/// captured at most (a second success is refunded at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Its id.
    pub id: PaymentId,
    /// The order it pays.
    pub order_id: OrderId,
    /// The provider that takes it (`test`, `stripe`, `paypal`): confirmation, refunds and
    /// webhooks go to this one, whichever is the shop's default.
    pub provider: String,
    /// The provider's id, e.g. a PaymentIntent `pi_...`.
    pub provider_reference: Option<String>,
    /// Handed to the client to confirm the payment; never logged.
    pub client_secret: Option<String>,
    /// Set for a payment made on the provider's own page (a hosted checkout session).
    #[serde(default)]
    pub checkout_url: Option<String>,
    /// Where the buyer approves it, for providers paid on their own page (PayPal).
    #[serde(default)]
    pub approve_url: Option<String>,
    /// Exactly the order total.
    pub amount: Money,
    /// Where it stands.
    pub status: PaymentStatus,
    /// Refunds made, oldest first; never more than `amount` in all.
    pub refunds: Vec<Refund>,
    /// Why the last attempt failed, when it did.
    pub failure_reason: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Payment {
    /// A new payment of `amount` for the order, `requires_payment`, with `provider`'s name.
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
            checkout_url: None,
            approve_url: None,
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

    /// Everything refunded so far.
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
