//! Promotions in memory.

use super::*;

#[async_trait]
impl PromotionStore for MemoryStore {
    async fn insert_promotion(
        &self,
        promotion: &Promotion,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if promotion.code.is_some() && s.promotions.values().any(|p| p.code == promotion.code) {
            return Err(StorageError::Duplicate(UniqueRule::PromotionCode));
        }
        s.promotions.insert(promotion.id, promotion.clone());
        s.tell(record);
        Ok(())
    }

    async fn update_promotion(
        &self,
        promotion: &Promotion,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        let Some(used_count) = s.promotions.get(&promotion.id).map(|p| p.used_count) else {
            return Err(StorageError::NotFound);
        };
        if promotion.code.is_some()
            && s.promotions
                .values()
                .any(|p| p.code == promotion.code && p.id != promotion.id)
        {
            return Err(StorageError::Duplicate(UniqueRule::PromotionCode));
        }
        // The terms only: the use count is what orders made it.
        s.promotions.insert(
            promotion.id,
            Promotion {
                used_count,
                ..promotion.clone()
            },
        );
        s.tell(record);
        Ok(())
    }

    async fn delete_promotion(
        &self,
        id: PromotionId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        s.promotions.remove(&id).ok_or(StorageError::NotFound)?;
        s.tell(record);
        Ok(())
    }

    async fn promotion(&self, id: PromotionId) -> Result<Option<Promotion>, StorageError> {
        Ok(self.lock()?.promotions.get(&id).cloned())
    }

    async fn list_promotions(&self, page: &PageRequest) -> Result<Page<Promotion>, StorageError> {
        let items: Vec<Promotion> = self.lock()?.promotions.values().cloned().collect();
        Ok(page_after(
            items,
            |p| (std::cmp::Reverse(p.created_at), p.id),
            |p| p.id.to_string(),
            page,
        ))
    }

    async fn promotions_for_pricing(
        &self,
        codes: &[String],
    ) -> Result<Vec<Promotion>, StorageError> {
        let s = self.lock()?;
        let mut list: Vec<Promotion> = s
            .promotions
            .values()
            .filter(|p| match &p.code {
                None => true,
                Some(c) => codes.contains(c),
            })
            .cloned()
            .collect();
        list.sort_by_key(|p| p.id);
        Ok(list)
    }

    async fn customer_uses(
        &self,
        customer_key: &str,
        ids: &[PromotionId],
    ) -> Result<Vec<(PromotionId, u32)>, StorageError> {
        let s = self.lock()?;
        Ok(ids
            .iter()
            .filter_map(|id| {
                s.promotion_uses
                    .get(&(*id, customer_key.to_string()))
                    .map(|n| (*id, *n))
            })
            .collect())
    }
}
