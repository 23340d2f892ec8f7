//! `commerce`: an embeddable commerce engine.
//!
//! This facade re-exports [`commerce_core`] (the domain, the pricing engine, ports, services
//! and in-memory adapters) and, behind features, the adapters: `sqlite`, `postgres`, `http`,
//! `stripe`, `paypal`, `images`, `pdf`, `mail`, `smtp`, `webhooks` and `oidc` (`full` is all
//! of them). Features `mocks`
//! (mockall mocks of every port) and `testkit` (the storage conformance kit) are for
//! embedders' own tests.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use commerce::service::{CartOwner, ItemRequest};
//! use commerce::{account::Role, catalog::NewProduct, Caller, Commerce};
//! use rust_decimal::Decimal;
//!
//! let shop = Commerce::in_memory();
//! let admin = shop.accounts().create_user("admin@shop.test", "a-long-password", "Admin", Role::Admin, true).await?;
//! let admin = Caller::user(admin.id, admin.role);
//! let mug = shop.catalog().create_product(&admin, NewProduct {
//!     name: "Mug".into(), price: Decimal::new(1250, 2), inventory_count: 10, ..Default::default()
//! }).await?;
//! let cart = shop.carts().add_item(&CartOwner::Guest(None),
//!     ItemRequest { product_id: mug.id, variant_id: None, quantity: 2 }, None).await?;
//! assert_eq!(cart.priced.total.to_string(), "25.00 USD");
//! # Ok::<(), commerce::CommerceError>(())
//! # }).unwrap();
//! ```

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
