//! Storage of the shop's setup: promotions, settings, tax rates and shipping methods. Each
//! write carries a [`ChangeRecord`] (its audit entry) to write in the same transaction.

use super::*;

/// Promotions: codes and automatic ones, with their use counts (counted by `place_order`
/// under their limits). Held by the kit's `promotion_codes_are_unique_and_pricing_gets_the_right_ones`.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PromotionStore: Send + Sync {
    /// `Duplicate(PromotionCode)` when the code is taken.
    async fn insert_promotion(
        &self,
        promotion: &Promotion,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// Overwrites the promotion's terms with `record` (its use count stays the store's);
    /// `NotFound` when it is gone, `Duplicate(PromotionCode)` as above.
    async fn update_promotion(
        &self,
        promotion: &Promotion,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// Deletes the promotion with `record`; `NotFound` when it is gone. Orders keep their
    /// copy of what it took off.
    async fn delete_promotion(
        &self,
        id: PromotionId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// The promotion, with its use count now.
    async fn promotion(&self, id: PromotionId) -> Result<Option<Promotion>, StorageError>;
    /// Every promotion, newest first, a page at a time.
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
    /// The shop's name (invoices, mail).
    pub name: String,
    /// The currency every price is in.
    pub currency: crate::money::Currency,
    /// Whether prices include tax, how tax rounds, whether shipping is taxed.
    pub tax: TaxPolicy,
    /// How amounts round at PRICING.md's named points.
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

/// The shop's settings, tax rates and shipping methods: small tables read often (the engine
/// keeps them under a generation) and written by an admin. Held by the kit's
/// `settings_tax_rates_and_shipping_round_trip`.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// `None` until the shop's settings are first saved.
    async fn store_settings(&self) -> Result<Option<StoreSettings>, StorageError>;
    /// Replaces the settings with `record`.
    async fn save_store_settings(
        &self,
        settings: &StoreSettings,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// Every tax rate, in any order.
    async fn tax_rates(&self) -> Result<Vec<TaxRate>, StorageError>;
    /// Inserts or replaces the rate (by id) with `record`. `Duplicate(TaxRateRegion)` when
    /// another rate has the same country and region.
    async fn save_tax_rate(
        &self,
        rate: &TaxRate,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// Deletes the rate with `record`; `NotFound` when it is gone.
    async fn delete_tax_rate(
        &self,
        id: TaxRateId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// Every shipping method, active or not, in any order.
    async fn shipping_methods(&self) -> Result<Vec<ShippingMethod>, StorageError>;
    /// Inserts or replaces the method (by id) with `record`.
    async fn save_shipping_method(
        &self,
        method: &ShippingMethod,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// Deletes the method with `record`; `NotFound` when it is gone. Orders keep their copy
    /// of it.
    async fn delete_shipping_method(
        &self,
        id: ShippingMethodId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError>;
    /// A number that changes whenever the shop's settings, tax rates, shipping methods or a
    /// promotion's terms change (created, changed, deleted; not an order counting a use),
    /// through any process sharing the storage; the engine keeps them (the automatic
    /// promotions among them) in memory while it stays the same. `None` when the store
    /// cannot tell: then the engine keeps them for `EngineConfig::settings_ttl` only.
    async fn settings_generation(&self) -> Result<Option<u64>, StorageError> {
        Ok(None)
    }
}
