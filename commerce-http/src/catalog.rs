//! Public catalog operations: the store, shipping methods, categories and products.

use commerce_core::catalog::{
    NewProduct, NewReview, NewVariant, Product, ProductChanges, ProductStatus,
};
use commerce_core::ids::{CategoryId, ImageId, ProductId, UserId};
use commerce_core::ports::{PageRequest, ProductSort};
use commerce_core::service::ProductListing;
use commerce_core::Commerce;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{BearerAuth, MaybeSignedIn};
use crate::body::{double_option, ImageUpload, JsonBody, Reply};
use crate::cache::{Built, CatalogCache, Encoded};
use crate::common::MaybeWord;
use crate::common::{etag, given, Choice, Choices, IfMatch, Limit, PathId};
use crate::json::{
    CategoryJson, ImageJson, ProductJson, ProductPageJson, ReviewJson, ReviewPageJson,
    ShippingMethodJson, StoreJson,
};
use crate::problem::ApiError;
use crate::rules::{
    Amount, Description, Email, Name, OptionValue, PriceBound, Rating, ReviewText, ReviewTitle,
    SearchWords, Sku, Slug, Stock, Text,
};

pub struct CatalogApi {
    pub shop: Commerce,
    pub cache: std::sync::Arc<CatalogCache>,
}

#[derive(Debug, Object, Deserialize)]
pub struct VariantBody {
    pub sku: Text<Sku>,
    /// Up to 10 option values, e.g. `{"size": "M"}`; a name is 1 to 50 characters.
    #[serde(default)]
    #[oai(default)]
    pub options: VariantOptions,
    /// The product's price when absent.
    #[serde(default)]
    #[oai(nullable)]
    pub price: Option<Amount>,
    #[serde(default)]
    #[oai(default)]
    pub inventory_count: Stock,
    /// At or below this many available the variant is low on stock; the product's threshold
    /// when absent.
    #[serde(default)]
    #[oai(nullable)]
    pub low_stock_threshold: Option<Stock>,
}

/// A variant's options, by name.
pub type VariantOptions = crate::rules::Options<OptionValue>;

impl From<VariantBody> for NewVariant {
    fn from(v: VariantBody) -> Self {
        NewVariant {
            sku: v.sku.into_string(),
            options: v.options.into_map(),
            price: v.price.map(|p| p.0),
            inventory_count: v.inventory_count.0,
            low_stock_threshold: v.low_stock_threshold.map(|t| t.0),
        }
    }
}

/// At most 100 variants.
type Variants = crate::rules::List<VariantBody, 0, { commerce_core::limits::MAX_VARIANTS }>;

#[derive(Debug, Object, Deserialize)]
pub struct ProductBody {
    pub name: Text<Name>,
    /// Made from the name when absent.
    #[serde(default)]
    #[oai(nullable)]
    pub slug: Option<Text<Slug>>,
    #[serde(default)]
    #[oai(nullable)]
    pub description: Option<Text<Description>>,
    pub price: Amount,
    #[serde(default)]
    #[oai(nullable)]
    pub category_id: Option<Uuid>,
    #[serde(default)]
    #[oai(default)]
    pub inventory_count: Stock,
    #[serde(default)]
    #[oai(nullable)]
    pub low_stock_threshold: Option<Stock>,
    #[serde(default)]
    #[oai(default)]
    pub variants: Variants,
}

/// Only the fields sent change.
#[derive(Debug, Object, Deserialize)]
pub struct ProductChangesBody {
    #[serde(default)]
    #[oai(nullable)]
    pub name: Option<Text<Name>>,
    #[serde(default)]
    #[oai(nullable)]
    pub slug: Option<Text<Slug>>,
    #[serde(default)]
    #[oai(nullable)]
    pub description: Option<Text<Description>>,
    #[serde(default)]
    #[oai(nullable)]
    pub price: Option<Amount>,
    /// `null` takes the product out of its category.
    #[serde(default, deserialize_with = "double_option")]
    #[oai(nullable)]
    pub category_id: Option<Option<Uuid>>,
    #[serde(default)]
    #[oai(nullable)]
    pub inventory_count: Option<Stock>,
    #[serde(default)]
    #[oai(nullable)]
    pub low_stock_threshold: Option<Stock>,
    /// `active` is for admins; the catalog allows `draft → pending_approval → active →
    /// archived`, a pending product back to draft and an archived one back.
    #[serde(default)]
    pub status: MaybeWord<ProductStatus>,
    /// Replaces the variants; existing ones are matched by SKU and keep their ids.
    #[serde(default)]
    #[oai(nullable)]
    pub variants: Option<Variants>,
}

