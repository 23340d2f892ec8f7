//! CORS, so that a storefront served from another origin can call the API from a browser.
//! Off unless origins are configured. A preflight from an allowed origin, for an allowed
//! method and allowed headers, is answered here; anything else gets no CORS headers, and
//! the browser keeps the response from the script (the server refuses nothing itself:
//! CORS protects the browser's user, not the API).

use poem::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};

/// Which origins may call the API from a browser, and with what.
#[derive(Debug, Clone)]
pub struct CorsConfig {
    /// Exact origins (`https://shop.example`), or `*` for any. Empty: CORS is off.
    pub allowed_origins: Vec<String>,
    /// Methods a script may use (default GET, HEAD, POST, PUT, PATCH, DELETE).
    pub allowed_methods: Vec<Method>,
    /// Request headers a script may send (lower-case); the CORS-safelisted ones need not be
    /// named.
    pub allowed_headers: Vec<HeaderName>,
    /// How long a browser may keep a preflight's answer.
    pub max_age: std::time::Duration,
}

impl Default for CorsConfig {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            allowed_methods: crate::methods::API_METHODS.to_vec(),
            allowed_headers: [
                "authorization",
                "content-type",
                "if-match",
                "if-none-match",
                "idempotency-key",
                "last-event-id",
                "x-cart-token",
                "x-request-id",
            ]
            .into_iter()
            .map(HeaderName::from_static)
            .collect(),
            max_age: std::time::Duration::from_secs(600),
        }
    }
}

impl CorsConfig {
    /// Parses a comma-separated list of origins; `*` alone allows any.
    pub fn origins(list: &str) -> Result<Vec<String>, String> {
        let origins: Vec<String> = list
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect();
        for o in &origins {
            let scheme_ok = o.starts_with("http://") || o.starts_with("https://");
            let host = o.split_once("://").map_or("", |(_, h)| h);
            if o != "*" && (!scheme_ok || host.is_empty() || host.contains('/')) {
                return Err(format!(
                    "`{o}` is not an origin: scheme://host[:port], such as https://shop.example, or *"
                ));
            }
        }
        Ok(origins)
    }

    /// Parses a comma-separated list of methods.
    pub fn methods(list: &str) -> Result<Vec<Method>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(|m| {
                m.to_ascii_uppercase()
                    .parse::<Method>()
                    .map_err(|_| format!("`{m}` is not an HTTP method"))
            })
            .collect()
    }

    /// Parses a comma-separated list of header names.
    pub fn headers(list: &str) -> Result<Vec<HeaderName>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| {
                HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes())
                    .map_err(|_| format!("`{h}` is not a header name"))
            })
            .collect()
    }
}

/// Response headers a script may read besides the CORS-safelisted ones.
const EXPOSED: &str = "X-Cart-Token, ETag, X-Request-Id, Retry-After, Location";

/// The configuration, with its header values built once.
pub struct Cors {
    any_origin: bool,
    origins: Vec<String>,
    methods: Vec<Method>,
    headers: Vec<HeaderName>,
    allow_methods: HeaderValue,
    allow_headers: HeaderValue,
    max_age: HeaderValue,
}

impl Cors {
    /// The policy `config` says.
    pub fn new(config: &CorsConfig) -> Self {
        let join = |items: Vec<&str>| {
            HeaderValue::from_str(&items.join(", ")).unwrap_or(HeaderValue::from_static(""))
        };
        Self {
            any_origin: config.allowed_origins.iter().any(|o| o == "*"),
            origins: config.allowed_origins.clone(),
            methods: config.allowed_methods.clone(),
            headers: config.allowed_headers.clone(),
            allow_methods: join(config.allowed_methods.iter().map(|m| m.as_str()).collect()),
            allow_headers: join(config.allowed_headers.iter().map(|h| h.as_str()).collect()),
            max_age: HeaderValue::from(config.max_age.as_secs()),
        }
    }

    /// Whether any origin is allowed (else CORS headers are never sent).
    pub fn is_on(&self) -> bool {
        !self.origins.is_empty()
    }

