//! Product images: multipart upload, told by their bytes, capped, served with cache headers,
//! removed with their product.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;

use crate::support::{start, Server};

/// The smallest real PNG: one transparent pixel.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// A `multipart/form-data` body with one file part: its content type and bytes.
fn form(part: &str, filename: &str, declared: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("commerce-{}", uuid::Uuid::new_v4().simple());
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nignored\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"{filename}\"\r\n\
         Content-Type: {declared}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    s: &Server,
    token: &str,
    product: &str,
    body: (String, Vec<u8>),
) -> crate::support::Reply {
    s.call(Method::POST, &format!("/api/products/{product}/images"))
        .token(token)
        .raw(&body.0, body.1)
        .send()
        .await
}

fn files(s: &Server) -> usize {
    std::fs::read_dir(s.mail_dir.join("images"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn an_image_is_uploaded_served_cached_and_removed_with_its_product() {
    let s = start().await;
    let admin = s.admin_token().await;
    let lamp = s.product("Lamp", Decimal::new(3000, 2), 5).await;
    let id = lamp.id.to_string();
    // Called anything by the client: what counts is the bytes.
    let created = upload(
        &s,
        &admin,
        &id,
        form("image", "../../etc/passwd", "text/plain", PNG),
    )
    .await;
    let image = created.expect(StatusCode::CREATED, None).clone();
    let url = image["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with("/images/") && url.ends_with(".png"),
        "{url}"
    );
    assert!(!url.contains("passwd"), "names never come from the client");
    assert_eq!(created.header("location"), Some(url.as_str()));
    assert_eq!(files(&s), 1);
    let product = s
        .call(Method::GET, &format!("/api/products/{id}"))
        .send()
        .await;
    assert_eq!(product.body["images"][0]["url"], url.as_str());

    let served = s.call(Method::GET, &url).send().await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header("content-type"), Some("image/png"));
    assert_eq!(
        served.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let etag = served.header("etag").unwrap().to_string();
    let again = s
        .call(Method::GET, &url)
        .header("If-None-Match", &etag)
        .send()
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    // Deleting the image removes its file; deleting the product removes the rest.
    let image_id = image["id"].as_str().unwrap();
    s.call(
        Method::DELETE,
        &format!("/api/products/{id}/images/{image_id}"),
    )
    .token(&admin)
    .send()
    .await
    .expect(StatusCode::NO_CONTENT, None);
    assert_eq!(files(&s), 0);
    assert_eq!(
        s.call(Method::GET, &url).send().await.status,
        StatusCode::NOT_FOUND
    );
    upload(&s, &admin, &id, form("file", "a.png", "image/png", PNG))
        .await
        .expect(StatusCode::CREATED, None);
    assert_eq!(files(&s), 1);
    s.call(Method::DELETE, &format!("/api/products/{id}"))
        .token(&admin)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT, None);
    assert_eq!(files(&s), 0);
}

#[tokio::test]
async fn what_is_not_an_image_or_too_large_or_not_theirs_is_refused() {
    let s = start().await;
    let admin = s.admin_token().await;
    let lamp = s.product("Lamp", Decimal::new(3000, 2), 5).await;
    let id = lamp.id.to_string();
    // A text file named x.png.
    upload(
        &s,
        &admin,
        &id,
        form("image", "x.png", "image/png", b"just some text"),
    )
    .await
    .expect(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Some("unsupported_media_type"),
    );
    // Eleven MiB: a problem, not a dropped connection.
    let mut huge = PNG.to_vec();
    huge.resize(11 * 1024 * 1024, 0);
    upload(
        &s,
        &admin,
        &id,
        form("image", "big.png", "image/png", &huge),
    )
    .await
    .expect(StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"));
    // No part named image.
    upload(&s, &admin, &id, form("picture", "a.png", "image/png", PNG))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    // Not multipart at all.
    s.call(Method::POST, &format!("/api/products/{id}/images"))
        .token(&admin)
        .raw("image/png", PNG.to_vec())
        .send()
        .await
        .expect(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type"),
        );
    // Only its vendor or an admin.
    let customer = s.customer("ana@example.com").await;
    let refused = upload(&s, &customer, &id, form("image", "a.png", "image/png", PNG)).await;
    assert!(
        matches!(
            refused.status,
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
        ),
        "{}",
        refused.text
    );
    s.call(Method::POST, &format!("/api/products/{id}/images"))
        .raw("image/png", PNG.to_vec())
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    assert_eq!(files(&s), 0, "nothing refused was kept");
    // Keys that are not images' never reach the disk.
    for path in [
        "/images/..%2Fsecret.png",
        "/images/x.txt",
        "/images/a.png..",
    ] {
        assert_eq!(
            s.call(Method::GET, path).send().await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}
