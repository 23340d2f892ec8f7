//! Products, categories and reviews in memory.

use super::*;

fn text_score(product: &Product, words: &[String]) -> u32 {
    let name = product.name.to_lowercase();
    let description = product.description.to_lowercase();
    words
        .iter()
        .map(|w| {
            let in_name = name.contains(w.as_str());
            let in_description = description.contains(w.as_str());
            match (in_name, in_description) {
                (false, false) => 0,
                (true, _) => 3 + u32::from(in_description),
                (false, true) => 1,
            }
        })
        .try_fold(0, |acc, s| (s > 0).then_some(acc + s))
        .unwrap_or(0)
}

/// What the databases' constraints hold a product to, beside its slug: its category exists
/// and its variants' SKUs differ whatever their (ASCII) case, as the core compares them.
fn check_product_rules(s: &State, product: &Product) -> Result<(), StorageError> {
    if let Some(category) = product.category_id {
        if !s.categories.contains_key(&category) {
            return Err(StorageError::MissingReference(Reference::Category));
        }
    }
    let mut skus = HashSet::new();
    if !product
        .variants
        .iter()
        .all(|v| skus.insert(v.sku.to_ascii_uppercase()))
    {
        return Err(StorageError::Duplicate(UniqueRule::VariantSku));
    }
    Ok(())
}

#[async_trait]
impl ProductStore for MemoryStore {
    async fn insert_product(
        &self,
        product: &Product,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if s.products
            .values()
            .any(|p| p.slug == product.slug && p.id != product.id)
        {
            return Err(StorageError::Duplicate(UniqueRule::ProductSlug));
        }
        if s.products.contains_key(&product.id) {
            return Err(StorageError::Duplicate(UniqueRule::RecordId));
        }
        check_product_rules(&s, product)?;
        s.products.insert(product.id, product.clone());
        s.tell(record);
        Ok(())
    }

    async fn update_product(
        &self,
        product: &Product,
        record: &ChangeRecord,
    ) -> Result<Product, StorageError> {
        let mut s = self.lock()?;
        let stored = s.products.get(&product.id).ok_or(StorageError::NotFound)?;
        if stored.version != product.version {
            return Err(StorageError::VersionConflict);
        }
        if s.products
            .values()
            .any(|p| p.slug == product.slug && p.id != product.id)
        {
            return Err(StorageError::Duplicate(UniqueRule::ProductSlug));
        }
        check_product_rules(&s, product)?;
        let mut next = product.clone();
        next.version += 1;
        // The rating belongs to the reviews; a product read before a review must not undo it.
        next.rating = stored.rating;
        let units: Vec<(ProductId, Option<VariantId>)> = match stored.variants.as_slice() {
            [] => vec![(stored.id, None)],
            variants => variants.iter().map(|v| (stored.id, Some(v.id))).collect(),
        };
        let before = s.stock_before(record, units);
        s.products.insert(next.id, next.clone());
        s.tell_with_stock(record, before);
        Ok(next)
    }

    async fn delete_product(
        &self,
        id: ProductId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        s.products.remove(&id).ok_or(StorageError::NotFound)?;
        s.tell(record);
        Ok(())
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>, StorageError> {
        Ok(self.lock()?.products.get(&id).cloned())
    }

    async fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, StorageError> {
        let s = self.lock()?;
        Ok(ids
            .iter()
            .filter_map(|id| s.products.get(id).cloned())
            .collect())
    }

    async fn list_products(&self, q: &ProductQuery) -> Result<Page<Product>, StorageError> {
        let s = self.lock()?;
        let words: Vec<String> = q
            .text
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let matching: Vec<(u32, Product)> = s
            .products
            .values()
            .filter(|p| q.statuses.is_empty() || q.statuses.contains(&p.status))
            .filter(|p| {
                q.category_ids
                    .as_ref()
                    .is_none_or(|ids| p.category_id.is_some_and(|c| ids.contains(&c)))
            })
            .filter(|p| q.min_price.is_none_or(|m| p.price.amount() >= m))
            .filter(|p| q.max_price.is_none_or(|m| p.price.amount() <= m))
            .filter(|p| !q.in_stock || p.inventory_count > 0)
            .filter(|p| q.vendor_id.is_none_or(|v| p.vendor_id == v))
            .filter_map(|p| {
                if words.is_empty() {
                    Some((0, p.clone()))
                } else {
                    let score = text_score(p, &words);
                    (score > 0).then(|| (score, p.clone()))
                }
            })
            .collect();
        let page = match q.sort {
            ProductSort::Newest => page_after(
                matching,
                |(_, p)| (std::cmp::Reverse(p.created_at), p.id),
                |(_, p)| p.id.to_string(),
                &q.page,
            ),
            ProductSort::PriceAsc => page_after(
                matching,
                |(_, p)| (p.price.amount(), p.id),
                |(_, p)| p.id.to_string(),
                &q.page,
            ),
            ProductSort::PriceDesc => page_after(
                matching,
                |(_, p)| (std::cmp::Reverse(p.price.amount()), p.id),
                |(_, p)| p.id.to_string(),
                &q.page,
            ),
            ProductSort::Rating => page_after(
                matching,
                |(_, p)| (std::cmp::Reverse((p.rating.average, p.rating.count)), p.id),
                |(_, p)| p.id.to_string(),
                &q.page,
            ),
            ProductSort::Name => page_after(
                matching,
                |(_, p)| (p.name.to_lowercase(), p.id),
                |(_, p)| p.id.to_string(),
                &q.page,
            ),
            ProductSort::Relevance => page_after(
                matching,
                |(score, p)| {
                    (
                        std::cmp::Reverse(*score),
                        std::cmp::Reverse(p.created_at),
                        p.id,
                    )
                },
                |(_, p)| p.id.to_string(),
                &q.page,
            ),
        };
        Ok(page.map(|(_, p)| p))
    }

    async fn low_stock(&self, limit: u32) -> Result<Vec<Product>, StorageError> {
        let s = self.lock()?;
        let mut low: Vec<Product> = s
            .products
            .values()
            .filter(|p| p.status == ProductStatus::Active && p.is_low_on_stock())
            .cloned()
            .collect();
        low.sort_by_key(|p| (p.inventory_count, p.id));
        low.truncate(limit as usize);
        Ok(low)
    }

    async fn catalog_generation(&self) -> Result<Option<u64>, StorageError> {
        let s = self.lock()?;
        Ok(Some(s.products.writes + s.categories.writes))
    }
}

#[async_trait]
impl CategoryStore for MemoryStore {
    async fn categories(&self) -> Result<Vec<Category>, StorageError> {
        Ok(self.lock()?.categories.values().cloned().collect())
    }

