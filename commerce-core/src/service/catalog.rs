//! Catalog use cases: products, categories and reviews.

use rust_decimal::Decimal;

use super::{Caller, Commerce, CommerceError};
use crate::account::Role;
use crate::audit::{changes, AuditTarget};
use crate::catalog::{
    slug_for, unique_slug, Category, CategoryNode, CategoryTree, CategoryTreeError, NewProduct,
    NewReview, Product, ProductChanges, ProductImage, ProductStatus, Review, ReviewStatus,
};
use crate::events::DomainEvent;
use crate::ids::{CategoryId, ImageId, ProductId, UserId};
use crate::outbox::{ChangeRecord, OutboxEvent};
use crate::ports::{Page, PageRequest, ProductQuery, ProductSort, StorageError, UniqueRule};
use crate::stock_alert::StockAlert;
use crate::validation::ValidationErrors;
use crate::webhook::EventType;

/// A public product listing: filters as the API names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductListing {
    /// Includes the category's descendants.
    pub category: Option<CategoryId>,
    /// The cheapest price to list (inclusive), in the shop currency.
    pub min_price: Option<Decimal>,
    /// The dearest price to list (inclusive).
    pub max_price: Option<Decimal>,
    /// Only products with units to sell.
    pub in_stock: bool,
    /// Only this vendor's.
    pub vendor: Option<UserId>,
    /// Words to search name and description for.
    pub q: Option<String>,
    /// The order; default newest (relevance with `q`).
    pub sort: Option<ProductSort>,
    /// Which page, and how long.
    pub page: PageRequest,
}

/// Catalog use cases ([`Commerce::catalog`]).
pub struct Catalog<'a> {
    pub(super) shop: &'a Commerce,
}

/// The most bytes of one image, and the types accepted.
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// The images a product may show, with their file extensions.
const IMAGE_TYPES: &[(&str, &str)] = &[
    ("image/jpeg", "jpg"),
    ("image/png", "png"),
    ("image/webp", "webp"),
];

/// What an image's bytes say it is (its leading "magic" bytes), whatever it was called or
/// labelled when sent: JPEG, PNG or WebP, else `None`.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

