//! The fake's HTTP endpoints, the Stripe API and the controls a test drives.

use super::*;

#[handler]
pub(super) async fn serve(req: &Request, body: poem::Body, shared: Data<&Arc<Shared>>) -> Response {
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
pub(super) async fn control(shared: &Arc<Shared>, action: &str, query: &str) -> Response {
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

pub(super) fn form_pairs(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    serde_urlencoded::from_bytes(bytes).ok()
}

pub(super) fn respond((status, body): (u16, Value)) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json")
        .body(body.to_string())
}
