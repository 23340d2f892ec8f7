//! A fake Stripe on 127.0.0.1, for tests: it keeps PaymentIntents, Checkout Sessions,
//! charges and refunds in memory, scripts their life as a customer and Stripe would
//! (success, a decline back to `requires_payment_method`, `requires_action`, cancellation, a
//! refund from the dashboard), checks the adapter's requests (the API key, `Stripe-Version`,
//! an `Idempotency-Key` on every POST, the form fields and Stripe's amount rules), answers
//! with Stripe-shaped bodies, and sends the events it made as signed webhooks, when and how
//! the test says: twice, out of order, concurrently, or with a stale timestamp.
//!
//! A payment through the engine against the fake: the order's PaymentIntent is created at
//! the fake, the customer pays (the fake plays Stripe's side), and confirming reads the
//! intent back, so the order is paid. An HTTP test would instead
//! [`send_webhooks_to`](FakeStripe::send_webhooks_to) its server and
//! [`deliver`](FakeStripe::deliver) the event.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use commerce_core::service::{DirectOrder, ItemRequest};
//! use commerce_core::{account::{Address, Role}, catalog::NewProduct, memory::MemoryStore, order::OrderStatus, Caller, Commerce};
//! use commerce_stripe::{fake::FakeStripe, StripeGateway};
//! use rust_decimal::Decimal;
//!
//! let stripe = FakeStripe::start("sk_test_fake", "whsec_fake").await;
//! let gateway = StripeGateway::new(stripe.config())?;
//! let shop = Commerce::builder(Arc::new(MemoryStore::new())).gateway(Arc::new(gateway)).build();
//!
//! let admin = shop.accounts().create_user("admin@shop.test", "a-long-password", "Admin", Role::Admin, true).await?;
//! let admin = Caller::user(admin.id, admin.role);
//! let lamp = shop.catalog().create_product(&admin, NewProduct {
//!     name: "Lamp".into(), price: Decimal::new(4200, 2), inventory_count: 3, ..Default::default()
//! }).await?;
//! let address = Address { line1: Some("1 Main St".into()), city: Some("Springfield".into()),
//!     postal_code: Some("12345".into()), country: "US".into(), ..Default::default() };
//! let order = shop.orders().create(&admin, DirectOrder {
//!     items: vec![ItemRequest { product_id: lamp.id, variant_id: None, quantity: 1 }],
//!     shipping_address: Some(address), ..Default::default()
//! }).await?;
//!
//! let payment = shop.payments().create_intent(&admin, order.id).await?;
//! let intent = payment.provider_reference.clone().unwrap();
//! assert_eq!(stripe.payment_intent(&intent).unwrap()["amount"], 4200);
//!
//! stripe.succeed(&intent); // the customer paid
//! shop.payments().confirm(&admin, payment.id).await?;
//! assert_eq!(shop.orders().order(&admin, order.id).await?.status, OrderStatus::Paid);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! Where it is stricter than Stripe it says so: Stripe accepts a POST without an
//! `Idempotency-Key`; this fake refuses one, because the adapter must always send it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{handler, web::Data, EndpointExt, Request, Response, Route};
use serde_json::{json, Map, Value};

use crate::amount;
use crate::client::STRIPE_VERSION;

mod api;
mod events;
mod serving;

use api::*;
use events::*;
use serving::*;

/// A request the fake received, as it read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The path, e.g. `/v1/payment_intents`.
    pub path: String,
    /// The form fields in the order sent, bracket names as they are (`metadata[order_id]`).
    pub form: Vec<(String, String)>,
    /// Its `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// Its `Stripe-Version`.
    pub stripe_version: Option<String>,
    /// Whether it carried the fake's secret key as a bearer token.
    pub authorized: bool,
}

impl RecordedRequest {
    /// The value of a form field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How to deliver an event, other than as Stripe would now.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// Signed at this Unix time instead of now (a stale or replayed webhook).
    pub signed_at: Option<i64>,
    /// Signed with this secret instead of the endpoint's.
    pub secret: Option<String>,
    /// Sent with a body other than the one signed.
    pub tampered: bool,
    /// Sent with no `Stripe-Signature` header at all.
    pub unsigned: bool,
}

