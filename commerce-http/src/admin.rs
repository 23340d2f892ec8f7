//! Admin operations: the dashboard, users, orders, product approval, discounts, tax rates,
//! shipping methods, the store's settings and the sales report. Every one needs role admin
//! (the services check it).

use chrono::{DateTime, Utc};
use commerce_core::account::Role;
use commerce_core::catalog::ReviewStatus;
use commerce_core::ids::{
    OrderId, ProductId, PromotionId, ReviewId, ShippingMethodId, TaxRateId, UserId,
};
use commerce_core::money::{Currency, Money};
use commerce_core::order::OrderStatus;
use commerce_core::ports::UserFilter;
use commerce_core::promotion::{AppliesTo, Promotion, PromotionClass, PromotionDraft};
use commerce_core::service::{Dashboard, StoreChanges};
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
    money, MoneyJson, OrderJson, OrderPageJson, ProductJson, ReviewJson, ShippingMethodJson,
    StoreJson, UserJson, UserPageJson,
};
use crate::problem::ApiError;
use crate::rules::{
    AddressPart, Amount, Count, Country, Day, DiscountCode, Fraction, Name, PositiveAmount, Text,
};

#[derive(Tags)]
pub enum AdminTags {
    /// Running the shop (role admin).
    Admin,
}

pub struct AdminApi {
    pub shop: Commerce,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "OrdersByStatus")]
pub struct StatusCountJson {
    pub status: String,
    pub count: u64,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "TopProduct")]
pub struct TopProductJson {
    pub product_id: Uuid,
    pub name: String,
    pub units: u64,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "Dashboard")]
pub struct DashboardJson {
    /// Orders paid and not cancelled or refunded.
    pub revenue: MoneyJson,
    pub orders_by_status: Vec<StatusCountJson>,
    pub orders_today: u32,
    /// Best sellers by units over the last 30 days.
    pub top_products: Vec<TopProductJson>,
    /// Active products at or under their low-stock threshold, lowest first.
    pub low_stock: Vec<ProductJson>,
}

impl DashboardJson {
    fn new(d: Dashboard) -> Self {
        Self {
            revenue: d.revenue.into(),
            orders_by_status: d
                .orders_by_status
                .into_iter()
                .map(|(s, count)| StatusCountJson {
                    status: s.as_str().to_string(),
                    count,
                })
                .collect(),
            orders_today: d.orders_today,
            top_products: d
                .top_products
                .into_iter()
                .map(|(id, name, units)| TopProductJson {
                    product_id: id.as_uuid(),
                    name,
                    units,
                })
                .collect(),
            low_stock: d.low_stock.into_iter().map(ProductJson::new).collect(),
        }
    }
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "AppliesTo")]
pub struct AppliesToJson {
    pub product_ids: Vec<Uuid>,
    pub category_ids: Vec<Uuid>,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "Discount")]
