//! A fake Stripe on 127.0.0.1, for tests: it keeps PaymentIntents, Checkout Sessions,
//! charges and refunds in memory, scripts their life as a customer and Stripe would
//! (success, a decline back to `requires_payment_method`, `requires_action`, cancellation, a
//! refund from the dashboard), checks the adapter's requests (the API key, `Stripe-Version`,
//! an `Idempotency-Key` on every POST, the form fields and Stripe's amount rules), answers
//! with Stripe-shaped bodies, and sends the events it made as signed webhooks, when and how
//! the test says: twice, out of order, concurrently, or with a stale timestamp.
//!
//! ```ignore
//! let stripe = FakeStripe::start("sk_test_fake", "whsec_fake").await;
//! let gateway = StripeGateway::new(stripe.config())?;
//! stripe.send_webhooks_to("http://127.0.0.1:8080/api/webhooks/stripe");
//! // ... checkout creates an intent at the fake ...
//! let event = stripe.succeed(&intent_id);
//! assert_eq!(stripe.deliver(&event).await, 200);
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

/// A request the fake received, as it read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub form: Vec<(String, String)>,
    pub idempotency_key: Option<String>,
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

/// Stripe's error body.
fn error(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> (u16, Value) {
    let mut detail = json!({"type": kind, "message": message});
    if let Some(code) = code {
        detail["code"] = json!(code);
    }
    (status.as_u16(), json!({"error": detail}))
}

fn invalid(message: &str) -> (u16, Value) {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        None,
        message,
    )
}

/// `prefix[key]` fields of a form as a JSON object.
fn nested(form: &[(String, String)], prefix: &str) -> Value {
    let mut map = Map::new();
    let start = format!("{prefix}[");
    for (k, v) in form {
        if let Some(rest) = k.strip_prefix(&start) {
            if let Some(key) = rest.strip_suffix(']') {
                if !key.contains('[') {
                    map.insert(key.to_string(), json!(v));
                }
            }
        }
    }
    Value::Object(map)
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An amount and currency as Stripe checks them: a positive integer that is an amount of the
/// currency by Stripe's rules (three-decimal amounts end in 0, ISK in 00).
fn checked_amount(
    amount: Option<&str>,
    currency: Option<&str>,
) -> Result<(i64, String), (u16, Value)> {
    let currency = currency
        .filter(|c| c.len() == 3 && c.chars().all(|ch| ch.is_ascii_lowercase()))
        .ok_or_else(|| invalid("currency must be a lower-case ISO code"))?;
    let amount: i64 = amount
        .and_then(|a| a.parse().ok())
        .filter(|a| *a > 0)
        .ok_or_else(|| invalid("amount must be a positive integer"))?;
    let money = amount::from_stripe(amount, currency)
        .map_err(|e| invalid(&format!("Invalid amount: {e}")))?;
    if amount::to_stripe(&money) != Ok((amount, currency.to_string())) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("amount_invalid"),
            "this amount cannot be charged in this currency",
        ));
    }
    Ok((amount, currency.to_string()))
}

