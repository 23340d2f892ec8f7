//! The shop's settings, tax rates and shipping methods in memory.

use super::*;

#[async_trait]
impl SettingsStore for MemoryStore {
    async fn store_settings(&self) -> Result<Option<StoreSettings>, StorageError> {
        Ok(self.lock()?.settings.clone())
    }

    async fn save_store_settings(
        &self,
        settings: &StoreSettings,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        s.settings = Some(settings.clone());
        s.tell(record);
        Ok(())
    }

    async fn tax_rates(&self) -> Result<Vec<TaxRate>, StorageError> {
        let mut list: Vec<TaxRate> = self.lock()?.tax_rates.values().cloned().collect();
        list.sort_by(|a, b| (&a.country, &a.region, a.id).cmp(&(&b.country, &b.region, b.id)));
        Ok(list)
    }

    async fn save_tax_rate(
        &self,
        rate: &TaxRate,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        if s.tax_rates
            .values()
            .any(|r| r.id != rate.id && r.country == rate.country && r.region == rate.region)
        {
            return Err(StorageError::Duplicate(UniqueRule::TaxRateRegion));
        }
        s.tax_rates.insert(rate.id, rate.clone());
        s.tell(record);
        Ok(())
    }

    async fn delete_tax_rate(
        &self,
        id: TaxRateId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        s.tax_rates.remove(&id).ok_or(StorageError::NotFound)?;
        s.tell(record);
        Ok(())
    }

    async fn shipping_methods(&self) -> Result<Vec<ShippingMethod>, StorageError> {
        let mut list: Vec<ShippingMethod> = self.lock()?.shipping.values().cloned().collect();
        list.sort_by(|a, b| {
            (a.price.amount(), &a.name, a.id).cmp(&(b.price.amount(), &b.name, b.id))
        });
        Ok(list)
    }

    async fn save_shipping_method(
        &self,
        method: &ShippingMethod,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        s.shipping.insert(method.id, method.clone());
        s.tell(record);
        Ok(())
    }

    async fn delete_shipping_method(
        &self,
        id: ShippingMethodId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        s.shipping.remove(&id).ok_or(StorageError::NotFound)?;
        s.tell(record);
        Ok(())
    }
}
