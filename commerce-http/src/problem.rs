//! RFC 9457 problems: the one error type of the HTTP layer. Domain errors are mapped here,
//! once; a middleware makes every error response a complete problem (Poem's own 404, 405 and
//! parse errors included) and stamps it with the request id.

use commerce_core::service::CommerceError;
use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use crate::request_log::OrEmpty;

/// The media type of every error answer (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";
/// The header that carries a request's id (kept here for those who named it here).
pub use crate::request_log::REQUEST_ID;

/// What a 503 for unreachable storage tells clients to wait: reconnecting takes about this.
const STORAGE_RETRY_AFTER_SECONDS: u64 = 1;

/// What is wrong with one field of a request.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct FieldProblem {
    /// The JSON field (dotted for nested ones) or query parameter.
    pub field: String,
    /// What it should be.
    pub message: String,
}

/// An RFC 9457 problem. All six members are always present.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Problem {
    /// A URI naming the kind of problem, or `about:blank`.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase (`Unprocessable Entity`).
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, in a sentence for people.
    pub detail: String,
    /// Stable snake_case code clients can branch on.
    pub code: String,
    /// The `x-request-id` of the request, for support.
    pub request_id: String,
    /// Per-field errors of a `validation_failed` problem.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
    /// Why a discount code was refused (`invalid_discount`).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
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
    /// A problem of this status and code.
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

    /// 422 `validation_failed` for one field.
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
        408 => "request_timeout",
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

impl Problem {
    /// The problem a domain error is, stamped with the current request's id: what an error
    /// answer carries, and what a success that partly failed (checkout's `payment_error`)
    /// carries beside its result.
    pub fn of(e: CommerceError) -> Problem {
        let status = status_of(&e);
        let request_id = crate::request_log::current_request_id();
        let detail = match &e {
            // The cause is for the log, not for the client.
            CommerceError::Internal(cause) => {
                tracing::error!(%cause, request_id = %OrEmpty(request_id.as_deref()), "internal error");
                "something went wrong on our side; the request id helps us find out what"
                    .to_string()
            }
            // The cause (a host name, a driver message) is for the log as well.
            CommerceError::StorageUnavailable(cause) => {
                tracing::warn!(%cause, request_id = %OrEmpty(request_id.as_deref()), "storage unavailable");
                "the shop's storage cannot be reached right now; nothing was changed, try again shortly"
                    .to_string()
            }
            other => other.to_string(),
        };
        let mut p = problem(status, e.code(), detail);
        p.request_id = request_id.unwrap_or_default();
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
            _ => {}
        }
        p
    }
}

fn status_of(e: &CommerceError) -> StatusCode {
    match e {
        CommerceError::Validation(_) | CommerceError::InvalidDiscount { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        CommerceError::BadWebhook { .. } => StatusCode::BAD_REQUEST,
        CommerceError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        CommerceError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        CommerceError::NotFound(_) => StatusCode::NOT_FOUND,
        CommerceError::Unauthenticated
        | CommerceError::InvalidCredentials
        | CommerceError::InvalidToken
        | CommerceError::OauthFailed(_) => StatusCode::UNAUTHORIZED,
        CommerceError::Forbidden(_) | CommerceError::AccountDisabled => StatusCode::FORBIDDEN,
        CommerceError::Taken(_)
        | CommerceError::OutOfStock { .. }
        | CommerceError::InvalidTransition(_)
        | CommerceError::Conflict(_)
        | CommerceError::AccountLinkRequired => StatusCode::CONFLICT,
        CommerceError::VersionMismatch(_) => StatusCode::PRECONDITION_FAILED,
        CommerceError::PaymentDeclined(_) => StatusCode::PAYMENT_REQUIRED,
        CommerceError::ProviderUnavailable(_) => StatusCode::BAD_GATEWAY,
        CommerceError::StorageUnavailable(_) | CommerceError::Busy(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        CommerceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<CommerceError> for ApiError {
    fn from(e: CommerceError) -> Self {
        let retry_after = match &e {
            CommerceError::StorageUnavailable(_) => Some(STORAGE_RETRY_AFTER_SECONDS),
            CommerceError::Busy(wait) => Some(wait.as_secs().max(1)),
            _ => None,
        };
        let p = Problem::of(e);
        let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match retry_after {
            Some(seconds) => ApiError::Unavailable(Json(Box::new(p)), seconds),
            None => ApiError::Problem(status, Json(Box::new(p))),
        }
    }
}

/// Wraps the whole app: every error is a complete problem+json with the request's id.
pub async fn problems<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let resp = answer_of(next.call(req).await.map(IntoResponse::into_response));
    if is_error(&resp) {
        return Ok(as_problem(resp).await);
    }
    Ok(resp)
}

/// The answer to a handled request, its error made a response: a parameter of the wrong
/// type or outside its documented range is invalid input, named like a body field (422, not
/// Poem's 400).
pub(crate) fn answer_of(result: poem::Result<Response>) -> Response {
    match result {
        Ok(r) => r,
        Err(e) => match e.downcast_ref::<poem_openapi::error::ParseParamError>() {
            Some(bad) => {
                ApiError::validation(bad.name, parameter_message(&bad.reason)).into_response()
            }
            None => e.into_response(),
        },
    }
}

/// Whether an answer is an error, and so goes through [`as_problem`].
pub(crate) fn is_error(resp: &Response) -> bool {
    resp.status().is_client_error() || resp.status().is_server_error()
}

/// An error answer as complete problem+json with the request's id (Poem's own errors carry
/// text; ours are problems already and get the id).
pub(crate) async fn as_problem(mut resp: Response) -> Response {
    let status = resp.status();
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
        serde_json::to_value(problem(status, code_of(status), detail)).unwrap_or_default()
    };
    // Only an error answer needs the id in its body (the header is set around every
    // answer), so a success costs no copy of it.
    let id =
        crate::request_log::current_request_id().unwrap_or_else(crate::request_log::new_request_id);
    if let Some(obj) = value.as_object_mut() {
        obj.insert("request_id".into(), serde_json::Value::String(id));
    }
    resp.set_body(serde_json::to_vec(&value).unwrap_or_default());
    resp.headers_mut().insert(
        poem::http::header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_JSON),
    );
    resp.headers_mut()
        .remove(poem::http::header::CONTENT_LENGTH);
    resp
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_unreachable_storage_are_503_with_retry_after() {
        let busy = ApiError::from(CommerceError::Busy(std::time::Duration::from_secs(2)));
        match busy {
            ApiError::Unavailable(p, seconds) => {
                assert_eq!((p.status, p.code.as_str(), seconds), (503, "busy", 2));
            }
            other => panic!("{other:?}"),
        }
        let away = ApiError::from(CommerceError::StorageUnavailable("db down".into()));
        match away {
            ApiError::Unavailable(p, seconds) => {
                assert_eq!((p.code.as_str(), seconds), ("storage_unavailable", 1));
                assert!(!p.detail.contains("db down"), "the cause is for the log");
            }
            other => panic!("{other:?}"),
        }
    }
}
