//! The middleware every request passes before the shop's routes, as one layer. Boxed one by
//! one, each of the six cost a future allocated, the request moved into it (a request is
//! some hundreds of bytes, and an `async fn` keeps its argument beside what it moves it
//! into) and a dynamic call: together about a tenth of a product read. Here their parts
//! before and after the call run in one `async fn` around the boxed routes. The public
//! middleware (`request_log::log_requests` and the others) are made of the same parts, for
//! embedders who compose their own stack.

use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Request, Response};

use crate::cors::CrossOrigin;
use crate::request_log::Arrival;
use crate::{client, cors, idempotency, limits, methods, metrics, problem, RequestShared};

/// What the edge reads, shared by every request.
pub(crate) struct Edge {
    pub(crate) trusted_proxies: Arc<[client::IpBlock]>,
    pub(crate) metrics: Arc<metrics::Metrics>,
    pub(crate) cors: cors::Cors,
    pub(crate) methods: methods::MethodTable,
    pub(crate) limiter: Arc<limits::ClientLimiter>,
    /// Put on every request for the handlers.
    pub(crate) shared: Arc<RequestShared>,
}

/// Outermost first, as the layers were stacked: the request log (the request's id and client
/// named for everything inside), the metrics, CORS, `Allow` on `OPTIONS` and `405`, problem
/// JSON for every error, the per-client rate limit, the shared handle put on the request, an
/// `Idempotency-Key` honoured where it applies, the query parsed, then `next`.
pub(crate) async fn edge<E: Endpoint>(
    edge: Arc<Edge>,
    next: E,
    req: Request,
) -> poem::Result<Response> {
    let mut arrival = Arrival::of(&edge.trusted_proxies, &req);
    let method = req.method().clone();
    // Boxed: the task-local scopes take the future by value, and each move of it (a few
    // hundred bytes with the request in it) would be a copy; a box moves as a pointer.
    let inside = Box::pin(inside_the_log(&edge, &next, req));
    let (resp, user) = arrival.within(inside).await;
    edge.metrics.record(
        &method,
        resp.status().as_u16(),
        arrival.elapsed().as_secs_f64(),
    );
    Ok(arrival.finish(resp, user))
}

async fn inside_the_log<E: Endpoint>(edge: &Edge, next: &E, req: Request) -> Response {
    let marking = match edge.cors.before(&req) {
        CrossOrigin::Answered(preflight) => return preflight,
        CrossOrigin::Unmarked => None,
        CrossOrigin::Marked(allowed) => Some(allowed),
    };
    let mut resp = match edge.methods.answer_options(&req) {
        Some(options) => options,
        None => {
            let uri = req.uri().clone();
            let result = match edge.limiter.refusal(&req) {
                Some(refused) => Ok(refused),
                None => within_the_shop(edge, next, req).await,
            };
            let mut resp = problem::answer_of(result);
            if problem::is_error(&resp) {
                // Boxed: only errors read their body, and this future stays small without it.
                resp = Box::pin(problem::as_problem(resp)).await;
            }
            edge.methods.add_allow(uri.path(), &mut resp);
            resp
        }
    };
    if let Some(allowed) = marking {
        edge.cors.mark(allowed, &mut resp);
    }
    resp
}

/// What three more layers did (each a future with the request moved into it, and two of them
/// boxed: about 8 KB copied per request): the shared handle put on the request, the query
/// parsed once for the operations, and the few writes an `Idempotency-Key` covers sent
/// through its record.
async fn within_the_shop<E: Endpoint>(
    edge: &Edge,
    next: &E,
    mut req: Request,
) -> poem::Result<Response> {
    req.extensions_mut().insert(Arc::clone(&edge.shared));
    crate::parse_url_query(&mut req);
    if idempotency::covered(&req) {
        // Boxed: a few kinds of POST only, and its future is large.
        return Box::pin(idempotency::idempotency_keys(next, req)).await;
    }
    next.call(req).await.map(IntoResponse::into_response)
}
