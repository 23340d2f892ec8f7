//! One log line per request, and what the rest of a request's handling may ask about it: its
//! id, its client's address and the signed-in user, kept in a task-local for the request's
//! task (a `tracing` span per request cost about a tenth of an add-to-cart's time).
//!
//! Lines go to `tracing` with target `commerce_http::request` at `info` (at `warn` for a 5xx),
//! or, when the program set one with [`write_lines_with`], to its own writer (still only when
//! `tracing` enables that target at that level); nothing of a request's body, query, headers
//! or tokens is logged, only its method and path.
//! Around a request that may write, the core's [`RequestOrigin`] names its client, user agent
//! and id for the audit log.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use commerce_core::audit::RequestOrigin;
use commerce_core::ids::UserId;
use poem::http::{HeaderValue, Method};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::client::{client_address, IpBlock};

/// The header that carries a request's id, in both directions.
pub const REQUEST_ID: &str = "x-request-id";

struct RequestInfo {
    id: String,
    client: Option<IpAddr>,
    user: Cell<Option<UserId>>,
}

tokio::task_local! {
    static THIS_REQUEST: RequestInfo;
}

/// The id of the request being handled (`X-Request-Id`), outside a request `None`.
pub fn current_request_id() -> Option<String> {
    THIS_REQUEST.try_with(|r| r.id.clone()).ok()
}

/// The client address of the request being handled, as the trusted proxies say.
pub fn current_client() -> Option<IpAddr> {
    THIS_REQUEST.try_with(|r| r.client).ok().flatten()
}

/// Notes who the request's caller turned out to be, for its log line.
pub(crate) fn saw_caller(user: UserId) {
    let _ = THIS_REQUEST.try_with(|r| r.user.set(Some(user)));
}

/// Logs a security event (target `commerce::security`, field `event`) with the current
/// request's id and client: sign-ins, their failures and locks, webhooks that are not genuine.
/// Never give it a password, token or secret.
macro_rules! security_event {
    ($level:ident, $event:literal, $($rest:tt)*) => {
        tracing::$level!(
            target: "commerce::security",
            event = $event,
            request_id = %$crate::request_log::OrEmpty($crate::request_log::current_request_id()),
            client = %$crate::request_log::OrEmpty($crate::request_log::current_client()),
            $($rest)*
        )
    };
}
pub(crate) use security_event;

/// Shows an optional value as itself or as nothing, without formatting it first.
pub(crate) struct OrEmpty<T>(pub Option<T>);

impl<T: fmt::Display> fmt::Display for OrEmpty<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(v) => v.fmt(f),
            None => Ok(()),
        }
    }
}

/// A request's log line, as a writer set with [`write_lines_with`] gets it: the fields of the
/// `tracing` event it replaces.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RequestLine<'a> {
    /// `WARN` for a 5xx answer, else `INFO`.
    pub level: tracing::Level,
    /// The request's method.
    pub method: &'a Method,
    /// The request's path, without its query.
    pub path: &'a str,
    /// The answer's status code.
    pub status: u16,
    /// Microseconds from the request's arrival to its answer.
    pub duration_us: u64,
    /// The request's id (`X-Request-Id`).
    pub request_id: &'a str,
    /// The client's address, as the trusted proxies say.
    pub client: Option<IpAddr>,
    /// The signed-in caller, if one was seen.
    pub user: Option<UserId>,
}

