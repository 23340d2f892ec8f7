//! Payment use cases. Client confirmations and provider events both go through
//! [`Payments::apply_status`], whose transitions are monotonic and idempotent, so they
//! converge on one paid order whatever order they arrive in.

use super::{Caller, Commerce, CommerceError};
use crate::audit::AuditTarget;
use crate::events::DomainEvent;
use crate::ids::{OrderId, PaymentId};
use crate::memory::NoPaymentProvider;
use crate::money::Money;
use crate::order::{Order, OrderStatus};
use crate::outbox::{ChangeRecord, OutboxEvent};
use crate::payment::{Payment, PaymentStatus, Refund, RefundError, Transition};
use crate::ports::{
    GatewayError, OrderEffects, PaymentGateway, PlaceOrderError, StockMovement, StorageError,
    WebhookError, WebhookHeaders,
};
use serde_json::{json, Value};
use std::sync::Arc;

pub use crate::payment::{ProviderEvent, ProviderEventKind};

/// A payment to be made on the provider's own page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedPayment {
    /// Its `provider_reference` is the provider's session id.
    pub payment: Payment,
    /// Where to send the customer.
    pub url: String,
}

/// What became of a provider's webhook.
// One per webhook, returned and dropped at once: boxing the payment would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Applied; the payment as it now is (unchanged when the event told nothing new).
    Applied(Payment),
    /// A genuine event of a kind the shop does not act on.
    Ignored,
    /// Seen before: acknowledged, not applied again.
    Duplicate,
    /// About a payment this shop does not have (another shop on the same account).
    UnknownPayment,
    /// Not applied, because it contradicts the payment (another amount or currency).
    Refused(String),
}

/// Payment use cases ([`Commerce::payments`]).
pub struct Payments<'a> {
    pub(super) shop: &'a Commerce,
}

