//! A fake PayPal on loopback, to try the shop's PayPal payments by hand without an account.
//!
//! ```sh
//! cargo run --example fake_paypal --features full -- 127.0.0.1:12112 http://127.0.0.1:8080/api/webhooks/paypal
//! ```
//! Then start the server with `PAYPAL_CLIENT_ID=fake-paypal-client
//! PAYPAL_CLIENT_SECRET=fake-paypal-secret PAYPAL_WEBHOOK_ID=WH-FAKE-0000000001
//! PAYPAL_API_BASE=http://127.0.0.1:12112 PAYPAL_CERT_HOSTS=127.0.0.1`, check out with
//! `"payment_provider": "paypal"`, and open the payment's `approve_url` as the buyer would:
//! the fake approves at once and sends `CHECKOUT.ORDER.APPROVED`, signed with its own
//! certificate, and the shop captures the payment.

use commerce::paypal::fake::{FakePayPal, CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:12112".into());
    let webhooks = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8080/api/webhooks/paypal".into());
    let paypal = match FakePayPal::start_on(&address).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot listen on {address}: {e}");
            std::process::exit(1);
        }
    };
    paypal.send_webhooks_to(&webhooks);
    eprintln!(
        "fake PayPal on {} (client {CLIENT_ID} / {CLIENT_SECRET}, webhook id {WEBHOOK_ID}), webhooks to {webhooks}",
        paypal.api_base()
    );
    let _ = tokio::signal::ctrl_c().await;
}