impl Choices for ProductStatus {
    const NAME: &'static str = "product_status";
    fn all() -> Vec<(&'static str, Self)> {
        ProductStatus::ALL
            .iter()
            .map(|s| (s.as_str(), *s))
            .collect()
    }
}

#[derive(Debug, Object, Deserialize)]
pub struct NewCategoryBody {
    pub name: Text<Name>,
    /// Made from the name when absent.
    #[serde(default)]
    #[oai(nullable)]
    pub slug: Option<Text<Slug>>,
    /// A root category when absent or `null`.
    #[serde(default)]
    #[oai(nullable)]
    pub parent_id: Option<Uuid>,
}

/// Only the fields sent change.
#[derive(Debug, Object, Deserialize)]
pub struct CategoryChangesBody {
    #[serde(default)]
    #[oai(nullable)]
    pub name: Option<Text<Name>>,
    #[serde(default)]
    #[oai(nullable)]
    pub slug: Option<Text<Slug>>,
    /// `null` makes it a root.
    #[serde(default, deserialize_with = "double_option")]
    #[oai(nullable)]
    pub parent_id: Option<Option<Uuid>>,
}

#[derive(Debug, Object, Deserialize)]
pub struct ReviewBody {
    pub rating: Rating,
    #[serde(default)]
    #[oai(default)]
    pub title: Text<ReviewTitle>,
    #[serde(default)]
    #[oai(default)]
    pub body: Text<ReviewText>,
}

