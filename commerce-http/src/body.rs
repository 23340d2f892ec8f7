//! JSON request bodies: a size cap that holds for chunked bodies too (413), broken JSON
//! (400 `malformed_json`), and wrong types or missing fields (422 naming the field).
//!
//! Bodies are parsed with serde (through `serde_path_to_error`, for the field's path); the
//! schema in the OpenAPI document comes from the same struct's poem-openapi `Object` derive.

use poem::http::StatusCode;
use poem::{IntoResponse, Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use tokio::io::AsyncReadExt;

use crate::problem::ApiError;

/// Limits on request bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// The most bytes of a JSON body (default 1 MiB); over it, 413.
    pub json_bytes: usize,
    /// An uploaded image's bytes at most (the multipart body may add a little framing).
    pub image_bytes: usize,
    /// How long a body may take to arrive whole, once its head has [30 s]; a slower one is
    /// 408 `request_timeout` and the connection is closed, so a client that trickles a body
    /// cannot hold a connection and a task.
    pub read_timeout: std::time::Duration,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            json_bytes: 1024 * 1024,
            image_bytes: commerce_core::service::MAX_IMAGE_BYTES,
            read_timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// An image upload: a `multipart/form-data` body whose `image` part (or `file`) holds the
/// image. Read with a cap that holds whatever the body claims (413 past it, as a problem,
/// not a dropped connection); what the file is comes from its bytes, later.
pub struct ImageUpload(pub Vec<u8>);

/// Room for the multipart framing and the other (ignored) parts around the image.
const MULTIPART_SLACK: usize = 64 * 1024;

impl Payload for ImageUpload {
    const CONTENT_TYPE: &'static str = "multipart/form-data";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(m) if m.type_() == "multipart" && m.subtype() == "form-data")
    }

    fn schema_ref() -> MetaSchemaRef {
        use poem_openapi::registry::MetaSchema;
        let file = MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary")));
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            required: vec!["image"],
            properties: vec![("image", file)],
            ..MetaSchema::new("object")
        }))
    }
}

impl ParsePayload for ImageUpload {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let limits = crate::RequestShared::body_limits_of(request);
        let cap = limits.image_bytes;
        let too_large = || {
            refuse(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("an image may be {cap} bytes at most"),
            ))
        };
        let bytes = read_capped(body, cap + MULTIPART_SLACK, limits.read_timeout)
            .await
            .map_err(|e| match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => too_large(),
                _ => e,
            })?;
        let mut parts = RequestBody::new(poem::Body::from(bytes));
        let mut form =
            <poem::web::Multipart as poem::FromRequest>::from_request(request, &mut parts)
                .await
                .map_err(|_| {
                    refuse(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad_request",
                        "the body is not multipart/form-data with a boundary",
                    ))
                })?;
        let unreadable = || {
            refuse(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "the multipart body cannot be read",
            ))
        };
        while let Some(field) = form.next_field().await.map_err(|_| unreadable())? {
            if matches!(field.name(), Some("image") | Some("file")) {
                let image = field.bytes().await.map_err(|_| unreadable())?;
                if image.len() > cap {
                    return Err(too_large());
                }
                return Ok(ImageUpload(image));
            }
        }
        Err(refuse(ApiError::validation(
            "image",
            "is required: a part named `image` holding the file",
        )))
    }
}

poem_openapi::impl_apirequest_for_payload!(ImageUpload,);

/// A JSON request body of `T`.
pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(m) if m.type_() == "application"
            && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json")))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

fn refuse(error: ApiError) -> poem::Error {
    poem::Error::from_response(error.into_response())
}

/// Reads at most `limit` bytes within `within`; one more byte means the body is too large
/// (413), and a body still arriving after `within` is 408.
pub async fn read_capped(
    body: &mut RequestBody,
    limit: usize,
    within: std::time::Duration,
) -> poem::Result<Vec<u8>> {
    let body = body.take()?;
    let mut reader = body.into_async_read().take(limit as u64 + 1);
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(within, reader.read_to_end(&mut bytes)).await;
    let Ok(read) = read else {
        let mut answer = ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "the request body did not arrive within {} seconds",
                within.as_secs()
            ),
        )
        .into_response();
        // The rest of the body may still come: the connection cannot carry another request.
        answer.headers_mut().insert(
            poem::http::header::CONNECTION,
            poem::http::HeaderValue::from_static("close"),
        );
        return Err(poem::Error::from_response(answer));
    };
    read.map_err(|_| {
        refuse(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the request body could not be read",
        ))
    })?;
    if bytes.len() > limit {
        return Err(refuse(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {limit} bytes"),
        )));
    }
    Ok(bytes)
}

