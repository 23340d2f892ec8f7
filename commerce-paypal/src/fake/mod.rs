//! A fake PayPal on 127.0.0.1, for tests and for trying a shop by hand: it issues OAuth
//! tokens for one client id and secret, keeps orders, captures and refunds in memory,
//! answers with PayPal-shaped bodies and errors (`ORDER_NOT_APPROVED`,
//! `ORDER_ALREADY_CAPTURED`, `INSTRUMENT_DECLINED`, `REFUND_AMOUNT_EXCEEDED`,
//! `DECIMAL_PRECISION`, `CURRENCY_NOT_SUPPORTED`), replays a `PayPal-Request-Id` with its first
//! answer, and sends the events it made as webhooks signed with its own certificate (served
//! at `/certs/fake-paypal.pem`), when and how the test says: twice, out of order, forged.
//!
//! A payment through the engine against the fake: the order's PayPal order is created at the
//! fake, the buyer approves it (the fake plays PayPal's page), and confirming captures it, so
//! the order is paid. An HTTP test would instead
//! [`send_webhooks_to`](FakePayPal::send_webhooks_to) its server and
//! [`deliver`](FakePayPal::deliver) the approval, and the shop captures on it.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use commerce_core::service::{DirectOrder, ItemRequest};
//! use commerce_core::{account::{Address, Role}, catalog::NewProduct, memory::MemoryStore, order::OrderStatus, Caller, Commerce};
//! use commerce_paypal::{fake::FakePayPal, PayPalGateway};
//! use rust_decimal::Decimal;
//!
//! let paypal = FakePayPal::start().await;
//! let gateway = PayPalGateway::new(paypal.config())?;
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
//! assert!(payment.approve_url.is_some()); // where the shop sends the buyer
//! let paypal_order = payment.provider_reference.clone().unwrap();
//!
//! paypal.approve(&paypal_order); // the buyer approves on PayPal's page
//! shop.payments().confirm(&admin, payment.id).await?; // the shop captures
//! assert!(paypal.capture_of(&paypal_order).is_some());
//! assert_eq!(shop.orders().order(&admin, order.id).await?.status, OrderStatus::Paid);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! Where it is stricter than PayPal it says so: PayPal takes a write without a
//! `PayPal-Request-Id`; this fake refuses one, because the adapter must always send it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine;
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{handler, web::Data, EndpointExt, Request, Response, Route};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

use crate::amount::from_paypal;
use crate::webhook::signed_text;

/// The fake's signing certificate (self-signed, RSA 2048, for tests only) and its key.
const CERTIFICATE: &str = include_str!("cert.pem");
const KEY: &str = include_str!("key.pem");
/// Another key: what a forger without PayPal's key signs with.
const FORGER_KEY: &str = include_str!("other_key.pem");

/// The client id and secret the fake accepts.
pub const CLIENT_ID: &str = "fake-paypal-client";
/// The secret that goes with [`CLIENT_ID`].
pub const CLIENT_SECRET: &str = "fake-paypal-secret";
/// The webhook id the fake signs for.
pub const WEBHOOK_ID: &str = "WH-FAKE-0000000001";

/// A request the fake received, as it read it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The path, e.g. `/v2/checkout/orders`.
    pub path: String,
    /// The JSON body (the token call's form as a string; `null` when empty).
    pub body: Value,
    /// Its `PayPal-Request-Id`.
    pub request_id: Option<String>,
    /// Whether it carried a token the fake issued (or, for the token call, the credentials).
    pub authorized: bool,
}

/// How to deliver an event, other than as PayPal would now.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// Signed with a key that is not the certificate's (a forger's).
    pub forged: bool,
    /// Sent with a body other than the one signed.
    pub tampered: bool,
    /// Signed for another webhook id (another endpoint's event).
    pub webhook_id: Option<String>,
    /// `PAYPAL-CERT-URL` names this instead of the fake's certificate.
    pub cert_url: Option<String>,
    /// Sent without the `PAYPAL-TRANSMISSION-SIG` header.
    pub unsigned: bool,
}

