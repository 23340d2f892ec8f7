//! The shop's settings, tax rates and shipping methods.

use async_trait::async_trait;
use commerce_core::ids::{ShippingMethodId, TaxRateId};
use commerce_core::ports::{SettingsStore, StorageError, StoreSettings};
use commerce_core::shipping::ShippingMethod;
use commerce_core::tax::TaxRate;
use rust_decimal::Decimal;
use uuid::Uuid;

use commerce_core::outbox::ChangeRecord;

use crate::{col, currency_of, found, from_json, json, money_in, storage_error, PgStore};

#[async_trait]
impl SettingsStore for PgStore {
    async fn store_settings(&self) -> Result<Option<StoreSettings>, StorageError> {
        let data: Option<serde_json::Value> =
            sqlx::query_scalar("SELECT data FROM store_settings WHERE id = 1")
                .fetch_optional(self.pool())
                .await
                .map_err(storage_error)?;
        data.map(from_json).transpose()
    }

    async fn save_store_settings(
        &self,
        settings: &StoreSettings,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        self.execute_recorded(
            sqlx::query(
                "INSERT INTO store_settings (id, data) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            )
            .bind(json(settings)?),
            record,
        )
        .await?;
        self.settings_changed();
        Ok(())
    }

    /// Kept while the settings generation stays the same.
    async fn tax_rates(&self) -> Result<Vec<TaxRate>, StorageError> {
        let generation = self.inner.changes.settings_generation();
        self.inner
            .tax_rates
            .get_or_read(generation, || async {
                let rows = sqlx::query(
                    "SELECT id, country, region, rate, created_at, updated_at FROM tax_rates ORDER BY country, region, id",
                )
                .fetch_all(self.pool())
                .await
                .map_err(storage_error)?;
                rows.iter()
                    .map(|r| {
                        let region: String = col(r, 2)?;
                        Ok(TaxRate {
                            id: col::<Uuid>(r, 0)?.into(),
                            country: col(r, 1)?,
                            region: (!region.is_empty()).then_some(region),
                            rate: col(r, 3)?,
                            created_at: col(r, 4)?,
                            updated_at: col(r, 5)?,
                        })
                    })
                    .collect()
            })
            .await
    }

    async fn save_tax_rate(&self, t: &TaxRate, record: &ChangeRecord) -> Result<(), StorageError> {
        self.execute_recorded(
            sqlx::query(
                "INSERT INTO tax_rates (id, country, region, rate, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (id) DO UPDATE SET country = excluded.country, region = excluded.region, rate = excluded.rate,
                     updated_at = excluded.updated_at",
            )
            .bind(t.id.as_uuid())
            .bind(&t.country)
            .bind(t.region.clone().unwrap_or_default())
            .bind(t.rate)
            .bind(t.created_at)
            .bind(t.updated_at),
            record,
        )
        .await?;
        self.settings_changed();
        Ok(())
    }

    async fn delete_tax_rate(
        &self,
        id: TaxRateId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let touched = self
            .execute_recorded(
                sqlx::query("DELETE FROM tax_rates WHERE id = $1").bind(id.as_uuid()),
                record,
            )
            .await?;
        self.settings_changed();
        found(touched)
    }

    /// Kept while the settings generation stays the same.
    async fn shipping_methods(&self) -> Result<Vec<ShippingMethod>, StorageError> {
        let generation = self.inner.changes.settings_generation();
        self.inner
            .shipping_methods
            .get_or_read(generation, || async {
                let rows = sqlx::query(
                    "SELECT id, name, price, free_above, active, created_at, updated_at, currency
                     FROM shipping_methods ORDER BY price, name, id",
                )
                .fetch_all(self.pool())
                .await
                .map_err(storage_error)?;
                rows.iter()
                    .map(|r| {
                        let currency = currency_of(&col::<String>(r, 7)?)?;
                        let money = |amount: Decimal| money_in(amount, currency);
                        Ok(ShippingMethod {
                            id: col::<Uuid>(r, 0)?.into(),
                            name: col(r, 1)?,
                            price: money(col(r, 2)?)?,
                            free_above: col::<Option<Decimal>>(r, 3)?.map(money).transpose()?,
                            active: col(r, 4)?,
                            created_at: col(r, 5)?,
                            updated_at: col(r, 6)?,
                        })
                    })
                    .collect()
            })
            .await
    }

    async fn save_shipping_method(
        &self,
        m: &ShippingMethod,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        self.execute_recorded(
            sqlx::query(
                "INSERT INTO shipping_methods (id, name, price, free_above, active, created_at, updated_at, currency)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, price = excluded.price,
                     free_above = excluded.free_above, active = excluded.active, updated_at = excluded.updated_at,
                     currency = excluded.currency",
            )
            .bind(m.id.as_uuid())
            .bind(&m.name)
            .bind(m.price.amount())
            .bind(m.free_above.map(|f| f.amount()))
            .bind(m.active)
            .bind(m.created_at)
            .bind(m.updated_at)
            .bind(m.price.currency().code()),
            record,
        )
        .await?;
        self.settings_changed();
        Ok(())
    }

    async fn delete_shipping_method(
        &self,
        id: ShippingMethodId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let touched = self
            .execute_recorded(
                sqlx::query("DELETE FROM shipping_methods WHERE id = $1").bind(id.as_uuid()),
                record,
            )
            .await?;
        self.settings_changed();
        found(touched)
    }

    /// Moved by this process's writes at once and by other processes' through
    /// `LISTEN/NOTIFY`; unknown while not listening.
    async fn settings_generation(&self) -> Result<Option<u64>, StorageError> {
        Ok(self.inner.changes.settings_generation())
    }
}
