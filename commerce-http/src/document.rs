//! The OpenAPI document (`/openapi.json`) and its Swagger UI (`/docs`), written for the
//! shop's currency: an amount's decimals in a request are the currency's (2 for USD, 0 for
//! JPY), so the document can only be written once the currency is known, which takes a read
//! of the settings. It is written on the first request and kept; the currency is chosen once
//! per shop, and a different one (an embedder who set it up after serving) writes it again.

use std::sync::{Arc, Mutex};

use commerce_core::money::Currency;
use commerce_core::Commerce;
use poem::endpoint::BoxEndpoint;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::problem::ApiError;

/// The document and its UI for one currency.
pub struct Written {
    currency: Currency,
    document: String,
    ui: BoxEndpoint<'static>,
}

type Write = dyn Fn(Currency) -> (String, BoxEndpoint<'static>) + Send + Sync;

/// The OpenAPI document and its Swagger UI, written once per shop currency (amount examples
/// and patterns follow its decimals) and kept.
pub struct Documents {
    write: Box<Write>,
    written: Mutex<Option<Arc<Written>>>,
}

impl Documents {
    /// `write` writes the document and its UI while the shop's currency is `Currency`.
    pub fn new(
        write: impl Fn(Currency) -> (String, BoxEndpoint<'static>) + Send + Sync + 'static,
    ) -> Self {
        Documents {
            write: Box::new(write),
            written: Mutex::new(None),
        }
    }

    async fn for_shop(&self, shop: Option<&Commerce>) -> Result<Arc<Written>, ApiError> {
        let currency = match shop {
            Some(shop) => shop.settings().await?.currency,
            None => commerce_core::service::EngineConfig::default().default_currency,
        };
        let kept = self
            .written
            .lock()
            .ok()
            .and_then(|w| w.clone())
            .filter(|w| w.currency == currency);
        if let Some(written) = kept {
            return Ok(written);
        }
        let (document, ui) = (self.write)(currency);
        let written = Arc::new(Written {
            currency,
            document,
            ui,
        });
        if let Ok(mut slot) = self.written.lock() {
            *slot = Some(written.clone());
        }
        Ok(written)
    }
}

/// `GET /openapi.json`.
pub struct Document(pub Arc<Documents>);

impl Endpoint for Document {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        match self.0.for_shop(crate::RequestShared::shop_of(&req)).await {
            Ok(written) => Ok(Response::builder()
                .content_type("application/json; charset=utf-8")
                .body(written.document.clone())),
            Err(e) => Ok(e.into_response()),
        }
    }
}

/// `/docs`: Swagger UI over the same document.
pub struct SwaggerUi(pub Arc<Documents>);

impl Endpoint for SwaggerUi {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        match self.0.for_shop(crate::RequestShared::shop_of(&req)).await {
            Ok(written) => written.ui.call(req).await,
            Err(e) => Ok(e.into_response()),
        }
    }
}

/// Operations that answer 401 or 404 for what their body or query names (credentials, a
/// mailed token, an order or payment by id, a category filter), or a webhook with no
/// provider set up: what their shape cannot show.
const NAMED_BY_BODY_OR_QUERY: &[(&str, &str, &[&str])] = &[
    ("post", "/auth/login", &["401"]),
    ("post", "/users/login", &["401"]),
    ("post", "/auth/refresh", &["401"]),
    ("post", "/auth/verify-email", &["401"]),
    ("post", "/auth/reset-password", &["401"]),
    ("post", "/payments/create-intent", &["404"]),
    ("post", "/payments", &["404"]),
    ("post", "/payments/confirm", &["404"]),
    ("post", "/payment/checkout", &["404"]),
    ("post", "/webhooks/stripe", &["404"]),
    ("post", "/webhooks/paypal", &["404"]),
    ("post", "/payment/webhook", &["404"]),
    ("get", "/products", &["404"]),
    ("post", "/auth/oauth/{provider}/callback", &["401"]),
];

