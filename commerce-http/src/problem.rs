//! RFC 9457 problems: the one error type of the HTTP layer. Domain errors are mapped here,
//! once; a middleware makes every error response a complete problem (Poem's own 404, 405 and
//! parse errors included) and stamps it with the request id.

use commerce_core::service::CommerceError;
use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

pub const PROBLEM_JSON: &str = "application/problem+json";
pub const REQUEST_ID: &str = "x-request-id";

/// What a 503 for unreachable storage tells clients to wait: reconnecting takes about this.
const STORAGE_RETRY_AFTER_SECONDS: u64 = 1;

#[derive(Debug, Clone, Object)]
pub struct FieldProblem {
    /// The JSON field (dotted for nested ones) or query parameter.
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem. All six members are always present.
#[derive(Debug, Clone, Object)]
pub struct Problem {
    /// A URI naming the kind of problem, or `about:blank`.
    #[oai(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable snake_case code clients can branch on.
    pub code: String,
    /// The `x-request-id` of the request, for support.
    pub request_id: String,
    /// Per-field errors of a `validation_failed` problem.
    #[oai(skip_serializing_if_is_none)]
    pub errors: Option<Vec<FieldProblem>>,
    /// Why a discount code was refused (`invalid_discount`).
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
}

/// The error side of every operation.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// A problem (RFC 9457).
    #[oai(content_type = "application/problem+json")]
    Problem(StatusCode, Json<Box<Problem>>),
    /// Too many requests: `Retry-After` says in how many seconds to try again.
    #[oai(status = 429, content_type = "application/problem+json")]
    RateLimited(Json<Box<Problem>>, #[oai(header = "Retry-After")] u64),
    /// Storage cannot be reached right now and nothing was written: `Retry-After` says when
    /// to try again.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Box<Problem>>, #[oai(header = "Retry-After")] u64),
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> ApiError {
        ApiError::Problem(status, Json(Box::new(problem(status, code, detail.into()))))
    }

    /// 429 `rate_limited`, to be retried after `wait`.
    pub fn rate_limited(wait: std::time::Duration, detail: impl Into<String>) -> ApiError {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        ApiError::RateLimited(
            Json(Box::new(problem(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                detail.into(),
            ))),
            seconds.max(1),
        )
    }

    pub fn validation(field: &str, message: impl Into<String>) -> ApiError {
        let mut p = problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            format!("{field}: invalid"),
        );
        let message = message.into();
        p.detail = format!("{field}: {message}");
        p.errors = Some(vec![FieldProblem {
            field: field.to_string(),
            message,
        }]);
        ApiError::Problem(StatusCode::UNPROCESSABLE_ENTITY, Json(Box::new(p)))
    }
}

fn title_of(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_string()
}

fn problem(status: StatusCode, code: &str, detail: String) -> Problem {
    Problem {
        kind: "about:blank".into(),
        title: title_of(status),
        status: status.as_u16(),
        detail,
        code: code.to_string(),
        request_id: String::new(),
        errors: None,
        reason: None,
    }
}

/// The code of a status for errors that carry none of their own.
fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        411 => "length_required",
        412 => "version_mismatch",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "validation_failed",
        429 => "rate_limited",
        503 => "unavailable",
        _ if status.is_server_error() => "internal_error",
        _ => "error",
    }
}

