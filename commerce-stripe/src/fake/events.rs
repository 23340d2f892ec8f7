//! Events, the state changes a payment goes through, and their webhooks (signed, or spoiled as a test asks).

use super::*;

impl Shared {
    /// The webhook request of an event, signed as `how` says.
    pub(super) fn webhook(&self, event_id: &str, how: Delivery) -> reqwest::RequestBuilder {
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

/// Sends a webhook; the answer's status (0 when there was none).
pub(super) async fn send(request: reqwest::RequestBuilder) -> u16 {
    match request.send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

pub(super) fn decline(s: &mut State, intent_id: &str, decline_code: &str) -> String {
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

pub(super) fn complete_session(s: &mut State, session_id: &str) -> Vec<String> {
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

pub(super) fn succeed(s: &mut State, intent_id: &str) -> String {
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