    async fn insert_category(
        &self,
        category: &Category,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if s.categories.values().any(|c| c.slug == category.slug) {
            return Err(StorageError::Duplicate(UniqueRule::CategorySlug));
        }
        if let Some(parent) = category.parent_id {
            if !s.categories.contains_key(&parent) {
                return Err(StorageError::MissingReference(Reference::ParentCategory));
            }
        }
        s.categories.insert(category.id, category.clone());
        s.tell(record);
        Ok(())
    }

    async fn update_category(
        &self,
        category: &Category,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.categories.contains_key(&category.id) {
            return Err(StorageError::NotFound);
        }
        if s.categories
            .values()
            .any(|c| c.slug == category.slug && c.id != category.id)
        {
            return Err(StorageError::Duplicate(UniqueRule::CategorySlug));
        }
        s.categories.insert(category.id, category.clone());
        s.tell(record);
        Ok(())
    }

    async fn delete_category(
        &self,
        id: CategoryId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        let removed = s.categories.remove(&id).ok_or(StorageError::NotFound)?;
        for c in s.categories.values_mut() {
            if c.parent_id == Some(id) {
                c.parent_id = removed.parent_id;
            }
        }
        for p in s.products.values_mut() {
            if p.category_id == Some(id) {
                p.category_id = None;
            }
        }
        s.tell(record);
        Ok(())
    }
}

fn refresh_rating(s: &mut State, product_id: ProductId) {
    let reviews: Vec<Review> = s
        .reviews
        .values()
        .filter(|r| r.product_id == product_id)
        .cloned()
        .collect();
    if let Some(p) = s.products.get_mut(&product_id) {
        p.rating = rating_of(&reviews);
    }
}

#[async_trait]
impl ReviewStore for MemoryStore {
    async fn insert_review(
        &self,
        review: &Review,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.products.contains_key(&review.product_id) {
            return Err(StorageError::MissingReference(Reference::Product));
        }
        if s.reviews
            .values()
            .any(|r| r.product_id == review.product_id && r.user_id == review.user_id)
        {
            return Err(StorageError::Duplicate(UniqueRule::OneReviewPerCustomer));
        }
        s.reviews.insert(review.id, review.clone());
        refresh_rating(&mut s, review.product_id);
        s.tell(record);
        Ok(())
    }

    async fn update_review(
        &self,
        review: &Review,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if !s.reviews.contains_key(&review.id) {
            return Err(StorageError::NotFound);
        }
        s.reviews.insert(review.id, review.clone());
        refresh_rating(&mut s, review.product_id);
        s.tell(record);
        Ok(())
    }

    async fn review(&self, id: ReviewId) -> Result<Option<Review>, StorageError> {
        Ok(self.lock()?.reviews.get(&id).cloned())
    }

    async fn reviews(
        &self,
        product_id: ProductId,
        page: &PageRequest,
    ) -> Result<Page<Review>, StorageError> {
        let s = self.lock()?;
        let items: Vec<Review> = s
            .reviews
            .values()
            .filter(|r| r.product_id == product_id && r.status == ReviewStatus::Approved)
            .cloned()
            .collect();
        Ok(page_after(
            items,
            |r| (std::cmp::Reverse(r.created_at), r.id),
            |r| r.id.to_string(),
            page,
        ))
    }

    async fn all_reviews(
        &self,
        status: Option<ReviewStatus>,
        page: &PageRequest,
    ) -> Result<Page<Review>, StorageError> {
        let s = self.lock()?;
        let items: Vec<Review> = s
            .reviews
            .values()
            .filter(|r| status.is_none_or(|st| r.status == st))
            .cloned()
            .collect();
        Ok(page_after(
            items,
            |r| (std::cmp::Reverse(r.created_at), r.id),
            |r| r.id.to_string(),
            page,
        ))
    }

    async fn has_reviewed(
        &self,
        product_id: ProductId,
        user_id: UserId,
    ) -> Result<bool, StorageError> {
        Ok(self
            .lock()?
            .reviews
            .values()
            .any(|r| r.product_id == product_id && r.user_id == user_id))
    }
}