impl Shared {
    /// What the fake answers to a request of the adapter.
    fn answer(&self, method: &str, path: &str, form: &[(String, String)]) -> (u16, Value) {
        let mut s = lock(self);
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            ("POST", ["v1", "payment_intents"]) => {
                let (amount, currency) =
                    match checked_amount(field(form, "amount"), field(form, "currency")) {
                        Ok(a) => a,
                        Err(e) => return e,
                    };
                let id = s.id("pi");
                let intent = json!({
                    "id": id,
                    "object": "payment_intent",
                    "amount": amount,
                    "amount_received": 0,
                    "currency": currency,
                    "status": "requires_payment_method",
                    "client_secret": format!("{id}_secret_{}", uuid::Uuid::new_v4().simple()),
                    "automatic_payment_methods": {"enabled": field(form, "automatic_payment_methods[enabled]") == Some("true")},
                    "description": field(form, "description"),
                    "receipt_email": field(form, "receipt_email"),
                    "metadata": nested(form, "metadata"),
                    "last_payment_error": null,
                    "latest_charge": null,
                    "livemode": false,
                });
                s.intents.insert(id, intent.clone());
                (200, intent)
            }
            ("GET", ["v1", "payment_intents", id]) => match s.intents.get(*id) {
                Some(intent) => (200, intent.clone()),
                None => error(
                    StatusCode::NOT_FOUND,
                    "invalid_request_error",
                    Some("resource_missing"),
                    "No such payment_intent",
                ),
            },
            ("POST", ["v1", "payment_intents", id, "cancel"]) => {
                let Some(intent) = s.intents.get(*id).cloned() else {
                    return error(
                        StatusCode::NOT_FOUND,
                        "invalid_request_error",
                        Some("resource_missing"),
                        "No such payment_intent",
                    );
                };
                match intent["status"].as_str() {
                    Some("succeeded") | Some("canceled") => error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request_error",
                        Some("payment_intent_unexpected_state"),
                        "This PaymentIntent's status does not allow it to be canceled",
                    ),
                    _ => {
                        let intent = s.intent_mut(id);
                        intent["status"] = json!("canceled");
                        intent["cancellation_reason"] = json!("requested_by_customer");
                        let intent = intent.clone();
                        s.event("payment_intent.canceled", &intent);
                        (200, intent)
                    }
                }
            }
            ("POST", ["v1", "refunds"]) => {
                let Some(intent_id) = field(form, "payment_intent") else {
                    return invalid("payment_intent is required");
                };
                let Some(charge) = s.charges.get(intent_id).cloned() else {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request_error",
                        Some("charge_not_refundable"),
                        "This PaymentIntent has no successful charge to refund",
                    );
                };
                let left = charge["amount_captured"].as_i64().unwrap_or(0)
                    - charge["amount_refunded"].as_i64().unwrap_or(0);
                let amount = match field(form, "amount") {
                    Some(a) => match a.parse::<i64>() {
                        Ok(a) if a > 0 => a,
                        _ => return invalid("amount must be a positive integer"),
                    },
                    None => left,
                };
                if amount > left {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request_error",
                        Some("amount_too_large"),
                        "Refund amount is greater than unrefunded amount on charge",
                    );
                }
                let currency = charge["currency"].as_str().unwrap_or_default().to_string();
                if let Err(e) = checked_amount(Some(&amount.to_string()), Some(&currency)) {
                    return e;
                }
                (
                    200,
                    refund(&mut s, intent_id, amount, nested(form, "metadata")),
                )
            }
            ("POST", ["v1", "checkout", "sessions"]) => {
                if field(form, "mode") != Some("payment") {
                    return invalid("mode must be payment");
                }
                if field(form, "success_url").is_none() {
                    return invalid("success_url is required");
                }
                let (mut total, mut currency) = (0i64, None::<String>);
                let mut items = Vec::new();
                for i in 0.. {
                    let at = |f: &str| format!("line_items[{i}]{f}");
                    let Some(quantity) = field(form, &at("[quantity]")) else {
                        break;
                    };
                    let quantity: i64 = quantity.parse().unwrap_or(0);
                    let line_currency = field(form, &at("[price_data][currency]"));
                    let unit = field(form, &at("[price_data][unit_amount]"));
                    let (unit, line_currency) = match checked_amount(unit, line_currency) {
                        Ok(a) => a,
                        Err(e) => return e,
                    };
                    if currency.get_or_insert(line_currency.clone()) != &line_currency {
                        return invalid("line items must share one currency");
                    }
                    if quantity < 1 {
                        return invalid("quantity must be at least 1");
                    }
                    total += unit * quantity;
                    items.push(json!({
                        "name": field(form, &at("[price_data][product_data][name]")),
                        "quantity": quantity,
                        "unit_amount": unit,
                    }));
                }
                let Some(currency) = currency else {
                    return invalid("line_items are required");
                };
                let id = s.id("cs");
                let session = json!({
                    "id": id,
                    "object": "checkout.session",
                    "mode": "payment",
                    "url": format!("{}/pay/{id}", self.base),
                    "status": "open",
                    "payment_status": "unpaid",
                    "amount_total": total,
                    "currency": currency,
                    "payment_intent": null,
                    "client_reference_id": field(form, "client_reference_id"),
                    "customer_email": field(form, "customer_email"),
                    "success_url": field(form, "success_url"),
                    "cancel_url": field(form, "cancel_url"),
                    "metadata": nested(form, "metadata"),
                    "line_items": {"object": "list", "data": items},
                    "livemode": false,
                });
                s.session_intent_metadata
                    .insert(id.clone(), nested(form, "payment_intent_data[metadata]"));
                s.sessions.insert(id, session.clone());
                (200, session)
            }
            ("GET", ["v1", "checkout", "sessions", id]) => match s.sessions.get(*id) {
                Some(session) => (200, session.clone()),
                None => error(
                    StatusCode::NOT_FOUND,
                    "invalid_request_error",
                    Some("resource_missing"),
                    "No such checkout.session",
                ),
            },
            ("POST", ["v1", "checkout", "sessions", id, "expire"]) => {
                match s.sessions.get(*id).map(|x| x["status"].clone()) {
                    Some(status) if status == "open" => {
                        let session = s.sessions.get_mut(*id).expect("present");
                        session["status"] = json!("expired");
                        let session = session.clone();
                        s.event("checkout.session.expired", &session);
                        (200, session)
                    }
                    Some(_) => invalid("Only open Checkout Sessions can be expired"),
                    None => error(
                        StatusCode::NOT_FOUND,
                        "invalid_request_error",
                        Some("resource_missing"),
                        "No such checkout.session",
                    ),
                }
            }
            _ => error(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                None,
                &format!("Unrecognized request URL ({method}: {path})"),
            ),
        }
    }
}