#[derive(ApiResponse)]
pub enum ProductResponse {
    #[oai(status = 200)]
    Ok(Encoded<ProductJson>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ProductCreated {
    #[oai(status = 201)]
    Created(
        Reply<ProductJson>,
        #[oai(header = "ETag")] String,
        #[oai(header = "Location")] String,
    ),
}

#[derive(ApiResponse)]
pub enum CategoryCreated {
    #[oai(status = 201)]
    Created(Reply<CategoryJson>, #[oai(header = "Location")] String),
}

/// What a shopper sends to be told when a product is back.
#[derive(Debug, Object, Deserialize)]
pub struct StockAlertBody {
    /// A guest's address; a signed-in shopper's own is used.
    #[serde(default)]
    #[oai(nullable)]
    pub email: Option<Text<Email>>,
    /// One variant of the product; any of its stock when absent.
    #[serde(default)]
    #[oai(nullable)]
    pub variant_id: Option<Uuid>,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "StockAlert")]
pub struct StockAlertJson {
    pub id: Uuid,
    pub product_id: Uuid,
    #[oai(nullable)]
    pub variant_id: Option<Uuid>,
    pub email: String,
}

#[derive(ApiResponse)]
pub enum StockAlertCreated {
    /// Created (or the same alert, already waiting): one mail when the product is back.
    #[oai(status = 201)]
    Created(Reply<StockAlertJson>),
}

#[derive(ApiResponse)]
pub enum ReviewCreated {
    /// Created; shown once a moderator approves it.
    #[oai(status = 201)]
    Created(Reply<ReviewJson>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
pub enum ImageCreated {
    #[oai(status = 201)]
    Created(Reply<ImageJson>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
pub enum Deleted {
    #[oai(status = 204)]
    Deleted,
}

/// `limit` as the API states it: default 20, 1 to 100.
pub fn page(limit: Option<Limit>, cursor: Option<String>) -> PageRequest {
    PageRequest {
        limit: limit.map_or(PageRequest::DEFAULT_LIMIT, |l| l.0),
        cursor: given(cursor),
    }
}

impl Choices for ProductSort {
    const NAME: &'static str = "product_sort";
    fn all() -> Vec<(&'static str, Self)> {
        vec![
            ("newest", ProductSort::Newest),
            ("price_asc", ProductSort::PriceAsc),
            ("price_desc", ProductSort::PriceDesc),
            ("rating", ProductSort::Rating),
            ("name", ProductSort::Name),
        ]
    }
}

#[OpenApi]
impl CatalogApi {
    /// The shop: name, currency and tax settings.
    #[oai(path = "/store", method = "get")]
    async fn store(&self) -> Result<Reply<StoreJson>, ApiError> {
        Ok(Reply(StoreJson::of(
            self.shop.settings().await?,
            &self.shop,
        )))
    }

    /// The active shipping methods.
    #[oai(path = "/shipping-methods", method = "get")]
    async fn shipping_methods(&self) -> Result<Reply<Vec<ShippingMethodJson>>, ApiError> {
        let methods = self.shop.admin().active_shipping_methods().await?;
        Ok(Reply(methods.into_iter().map(Into::into).collect()))
    }

    /// The root categories, each with its children nested to any depth.
    #[oai(path = "/categories", method = "get")]
    async fn categories(&self) -> Result<Encoded<Vec<CategoryJson>>, ApiError> {
        self.cached("categories", || async {
            let tree = self.shop.catalog().categories().await?;
            Ok(Built::public(
                tree.into_iter().map(CategoryJson::from).collect::<Vec<_>>(),
            ))
        })
        .await
    }

    /// Active products of a category and its descendants, newest first.
    #[oai(path = "/categories/:id/products", method = "get")]
    async fn category_products(
        &self,
        id: Path<PathId>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Encoded<ProductPageJson>, ApiError> {
        let id: CategoryId = id.0.parse("category")?;
        let page = page(limit.0, cursor.0);
        let key = format!("category products {id} {page:?}");
        self.cached(&key, || async {
            let found = self.shop.catalog().category_products(id, page).await?;
            Ok(Self::product_page(found))
        })
        .await
    }

    /// Active products, filtered and sorted; `category` includes its descendants.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/products", method = "get")]
    async fn products(
        &self,
        category: Query<Option<Uuid>>,
        min_price: Query<Option<PriceBound>>,
        max_price: Query<Option<PriceBound>>,
        in_stock: Query<Option<bool>>,
        vendor: Query<Option<Uuid>>,
        q: Query<Option<String>>,
        sort: Query<Option<Choice<ProductSort>>>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Encoded<ProductPageJson>, ApiError> {
        let listing = ProductListing {
            category: category.0.map(CategoryId::from),
            min_price: min_price.0.and_then(|p| p.0),
            max_price: max_price.0.and_then(|p| p.0),
            in_stock: in_stock.0.unwrap_or(false),
            vendor: vendor.0.map(UserId::from),
            q: q.0,
            sort: sort.0.and_then(|c| c.0),
            page: page(limit.0, cursor.0),
        };
        let key = format!("products {listing:?}");
        self.cached(&key, || async {
            let found = self.shop.catalog().list_products(listing).await?;
            Ok(Self::product_page(found))
        })
        .await
    }

    /// Full-text search over name and description, most relevant first.
    #[oai(path = "/products/search", method = "get")]
    async fn search(
        &self,
        q: Query<Text<SearchWords>>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Encoded<ProductPageJson>, ApiError> {
        let q = q.0.into_string();
        let page = page(limit.0, cursor.0);
        let key = format!("search {q:?} {page:?}");
        self.cached(&key, || async {
            let found = self.shop.catalog().search(&q, page).await?;
            Ok(Self::product_page(found))
        })
        .await
    }

    /// One product (only active ones, except to its vendor and admins).
    #[oai(path = "/products/:id", method = "get")]
    async fn product(
        &self,
        caller: MaybeSignedIn,
        id: Path<PathId>,
    ) -> Result<ProductResponse, ApiError> {
        let id: ProductId = id.0.parse("product")?;
        let reply = self
            .cache
            .reply(&self.shop, &format!("product {id}"), || async {
                let product = self.shop.catalog().product(&caller.0, id).await?;
                Ok(Built {
                    etag: Some(etag(product.version)),
                    // Others are shown to their vendor and admins only.
                    public: product.status == ProductStatus::Active,
                    value: ProductJson::new(product),
                })
            })
            .await?;
        Ok(ProductResponse::Ok(
            Encoded::new(reply.body),
            reply.etag.unwrap_or_default(),
        ))
    }

    /// Creates a product: a vendor's waits for approval (`pending_approval`), an admin's is
    /// `active`.
    #[oai(path = "/products", method = "post")]
    async fn create_product(
        &self,
        auth: BearerAuth,
        body: JsonBody<ProductBody>,
    ) -> Result<ProductCreated, ApiError> {
        let b = body.0;
        let draft = NewProduct {
            name: b.name.into_string(),
            slug: b.slug.map(Text::into_string),
            description: b.description.map(Text::into_string).unwrap_or_default(),
            price: b.price.0,
            category_id: b.category_id.map(CategoryId::from),
            inventory_count: b.inventory_count.0,
            low_stock_threshold: b.low_stock_threshold.map(|t| t.0),
            variants: b.variants.into_vec().into_iter().map(Into::into).collect(),
        };
        let product = self.shop.catalog().create_product(&auth.0, draft).await?;
        let location = format!("/api/products/{}", product.id);
        let tag = etag(product.version);
        Ok(ProductCreated::Created(
            Reply(ProductJson::new(product)),
            tag,
            location,
        ))
    }

    /// Changes a product (only the fields sent); its vendor or an admin. With `If-Match`, a
    /// product changed since is 412.
    #[oai(path = "/products/:id", method = "put")]
    async fn update_product(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        #[oai(name = "If-Match")] version: Header<Option<IfMatch>>,
        body: JsonBody<ProductChangesBody>,
    ) -> Result<ProductResponse, ApiError> {
        let id: ProductId = id.0.parse("product")?;
        let version = IfMatch::version(version.0);
        let b = body.0;
        let changes = ProductChanges {
            name: b.name.map(Text::into_string),
            slug: b.slug.map(Text::into_string),
            description: b.description.map(Text::into_string),
            price: b.price.map(|p| p.0),
            category_id: b.category_id.map(|c| c.map(CategoryId::from)),
            inventory_count: b.inventory_count.map(|c| c.0),
            low_stock_threshold: b.low_stock_threshold.map(|t| t.0),
            status: b.status.0,
            variants: b
                .variants
                .map(|v| v.into_vec().into_iter().map(Into::into).collect()),
        };
        let product = self
            .shop
            .catalog()
            .update_product(&auth.0, id, changes, version)
            .await?;
        product_response(product)
    }

    /// Deletes a product; its vendor or an admin.
    #[oai(path = "/products/:id", method = "delete")]
    async fn delete_product(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Deleted, ApiError> {
        let id: ProductId = id.0.parse("product")?;
        self.shop.catalog().delete_product(&auth.0, id).await?;
        Ok(Deleted::Deleted)
    }

    /// Adds an image to a product (its vendor or an admin): a `multipart/form-data` body
    /// with the file in a part named `image`. JPEG, PNG or WebP, told from the bytes (a
    /// text file named `x.png` is 415), 10 MiB at most (413). The product lists it in
    /// `images`; its `url` serves it.
    #[oai(path = "/products/:id/images", method = "post")]
    async fn add_image(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: ImageUpload,
    ) -> Result<ImageCreated, ApiError> {
        let id: ProductId = id.0.parse("product")?;
        let image = self.shop.catalog().add_image(&auth.0, id, body.0).await?;
        let location = image.url.clone();
        Ok(ImageCreated::Created(
            Reply(ImageJson {
                id: image.id.as_uuid(),
                url: image.url,
            }),
            location,
        ))
    }

    /// Removes a product's image (its vendor or an admin); its file goes too.
    #[oai(path = "/products/:id/images/:image_id", method = "delete")]
    async fn delete_image(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        image_id: Path<PathId>,
    ) -> Result<Deleted, ApiError> {
        let id: ProductId = id.0.parse("product")?;
        let image: ImageId = image_id.0.parse("image")?;
        self.shop.catalog().delete_image(&auth.0, id, image).await?;
        Ok(Deleted::Deleted)
    }

    /// A category (manager or admin); the slug is made from the name when not given.
    #[oai(path = "/categories", method = "post")]
    async fn create_category(
        &self,
        auth: BearerAuth,
        body: JsonBody<NewCategoryBody>,
    ) -> Result<CategoryCreated, ApiError> {
        let b = body.0;
        let category = self
            .shop
            .catalog()
            .create_category(
                &auth.0,
                b.name.as_str(),
                b.slug.as_ref().map(Text::as_str),
                b.parent_id.map(CategoryId::from),
            )
            .await?;
        let location = format!("/api/categories/{}", category.id);
        Ok(CategoryCreated::Created(Reply(category.into()), location))
    }

    /// One category with its children nested to any depth.
    #[oai(path = "/categories/:id", method = "get")]
    async fn category(&self, id: Path<PathId>) -> Result<Encoded<CategoryJson>, ApiError> {
        let id: CategoryId = id.0.parse("category")?;
        self.cached(&format!("category {id}"), || async {
            let node = self.shop.catalog().category(id).await?;
            Ok(Built::public(CategoryJson::from(node)))
        })
        .await
    }

    /// Renames or moves a category (manager or admin); `parent_id: null` makes it a root.
    #[oai(path = "/categories/:id", method = "put")]
    async fn update_category(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<CategoryChangesBody>,
    ) -> Result<Reply<CategoryJson>, ApiError> {
        let id: CategoryId = id.0.parse("category")?;
        let b = body.0;
        let category = self
            .shop
            .catalog()
            .update_category(
                &auth.0,
                id,
                b.name.as_ref().map(Text::as_str),
                b.slug.as_ref().map(Text::as_str),
                b.parent_id.map(|p| p.map(CategoryId::from)),
            )
            .await?;
        Ok(Reply(category.into()))
    }

    /// Deletes a category with no children and no products (manager or admin).
    #[oai(path = "/categories/:id", method = "delete")]
    async fn delete_category(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Deleted, ApiError> {
        let id: CategoryId = id.0.parse("category")?;
        self.shop.catalog().delete_category(&auth.0, id).await?;
        Ok(Deleted::Deleted)
    }

    /// Approved reviews of a product, newest first.
    #[oai(path = "/products/:id/reviews", method = "get")]
    async fn reviews(
        &self,
        caller: MaybeSignedIn,
        id: Path<PathId>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<ReviewPageJson>, ApiError> {
        let id: ProductId = id.0.parse("product")?;
        let found = self
            .shop
            .catalog()
            .reviews(&caller.0, id, page(limit.0, cursor.0))
            .await?;
        Ok(Reply(ReviewPageJson {
            items: found.items.into_iter().map(Into::into).collect(),
            next_cursor: found.next_cursor,
        }))
    }

    /// Asks for one mail when a sold-out product (or variant) can be bought again: a guest
    /// gives `email`, a signed-in shopper's own is used. 409 while it is in stock.
    #[oai(path = "/products/:id/stock-alerts", method = "post")]
    async fn alert_when_in_stock(
        &self,
        caller: MaybeSignedIn,
        id: Path<PathId>,
        body: JsonBody<StockAlertBody>,
    ) -> Result<StockAlertCreated, ApiError> {
        let id: ProductId = id.0.parse("product")?;
        let b = body.0;
        let alert = self
            .shop
            .catalog()
            .alert_when_in_stock(
                &caller.0,
                id,
                b.variant_id.map(Into::into),
                b.email.as_ref().map(Text::as_str),
            )
            .await?;
        Ok(StockAlertCreated::Created(Reply(StockAlertJson {
            id: alert.id.as_uuid(),
            product_id: alert.product_id.as_uuid(),
            variant_id: alert.variant_id.map(|v| v.as_uuid()),
            email: alert.email,
        })))
    }

    /// A review by a customer who bought the product: rating 1 to 5, title and body.
    #[oai(path = "/products/:id/reviews", method = "post")]
    async fn add_review(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<ReviewBody>,
    ) -> Result<ReviewCreated, ApiError> {
        let id: ProductId = id.0.parse("product")?;
        let b = body.0;
        let review = self
            .shop
            .catalog()
            .add_review(
                &auth.0,
                id,
                NewReview {
                    rating: b.rating.0 as u8,
                    title: b.title.into_string(),
                    body: b.body.into_string(),
                },
            )
            .await?;
        let location = format!("/api/products/{id}/reviews");
        Ok(ReviewCreated::Created(Reply(review.into()), location))
    }
}

/// A product as a write answers it: with its `ETag`.
pub(crate) fn product_response(product: Product) -> Result<ProductResponse, ApiError> {
    let tag = etag(product.version);
    Ok(ProductResponse::Ok(
        Encoded::of(&ProductJson::new(product))?,
        tag,
    ))
}

impl CatalogApi {
    /// A public read through the catalog cache.
    async fn cached<T, F, Fut>(&self, key: &str, build: F) -> Result<Encoded<T>, ApiError>
    where
        T: serde::Serialize,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Built<T>, ApiError>>,
    {
        let reply = self.cache.reply(&self.shop, key, build).await?;
        Ok(Encoded::new(reply.body))
    }

    fn product_page(page: commerce_core::ports::Page<Product>) -> Built<ProductPageJson> {
        Built::public(ProductPageJson {
            items: page.items.into_iter().map(ProductJson::new).collect(),
            next_cursor: page.next_cursor,
        })
    }
}
