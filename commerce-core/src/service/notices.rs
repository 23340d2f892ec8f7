//! What the customer is told when their order moves: the event on the bus (for live
//! streams), and mail through the `Mailer` port: the confirmation once it is paid (lines,
//! totals, delivery address, number), and a notice when it ships, is refunded or is
//! cancelled. Mail goes out in the background: the request that moved the order never waits
//! for it or fails because of it; a mail that cannot be sent is tried again a few times, with
//! growing pauses, and each failure is logged.

use chrono::{DateTime, Utc};

use super::Commerce;
use crate::events::DomainEvent;
use crate::money::Money;
use crate::order::{Order, OrderStatus};
use crate::ports::Mail;

/// The mails an order's customer gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notice {
    Confirmed,
    Shipped,
    Refunded,
    Cancelled,
    /// Cancelled by the shop: not paid in time.
    Expired,
    /// Paid after it expired, when its stock was gone: the payment is refunded.
    LatePaymentRefunded,
}

impl Notice {
    fn of(order: &Order, status: OrderStatus) -> Option<Notice> {
        match status {
            OrderStatus::Paid => Some(Notice::Confirmed),
            OrderStatus::Shipped => Some(Notice::Shipped),
            OrderStatus::Refunded => Some(Notice::Refunded),
            OrderStatus::Cancelled if order.expired_unpaid() => Some(Notice::Expired),
            OrderStatus::Cancelled => Some(Notice::Cancelled),
            _ => None,
        }
    }
}

impl Commerce {
    /// An order's status changed (and is stored): subscribers are told, and the customer is
    /// mailed when it is news to them.
    pub(crate) fn order_status_changed(
        &self,
        order: &Order,
        status: OrderStatus,
        at: DateTime<Utc>,
    ) {
        self.ports.events.publish(DomainEvent::OrderStatusChanged {
            order_id: order.id,
            status,
            at,
        });
        if let (Some(notice), Some(to)) = (Notice::of(order, status), order.email.clone()) {
            self.mail_in_background(order.clone(), notice, to);
        }
    }

    /// A payment arrived for an order that had expired and whose stock is gone: it was
    /// refunded in full, and the customer is told why.
    pub(crate) fn late_payment_refunded(&self, order: &Order) {
        if let Some(to) = order.email.clone() {
            self.mail_in_background(order.clone(), Notice::LatePaymentRefunded, to);
        }
    }

    fn mail_in_background(&self, order: Order, notice: Notice, to: String) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(order = %order.number, "no runtime to send the order's mail on");
            return;
        };
        let shop = self.clone();
        runtime.spawn(async move {
            let name = match shop.settings().await {
                Ok(settings) => settings.name,
                Err(_) => "Commerce".to_string(),
            };
            let mail = order_mail(&name, &order, notice, to);
            let mut pause = shop.config.mail_retry_after;
            for attempt in 1..=shop.config.mail_attempts.max(1) {
                match shop.ports.mailer.send(&mail).await {
                    Ok(()) => return,
                    Err(e) if attempt < shop.config.mail_attempts => {
                        tracing::warn!(order = %order.number, attempt, error = %e, "order mail not sent; trying again");
                        tokio::time::sleep(pause).await;
                        pause *= 2;
                    }
                    Err(e) => {
                        tracing::error!(order = %order.number, attempt, error = %e, "order mail not sent; given up");
                    }
                }
            }
        });
    }
}

/// Escapes text for HTML.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn negative(m: &Money) -> String {
    if m.is_zero() {
        m.to_string()
    } else {
        format!("-{m}")
    }
}

/// The mail of `notice` about `order`, as text and as HTML.
fn order_mail(shop: &str, order: &Order, notice: Notice, to: String) -> Mail {
    let number = &order.number;
    let (subject, opening) = match notice {
        Notice::Confirmed => (
            format!("{shop}: order {number} is confirmed"),
            format!(
                "Thank you for your order {number}. We have your payment and are preparing it."
            ),
        ),
        Notice::Shipped => (
            format!("{shop}: order {number} is on its way"),
            format!("Your order {number} has shipped."),
        ),
        Notice::Refunded => (
            format!("{shop}: order {number} is refunded"),
            format!("Your order {number} is refunded: the money goes back the way it was paid."),
        ),
        Notice::Cancelled => (
            format!("{shop}: order {number} is cancelled"),
            format!("Your order {number} is cancelled. Anything you paid is refunded."),
        ),
        Notice::Expired => (
            format!("{shop}: order {number} was not paid in time"),
            format!(
                "Your order {number} was not paid in time, so we cancelled it and released its items. You have not been charged."
            ),
        ),
        Notice::LatePaymentRefunded => (
            format!("{shop}: your payment for order {number} is refunded"),
            format!(
                "Your payment for order {number} arrived after the order had expired, and its items are no longer in stock. We have refunded the payment in full: the money goes back the way it was paid."
            ),
        ),
    };
    let t = &order.totals;
    let totals = [
        ("Subtotal", t.subtotal.to_string()),
        ("Discount", negative(&t.discount)),
        ("Shipping", t.shipping.to_string()),
        ("Tax", t.tax.to_string()),
        ("Total", t.total.to_string()),
    ];
    let address = order.shipping_address.lines();
    let mut text = format!("{opening}\n\nOrder {number}\n\n");
    for line in &order.lines {
        text.push_str(&format!(
            "  {} × {} ({})  {}\n",
            line.quantity, line.name, line.sku, line.subtotal
        ));
    }
    text.push('\n');
    for (label, amount) in &totals {
        text.push_str(&format!("{label}: {amount}\n"));
    }
    text.push_str("\nDelivering to:\n");
    for a in &address {
        text.push_str(&format!("{a}\n"));
    }
    text.push_str(&format!("\n{shop}\n"));

    let mut rich = format!(
        "<!doctype html><html><body style=\"font-family: sans-serif\"><p>{}</p><h2>Order {}</h2><table cellpadding=\"4\">",
        html(&opening),
        html(number)
    );
    for line in &order.lines {
        rich.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td align=\"right\">{}</td></tr>",
            line.quantity,
            html(&line.name),
            html(&line.sku),
            html(&line.subtotal.to_string())
        ));
    }
    rich.push_str("</table><table cellpadding=\"4\">");
    for (label, amount) in &totals {
        rich.push_str(&format!(
            "<tr><td>{label}</td><td align=\"right\">{}</td></tr>",
            html(amount)
        ));
    }
    rich.push_str("</table><p>Delivering to:<br>");
    rich.push_str(
        &address
            .iter()
            .map(|a| html(a))
            .collect::<Vec<_>>()
            .join("<br>"),
    );
    rich.push_str(&format!("</p><p>{}</p></body></html>", html(shop)));
    Mail {
        to,
        subject,
        text,
        html: Some(rich),
    }
}