/// A body kept as the bytes that were sent, for a provider's webhook: its signature is over
/// these exact bytes, checked before anything is parsed. Capped like a JSON body.
pub struct RawJson(pub Vec<u8>);

impl Payload for RawJson {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        JsonBody::<serde_json::Value>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        <poem_openapi::types::Any<serde_json::Value> as Type>::schema_ref()
    }
}

impl ParsePayload for RawJson {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let limits = crate::RequestShared::body_limits_of(request);
        Ok(RawJson(
            read_capped(body, limits.json_bytes, limits.read_timeout).await?,
        ))
    }
}

poem_openapi::impl_apirequest_for_payload!(RawJson,);

/// Parses a JSON document into `T`, with the API's errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Some(parsed) = parse_object_at_once(bytes) {
        return Ok(parsed);
    }
    // Syntax first, so that broken JSON is told apart from a wrong shape.
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        let detail = if bytes.iter().all(u8::is_ascii_whitespace) {
            "the body is empty; a JSON object is expected".to_string()
        } else {
            format!("the body is not valid JSON: {e}")
        };
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", detail)
    })?;
    // Every body of this API is an object; serde would also take an array for a struct.
    if !value.is_object() {
        return Err(ApiError::validation("body", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        // serde names a missing field only in its message: "missing field `email`".
        let field = match message.strip_prefix("missing field `") {
            Some(rest) => {
                let name = rest.trim_end_matches('`');
                if path == "." {
                    name.to_string()
                } else {
                    format!("{path}.{name}")
                }
            }
            None if path == "." => "body".to_string(),
            None => path,
        };
        let message = if message.starts_with("missing field") {
            "is required".to_string()
        } else {
            message
        };
        ApiError::validation(&field, message)
    })
}

/// A body that is a JSON object of `T`'s shape, read straight into `T`; `None` for anything
/// else, which [`parse_json`] reads again to say what is wrong. Through a `serde_json::Value`
/// every body was read twice: a sixteenth of the server's instructions per order (callgrind,
/// 2026-12-07).
fn parse_object_at_once<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let parsed = T::deserialize(&mut reader).ok()?;
    reader.end().ok()?;
    Some(parsed)
}

impl<T: Type + DeserializeOwned + Send> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let limits = crate::RequestShared::body_limits_of(request);
        let bytes = read_capped(body, limits.json_bytes, limits.read_timeout).await?;
        let currency = match crate::RequestShared::shop_of(request) {
            Some(shop) => Some(
                shop.settings()
                    .await
                    .map_err(|e| refuse(e.into()))?
                    .currency,
            ),
            None => None,
        };
        crate::rules::in_currency(currency, || parse_json(&bytes))
            .map(JsonBody)
            .map_err(refuse)
    }
}

poem_openapi::impl_apirequest_for_payload!(JsonBody<T>, T: Type + DeserializeOwned + Send);

/// A field that can be absent (keep), `null` (clear) or a value (set): PUT bodies.
pub fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A JSON response written straight from the value with serde (one pass, no intermediate
/// `serde_json::Value` tree, which cost a third of the CPU of a product listing in
/// allocations). The OpenAPI schema is still the value's poem-openapi one; a test checks
/// that real responses match it.
pub struct Reply<T>(pub T);

impl<T: Type> Payload for Reply<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + serde::Serialize + Send> poem::IntoResponse for Reply<T> {
    fn into_response(self) -> poem::Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => poem::Response::builder()
                .content_type(<Self as Payload>::CONTENT_TYPE)
                .body(bytes),
            Err(e) => {
                tracing::error!(error = %e, "a response could not be encoded");
                poem::Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .finish()
            }
        }
    }
}

/// A 200 response of one JSON shape, as the OpenAPI document shows it.
pub(crate) fn json_response_meta(
    content_type: &'static str,
    schema: MetaSchemaRef,
) -> poem_openapi::registry::MetaResponses {
    poem_openapi::registry::MetaResponses {
        responses: vec![poem_openapi::registry::MetaResponse {
            description: "",
            status: Some(200),
            status_range: None,
            content: vec![poem_openapi::registry::MetaMediaType {
                content_type,
                schema,
            }],
            headers: vec![],
        }],
    }
}

