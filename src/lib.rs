//! `commerce`: an embeddable commerce engine.
//!
//! Catalog, inventory, carts priced by a real pricing engine (promotions, tax, shipping),
//! checkout that never oversells, orders with a status machine, payments and customer
//! accounts, as a library: a shop is a [`Commerce`] value, and its services are called
//! in-process. Storage, payment providers, mail, images, invoices and HTTP are adapters
//! plugged into its ports ([`ports`]), each behind a feature of this crate:
//!
//! | feature | what it adds |
//! |---|---|
//! | `sqlite` | [`sqlite`]: storage on SQLite, the embedded default |
//! | `postgres` | [`postgres`]: storage on PostgreSQL, several processes on one database |
//! | `http` | [`http`]: the REST API on Poem, with its OpenAPI document |
//! | `admin-app` | the admin web app at `/admin` |
//! | `stripe`, `paypal` | [`stripe`], [`paypal`]: payments, each with a fake provider for tests |
//! | `images`, `pdf` | [`images`]: product images in a directory; [`pdf`]: PDF invoices |
//! | `mail`, `smtp` | [`mail`]: mail as files, or through SMTP |
//! | `webhooks`, `oidc` | [`webhooks`]: webhooks to other systems; [`oidc`]: social sign-in |
//! | `mocks`, `testkit` | mockall mocks of every port; the storage conformance kit |
//!
//! `full` is all of them. Without any, the engine runs in memory: tests, demos, and a first
//! look, as below.
//!
//! # From `cargo add` to a paid order
//!
//! ```sh
//! cargo add commerce rust_decimal
//! cargo add tokio --features macros,rt-multi-thread
//! ```
//!
//! A shop with a product, a tax rate, a shipping method and a discount code; a guest's cart
//! priced to the cent; checkout; payment through the built-in test provider (which moves no
//! money); the order paid.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use commerce::account::{Address, Role};
//! use commerce::catalog::NewProduct;
//! use commerce::order::OrderStatus;
//! use commerce::promotion::PromotionDraft;
//! use commerce::service::{CartOwner, CheckoutRequest, ItemRequest};
//! use commerce::{Caller, Commerce, Currency};
//! use rust_decimal::Decimal;
//!
//! let shop = Commerce::in_memory();
//! shop.admin().initialise_store("Corner Shop", Currency::USD).await?;
//! let admin = shop.accounts().create_user("admin@corner.shop", "a-long-password", "Admin", Role::Admin, true).await?;
//! let admin = Caller::user(admin.id, admin.role);
//!
//! let kettle = shop.catalog().create_product(&admin, NewProduct {
//!     name: "Copper Kettle".into(), price: Decimal::new(1999, 2), inventory_count: 12,
//!     ..Default::default()
//! }).await?;
//! shop.admin().save_tax_rate(&admin, None, "US", Some("TX"), Decimal::new(825, 4)).await?;
//! let standard = shop.admin()
//!     .save_shipping_method(&admin, None, "Standard", Decimal::new(499, 2), None, true).await?;
//! shop.admin().create_promotion(&admin, PromotionDraft {
//!     code: Some("TENOFF".into()), kind: "percent".into(), value: Some(Decimal::TEN),
//!     ..Default::default()
//! }).await?;
//!
//! // A guest's first add makes the cart; its token names it from then on.
//! let carts = shop.carts();
//! let first = carts.add_item(&CartOwner::Guest(None),
//!     ItemRequest { product_id: kettle.id, variant_id: None, quantity: 3 }, None).await?;
//! let guest = CartOwner::Guest(first.new_guest_token);
//! carts.add_code(&guest, "tenoff", None).await?;
//!
//! let texas = Address {
//!     full_name: Some("Ada Lovelace".into()), line1: Some("1 Congress Ave".into()),
//!     city: Some("Austin".into()), region: Some("TX".into()), postal_code: Some("78701".into()),
//!     country: "US".into(), ..Default::default()
//! };
//! let checkout = carts.checkout(&Caller::Anonymous, &guest, CheckoutRequest {
//!     shipping_address: Some(texas), shipping_method: Some(standard.id),
//!     email: Some("ada@example.com".into()), ..Default::default()
//! }).await?;
//! let order = checkout.order;
//! // 59.97, less 10 % (6.00), shipping 4.99, tax 8.25 % of 53.97 (4.45).
//! assert_eq!(order.totals.total.to_string(), "63.41 USD");
//! assert_eq!(order.status, OrderStatus::Pending);
//!
//! let payment = checkout.payment.expect("the shop takes payments");
//! shop.payments().confirm(&admin, payment.id).await?;
//! assert_eq!(shop.orders().order(&admin, order.id).await?.status, OrderStatus::Paid);
//! assert_eq!(shop.catalog().product(&admin, kettle.id).await?.inventory_count, 9);
//! # Ok::<(), commerce::CommerceError>(())
//! # }).unwrap();
//! ```
//!
//! Every amount is a [`Money`]: a `rust_decimal` amount with its currency,
//! rounded at the points `PRICING.md` names; [`pricing::price`] is the engine itself, a pure
//! function. Errors are one [`CommerceError`], whose [`code`](CommerceError::code) is what the
//! HTTP API answers.
//!
//! # On SQLite (feature `sqlite`)
//!
//! One file, created and migrated on first open:
//!
//! ```
//! # #[cfg(feature = "sqlite")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use commerce::{sqlite::SqliteStore, Commerce};
//!
//! # let dir = std::env::temp_dir().join(format!("commerce-doc-{}", uuid::Uuid::new_v4().simple()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("commerce.db");
//! let store = Arc::new(SqliteStore::open(&path).await?); // such as "data/commerce.db"
//! let shop = Commerce::builder(store).test_payments().build();
//! assert!(shop.ready().await);
//! # drop(shop);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # On PostgreSQL (feature `postgres`)
//!
//! Several server processes share one database; the event bus carries each process's events
//! to the others' subscribers:
//!
//! ```no_run
//! # #[cfg(feature = "postgres")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use commerce::postgres::{PgOptions, PgStore};
//! use commerce::Commerce;
//!
//! let store = PgStore::open("postgres://shop@localhost/shop", PgOptions::default()).await?;
//! let shop = Commerce::builder(Arc::new(store.clone())).events(store.event_bus()).build();
//! # drop(shop);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Over HTTP (feature `http`)
//!
//! The REST API is an endpoint of the shop, served here on a port of loopback
//! (`examples/server/` is the whole server: settings, logs, shutdown):
//!
//! ```
//! # #[cfg(feature = "http")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::{sync::Arc, time::Duration};
//! use commerce::http::{routes, serve::serve, ApiConfig, JwtIssuer};
//! use commerce::{memory::MemoryStore, Commerce};
//!
//! let issuer = JwtIssuer::new(b"a secret of at least thirty-two bytes", JwtIssuer::DEFAULT_LIFETIME)?;
//! let shop = Commerce::builder(Arc::new(MemoryStore::new()))
//!     .test_payments()
//!     .token_issuer(Arc::new(issuer)) // for sign-in
//!     .build();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let address = listener.local_addr()?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(serve(listener, routes(shop, ApiConfig::default()),
//!     async { let _ = stopped.await; }, Duration::from_secs(5)));
//!
//! // Any HTTP client: GET /api/products answers {"items": [...], "next_cursor": ...}.
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! let mut client = tokio::net::TcpStream::connect(address).await?;
//! client.write_all(b"GET /api/products HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n").await?;
//! let mut answer = String::new();
//! client.read_to_string(&mut answer).await?;
//! assert!(answer.starts_with("HTTP/1.1 200 OK"));
//! assert!(answer.contains(r#""items":[]"#));
//!
//! stop.send(()).ok();
//! server.await??;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Payments through Stripe (feature `stripe`)
//!
//! The shop's default provider; PayPal (feature `paypal`) may be offered beside it. Both
//! crates carry a fake provider on loopback for tests: [`stripe::fake`] walks a whole payment
//! against it.
//!
//! ```
//! # #[cfg(all(feature = "stripe", feature = "paypal"))] {
//! use std::sync::Arc;
//! use commerce::paypal::{PayPalConfig, PayPalGateway};
//! use commerce::stripe::{StripeConfig, StripeGateway};
//! use commerce::{memory::MemoryStore, Commerce};
//!
//! // From the environment in a real shop.
//! let stripe = StripeGateway::new(StripeConfig::new("sk_live_...", "whsec_..."))?;
//! let paypal = PayPalGateway::new(PayPalConfig::new("client-id", "client-secret", "webhook-id"))?;
//! let shop = Commerce::builder(Arc::new(MemoryStore::new()))
//!     .gateway(Arc::new(stripe))
//!     .add_gateway(Arc::new(paypal)) // chosen with `payment_provider: "paypal"` at checkout
//!     .build();
//! assert_eq!(shop.payment_providers(), ["stripe", "paypal"]);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Webhooks reach the shop through [`Payments::receive_webhook`](service::Payments::receive_webhook)
//! (the HTTP API's `POST /api/webhooks/stripe` and `/api/webhooks/paypal`), verified before
//! anything is read from them.

