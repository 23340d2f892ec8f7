//! Stripe's webhooks: the `Stripe-Signature` check, exactly as Stripe specifies it, and the
//! events the shop acts on, read into the engine's `ProviderEvent`.
//!
//! The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>...]` (other schemes, such as `v0`, are
//! ignored). A `v1` is the HMAC-SHA256, keyed with the endpoint's secret, of `"{t}.{raw
//! body}"`; one matching `v1` (compared in constant time) is enough, and `t` may be at most
//! [`TOLERANCE`] old. Nothing of the body is parsed before that.
//! <https://docs.stripe.com/webhooks#verify-manually>

use chrono::{DateTime, Utc};
use commerce_core::ids::PaymentId;
use commerce_core::ports::WebhookError;
use commerce_core::service::{ProviderEvent, ProviderEventKind};
use hmac::{KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::amount::from_stripe;

/// How old a signed timestamp may be (Stripe's libraries' default): a replay of a captured
/// webhook after this is refused.
pub const TOLERANCE: chrono::Duration = chrono::Duration::seconds(300);

/// Checks `header` against `body` and `secret` (the endpoint's `whsec_...`) at `now`.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(), WebhookError> {
    let bad = |why: &str| WebhookError::BadSignature(why.to_string());
    let header = header
        .filter(|h| !h.trim().is_empty())
        .ok_or_else(|| bad("no Stripe-Signature header"))?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err(bad("the Stripe-Signature header is malformed"));
        };
        match key {
            "t" => {
                let t: i64 = value
                    .parse()
                    .map_err(|_| bad("the signature's timestamp is not a number"))?;
                timestamp = Some(t);
            }
            "v1" => signatures.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| bad("the signature has no timestamp"))?;
    if signatures.is_empty() {
        return Err(bad("the signature has no v1 entry"));
    }
    let signed_at = DateTime::from_timestamp(timestamp, 0)
        .ok_or_else(|| bad("the signature's timestamp is out of range"))?;
    if signed_at < now - TOLERANCE {
        return Err(bad("the signature is too old (more than 300 seconds)"));
    }
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .map_err(|_| bad("the webhook secret is unusable"))?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let matched = signatures.iter().any(|candidate| {
        hex::decode(candidate).is_ok_and(|bytes| mac.clone().verify_slice(&bytes).is_ok())
    });
    if matched {
        Ok(())
    } else {
        Err(bad(
            "no signature matches the body and the endpoint's secret",
        ))
    }
}

/// The `v1` signature of `body` at `timestamp`, as Stripe computes it (for the fake Stripe).
pub fn sign(body: &[u8], secret: &str, timestamp: i64) -> String {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn malformed(why: impl Into<String>) -> WebhookError {
    WebhookError::Malformed(why.into())
}

fn text<'a>(value: &'a Value, key: &str) -> Result<&'a str, WebhookError> {
    value
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(format!("`{key}` is missing")))
}

fn integer(value: &Value, key: &str) -> Result<i64, WebhookError> {
    value
        .get(key)
        .and_then(Value::as_i64)
        .ok_or_else(|| malformed(format!("`{key}` is missing")))
}

/// Our payment id, from the metadata this adapter puts on every intent and session.
fn payment_id(object: &Value) -> Option<PaymentId> {
    object
        .pointer("/metadata/payment_id")
        .and_then(Value::as_str)
        .and_then(|id| id.parse().ok())
}

/// The money of `object[key]` in `object.currency`.
fn money_of(object: &Value, key: &str) -> Result<commerce_core::money::Money, WebhookError> {
    let amount = integer(object, key)?;
    let currency = text(object, "currency")?;
    from_stripe(amount, currency).map_err(|e| malformed(e.to_string()))
}