#[derive(Default)]
struct State {
    intents: BTreeMap<String, Value>,
    sessions: BTreeMap<String, Value>,
    /// The charge of each succeeded intent.
    charges: BTreeMap<String, Value>,
    /// What each session's intent will carry as metadata.
    session_intent_metadata: HashMap<String, Value>,
    events: Vec<Value>,
    /// Idempotency key → (what was asked, the status and body answered).
    answered: HashMap<String, (String, u16, Value)>,
    requests: Vec<RecordedRequest>,
    /// Statuses the next requests fail with, before being looked at.
    failures: VecDeque<u16>,
    webhook_url: Option<String>,
    next: u64,
}

struct Shared {
    secret_key: String,
    webhook_secret: String,
    base: String,
    state: Mutex<State>,
    /// Sends the webhooks.
    http: reqwest::Client,
}

/// The fake; stops serving when dropped.
pub struct FakeStripe {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(|p| p.into_inner())
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!(
            "{prefix}_fake{:06}{}",
            self.next,
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        )
    }

    /// Makes an event (not sent until the test says so) and returns its id.
    fn event(&mut self, kind: &str, object: &Value) -> String {
        let id = self.id("evt");
        self.events.push(json!({
            "id": id,
            "object": "event",
            "api_version": STRIPE_VERSION,
            "created": chrono::Utc::now().timestamp(),
            "type": kind,
            "livemode": false,
            "data": {"object": object},
        }));
        id
    }

    fn intent_mut(&mut self, id: &str) -> &mut Value {
        self.intents
            .get_mut(id)
            .unwrap_or_else(|| panic!("the fake has no payment intent {id}"))
    }
}

impl FakeStripe {
    /// Serves on a free port of 127.0.0.1, taking `secret_key` as the only valid API key and
    /// signing webhooks with `webhook_secret`.
    pub async fn start(secret_key: &str, webhook_secret: &str) -> FakeStripe {
        Self::start_on("127.0.0.1:0", secret_key, webhook_secret)
            .await
            .expect("a free loopback port for the fake Stripe")
    }

    /// Serves on `address` (keep it to loopback).
    pub async fn start_on(
        address: &str,
        secret_key: &str,
        webhook_secret: &str,
    ) -> std::io::Result<FakeStripe> {
        let acceptor = TcpListener::bind(address.to_string())
            .into_acceptor()
            .await?;
        let addr = *acceptor.local_addr()[0]
            .as_socket_addr()
            .ok_or_else(|| std::io::Error::other("not a socket address"))?;
        let shared = Arc::new(Shared {
            secret_key: secret_key.to_string(),
            webhook_secret: webhook_secret.to_string(),
            base: format!("http://{addr}"),
            state: Mutex::new(State::default()),
            http: crate::client::http_client(std::time::Duration::from_secs(10))
                .map_err(std::io::Error::other)?,
        });
        let app = Route::new().at("/*path", serve).data(shared.clone());
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        Ok(FakeStripe { shared, server })
    }

    /// The fake's address, for `ClientOptions::api_base`.
    pub fn api_base(&self) -> &str {
        &self.shared.base
    }

    /// A configuration of the adapter that talks to this fake, quickly giving up.
    pub fn config(&self) -> crate::StripeConfig {
        let mut config =
            crate::StripeConfig::new(&self.shared.secret_key, &self.shared.webhook_secret);
        config.client.api_base = self.shared.base.clone();
        config.client.backoff = std::time::Duration::from_millis(10);
        config
    }