#[derive(Default)]
struct State {
    orders: BTreeMap<String, Value>,
    captures: BTreeMap<String, Value>,
    refunds: BTreeMap<String, Value>,
    events: Vec<Value>,
    /// `PayPal-Request-Id` → (path and body asked, status and body answered).
    answered: HashMap<String, (String, u16, Value)>,
    requests: Vec<RecordedRequest>,
    tokens: Vec<String>,
    /// Statuses the next API requests fail with, before being looked at.
    failures: VecDeque<u16>,
    decline_next_capture: bool,
    pend_next_capture: bool,
    webhook_url: Option<String>,
    next: u64,
}

struct Shared {
    base: String,
    state: Mutex<State>,
    key: SigningKey<Sha256>,
    forger: SigningKey<Sha256>,
    http: reqwest::Client,
}

/// The fake; stops serving when dropped.
pub struct FakePayPal {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakePayPal {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(|p| p.into_inner())
}

fn signing_key(pem: &str) -> std::io::Result<SigningKey<Sha256>> {
    let key = RsaPrivateKey::from_pkcs8_pem(pem).map_err(std::io::Error::other)?;
    Ok(SigningKey::<Sha256>::new(key))
}

impl State {
    /// PayPal's ids: 17 upper-case letters and digits.
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        let random = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        format!(
            "{prefix}{:05}{}",
            self.next,
            &random[..17 - prefix.len() - 5]
        )
    }

    /// Makes an event (not sent until the test says so) and returns its id.
    fn event(&mut self, kind: &str, resource_type: &str, resource: &Value) -> String {
        let id = format!("WH-{}", self.id("EV"));
        self.events.push(json!({
            "id": id,
            "event_version": "1.0",
            "create_time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": kind,
            "summary": kind,
            "resource": resource,
        }));
        id
    }

    fn order_mut(&mut self, id: &str) -> &mut Value {
        self.orders
            .get_mut(id)
            .unwrap_or_else(|| panic!("the fake has no PayPal order {id}"))
    }
}

fn link(href: String, rel: &str, method: &str) -> Value {
    json!({"href": href, "rel": rel, "method": method})
}

fn error(status: u16, name: &str, issue: &str, description: &str) -> (u16, Value) {
    (
        status,
        json!({
            "name": name,
            "message": "The requested action could not be performed, semantically incorrect, or failed business validation.",
            "debug_id": "fakedebug0001",
            "details": [{"issue": issue, "description": description}],
        }),
    )
}

fn unprocessable(issue: &str, description: &str) -> (u16, Value) {
    error(422, "UNPROCESSABLE_ENTITY", issue, description)
}

fn not_found(what: &str) -> (u16, Value) {
    error(
        404,
        "RESOURCE_NOT_FOUND",
        "INVALID_RESOURCE_ID",
        &format!("Specified resource ID does not exist: {what}"),
    )
}

/// An amount as PayPal checks it: a currency it takes, at the decimals it takes.
fn checked_amount(amount: &Value) -> Result<(), (u16, Value)> {
    let code = amount["currency_code"].as_str().unwrap_or_default();
    let value = amount["value"].as_str().unwrap_or_default();
    let two = crate::amount::to_paypal(
        &commerce_core::money::Money::parse(
            "1",
            commerce_core::money::Currency::from_code(code).map_err(|_| {
                unprocessable("CURRENCY_NOT_SUPPORTED", "Currency code is not supported")
            })?,
        )
        .map_err(|_| unprocessable("CURRENCY_NOT_SUPPORTED", "Currency code is not supported"))?,
    );
    let places = match two {
        Ok((_, one)) => one.split('.').nth(1).map_or(0, str::len),
        Err(_) => {
            return Err(unprocessable(
                "CURRENCY_NOT_SUPPORTED",
                "Currency code is not supported",
            ))
        }
    };
    let decimals = value.split('.').nth(1).map_or(0, str::len);
    let digits_ok = !value.is_empty()
        && value.chars().filter(|c| *c == '.').count() <= 1
        && value.chars().all(|c| c.is_ascii_digit() || c == '.');
    if !digits_ok || decimals != places {
        return Err(unprocessable(
            "DECIMAL_PRECISION",
            "If the currency supports decimals, only two decimal place precision is supported.",
        ));
    }
    Ok(())
}

