//! Which methods each path answers, so that a `405` says them in `Allow` (RFC 9110 §15.5.6)
//! and `OPTIONS` on a path answers `204` with them. The table is read from the OpenAPI
//! document the operations generate, plus the few routes outside it: one source, nothing to
//! keep in step by hand.

use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};

/// One path template (`/api/products/{id}`) and the methods it answers.
struct PathMethods {
    /// `None` for a `{parameter}` segment.
    segments: Vec<Option<String>>,
    allow: HeaderValue,
}

/// Every path template of the API and what it answers.
pub struct MethodTable {
    paths: Vec<PathMethods>,
}

impl MethodTable {
    /// From an OpenAPI document (its `paths`, under `prefix`), plus routes it does not hold.
    pub fn new(document: &serde_json::Value, prefix: &str, others: &[(&str, &[Method])]) -> Self {
        let mut found: Vec<(String, Vec<Method>)> = Vec::new();
        if let Some(paths) = document.get("paths").and_then(|p| p.as_object()) {
            for (path, operations) in paths {
                let methods = operations
                    .as_object()
                    .map(|ops| {
                        ops.keys()
                            .filter_map(|m| m.to_ascii_uppercase().parse::<Method>().ok())
                            .collect()
                    })
                    .unwrap_or_default();
                found.push((format!("{prefix}{path}"), methods));
            }
        }
        for (path, methods) in others {
            found.push((path.to_string(), methods.to_vec()));
        }
        let paths = found
            .into_iter()
            .map(|(path, methods)| PathMethods {
                segments: path
                    .split('/')
                    .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
                    .collect(),
                allow: allow_header(&methods),
            })
            .collect();
        Self { paths }
    }

    /// What `path` answers, from the template that routes it: where templates overlap
    /// (`/api/products/search` and `/api/products/{id}`), a literal segment wins, as in the
    /// router.
    pub fn allow(&self, path: &str) -> Option<&HeaderValue> {
        let segments: Vec<&str> = path.split('/').collect();
        self.paths
            .iter()
            .filter(|p| {
                p.segments.len() == segments.len()
                    && p.segments.iter().zip(&segments).all(|(t, s)| match t {
                        Some(t) => t == s,
                        None => !s.is_empty(),
                    })
            })
            .max_by_key(|p| p.segments.iter().map(|s| s.is_some()).collect::<Vec<_>>())
            .map(|p| &p.allow)
    }
}

/// The methods the API's operations use, in the order `Allow` lists them (`OPTIONS`, which
/// every known path answers, comes last).
pub const API_METHODS: [Method; 6] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// `GET, HEAD, POST, OPTIONS`: what was found, `HEAD` beside `GET` (answered as a `GET`
/// without its body), and `OPTIONS`.
fn allow_header(methods: &[Method]) -> HeaderValue {
    let order = API_METHODS.iter().chain([Method::OPTIONS].iter());
    let answered = |m: &Method| {
        methods.contains(m)
            || (*m == Method::HEAD && methods.contains(&Method::GET))
            || *m == Method::OPTIONS
    };
    let list: Vec<&str> = order.filter(|m| answered(m)).map(|m| m.as_str()).collect();
    HeaderValue::from_str(&list.join(", ")).unwrap_or(HeaderValue::from_static("OPTIONS"))
}

impl MethodTable {
    /// `204` with `Allow` for `OPTIONS` on a known path; `None` for anything else.
    pub(crate) fn answer_options(&self, req: &Request) -> Option<Response> {
        if req.method() != Method::OPTIONS {
            return None;
        }
        self.allow(req.uri().path()).map(|allow| {
            Response::builder()
                .status(StatusCode::NO_CONTENT)
                .header(header::ALLOW, allow.clone())
                .finish()
        })
    }

    /// Adds `Allow` to a `405` for `path`. The table is searched only then, not on every
    /// request.
    pub(crate) fn add_allow(&self, path: &str, resp: &mut Response) {
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
            if let Some(allow) = self.allow(path) {
                resp.headers_mut().insert(header::ALLOW, allow.clone());
            }
        }
    }
}

/// Answers `OPTIONS` on a known path with `204` and `Allow`, and adds `Allow` to every `405`.
pub async fn answer_methods<E: Endpoint>(
    table: std::sync::Arc<MethodTable>,
    next: E,
    req: Request,
) -> poem::Result<Response> {
    if let Some(answer) = table.answer_options(&req) {
        return Ok(answer);
    }
    // The URI is kept (a reference count) to look the path up after the call.
    let uri = req.uri().clone();
    let mut resp = match next.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    table.add_allow(uri.path(), &mut resp);
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_segment_wins_over_a_parameter_and_head_goes_with_get() {
        let document = serde_json::json!({"paths": {
            "/products": {"get": {}, "post": {}},
            "/products/{id}": {"get": {}, "put": {}, "delete": {}},
            "/products/search": {"get": {}},
        }});
        let table = MethodTable::new(&document, "/api", &[("/health", &[Method::GET])]);
        let allow = |p: &str| table.allow(p).map(|v| v.to_str().unwrap().to_string());
        assert_eq!(
            allow("/api/products").as_deref(),
            Some("GET, HEAD, POST, OPTIONS")
        );
        assert_eq!(
            allow("/api/products/abc").as_deref(),
            Some("GET, HEAD, PUT, DELETE, OPTIONS")
        );
        assert_eq!(
            allow("/api/products/search").as_deref(),
            Some("GET, HEAD, OPTIONS")
        );
        assert_eq!(allow("/health").as_deref(), Some("GET, HEAD, OPTIONS"));
        assert_eq!(allow("/api/products/abc/more"), None);
        assert_eq!(allow("/api/products/"), None);
        assert_eq!(allow("/nothing"), None);
    }
}
