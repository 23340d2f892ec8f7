//! The REST API of ../shared/API.md on Poem, as a library: [`routes`] returns an endpoint a
//! Poem app mounts. Handlers translate HTTP to the core's services and hold no business rule;
//! errors become RFC 9457 problems in one place ([`problem`]).
//!
//! This first part serves the operations endpoints and the public catalog (store, shipping
//! methods, categories, products, search) with the OpenAPI document and Swagger UI; carts,
//! checkout, accounts, orders, payments and admin follow.

mod catalog;
pub mod json;
pub mod problem;

use commerce_core::Commerce;
use poem::http::StatusCode;
use poem::{get, handler, web::Data, EndpointExt, IntoResponse, Route};
use poem_openapi::OpenApiService;

/// The whole API: `/api/...`, `/health`, `/ready`, `/openapi.json` and `/docs`.
pub fn routes(shop: Commerce) -> impl poem::Endpoint {
    let api = OpenApiService::new(
        catalog::CatalogApi { shop: shop.clone() },
        "commerce",
        env!("CARGO_PKG_VERSION"),
    )
    .server("/api");
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    Route::new()
        .nest("/api", api)
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .at("/health", get(health))
        .at("/ready", get(ready))
        .data(shop)
        .around(problem::problems)
}

#[handler]
fn health() -> poem::web::Json<serde_json::Value> {
    poem::web::Json(serde_json::json!({"status": "ok"}))
}

/// 200 when storage answers, else 503.
#[handler]
async fn ready(shop: Data<&Commerce>) -> poem::Response {
    if shop.ready().await {
        poem::web::Json(serde_json::json!({"status": "ready"})).into_response()
    } else {
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    }
}
