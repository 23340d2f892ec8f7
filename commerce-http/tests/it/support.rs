//! The server under test: the real routes on 127.0.0.1 over a temporary database (SQLite,
//! or PostgreSQL in the `it_postgres` binary), with JWT tokens and mail written to a
//! temporary directory.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use commerce_core::account::Role;
use commerce_core::catalog::{NewProduct, Product};
use commerce_core::{Caller, Commerce};
use commerce_http::{ApiConfig, JwtIssuer};
use commerce_mail::FileMailer;
use commerce_sqlite::SqliteStore;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::Value;

pub const ADMIN_EMAIL: &str = "admin@shop.test";
pub const PASSWORD: &str = "a-long-password";

pub struct Server {
    pub base: String,
    pub shop: Commerce,
    pub admin: Caller,
    pub http: reqwest::Client,
    pub mail_dir: PathBuf,
    /// Stops the webhook relay when the server goes (started by `start_with_webhooks`).
    relay_stop: Option<tokio::sync::watch::Sender<bool>>,
}

pub async fn start() -> Server {
    start_with(ApiConfig::default()).await
}

/// Which storage the binary's tests run on (each binary names one, so the other is unused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A shop's builder over a fresh, empty database of the binary's backend.
pub async fn fresh_storage() -> commerce_core::service::CommerceBuilder {
    match crate::BACKEND {
        Backend::Sqlite => Commerce::builder(Arc::new(
            SqliteStore::open_temporary()
                .await
                .expect("a temporary database"),
        )),
        Backend::Postgres => {
            let url = std::env::var("COMMERCE_TEST_DATABASE_URL")
                .expect("COMMERCE_TEST_DATABASE_URL names a PostgreSQL server");
            let options = commerce_sqlx::PgOptions {
                max_connections: 8,
                ..Default::default()
            };
            let store = commerce_sqlx::PgStore::open_temporary(&url, options)
                .await
                .expect("a temporary database");
            Commerce::builder(Arc::new(store.clone())).events(store.event_bus())
        }
    }
}

pub async fn start_with(config: ApiConfig) -> Server {
    start_shop(config, |builder| builder).await
}

/// The server over a shop whose currency is `code` (`JPY`: no decimals).
#[allow(dead_code)]
pub async fn start_in_currency(code: &str) -> Server {
    let currency = commerce_core::money::Currency::from_code(code).expect("a known currency");
    start_shop(ApiConfig::default(), |builder| {
        builder.config(commerce_core::service::EngineConfig {
            default_currency: currency,
            ..Default::default()
        })
    })
    .await
}

/// The server with webhooks delivered over HTTP to loopback receivers, retried after the
/// waits given, its relay running.
#[allow(dead_code)]
pub async fn start_with_webhooks(retries: &[Duration]) -> Server {
    let retries = commerce_core::webhook::RetrySchedule::new(retries.to_vec()).expect("waits");
    let sender = commerce_webhooks::HttpWebhookSender::new(commerce_webhooks::SenderOptions {
        timeout: Duration::from_secs(5),
        allow_private: true,
    })
    .expect("a webhook sender");
    let key = commerce_core::webhook_signing::SealingKey::from_bytes(&[7u8; 32]).unwrap();
    let server = start_shop(ApiConfig::default(), |builder| {
        builder
            .config(commerce_core::service::EngineConfig {
                webhooks: commerce_core::service::WebhookRelayConfig {
                    retries,
                    allow_private_targets: true,
                    poll_every: Duration::from_millis(200),
                    ..Default::default()
                },
                ..Default::default()
            })
            .webhook_sender(Arc::new(sender))
            .sealing_key(key)
    })
    .await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut server = server;
    server.shop.spawn_webhook_relay(stopped);
    server.relay_stop = Some(stop);
    server
}

/// The server offering sign-in with the provider `fake` at `issuer` (a `FakeProvider`).
#[allow(dead_code)]
pub async fn start_with_sign_in(issuer: &str, client_id: &str, secret: &str) -> Server {
    let client = commerce_oidc::OidcClient::new(commerce_oidc::ProviderSettings {
        name: "fake".into(),
        display_name: "Fake ID".into(),
        issuer: issuer.to_string(),
        client_id: client_id.to_string(),
        client_secret: secret.to_string(),
        scopes: Vec::new(),
    })
    .expect("a client of the fake provider");
    start_shop(ApiConfig::default(), |builder| {
        builder.identity_provider(Arc::new(client))
    })
    .await
}