impl From<CommerceError> for ApiError {
    fn from(e: CommerceError) -> Self {
        let status = match &e {
            CommerceError::Validation(_) | CommerceError::InvalidDiscount { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            CommerceError::BadWebhook { .. } => StatusCode::BAD_REQUEST,
            CommerceError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            CommerceError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            CommerceError::NotFound(_) => StatusCode::NOT_FOUND,
            CommerceError::Unauthenticated
            | CommerceError::InvalidCredentials
            | CommerceError::InvalidToken => StatusCode::UNAUTHORIZED,
            CommerceError::Forbidden(_) | CommerceError::AccountDisabled => StatusCode::FORBIDDEN,
            CommerceError::Taken(_)
            | CommerceError::OutOfStock { .. }
            | CommerceError::InvalidTransition(_)
            | CommerceError::Conflict(_) => StatusCode::CONFLICT,
            CommerceError::VersionMismatch(_) => StatusCode::PRECONDITION_FAILED,
            CommerceError::PaymentDeclined(_) => StatusCode::PAYMENT_REQUIRED,
            CommerceError::ProviderUnavailable(_) => StatusCode::BAD_GATEWAY,
            CommerceError::StorageUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            CommerceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let detail = match &e {
            // The cause is for the log, not for the client.
            CommerceError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "something went wrong on our side; the request id helps us find out what"
                    .to_string()
            }
            // The cause (a host name, a driver message) is for the log as well.
            CommerceError::StorageUnavailable(cause) => {
                tracing::warn!(%cause, "storage unavailable");
                "the shop's storage cannot be reached right now; nothing was changed, try again shortly"
                    .to_string()
            }
            other => other.to_string(),
        };
        let mut p = problem(status, e.code(), detail);
        match e {
            CommerceError::Validation(errors) => {
                p.errors = Some(
                    errors
                        .0
                        .into_iter()
                        .map(|f| FieldProblem {
                            field: f.field,
                            message: f.message,
                        })
                        .collect(),
                )
            }
            CommerceError::InvalidDiscount { reason, .. } => {
                p.reason = Some(reason.as_str().to_string())
            }
            CommerceError::StorageUnavailable(_) => {
                return ApiError::Unavailable(Json(Box::new(p)), STORAGE_RETRY_AFTER_SECONDS)
            }
            _ => {}
        }
        ApiError::Problem(status, Json(Box::new(p)))
    }
}

/// The request id: the client's when it sent a sane one, else a new one.
fn request_id(req: &Request) -> String {
    req.header(REQUEST_ID)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(new_request_id)
}

/// 32 hex digits: a random prefix per process and a counter, so ids are unique across
/// processes without asking the kernel for randomness on every request (a random UUID per
/// request was a `getrandom` call each).
fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    format!("{prefix:016x}{:016x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Wraps the whole app: every response carries `x-request-id`, and every error is a complete
/// problem+json with that id.
pub async fn problems<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let id = request_id(&req);
    let mut resp = match next.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => match e.downcast_ref::<poem_openapi::error::ParseParamError>() {
            // A parameter of the wrong type or outside its documented range is invalid input,
            // named like a body field: 422, not Poem's 400.
            Some(bad) => {
                ApiError::validation(bad.name, parameter_message(&bad.reason)).into_response()
            }
            None => e.into_response(),
        },
    };
    let status = resp.status();
    if status.is_client_error() || status.is_server_error() {
        let is_problem = resp
            .headers()
            .get(poem::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with(PROBLEM_JSON));
        let body = resp.take_body().into_vec().await.unwrap_or_default();
        let mut value = if is_problem {
            serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default()
        } else {
            // Poem's own errors (no route, wrong method, unparsable parameter) carry text.
            let detail = String::from_utf8_lossy(&body).trim().to_string();
            let detail = if detail.is_empty() {
                title_of(status)
            } else {
                detail
            };
            serde_json::to_value(ProblemBody::from(problem(status, code_of(status), detail)))
                .unwrap_or_default()
        };
        if let Some(obj) = value.as_object_mut() {
            obj.insert("request_id".into(), serde_json::Value::String(id.clone()));
        }
        resp.set_body(serde_json::to_vec(&value).unwrap_or_default());
        resp.headers_mut().insert(
            poem::http::header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_JSON),
        );
        resp.headers_mut()
            .remove(poem::http::header::CONTENT_LENGTH);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(resp)
}

/// What is wrong with a parameter, without Poem's wrapping: `failed to parse "boolean":
/// provided string was not `true` or `false` (occurred while parsing "optional_boolean")`
/// says `provided string was not `true` or `false``.
fn parameter_message(reason: &str) -> String {
    let inner = reason
        .strip_prefix("failed to parse ")
        .and_then(|r| r.split_once("\": ").map(|(_, m)| m))
        .unwrap_or(reason);
    inner
        .split(" (occurred while parsing")
        .next()
        .unwrap_or(inner)
        .trim()
        .to_string()
}

/// The serde shape of a problem, for problems built outside an operation.
#[derive(serde::Serialize)]
struct ProblemBody {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    code: String,
    request_id: String,
}

impl From<Problem> for ProblemBody {
    fn from(p: Problem) -> Self {
        Self {
            kind: p.kind,
            title: p.title,
            status: p.status,
            detail: p.detail,
            code: p.code,
            request_id: p.request_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_request_ids_are_32_hex_digits_and_never_repeat() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids
            .iter()
            .all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
    }
}