impl<T: Type + serde::Serialize + Send> poem_openapi::ApiResponse for Reply<T> {
    fn meta() -> poem_openapi::registry::MetaResponses {
        json_response_meta(<Self as Payload>::CONTENT_TYPE, Self::schema_ref())
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Line {
        quantity: u32,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Order {
        email: String,
        items: Vec<Line>,
        #[serde(default)]
        price: Option<crate::rules::Amount>,
    }

    fn field_of(e: ApiError) -> (u16, String, String) {
        let ApiError::Problem(status, p) = e else {
            panic!("not a plain problem: {e:?}")
        };
        let field = p
            .errors
            .clone()
            .and_then(|e| e.first().map(|f| f.field.clone()))
            .unwrap_or_default();
        (status.as_u16(), p.code.clone(), field)
    }

    #[test]
    fn a_body_of_the_right_shape_is_read_at_once_and_anything_else_is_left_to_the_old_way() {
        let at_once =
            parse_object_at_once::<Order>(br#" {"email": "a", "items": [{"quantity": 2}]}"#);
        assert_eq!(at_once.map(|o| o.items[0].quantity), Some(2));
        for refused in [
            &br#"{"email": "a", "items": []} x"#[..],
            br#"{"email": "a", "items": [], "email": "b"}"#,
            br#"{"items": []}"#,
            b"[]",
            b"",
        ] {
            assert!(parse_object_at_once::<Order>(refused).is_none());
        }
    }

    #[test]
    fn broken_json_is_400_and_wrong_shapes_are_422_with_the_field() {
        let e = parse_json::<Order>(b"{\"email\": ").unwrap_err();
        assert_eq!(field_of(e).0, 400);
        let e = parse_json::<Order>(b"{\"items\": []}").unwrap_err();
        assert_eq!(
            field_of(e),
            (422, "validation_failed".into(), "email".into())
        );
        let e = parse_json::<Order>(br#"{"email": "a", "items": [{"quantity": -1}]}"#).unwrap_err();
        assert_eq!(field_of(e).2, "items[0].quantity");
        let e = parse_json::<Order>(br#"{"email": "a", "items": [{}]}"#).unwrap_err();
        assert_eq!(field_of(e).2, "items[0].quantity");
        let e = parse_json::<Order>(b"[]").unwrap_err();
        assert_eq!(field_of(e).2, "body");
        // Read at once or read again, a body means the same: trailing text is broken JSON,
        // and a field given twice is its last value, as before the one-pass reading.
        let e = parse_json::<Order>(br#"{"email": "a", "items": []} x"#).unwrap_err();
        assert_eq!(field_of(e).1, "malformed_json");
        let twice = parse_json::<Order>(br#"{"email": "a", "items": [], "email": "b"}"#).unwrap();
        assert_eq!(twice.email, "b");
        let spaced =
            parse_json::<Order>(b" \n{\"email\": \"a\", \"items\": [{\"quantity\": 2}]} \n");
        assert_eq!(spaced.unwrap().items[0].quantity, 2);
    }

    #[test]
    fn amounts_are_exact_from_strings_numbers_and_money_objects() {
        use crate::rules::in_currency;
        use commerce_core::money::Currency;
        let usd = Some(Currency::USD);
        let price = |body: &str| {
            let json = format!(r#"{{"email": "a", "items": [], "price": {body}}}"#);
            in_currency(usd, || parse_json::<Order>(json.as_bytes()))
        };
        for (body, want) in [
            (r#""19.99""#, "19.99"),
            ("19.99", "19.99"),
            ("0.1", "0.1"),
            ("1e2", "100"),
            ("999999999999.99", "999999999999.99"),
            (r#""1000000000000.00""#, "1000000000000.00"),
            (r#"{"amount": "5.10", "currency": "USD"}"#, "5.10"),
            (r#"{"amount": "5", "currency": "usd"}"#, "5"),
            (r#"{"amount": 5.1}"#, "5.1"),
        ] {
            let order = price(body).unwrap_or_else(|e| panic!("{body}: {e:?}"));
            assert_eq!(order.price.unwrap().0.to_string(), want, "{body}");
        }
        for refused in [
            r#""abc""#,
            r#""""#,
            r#"" 5""#,
            r#""5.001""#,
            r#""-1""#,
            "-1",
            "0.001",
            r#""1000000000000.01""#,
            "1000000000001",
            r#""05""#,
            r#"{"amount": "5", "currency": "EUR"}"#,
            r#"{"amount": "5", "currency": 1}"#,
            r#"{"currency": "USD"}"#,
            "true",
        ] {
            let e = price(refused).unwrap_err();
            assert_eq!(field_of(e).2, "price", "{refused}");
        }
        // Without a shop, any currency's decimals (up to 4).
        let json = r#"{"email": "a", "items": [], "price": "1.2345"}"#;
        assert!(parse_json::<Order>(json.as_bytes()).is_ok());
    }
}