impl Payments<'_> {
    /// Creates (or returns the open) payment of a pending order the caller owns, with the
    /// provider the order was placed for (the shop's default if none was named).
    pub async fn create_intent(
        &self,
        caller: &Caller,
        order_id: OrderId,
    ) -> Result<Payment, CommerceError> {
        self.create_intent_through(caller, order_id, None).await
    }

    /// As [`create_intent`](Self::create_intent), with the provider the buyer names now
    /// (one of [`Commerce::payment_providers`]; another name is a validation error on
    /// `payment_provider`, once the order is found). An open payment with that provider is
    /// returned as it is.
    pub async fn create_intent_through(
        &self,
        caller: &Caller,
        order_id: OrderId,
        provider: Option<&str>,
    ) -> Result<Payment, CommerceError> {
        let order = self.payable_order(caller, order_id).await?;
        let gateway = self.shop.gateway_for_order(&order, provider)?;
        let open = self
            .shop
            .ports
            .payments
            .payments_of_order(order.id)
            .await?
            .into_iter()
            .find(|p| {
                p.status.is_open() && p.checkout_url.is_none() && p.provider == gateway.provider()
            });
        match open {
            Some(p) => Ok(p),
            None => self.start(&order, provider).await,
        }
    }

    /// A pending order the caller may pay.
    async fn payable_order(
        &self,
        caller: &Caller,
        order_id: OrderId,
    ) -> Result<Order, CommerceError> {
        let order = self.shop.orders().order(caller, order_id).await?;
        if order.status != OrderStatus::Pending {
            return Err(CommerceError::Conflict(format!(
                "the order is {}, not pending",
                order.status.as_str()
            )));
        }
        Ok(order)
    }

    /// A payment for exactly the order total, registered with the provider named (checked
    /// already), else the order's, else the shop's default.
    pub(crate) async fn start(
        &self,
        order: &Order,
        provider: Option<&str>,
    ) -> Result<Payment, CommerceError> {
        let now = self.shop.now();
        let gateway = self.shop.gateway_for_order(order, provider)?;
        let mut payment = Payment::new(
            self.shop.new_id(),
            order.id,
            gateway.provider(),
            order.totals.total,
            now,
        );
        let intent = gateway
            .create_intent(&payment, order, &payment.id.to_string())
            .await?;
        payment.provider_reference = Some(intent.provider_reference);
        payment.client_secret = intent.client_secret;
        payment.approve_url = intent.approve_url;
        payment.apply_status(intent.status, now);
        self.shop.ports.payments.insert_payment(&payment).await?;
        Ok(payment)
    }

    /// A payment of a pending order the caller owns, on a page the provider hosts (Stripe
    /// Checkout): the order's lines and total, and the page's URL. A provider without such
    /// pages is a conflict.
    pub async fn create_hosted_checkout(
        &self,
        caller: &Caller,
        order_id: OrderId,
        provider: Option<&str>,
    ) -> Result<HostedPayment, CommerceError> {
        let order = self.payable_order(caller, order_id).await?;
        let now = self.shop.now();
        let gateway = self.shop.gateway_for_order(&order, provider)?;
        let mut payment = Payment::new(
            self.shop.new_id(),
            order.id,
            gateway.provider(),
            order.totals.total,
            now,
        );
        let session = gateway
            .create_checkout_session(&payment, &order, &payment.id.to_string())
            .await
            .map_err(|e| match e {
                GatewayError::NotOffered => CommerceError::Conflict(format!(
                    "the payment provider ({}) has no hosted checkout page; pay with create-intent",
                    gateway.provider()
                )),
                other => other.into(),
            })?;
        payment.provider_reference = Some(session.provider_reference);
        payment.checkout_url = Some(session.url.clone());
        self.shop.ports.payments.insert_payment(&payment).await?;
        Ok(HostedPayment {
            payment,
            url: session.url,
        })
    }

    /// A payment, to whoever may see its order (else not found).
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
    /// provider), or brings it up to date with what a card provider says. Confirming a
    /// payment already settled returns it unchanged.
    pub async fn confirm(&self, caller: &Caller, id: PaymentId) -> Result<Payment, CommerceError> {
        let payment = self.payment(caller, id).await?;
        self.confirm_with_provider(payment).await
    }

    /// Asks the provider; a payment already captured is returned unchanged.
    async fn confirm_with_provider(&self, payment: Payment) -> Result<Payment, CommerceError> {
        if payment.status.is_captured() {
            return Ok(payment);
        }
        let status = self.shop.gateway_of(&payment)?.confirm(&payment).await?;
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

    /// A webhook as the provider named `provider` sent it: verified by the payment adapter
    /// (its signature before anything is parsed), then applied once. A webhook for a provider
    /// this shop does not use is not found.
    pub async fn receive_webhook(
        &self,
        provider: &str,
        headers: &WebhookHeaders,
        body: &[u8],
    ) -> Result<WebhookOutcome, CommerceError> {
        let gateway = self
            .shop
            .gateway_named(provider)
            .ok_or(CommerceError::NotFound("webhook"))?;
        let event = gateway
            .read_webhook(headers, body, self.shop.now())
            .await
            .map_err(|e| match e {
                WebhookError::BadSignature(why) => CommerceError::BadWebhook {
                    signature: true,
                    detail: why,
                },
                WebhookError::Malformed(why) => CommerceError::BadWebhook {
                    signature: false,
                    detail: why,
                },
                WebhookError::NotOffered => CommerceError::NotFound("webhook"),
                WebhookError::Unreachable(why) => CommerceError::ProviderUnavailable(why),
            })?;
        match event {
            Some(event) => self.apply_provider_event(provider, event).await,
            None => Ok(WebhookOutcome::Ignored),
        }
    }

    /// Applies an event of the provider named `provider` once: an event id seen before is
    /// acknowledged and ignored. If applying it fails, its id is forgotten again, so that the
    /// provider's retry applies it.
    pub async fn apply_provider_event(
        &self,
        provider: &str,
        event: ProviderEvent,
    ) -> Result<WebhookOutcome, CommerceError> {
        let payments = &self.shop.ports.payments;
        let found = match event.payment_id {
            Some(id) => payments
                .payment(id)
                .await?
                .filter(|p| p.provider == provider),
            None => None,
        };
        let found = match found {
            Some(p) => Some(p),
            None => {
                payments
                    .payment_by_reference(provider, &event.reference)
                    .await?
            }
        };
        let Some(payment) = found else {
            return Ok(WebhookOutcome::UnknownPayment);
        };
        if !payments
            .record_provider_event(provider, &event.event_id)
            .await?
        {
            return Ok(WebhookOutcome::Duplicate);
        }
        match self.apply_event_kind(payment, event.kind).await {
            Ok(outcome) => Ok(outcome),
            Err(e) => {
                // Best effort: if this fails too, the event stays recorded and a retry is
                // acknowledged without effect; the error is what the provider sees now.
                let _ = payments
                    .forget_provider_event(provider, &event.event_id)
                    .await;
                Err(e)
            }
        }
    }

    async fn apply_event_kind(
        &self,
        mut payment: Payment,
        kind: ProviderEventKind,
    ) -> Result<WebhookOutcome, CommerceError> {
        let applied = match kind {
            ProviderEventKind::Processing => {
                self.apply_status(payment, PaymentStatus::Processing, None)
                    .await?
            }
            ProviderEventKind::Approved => self.confirm_with_provider(payment).await?,
            ProviderEventKind::Failed { reason } => {
                self.apply_status(payment, PaymentStatus::Failed, reason)
                    .await?
            }
            ProviderEventKind::Cancelled => {
                self.apply_status(payment, PaymentStatus::Cancelled, None)
                    .await?
            }
            ProviderEventKind::Succeeded { amount, reference } => {
                if amount != payment.amount {
                    return Ok(WebhookOutcome::Refused(format!(
                        "payment {} is for {}, the provider reports {} paid",
                        payment.id, payment.amount, amount
                    )));
                }
                if let Some(reference) = reference {
                    if payment.provider_reference.as_deref() != Some(reference.as_str()) {
                        // Refunds of a hosted session's payment go to its payment intent.
                        payment.provider_reference = Some(reference);
                        self.shop
                            .ports
                            .payments
                            .update_payment(&payment, &ChangeRecord::none())
                            .await?;
                    }
                }
                self.apply_status(payment, PaymentStatus::Succeeded, None)
                    .await?
            }
            ProviderEventKind::Refunded {
                captured,
                refunded,
                refund_reference,
            } => {
                if captured != payment.amount {
                    return Ok(WebhookOutcome::Refused(format!(
                        "payment {} is for {}, the provider reports {} captured",
                        payment.id, payment.amount, captured
                    )));
                }
                if !payment.status.is_captured() {
                    // A refund proves the capture; its own report may still be on its way.
                    payment = self
                        .apply_status(payment, PaymentStatus::Succeeded, None)
                        .await?;
                }
                self.record_provider_refunds(payment, refunded, refund_reference)
                    .await?
            }
        };
        Ok(WebhookOutcome::Applied(applied))
    }

    /// Moves the payment forward (a repeat or an older report changes nothing) and the order
    /// with it: a success makes a pending order paid, and a success on an order cancelled
    /// meanwhile, or paid already by another payment, is refunded at once.
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
        let mut record = ChangeRecord::none();
        if status == PaymentStatus::Failed {
            payment.failure_reason = reason;
            if let Some(order) = self.shop.ports.orders.order(payment.order_id).await? {
                record.events.push(OutboxEvent::payment_failed(
                    self.shop.new_id(),
                    &payment,
                    &order,
                ));
            }
        }
        self.shop
            .ports
            .payments
            .update_payment(&payment, &record)
            .await?;
        self.shop.outbox_written();
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
                    let effects = OrderEffects::new(
                        StockMovement::None,
                        self.shop.order_moved(
                            &order,
                            OrderStatus::Pending,
                            StockMovement::None,
                            now,
                        ),
                    );
                    match self.shop.ports.orders.update_order(&order, effects).await {
                        Ok(stored) => {
                            self.shop.outbox_written();
                            self.shop
                                .order_status_changed(&stored, OrderStatus::Paid, now);
                            return Ok(());
                        }
                        Err(StorageError::VersionConflict) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                OrderStatus::Cancelled if order.expired_unpaid() => {
                    // Paid after the shop gave up waiting: the order comes back if its
                    // stock is still there, else the money goes back. Never lost.
                    let now = self.shop.now();
                    let mut back = order.clone();
                    back.reinstate_paid(now)?;
                    back.payment_status = PaymentStatus::Succeeded;
                    // Its units are taken again: a sale, as far as stock is concerned.
                    let record = self
                        .shop
                        .order_moved(&back, order.status, StockMovement::None, now)
                        .watching_stock(now);
                    match self.shop.ports.orders.reinstate_order(&back, &record).await {
                        Ok(stored) => {
                            self.shop.outbox_written();
                            self.shop
                                .order_status_changed(&stored, OrderStatus::Paid, now);
                            return Ok(());
                        }
                        Err(PlaceOrderError::Storage(StorageError::VersionConflict)) => continue,
                        Err(PlaceOrderError::OutOfStock { .. })
                        | Err(PlaceOrderError::Unavailable(_)) => {
                            self.refund(payment.clone(), None, &Caller::Anonymous)
                                .await?;
                            self.shop.late_payment_refunded(&order);
                            return Ok(());
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                OrderStatus::Cancelled => {
                    // Paid after the customer cancelled: give the money back.
                    self.refund(payment.clone(), None, &Caller::Anonymous)
                        .await?;
                    return Ok(());
                }
                _ => {
                    // Paid twice (an intent and a hosted session, say): give this one back.
                    let others = self.shop.ports.payments.payments_of_order(order.id).await?;
                    if others
                        .iter()
                        .any(|p| p.id != payment.id && p.status.is_captured())
                    {
                        self.refund(payment.clone(), None, &Caller::Anonymous)
                            .await?;
                    }
                    return Ok(());
                }
            }
        }
        Err(CommerceError::Conflict(
            "the order kept changing; the payment is recorded".into(),
        ))
    }

    /// Refunds the provider reports (its running total) that this shop has not recorded yet,
    /// made outside the engine (the provider's dashboard); a refund made here is recorded
    /// already and changes nothing. Refunded in full, the order is marked refunded.
    async fn record_provider_refunds(
        &self,
        mut payment: Payment,
        refunded: Money,
        reference: Option<String>,
    ) -> Result<Payment, CommerceError> {
        let known = payment.refunded();
        let missing = refunded
            .checked_sub(&known)
            .map_err(|e| CommerceError::Conflict(e.to_string()))?;
        if missing.is_zero() || missing.is_negative() {
            return Ok(payment);
        }
        let now = self.shop.now();
        let refundable = payment.refundable();
        // Never more than was captured, whatever the report says.
        let amount = if missing.amount() > refundable.amount() {
            refundable
        } else {
            missing
        };
        if amount.is_zero() {
            return Ok(payment);
        }
        payment
            .add_refund(
                Refund {
                    id: self.shop.new_id(),
                    amount,
                    provider_reference: reference,
                    created_at: now,
                },
                now,
            )
            .map_err(|e| CommerceError::Conflict(e.to_string()))?;
        let record = self.refund_record(&payment).await?;
        self.shop
            .ports
            .payments
            .update_payment(&payment, &record)
            .await?;
        self.shop.outbox_written();
        self.shop
            .ports
            .events
            .publish(DomainEvent::PaymentStatusChanged {
                payment_id: payment.id,
                order_id: payment.order_id,
                status: payment.status,
                at: now,
            });
        self.follow_refund_on_order(&payment).await?;
        Ok(payment)
    }

    /// The order after a refund: refunded in full, it is `refunded`; in part, it says so.
    async fn follow_refund_on_order(&self, payment: &Payment) -> Result<(), CommerceError> {
        for _ in 0..3 {
            let Some(mut order) = self.shop.ports.orders.order(payment.order_id).await? else {
                return Ok(());
            };
            let now = self.shop.now();
            let to_refunded = payment.status == PaymentStatus::Refunded
                && order.status.can_become(OrderStatus::Refunded);
            // A refunded order that still held units gives them back.
            let from = order.status;
            let stock = if to_refunded {
                let stock = order.status.stock_movement_to(OrderStatus::Refunded);
                order.transition(OrderStatus::Refunded, now)?;
                stock
            } else if order.payment_status == payment.status {
                return Ok(());
            } else {
                StockMovement::None
            };
            order.payment_status = payment.status;
            let effects = OrderEffects::new(stock, self.shop.order_moved(&order, from, stock, now));
            match self.shop.ports.orders.update_order(&order, effects).await {
                Ok(stored) => {
                    self.shop.outbox_written();
                    if to_refunded {
                        self.shop
                            .order_status_changed(&stored, OrderStatus::Refunded, now);
                    }
                    return Ok(());
                }
                Err(StorageError::VersionConflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CommerceError::Conflict(
            "the order kept changing; the refund is recorded".into(),
        ))
    }

    /// Gives up the order's open payments (it was cancelled): cancelled at the provider, so
    /// they can no longer be paid, and here. A provider that cannot be reached now is not a
    /// reason to keep the order: a payment that still succeeds later is refunded at once.
    pub(crate) async fn cancel_open(&self, order_id: OrderId) -> Result<(), CommerceError> {
        let open: Vec<Payment> = self
            .shop
            .ports
            .payments
            .payments_of_order(order_id)
            .await?
            .into_iter()
            .filter(|p| p.status.is_open())
            .collect();
        for payment in open {
            // A provider no longer set up cannot take it either: cancelled here alone.
            let cancelled = match self.shop.gateway_of(&payment) {
                Ok(gateway) => gateway.cancel(&payment).await.is_ok(),
                Err(_) => true,
            };
            if cancelled {
                self.apply_status(payment, PaymentStatus::Cancelled, None)
                    .await?;
            }
        }
        Ok(())
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
        by: &Caller,
    ) -> Result<Payment, CommerceError> {
        let amount = match amount {
            Some(a) => a,
            // The whole of nothing (all refunded already, or a free order): what is stored
            // refuses it, not the request.
            None if payment.refundable().is_zero() && payment.status.is_captured() => {
                return Err(CommerceError::Conflict(
                    "nothing is left to refund on this order".into(),
                ));
            }
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
            .gateway_of(&payment)?
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
        let record = self.refund_record(&payment).await?;
        let record = match payment.refunds.last() {
            Some(refund) => record.auditing(
                self.shop.audit(
                    by,
                    "refund.create",
                    AuditTarget::new("refund", refund.id),
                    [
                        ("order_id", json!(payment.order_id)),
                        ("payment_id", json!(payment.id)),
                        ("amount", json!(refund.amount)),
                        ("provider_reference", json!(refund.provider_reference)),
                    ]
                    .into_iter()
                    .map(|(field, value)| (field.to_string(), (Value::Null, value)))
                    .collect(),
                ),
            ),
            None => record,
        };
        self.shop
            .ports
            .payments
            .update_payment(&payment, &record)
            .await?;
        self.shop.outbox_written();
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

impl Payments<'_> {
    /// `order.refunded` for the payment's newest refund.
    async fn refund_record(&self, payment: &Payment) -> Result<ChangeRecord, CommerceError> {
        let (Some(refund), Some(order)) = (
            payment.refunds.last(),
            self.shop.ports.orders.order(payment.order_id).await?,
        ) else {
            return Ok(ChangeRecord::none());
        };
        Ok(ChangeRecord::telling(vec![OutboxEvent::order_refunded(
            self.shop.new_id(),
            &order,
            payment,
            refund,
        )]))
    }
}

fn refund_error(e: RefundError) -> CommerceError {
    match e {
        RefundError::NotPositive | RefundError::Currency => {
            CommerceError::validation("amount", e.to_string())
        }
        // How much was captured and refunded is the payment's state: a conflict with it.
        RefundError::ExceedsCaptured { .. } => CommerceError::Conflict(e.to_string()),
        RefundError::NotCaptured => CommerceError::Conflict(e.to_string()),
    }
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Commerce {
    /// The payment providers a buyer may choose (`payment_provider`), the default first;
    /// empty for a shop that takes no payments.
    pub fn payment_providers(&self) -> Vec<&'static str> {
        self.gateways()
            .map(|g| g.provider())
            .filter(|name| *name != NoPaymentProvider::NAME)
            .collect()
    }

    fn gateways(&self) -> impl Iterator<Item = &Arc<dyn PaymentGateway>> {
        std::iter::once(&self.ports.gateway).chain(&self.ports.other_gateways)
    }

    /// The provider of that name, if the shop offers it.
    pub(crate) fn gateway_named(&self, name: &str) -> Option<&Arc<dyn PaymentGateway>> {
        self.gateways()
            .find(|g| g.provider() == name && name != NoPaymentProvider::NAME)
    }

    /// Refuses a provider the shop does not offer, before anything is written.
    pub(crate) fn offered_provider(&self, name: Option<&str>) -> Result<(), CommerceError> {
        match name {
            Some(name) if self.gateway_named(name).is_none() => {
                let offered = self.payment_providers();
                Err(CommerceError::validation(
                    "payment_provider",
                    if offered.is_empty() {
                        "this shop takes no payments yet".to_string()
                    } else {
                        format!("must be one of: {}", offered.join(", "))
                    },
                ))
            }
            _ => Ok(()),
        }
    }

    /// The provider to pay `order` with: the one named now, else the one it was placed for
    /// (if still offered), else the default.
    pub(crate) fn gateway_for_order(
        &self,
        order: &Order,
        named: Option<&str>,
    ) -> Result<&Arc<dyn PaymentGateway>, CommerceError> {
        if let Some(name) = named {
            self.offered_provider(Some(name))?;
        }
        Ok(named
            .or(order.payment_provider.as_deref())
            .and_then(|name| self.gateway_named(name))
            .unwrap_or(&self.ports.gateway))
    }

    /// The provider that took `payment`: its confirmation and refunds go there.
    pub(crate) fn gateway_of(
        &self,
        payment: &Payment,
    ) -> Result<&Arc<dyn PaymentGateway>, CommerceError> {
        self.gateway_named(&payment.provider).ok_or_else(|| {
            CommerceError::Conflict(format!(
                "the payment was made with {}, which this shop no longer offers",
                payment.provider
            ))
        })
    }
}
