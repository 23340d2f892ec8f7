//! The admin web app (feature `admin-app`), served at `/admin`: plain HTML, CSS and
//! JavaScript modules embedded in the binary (no build step, no CDN: the machine serving it
//! may be offline), over the same REST API as every other client. A strict
//! Content-Security-Policy allows only this origin's scripts, styles, images and API calls,
//! and no inline script or style at all.

use std::hash::{DefaultHasher, Hash, Hasher};

use poem::http::StatusCode;
use poem::web::Path;
use poem::{handler, IntoResponse, Request, Response};

/// What the app's pages may load and call.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

const INDEX: &str = include_str!("../admin/index.html");

/// The app's files by name, with their types.
const FILES: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../admin/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../admin/api.js"),
    ),
    (
        "admin.css",
        "text/css; charset=utf-8",
        include_str!("../admin/admin.css"),
    ),
];

/// A file's ETag: its content's hash (the same binary serves the same files).
fn etag(body: &str) -> String {
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    format!("\"{:016x}\"", hasher.finish())
}

/// A file, revalidated on each load (`no-cache` with an ETag: an upgraded server's app is
/// picked up at once, an unchanged one costs a 304).
fn file(req: &Request, content_type: &str, body: &'static str) -> Response {
    let tag = etag(body);
    if req.header("If-None-Match") == Some(tag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    Response::builder()
        .content_type(content_type)
        .header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .header("X-Content-Type-Options", "nosniff")
        .header("X-Frame-Options", "DENY")
        .header("Referrer-Policy", "no-referrer")
        .header("Cache-Control", "no-cache")
        .header("ETag", tag)
        .body(body)
}

/// `GET /admin`: the app's page.
#[handler]
pub fn index(req: &Request) -> Response {
    file(req, "text/html; charset=utf-8", INDEX)
}

/// `GET /admin/{file}`: its scripts and styles; 404 for any other name.
#[handler]
pub fn asset(req: &Request, name: Path<String>) -> Response {
    match FILES.iter().find(|(file_name, _, _)| *file_name == name.0) {
        Some((_, content_type, body)) => file(req, content_type, body),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_nothing_inline_and_only_its_own_files() {
        // Everything the page names is served, and it has no inline script or style
        // (which the policy would block).
        for (name, _, _) in FILES {
            if name.ends_with(".js") && *name != "app.js" {
                continue; // imported by app.js
            }
            assert!(INDEX.contains(&format!("/admin/{name}")), "{name}");
        }
        assert!(!INDEX.contains("<script>") && !INDEX.contains("style="));
        assert!(!INDEX.contains("http://") && !INDEX.contains("https://"));
        for (name, _, body) in FILES {
            assert!(
                !body.contains("innerHTML"),
                "{name} writes markup from strings"
            );
            assert!(
                !body.contains("localStorage"),
                "{name} keeps something in localStorage"
            );
            assert!(!body.contains("eval("), "{name}");
        }
        // The sign-in form's inputs are named as API.md says.
        let app = FILES[0].2;
        assert!(app.contains(r#"name: "email""#) && app.contains(r#"name: "password""#));
    }
}