impl FakePayPal {
    /// Serves on a free port of 127.0.0.1.
    pub async fn start() -> FakePayPal {
        Self::start_on("127.0.0.1:0")
            .await
            .expect("a free loopback port for the fake PayPal")
    }

    /// Serves on `address` (keep it to loopback).
    pub async fn start_on(address: &str) -> std::io::Result<FakePayPal> {
        let acceptor = TcpListener::bind(address.to_string())
            .into_acceptor()
            .await?;
        let addr = *acceptor.local_addr()[0]
            .as_socket_addr()
            .ok_or_else(|| std::io::Error::other("not a socket address"))?;
        let shared = Arc::new(Shared {
            base: format!("http://{addr}"),
            state: Mutex::new(State::default()),
            key: signing_key(KEY)?,
            forger: signing_key(FORGER_KEY)?,
            http: crate::client::http_client(std::time::Duration::from_secs(10))
                .map_err(std::io::Error::other)?,
        });
        let app = Route::new().at("/*path", serve).data(shared.clone());
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        Ok(FakePayPal { shared, server })
    }

    /// The fake's address, for `ClientOptions::api_base`.
    pub fn api_base(&self) -> &str {
        &self.shared.base
    }

    /// Where it serves its signing certificate.
    pub fn cert_url(&self) -> String {
        format!("{}/certs/fake-paypal.pem", self.shared.base)
    }

    /// A configuration of the adapter that talks to this fake (its certificate's loopback
    /// host allowed), quickly giving up.
    pub fn config(&self) -> crate::PayPalConfig {
        let mut config = crate::PayPalConfig::new(CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID);
        config.client.api_base = self.shared.base.clone();
        config.client.backoff = std::time::Duration::from_millis(10);
        config.cert_hosts = vec!["127.0.0.1".into()];
        config
    }

    /// Where webhooks go.
    pub fn send_webhooks_to(&self, url: &str) {
        lock(&self.shared).webhook_url = Some(url.to_string());
    }

    /// Every API request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared).requests.clone()
    }

    /// The next `count` API requests fail with `status` (429 or a 5xx) before being looked at.
    pub fn fail_next(&self, status: u16, count: usize) {
        lock(&self.shared)
            .failures
            .extend(std::iter::repeat_n(status, count));
    }

    /// Every token issued so far stops working (as when one expires early): the next call
    /// with one is answered 401.
    pub fn expire_tokens(&self) {
        lock(&self.shared).tokens.clear();
    }

    /// The next capture is declined (`INSTRUMENT_DECLINED`): the buyer must approve again.
    pub fn decline_next_capture(&self) {
        lock(&self.shared).decline_next_capture = true;
    }

    /// The next capture is `PENDING` (an eCheck, a review): it completes or is denied later.
    pub fn pend_next_capture(&self) {
        lock(&self.shared).pend_next_capture = true;
    }

    /// A PayPal order as the fake holds it now (PayPal's shape).
    pub fn order(&self, id: &str) -> Option<Value> {
        lock(&self.shared).orders.get(id).cloned()
    }

    /// A capture as the fake holds it now (PayPal's shape).
    pub fn capture(&self, id: &str) -> Option<Value> {
        lock(&self.shared).captures.get(id).cloned()
    }

    /// The capture of a PayPal order, once captured.
    pub fn capture_of(&self, order_id: &str) -> Option<Value> {
        lock(&self.shared)
            .orders
            .get(order_id)
            .and_then(|o| {
                o["purchase_units"][0]["payments"]["captures"][0]
                    .as_object()
                    .cloned()
            })
            .map(Value::Object)
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
            .find(|e| e["event_type"] == kind)
            .and_then(|e| e["id"].as_str().map(str::to_string))
    }

    /// The buyer approves the order on PayPal's page. Returns the `CHECKOUT.ORDER.APPROVED`
    /// event's id.
    pub fn approve(&self, order_id: &str) -> String {
        approve(&mut lock(&self.shared), order_id)
    }

    /// A pending capture completes. Returns the `PAYMENT.CAPTURE.COMPLETED` event's id.
    pub fn complete_capture(&self, capture_id: &str) -> String {
        settle_capture(&mut lock(&self.shared), capture_id, "COMPLETED")
    }

    /// A pending capture is denied. Returns the `PAYMENT.CAPTURE.DENIED` event's id.
    pub fn deny_capture(&self, capture_id: &str) -> String {
        settle_capture(&mut lock(&self.shared), capture_id, "DENIED")
    }

    /// A refund made in PayPal's dashboard, not by the shop (`value` in the capture's
    /// currency). Returns the `PAYMENT.CAPTURE.REFUNDED` event's id.
    pub fn refund_in_dashboard(&self, capture_id: &str, value: &str) -> String {
        let mut s = lock(&self.shared);
        let currency = s.captures[capture_id]["amount"]["currency_code"].clone();
        let base = self.shared.base.clone();
        refund(
            &mut s,
            &base,
            capture_id,
            Some(&json!({"currency_code": currency, "value": value})),
        )
        .expect("a refund the capture allows");
        s.events
            .last()
            .and_then(|e| e["id"].as_str().map(str::to_string))
            .expect("the refund's event")
    }

    /// Sends the event to the webhook URL, signed now as PayPal signs; the answer's status.
    pub async fn deliver(&self, event_id: &str) -> u16 {
        self.deliver_with(event_id, Delivery::default()).await
    }

    /// Sends the event, signed as `how` says.
    pub async fn deliver_with(&self, event_id: &str, how: Delivery) -> u16 {
        self.shared.send(event_id, how).await
    }
}

