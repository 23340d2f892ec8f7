//! The REST API of ../shared/API.md on Poem, as a library: [`routes`] returns an endpoint a
//! Poem app mounts. Handlers translate HTTP to the core's services and hold no business rule;
//! errors become RFC 9457 problems in one place ([`problem`]).
//!
//! Map of the crate:
//! - [`auth`]: access tokens as JWTs ([`auth::JwtIssuer`], the core's `TokenIssuer`), the
//!   caller of a request, the login throttle;
//! - [`body`]: JSON request bodies with the API's 400/413/415/422 answers;
//! - [`cache`]: public catalog replies kept encoded while the catalog is unchanged;
//! - [`problem`]: the one error type and the middleware that makes every error a problem;
//! - [`serve`]: HTTP/1.1 serving with lean connections (what the example server runs);
//! - [`json`]: the response shapes;
//! - one module per group of operations: catalog, accounts, shopping (cart, checkout,
//!   orders, payments), admin.

#![warn(missing_docs)]
// docs.rs marks each item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod accounts;
mod admin;
#[cfg(feature = "admin-app")]
#[cfg_attr(docsrs, doc(cfg(feature = "admin-app")))]
pub mod admin_app;
pub mod auth;
pub mod body;
pub mod cache;
mod catalog;
pub mod client;
mod common;
pub mod cors;
pub mod document;
mod edge;
pub mod idempotency;
pub mod json;
pub mod limits;
pub mod methods;
pub mod metrics;
pub mod problem;
pub mod request_log;
pub mod rules;
pub mod serve;
mod shopping;
mod social;
pub mod streams;

use std::sync::Arc;

use commerce_core::Commerce;
use poem::http::StatusCode;
use poem::{get, handler, web::Data, EndpointExt, IntoResponse, Route};
use poem_openapi::OpenApiService;

pub use auth::{JwtIssuer, LoginLimits};
pub use body::BodyLimits;
pub use cache::CatalogCacheLimits;
pub use cors::CorsConfig;