    /// What `Access-Control-Allow-Origin` says to `origin`, if it is allowed.
    fn allow_origin(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        if self.any_origin {
            return Some(HeaderValue::from_static("*"));
        }
        let text = origin.to_str().ok()?;
        self.origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(text))
            .then(|| origin.clone())
    }

    /// Whether a preflight asks only for what is allowed.
    fn allows(&self, req: &Request) -> bool {
        let method = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|m| m.to_str().ok())
            .and_then(|m| m.parse::<Method>().ok());
        let method_ok = method.is_some_and(|m| self.methods.contains(&m));
        let headers_ok = req
            .headers()
            .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .all(|h| self.headers.iter().any(|a| a.as_str() == h));
        method_ok && headers_ok
    }
}

/// What CORS makes of one request, before it is handled (see [`Cors::before`]).
pub(crate) enum CrossOrigin {
    /// A preflight for what is allowed: answered here, never handled.
    Answered(Response),
    /// Handled, and its answer not marked (no `Origin`, CORS off, or a refused preflight,
    /// answered as a plain `OPTIONS` so the browser stops).
    Unmarked,
    /// Handled, then marked by [`Cors::mark`] with what the origin is allowed.
    Marked(Option<HeaderValue>),
}

impl Cors {
    /// Reads the request's `Origin` (and a preflight's asks).
    pub(crate) fn before(&self, req: &Request) -> CrossOrigin {
        let origin = match req.headers().get(header::ORIGIN) {
            Some(origin) if self.is_on() => origin,
            _ => return CrossOrigin::Unmarked,
        };
        let allowed = self.allow_origin(origin);
        let preflight = req.method() == Method::OPTIONS
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        if !preflight {
            return CrossOrigin::Marked(allowed);
        }
        match allowed.filter(|_| self.allows(req)) {
            Some(allow_origin) => CrossOrigin::Answered(
                Response::builder()
                    .status(StatusCode::NO_CONTENT)
                    .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin)
                    .header(
                        header::ACCESS_CONTROL_ALLOW_METHODS,
                        self.allow_methods.clone(),
                    )
                    .header(
                        header::ACCESS_CONTROL_ALLOW_HEADERS,
                        self.allow_headers.clone(),
                    )
                    .header(header::ACCESS_CONTROL_MAX_AGE, self.max_age.clone())
                    .header(
                        header::VARY,
                        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
                    )
                    .finish(),
            ),
            None => CrossOrigin::Unmarked,
        }
    }

    /// Marks an answer to a request with an `Origin`: `Vary`, and the origin's allowance.
    pub(crate) fn mark(&self, allowed: Option<HeaderValue>, resp: &mut Response) {
        let headers = resp.headers_mut();
        if !self.any_origin {
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        if let Some(allow_origin) = allowed {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED),
            );
        }
    }
}

/// Answers preflights and marks responses to allowed origins.
pub async fn cross_origin<E: Endpoint>(
    cors: std::sync::Arc<Cors>,
    next: E,
    req: Request,
) -> poem::Result<Response> {
    match cors.before(&req) {
        CrossOrigin::Answered(resp) => Ok(resp),
        CrossOrigin::Unmarked => next.call(req).await.map(IntoResponse::into_response),
        CrossOrigin::Marked(allowed) => {
            let mut resp = match next.call(req).await {
                Ok(r) => r.into_response(),
                Err(e) => e.into_response(),
            };
            cors.mark(allowed, &mut resp);
            Ok(resp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_when_configured() {
        assert_eq!(
            CorsConfig::origins(" https://shop.example/ , http://localhost:3000").unwrap(),
            vec!["https://shop.example", "http://localhost:3000"]
        );
        assert_eq!(CorsConfig::origins("*").unwrap(), vec!["*"]);
        assert!(CorsConfig::origins("").unwrap().is_empty());
        for bad in [
            "shop.example",
            "https://",
            "https://shop.example/path",
            "ftp://x",
        ] {
            assert!(CorsConfig::origins(bad).is_err(), "{bad}");
        }
        assert!(CorsConfig::methods("get, POST").is_ok());
        assert!(CorsConfig::methods("GE T").is_err());
        assert!(CorsConfig::headers("X-Cart-Token, authorization").is_ok());
        assert!(CorsConfig::headers("bad header").is_err());
    }
}