impl Shared {
    /// The webhook request of an event, signed as `how` says.
    fn webhook(&self, event_id: &str, how: Delivery) -> reqwest::RequestBuilder {
        let (url, body) = {
            let s = lock(self);
            let url = s
                .webhook_url
                .clone()
                .expect("send_webhooks_to was not called");
            let event = s
                .events
                .iter()
                .find(|e| e["id"] == event_id)
                .unwrap_or_else(|| panic!("the fake made no event {event_id}"));
            (url, event.to_string())
        };
        let at = how
            .signed_at
            .unwrap_or_else(|| chrono::Utc::now().timestamp());
        let secret = how.secret.as_deref().unwrap_or(&self.webhook_secret);
        let signature = format!(
            "t={at},v1={}",
            crate::webhook::sign(body.as_bytes(), secret, at)
        );
        let sent = if how.tampered {
            body.replacen("\"livemode\":false", "\"livemode\":true", 1)
        } else {
            body
        };
        let request = self
            .http
            .post(url)
            .header("Content-Type", "application/json; charset=utf-8")
            .header(
                "User-Agent",
                "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            )
            .body(sent);
        if how.unsigned {
            request
        } else {
            request.header("Stripe-Signature", signature)
        }
    }
}

/// Refunds `amount` of an intent's charge: the refund, the charge's running total, and a
/// `charge.refunded` event, as Stripe does for refunds from the API and the dashboard.
fn refund(s: &mut State, intent_id: &str, amount: i64, metadata: Value) -> Value {
    let id = s.id("re");
    let charge = s.charges.get_mut(intent_id).expect("a charge to refund");
    let refund = json!({
        "id": id,
        "object": "refund",
        "amount": amount,
        "currency": charge["currency"],
        "charge": charge["id"],
        "payment_intent": intent_id,
        "status": "succeeded",
        "metadata": metadata,
    });
    let refunded = charge["amount_refunded"].as_i64().unwrap_or(0) + amount;
    charge["amount_refunded"] = json!(refunded);
    charge["refunded"] = json!(refunded == charge["amount_captured"].as_i64().unwrap_or(0));
    if let Some(list) = charge["refunds"]["data"].as_array_mut() {
        list.insert(0, refund.clone());
    }
    let charge = charge.clone();
    s.event("charge.refunded", &charge);
    refund
}

#[handler]
async fn serve(req: &Request, body: poem::Body, shared: Data<&Arc<Shared>>) -> Response {
    let bytes = body.into_vec().await.unwrap_or_default();
    let form: Vec<(String, String)> = if req.method() == poem::http::Method::POST {
        // Stripe reads `a=1&b=2`; so does the fake, refusing what is not that.
        match form_pairs(&bytes) {
            Some(f) => f,
            None => return respond(invalid("the body must be form-encoded")),
        }
    } else {
        Vec::new()
    };
    if let Some(action) = req.uri().path().strip_prefix("/_fake/") {
        return control(&shared, action, req.uri().query().unwrap_or_default()).await;
    }
    let header = |name: &str| req.header(name).map(str::to_string);
    let recorded = RecordedRequest {
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
        form: form.clone(),
        idempotency_key: header("Idempotency-Key"),
        stripe_version: header("Stripe-Version"),
        authorized: header("Authorization") == Some(format!("Bearer {}", shared.secret_key)),
    };
    let failure = {
        let mut s = lock(&shared);
        s.requests.push(recorded.clone());
        s.failures.pop_front()
    };
    if let Some(status) = failure {
        let kind = if status == 429 {
            "rate_limit_error"
        } else {
            "api_error"
        };
        return respond(error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            kind,
            None,
            "a failure the test asked for",
        ));
    }
    if !recorded.authorized {
        return respond(error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            "Invalid API Key provided",
        ));
    }
    if recorded.stripe_version.is_none() {
        return respond(invalid(
            "this fake wants a Stripe-Version header on every request",
        ));
    }
    if recorded.method != "POST" {
        return respond(shared.answer(&recorded.method, &recorded.path, &form));
    }
    let Some(key) = recorded.idempotency_key.clone() else {
        return respond(invalid("this fake wants an Idempotency-Key on every POST"));
    };
    let mut asked: Vec<(String, String)> = form.clone();
    asked.sort();
    let fingerprint = format!("{} {asked:?}", recorded.path);
    if let Some((kept, status, body)) = lock(&shared).answered.get(&key).cloned() {
        if kept != fingerprint {
            return respond(error(
                StatusCode::BAD_REQUEST,
                "idempotency_error",
                None,
                "Keys for idempotent requests can only be used with the same parameters they were first used with",
            ));
        }
        let mut replay = respond((status, body));
        replay.headers_mut().insert(
            "Idempotent-Replayed",
            poem::http::HeaderValue::from_static("true"),
        );
        return replay;
    }
    let (status, body) = shared.answer("POST", &recorded.path, &form);
    // Stripe keeps the answer for the key, errors of the request included, not 5xx.
    if status < 500 {
        lock(&shared)
            .answered
            .insert(key, (fingerprint, status, body.clone()));
    }
    respond((status, body))
}

