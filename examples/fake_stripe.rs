//! A fake Stripe on loopback, to try the shop's Stripe payments by hand without an account.
//!
//! ```sh
//! cargo run --example fake_stripe --features full -- 127.0.0.1:12111 http://127.0.0.1:8080/api/webhooks/stripe
//! ```
//! Then start the server with `STRIPE_SECRET_KEY=sk_test_fake STRIPE_WEBHOOK_SECRET=whsec_fake
//! STRIPE_API_BASE=http://127.0.0.1:12111`, and pay as the customer would with
//! `curl -X POST http://127.0.0.1:12111/_fake/payment_intents/<pi_...>/succeed` (or
//! `decline?code=insufficient_funds`, `cancel`; `checkout/sessions/<cs_...>/complete`;
//! `refunds?payment_intent=<pi_...>&amount=<cents>`): the fake sends the webhook at once.

use commerce::stripe::fake::FakeStripe;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:12111".into());
    let webhooks = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8080/api/webhooks/stripe".into());
    let stripe = match FakeStripe::start_on(&address, "sk_test_fake", "whsec_fake").await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot listen on {address}: {e}");
            std::process::exit(1);
        }
    };
    stripe.send_webhooks_to(&webhooks);
    eprintln!(
        "fake Stripe on {} (API key sk_test_fake, webhook secret whsec_fake), webhooks to {webhooks}",
        stripe.api_base()
    );
    let _ = tokio::signal::ctrl_c().await;
}