impl Shared {
    async fn send(&self, event_id: &str, how: Delivery) -> u16 {
        let (url, event) = {
            let s = lock(self);
            let event = s
                .events
                .iter()
                .find(|e| e["id"] == event_id)
                .cloned()
                .unwrap_or_else(|| panic!("the fake has no event {event_id}"));
            (s.webhook_url.clone(), event)
        };
        let Some(url) = url else {
            panic!("send_webhooks_to was not called");
        };
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let transmission_id = uuid::Uuid::new_v4().to_string();
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let webhook_id = how.webhook_id.as_deref().unwrap_or(WEBHOOK_ID);
        let text = signed_text(&transmission_id, &time, webhook_id, &body);
        let key = if how.forged { &self.forger } else { &self.key };
        let signature =
            base64::engine::general_purpose::STANDARD.encode(key.sign(text.as_bytes()).to_bytes());
        let sent = if how.tampered {
            let mut changed = event.clone();
            changed["resource"]["amount"] = json!({"currency_code": "USD", "value": "0.01"});
            serde_json::to_vec(&changed).unwrap_or_default()
        } else {
            body
        };
        let mut request = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("PAYPAL-TRANSMISSION-ID", transmission_id)
            .header("PAYPAL-TRANSMISSION-TIME", time)
            .header(
                "PAYPAL-CERT-URL",
                how.cert_url
                    .unwrap_or_else(|| format!("{}/certs/fake-paypal.pem", self.base)),
            )
            .header("PAYPAL-AUTH-ALGO", "SHA256withRSA")
            .body(sent);
        if !how.unsigned {
            request = request.header("PAYPAL-TRANSMISSION-SIG", signature);
        }
        match request.send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        }
    }

    /// An API request, once authorized.
    fn answer(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut s = lock(self);
        match (method, segments.as_slice()) {
            ("POST", ["v2", "checkout", "orders"]) => create_order(&mut s, &self.base, body),
            ("GET", ["v2", "checkout", "orders", id]) => match s.orders.get(*id) {
                Some(order) => (200, order.clone()),
                None => not_found(id),
            },
            ("POST", ["v2", "checkout", "orders", id, "capture"]) => {
                capture_order(&mut s, &self.base, id)
            }
            ("GET", ["v2", "payments", "captures", id]) => match s.captures.get(*id) {
                Some(capture) => (200, capture.clone()),
                None => not_found(id),
            },
            ("POST", ["v2", "payments", "captures", id, "refund"]) => {
                if !s.captures.contains_key(*id) {
                    return not_found(id);
                }
                let amount = body.get("amount").filter(|a| !a.is_null()).cloned();
                match refund(&mut s, &self.base, id, amount.as_ref()) {
                    Ok(refund) => (201, refund),
                    Err(e) => e,
                }
            }
            _ => not_found(path),
        }
    }
}