/// What a person trying the fake by hand does for the customer (`POST /_fake/...`): the same
/// scripted lives as the test methods, each event sent at once to the webhook URL.
///
/// - `payment_intents/{id}/succeed`, `.../decline?code=insufficient_funds`, `.../cancel`
/// - `checkout/sessions/{id}/complete`
/// - `refunds?payment_intent={id}&amount={minor units}` (as from the dashboard)
async fn control(shared: &Arc<Shared>, action: &str, query: &str) -> Response {
    let query: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let param = |name: &str| field(&query, name).map(str::to_string);
    let segments: Vec<&str> = action.trim_matches('/').split('/').collect();
    let events: Vec<String> = {
        let mut s = lock(shared);
        match segments.as_slice() {
            ["payment_intents", id, verb] if s.intents.contains_key(*id) => match *verb {
                "succeed" => vec![succeed(&mut s, id)],
                "decline" => vec![decline(
                    &mut s,
                    id,
                    &param("code").unwrap_or_else(|| "card_declined".into()),
                )],
                "cancel" => {
                    let intent = s.intent_mut(id);
                    intent["status"] = json!("canceled");
                    let intent = intent.clone();
                    vec![s.event("payment_intent.canceled", &intent)]
                }
                _ => return respond(invalid("succeed, decline or cancel")),
            },
            ["checkout", "sessions", id, "complete"] if s.sessions.contains_key(*id) => {
                complete_session(&mut s, id)
            }
            ["refunds"] => {
                let (Some(intent), Some(amount)) = (
                    param("payment_intent"),
                    param("amount").and_then(|a| a.parse::<i64>().ok()),
                ) else {
                    return respond(invalid("payment_intent and amount are required"));
                };
                if !s.charges.contains_key(&intent) {
                    return respond(invalid("that intent has not succeeded"));
                }
                refund(&mut s, &intent, amount, json!({}));
                s.events
                    .last()
                    .and_then(|e| e["id"].as_str().map(str::to_string))
                    .into_iter()
                    .collect()
            }
            _ => {
                return respond(error(
                    StatusCode::NOT_FOUND,
                    "invalid_request_error",
                    None,
                    "no such fake action or object",
                ))
            }
        }
    };
    let webhooks = lock(shared).webhook_url.is_some();
    let mut delivered = Vec::new();
    for id in &events {
        let status = if webhooks {
            send(shared.webhook(id, Delivery::default())).await
        } else {
            0
        };
        delivered.push(json!({"event": id, "webhook_status": status}));
    }
    respond((200, json!({"events": delivered})))
}