impl Catalog<'_> {
    /// Vendors and admins create products; a vendor's waits for approval, an admin's is active.
    pub async fn create_product(
        &self,
        caller: &Caller,
        draft: NewProduct,
    ) -> Result<Product, CommerceError> {
        let (user, role) = caller.require_user()?;
        let status = match role {
            // Staff who run the shop publish at once; a vendor's waits for them.
            Role::Admin | Role::Manager => ProductStatus::Active,
            Role::Vendor => ProductStatus::PendingApproval,
            Role::Customer => {
                return Err(CommerceError::Forbidden(
                    "only vendors and admins create products".into(),
                ))
            }
        };
        if let Some(category) = draft.category_id {
            self.require_category(category).await?;
        }
        let settings = self.shop.settings().await?;
        let mut draft = draft;
        draft
            .low_stock_threshold
            .get_or_insert(settings.low_stock_threshold);
        let slug_given = draft.slug.is_some();
        let mut product = Product::create(
            self.shop.new_id(),
            draft,
            user,
            status,
            settings.currency,
            self.shop.now(),
        )?;
        let told = |product: &Product| {
            ChangeRecord::telling(vec![OutboxEvent::product(
                self.shop.new_id(),
                EventType::ProductCreated,
                product,
                product.created_at,
            )])
            .auditing(self.shop.audit(
                caller,
                "product.create",
                AuditTarget::new("product", product.id),
                changes(None, Some(product), &[]),
            ))
        };
        match self
            .shop
            .ports
            .products
            .insert_product(&product, &told(&product))
            .await
        {
            // Two products of one name: the second made-up slug gets part of its id.
            Err(StorageError::Duplicate(UniqueRule::ProductSlug)) if !slug_given => {
                product.slug = unique_slug(&product.slug, &product.id.to_string());
                self.shop
                    .ports
                    .products
                    .insert_product(&product, &told(&product))
                    .await?;
            }
            other => other?,
        }
        self.shop.outbox_written();
        Ok(product)
    }

    /// The product, if the caller may see it: anyone sees an active product; its vendor and
    /// admins see it in any status. Otherwise not found (its existence is not revealed).
    pub async fn product(&self, caller: &Caller, id: ProductId) -> Result<Product, CommerceError> {
        let product = self
            .shop
            .ports
            .products
            .product(id)
            .await?
            .ok_or(CommerceError::NotFound("product"))?;
        if product.status == ProductStatus::Active || may_manage(caller, &product) {
            Ok(product)
        } else {
            Err(CommerceError::NotFound("product"))
        }
    }

    /// Changes a product; only its vendor or an admin. With `expected_version` (from
    /// `If-Match`), a product changed since is refused.
    pub async fn update_product(
        &self,
        caller: &Caller,
        id: ProductId,
        changes: ProductChanges,
        expected_version: Option<u64>,
    ) -> Result<Product, CommerceError> {
        if let Some(Some(category)) = changes.category_id {
            self.require_category(category).await?;
        }
        let now = self.shop.now();
        let approver = caller.runs_the_shop();
        self.change_product(caller, id, "product.update", |product| {
            // With If-Match the caller asked to write over exactly that version.
            if expected_version.is_some_and(|v| v != product.version) {
                return Err(CommerceError::VersionMismatch("product"));
            }
            // Vendors cannot approve themselves.
            if changes.status == Some(ProductStatus::Active)
                && product.status != ProductStatus::Active
                && !approver
            {
                return Err(CommerceError::Forbidden(
                    "only a manager or an admin approves a product".into(),
                ));
            }
            Ok(product.apply(changes.clone(), now)?)
        })
        .await
    }

    /// Reads a product the caller manages, changes it and writes it. A write refused because
    /// the version moved on (a sale changed its stock meanwhile) is redone on fresh data, so
    /// no change is ever lost or written over a newer stock count.
    async fn change_product(
        &self,
        caller: &Caller,
        id: ProductId,
        action: &str,
        mut change: impl FnMut(&mut Product) -> Result<(), CommerceError>,
    ) -> Result<Product, CommerceError> {
        for _ in 0..5 {
            let mut product = self.managed_product(caller, id).await?;
            let before = product.clone();
            change(&mut product)?;
            product.updated_at = self.shop.now();
            let record = ChangeRecord::telling(vec![OutboxEvent::product(
                self.shop.new_id(),
                EventType::ProductUpdated,
                &product,
                product.updated_at,
            )])
            .watching_stock(product.updated_at)
            .auditing(self.shop.audit(
                caller,
                action,
                AuditTarget::new("product", id),
                changes(Some(&before), Some(&product), &[]),
            ));
            match self
                .shop
                .ports
                .products
                .update_product(&product, &record)
                .await
            {
                Ok(stored) => {
                    self.shop.outbox_written();
                    return Ok(stored);
                }
                Err(StorageError::VersionConflict) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(CommerceError::Conflict(
            "the product keeps changing; try again".into(),
        ))
    }

    /// Deletes a product (its vendor's own, or any for staff), audited.
    pub async fn delete_product(
        &self,
        caller: &Caller,
        id: ProductId,
    ) -> Result<(), CommerceError> {
        let product = self.managed_product(caller, id).await?;
        for image in &product.images {
            // The product goes even if an image file cannot be removed now.
            let _ = self
                .shop
                .ports
                .images
                .delete(&image_key(&image.id, &image.content_type))
                .await;
        }
        let record = ChangeRecord::telling(vec![OutboxEvent::product(
            self.shop.new_id(),
            EventType::ProductDeleted,
            &product,
            self.shop.now(),
        )])
        .auditing(self.shop.audit(
            caller,
            "product.delete",
            AuditTarget::new("product", id),
            changes(Some(&product), None, &[]),
        ));
        self.shop.ports.products.delete_product(id, &record).await?;
        self.shop.outbox_written();
        Ok(())
    }

    /// `pending_approval → active`, by a manager or an admin.
    pub async fn approve_product(
        &self,
        caller: &Caller,
        id: ProductId,
    ) -> Result<Product, CommerceError> {
        caller.require_manager()?;
        self.change_product(caller, id, "product.approve", |product| {
            if product.status != ProductStatus::PendingApproval {
                return Err(CommerceError::InvalidTransition(format!(
                    "only a pending_approval product can be approved; this one is {}",
                    product.status.as_str()
                )));
            }
            product.status = ProductStatus::Active;
            Ok(())
        })
        .await
    }

    /// Active products matching the listing's filters.
    pub async fn list_products(
        &self,
        listing: ProductListing,
    ) -> Result<Page<Product>, CommerceError> {
        self.query_products(listing, vec![ProductStatus::Active])
            .await
    }

    /// Products of every status (or of `status`) for those who keep them: a manager or an
    /// admin sees the whole catalog, a vendor their own (whatever `vendor` asks); anyone
    /// else is refused. Newest first unless the listing sorts otherwise.
    pub async fn products_for_staff(
        &self,
        caller: &Caller,
        mut listing: ProductListing,
        status: Option<ProductStatus>,
    ) -> Result<Page<Product>, CommerceError> {
        let (id, role) = caller.require_user()?;
        if role == Role::Vendor {
            listing.vendor = Some(id);
        } else if !role.runs_the_shop() {
            return Err(CommerceError::Forbidden(
                "only vendors, managers and admins keep products".into(),
            ));
        }
        self.query_products(listing, status.into_iter().collect())
            .await
    }

    async fn query_products(
        &self,
        listing: ProductListing,
        statuses: Vec<ProductStatus>,
    ) -> Result<Page<Product>, CommerceError> {
        let mut errors = ValidationErrors::new();
        if let (Some(min), Some(max)) = (listing.min_price, listing.max_price) {
            if min > max {
                errors.add("min_price", "must not be above max_price");
            }
        }
        if listing.min_price.is_some_and(|m| m.is_sign_negative()) {
            errors.add("min_price", "must not be negative");
        }
        errors.into_result(())?;
        let category_ids = match listing.category {
            Some(id) => {
                let tree = self.tree().await?;
                if tree.get(id).is_none() {
                    return Err(CommerceError::NotFound("category"));
                }
                Some(tree.with_descendants(id))
            }
            None => None,
        };
        let text = listing
            .q
            .map(|q| q.trim().to_string())
            .filter(|q| !q.is_empty());
        let sort = listing.sort.unwrap_or(if text.is_some() {
            ProductSort::Relevance
        } else {
            ProductSort::Newest
        });
        let query = ProductQuery {
            category_ids,
            min_price: listing.min_price,
            max_price: listing.max_price,
            in_stock: listing.in_stock,
            vendor_id: listing.vendor,
            text,
            statuses,
            sort,
            page: listing.page,
        };
        Ok(self.shop.ports.products.list_products(&query).await?)
    }

    /// Full-text search over name and description, most relevant first.
    pub async fn search(&self, q: &str, page: PageRequest) -> Result<Page<Product>, CommerceError> {
        if q.trim().is_empty() {
            return Err(CommerceError::validation("q", "is required"));
        }
        self.list_products(ProductListing {
            q: Some(q.to_string()),
            sort: Some(ProductSort::Relevance),
            page,
            ..Default::default()
        })
        .await
    }

    /// A number that changes whenever anything the public catalog reads show changes
    /// (products, stock, ratings, images, categories): at once for changes made through this
    /// shop's storage, within the adapter's stated delay for another process's (see
    /// `ProductStore::catalog_generation`); `None` when the storage cannot tell. An edge may
    /// keep what it built from public reads (an encoded listing) while this stays the same,
    /// and must build it afresh otherwise. The shop's settings are not part of it: a listing
    /// shows only the currency, which is chosen once.
    pub async fn generation(&self) -> Result<Option<u64>, CommerceError> {
        Ok(self.shop.ports.products.catalog_generation().await?)
    }

    /// One category with its children nested to any depth.
    pub async fn category(&self, id: CategoryId) -> Result<CategoryNode, CommerceError> {
        self.tree()
            .await?
            .node(id)
            .ok_or(CommerceError::NotFound("category"))
    }

    /// The category tree, roots first, nested to any depth.
    pub async fn categories(&self) -> Result<Vec<CategoryNode>, CommerceError> {
        Ok(self.tree().await?.nested())
    }

    /// Creates a category under `parent_id` (or at the root), audited (managers and admins).
    pub async fn create_category(
        &self,
        caller: &Caller,
        name: &str,
        slug: Option<&str>,
        parent_id: Option<CategoryId>,
    ) -> Result<Category, CommerceError> {
        caller.require_manager()?;
        let now = self.shop.now();
        let id: CategoryId = self.shop.new_id();
        let mut category = Category {
            id,
            name: name.trim().to_string(),
            slug: slug.map_or_else(|| slug_for(name, &id.to_string()), str::to_string),
            parent_id,
            created_at: now,
            updated_at: now,
        };
        let tree = self.tree().await?;
        if slug.is_none() && matches!(tree.check(&category), Err(CategoryTreeError::SlugTaken(_))) {
            // "Shirts" under Men and under Women: the second made-up slug gets part of its id.
            category.slug = unique_slug(&category.slug, &id.to_string());
        }
        tree.check(&category).map_err(tree_error)?;
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "category.create",
            AuditTarget::new("category", id),
            changes(None, Some(&category), &[]),
        ));
        self.shop
            .ports
            .categories
            .insert_category(&category, &record)
            .await?;
        Ok(category)
    }

    /// Renames or moves a category; a move under itself or a descendant is refused.
    pub async fn update_category(
        &self,
        caller: &Caller,
        id: CategoryId,
        name: Option<&str>,
        slug: Option<&str>,
        parent_id: Option<Option<CategoryId>>,
    ) -> Result<Category, CommerceError> {
        caller.require_manager()?;
        let tree = self.tree().await?;
        let before = tree
            .get(id)
            .cloned()
            .ok_or(CommerceError::NotFound("category"))?;
        let mut category = before.clone();
        if let Some(name) = name {
            category.name = name.trim().to_string();
        }
        if let Some(slug) = slug {
            category.slug = slug.to_string();
        }
        if let Some(parent) = parent_id {
            category.parent_id = parent;
        }
        category.updated_at = self.shop.now();
        tree.check(&category).map_err(tree_error)?;
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "category.update",
            AuditTarget::new("category", id),
            changes(Some(&before), Some(&category), &[]),
        ));
        self.shop
            .ports
            .categories
            .update_category(&category, &record)
            .await?;
        Ok(category)
    }

    /// Deletes a category; its children move up to its parent.
    pub async fn delete_category(
        &self,
        caller: &Caller,
        id: CategoryId,
    ) -> Result<(), CommerceError> {
        caller.require_manager()?;
        let existing = self
            .tree()
            .await?
            .get(id)
            .cloned()
            .ok_or(CommerceError::NotFound("category"))?;
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "category.delete",
            AuditTarget::new("category", id),
            changes(Some(&existing), None, &[]),
        ));
        self.shop
            .ports
            .categories
            .delete_category(id, &record)
            .await
            .map_err(|e| match e {
                StorageError::NotFound => CommerceError::NotFound("category"),
                other => other.into(),
            })
    }

    /// Active products of a category and its descendants.
    pub async fn category_products(
        &self,
        id: CategoryId,
        page: PageRequest,
    ) -> Result<Page<Product>, CommerceError> {
        self.list_products(ProductListing {
            category: Some(id),
            page,
            ..Default::default()
        })
        .await
    }

    /// Approved reviews of a visible product, newest first.
    pub async fn reviews(
        &self,
        caller: &Caller,
        product_id: ProductId,
        page: PageRequest,
    ) -> Result<Page<Review>, CommerceError> {
        self.product(caller, product_id).await?;
        Ok(self.shop.ports.reviews.reviews(product_id, &page).await?)
    }

    /// A customer who bought the product reviews it, once. Reviews are published at once;
    /// admins can hide one with [`Catalog::moderate_review`].
    pub async fn add_review(
        &self,
        caller: &Caller,
        product_id: ProductId,
        draft: NewReview,
    ) -> Result<Review, CommerceError> {
        let (user, _) = caller.require_user()?;
        self.product(caller, product_id).await?;
        if !self.shop.ports.orders.has_bought(user, product_id).await? {
            return Err(CommerceError::Forbidden(
                "only customers who bought this product can review it".into(),
            ));
        }
        if self
            .shop
            .ports
            .reviews
            .has_reviewed(product_id, user)
            .await?
        {
            return Err(CommerceError::Conflict(
                "you already reviewed this product".into(),
            ));
        }
        let review = Review::new(
            self.shop.new_id(),
            product_id,
            user,
            draft,
            ReviewStatus::Approved,
            self.shop.now(),
        )?;
        let record = ChangeRecord::telling(vec![OutboxEvent::review_created(
            self.shop.new_id(),
            &review,
        )]);
        self.shop
            .ports
            .reviews
            .insert_review(&review, &record)
            .await?;
        self.shop.outbox_written();
        Ok(review)
    }

    /// Asks for one mail when a sold-out product (or one of its variants) can be bought
    /// again. A signed-in shopper's own email is used; a guest gives one. Asking twice is
    /// one alert. Refused (409) while the product is in stock: it can be bought now.
    pub async fn alert_when_in_stock(
        &self,
        caller: &Caller,
        product_id: ProductId,
        variant_id: Option<crate::ids::VariantId>,
        email: Option<&str>,
    ) -> Result<StockAlert, CommerceError> {
        let product = self.product(caller, product_id).await?;
        if product.status != ProductStatus::Active {
            return Err(CommerceError::NotFound("product"));
        }
        let available = product.available(variant_id).ok_or_else(|| {
            CommerceError::validation("variant_id", "is not a variant of this product")
        })?;
        let email = match caller.user_id() {
            Some(id) => {
                self.shop
                    .ports
                    .users
                    .user(id)
                    .await?
                    .ok_or(CommerceError::Unauthenticated)?
                    .email
            }
            None => {
                let given = email.ok_or_else(|| {
                    CommerceError::validation("email", "is required to be told (or sign in)")
                })?;
                crate::account::normalize_email(given).ok_or_else(|| {
                    CommerceError::validation("email", "is not a valid email address")
                })?
            }
        };
        if available > 0 {
            return Err(CommerceError::Conflict(format!(
                "{} is in stock now ({available} available)",
                product.name
            )));
        }
        let alert = StockAlert {
            id: self.shop.new_id(),
            product_id,
            variant_id,
            email,
            created_at: self.shop.now(),
        };
        Ok(self
            .shop
            .ports
            .stock_alerts
            .insert_stock_alert(&alert)
            .await?)
    }

    /// A manager or admin approves or rejects (hides) a review; the product's rating follows.
    /// Every product's reviews, newest first, of `status` when given: the staff's list to
    /// look over (reviews are published at once; moderating hides or restores one).
    /// Managers and admins.
    pub async fn reviews_for_staff(
        &self,
        caller: &Caller,
        status: Option<ReviewStatus>,
        page: PageRequest,
    ) -> Result<Page<Review>, CommerceError> {
        caller.require_manager()?;
        Ok(self.shop.ports.reviews.all_reviews(status, &page).await?)
    }

    /// Sets a review's status (hides or restores it), audited; the product's rating follows
    /// (managers and admins).
    pub async fn moderate_review(
        &self,
        caller: &Caller,
        id: crate::ids::ReviewId,
        status: ReviewStatus,
    ) -> Result<Review, CommerceError> {
        caller.require_manager()?;
        let mut review = self
            .shop
            .ports
            .reviews
            .review(id)
            .await?
            .ok_or(CommerceError::NotFound("review"))?;
        let before = review.clone();
        review.status = status;
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "review.moderate",
            AuditTarget::new("review", id),
            changes(Some(&before), Some(&review), &[]),
        ));
        self.shop
            .ports
            .reviews
            .update_review(&review, &record)
            .await?;
        Ok(review)
    }

    /// Stores an uploaded image for a product its caller manages. Its type is what its bytes
    /// are (JPEG, PNG or WebP), not what it was called; its name on the store is the image's
    /// own id, never the upload's.
    pub async fn add_image(
        &self,
        caller: &Caller,
        product_id: ProductId,
        bytes: Vec<u8>,
    ) -> Result<ProductImage, CommerceError> {
        let product = self.managed_product(caller, product_id).await?;
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(CommerceError::TooLarge(format!(
                "an image may be {} MiB at most",
                MAX_IMAGE_BYTES / (1024 * 1024)
            )));
        }
        let content_type = image_type(&bytes)
            .ok_or_else(|| {
                CommerceError::UnsupportedMedia("the file is not a JPEG, PNG or WebP image".into())
            })?
            .to_string();
        if product.images.len() >= 20 {
            return Err(CommerceError::validation(
                "file",
                "a product has at most 20 images",
            ));
        }
        let id: ImageId = self.shop.new_id();
        let size = bytes.len() as u64;
        let url = self
            .shop
            .ports
            .images
            .put(&image_key(&id, &content_type), &content_type, bytes)
            .await
            .map_err(|e| CommerceError::Internal(e.to_string()))?;
        let image = ProductImage {
            id,
            url,
            content_type,
            size_bytes: size,
            alt: None,
        };
        let added = image.clone();
        let stored = self
            .change_product(caller, product_id, "product.add_image", move |p| {
                if p.images.len() >= 20 {
                    return Err(CommerceError::validation(
                        "file",
                        "a product has at most 20 images",
                    ));
                }
                p.images.push(added.clone());
                Ok(())
            })
            .await;
        if let Err(e) = stored {
            // The product was not changed: the file must not linger.
            let _ = self
                .shop
                .ports
                .images
                .delete(&image_key(&id, &image.content_type))
                .await;
            return Err(e);
        }
        Ok(image)
    }

    /// Removes a product's image (from the store too), audited.
    pub async fn delete_image(
        &self,
        caller: &Caller,
        product_id: ProductId,
        image_id: ImageId,
    ) -> Result<(), CommerceError> {
        let mut removed = None;
        self.change_product(caller, product_id, "product.delete_image", |p| {
            let index = p
                .images
                .iter()
                .position(|i| i.id == image_id)
                .ok_or(CommerceError::NotFound("image"))?;
            removed = Some(p.images.remove(index));
            Ok(())
        })
        .await?;
        let Some(image) = removed else {
            return Err(CommerceError::NotFound("image"));
        };
        let _ = self
            .shop
            .ports
            .images
            .delete(&image_key(&image.id, &image.content_type))
            .await;
        Ok(())
    }

    /// Publishes `LowStock` for levels at or below their threshold (after checkout).
    pub(crate) fn report_low_stock(&self, levels: &[crate::ports::StockLevel]) {
        let now = self.shop.now();
        for l in levels.iter().filter(|l| l.is_low()) {
            self.shop.ports.events.publish(DomainEvent::LowStock {
                product_id: l.product_id,
                variant_id: l.variant_id,
                available: l.available,
                threshold: l.threshold,
                at: now,
            });
        }
    }

    pub(crate) async fn tree(&self) -> Result<CategoryTree, CommerceError> {
        Ok(CategoryTree::new(
            self.shop.ports.categories.categories().await?,
        ))
    }

    async fn require_category(&self, id: CategoryId) -> Result<(), CommerceError> {
        if self.tree().await?.get(id).is_none() {
            return Err(CommerceError::validation("category_id", "no such category"));
        }
        Ok(())
    }

    async fn managed_product(
        &self,
        caller: &Caller,
        id: ProductId,
    ) -> Result<Product, CommerceError> {
        caller.require_user()?;
        let product = self
            .shop
            .ports
            .products
            .product(id)
            .await?
            .ok_or(CommerceError::NotFound("product"))?;
        if may_manage(caller, &product) {
            Ok(product)
        } else if product.status == ProductStatus::Active {
            Err(CommerceError::Forbidden(
                "only the product's vendor or an admin may change it".into(),
            ))
        } else {
            Err(CommerceError::NotFound("product"))
        }
    }
}

/// The image's key in the image store: its id and an extension from its type.
pub fn image_key(id: &ImageId, content_type: &str) -> String {
    let ext = IMAGE_TYPES
        .iter()
        .find(|(t, _)| *t == content_type)
        .map_or("bin", |(_, e)| e);
    format!("{id}.{ext}")
}

fn may_manage(caller: &Caller, product: &Product) -> bool {
    match caller {
        Caller::User { role, .. } if role.runs_the_shop() => true,
        Caller::User {
            id,
            role: Role::Vendor,
        } => product.vendor_id == *id,
        _ => false,
    }
}

fn tree_error(e: CategoryTreeError) -> CommerceError {
    match e {
        CategoryTreeError::UnknownParent(_) => {
            CommerceError::validation("parent_id", "no such category")
        }
        CategoryTreeError::Cycle => CommerceError::validation(
            "parent_id",
            "a category cannot be moved under itself or one of its descendants",
        ),
        CategoryTreeError::SlugTaken(_) => CommerceError::Taken(UniqueRule::CategorySlug),
        CategoryTreeError::Invalid(errors) => CommerceError::Validation(errors),
    }
}