/// poem-openapi writes a stream of events as an array of them; before OpenAPI 3.2 the
/// schema of a `text/event-stream` response describes one event, as it arrives: `id`,
/// `event` and `data` (the JSON of the item, as a string).
fn event_stream_as_events(response: &mut serde_json::Value) {
    use serde_json::json;
    let Some(media) = response
        .get_mut("content")
        .and_then(|c| c.get_mut("text/event-stream"))
    else {
        return;
    };
    let Some(schema) = media.get("schema") else {
        return;
    };
    if schema.get("format").and_then(|f| f.as_str()) != Some("event-stream") {
        return;
    }
    let item = schema.get("items").cloned().unwrap_or(json!({}));
    media["schema"] = json!({
        "type": "object",
        "required": ["data"],
        "properties": {
            "id": {"type": "string", "description": "Send it back as `Last-Event-ID` to resume after it."},
            "event": {"type": "string"},
            "data": {
                "type": "string",
                "description": "The item as JSON.",
                "contentMediaType": "application/json",
                "contentSchema": item
            },
            "retry": {"type": "integer"}
        }
    });
}

/// The problems an operation can answer with, written into each operation of the document
/// from what the operation takes: a body can be malformed, too large, of the wrong type or
/// break a rule; a required sign-in can be missing or lack the role; an id in the path can
/// name nothing; `If-Match` can be stale; a change can conflict with the current state. The
/// same reasons give the same statuses in every operation, so they follow from its shape.
/// (poem-openapi knows one error type for all operations, which it can only write as
/// `default`.)
pub fn state_problems(document: &mut serde_json::Value) {
    use serde_json::{json, Value};
    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let path = path.as_str();
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let parameters: Vec<(String, String)> = operation
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| {
                    let field =
                        |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    (field("in"), field("name"))
                })
                .collect();
            let security: Vec<Value> = operation
                .get("security")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let signed_in_only = !security.is_empty()
                && security
                    .iter()
                    .all(|s| s.as_object().is_some_and(|o| !o.is_empty()));
            let has_body = operation.get("requestBody").is_some();
            let mut statuses: Vec<(&str, &str)> = Vec::new();
            if has_body {
                statuses.push(("400", "The body cannot be read: not valid JSON (`malformed_json`) or a broken multipart body (`bad_request`)."));
                statuses.push((
                    "413",
                    "The body is larger than the operation takes (`payload_too_large`).",
                ));
                statuses.push(("415", "The body is not of a content type the operation takes (`unsupported_media_type`)."));
            }
            let named = NAMED_BY_BODY_OR_QUERY
                .iter()
                .find(|(m, p, _)| *m == method && *p == path)
                .map_or(&[][..], |(_, _, statuses)| *statuses);
            if !security.is_empty() || named.contains(&"401") {
                statuses.push(("401", "Not signed in: the access token, or the credentials or token in the body, are missing, wrong, expired or used up (`unauthenticated`, `invalid_credentials`, `invalid_token`)."));
            }
            if signed_in_only {
                statuses.push(("403", "Signed in, but this account may not do this (`forbidden`, `account_disabled`)."));
            }
            if parameters.iter().any(|(place, _)| place == "path") || named.contains(&"404") {
                statuses.push(("404", "Nothing has this id (in the path, or named in the body or query), or not for this caller; a webhook with no provider set up (`not_found`)."));
            }
            if method != "get" {
                statuses.push(("409", "The change conflicts with the current state: `invalid_transition`, `out_of_stock`, a taken email, slug or code, an `Idempotency-Key` reused or in use, and the like."));
            }
            if parameters
                .iter()
                .any(|(place, name)| place == "header" && name.eq_ignore_ascii_case("if-match"))
            {
                statuses.push((
                    "412",
                    "`If-Match` names another version than the current one (`version_mismatch`).",
                ));
            }
            if has_body
                || parameters
                    .iter()
                    .any(|(place, _)| place == "query" || place == "header")
            {
                statuses.push(("422", "A field or parameter breaks a rule (`validation_failed`; `errors` names each field), or names something that does not exist."));
            }
            for response in operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
                .into_iter()
                .flat_map(|r| r.values_mut())
            {
                event_stream_as_events(response);
            }
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            let documented_default = responses.remove("default").is_some();
            if !documented_default {
                continue;
            }
            for (status, description) in statuses {
                responses
                    .entry(status.to_string())
                    .or_insert_with(|| problem(description));
            }
        }
    }
}