pub struct DiscountJson {
    pub id: Uuid,
    /// Null for an automatic promotion.
    #[oai(nullable)]
    pub code: Option<String>,
    /// `percent`, `fixed`, `buy_x_get_y` or `free_shipping`.
    pub kind: String,
    /// Percent ("10" = 10 %) or a fixed amount in the shop currency; null for the others.
    #[oai(nullable)]
    pub value: Option<String>,
    #[oai(nullable)]
    pub buy_quantity: Option<u32>,
    #[oai(nullable)]
    pub get_quantity: Option<u32>,
    /// `product`, `order` or `shipping`.
    pub class: String,
    pub combines_with: Vec<String>,
    pub applies_to: AppliesToJson,
    #[oai(nullable)]
    pub min_subtotal: Option<MoneyJson>,
    #[oai(nullable)]
    pub starts_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub ends_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub usage_limit: Option<u32>,
    #[oai(nullable)]
    pub per_customer_limit: Option<u32>,
    pub used_count: u32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DiscountJson {
    fn new(p: Promotion, currency: Currency) -> Self {
        let (value, buy_quantity, get_quantity) = match p.kind {
            PromotionKind::Percent { value } => (Some(value.normalize().to_string()), None, None),
            PromotionKind::Fixed { value } => (Some(money(value, currency).amount), None, None),
            PromotionKind::BuyXGetY { buy, get } => (None, Some(buy), Some(get)),
            PromotionKind::FreeShipping => (None, None, None),
        };
        Self {
            id: p.id.as_uuid(),
            code: p.code,
            kind: p.kind.name().to_string(),
            value,
            buy_quantity,
            get_quantity,
            class: p.class.name().to_string(),
            combines_with: p
                .combines_with
                .iter()
                .map(|c| c.name().to_string())
                .collect(),
            applies_to: AppliesToJson {
                product_ids: p
                    .applies_to
                    .product_ids
                    .iter()
                    .map(|i| i.as_uuid())
                    .collect(),
                category_ids: p
                    .applies_to
                    .category_ids
                    .iter()
                    .map(|i| i.as_uuid())
                    .collect(),
            },
            min_subtotal: p.min_subtotal.map(|m| money(m, currency)),
            starts_at: p.starts_at,
            ends_at: p.ends_at,
            usage_limit: p.usage_limit,
            per_customer_limit: p.per_customer_limit,
            used_count: p.used_count,
            active: p.active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "DiscountPage")]
pub struct DiscountPageJson {
    pub items: Vec<DiscountJson>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object, Deserialize, Default)]
pub struct AppliesToBody {
    #[serde(default)]
    #[oai(default)]
    pub product_ids: Vec<Uuid>,
    #[serde(default)]
    #[oai(default)]
    pub category_ids: Vec<Uuid>,
}

/// A kind of promotion, by its name in the core (`promotion::KINDS`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiscountKind(&'static str);

impl Choices for DiscountKind {
    const NAME: &'static str = "discount_kind";
    fn all() -> Vec<(&'static str, Self)> {
        commerce_core::promotion::KINDS
            .iter()
            .map(|k| (*k, DiscountKind(k)))
            .collect()
    }
}

impl Choices for TaxRounding {
    const NAME: &'static str = "tax_rounding";
    fn all() -> Vec<(&'static str, Self)> {
        TaxRounding::ALL.iter().map(|r| (r.as_str(), *r)).collect()
    }
}

impl Choices for PromotionClass {
    const NAME: &'static str = "promotion_class";
    fn all() -> Vec<(&'static str, Self)> {
        PromotionClass::ALL.iter().map(|c| (c.name(), *c)).collect()
    }
}

/// A discount code or automatic promotion. Only `kind` is required, and `value` for
/// percent and fixed; no `code` makes it automatic. Rules across fields (PRICING.md): a
/// percent `value` is 0 to 100 with at most 4 decimals, a fixed one an amount;
/// `buy_x_get_y` needs `buy_quantity` and `get_quantity` (together at most 10,000) and is
/// class `product`; `free_shipping` is class `shipping`; `ends_at` is after `starts_at`.
#[derive(Debug, Object, Deserialize)]
pub struct DiscountBody {
    #[serde(default)]
    #[oai(nullable)]
    pub code: Option<Text<DiscountCode>>,
    pub kind: Word<DiscountKind>,
    /// Percent ("10" = 10 %) or an amount in the shop currency (string, number or money).
    #[serde(default)]
    #[oai(nullable)]
    pub value: Option<Amount>,
    #[serde(default)]
    #[oai(nullable)]
    pub buy_quantity: Option<Count<1, { commerce_core::limits::MAX_BUY_AND_GET_UNITS }>>,
    #[serde(default)]
    #[oai(nullable)]
    pub get_quantity: Option<Count<1, { commerce_core::limits::MAX_BUY_AND_GET_UNITS }>>,
    /// Defaults by kind (PRICING.md).
    #[serde(default)]
    pub class: MaybeWord<PromotionClass>,
    #[serde(default)]
    #[oai(default)]
    pub combines_with: Vec<Word<PromotionClass>>,
    #[serde(default)]
    #[oai(default)]
    pub applies_to: AppliesToBody,
    #[serde(default)]
    #[oai(nullable)]
    pub min_subtotal: Option<Amount>,
    #[serde(default)]
    #[oai(nullable)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[oai(nullable)]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[oai(nullable)]
    pub usage_limit: Option<Count<0, { u32::MAX }>>,
    #[serde(default)]
    #[oai(nullable)]
    pub per_customer_limit: Option<Count<1, { u32::MAX }>>,
    #[serde(default)]
    #[oai(nullable)]
    pub active: Option<bool>,
}

impl DiscountBody {
    fn into_draft(self) -> PromotionDraft {
        PromotionDraft {
            code: self.code.map(Text::into_string),
            kind: self.kind.0 .0.to_string(),
            value: self.value.map(|v| v.0),
            buy_quantity: self.buy_quantity.map(|q| q.0),
            get_quantity: self.get_quantity.map(|q| q.0),
            class: self.class.0,
            combines_with: self.combines_with.into_iter().map(|c| c.0).collect(),
            applies_to: AppliesTo {
                product_ids: self
                    .applies_to
                    .product_ids
                    .into_iter()
                    .map(Into::into)
                    .collect(),
                category_ids: self
                    .applies_to
                    .category_ids
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            },
            min_subtotal: self.min_subtotal.map(|m| m.0),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            usage_limit: self.usage_limit.map(|l| l.0),
            per_customer_limit: self.per_customer_limit.map(|l| l.0),
            active: self.active,
        }
    }
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "TaxRate")]
pub struct TaxRateJson {
    pub id: Uuid,
    pub country: String,
    /// Null for the whole country.
    #[oai(nullable)]
    pub region: Option<String>,
    /// A fraction as a string: "0.0825" is 8.25 %.
    pub rate: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<TaxRate> for TaxRateJson {
    fn from(t: TaxRate) -> Self {
        Self {
            id: t.id.as_uuid(),
            country: t.country,
            region: t.region,
            rate: t.rate.normalize().to_string(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Object, Deserialize)]
pub struct TaxRateBody {
    pub country: Text<Country>,
    /// The whole country when absent, `null` or empty.
    #[serde(default)]
    #[oai(nullable)]
    pub region: Option<Text<AddressPart>>,
    pub rate: Fraction,
}

#[derive(Debug, Object, Deserialize)]
pub struct ShippingMethodBody {
    pub name: Text<Name>,
    pub price: Amount,
    /// Free for subtotals at or above this.
    #[serde(default)]
    #[oai(nullable)]
    pub free_above: Option<Amount>,
    #[serde(default = "yes")]
    #[oai(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Object, Deserialize)]
pub struct StoreBody {
    #[serde(default)]
    #[oai(nullable)]
    pub name: Option<Text<Name>>,
    #[serde(default)]
    #[oai(nullable)]
    pub prices_include_tax: Option<bool>,
    /// Tax rounded per line or once per order (PRICING.md).
    #[serde(default)]
    pub tax_rounding: MaybeWord<TaxRounding>,
    #[serde(default)]
    #[oai(nullable)]
    pub tax_shipping: Option<bool>,
    /// The shop's own address, shown on invoices (a full postal address).
    #[serde(default)]
    #[oai(nullable)]
    pub address: Option<ParcelAddressBody>,
}

#[derive(Debug, Object, Deserialize)]
pub struct UserChangesBody {
    #[serde(default)]
    pub role: MaybeWord<Role>,
    #[serde(default)]
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

#[derive(Debug, Object, Deserialize)]
pub struct OrderStatusBody {
    pub status: Word<OrderStatus>,
}

#[derive(Debug, Object, Deserialize)]
pub struct ReviewStatusBody {
    pub status: Word<ReviewStatus>,
}

impl Choices for OrderStatus {
    const NAME: &'static str = "order_status";
    fn all() -> Vec<(&'static str, Self)> {
        OrderStatus::ALL.iter().map(|s| (s.as_str(), *s)).collect()
    }
}

impl Choices for ReviewStatus {
    const NAME: &'static str = "review_status";
    fn all() -> Vec<(&'static str, Self)> {
        ReviewStatus::ALL.iter().map(|s| (s.as_str(), *s)).collect()
    }
}

impl Choices for Role {
    const NAME: &'static str = "role";
    fn all() -> Vec<(&'static str, Self)> {
        Role::ALL.iter().map(|r| (r.as_str(), *r)).collect()
    }
}

#[derive(Debug, Object, Deserialize, Default)]
pub struct RefundBody {
    /// Part of the captured amount, above zero; the whole when absent.
    #[serde(default)]
    #[oai(nullable)]
    pub amount: Option<PositiveAmount>,
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

#[OpenApi(tag = "AdminTags::Admin")]
impl AdminApi {
    /// Revenue, orders by status, today's orders, best sellers and low stock.
    #[oai(path = "/admin/dashboard", method = "get")]
    async fn dashboard(&self, auth: BearerAuth) -> Result<Reply<DashboardJson>, ApiError> {
        let dashboard = self.shop.admin().dashboard(&auth.0).await?;
        Ok(Reply(DashboardJson::new(dashboard)))
    }

    /// Users, filtered by `role` and by `q` (email or name).
    #[oai(path = "/admin/users", method = "get")]
    async fn users(
        &self,
        auth: BearerAuth,
        role: Query<Option<Choice<Role>>>,
        q: Query<Option<String>>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<UserPageJson>, ApiError> {
        let filter = UserFilter {
            role: role.0.and_then(|r| r.0),
            text: q.0.filter(|t| !t.trim().is_empty()),
            page: page(limit.0, cursor.0),
        };
        let found = self.shop.accounts().list_users(&auth.0, filter).await?;
        Ok(Reply(UserPageJson {
            items: found.items.into_iter().map(Into::into).collect(),
            next_cursor: found.next_cursor,
        }))
    }

    /// Changes a user's role or active flag; their tokens stop working at once.
    #[oai(path = "/admin/users/:id", method = "put")]
    async fn update_user(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<UserChangesBody>,
    ) -> Result<Reply<UserJson>, ApiError> {
        let id: UserId = id.0.parse("user")?;
        let b = body.0;
        let role = b.role.0;
        let user = self
            .shop
            .accounts()
            .admin_update_user(&auth.0, id, role, b.is_active)
            .await?;
        Ok(Reply(user.into()))
    }

    /// All orders, newest first, filtered by `status`.
    #[oai(path = "/admin/orders", method = "get")]
    async fn orders(
        &self,
        auth: BearerAuth,
        status: Query<Option<Choice<OrderStatus>>>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<OrderPageJson>, ApiError> {
        let status = status.0.and_then(|s| s.0);
        let found = self
            .shop
            .orders()
            .all_orders(&auth.0, status, page(limit.0, cursor.0))
            .await?;
        Ok(Reply(found.into()))
    }

    /// Moves an order along the status machine; 409 `invalid_transition` otherwise.
    #[oai(path = "/admin/orders/:id/status", method = "put")]
    async fn set_status(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<OrderStatusBody>,
    ) -> Result<Reply<OrderJson>, ApiError> {
        let id: OrderId = id.0.parse("order")?;
        let status = body.0.status.0;
        let order = self.shop.orders().set_status(&auth.0, id, status).await?;
        Ok(Reply(order.into()))
    }

    /// Seed 004's path of `PUT /api/admin/orders/{id}/status` (admins): the same operation.
    #[oai(path = "/orders/:id/status", method = "put", deprecated)]
    async fn set_order_status(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<OrderStatusBody>,
    ) -> Result<Reply<OrderJson>, ApiError> {
        self.set_status(auth, id, body).await
    }

    /// Refunds through the payment provider: the whole captured amount, or `amount` of it.
    #[oai(path = "/admin/orders/:id/refund", method = "post")]
    async fn refund(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<RefundBody>,
    ) -> Result<Reply<OrderJson>, ApiError> {
        let id: OrderId = id.0.parse("order")?;
        let currency = self.currency().await?;
        let amount = body
            .0
            .amount
            .map(|a| {
                Money::new(a.0, currency).map_err(|e| ApiError::validation("amount", e.to_string()))
            })
            .transpose()?;
        let order = self.shop.orders().refund(&auth.0, id, amount).await?;
        Ok(Reply(order.into()))
    }

    /// `pending_approval → active`.
    #[oai(path = "/admin/products/:id/approve", method = "put")]
    async fn approve(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<ProductResponse, ApiError> {
        let id: ProductId = id.0.parse("product")?;
        let product = self.shop.catalog().approve_product(&auth.0, id).await?;
        product_response(product)
    }

    /// Moderates a review: `approved`, `rejected` (hidden) or `pending`. Reviews by buyers
    /// are approved when written; the product's rating follows.
    #[oai(path = "/admin/reviews/:id", method = "put")]
    async fn moderate_review(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<ReviewStatusBody>,
    ) -> Result<Reply<ReviewJson>, ApiError> {
        let id: ReviewId = id.0.parse("review")?;
        let status = body.0.status.0;
        let review = self
            .shop
            .catalog()
            .moderate_review(&auth.0, id, status)
            .await?;
        Ok(Reply(review.into()))
    }

    /// Discount codes and automatic promotions, newest first.
    #[oai(path = "/admin/discounts", method = "get")]
    async fn discounts(
        &self,
        auth: BearerAuth,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<DiscountPageJson>, ApiError> {
        let found = self
            .shop
            .admin()
            .promotions(&auth.0, page(limit.0, cursor.0))
            .await?;
        let currency = self.currency().await?;
        Ok(Reply(DiscountPageJson {
            items: found
                .items
                .into_iter()
                .map(|p| DiscountJson::new(p, currency))
                .collect(),
            next_cursor: found.next_cursor,
        }))
    }

    #[oai(path = "/admin/discounts/:id", method = "get")]
    async fn discount(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Reply<DiscountJson>, ApiError> {
        let id: PromotionId = id.0.parse("discount")?;
        let found = self.shop.admin().promotion(&auth.0, id).await?;
        Ok(Reply(DiscountJson::new(found, self.currency().await?)))
    }

    #[oai(path = "/admin/discounts", method = "post")]
    async fn create_discount(
        &self,
        auth: BearerAuth,
        body: JsonBody<DiscountBody>,
    ) -> Result<Created<DiscountJson>, ApiError> {
        let draft = body.0.into_draft();
        let created = self.shop.admin().create_promotion(&auth.0, draft).await?;
        let location = format!("/api/admin/discounts/{}", created.id);
        Ok(Created::Created(
            Reply(DiscountJson::new(created, self.currency().await?)),
            location,
        ))
    }

    /// Replaces a discount (its usage count is kept).
    #[oai(path = "/admin/discounts/:id", method = "put")]
    async fn update_discount(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<DiscountBody>,
    ) -> Result<Reply<DiscountJson>, ApiError> {
        let id: PromotionId = id.0.parse("discount")?;
        let draft = body.0.into_draft();
        let updated = self
            .shop
            .admin()
            .update_promotion(&auth.0, id, draft)
            .await?;
        Ok(Reply(DiscountJson::new(updated, self.currency().await?)))
    }

    #[oai(path = "/admin/discounts/:id", method = "delete")]
    async fn delete_discount(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Deleted, ApiError> {
        let id: PromotionId = id.0.parse("discount")?;
        self.shop.admin().delete_promotion(&auth.0, id).await?;
        Ok(Deleted::Deleted)
    }

    #[oai(path = "/admin/tax-rates", method = "get")]
    async fn tax_rates(&self, auth: BearerAuth) -> Result<Reply<Vec<TaxRateJson>>, ApiError> {
        let rates = self.shop.admin().tax_rates(&auth.0).await?;
        Ok(Reply(rates.into_iter().map(Into::into).collect()))
    }

    /// A rate for a country or one of its regions; the most specific match wins.
    #[oai(path = "/admin/tax-rates", method = "post")]
    async fn create_tax_rate(
        &self,
        auth: BearerAuth,
        body: JsonBody<TaxRateBody>,
    ) -> Result<Created<TaxRateJson>, ApiError> {
        let b = body.0;
        let rate = self
            .shop
            .admin()
            .save_tax_rate(
                &auth.0,
                None,
                b.country.as_str(),
                b.region.as_ref().map(Text::as_str),
                b.rate.0,
            )
            .await?;
        let location = format!("/api/admin/tax-rates/{}", rate.id);
        Ok(Created::Created(Reply(rate.into()), location))
    }

    #[oai(path = "/admin/tax-rates/:id", method = "get")]
    async fn tax_rate(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Reply<TaxRateJson>, ApiError> {
        let id: TaxRateId = id.0.parse("tax rate")?;
        Ok(Reply(self.shop.admin().tax_rate(&auth.0, id).await?.into()))
    }

    #[oai(path = "/admin/tax-rates/:id", method = "put")]
    async fn update_tax_rate(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<TaxRateBody>,
    ) -> Result<Reply<TaxRateJson>, ApiError> {
        let id: TaxRateId = id.0.parse("tax rate")?;
        let b = body.0;
        let rate = self
            .shop
            .admin()
            .save_tax_rate(
                &auth.0,
                Some(id),
                b.country.as_str(),
                b.region.as_ref().map(Text::as_str),
                b.rate.0,
            )
            .await?;
        Ok(Reply(rate.into()))
    }

    #[oai(path = "/admin/tax-rates/:id", method = "delete")]
    async fn delete_tax_rate(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Deleted, ApiError> {
        let id: TaxRateId = id.0.parse("tax rate")?;
        self.shop.admin().delete_tax_rate(&auth.0, id).await?;
        Ok(Deleted::Deleted)
    }

    /// Every shipping method, inactive ones included.
    #[oai(path = "/admin/shipping-methods", method = "get")]
    async fn shipping_methods(
        &self,
        auth: BearerAuth,
    ) -> Result<Reply<Vec<ShippingMethodJson>>, ApiError> {
        let methods = self.shop.admin().shipping_methods(&auth.0).await?;
        let currency = self.currency().await?;
        Ok(Reply(
            methods
                .into_iter()
                .map(|m| ShippingMethodJson::new(m, currency))
                .collect(),
        ))
    }

    #[oai(path = "/admin/shipping-methods", method = "post")]
    async fn create_shipping_method(
        &self,
        auth: BearerAuth,
        body: JsonBody<ShippingMethodBody>,
    ) -> Result<Created<ShippingMethodJson>, ApiError> {
        let b = body.0;
        let method = self
            .shop
            .admin()
            .save_shipping_method(
                &auth.0,
                None,
                b.name.as_str(),
                b.price.0,
                b.free_above.map(|f| f.0),
                b.active,
            )
            .await?;
        let location = format!("/api/admin/shipping-methods/{}", method.id);
        let currency = self.currency().await?;
        Ok(Created::Created(
            Reply(ShippingMethodJson::new(method, currency)),
            location,
        ))
    }

    /// One shipping method, inactive or not.
    #[oai(path = "/admin/shipping-methods/:id", method = "get")]
    async fn shipping_method(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Reply<ShippingMethodJson>, ApiError> {
        let id: ShippingMethodId = id.0.parse("shipping method")?;
        let method = self.shop.admin().shipping_method(&auth.0, id).await?;
        Ok(Reply(ShippingMethodJson::new(
            method,
            self.currency().await?,
        )))
    }

    #[oai(path = "/admin/shipping-methods/:id", method = "put")]
    async fn update_shipping_method(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<ShippingMethodBody>,
    ) -> Result<Reply<ShippingMethodJson>, ApiError> {
        let id: ShippingMethodId = id.0.parse("shipping method")?;
        let b = body.0;
        let method = self
            .shop
            .admin()
            .save_shipping_method(
                &auth.0,
                Some(id),
                b.name.as_str(),
                b.price.0,
                b.free_above.map(|f| f.0),
                b.active,
            )
            .await?;
        let currency = self.currency().await?;
        Ok(Reply(ShippingMethodJson::new(method, currency)))
    }

    #[oai(path = "/admin/shipping-methods/:id", method = "delete")]
    async fn delete_shipping_method(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Deleted, ApiError> {
        let id: ShippingMethodId = id.0.parse("shipping method")?;
        self.shop
            .admin()
            .delete_shipping_method(&auth.0, id)
            .await?;
        Ok(Deleted::Deleted)
    }

    /// Changes the shop's name and tax settings.
    #[oai(path = "/admin/store", method = "put")]
    async fn update_store(
        &self,
        auth: BearerAuth,
        body: JsonBody<StoreBody>,
    ) -> Result<Reply<StoreJson>, ApiError> {
        let b = body.0;
        let changes = StoreChanges {
            name: b.name.map(Text::into_string),
            prices_include_tax: b.prices_include_tax,
            tax_rounding: b.tax_rounding.0,
            tax_shipping: b.tax_shipping,
            address: b.address.map(Into::into),
        };
        let settings = self.shop.admin().update_store(&auth.0, changes).await?;
        Ok(Reply(settings.into()))
    }

    /// Sales per day from `from` to `to` (both `YYYY-MM-DD`, inclusive) as CSV.
    #[oai(path = "/admin/reports/sales", method = "get")]
    async fn sales_report(
        &self,
        auth: BearerAuth,
        from: Query<Day>,
        to: Query<Day>,
    ) -> Result<CsvReport, ApiError> {
        let (from, to) = (from.0 .0, to.0 .0);
        let csv = self
            .shop
            .admin()
            .sales_report_csv(&auth.0, from, to)
            .await?;
        Ok(CsvReport::Csv(PlainText(csv)))
    }
}
