//! What the fake answers to the adapter's requests, as Stripe would (its errors included).

use super::*;

/// Stripe's error body.
pub(super) fn error(
    status: StatusCode,
    kind: &str,
    code: Option<&str>,
    message: &str,
) -> (u16, Value) {
    let mut detail = json!({"type": kind, "message": message});
    if let Some(code) = code {
        detail["code"] = json!(code);
    }
    (status.as_u16(), json!({"error": detail}))
}

pub(super) fn invalid(message: &str) -> (u16, Value) {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        None,
        message,
    )
}

/// `prefix[key]` fields of a form as a JSON object.
pub(super) fn nested(form: &[(String, String)], prefix: &str) -> Value {
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

pub(super) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An amount and currency as Stripe checks them: a positive integer that is an amount of the
/// currency by Stripe's rules (three-decimal amounts end in 0, ISK in 00).
pub(super) fn checked_amount(
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
    pub(super) fn answer(
        &self,
        method: &str,
        path: &str,
        form: &[(String, String)],
    ) -> (u16, Value) {
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

/// Refunds `amount` of an intent's charge: the refund, the charge's running total, and a
/// `charge.refunded` event, as Stripe does for refunds from the API and the dashboard.
pub(super) fn refund(s: &mut State, intent_id: &str, amount: i64, metadata: Value) -> Value {
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
