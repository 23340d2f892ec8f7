//! Order use cases: direct orders, reading, cancelling, and the admin's status changes and
//! refunds.

use super::checkout::{LineRequest, PlacementRequest};
use super::{Caller, Commerce, CommerceError, ItemRequest};
use crate::account::Address;
use crate::audit::{AuditChanges, AuditTarget};
use crate::ids::{AddressId, CartItemId, OrderId, ShippingMethodId};
use crate::money::Money;
use crate::order::{Order, OrderStatus, StatusReason};
use crate::payment::PaymentStatus;
use crate::ports::{OrderEffects, OrderFilter, Page, PageRequest, StockMovement, StorageError};
use crate::promotion::normalize_code;
use crate::validation::ValidationErrors;

/// `POST /api/orders`: an order straight from a list of items.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirectOrder {
    /// What to buy: repeated product/variant pairs make one line.
    pub items: Vec<ItemRequest>,
    /// Where it goes, unless `address_id` names a saved address.
    pub shipping_address: Option<Address>,
    /// One of the customer's saved addresses.
    pub address_id: Option<AddressId>,
    /// The method; default the cheapest active one.
    pub shipping_method: Option<ShippingMethodId>,
    /// Codes to apply; one that does not is refused with its reason.
    pub discount_codes: Vec<String>,
    /// Required for a guest.
    pub email: Option<String>,
    /// The provider the order will be paid with (one of [`Commerce::payment_providers`],
    /// kept on the order for `create_intent`); `None`: the shop's default.
    ///
    /// [`Commerce::payment_providers`]: super::Commerce::payment_providers
    pub payment_provider: Option<String>,
}

/// Order use cases ([`Commerce::orders`]).
pub struct Orders<'a> {
    pub(super) shop: &'a Commerce,
}

