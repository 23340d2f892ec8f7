//! The commerce domain: money, catalog, inventory, carts and their pricing engine, orders,
//! payments and accounts, the ports adapters plug into, and the services that embedders and
//! the HTTP layer call. No I/O dependency: storage, payment providers, mail and HTTP live in
//! adapter crates.
//!
//! A map of the crate:
//! - [`money`]: exact amounts in one currency, named rounding, largest-remainder allocation.
//! - [`pricing`]: the pure pricing engine of PRICING.md, and its explanation.
//! - [`promotion`], [`tax`], [`shipping`]: what the engine prices with.
//! - [`catalog`], [`inventory`], [`cart`], [`order`], [`payment`], [`account`]: the aggregates and their rules;
//!   [`stock_alert`]: shoppers waiting for a product to come back; [`wishlist`]: customers'
//!   products to buy later; [`social`]: sign-ins with OpenID Connect providers.
//! - [`events`]: what services publish after a change; [`invoice`]: what an invoice shows.
//! - [`ports`]: the traits adapters implement; [`memory`]: in-memory adapters of all of them;
//!   [`cursor`]: the page cursors storage adapters hand out.
//! - [`service`]: the use cases ([`Commerce`] and what it hands out), the sweeper of unpaid
//!   orders and old carts.
//! - [`ids`]: typed ids; [`limits`]: the bounds every input is held to; [`validation`]: field
//!   errors and the text checks; [`passwords`]: the Argon2 hasher.
//! - [`webhook`]: outbound webhook endpoints, their events, retries and allowed targets;
//!   [`webhook_signing`]: deliveries signed (and verified) per Standard Webhooks 1.0.
//! - [`audit`]: the audit log of staff changes and sign-ins, and where a request came from.
//! - `testkit` (feature `testkit`): the storage conformance kit every adapter runs.

#![warn(missing_docs)]
// docs.rs marks each item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod account;
pub mod audit;
pub mod cart;
pub mod catalog;
pub mod cursor;
pub mod events;
pub mod ids;
pub mod inventory;
pub mod invoice;
pub mod limits;
pub mod memory;
pub mod money;
pub mod order;
pub mod outbox;
pub mod passwords;
pub mod payment;
pub mod ports;
pub mod pricing;
pub mod promotion;
pub mod service;
pub mod shipping;
pub mod social;
pub mod stock_alert;
pub mod tax;
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;
pub mod validation;
pub mod webhook;
pub mod webhook_signing;
pub mod wishlist;

pub use ids::*;
pub use money::{Currency, Money, MoneyError, Rounding};
pub use pricing::{
    price, PricedCart, PricingContext, PricingError, PricingLine, PricingRequest, RejectionReason,
};
pub use promotion::{Promotion, PromotionClass, PromotionKind};
pub use service::{Caller, Commerce, CommerceError};
pub use validation::{FieldError, ValidationErrors};