fn form_pairs(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    serde_urlencoded::from_bytes(bytes).ok()
}

fn respond((status, body): (u16, Value)) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json")
        .body(body.to_string())
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

    pub fn payment_intent(&self, id: &str) -> Option<Value> {
        lock(&self.shared).intents.get(id).cloned()
    }

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

/// Sends a webhook; the answer's status (0 when there was none).
async fn send(request: reqwest::RequestBuilder) -> u16 {
    match request.send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

fn decline(s: &mut State, intent_id: &str, decline_code: &str) -> String {
    let intent = s.intent_mut(intent_id);
    intent["status"] = json!("requires_payment_method");
    intent["last_payment_error"] = json!({
        "type": "card_error",
        "code": "card_declined",
        "decline_code": decline_code,
        "message": "Your card was declined.",
    });
    let intent = intent.clone();
    s.event("payment_intent.payment_failed", &intent)
}

fn complete_session(s: &mut State, session_id: &str) -> Vec<String> {
    let session = s
        .sessions
        .get(session_id)
        .cloned()
        .unwrap_or_else(|| panic!("the fake has no checkout session {session_id}"));
    let intent_id = s.id("pi");
    let intent = json!({
        "id": intent_id,
        "object": "payment_intent",
        "amount": session["amount_total"],
        "amount_received": 0,
        "currency": session["currency"],
        "status": "processing",
        "client_secret": null,
        "metadata": s.session_intent_metadata.get(session_id).cloned().unwrap_or(json!({})),
        "last_payment_error": null,
        "livemode": false,
    });
    s.intents.insert(intent_id.clone(), intent);
    let paid = succeed(s, &intent_id);
    let session = s.sessions.get_mut(session_id).expect("present");
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["payment_intent"] = json!(intent_id);
    let session = session.clone();
    let completed = s.event("checkout.session.completed", &session);
    vec![paid, completed]
}

fn succeed(s: &mut State, intent_id: &str) -> String {
    let charge_id = s.id("ch");
    let intent = s.intent_mut(intent_id);
    intent["status"] = json!("succeeded");
    intent["amount_received"] = intent["amount"].clone();
    intent["last_payment_error"] = Value::Null;
    intent["latest_charge"] = json!(charge_id);
    let intent = intent.clone();
    let charge = json!({
        "id": charge_id,
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"],
        "amount_refunded": 0,
        "currency": intent["currency"],
        "payment_intent": intent_id,
        "metadata": intent["metadata"],
        "paid": true,
        "refunded": false,
        "refunds": {"object": "list", "data": []},
    });
    s.charges.insert(intent_id.to_string(), charge);
    s.event("payment_intent.succeeded", &intent)
}
