//! The JSON shapes of the API (../shared/API.md), converted from domain values. Money is
//! always `{amount, currency}` with the amount a decimal string at the currency's scale.
//!
//! By subject: `shop` ([`MoneyJson`], the store, shipping methods), `catalog` (categories,
//! products, reviews), `accounts` (users, sessions, addresses), `orders` (carts, orders,
//! payments, checkout). All are re-exported here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use commerce_core::account::{Address, SavedAddress, User};
use commerce_core::catalog::{Category, CategoryNode, Product, Review};
use commerce_core::money::Money;
use commerce_core::order::Order;
use commerce_core::payment::Payment;
use commerce_core::ports::{Page, StoreSettings};
use commerce_core::pricing::{AppliedPromotion, RejectedPromotion};
use commerce_core::service::{CartView, Session};
use commerce_core::shipping::ShippingMethod;
use commerce_core::tax::TaxRounding;
use poem_openapi::Object;

use crate::rules::{AddressPart, Country, RequiredAddressPart, Text};
use uuid::Uuid;

mod accounts;
mod catalog;
mod orders;
mod shop;

pub use accounts::*;
pub use catalog::*;
pub use orders::*;
pub use shop::*;