/// The server with these payment providers, the first the default, in a shop whose currency
/// is `code`.
#[allow(dead_code)]
pub async fn start_with_gateways(
    code: &str,
    gateways: Vec<Arc<dyn commerce_core::ports::PaymentGateway>>,
) -> Server {
    let currency = commerce_core::money::Currency::from_code(code).expect("a known currency");
    start_shop(ApiConfig::default(), |builder| {
        let mut gateways = gateways.into_iter();
        let builder = match gateways.next() {
            Some(first) => builder.gateway(first),
            None => builder,
        };
        gateways.fold(builder, |b, g| b.add_gateway(g)).config(
            commerce_core::service::EngineConfig {
                default_currency: currency,
                ..Default::default()
            },
        )
    })
    .await
}

/// The server with another payment provider than the built-in test one.
#[allow(dead_code)]
pub async fn start_with_gateway(gateway: Arc<dyn commerce_core::ports::PaymentGateway>) -> Server {
    start_shop(ApiConfig::default(), |builder| builder.gateway(gateway)).await
}

async fn start_shop(
    config: ApiConfig,
    adapt: impl FnOnce(
        commerce_core::service::CommerceBuilder,
    ) -> commerce_core::service::CommerceBuilder,
) -> Server {
    let mail_dir = std::env::temp_dir().join(format!("commerce-it-mail-{}", uuid::Uuid::new_v4()));
    let image_dir = mail_dir.join("images");
    let shop = adapt(fresh_storage().await.test_payments())
        .images(Arc::new(
            commerce_images::DirImageStore::new(&image_dir, "/images").unwrap(),
        ))
        .invoices(Arc::new(commerce_pdf::PdfInvoices::new()))
        .token_issuer(Arc::new(
            JwtIssuer::new(&[42u8; 32], JwtIssuer::DEFAULT_LIFETIME).unwrap(),
        ))
        .mailer(Arc::new(
            FileMailer::new(&mail_dir, "shop@shop.test").unwrap(),
        ))
        .build();
    let admin = shop
        .accounts()
        .create_user(ADMIN_EMAIL, PASSWORD, "Admin", Role::Admin, true)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("a socket address");
    // As the example server serves it.
    tokio::spawn(commerce_http::serve::serve(
        listener,
        commerce_http::routes(shop.clone(), config),
        std::future::pending(),
        std::time::Duration::ZERO,
    ));
    Server {
        base: format!("http://{addr}"),
        shop,
        admin: Caller::user(admin.id, admin.role),
        http: client(),
        mail_dir,
        relay_stop: None,
    }
}

impl Drop for Server {
    /// The mail written for this test goes with it.
    fn drop(&mut self) {
        if let Some(stop) = &self.relay_stop {
            let _ = stop.send(true);
        }
        let _ = std::fs::remove_dir_all(&self.mail_dir);
    }
}

/// An HTTP client. Stripe's adapter, in this build, leaves reqwest without a TLS provider
/// of its own; it sets ring for the process (commerce_stripe::install_tls_provider).
pub fn client() -> reqwest::Client {
    commerce_stripe::install_tls_provider();
    reqwest::Client::new()
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, and for errors a complete problem with this code.
    #[track_caller]
    pub fn expect(&self, status: StatusCode, code: Option<&str>) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        if let Some(code) = code {
            assert_problem(self.status, &self.headers, &self.body, code);
        }
        &self.body
    }
}

/// A request being built: a bearer token, a guest cart token, headers, a body.
pub struct Call {
    request: reqwest::RequestBuilder,
}

impl Call {
    pub fn token(mut self, token: &str) -> Self {
        self.request = self.request.bearer_auth(token);
        self
    }

    pub fn cart(mut self, token: Option<&str>) -> Self {
        if let Some(t) = token {
            self.request = self.request.header("X-Cart-Token", t);
        }
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.request = self.request.json(&body);
        self
    }

    /// A raw body with this content type.
    pub fn raw(mut self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        self.request = self.request.header("content-type", content_type).body(body);
        self
    }