impl Orders<'_> {
    /// Places an order from items. A code that does not apply is refused with its reason and
    /// nothing is reserved; stock is reserved atomically, never past zero.
    pub async fn create(
        &self,
        caller: &Caller,
        request: DirectOrder,
    ) -> Result<Order, CommerceError> {
        let mut errors = ValidationErrors::new();
        if request.items.is_empty() {
            errors.add("items", "at least one item");
        }
        if request.items.len() > crate::limits::MAX_LINES {
            errors.add("items", "too many items");
        }
        for (i, item) in request.items.iter().enumerate() {
            if item.quantity == 0 || item.quantity > crate::limits::MAX_LINE_QUANTITY {
                errors.add(
                    format!("items.{i}.quantity"),
                    format!("must be 1 to {}", crate::limits::MAX_LINE_QUANTITY),
                );
            }
        }
        let mut codes = Vec::new();
        for (i, code) in request.discount_codes.iter().enumerate() {
            match normalize_code(code) {
                Some(c) if !codes.contains(&c) => codes.push(c),
                Some(_) => {}
                None => errors.add(format!("discount_codes.{i}"), "is not a valid code"),
            }
        }
        if let Err(CommerceError::Validation(refused)) = self
            .shop
            .offered_provider(request.payment_provider.as_deref())
        {
            errors.0.extend(refused.0);
        }
        errors.into_result(())?;
        // Repeated product/variant pairs make one line, as in a cart.
        let mut lines: Vec<LineRequest> = Vec::new();
        for item in &request.items {
            match lines
                .iter_mut()
                .find(|l| l.product_id == item.product_id && l.variant_id == item.variant_id)
            {
                Some(l) => {
                    l.quantity = l
                        .quantity
                        .saturating_add(item.quantity)
                        .min(crate::limits::MAX_LINE_QUANTITY)
                }
                None => lines.push(LineRequest {
                    item_id: self.shop.new_id(),
                    product_id: item.product_id,
                    variant_id: item.variant_id,
                    quantity: item.quantity,
                }),
            }
        }
        let line_ids: Vec<CartItemId> = lines.iter().map(|l| l.item_id).collect();
        let mut quote = self
            .shop
            .quote(
                caller,
                PlacementRequest {
                    lines,
                    codes: &codes,
                    email: request.email.as_deref(),
                    shipping_address: request.shipping_address,
                    address_id: request.address_id,
                    shipping_method: request.shipping_method,
                    products: None,
                },
            )
            .await?;
        if let Some(missing) = quote.lines.unavailable.first() {
            let i = line_ids.iter().position(|id| id == missing).unwrap_or(0);
            return Err(CommerceError::validation(
                &format!("items.{i}.product_id"),
                "no such product or variant for sale",
            ));
        }
        if let Some(rejected) = quote
            .lines
            .priced
            .rejected
            .iter()
            .find(|r| r.code.is_some())
        {
            return Err(CommerceError::InvalidDiscount {
                code: rejected.code.clone().unwrap_or_default(),
                reason: rejected.reason,
            });
        }
        quote.details.payment_provider = request.payment_provider;
        self.shop.place(quote, None).await
    }

    /// The order, to its owner or an admin; anyone else gets not found.
    pub async fn order(&self, caller: &Caller, id: OrderId) -> Result<Order, CommerceError> {
        let (user, _) = caller.require_user()?;
        let order = self
            .shop
            .ports
            .orders
            .order(id)
            .await?
            .ok_or(CommerceError::NotFound("order"))?;
        if caller.runs_the_shop() || order.user_id == Some(user) {
            Ok(order)
        } else {
            Err(CommerceError::NotFound("order"))
        }
    }

    /// The order's invoice, to its owner or an admin: the PDF's bytes and a file name. Drawn
    /// off the async workers.
    pub async fn invoice(
        &self,
        caller: &Caller,
        id: OrderId,
    ) -> Result<(Vec<u8>, String), CommerceError> {
        let order = self.order(caller, id).await?;
        let renderer = self.shop.ports.invoices.clone().ok_or_else(|| {
            CommerceError::Conflict("this shop draws no invoices (no invoice renderer)".into())
        })?;
        let settings = self.shop.settings().await?;
        let invoice = crate::invoice::Invoice {
            shop_name: settings.name,
            shop_address: settings.address,
            order,
            issued_at: self.shop.now(),
        };
        let name = invoice.file_name();
        let drawn = tokio::task::spawn_blocking(move || renderer.render(&invoice))
            .await
            .map_err(|e| CommerceError::Internal(format!("the invoice task failed: {e}")))?
            .map_err(|e| CommerceError::Internal(e.to_string()))?;
        Ok((drawn, name))
    }

    /// The caller's orders, newest first.
    pub async fn my_orders(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<Page<Order>, CommerceError> {
        let (user, _) = caller.require_user()?;
        Ok(self
            .shop
            .ports
            .orders
            .list_orders(&OrderFilter {
                user_id: Some(user),
                page,
                ..Default::default()
            })
            .await?)
    }

    /// All orders, optionally of one status; managers and admins.
    pub async fn all_orders(
        &self,
        caller: &Caller,
        status: Option<OrderStatus>,
        page: PageRequest,
    ) -> Result<Page<Order>, CommerceError> {
        self.find_orders(caller, status, None, page).await
    }

    /// As [`all_orders`](Self::all_orders), and only the order numbered `number` when given
    /// (compared without regard to case or surrounding spaces, as a customer reads it out).
    pub async fn find_orders(
        &self,
        caller: &Caller,
        status: Option<OrderStatus>,
        number: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Order>, CommerceError> {
        caller.require_manager()?;
        let number = number
            .map(|n| n.trim().to_ascii_uppercase())
            .filter(|n| !n.is_empty());
        Ok(self
            .shop
            .ports
            .orders
            .list_orders(&OrderFilter {
                status,
                number,
                page,
                ..Default::default()
            })
            .await?)
    }

    /// The owner cancels while `pending` or `paid` (a paid order is refunded in full); the
    /// units go back to stock.
    pub async fn cancel(&self, caller: &Caller, id: OrderId) -> Result<Order, CommerceError> {
        let order = self.order(caller, id).await?;
        if !matches!(order.status, OrderStatus::Pending | OrderStatus::Paid)
            && !caller.runs_the_shop()
        {
            return Err(CommerceError::InvalidTransition(format!(
                "an order that is {} can no longer be cancelled",
                order.status.as_str()
            )));
        }
        self.change_status(order, OrderStatus::Cancelled, caller)
            .await
    }

    /// A manager or admin moves an order along the status machine. `refunded` refunds what is left.
    pub async fn set_status(
        &self,
        caller: &Caller,
        id: OrderId,
        status: OrderStatus,
    ) -> Result<Order, CommerceError> {
        caller.require_manager()?;
        let order = self
            .shop
            .ports
            .orders
            .order(id)
            .await?
            .ok_or(CommerceError::NotFound("order"))?;
        self.change_status(order, status, caller).await
    }

    /// A manager or admin refunds `amount` (everything left when `None`) through the payment provider.
    /// A refund of everything marks the order `refunded`.
    pub async fn refund(
        &self,
        caller: &Caller,
        id: OrderId,
        amount: Option<Money>,
    ) -> Result<Order, CommerceError> {
        caller.require_manager()?;
        let order = self
            .shop
            .ports
            .orders
            .order(id)
            .await?
            .ok_or(CommerceError::NotFound("order"))?;
        let payment = self.shop.payments().captured_payment(order.id).await?;
        let payment = self.shop.payments().refund(payment, amount, caller).await?;
        let mut order = order;
        if payment.status == PaymentStatus::Refunded
            && order.status.can_become(OrderStatus::Refunded)
        {
            order = self
                .write_status(order, OrderStatus::Refunded, payment.status, caller)
                .await?;
        } else if order.payment_status != payment.status {
            order.payment_status = payment.status;
            order = self
                .shop
                .ports
                .orders
                .update_order(&order, StockMovement::None.into())
                .await?;
        }
        Ok(order)
    }

    /// A status change with its consequences: cancelling a paid order refunds it, refunding
    /// refunds what is left; an order that will not ship releases its units, a shipped one
    /// commits them.
    pub(crate) async fn change_status(
        &self,
        order: Order,
        to: OrderStatus,
        by: &Caller,
    ) -> Result<Order, CommerceError> {
        if !order.status.can_become(to) {
            return Err(CommerceError::InvalidTransition(format!(
                "an order cannot go from {} to {}",
                order.status.as_str(),
                to.as_str()
            )));
        }
        let mut payment_status = order.payment_status;
        let needs_refund = matches!(to, OrderStatus::Cancelled | OrderStatus::Refunded)
            && order.payment_status.is_captured();
        if needs_refund {
            let payment = self.shop.payments().captured_payment(order.id).await?;
            if !payment.refundable().is_zero() {
                payment_status = self.shop.payments().refund(payment, None, by).await?.status;
            }
        } else if to == OrderStatus::Refunded {
            return Err(CommerceError::InvalidTransition(
                "nothing was paid, so nothing can be refunded".into(),
            ));
        } else if to == OrderStatus::Cancelled {
            // Nothing captured: the open payments are given up, so none can be paid now.
            self.shop.payments().cancel_open(order.id).await?;
        }
        self.write_status(order, to, payment_status, by).await
    }

    async fn write_status(
        &self,
        order: Order,
        to: OrderStatus,
        payment_status: PaymentStatus,
        by: &Caller,
    ) -> Result<Order, CommerceError> {
        self.write_status_because(order, to, payment_status, None, by)
            .await
    }

    /// A status change stored with its effects: units moved as the change says, and a
    /// cancelled order's promotion uses given back (it will not be paid for).
    pub(crate) async fn write_status_because(
        &self,
        mut order: Order,
        to: OrderStatus,
        payment_status: PaymentStatus,
        reason: Option<StatusReason>,
        by: &Caller,
    ) -> Result<Order, CommerceError> {
        let stock = order.status.stock_movement_to(to);
        let from = order.status;
        let paid_before = order.payment_status;
        let now = self.shop.now();
        order.transition_because(to, now, reason)?;
        order.payment_status = payment_status;
        let mut changed = AuditChanges::new();
        changed.insert("status".into(), (from.as_str().into(), to.as_str().into()));
        if paid_before != payment_status {
            changed.insert(
                "payment_status".into(),
                (paid_before.as_str().into(), payment_status.as_str().into()),
            );
        }
        let effects = OrderEffects {
            stock,
            give_back_promotion_uses: to == OrderStatus::Cancelled,
            record: self
                .shop
                .order_moved(&order, from, stock, now)
                .auditing(self.shop.audit(
                    by,
                    "order.status",
                    AuditTarget::new("order", order.id),
                    changed,
                )),
        };
        let stored = self
            .shop
            .ports
            .orders
            .update_order(&order, effects)
            .await
            .map_err(|e| match e {
                StorageError::VersionConflict => {
                    CommerceError::Conflict("the order changed meanwhile; try again".into())
                }
                other => other.into(),
            })?;
        self.shop.outbox_written();
        self.shop.order_status_changed(&stored, to, now);
        Ok(stored)
    }
}
