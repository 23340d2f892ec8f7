//! Public catalog operations: the store, shipping methods, categories and products.

use std::str::FromStr;

use commerce_core::ids::{CategoryId, ProductId, UserId};
use commerce_core::ports::{PageRequest, ProductSort};
use commerce_core::service::ProductListing;
use commerce_core::{Caller, Commerce};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::OpenApi;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::json::{CategoryJson, ProductJson, ProductPageJson, ShippingMethodJson, StoreJson};
use crate::problem::ApiError;

pub struct CatalogApi {
    pub shop: Commerce,
}

/// `limit` as the API states it: default 20, 1 to 100.
pub fn page(limit: Option<u32>, cursor: Option<String>) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(PageRequest::DEFAULT_LIMIT);
    if limit == 0 || limit > PageRequest::MAX_LIMIT {
        return Err(ApiError::validation(
            "limit",
            format!("must be 1 to {}", PageRequest::MAX_LIMIT),
        ));
    }
    Ok(PageRequest { limit, cursor })
}

/// A price filter: a decimal string, parsed exactly (never through a float).
fn price_filter(field: &str, value: Option<String>) -> Result<Option<Decimal>, ApiError> {
    value
        .map(|v| {
            Decimal::from_str_exact(v.trim())
                .ok()
                .filter(|d| !d.is_sign_negative())
                .ok_or_else(|| {
                    ApiError::validation(field, "must be a non-negative decimal such as 19.99")
                })
        })
        .transpose()
}

fn sort_of(value: Option<String>) -> Result<Option<ProductSort>, ApiError> {
    value
        .map(|s| match s.as_str() {
            "newest" => Ok(ProductSort::Newest),
            "price_asc" => Ok(ProductSort::PriceAsc),
            "price_desc" => Ok(ProductSort::PriceDesc),
            "rating" => Ok(ProductSort::Rating),
            "name" => Ok(ProductSort::Name),
            _ => Err(ApiError::validation(
                "sort",
                "one of newest, price_asc, price_desc, rating, name",
            )),
        })
        .transpose()
}

#[OpenApi]
impl CatalogApi {
    /// The shop: name, currency and tax settings.
    #[oai(path = "/store", method = "get")]
    async fn store(&self) -> Result<Json<StoreJson>, ApiError> {
        Ok(Json(self.shop.settings().await?.into()))
    }

    /// The active shipping methods.
    #[oai(path = "/shipping-methods", method = "get")]
    async fn shipping_methods(&self) -> Result<Json<Vec<ShippingMethodJson>>, ApiError> {
        let currency = self.shop.settings().await?.currency;
        let methods = self.shop.admin().active_shipping_methods().await?;
        Ok(Json(
            methods
                .into_iter()
                .map(|m| ShippingMethodJson::new(m, currency))
                .collect(),
        ))
    }

    /// The root categories, each with its children nested to any depth.
    #[oai(path = "/categories", method = "get")]
    async fn categories(&self) -> Result<Json<Vec<CategoryJson>>, ApiError> {
        Ok(Json(
            self.shop
                .catalog()
                .categories()
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }

    /// Active products of a category and its descendants, newest first.
    #[oai(path = "/categories/:id/products", method = "get")]
    async fn category_products(
        &self,
        id: Path<Uuid>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<ProductPageJson>, ApiError> {
        let page = page(limit.0, cursor.0)?;
        let found = self
            .shop
            .catalog()
            .category_products(CategoryId::from(id.0), page)
            .await?;
        self.product_page(found).await
    }

    /// Active products, filtered and sorted; `category` includes its descendants.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/products", method = "get")]
    async fn products(
        &self,
        category: Query<Option<Uuid>>,
        min_price: Query<Option<String>>,
        max_price: Query<Option<String>>,
        in_stock: Query<Option<bool>>,
        vendor: Query<Option<Uuid>>,
        q: Query<Option<String>>,
        sort: Query<Option<String>>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<ProductPageJson>, ApiError> {
        let listing = ProductListing {
            category: category.0.map(CategoryId::from),
            min_price: price_filter("min_price", min_price.0)?,
            max_price: price_filter("max_price", max_price.0)?,
            in_stock: in_stock.0.unwrap_or(false),
            vendor: vendor.0.map(UserId::from),
            q: q.0,
            sort: sort_of(sort.0)?,
            page: page(limit.0, cursor.0)?,
        };
        let found = self.shop.catalog().list_products(listing).await?;
        self.product_page(found).await
    }

    /// Full-text search over name and description, most relevant first.
    #[oai(path = "/products/search", method = "get")]
    async fn search(
        &self,
        q: Query<Option<String>>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> Result<Json<ProductPageJson>, ApiError> {
        let q = q.0.unwrap_or_default();
        let found = self
            .shop
            .catalog()
            .search(&q, page(limit.0, cursor.0)?)
            .await?;
        self.product_page(found).await
    }

    /// One product (only active ones, except to its vendor and admins).
    #[oai(path = "/products/:id", method = "get")]
    async fn product(&self, id: Path<String>) -> Result<Json<ProductJson>, ApiError> {
        // An id that is not a UUID names no product.
        let id = ProductId::from_str(&id.0).map_err(|_| {
            ApiError::new(
                poem::http::StatusCode::NOT_FOUND,
                "not_found",
                "product not found",
            )
        })?;
        let product = self.shop.catalog().product(&Caller::Anonymous, id).await?;
        let currency = self.shop.settings().await?.currency;
        Ok(Json(ProductJson::new(product, currency)))
    }
}

impl CatalogApi {
    async fn product_page(
        &self,
        page: commerce_core::ports::Page<commerce_core::catalog::Product>,
    ) -> Result<Json<ProductPageJson>, ApiError> {
        let currency = self.shop.settings().await?.currency;
        Ok(Json(ProductPageJson {
            items: page
                .items
                .into_iter()
                .map(|p| ProductJson::new(p, currency))
                .collect(),
            next_cursor: page.next_cursor,
        }))
    }
}