fn create_order(s: &mut State, base: &str, body: &Value) -> (u16, Value) {
    if body["intent"] != "CAPTURE" {
        return unprocessable("INVALID_PARAMETER_VALUE", "this fake takes intent CAPTURE");
    }
    let unit = &body["purchase_units"][0];
    if let Err(e) = checked_amount(&unit["amount"]) {
        return e;
    }
    let id = s.id("");
    let order = json!({
        "id": id,
        "intent": "CAPTURE",
        "status": "PAYER_ACTION_REQUIRED",
        "payment_source": {"paypal": {}},
        "purchase_units": [{
            "reference_id": unit["reference_id"],
            "custom_id": unit["custom_id"],
            "description": unit["description"],
            "amount": unit["amount"],
        }],
        "create_time": chrono::Utc::now().to_rfc3339(),
        "links": [
            link(format!("{base}/v2/checkout/orders/{id}"), "self", "GET"),
            link(format!("{base}/checkoutnow?token={id}"), "payer-action", "GET"),
        ],
    });
    s.orders.insert(id, order.clone());
    (200, order)
}

fn approve(s: &mut State, order_id: &str) -> String {
    let order = s.order_mut(order_id);
    order["status"] = json!("APPROVED");
    order["payer"] = json!({"email_address": "buyer@example.com", "payer_id": "FAKEPAYER01"});
    let order = order.clone();
    s.event("CHECKOUT.ORDER.APPROVED", "checkout-order", &order)
}

fn capture_order(s: &mut State, base: &str, id: &str) -> (u16, Value) {
    let Some(order) = s.orders.get(id).cloned() else {
        return not_found(id);
    };
    match order["status"].as_str() {
        Some("COMPLETED") => return unprocessable(
            "ORDER_ALREADY_CAPTURED",
            "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.",
        ),
        Some("APPROVED") => {}
        _ => {
            return unprocessable(
                "ORDER_NOT_APPROVED",
                "Payer has not yet approved the Order for payment.",
            )
        }
    }
    if std::mem::take(&mut s.decline_next_capture) {
        s.order_mut(id)["status"] = json!("PAYER_ACTION_REQUIRED");
        return unprocessable(
            "INSTRUMENT_DECLINED",
            "The instrument presented was either declined by the processor or bank, or it can't be used for this payment.",
        );
    }
    let pending = std::mem::take(&mut s.pend_next_capture);
    let capture_id = s.id("CAP");
    let unit = &order["purchase_units"][0];
    let mut capture = json!({
        "id": capture_id,
        "status": if pending { "PENDING" } else { "COMPLETED" },
        "amount": unit["amount"],
        "custom_id": unit["custom_id"],
        "final_capture": true,
        "supplementary_data": {"related_ids": {"order_id": id}},
        "create_time": chrono::Utc::now().to_rfc3339(),
        "links": [
            link(format!("{base}/v2/payments/captures/{capture_id}"), "self", "GET"),
            link(format!("{base}/v2/payments/captures/{capture_id}/refund"), "refund", "POST"),
            link(format!("{base}/v2/checkout/orders/{id}"), "up", "GET"),
        ],
    });
    if pending {
        capture["status_details"] = json!({"reason": "PENDING_REVIEW"});
    }
    s.captures.insert(capture_id.clone(), capture.clone());
    let order = s.order_mut(id);
    order["status"] = json!("COMPLETED");
    order["purchase_units"][0]["payments"] = json!({"captures": [capture.clone()]});
    let order = order.clone();
    let kind = if pending {
        "PAYMENT.CAPTURE.PENDING"
    } else {
        "PAYMENT.CAPTURE.COMPLETED"
    };
    s.event(kind, "capture", &capture);
    (201, order)
}

