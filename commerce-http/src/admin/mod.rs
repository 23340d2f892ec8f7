//! Admin operations: the dashboard, users, orders, product approval, discounts, tax rates,
//! shipping methods, the store's settings and the sales report. Each needs role admin, or
//! manager for the day-to-day ones (orders, product approval, discounts, the dashboard and the
//! report); the services check it (README: who may do what).
//!
//! - here: the API, its tag and the responses its operations share;
//! - `operations`: every admin operation;
//! - the shapes and bodies by subject: `dashboard`, `discounts`, `settings` (tax rates,
//!   shipping methods, the store), `users`, `orders`, `reviews`; each says which values of
//!   its enums a client may send (`Choices`); `webhooks` (outbound webhooks: its own API,
//!   `WebhooksApi`); `audit` (the audit log: its own API, `AuditApi`).

use chrono::{DateTime, Utc};
use commerce_core::account::Role;
use commerce_core::catalog::{ProductStatus, ReviewStatus};
use commerce_core::ids::{
    OrderId, ProductId, PromotionId, ReviewId, ShippingMethodId, TaxRateId, UserId,
};
use commerce_core::money::{Currency, Money};
use commerce_core::order::OrderStatus;
use commerce_core::ports::UserFilter;
use commerce_core::promotion::{AppliesTo, Promotion, PromotionClass, PromotionDraft};
use commerce_core::service::{Dashboard, ProductListing, StoreChanges};
use commerce_core::tax::{TaxRate, TaxRounding};
use commerce_core::{Commerce, PromotionKind};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::PlainText;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::BearerAuth;
use crate::body::{JsonBody, Reply};
use crate::catalog::page;
use crate::catalog::{product_response, ProductResponse};
use crate::common::{Choice, Choices, Limit, MaybeWord, PathId, Word};
use crate::json::ParcelAddressBody;
use crate::json::{
    MoneyJson, OrderJson, OrderPageJson, ProductJson, ProductPageJson, ReviewJson, ReviewPageJson,
    ShippingMethodJson, StoreJson, UserJson, UserPageJson,
};
use crate::problem::ApiError;
use crate::rules::{
    AddressPart, Amount, Count, Country, Day, DiscountCode, Fraction, Name, OrderNumber,
    PositiveAmount, Text,
};

mod audit;
mod dashboard;
mod discounts;
mod operations;
mod orders;
mod reviews;
mod settings;
mod users;
mod webhooks;

pub use audit::*;
pub use dashboard::*;
pub use discounts::*;
pub use orders::*;
pub use reviews::*;
pub use settings::*;
pub use users::*;
pub use webhooks::*;

#[derive(Tags)]
pub enum AdminTags {
    /// Running the shop (roles admin and manager; see each operation).
    Admin,
}

pub struct AdminApi {
    pub shop: Commerce,
}

#[derive(ApiResponse)]
pub enum Created<T: poem_openapi::types::Type + serde::Serialize + Send> {
    #[oai(status = 201)]
    Created(Reply<T>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
pub enum Deleted {
    #[oai(status = 204)]
    Deleted,
}

#[derive(ApiResponse)]
pub enum CsvReport {
    /// One row per day: `date,orders,revenue,currency`.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Csv(PlainText<String>),
}

impl AdminApi {
    async fn currency(&self) -> Result<Currency, ApiError> {
        Ok(self.shop.settings().await?.currency)
    }
}