/// What the API can be tuned with; the defaults are those of ../shared/API.md.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// JSON and upload size limits, and how long a body may take.
    pub body: BodyLimits,
    /// Failed sign-ins allowed before 429.
    pub login: LoginLimits,
    /// Requests per client address per second (and burst) before 429.
    pub clients: limits::ClientLimits,
    /// How much of the public catalog's encoded replies is kept.
    pub catalog_cache: CatalogCacheLimits,
    /// Which other origins may call the API from a browser (default none).
    pub cors: CorsConfig,
    /// Long-lived responses (order event streams) end when this turns true, so that a
    /// graceful shutdown does not wait for them.
    pub shutdown: Option<tokio::sync::watch::Receiver<bool>>,
    /// How often an idle order event stream sends a comment line, so that proxies keep it
    /// open [15 s].
    pub order_events_keep_alive: std::time::Duration,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` is believed about the client's address
    /// [none: the TCP peer is the client].
    pub trusted_proxies: Vec<client::IpBlock>,
    /// Caps on open order event streams, per user and in all.
    pub streams: streams::StreamLimits,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            body: BodyLimits::default(),
            login: LoginLimits::default(),
            clients: limits::ClientLimits::default(),
            catalog_cache: CatalogCacheLimits::default(),
            cors: CorsConfig::default(),
            shutdown: None,
            order_events_keep_alive: std::time::Duration::from_secs(15),
            trusted_proxies: Vec::new(),
            streams: streams::StreamLimits::default(),
        }
    }
}

/// The whole API: `/api/...`, `/health`, `/ready`, `/metrics`, `/openapi.json` and `/docs`.
///
/// The shop must have been built with a token issuer (such as [`JwtIssuer`]) for sign-in to
/// work.
///
/// The endpoint answers requests in-process too (as here); [`serve::serve`] serves it on a
/// socket.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::Arc;
/// use commerce_core::{account::Role, memory::MemoryStore, Commerce};
/// use commerce_http::{routes, ApiConfig, JwtIssuer};
/// use poem::{http::Method, Endpoint, Request};
///
/// // The secret comes from the environment in a real shop (at least 32 bytes).
/// let issuer = JwtIssuer::new(b"a secret of at least thirty-two bytes", JwtIssuer::DEFAULT_LIFETIME)?;
/// let shop = Commerce::builder(Arc::new(MemoryStore::new()))
///     .test_payments()
///     .token_issuer(Arc::new(issuer))
///     .build();
/// shop.accounts().create_user("admin@shop.test", "a-long-password", "Admin", Role::Admin, true).await?;
/// let api = routes(shop, ApiConfig::default());
///
/// let login = Request::builder()
///     .method(Method::POST)
///     .uri_str("/api/auth/login")
///     .content_type("application/json")
///     .body(r#"{"email": "admin@shop.test", "password": "a-long-password"}"#);
/// let answer = api.get_response(login).await;
/// assert_eq!(answer.status(), 200);
/// let body: serde_json::Value = serde_json::from_slice(&answer.into_body().into_bytes().await?)?;
/// assert!(body["access_token"].is_string());
///
/// // Errors are RFC 9457 problems.
/// let missing = api.get_response(Request::builder().uri_str("/api/products/nope").finish()).await;
/// assert_eq!(missing.status(), 404);
/// assert_eq!(missing.content_type(), Some("application/problem+json"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub fn routes(shop: Commerce, config: ApiConfig) -> impl poem::Endpoint {
    let throttle = Arc::new(auth::LoginThrottle::new(config.login));
    let counted = Arc::new(metrics::Metrics::default());
    let limiter = Arc::new(limits::ClientLimiter::new(config.clients));
    limits::share_with_other_processes(&limiter, shop.clone());
    let catalog_cache = Arc::new(cache::CatalogCache::new(config.catalog_cache));
    let open_streams = streams::OpenStreams::new(config.streams);
    // Made three times: the operations to serve, the document for the shop's currency (see
    // `document`) and the paths and methods for the edge.
    let operations = || {
        (
            catalog::CatalogApi {
                shop: shop.clone(),
                cache: catalog_cache.clone(),
            },
            accounts::AccountsApi {
                shop: shop.clone(),
                throttle: throttle.clone(),
            },
            accounts::UsersApi {
                shop: shop.clone(),
                throttle: throttle.clone(),
            },
            shopping::ShoppingApi { shop: shop.clone() },
            shopping::OrdersApi {
                shop: shop.clone(),
                shutdown: config.shutdown.clone(),
                keep_alive: config.order_events_keep_alive,
                streams: open_streams.clone(),
            },
            shopping::PaymentsApi { shop: shop.clone() },
            shopping::WishlistApi { shop: shop.clone() },
            admin::AdminApi { shop: shop.clone() },
            admin::WebhooksApi { shop: shop.clone() },
            admin::AuditApi { shop: shop.clone() },
            social::SocialSignInApi { shop: shop.clone() },
        )
    };
    let service =
        || OpenApiService::new(operations(), "commerce", env!("CARGO_PKG_VERSION")).server("/api");
    let api = service();
    let written_for = service();
    let documents = Arc::new(document::Documents::new(move |currency| {
        rules::in_currency(Some(currency), || {
            let written = written_for.spec();
            let mut spec: serde_json::Value = serde_json::from_str(&written).unwrap_or_default();
            document::state_problems(&mut spec);
            let spec = serde_json::to_string_pretty(&spec).unwrap_or_default();
            // poem-openapi's page holds the document it wrote; it is given ours instead.
            let page = written_for.swagger_ui_html().replacen(&written, &spec, 1);
            let ui = poem::endpoint::make_sync(move |_| poem::web::Html(page.clone()))
                .map_to_response()
                .boxed();
            (spec, ui)
        })
    }));
    // The paths and methods do not depend on the currency.
    let document = serde_json::from_str(&api.spec()).unwrap_or_default();
    let only_get = [poem::http::Method::GET];
    let methods = methods::MethodTable::new(
        &document,
        "/api",
        &[
            ("/openapi.json", &only_get),
            ("/docs", &only_get),
            ("/images/{key}", &only_get),
            ("/health", &only_get),
            ("/ready", &only_get),
            ("/metrics", &only_get),
            ("/admin", &only_get),
            ("/admin/", &only_get),
            ("/admin/{file}", &only_get),
        ],
    );
    let route = api_routes(operations())
        .at("/openapi.json", document::Document(documents.clone()))
        .nest("/docs", document::SwaggerUi(documents))
        .at("/images/:key", get(image))
        .at("/health", get(health))
        .at("/ready", get(ready))
        .at("/metrics", get(metrics_text));
    #[cfg(feature = "admin-app")]
    let route = route
        .at("/admin", get(admin_app::index))
        .at("/admin/", get(admin_app::index))
        .at("/admin/:file", get(admin_app::asset));
    let edge = Arc::new(edge::Edge {
        trusted_proxies: config.trusted_proxies.into(),
        metrics: counted.clone(),
        cors: cors::Cors::new(&config.cors),
        methods,
        limiter,
        shared: Arc::new(RequestShared {
            shop,
            body: config.body,
            metrics: counted,
            catalog_cache,
        }),
    });
    route.around(move |next, req| edge::edge(edge.clone(), next, req))
}

/// The API's operations at their full paths (`/api/...`), in the one routing table with the
/// server's other paths. Nested (`nest("/api", service)`), every request paid for a second
/// table: poem's nest parses the URI again without its prefix, captures the rest of the path
/// into a string and boxes one more call, and the service matched its own table after it.
fn api_routes(operations: impl poem_openapi::OpenApi) -> Route {
    let mut table = std::collections::HashMap::new();
    operations.add_routes(&mut table);
    table
        .into_iter()
        .fold(Route::new(), |route, (path, methods)| {
            let methods = methods
                .into_iter()
                .fold(poem::RouteMethod::new(), |all, (method, operation)| {
                    all.method(method, operation)
                });
            route.at(format!("/api{path}"), methods)
        })
}

/// The request's query, parsed once for the operations' query parameters: what poem-openapi's
/// own endpoint does before its table (`OpenApiService::into_endpoint`), and its parameters
/// read. Its type is poem-openapi's, public but outside its documented API; a version that
/// moves it fails to compile here rather than at run time.
pub(crate) fn parse_url_query(req: &mut poem::Request) {
    let query: Vec<(String, String)> = req.params().unwrap_or_default();
    req.extensions_mut()
        .insert(poem_openapi::__private::UrlQuery(query));
}

/// What handlers and body extractors read from the request, put on each request as one
/// handle: poem's `data` clones its value into every request's extensions (a map entry and a
/// box each), and the shop alone is some twenty handles and the engine's settings.
pub(crate) struct RequestShared {
    pub(crate) shop: Commerce,
    pub(crate) body: BodyLimits,
    pub(crate) metrics: Arc<metrics::Metrics>,
    pub(crate) catalog_cache: Arc<cache::CatalogCache>,
}

impl RequestShared {
    /// The shop serving this request (`None` outside [`routes`]).
    pub(crate) fn shop_of(req: &poem::Request) -> Option<&Commerce> {
        req.data::<Arc<RequestShared>>().map(|s| &s.shop)
    }

    /// The body limits for this request (the defaults outside [`routes`]).
    pub(crate) fn body_limits_of(req: &poem::Request) -> BodyLimits {
        req.data::<Arc<RequestShared>>()
            .map(|s| s.body)
            .unwrap_or_default()
    }
}

/// A product image, from the shop's image store: immutable under its key (the image's own
/// id), so cached for a year, and `If-None-Match` answers 304.
#[handler]
async fn image(
    req: &poem::Request,
    key: poem::web::Path<String>,
    shared: Data<&Arc<RequestShared>>,
) -> poem::Response {
    let shop = &shared.shop;
    let etag = format!("\"{}\"", key.0);
    if req.header("If-None-Match") == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    match shop.images().get(&key.0).await {
        Ok(Some((content_type, bytes))) => poem::Response::builder()
            .content_type(content_type)
            .header("ETag", etag)
            .header("Cache-Control", "public, max-age=31536000, immutable")
            .header("X-Content-Type-Options", "nosniff")
            .body(bytes),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "an image could not be read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[handler]
fn health() -> poem::web::Json<serde_json::Value> {
    poem::web::Json(serde_json::json!({"status": "ok"}))
}

/// Prometheus text format.
#[handler]
fn metrics_text(shared: Data<&Arc<RequestShared>>) -> poem::Response {
    poem::Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(shared.metrics.render_with(&shared.catalog_cache))
}

/// 200 when storage answers, else 503.
#[handler]
async fn ready(shared: Data<&Arc<RequestShared>>) -> poem::Response {
    if shared.shop.ready().await {
        poem::web::Json(serde_json::json!({"status": "ready"})).into_response()
    } else {
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    }
}
