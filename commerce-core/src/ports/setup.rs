//! Storage of the shop's setup: promotions, settings, tax rates and shipping methods. Each
//! write carries a [`ChangeRecord`] (its audit entry) to write in the same transaction.

use super::*;

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PromotionStore: Send + Sync {
    /// `Duplicate(PromotionCode)` when the code is taken.
    async fn insert_promotion(
        &self,
        promotion: &Promotion,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    async fn update_promotion(
        &self,
        promotion: &Promotion,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    async fn delete_promotion(
        &self,
        id: PromotionId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    async fn promotion(&self, id: PromotionId) -> Result<Option<Promotion>, StorageError>;
    async fn list_promotions(&self, page: &PageRequest) -> Result<Page<Promotion>, StorageError>;
    /// What pricing needs: every automatic promotion and those with one of `codes`
    /// (upper-case), active or not (the engine reports why a code does not apply).
    async fn promotions_for_pricing(
        &self,
        codes: &[String],
    ) -> Result<Vec<Promotion>, StorageError>;
    /// How often `customer_key` used each of `ids` in orders.
    async fn customer_uses(
        &self,
        customer_key: &str,
        ids: &[PromotionId],
    ) -> Result<Vec<(PromotionId, u32)>, StorageError>;
}

/// The shop's own settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreSettings {
    pub name: String,
    pub currency: crate::money::Currency,
    pub tax: TaxPolicy,
    pub rounding: crate::money::Rounding,
    /// The seller's address, shown on invoices.
    #[serde(default)]
    pub address: Option<crate::account::Address>,
    /// What a product created without its own low-stock threshold takes.
    #[serde(default = "default_low_stock_threshold")]
    pub low_stock_threshold: u32,
}

fn default_low_stock_threshold() -> u32 {
    crate::catalog::DEFAULT_LOW_STOCK_THRESHOLD
}

impl Default for StoreSettings {
    /// A new shop: USD, prices excluding tax, per-line rounding, untaxed shipping.
    fn default() -> Self {
        Self {
            name: "Commerce".to_string(),
            currency: crate::money::Currency::USD,
            tax: TaxPolicy::default(),
            rounding: crate::money::Rounding::HalfEven,
            address: None,
            low_stock_threshold: default_low_stock_threshold(),
        }
    }
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// `None` until the shop's settings are first saved.
    async fn store_settings(&self) -> Result<Option<StoreSettings>, StorageError>;
    async fn save_store_settings(
        &self,
        settings: &StoreSettings,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    async fn tax_rates(&self) -> Result<Vec<TaxRate>, StorageError>;
    async fn save_tax_rate(
        &self,
        rate: &TaxRate,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    async fn delete_tax_rate(
        &self,
        id: TaxRateId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    async fn shipping_methods(&self) -> Result<Vec<ShippingMethod>, StorageError>;
    async fn save_shipping_method(
        &self,
        method: &ShippingMethod,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    async fn delete_shipping_method(
        &self,
        id: ShippingMethodId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// A number that changes whenever the shop's settings, tax rates or shipping methods
    /// change, through any process sharing the storage; the engine keeps the settings in
    /// memory while it stays the same. `None` when the store cannot tell: then the engine
    /// keeps them for `EngineConfig::settings_ttl` only.
    async fn settings_generation(&self) -> Result<Option<u64>, StorageError> {
        Ok(None)
    }
}