    pub async fn send(self) -> Reply {
        let resp = self.request.send().await.expect("a response");
        let (status, headers) = (resp.status(), resp.headers().clone());
        let text = resp.text().await.expect("a body");
        Reply {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }
}

impl Server {
    pub fn call(&self, method: Method, path: &str) -> Call {
        Call {
            request: self.http.request(method, format!("{}{path}", self.base)),
        }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, HeaderMap, Value) {
        let r = self.call(Method::GET, path).send().await;
        (r.status, r.headers, r.body)
    }

    /// A GET with a bearer token.
    #[allow(dead_code)]
    pub async fn get_as(&self, token: &str, path: &str) -> (StatusCode, HeaderMap, Value) {
        let r = self.call(Method::GET, path).token(token).send().await;
        (r.status, r.headers, r.body)
    }

    pub async fn product(&self, name: &str, price: Decimal, stock: u32) -> Product {
        self.shop
            .catalog()
            .create_product(
                &self.admin,
                NewProduct {
                    name: name.into(),
                    price,
                    inventory_count: stock,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    }

    /// A signed-in customer buys `quantity` of `product`: into the cart, then checked out to
    /// the Texas address. The checkout's answer (`order`, `payment`).
    pub async fn buy(&self, customer: &str, product: &Product, quantity: u32) -> Value {
        self.call(Method::POST, "/api/cart/items")
            .token(customer)
            .json(serde_json::json!({"product_id": product.id.to_string(), "quantity": quantity}))
            .send()
            .await
            .expect(StatusCode::CREATED, None);
        let address: Value = serde_json::from_str(crate::shopping::TEXAS).unwrap();
        self.call(Method::POST, "/api/cart/checkout")
            .token(customer)
            .json(serde_json::json!({"shipping_address": address}))
            .send()
            .await
            .expect(StatusCode::CREATED, None)
            .clone()
    }

    /// Signs in through the API and returns the access token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self
            .call(Method::POST, "/api/auth/login")
            .json(serde_json::json!({"email": email, "password": password}))
            .send()
            .await;
        r.expect(StatusCode::OK, None)["access_token"]
            .as_str()
            .expect("an access token")
            .to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, PASSWORD).await
    }

    /// Registers a customer through the API and signs in.
    pub async fn customer(&self, email: &str) -> String {
        self.call(Method::POST, "/api/auth/register")
            .json(
                serde_json::json!({"email": email, "password": PASSWORD, "full_name": "Ana Lima"}),
            )
            .send()
            .await
            .expect(StatusCode::CREATED, None);
        self.login(email, PASSWORD).await
    }

    /// A user of another role, made through the admin API.
    pub async fn user_with_role(&self, email: &str, role: &str) -> String {
        let token = self.customer(email).await;
        let me = self
            .call(Method::GET, "/api/users/profile")
            .token(&token)
            .send()
            .await;
        let id = me.body["id"].as_str().unwrap().to_string();
        let admin = self.admin_token().await;
        self.call(Method::PUT, &format!("/api/admin/users/{id}"))
            .token(&admin)
            .json(serde_json::json!({"role": role}))
            .send()
            .await
            .expect(StatusCode::OK, None);
        // The role change ended the old token.
        self.login(email, PASSWORD).await
    }

    /// The token in the newest mail to `to` with this subject, waiting briefly for mail sent
    /// after the answer (password resets).
    pub async fn mailed_token(&self, to: &str, subject: &str) -> String {
        for _ in 0..100 {
            let mut found: Vec<(PathBuf, String)> = std::fs::read_dir(&self.mail_dir)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
                        .filter(|(_, t)| {
                            t.contains(&format!("To: {to}\r\n"))
                                && t.contains(&format!("Subject: {subject}\r\n"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            found.sort();
            if let Some((_, text)) = found.last() {
                return text
                    .split_whitespace()
                    .find(|w| w.len() == 64 && w.chars().all(|c| c.is_ascii_hexdigit()))
                    .expect("a token in the mail")
                    .to_string();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no mail to {to} about {subject}");
    }
}

/// Every problem carries all six members, as clients rely on.
#[track_caller]
pub fn assert_problem(status: StatusCode, headers: &HeaderMap, body: &Value, code: &str) {
    assert_eq!(
        headers["content-type"], "application/problem+json",
        "{body}"
    );
    for member in ["type", "title", "status", "detail", "code", "request_id"] {
        assert!(
            body.get(member).is_some(),
            "problem without {member}: {body}"
        );
    }
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(
        body["request_id"],
        headers["x-request-id"].to_str().unwrap()
    );
}