    /// Where webhooks go.
    pub fn send_webhooks_to(&self, url: &str) {
        lock(&self.shared).webhook_url = Some(url.to_string());
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared).requests.clone()
    }

    /// The next `count` requests fail with `status` (429 or a 5xx) before being looked at.
    pub fn fail_next(&self, status: u16, count: usize) {
        let mut s = lock(&self.shared);
        s.failures.extend(std::iter::repeat_n(status, count));
    }

    /// A PaymentIntent as the fake holds it now (Stripe's shape).
    pub fn payment_intent(&self, id: &str) -> Option<Value> {
        lock(&self.shared).intents.get(id).cloned()
    }

    /// A Checkout Session as the fake holds it now (Stripe's shape).
    pub fn checkout_session(&self, id: &str) -> Option<Value> {
        lock(&self.shared).sessions.get(id).cloned()
    }

    /// Every event made so far, oldest first.
    pub fn events(&self) -> Vec<Value> {
        lock(&self.shared).events.clone()
    }

    /// The id of the newest event of `kind`.
    pub fn last_event(&self, kind: &str) -> Option<String> {
        lock(&self.shared)
            .events
            .iter()
            .rev()
            .find(|e| e["type"] == kind)
            .and_then(|e| e["id"].as_str().map(str::to_string))
    }

    /// The customer pays: the intent succeeds with a charge. Returns the event's id.
    pub fn succeed(&self, intent_id: &str) -> String {
        let mut s = lock(&self.shared);
        succeed(&mut s, intent_id)
    }

    /// The card is declined: the intent goes back to `requires_payment_method` with the
    /// error. Returns the `payment_intent.payment_failed` event's id.
    pub fn decline(&self, intent_id: &str, decline_code: &str) -> String {
        decline(&mut lock(&self.shared), intent_id, decline_code)
    }

    /// The bank wants the customer to authenticate (3-D Secure). Returns the event's id.
    pub fn require_action(&self, intent_id: &str) -> String {
        let mut s = lock(&self.shared);
        let intent = s.intent_mut(intent_id);
        intent["status"] = json!("requires_action");
        intent["next_action"] = json!({"type": "use_stripe_sdk"});
        let intent = intent.clone();
        s.event("payment_intent.requires_action", &intent)
    }

    /// The intent is cancelled from the dashboard. Returns the event's id.
    pub fn cancel(&self, intent_id: &str) -> String {
        let mut s = lock(&self.shared);
        let intent = s.intent_mut(intent_id);
        intent["status"] = json!("canceled");
        let intent = intent.clone();
        s.event("payment_intent.canceled", &intent)
    }

    /// A refund made in the dashboard, not by the shop. Returns the `charge.refunded`
    /// event's id.
    pub fn refund_in_dashboard(&self, intent_id: &str, amount: i64) -> String {
        let mut s = lock(&self.shared);
        refund(&mut s, intent_id, amount, json!({}));
        s.events
            .last()
            .and_then(|e| e["id"].as_str().map(str::to_string))
            .expect("the refund's event")
    }

    /// The customer pays on the hosted page: the session's intent is made and succeeds, the
    /// session completes. Returns the events' ids: `payment_intent.succeeded`, then
    /// `checkout.session.completed`.
    pub fn complete_session(&self, session_id: &str) -> Vec<String> {
        complete_session(&mut lock(&self.shared), session_id)
    }

    /// Sends the event to the webhook URL, signed now as Stripe signs; the answer's status.
    pub async fn deliver(&self, event_id: &str) -> u16 {
        self.deliver_with(event_id, Delivery::default()).await
    }

    /// Sends the event, signed as `how` says.
    pub async fn deliver_with(&self, event_id: &str, how: Delivery) -> u16 {
        send(self.shared.webhook(event_id, how)).await
    }

    /// Sends the same event `copies` times at once; their answers' statuses.
    pub async fn deliver_concurrently(&self, event_id: &str, copies: usize) -> Vec<u16> {
        let sends: Vec<_> = (0..copies)
            .map(|_| tokio::spawn(send(self.shared.webhook(event_id, Delivery::default()))))
            .collect();
        let mut statuses = Vec::with_capacity(copies);
        for s in sends {
            statuses.push(s.await.unwrap_or(0));
        }
        statuses
    }
}