#![warn(missing_docs)]
// docs.rs marks each item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use commerce_core::*;

/// Storage on SQLite (feature `sqlite`).
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use commerce_sqlite as sqlite;

/// Storage on PostgreSQL, with an event bus across processes (feature `postgres`).
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use commerce_sqlx as postgres;

/// The REST API on Poem (feature `http`).
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use commerce_http as http;

/// Payments through Stripe, and a fake Stripe for tests with its feature `fake` (feature
/// `stripe`).
#[cfg(feature = "stripe")]
#[cfg_attr(docsrs, doc(cfg(feature = "stripe")))]
pub use commerce_stripe as stripe;

/// Payments through PayPal, and a fake PayPal for tests with its feature `fake` (feature
/// `paypal`).
#[cfg(feature = "paypal")]
#[cfg_attr(docsrs, doc(cfg(feature = "paypal")))]
pub use commerce_paypal as paypal;

/// Product images as files in a local directory (feature `images`).
#[cfg(feature = "images")]
#[cfg_attr(docsrs, doc(cfg(feature = "images")))]
pub use commerce_images as images;

/// PDF invoices (feature `pdf`).
#[cfg(feature = "pdf")]
#[cfg_attr(docsrs, doc(cfg(feature = "pdf")))]
pub use commerce_pdf as pdf;

/// Mail adapters: files in a directory, SMTP with feature `smtp` (feature `mail`).
#[cfg(feature = "mail")]
#[cfg_attr(docsrs, doc(cfg(feature = "mail")))]
pub use commerce_mail as mail;

/// Outbound webhooks delivered over HTTP (feature `webhooks`).
#[cfg(feature = "webhooks")]
#[cfg_attr(docsrs, doc(cfg(feature = "webhooks")))]
pub use commerce_webhooks as webhooks;

/// Social sign-in: the OpenID Connect client and a fake provider for tests (feature `oidc`).
#[cfg(feature = "oidc")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
pub use commerce_oidc as oidc;
