//! The shop's settings, tax rates and shipping methods.

use async_trait::async_trait;
use commerce_core::ids::{ShippingMethodId, TaxRateId};
use commerce_core::ports::{SettingsStore, StorageError, StoreSettings};
use commerce_core::shipping::ShippingMethod;
use commerce_core::tax::TaxRate;
use rusqlite::{params, OptionalExtension};

use crate::codec::{amount_key, json, time_text, RowExt};
use crate::{found, storage_error, SqliteStore, Told};
use commerce_core::outbox::ChangeRecord;

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn store_settings(&self) -> Result<Option<StoreSettings>, StorageError> {
        self.read_inline(|conn| {
            conn.prepare_cached("SELECT data FROM store_settings WHERE id = 1")
                .map_err(storage_error)?
                .query_row([], |r| r.json(0))
                .optional()
                .map_err(storage_error)
        })
        .await
    }

    async fn save_store_settings(
        &self,
        settings: &StoreSettings,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        let data = json(settings)?;
        self.write_told(told, move |conn| {
            conn.execute("INSERT INTO store_settings (id, data) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET data = excluded.data", [data])
                .map_err(storage_error)?;
            Ok(())
        })
        .await
    }

    async fn tax_rates(&self) -> Result<Vec<TaxRate>, StorageError> {
        self.read_inline(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT id, country, region, rate, created_at, updated_at FROM tax_rates ORDER BY country, region, id")
                .map_err(storage_error)?;
            let rows = stmt
                .query_map([], |r| {
                    let region: String = r.get(2)?;
                    Ok(TaxRate {
                        id: r.id(0)?,
                        country: r.get(1)?,
                        region: (!region.is_empty()).then_some(region),
                        rate: r.decimal(3)?,
                        created_at: r.time(4)?,
                        updated_at: r.time(5)?,
                    })
                })
                .map_err(storage_error)?;
            rows.collect::<Result<_, _>>().map_err(storage_error)
        })
        .await
    }

    async fn save_tax_rate(
        &self,
        rate: &TaxRate,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        let t = rate.clone();
        self.write_told(told, move |conn| {
            conn.execute(
                "INSERT INTO tax_rates (id, country, region, rate, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(id) DO UPDATE SET country = excluded.country, region = excluded.region, rate = excluded.rate,
                     updated_at = excluded.updated_at",
                params![
                    t.id.to_string(),
                    t.country,
                    t.region.clone().unwrap_or_default(),
                    t.rate.to_string(),
                    time_text(t.created_at),
                    time_text(t.updated_at)
                ],
            )
            .map_err(storage_error)?;
            Ok(())
        })
        .await
    }

    async fn delete_tax_rate(
        &self,
        id: TaxRateId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        self.write_told(told, move |conn| {
            found(
                conn.execute("DELETE FROM tax_rates WHERE id = ?1", [id.to_string()])
                    .map_err(storage_error)?,
            )
        })
        .await
    }

    async fn shipping_methods(&self) -> Result<Vec<ShippingMethod>, StorageError> {
        self.read_inline(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, name, price, free_above, active, created_at, updated_at, currency FROM shipping_methods ORDER BY price_key, name, id",
                )
                .map_err(storage_error)?;
            let rows = stmt
                .query_map([], |r| {
                    let price = r.money(2, 7)?;
                    Ok(ShippingMethod {
                        id: r.id(0)?,
                        name: r.get(1)?,
                        price,
                        free_above: r.opt_money(3, price.currency())?,
                        active: r.get(4)?,
                        created_at: r.time(5)?,
                        updated_at: r.time(6)?,
                    })
                })
                .map_err(storage_error)?;
            rows.collect::<Result<_, _>>().map_err(storage_error)
        })
        .await
    }

    async fn save_shipping_method(
        &self,
        method: &ShippingMethod,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        let m = method.clone();
        self.write_told(told, move |conn| {
            conn.execute(
                "INSERT INTO shipping_methods (id, name, price, price_key, free_above, active, created_at, updated_at, currency)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, price = excluded.price, price_key = excluded.price_key,
                     free_above = excluded.free_above, active = excluded.active, updated_at = excluded.updated_at,
                     currency = excluded.currency",
                params![
                    m.id.to_string(),
                    m.name,
                    m.price.amount().to_string(),
                    amount_key(m.price.amount()),
                    m.free_above.map(|f| f.amount().to_string()),
                    m.active,
                    time_text(m.created_at),
                    time_text(m.updated_at),
                    m.price.currency().code()
                ],
            )
            .map_err(storage_error)?;
            Ok(())
        })
        .await
    }

    async fn delete_shipping_method(
        &self,
        id: ShippingMethodId,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        self.write_told(told, move |conn| {
            found(
                conn.execute(
                    "DELETE FROM shipping_methods WHERE id = ?1",
                    [id.to_string()],
                )
                .map_err(storage_error)?,
            )
        })
        .await
    }
}