fn settle_capture(s: &mut State, capture_id: &str, status: &str) -> String {
    let capture = s
        .captures
        .get_mut(capture_id)
        .unwrap_or_else(|| panic!("the fake has no capture {capture_id}"));
    capture["status"] = json!(status);
    if status == "DENIED" {
        capture["status_details"] = json!({"reason": "DENIED_BY_RISK"});
    } else if let Some(details) = capture.as_object_mut() {
        details.remove("status_details");
    }
    let capture = capture.clone();
    let order_id = capture["supplementary_data"]["related_ids"]["order_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if let Some(order) = s.orders.get_mut(&order_id) {
        order["purchase_units"][0]["payments"] = json!({"captures": [capture.clone()]});
    }
    s.event(&format!("PAYMENT.CAPTURE.{status}"), "capture", &capture)
}

/// Refunds `amount` (the rest of the capture when none) of a capture.
fn refund(
    s: &mut State,
    base: &str,
    capture_id: &str,
    amount: Option<&Value>,
) -> Result<Value, (u16, Value)> {
    let capture = s.captures[capture_id].clone();
    if capture["status"] != "COMPLETED" && capture["status"] != "PARTIALLY_REFUNDED" {
        return Err(unprocessable(
            "CAPTURE_FULLY_REFUNDED",
            "The capture has already been fully refunded or cannot be refunded.",
        ));
    }
    let money = |v: &Value| {
        from_paypal(
            v["currency_code"].as_str().unwrap_or_default(),
            v["value"].as_str().unwrap_or_default(),
        )
    };
    let captured = money(&capture["amount"]).map_err(|_| not_found(capture_id))?;
    let refunded_before = s
        .refunds
        .values()
        .filter(|r| {
            r["links"][1]["href"]
                .as_str()
                .is_some_and(|h| h.ends_with(capture_id))
        })
        .filter_map(|r| money(&r["amount"]).ok())
        .fold(
            commerce_core::money::Money::zero(captured.currency()),
            |a, b| a.checked_add(&b).unwrap_or(a),
        );
    let left = captured
        .checked_sub(&refunded_before)
        .map_err(|_| not_found(capture_id))?;
    let amount_json = match amount {
        Some(a) => {
            checked_amount(a)?;
            a.clone()
        }
        None => {
            let (code, value) =
                crate::amount::to_paypal(&left).map_err(|_| not_found(capture_id))?;
            json!({"currency_code": code, "value": value})
        }
    };
    let asked = money(&amount_json).map_err(|_| {
        unprocessable(
            "CURRENCY_MISMATCH",
            "The refund must be in the capture's currency.",
        )
    })?;
    if asked.currency() != captured.currency() {
        return Err(unprocessable(
            "CURRENCY_MISMATCH",
            "The refund must be in the capture's currency.",
        ));
    }
    if asked.amount() > left.amount() || asked.is_zero() || asked.is_negative() {
        return Err(unprocessable(
            "REFUND_AMOUNT_EXCEEDED",
            "The refund amount must be less than or equal to the capture amount that has not yet been refunded.",
        ));
    }
    let total = refunded_before
        .checked_add(&asked)
        .unwrap_or(refunded_before);
    let (code, total_value) =
        crate::amount::to_paypal(&total).map_err(|_| not_found(capture_id))?;
    let refund_id = s.id("REF");
    let refund = json!({
        "id": refund_id,
        "status": "COMPLETED",
        "amount": amount_json,
        "custom_id": capture["custom_id"],
        "seller_payable_breakdown": {
            "total_refunded_amount": {"currency_code": code, "value": total_value},
        },
        "create_time": chrono::Utc::now().to_rfc3339(),
        "links": [
            link(format!("{base}/v2/payments/refunds/{refund_id}"), "self", "GET"),
            link(format!("{base}/v2/payments/captures/{capture_id}"), "up", "GET"),
        ],
    });
    s.refunds.insert(refund_id, refund.clone());
    let status = if total == captured {
        "REFUNDED"
    } else {
        "PARTIALLY_REFUNDED"
    };
    if let Some(c) = s.captures.get_mut(capture_id) {
        c["status"] = json!(status);
    }
    s.event("PAYMENT.CAPTURE.REFUNDED", "refund", &refund);
    Ok(refund)
}

fn respond((status, body): (u16, Value)) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json")
        .body(serde_json::to_vec(&body).unwrap_or_default())
}

