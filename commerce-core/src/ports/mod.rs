//! Ports: the traits adapters implement. Storage has one port per aggregate plus the atomic
//! `place_order`; the rest are the payment provider, mail, password hashing, access tokens,
//! events, images, the clock and ids. All are object safe (`Arc<dyn Port>`), so a server picks
//! SQLite or PostgreSQL at run time, and each has a mockall mock behind feature `mocks`.
//!
//! One module each: `storage` (what every storage port shares: [`StorageError`], [`UniqueRule`],
//! [`Reference`], [`Page`]), `catalog`, `orders` (carts, orders, payments), `accounts`, `setup`
//! (promotions, settings), `requests` (idempotency keys, client rates), `payment_gateway`,
//! `mail`, `credentials` (password hashing, access tokens), `events`, `images`, `clock`
//! (time and ids), `webhooks` (endpoints, deliveries and the outbox's fan-out; sending), `audit` (the audit log), `wishlists`, `social` (sign-in flows and provider identities). All are re-exported here.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::{OneTimeToken, RefreshToken, Role, SavedAddress, TokenPurpose, User};
use crate::cart::Cart;
use crate::catalog::{Category, Product, ProductStatus, Review, ReviewStatus};
use crate::events::DomainEvent;
use crate::ids::*;
pub use crate::inventory::StockMovement;
use crate::money::Money;
use crate::order::{Order, OrderStatus};
use crate::outbox::ChangeRecord;
use crate::payment::{Payment, PaymentStatus, ProviderEvent};
use crate::promotion::Promotion;
use crate::shipping::ShippingMethod;
use crate::stock_alert::{DueStockAlert, StockAlert};
use crate::tax::{TaxPolicy, TaxRate};

mod accounts;
mod audit;
mod catalog;
mod clock;
mod credentials;
mod events;
mod identity_provider;
mod images;
mod mail;
mod orders;
mod payment_gateway;
mod requests;
mod setup;
mod social;
mod storage;
mod webhooks;
mod wishlists;

pub use accounts::*;
pub use audit::*;
pub use catalog::*;
pub use clock::*;
pub use credentials::*;
pub use events::*;
pub use identity_provider::*;
pub use images::*;
pub use mail::*;
pub use orders::*;
pub use payment_gateway::*;
pub use requests::*;
pub use setup::*;
pub use social::*;
pub use storage::*;
pub use webhooks::*;
pub use wishlists::*;