static LINE_WRITER: OnceLock<fn(&RequestLine<'_>)> = OnceLock::new();

/// Hands every request's line to `writer` instead of sending it to `tracing` as an event, for
/// the whole process; `false` (and nothing changed) when a writer was set already. A line is
/// still written only when `tracing` enables target `commerce_http::request` at its level, so
/// `RUST_LOG` chooses as before.
///
/// For a program whose log writes the line itself: an event's way through `tracing` (its
/// dispatch, the subscriber's layers, each field recorded through `fmt`) was about an eighth
/// of the instructions of a product read. Other layers (metrics, traces) no longer see the
/// lines, so a program with such layers should leave this unset.
pub fn write_lines_with(writer: fn(&RequestLine<'_>)) -> bool {
    LINE_WRITER.set(writer).is_ok()
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
pub(crate) fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let count = NEXT.fetch_add(1, Ordering::Relaxed);
    // By hand: `format!` with two `{:016x}` was some 2,000 instructions, a tenth of a
    // bare Poem request.
    let digits = b"0123456789abcdef";
    let mut id = String::with_capacity(32);
    for n in [prefix, count] {
        for shift in (0..16).rev() {
            id.push(char::from(digits[((n >> (shift * 4)) & 0xf) as usize]));
        }
    }
    id
}

/// A request as the log saw it arrive: when, its id and client, and what its line and the
/// audit log need of it. [`within`](Arrival::within) runs its handling with these named,
/// [`finish`](Arrival::finish) answers with its id and writes its line.
pub(crate) struct Arrival {
    started: Instant,
    id: String,
    client: Option<IpAddr>,
    /// Only what the line needs, and only when a line will be written.
    logged: Option<(Method, String)>,
    /// Where a write came from, for the audit log: only requests that may write pay for it.
    origin: Option<RequestOrigin>,
}

impl Arrival {
    pub(crate) fn of(trusted_proxies: &[IpBlock], req: &Request) -> Self {
        let started = Instant::now();
        let peer = match req.remote_addr().0 {
            poem::Addr::SocketAddr(addr) => Some(addr.ip()),
            _ => None,
        };
        let id = request_id(req);
        let client = client_address(peer, req.headers(), trusted_proxies);
        let logged = tracing::enabled!(target: "commerce_http::request", tracing::Level::WARN)
            .then(|| (req.method().clone(), req.uri().path().to_string()));
        let origin = (!req.method().is_safe()).then(|| RequestOrigin {
            ip: client.map(|ip| ip.to_string()),
            user_agent: req
                .header(poem::http::header::USER_AGENT)
                .map(RequestOrigin::clean_user_agent),
            request_id: Some(id.clone()),
        });
        Self {
            started,
            id,
            client,
            logged,
            origin,
        }
    }

    /// Time since the request arrived.
    pub(crate) fn elapsed(&self) -> std::time::Duration {
        self.started.elapsed()
    }

    /// Runs `handling` with the request's id and client named for everything inside (and a
    /// write's origin for the audit log); gives back its outcome and the signed-in caller, if
    /// one was seen.
    pub(crate) async fn within<T>(
        &mut self,
        handling: impl Future<Output = T>,
    ) -> (T, Option<UserId>) {
        let info = RequestInfo {
            id: self.id.clone(),
            client: self.client,
            user: Cell::new(None),
        };
        let origin = self.origin.take();
        THIS_REQUEST
            .scope(info, async move {
                let outcome = match origin {
                    Some(origin) => origin.scope(handling).await,
                    None => handling.await,
                };
                (outcome, THIS_REQUEST.with(|r| r.user.get()))
            })
            .await
    }

    /// The answer with `X-Request-Id`, its line logged.
    pub(crate) fn finish(self, mut resp: Response, user: Option<UserId>) -> Response {
        if let Ok(v) = HeaderValue::from_str(&self.id) {
            resp.headers_mut().insert(REQUEST_ID, v);
        }
        if let Some((method, path)) = self.logged {
            let status = resp.status().as_u16();
            let duration_us = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
            if let Some(write) = LINE_WRITER.get() {
                let level = if status >= 500 {
                    tracing::Level::WARN
                } else {
                    tracing::Level::INFO
                };
                // `WARN` was asked at arrival.
                if level == tracing::Level::WARN
                    || tracing::enabled!(target: "commerce_http::request", tracing::Level::INFO)
                {
                    write(&RequestLine {
                        level,
                        method: &method,
                        path: &path,
                        status,
                        duration_us,
                        request_id: &self.id,
                        client: self.client,
                        user,
                    });
                }
                return resp;
            }
            let id = self.id;
            let client = OrEmpty(self.client);
            let user = OrEmpty(user);
            if status >= 500 {
                tracing::warn!(target: "commerce_http::request", %method, path, status, duration_us, request_id = %id, %client, %user, "request");
            } else {
                tracing::info!(target: "commerce_http::request", %method, path, status, duration_us, request_id = %id, %client, %user, "request");
            }
        }
        resp
    }
}

/// Wraps the whole app: names the request and its client for everything inside, answers with
/// `X-Request-Id`, and logs one line when the answer is ready.
pub async fn log_requests<E: Endpoint>(
    trusted_proxies: Arc<[IpBlock]>,
    next: E,
    req: Request,
) -> poem::Result<Response> {
    let mut arrival = Arrival::of(&trusted_proxies, &req);
    let (result, user) = arrival
        .within(async move { next.call(req).await.map(IntoResponse::into_response) })
        .await;
    Ok(arrival.finish(result.unwrap_or_else(|e| e.into_response()), user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_is_the_process_prefix_then_the_count_in_hex() {
        let first = new_request_id();
        let second = new_request_id();
        assert_eq!(first[..16], second[..16]);
        let count = |id: &str| u64::from_str_radix(&id[16..], 16).unwrap();
        assert!(count(&second) > count(&first));
        assert!(first
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    }

    #[test]
    fn new_request_ids_are_32_hex_digits_and_never_repeat() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids
            .iter()
            .all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
    }
}