/// Reads a verified event. `Ok(None)` for a type the shop does not act on.
pub fn read_event(body: &[u8]) -> Result<Option<ProviderEvent>, WebhookError> {
    let event: Value =
        serde_json::from_slice(body).map_err(|e| malformed(format!("not JSON: {e}")))?;
    let event_id = text(&event, "id")?.to_string();
    let kind = text(&event, "type")?;
    let object = event
        .pointer("/data/object")
        .ok_or_else(|| malformed("`data.object` is missing"))?;
    let of_intent = |kind: ProviderEventKind| -> Result<Option<ProviderEvent>, WebhookError> {
        Ok(Some(ProviderEvent {
            event_id: event_id.clone(),
            payment_id: payment_id(object),
            reference: text(object, "id")?.to_string(),
            kind,
        }))
    };
    match kind {
        "payment_intent.succeeded" => {
            let paid = if object.get("amount_received").is_some() {
                money_of(object, "amount_received")?
            } else {
                money_of(object, "amount")?
            };
            of_intent(ProviderEventKind::Succeeded {
                amount: paid,
                reference: None,
            })
        }
        "payment_intent.processing" => of_intent(ProviderEventKind::Processing),
        "payment_intent.payment_failed" => {
            let error = object.get("last_payment_error");
            let message = error
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("the payment failed");
            let code = error
                .and_then(|e| e.get("decline_code").or_else(|| e.get("code")))
                .and_then(Value::as_str);
            let reason = match code {
                Some(code) => format!("{message} ({code})"),
                None => message.to_string(),
            };
            of_intent(ProviderEventKind::Failed {
                reason: Some(reason),
            })
        }
        "payment_intent.canceled" => of_intent(ProviderEventKind::Cancelled),
        "charge.refunded" => {
            // A charge: its payment intent names the payment.
            let reference = text(object, "payment_intent")?.to_string();
            let captured = if object.get("amount_captured").is_some() {
                money_of(object, "amount_captured")?
            } else {
                money_of(object, "amount")?
            };
            let refund_reference = object
                .pointer("/refunds/data/0/id")
                .and_then(Value::as_str)
                .map(str::to_string);
            Ok(Some(ProviderEvent {
                event_id,
                payment_id: payment_id(object),
                reference,
                kind: ProviderEventKind::Refunded {
                    captured,
                    refunded: money_of(object, "amount_refunded")?,
                    refund_reference,
                },
            }))
        }
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            match text(object, "payment_status")? {
                "paid" => of_intent(ProviderEventKind::Succeeded {
                    amount: money_of(object, "amount_total")?,
                    reference: object
                        .get("payment_intent")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                }),
                // Completed, but a delayed method (a bank debit) still has to settle.
                "unpaid" => of_intent(ProviderEventKind::Processing),
                _ => Ok(None),
            }
        }
        "checkout.session.async_payment_failed" => of_intent(ProviderEventKind::Failed {
            reason: Some("the delayed payment failed".into()),
        }),
        "checkout.session.expired" => of_intent(ProviderEventKind::Cancelled),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors made with Stripe's official Python library (PyPI `stripe` 16.1.0):
    // `stripe.WebhookSignature.generate_signature_header(payload, SECRET, timestamp)`.
    const SECRET: &str = "whsec_test_secret_for_commerce_vectors";
    const PAYLOAD: &str = r#"{"id":"evt_1QvectorA","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1Qvector","object":"payment_intent","amount":2599,"currency":"usd","status":"succeeded"}}}"#;
    const AT_1733140800: &str =
        "t=1733140800,v1=a38cc5fd22763f88bba113678ea5f51210c0a85deb94e5046b174933c1bea4ea";
    const AT_1733140801: &str =
        "t=1733140801,v1=b0a88a3a7a6bd0a34fbc65c71703441e73ecde03ca9de0561f82120262f42444";
    const UNICODE_PAYLOAD: &str =
        r#"{"id":"evt_2","type":"charge.refunded","data":{"object":{"note":"café €"}}}"#;
    const UNICODE_AT_1733140800: &str =
        "t=1733140800,v1=931f3c3490986aec10023f972067eaa4ccb6c9155e6b6629f7bb3e354f1cfada";
    const OTHER_SECRET_AT_1733140800: &str =
        "t=1733140800,v1=78e983c8441a5dada71dd9964060bb37a30467662aab0ff16070902423afcdbb";

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn check(header: &str, payload: &str, now: i64) -> Result<(), WebhookError> {
        verify(Some(header), payload.as_bytes(), SECRET, at(now))
    }

    #[test]
    fn stripes_own_signatures_verify() {
        assert_eq!(check(AT_1733140800, PAYLOAD, 1733140800), Ok(()));
        assert_eq!(check(AT_1733140801, PAYLOAD, 1733140900), Ok(()));
        assert_eq!(
            check(UNICODE_AT_1733140800, UNICODE_PAYLOAD, 1733140800),
            Ok(())
        );
        // And this module signs as Stripe does.
        assert_eq!(
            format!(
                "t=1733140800,v1={}",
                sign(PAYLOAD.as_bytes(), SECRET, 1733140800)
            ),
            AT_1733140800
        );
    }

    #[test]
    fn a_tampered_body_a_wrong_secret_or_an_old_timestamp_is_refused() {
        let tampered = PAYLOAD.replace("2599", "2598");
        assert!(matches!(
            check(AT_1733140800, &tampered, 1733140800),
            Err(WebhookError::BadSignature(_))
        ));
        assert!(matches!(
            check(OTHER_SECRET_AT_1733140800, PAYLOAD, 1733140800),
            Err(WebhookError::BadSignature(_))
        ));
        // Signed 301 seconds ago.
        assert!(matches!(
            check(AT_1733140800, PAYLOAD, 1733140800 + 301),
            Err(WebhookError::BadSignature(_))
        ));
        assert_eq!(check(AT_1733140800, PAYLOAD, 1733140800 + 300), Ok(()));
        // The timestamp is part of what is signed: another one with the same v1 fails.
        let moved = AT_1733140800.replace("t=1733140800", "t=1733140801");
        assert!(check(&moved, PAYLOAD, 1733140801).is_err());
    }

    #[test]
    fn one_matching_v1_among_several_is_enough_and_other_schemes_are_ignored() {
        let v1 = AT_1733140800.split_once(",v1=").unwrap().1;
        let rolled = format!("t=1733140800,v1={},v0=abc,v1={v1}", "0".repeat(64));
        assert_eq!(check(&rolled, PAYLOAD, 1733140800), Ok(()));
        let only_v0 = format!("t=1733140800,v0={v1}");
        assert!(check(&only_v0, PAYLOAD, 1733140800).is_err());
    }

    #[test]
    fn missing_or_malformed_headers_are_refused() {
        for header in ["", "garbage", "t=notanumber,v1=00", "v1=00", "t=1733140800"] {
            assert!(
                matches!(
                    verify(Some(header), PAYLOAD.as_bytes(), SECRET, at(1733140800)),
                    Err(WebhookError::BadSignature(_))
                ),
                "{header:?}"
            );
        }
        assert!(verify(None, PAYLOAD.as_bytes(), SECRET, at(1733140800)).is_err());
        let not_hex = "t=1733140800,v1=zz";
        assert!(check(not_hex, PAYLOAD, 1733140800).is_err());
    }

    #[test]
    fn events_read_into_the_engines_terms() {
        let event = read_event(PAYLOAD.as_bytes()).unwrap().unwrap();
        assert_eq!(event.event_id, "evt_1QvectorA");
        assert_eq!(event.reference, "pi_1Qvector");
        assert!(matches!(
            event.kind,
            ProviderEventKind::Succeeded { amount, .. } if amount.to_string() == "25.99 USD"
        ));
        let unknown =
            r#"{"id":"evt_3","type":"customer.created","data":{"object":{"id":"cus_1"}}}"#;
        assert_eq!(read_event(unknown.as_bytes()), Ok(None));
        assert!(matches!(
            read_event(b"not json"),
            Err(WebhookError::Malformed(_))
        ));
    }
}
