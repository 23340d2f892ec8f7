//! Payment use cases. Client confirmations and provider events both go through
//! [`Payments::apply_status`], whose transitions are monotonic and idempotent, so they
//! converge on one paid order whatever order they arrive in.

use super::{Caller, Commerce, CommerceError};
use crate::events::DomainEvent;
use crate::ids::{OrderId, PaymentId};
use crate::money::Money;
use crate::order::{Order, OrderStatus};
use crate::payment::{Payment, PaymentStatus, Refund, RefundError, Transition};
use crate::ports::{StockMovement, StorageError};

/// A provider's report about one of its payments (from a verified webhook).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's event id: an event seen before is acknowledged and not applied again.
    pub event_id: String,
    /// The provider's payment reference (`pi_...`).
    pub reference: String,
    pub status: PaymentStatus,
    pub failure_reason: Option<String>,
}

pub struct Payments<'a> {
    pub(super) shop: &'a Commerce,
}

impl Payments<'_> {
    /// Creates (or returns the open) payment of a pending order the caller owns.
    pub async fn create_intent(
        &self,
        caller: &Caller,
        order_id: OrderId,
    ) -> Result<Payment, CommerceError> {
        let order = self.shop.orders().order(caller, order_id).await?;
        if order.status != OrderStatus::Pending {
            return Err(CommerceError::Conflict(format!(
                "the order is {}, not pending",
                order.status.as_str()
            )));
        }
        let open = self
            .shop
            .ports
            .payments
            .payments_of_order(order.id)
            .await?
            .into_iter()
            .find(|p| {
                matches!(
                    p.status,
                    PaymentStatus::RequiresPayment | PaymentStatus::Processing
                )
            });
        match open {
            Some(p) => Ok(p),
            None => self.start(&order).await,
        }
    }

    /// A payment for exactly the order total, registered with the provider.
    pub(crate) async fn start(&self, order: &Order) -> Result<Payment, CommerceError> {
        let now = self.shop.now();
        let gateway = &self.shop.ports.gateway;
        let mut payment = Payment::new(
            self.shop.new_id(),
            order.id,
            gateway.provider(),
            order.totals.total,
            now,
        );
        let intent = gateway
            .create_intent(&payment, &payment.id.to_string())
            .await?;
        payment.provider_reference = Some(intent.provider_reference);
        payment.client_secret = intent.client_secret;
        payment.apply_status(intent.status, now);
        self.shop.ports.payments.insert_payment(&payment).await?;
        Ok(payment)
    }

    pub async fn payment(&self, caller: &Caller, id: PaymentId) -> Result<Payment, CommerceError> {
        let payment = self
            .shop
            .ports
            .payments
            .payment(id)
            .await?
            .ok_or(CommerceError::NotFound("payment"))?;
        // Visible to whoever may see its order.
        self.shop
            .orders()
            .order(caller, payment.order_id)
            .await
            .map_err(|_| CommerceError::NotFound("payment"))?;
        Ok(payment)
    }

    /// Confirms a payment with providers confirmed from the server (the built-in test
    /// provider). Confirming a payment already settled returns it unchanged.
    pub async fn confirm(&self, caller: &Caller, id: PaymentId) -> Result<Payment, CommerceError> {
        let payment = self.payment(caller, id).await?;
        self.confirm_with_provider(payment).await
    }

    /// Asks the provider to confirm; a payment already captured is returned unchanged.
    async fn confirm_with_provider(&self, payment: Payment) -> Result<Payment, CommerceError> {
        if payment.status.is_captured() {
            return Ok(payment);
        }
        let status = self.shop.ports.gateway.confirm(&payment).await?;
        let reason =
            (status == PaymentStatus::Failed).then(|| "the payment was declined".to_string());
        self.apply_status(payment, status, reason).await
    }

    /// Confirms a guest's payment: knowing the payment's client secret (handed out only with
    /// the guest's checkout) stands in for owning the order, as with card providers.
    pub async fn confirm_with_secret(
        &self,
        id: PaymentId,
        client_secret: &str,
    ) -> Result<Payment, CommerceError> {
        let payment = self
            .shop
            .ports
            .payments
            .payment(id)
            .await?
            .filter(|p| {
                p.client_secret
                    .as_deref()
                    .is_some_and(|s| same_secret(s.as_bytes(), client_secret.trim().as_bytes()))
            })
            .ok_or(CommerceError::NotFound("payment"))?;
        self.confirm_with_provider(payment).await
    }

    /// Applies a provider event once: a repeated event id is acknowledged and ignored.
    /// Returns the payment, or `None` for an event already seen or about an unknown payment.
    pub async fn apply_provider_event(
        &self,
        event: ProviderEvent,
    ) -> Result<Option<Payment>, CommerceError> {
        let provider = self.shop.ports.gateway.provider();
        let Some(payment) = self
            .shop
            .ports
            .payments
            .payment_by_reference(provider, &event.reference)
            .await?
        else {
            return Ok(None);
        };
        if !self
            .shop
            .ports
            .payments
            .record_provider_event(provider, &event.event_id)
            .await?
        {
            return Ok(None);
        }
        let payment = if matches!(event.status, PaymentStatus::Refunded) {
            self.mark_refunded_by_provider(payment).await?
        } else {
            self.apply_status(payment, event.status, event.failure_reason)
                .await?
        };
        Ok(Some(payment))
    }

    /// Moves the payment forward (a repeat or an older report changes nothing) and the order
    /// with it: a success makes a pending order paid, and a success on an order cancelled
    /// meanwhile is refunded at once.
    async fn apply_status(
        &self,
        mut payment: Payment,
        status: PaymentStatus,
        reason: Option<String>,
    ) -> Result<Payment, CommerceError> {
        let now = self.shop.now();
        if payment.apply_status(status, now) == Transition::Unchanged {
            return Ok(payment);
        }
        if status == PaymentStatus::Failed {
            payment.failure_reason = reason;
        }
        self.shop.ports.payments.update_payment(&payment).await?;
        self.shop
            .ports
            .events
            .publish(DomainEvent::PaymentStatusChanged {
                payment_id: payment.id,
                order_id: payment.order_id,
                status: payment.status,
                at: now,
            });
        if status == PaymentStatus::Succeeded {
            self.settle_order(&payment).await?;
        }
        // The payment may have been refunded by `settle_order`: return what is stored.
        Ok(self
            .shop
            .ports
            .payments
            .payment(payment.id)
            .await?
            .unwrap_or(payment))
    }

    /// After a success: pending → paid, retrying once if the order changed meanwhile (a
    /// webhook and a confirmation racing).
    async fn settle_order(&self, payment: &Payment) -> Result<(), CommerceError> {
        for _ in 0..3 {
            let Some(mut order) = self.shop.ports.orders.order(payment.order_id).await? else {
                return Ok(());
            };
            match order.status {
                OrderStatus::Pending => {
                    let now = self.shop.now();
                    order.transition(OrderStatus::Paid, now)?;
                    order.payment_status = PaymentStatus::Succeeded;
                    match self
                        .shop
                        .ports
                        .orders
                        .update_order(&order, StockMovement::None)
                        .await
                    {
                        Ok(_) => {
                            self.shop
                                .ports
                                .events
                                .publish(DomainEvent::OrderStatusChanged {
                                    order_id: order.id,
                                    status: OrderStatus::Paid,
                                    at: now,
                                });
                            return Ok(());
                        }
                        Err(StorageError::VersionConflict) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                OrderStatus::Cancelled => {
                    // Paid after the customer cancelled: give the money back.
                    self.refund(payment.clone(), None).await?;
                    return Ok(());
                }
                _ => return Ok(()),
            }
        }
        Err(CommerceError::Conflict(
            "the order kept changing; the payment is recorded".into(),
        ))
    }

    /// The provider refunded outside the engine (its dashboard): record it in full.
    async fn mark_refunded_by_provider(
        &self,
        mut payment: Payment,
    ) -> Result<Payment, CommerceError> {
        let left = payment.refundable();
        if !left.is_zero() {
            let now = self.shop.now();
            payment
                .add_refund(
                    Refund {
                        id: self.shop.new_id(),
                        amount: left,
                        provider_reference: None,
                        created_at: now,
                    },
                    now,
                )
                .map_err(|e| CommerceError::Conflict(e.to_string()))?;
            self.shop.ports.payments.update_payment(&payment).await?;
        }
        if let Some(mut order) = self.shop.ports.orders.order(payment.order_id).await? {
            if order.status.can_become(OrderStatus::Refunded) {
                let now = self.shop.now();
                order.transition(OrderStatus::Refunded, now)?;
                order.payment_status = payment.status;
                self.shop
                    .ports
                    .orders
                    .update_order(&order, StockMovement::None)
                    .await?;
                self.shop
                    .ports
                    .events
                    .publish(DomainEvent::OrderStatusChanged {
                        order_id: order.id,
                        status: OrderStatus::Refunded,
                        at: now,
                    });
            }
        }
        Ok(payment)
    }

    /// The order's captured payment.
    pub(crate) async fn captured_payment(
        &self,
        order_id: OrderId,
    ) -> Result<Payment, CommerceError> {
        self.shop
            .ports
            .payments
            .payments_of_order(order_id)
            .await?
            .into_iter()
            .find(|p| p.status.is_captured())
            .ok_or_else(|| {
                CommerceError::Conflict("the order has no captured payment to refund".into())
            })
    }

    /// Refunds through the provider, never more than is left.
    pub(crate) async fn refund(
        &self,
        mut payment: Payment,
        amount: Option<Money>,
    ) -> Result<Payment, CommerceError> {
        let amount = match amount {
            Some(a) => a,
            None => payment.refundable(),
        };
        let now = self.shop.now();
        let refund = Refund {
            id: self.shop.new_id(),
            amount,
            provider_reference: None,
            created_at: now,
        };
        // Check before calling the provider, so a refused refund costs nothing.
        let mut check = payment.clone();
        check
            .add_refund(refund.clone(), now)
            .map_err(refund_error)?;
        let reference = self
            .shop
            .ports
            .gateway
            .refund(&payment, amount, &refund.id.to_string())
            .await?;
        payment
            .add_refund(
                Refund {
                    provider_reference: Some(reference),
                    ..refund
                },
                now,
            )
            .map_err(refund_error)?;
        self.shop.ports.payments.update_payment(&payment).await?;
        self.shop
            .ports
            .events
            .publish(DomainEvent::PaymentStatusChanged {
                payment_id: payment.id,
                order_id: payment.order_id,
                status: payment.status,
                at: now,
            });
        Ok(payment)
    }
}

fn refund_error(e: RefundError) -> CommerceError {
    match e {
        RefundError::NotPositive | RefundError::Currency => {
            CommerceError::validation("amount", e.to_string())
        }
        RefundError::ExceedsCaptured { .. } => CommerceError::validation("amount", e.to_string()),
        RefundError::NotCaptured => CommerceError::Conflict(e.to_string()),
    }
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
