//! Housekeeping the shop does by itself: orders left unpaid past the unpaid-order timeout are
//! cancelled (their stock and discount uses given back, their open payments cancelled at the
//! provider), guest carts untouched for long are deleted, and webhook deliveries done long
//! ago are forgotten.
//!
//! Safe with several processes on one database: each order is cancelled through a versioned
//! write, so of two sweepers (or a sweeper and a payment arriving) exactly one moves it; the
//! other finds the version moved and leaves the order alone.

use std::time::Duration;

use tokio::sync::watch;

use super::{Caller, Commerce, CommerceError};
use crate::order::{OrderStatus, StatusReason};
use crate::ports::Mail;

/// Webhook history rows forgotten per write of the sweep.
const HISTORY_PER_ROUND: u32 = 1_000;

/// Back-in-stock alerts read per round of the sweep.
const STOCK_ALERTS_PER_ROUND: u32 = 100;

/// Orders read per round of the sweep.
const UNPAID_PER_ROUND: u32 = 100;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Unpaid orders cancelled.
    pub expired_orders: u64,
    /// Guest carts deleted.
    pub purged_carts: u64,
    /// Old webhook deliveries and outbox events forgotten.
    pub purged_webhook_history: u64,
    /// Back-in-stock mails sent.
    pub stock_alerts_sent: u64,
    /// Social sign-ins begun and never finished, forgotten once expired.
    pub purged_sign_in_flows: u64,
}

impl Commerce {
    /// One sweep, now: what a server runs every so often ([`Commerce::spawn_sweeper`]), and
    /// what a test or a cron job may call.
    pub async fn sweep(&self) -> Result<Swept, CommerceError> {
        let mut swept = Swept::default();
        if let Some(timeout) = self.config.unpaid_order_timeout {
            swept.expired_orders = self.expire_unpaid_orders(timeout).await?;
        }
        if let Some(lifetime) = self.config.guest_cart_lifetime {
            let before = self.now() - chrono_duration(lifetime);
            swept.purged_carts = self.ports.carts.purge_guest_carts(before).await?;
        }
        swept.stock_alerts_sent = self.send_stock_alerts().await?;
        swept.purged_sign_in_flows = self.ports.social.purge_sign_in_flows(self.now()).await?;
        if let Some(keep) = self.config.webhooks.keep_history {
            let before = self.now() - chrono_duration(keep);
            // In bites, so no one write holds SQLite's writer for long.
            loop {
                let gone = self
                    .ports
                    .webhooks
                    .purge_webhook_history(before, HISTORY_PER_ROUND)
                    .await?;
                swept.purged_webhook_history += gone;
                if gone < u64::from(HISTORY_PER_ROUND) {
                    break;
                }
            }
        }
        Ok(swept)
    }

    /// Sweeps now and then every `every`, until `stop` turns true (or its sender is gone). A
    /// sweep that fails (storage away) is logged and tried again at the next.
    pub fn spawn_sweeper(
        &self,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let shop = self.clone();
        tokio::spawn(async move {
            loop {
                match shop.sweep().await {
                    Ok(swept) if swept != Swept::default() => {
                        tracing::info!(
                            expired_orders = swept.expired_orders,
                            purged_carts = swept.purged_carts,
                            purged_webhook_history = swept.purged_webhook_history,
                            stock_alerts_sent = swept.stock_alerts_sent,
                            "swept"
                        );
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "the sweep failed; trying again later"),
                }
                // Waits for the next sweep, or ends at once when told to stop.
                if tokio::time::timeout(every, stop.wait_for(|stopping| *stopping))
                    .await
                    .is_ok()
                {
                    return;
                }
            }
        })
    }

    /// Mails every shopper whose product is back in stock, once: each alert is closed before
    /// its mail goes (so two processes never both send it), and opened again if the mail
    /// could not be sent, for the next sweep.
    async fn send_stock_alerts(&self) -> Result<u64, CommerceError> {
        let mut sent = 0;
        loop {
            let due = self
                .ports
                .stock_alerts
                .stock_alerts_due(STOCK_ALERTS_PER_ROUND)
                .await?;
            let round = due.len();
            let mut taken = 0;
            for d in due {
                if !self
                    .ports
                    .stock_alerts
                    .close_stock_alert(d.alert.id, self.now())
                    .await?
                {
                    continue;
                }
                taken += 1;
                let mail = Mail {
                    to: d.alert.email.clone(),
                    subject: format!("Back in stock: {}", d.name),
                    text: format!(
                        "{} is back in stock ({} available). You asked to be told once; \
                         this is that mail.\n",
                        d.name, d.available
                    ),
                    html: None,
                };
                match self.ports.mailer.send(&mail).await {
                    Ok(()) => sent += 1,
                    Err(e) => {
                        tracing::warn!(error = %e, "a back-in-stock mail could not be sent; trying again later");
                        self.ports
                            .stock_alerts
                            .reopen_stock_alert(d.alert.id)
                            .await?;
                        // The mailer is down: the rest wait for the next sweep.
                        return Ok(sent);
                    }
                }
            }
            if round < STOCK_ALERTS_PER_ROUND as usize || taken == 0 {
                return Ok(sent);
            }
        }
    }

    async fn expire_unpaid_orders(&self, timeout: Duration) -> Result<u64, CommerceError> {
        let placed_before = self.now() - chrono_duration(timeout);
        let mut expired = 0;
        loop {
            let unpaid = self
                .ports
                .orders
                .unpaid_orders(placed_before, UNPAID_PER_ROUND)
                .await?;
            let round = unpaid.len();
            let mut moved = 0;
            for order in unpaid {
                // Its open payments first: once cancelled at the provider they cannot be
                // paid, and one that is paid meanwhile moves the order to paid.
                self.payments().cancel_open(order.id).await?;
                let Some(order) = self.ports.orders.order(order.id).await? else {
                    continue;
                };
                if order.status != OrderStatus::Pending {
                    continue;
                }
                let payment_status = order.payment_status;
                match self
                    .orders()
                    .write_status_because(
                        order,
                        OrderStatus::Cancelled,
                        payment_status,
                        Some(StatusReason::PaymentTimeout),
                        &Caller::Anonymous,
                    )
                    .await
                {
                    Ok(_) => {
                        expired += 1;
                        moved += 1;
                    }
                    // Another process, or a payment, moved it first.
                    Err(CommerceError::Conflict(_))
                    | Err(CommerceError::VersionMismatch(_))
                    | Err(CommerceError::InvalidTransition(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            // A full round that moved nothing is another process's work in flight: stop
            // rather than read the same orders again.
            if round < UNPAID_PER_ROUND as usize || moved == 0 {
                return Ok(expired);
            }
        }
    }
}

pub(super) fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
