//! `Idempotency-Key` on `POST /api/orders`, `POST /api/cart/checkout` and
//! `POST /api/payments/*` (and its alias `POST /api/payments`): the same key and body get the first response again; the same key
//! with another body is 409 `idempotency_key_reused`; while the first request still runs,
//! 409 `idempotency_key_in_use`. Keys are scoped to the caller (user or cart token) and the
//! endpoint, and kept 24 hours, in the shop's storage so that every server shares them.

use std::sync::atomic::{AtomicU64, Ordering};

use commerce_core::account::hash_token;
use commerce_core::ports::{IdempotencyClaim, KeptResponse};
use commerce_core::{Caller, Commerce};
use poem::http::{HeaderName, HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::auth::{bearer_token, CheckedCaller};
use crate::body::read_capped;
use crate::problem::ApiError;

/// The request header that names a retry of the same operation.
pub const HEADER: &str = "idempotency-key";
/// How long a key's response is kept.
const KEPT_FOR: chrono::Duration = chrono::Duration::hours(24);
/// A claim whose request never finished (the process died) is free again after this.
const ABANDONED_AFTER: chrono::Duration = chrono::Duration::minutes(2);
/// Old keys are purged on one claim in this many.
const PURGE_EVERY: u64 = 1000;

/// Headers a replay must carry again.
const KEPT_HEADERS: &[&str] = &["content-type", "location", "etag", "x-cart-token"];

static CLAIMS: AtomicU64 = AtomicU64::new(0);

/// The POSTs that create orders or payments (a hosted checkout session is a payment too).
pub(crate) fn covered(req: &Request) -> bool {
    let path = req.uri().path();
    req.method() == Method::POST
        && (path == "/api/orders"
            || path == "/api/cart/checkout"
            || path == "/api/payment/checkout"
            || path == "/api/payments"
            || path.starts_with("/api/payments/"))
}

/// Whose key it is: the signed-in user, else the guest cart's token, else an anonymous guest.
/// A valid token's caller is kept on the request, so the operation does not check it again.
async fn scope_of(req: &mut Request, shop: &Commerce) -> String {
    let caller = match bearer_token(req) {
        Some(token) if !token.is_empty() => shop.accounts().authenticate(token).await.ok(),
        _ => None,
    };
    if let Some(caller) = caller {
        req.extensions_mut().insert(CheckedCaller(caller));
    }
    let who = match (caller, req.header("x-cart-token")) {
        (Some(Caller::User { id, .. }), _) => format!("user:{id}"),
        (_, Some(cart)) if !cart.trim().is_empty() => format!("cart:{}", hash_token(cart.trim())),
        _ => "guest".to_string(),
    };
    format!("{who} {}", req.uri().path())
}

fn problem(status: StatusCode, code: &str, detail: &str) -> Response {
    ApiError::new(status, code, detail).into_response()
}

/// Wraps the API: requests to the covered endpoints with an `Idempotency-Key` go through
/// the key's record.
pub async fn idempotency_keys<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    if !covered(&req) {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    let Some(key) = req.header(HEADER).map(str::to_string) else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let key = key.trim().to_string();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Ok(ApiError::validation(
            "Idempotency-Key",
            "must be 1 to 255 printable ASCII characters",
        )
        .into_response());
    }
    // The shared handle, not a copy of the shop (some twenty handles).
    let Some(shared) = req.data::<std::sync::Arc<crate::RequestShared>>().cloned() else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let shop = &shared.shop;
    let limits = shared.body;
    let mut body = poem::RequestBody::new(req.take_body());
    let bytes = match read_capped(&mut body, limits.json_bytes, limits.read_timeout).await {
        Ok(b) => b,
        Err(e) => return Ok(e.into_response()),
    };
    let fingerprint = hash_token(&format!(
        "{}\n{}",
        req.content_type().unwrap_or_default(),
        String::from_utf8_lossy(&bytes)
    ));
    req.set_body(bytes);
    let scope = scope_of(&mut req, shop).await;
    let store = shop.idempotency_keys().clone();
    let now = shop.now();
    let claim = store
        .claim_idempotency_key(
            &scope,
            &key,
            &fingerprint,
            now,
            now - KEPT_FOR,
            now - ABANDONED_AFTER,
        )
        .await;
    if CLAIMS.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY == PURGE_EVERY - 1 {
        let store = store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.purge_idempotency_keys(now - KEPT_FOR).await {
                tracing::warn!(error = %e, "old idempotency keys not purged");
            }
        });
    }
    match claim {
        Err(e) => Ok(ApiError::from(commerce_core::CommerceError::from(e)).into_response()),
        Ok(IdempotencyClaim::Existing {
            fingerprint: kept, ..
        }) if kept != fingerprint => Ok(problem(
            StatusCode::CONFLICT,
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request",
        )),
        Ok(IdempotencyClaim::Existing { response: None, .. }) => Ok(problem(
            StatusCode::CONFLICT,
            "idempotency_key_in_use",
            "the first request with this Idempotency-Key is still running; retry shortly",
        )),
        Ok(IdempotencyClaim::Existing {
            response: Some(kept),
            ..
        }) => Ok(replay(kept)),
        Ok(IdempotencyClaim::Claimed) => {
            let resp = match next.call(req).await {
                Ok(r) => r.into_response(),
                Err(e) => e.into_response(),
            };
            let status = resp.status();
            // Failures worth retrying (ours, or refusals before anything ran) free the key.
            if status.is_server_error()
                || status == StatusCode::UNAUTHORIZED
                || status == StatusCode::TOO_MANY_REQUESTS
            {
                if let Err(e) = store.release_idempotency_key(&scope, &key).await {
                    tracing::warn!(error = %e, "idempotency key not released");
                }
                return Ok(resp);
            }
            let (parts, body) = resp.into_parts();
            let bytes = body.into_vec().await.unwrap_or_default();
            let kept = KeptResponse {
                status: parts.status.as_u16(),
                headers: KEPT_HEADERS
                    .iter()
                    .filter_map(|name| {
                        parts
                            .headers
                            .get(*name)
                            .and_then(|v| v.to_str().ok())
                            .map(|v| (name.to_string(), v.to_string()))
                    })
                    .collect(),
                body: bytes.clone(),
            };
            if let Err(e) = store.complete_idempotency_key(&scope, &key, &kept).await {
                tracing::warn!(error = %e, "idempotent response not kept");
            }
            Ok(Response::from_parts(parts, bytes.into()))
        }
    }
}

fn replay(kept: KeptResponse) -> Response {
    let mut resp = Response::builder()
        .status(StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK))
        .header("idempotent-replayed", "true")
        .body(kept.body);
    for (name, value) in kept.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            resp.headers_mut().insert(name, value);
        }
    }
    resp
}
