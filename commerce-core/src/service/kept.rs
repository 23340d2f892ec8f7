//! The shop's setup (settings, tax rates, shipping methods, automatic promotions), kept in
//! memory: every price and every checkout needs it, and it changes perhaps once a week. What
//! is kept stays while the store's settings generation stays the same when it has one
//! (PostgreSQL tells every process of every change), else for `EngineConfig::settings_ttl`.
//! Changes made through this `Commerce` apply at once.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use super::{Commerce, CommerceError};
use crate::ports::{StorageError, StoreSettings};
use crate::promotion::Promotion;
use crate::shipping::ShippingMethod;
use crate::tax::TaxRate;

/// One part of the setup as last read, with when and at which settings generation.
struct Kept<T> {
    at: Instant,
    generation: Option<u64>,
    value: T,
}

type Slot<T> = RwLock<Option<Kept<T>>>;

#[derive(Default)]
pub(crate) struct KeptSetup {
    settings: Slot<StoreSettings>,
    tax_rates: Slot<Arc<Vec<TaxRate>>>,
    shipping_methods: Slot<Arc<Vec<ShippingMethod>>>,
    automatic_promotions: Slot<Arc<Vec<Promotion>>>,
    /// Moves with every change made through this process, so that a read that began before
    /// one is not kept after it.
    changes: AtomicU64,
}

impl KeptSetup {
    fn forget_all(&self) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        forget(&self.settings);
        forget(&self.tax_rates);
        forget(&self.shipping_methods);
        forget(&self.automatic_promotions);
    }
}

fn forget<T>(slot: &Slot<T>) {
    if let Ok(mut kept) = slot.write() {
        *kept = None;
    }
}

fn keep<T>(slot: &Slot<T>, generation: Option<u64>, value: T) {
    if let Ok(mut kept) = slot.write() {
        *kept = Some(Kept {
            at: Instant::now(),
            generation,
            value,
        });
    }
}

impl Commerce {
    /// What `slot` keeps if it is still fresh at `generation`, else what `read` reads (then
    /// kept).
    async fn kept<T: Clone>(
        &self,
        slot: impl Fn(&KeptSetup) -> &Slot<T>,
        read: impl Future<Output = Result<T, StorageError>>,
    ) -> Result<T, CommerceError> {
        // Read before the value, so that what is kept is at least as new as its generation.
        let changes = self.setup.changes.load(Ordering::SeqCst);
        let generation = self.ports.settings.settings_generation().await?;
        if let Ok(kept) = slot(&self.setup).read() {
            if let Some(kept) = kept.as_ref() {
                let fresh = match (generation, kept.generation) {
                    (Some(now), Some(then)) => now == then,
                    (None, None) => kept.at.elapsed() < self.config.settings_ttl,
                    _ => false,
                };
                if fresh {
                    return Ok(kept.value.clone());
                }
            }
        }
        let value = read.await?;
        if self.setup.changes.load(Ordering::SeqCst) == changes {
            keep(slot(&self.setup), generation, value.clone());
        }
        Ok(value)
    }

    /// The shop's settings, or the defaults of a new shop.
    pub async fn settings(&self) -> Result<StoreSettings, CommerceError> {
        let default_currency = self.config.default_currency;
        let read = async {
            Ok(self
                .ports
                .settings
                .store_settings()
                .await?
                .unwrap_or_else(|| StoreSettings {
                    currency: default_currency,
                    ..StoreSettings::default()
                }))
        };
        self.kept(|s| &s.settings, read).await
    }

    /// Every tax rate, as prices need them.
    pub(crate) async fn kept_tax_rates(&self) -> Result<Arc<Vec<TaxRate>>, CommerceError> {
        let read = async { Ok(Arc::new(self.ports.settings.tax_rates().await?)) };
        self.kept(|s| &s.tax_rates, read).await
    }

    /// Every shipping method, active or not, as checkout needs them.
    pub(crate) async fn kept_shipping_methods(
        &self,
    ) -> Result<Arc<Vec<ShippingMethod>>, CommerceError> {
        let read = async { Ok(Arc::new(self.ports.settings.shipping_methods().await?)) };
        self.kept(|s| &s.shipping_methods, read).await
    }

    /// The promotions that apply without a code, as pricing a cart without codes needs them.
    /// Kept with the setup while none of them has a usage limit: their use counts, which a
    /// kept copy does not follow, matter to pricing only then; a limited one makes every
    /// price read them again (as a cart with a code always does).
    pub(crate) async fn automatic_promotions(&self) -> Result<Vec<Promotion>, CommerceError> {
        let read = async {
            Ok(Arc::new(
                self.ports.promotions.promotions_for_pricing(&[]).await?,
            ))
        };
        let kept = self.kept(|s| &s.automatic_promotions, read).await?;
        if kept.iter().any(|p| p.usage_limit.is_some()) {
            return Ok(self.ports.promotions.promotions_for_pricing(&[]).await?);
        }
        Ok(kept.as_ref().clone())
    }

    /// Keeps settings this process just saved, under the generation their save moved to.
    pub(crate) async fn remember_settings(&self, settings: &StoreSettings) {
        match self.ports.settings.settings_generation().await {
            Ok(generation) => keep(&self.setup.settings, generation, settings.clone()),
            // Unknown: read them again next time.
            Err(_) => forget(&self.setup.settings),
        }
    }

    /// After this process changed a tax rate, a shipping method or a promotion: read the
    /// setup again.
    pub(crate) fn forget_setup(&self) {
        self.setup.forget_all();
    }
}