#[handler]
async fn serve(req: &Request, body: poem::Body, shared: Data<&Arc<Shared>>) -> Response {
    let shared: &Arc<Shared> = shared.0;
    let bytes = body.into_vec().await.unwrap_or_default();
    let path = req.uri().path().to_string();
    let method = req.method().to_string();
    let header = |name: &str| req.header(name).map(str::to_string);
    if method == "GET" && path == "/certs/fake-paypal.pem" {
        return Response::builder()
            .content_type("application/x-pem-file")
            .body(CERTIFICATE);
    }
    if method == "GET" && path == "/checkoutnow" {
        // A person trying the shop by hand "approves" on this page: at once.
        let token = req
            .uri()
            .query()
            .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("token=")))
            .unwrap_or_default()
            .to_string();
        let (event, return_url) = {
            let mut s = lock(shared);
            if !s.orders.contains_key(&token) {
                return respond(not_found(&token));
            }
            (approve(&mut s, &token), s.webhook_url.is_some())
        };
        if return_url {
            shared.send(&event, Delivery::default()).await;
        }
        return Response::builder()
            .content_type("text/plain")
            .body(format!("The fake PayPal approved order {token}.\n"));
    }
    if method == "POST" && path == "/v1/oauth2/token" {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
        );
        let authorized = header("Authorization") == Some(expected);
        let form = String::from_utf8_lossy(&bytes).to_string();
        lock(shared).requests.push(RecordedRequest {
            method,
            path,
            body: json!(form),
            request_id: None,
            authorized,
        });
        if !authorized {
            return respond((
                401,
                json!({"error": "invalid_client", "error_description": "Client Authentication failed"}),
            ));
        }
        if form != "grant_type=client_credentials" {
            return respond((
                400,
                json!({"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}),
            ));
        }
        let token = format!("A21AA{}", uuid::Uuid::new_v4().simple());
        lock(shared).tokens.push(token.clone());
        return respond((
            200,
            json!({"scope": "https://uri.paypal.com/services/payments/payment", "access_token": token, "token_type": "Bearer", "app_id": "APP-FAKE", "expires_in": 32400, "nonce": "fake"}),
        ));
    }
    let parsed: Value = if bytes.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) => {
                return respond(error(
                    400,
                    "INVALID_REQUEST",
                    "MALFORMED_REQUEST_JSON",
                    "The request JSON is not well formed.",
                ))
            }
        }
    };
    let bearer =
        header("Authorization").and_then(|h| h.strip_prefix("Bearer ").map(str::to_string));
    let (authorized, failure) = {
        let mut s = lock(shared);
        let authorized = bearer.as_ref().is_some_and(|t| s.tokens.contains(t));
        s.requests.push(RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            body: parsed.clone(),
            request_id: header("PayPal-Request-Id"),
            authorized,
        });
        (authorized, s.failures.pop_front())
    };
    if let Some(status) = failure {
        return respond(error(
            status,
            if status == 429 {
                "RATE_LIMIT_REACHED"
            } else {
                "INTERNAL_SERVER_ERROR"
            },
            "FAILURE_ASKED_FOR",
            "a failure the test asked for",
        ));
    }
    if !authorized {
        return respond((
            401,
            json!({"error": "invalid_token", "error_description": "Token signature verification failed"}),
        ));
    }
    if method != "POST" {
        return respond(shared.answer(&method, &path, &parsed));
    }
    let Some(request_id) = header("PayPal-Request-Id") else {
        return respond(error(
            400,
            "INVALID_REQUEST",
            "MISSING_REQUEST_ID",
            "this fake wants a PayPal-Request-Id on every write",
        ));
    };
    let fingerprint = format!("{path} {parsed}");
    if let Some((kept, status, body)) = lock(shared).answered.get(&request_id).cloned() {
        if kept == fingerprint {
            return respond((status, body));
        }
        return respond(unprocessable(
            "DUPLICATE_REQUEST_ID",
            "The value of PayPal-Request-Id header has already been used",
        ));
    }
    let (status, body) = shared.answer("POST", &path, &parsed);
    // Answers are kept for their request id, refusals included, not 5xx.
    if status < 500 {
        lock(shared)
            .answered
            .insert(request_id, (fingerprint, status, body.clone()));
    }
    respond((status, body))
}
