//! Admin use cases: promotions, tax rates, shipping methods, the shop's settings, the
//! dashboard and the sales report.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{Caller, Commerce, CommerceError};
use crate::audit::{self, changes, AuditTarget};
use crate::catalog::Product;
use crate::ids::{PromotionId, ShippingMethodId, TaxRateId};
use crate::money::{Currency, Money};
use crate::order::OrderStatus;
use crate::outbox::ChangeRecord;
use crate::ports::{Page, PageRequest, StorageError, StoreSettings};
use crate::promotion::{Promotion, PromotionDraft};
use crate::shipping::ShippingMethod;
use crate::tax::{TaxRate, TaxRounding};
use crate::validation::{has_control_characters, Lines};

/// A partial update of the shop's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreChanges {
    /// A new name.
    pub name: Option<String>,
    /// Whether prices include tax.
    pub prices_include_tax: Option<bool>,
    /// Tax rounded per line or per order.
    pub tax_rounding: Option<TaxRounding>,
    /// Whether shipping is taxed.
    pub tax_shipping: Option<bool>,
    /// The seller's address (on invoices): a full postal address.
    pub address: Option<crate::account::Address>,
    /// What a product created without its own low-stock threshold takes.
    pub low_stock_threshold: Option<u32>,
}

/// The figures the admin's home page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    /// Total of orders paid and not cancelled or refunded (partial refunds are not deducted).
    pub revenue: Money,
    /// How many orders are in each status.
    pub orders_by_status: Vec<(OrderStatus, u64)>,
    /// Orders placed today (UTC).
    pub orders_today: u32,
    /// Best sellers by units over the last 30 days: (product id, name, units).
    pub top_products: Vec<(crate::ids::ProductId, String, u64)>,
    /// Active products at or below their low-stock threshold, lowest first.
    pub low_stock: Vec<Product>,
}

/// Running the shop ([`Commerce::admin`]): managers and admins, as each method says.
pub struct Admin<'a> {
    pub(super) shop: &'a Commerce,
}

impl Admin<'_> {
    /// Every promotion, newest first (managers and admins).
    pub async fn promotions(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<Page<Promotion>, CommerceError> {
        caller.require_manager()?;
        Ok(self.shop.ports.promotions.list_promotions(&page).await?)
    }

    /// One promotion (managers and admins).
    pub async fn promotion(
        &self,
        caller: &Caller,
        id: PromotionId,
    ) -> Result<Promotion, CommerceError> {
        caller.require_manager()?;
        self.shop
            .ports
            .promotions
            .promotion(id)
            .await?
            .ok_or(CommerceError::NotFound("discount"))
    }

    /// Creates a promotion from a checked draft, audited (managers and admins).
    pub async fn create_promotion(
        &self,
        caller: &Caller,
        draft: PromotionDraft,
    ) -> Result<Promotion, CommerceError> {
        caller.require_manager()?;
        let settings = self.shop.settings().await?;
        let promotion = draft.validate(self.shop.new_id(), settings.currency, self.shop.now())?;
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "discount.create",
            AuditTarget::new("discount", promotion.id),
            changes(None, Some(&promotion), &[]),
        ));
        self.shop
            .ports
            .promotions
            .insert_promotion(&promotion, &record)
            .await?;
        self.shop.forget_setup();
        Ok(promotion)
    }

    /// Replaces a promotion's terms; its usage count stays.
    pub async fn update_promotion(
        &self,
        caller: &Caller,
        id: PromotionId,
        draft: PromotionDraft,
    ) -> Result<Promotion, CommerceError> {
        caller.require_manager()?;
        let existing = self.promotion(caller, id).await?;
        let settings = self.shop.settings().await?;
        let mut promotion = draft.validate(id, settings.currency, self.shop.now())?;
        promotion.used_count = existing.used_count;
        promotion.created_at = existing.created_at;
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "discount.update",
            AuditTarget::new("discount", id),
            changes(Some(&existing), Some(&promotion), &[]),
        ));
        self.shop
            .ports
            .promotions
            .update_promotion(&promotion, &record)
            .await?;
        self.shop.forget_setup();
        Ok(promotion)
    }

    /// Deletes a promotion, audited (managers and admins).
    pub async fn delete_promotion(
        &self,
        caller: &Caller,
        id: PromotionId,
    ) -> Result<(), CommerceError> {
        let existing = self.promotion(caller, id).await?;
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "discount.delete",
            AuditTarget::new("discount", id),
            changes(Some(&existing), None, &[]),
        ));
        self.shop
            .ports
            .promotions
            .delete_promotion(id, &record)
            .await
            .map_err(not_found("discount"))?;
        self.shop.forget_setup();
        Ok(())
    }

    /// Every tax rate (admins).
    pub async fn tax_rates(&self, caller: &Caller) -> Result<Vec<TaxRate>, CommerceError> {
        caller.require_admin()?;
        Ok(self.shop.ports.settings.tax_rates().await?)
    }

    /// One tax rate (admins).
    pub async fn tax_rate(&self, caller: &Caller, id: TaxRateId) -> Result<TaxRate, CommerceError> {
        caller.require_admin()?;
        self.shop
            .ports
            .settings
            .tax_rates()
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(CommerceError::NotFound("tax rate"))
    }

    /// Creates (`id` None) or replaces a rate; one rate per country and region.
    pub async fn save_tax_rate(
        &self,
        caller: &Caller,
        id: Option<TaxRateId>,
        country: &str,
        region: Option<&str>,
        rate: Decimal,
    ) -> Result<TaxRate, CommerceError> {
        caller.require_admin()?;
        let now = self.shop.now();
        let existing = match id {
            Some(id) => Some(self.tax_rate(caller, id).await?),
            None => None,
        };
        let mut tax_rate = TaxRate::new(
            id.unwrap_or_else(|| self.shop.new_id()),
            country,
            region,
            rate,
            now,
        )?;
        if let Some(e) = &existing {
            tax_rate.created_at = e.created_at;
        }
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            if existing.is_some() {
                "tax_rate.update"
            } else {
                "tax_rate.create"
            },
            AuditTarget::new("tax_rate", tax_rate.id),
            changes(existing.as_ref(), Some(&tax_rate), &[]),
        ));
        let saved = self
            .shop
            .ports
            .settings
            .save_tax_rate(&tax_rate, &record)
            .await;
        self.shop.forget_setup();
        saved?;
        Ok(tax_rate)
    }

    /// Deletes a tax rate, audited (admins).
    pub async fn delete_tax_rate(
        &self,
        caller: &Caller,
        id: TaxRateId,
    ) -> Result<(), CommerceError> {
        let existing = self.tax_rate(caller, id).await?;
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "tax_rate.delete",
            AuditTarget::new("tax_rate", id),
            changes(Some(&existing), None, &[]),
        ));
        let deleted = self.shop.ports.settings.delete_tax_rate(id, &record).await;
        self.shop.forget_setup();
        deleted.map_err(not_found("tax rate"))
    }

    /// Every shipping method, inactive ones included (admins); see
    /// [`Admin::active_shipping_methods`] for the public list.
    pub async fn shipping_methods(
        &self,
        caller: &Caller,
    ) -> Result<Vec<ShippingMethod>, CommerceError> {
        caller.require_admin()?;
        Ok(self.shop.ports.settings.shipping_methods().await?)
    }

    /// One shipping method, inactive or not (admins).
    pub async fn shipping_method(
        &self,
        caller: &Caller,
        id: ShippingMethodId,
    ) -> Result<ShippingMethod, CommerceError> {
        caller.require_admin()?;
        self.shop
            .ports
            .settings
            .shipping_methods()
            .await?
            .into_iter()
            .find(|m| m.id == id)
            .ok_or(CommerceError::NotFound("shipping method"))
    }

    /// The shipping methods buyers may choose (anyone).
    pub async fn active_shipping_methods(&self) -> Result<Vec<ShippingMethod>, CommerceError> {
        Ok(self
            .shop
            .kept_shipping_methods()
            .await?
            .iter()
            .filter(|m| m.active)
            .cloned()
            .collect())
    }

    /// Creates (`id` `None`) or replaces a shipping method, audited (admins).
    pub async fn save_shipping_method(
        &self,
        caller: &Caller,
        id: Option<ShippingMethodId>,
        name: &str,
        price: Decimal,
        free_above: Option<Decimal>,
        active: bool,
    ) -> Result<ShippingMethod, CommerceError> {
        caller.require_admin()?;
        let settings = self.shop.settings().await?;
        let existing = match id {
            Some(id) => Some(self.shipping_method(caller, id).await?),
            None => None,
        };
        let mut method = ShippingMethod::new(
            id.unwrap_or_else(|| self.shop.new_id()),
            name,
            price,
            free_above,
            active,
            settings.currency,
            self.shop.now(),
        )?;
        if let Some(e) = &existing {
            method.created_at = e.created_at;
        }
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            if existing.is_some() {
                "shipping_method.update"
            } else {
                "shipping_method.create"
            },
            AuditTarget::new("shipping_method", method.id),
            changes(existing.as_ref(), Some(&method), &[]),
        ));
        let saved = self
            .shop
            .ports
            .settings
            .save_shipping_method(&method, &record)
            .await;
        self.shop.forget_setup();
        saved?;
        Ok(method)
    }

    /// Deletes a shipping method, audited (admins).
    pub async fn delete_shipping_method(
        &self,
        caller: &Caller,
        id: ShippingMethodId,
    ) -> Result<(), CommerceError> {
        let existing = self.shipping_method(caller, id).await?;
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "shipping_method.delete",
            AuditTarget::new("shipping_method", id),
            changes(Some(&existing), None, &[]),
        ));
        let deleted = self
            .shop
            .ports
            .settings
            .delete_shipping_method(id, &record)
            .await;
        self.shop.forget_setup();
        deleted.map_err(not_found("shipping method"))
    }

    /// Changes the shop's settings. The currency is chosen once, before the first product.
    pub async fn update_store(
        &self,
        caller: &Caller,
        changes: StoreChanges,
    ) -> Result<StoreSettings, CommerceError> {
        caller.require_admin()?;
        let before = self.shop.settings().await?;
        let mut settings = before.clone();
        if let Some(name) = changes.name {
            let name = name.trim();
            let most = crate::limits::MAX_NAME_CHARS;
            if name.is_empty() || name.chars().count() > most {
                return Err(CommerceError::validation(
                    "name",
                    format!("must be 1 to {most} characters"),
                ));
            }
            if has_control_characters(name, Lines::One) {
                return Err(CommerceError::validation(
                    "name",
                    "must not contain control characters",
                ));
            }
            settings.name = name.to_string();
        }
        if let Some(address) = changes.address {
            settings.address = Some(address.validated(true).map_err(|e| e.nested("address"))?);
        }
        if let Some(v) = changes.prices_include_tax {
            settings.tax.prices_include_tax = v;
        }
        if let Some(v) = changes.tax_rounding {
            settings.tax.rounding = v;
        }
        if let Some(v) = changes.tax_shipping {
            settings.tax.tax_shipping = v;
        }
        if let Some(t) = changes.low_stock_threshold {
            if t > crate::catalog::MAX_STOCK {
                return Err(CommerceError::validation(
                    "low_stock_threshold",
                    "is too large",
                ));
            }
            settings.low_stock_threshold = t;
        }
        let record = ChangeRecord::audited(self.shop.audit(
            caller,
            "store.update",
            AuditTarget::only("store"),
            audit::changes(Some(&before), Some(&settings), &[]),
        ));
        self.shop
            .ports
            .settings
            .save_store_settings(&settings, &record)
            .await?;
        self.shop.remember_settings(&settings).await;
        Ok(settings)
    }

    /// Sets up a new shop's settings (name and currency) if none are saved yet; an embedder
    /// or the server calls it at start.
    pub async fn initialise_store(
        &self,
        name: &str,
        currency: Currency,
    ) -> Result<StoreSettings, CommerceError> {
        if let Some(existing) = self.shop.ports.settings.store_settings().await? {
            return Ok(existing);
        }
        let settings = StoreSettings {
            name: name.to_string(),
            currency,
            ..StoreSettings::default()
        };
        self.shop
            .ports
            .settings
            .save_store_settings(&settings, &ChangeRecord::none())
            .await?;
        self.shop.remember_settings(&settings).await;
        Ok(settings)
    }

    /// The dashboard's figures (managers and admins).
    pub async fn dashboard(&self, caller: &Caller) -> Result<Dashboard, CommerceError> {
        caller.require_manager()?;
        let settings = self.shop.settings().await?;
        let today = self.shop.now().date_naive();
        let since = today - chrono::Duration::days(3650);
        let sales = self.shop.ports.orders.daily_sales(since, today).await?;
        let mut revenue = Money::zero(settings.currency);
        for day in &sales {
            revenue = revenue
                .checked_add(&day.revenue)
                .map_err(|e| CommerceError::Internal(e.to_string()))?;
        }
        let orders_today = sales
            .iter()
            .find(|d| d.day == today)
            .map_or(0, |d| d.orders);
        Ok(Dashboard {
            revenue,
            orders_by_status: self.shop.ports.orders.count_by_status().await?,
            orders_today,
            top_products: self.top_products(today).await?,
            low_stock: self.shop.ports.products.low_stock(10).await?,
        })
    }

    async fn top_products(
        &self,
        today: NaiveDate,
    ) -> Result<Vec<(crate::ids::ProductId, String, u64)>, CommerceError> {
        // Best sellers of the last 30 days, from paid-or-later orders (pages of 100).
        let since = today - chrono::Duration::days(30);
        let mut units: std::collections::HashMap<crate::ids::ProductId, (String, u64)> =
            std::collections::HashMap::new();
        let mut page = PageRequest::first(100);
        'pages: loop {
            let batch = self
                .shop
                .ports
                .orders
                .list_orders(&crate::ports::OrderFilter {
                    page: page.clone(),
                    ..Default::default()
                })
                .await?;
            for order in &batch.items {
                if order.created_at.date_naive() < since {
                    break 'pages;
                }
                if matches!(order.status, OrderStatus::Pending | OrderStatus::Cancelled) {
                    continue;
                }
                for line in &order.lines {
                    let entry = units
                        .entry(line.product_id)
                        .or_insert_with(|| (line.name.clone(), 0));
                    entry.1 += u64::from(line.quantity);
                }
            }
            match batch.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => break,
            }
        }
        let mut top: Vec<_> = units
            .into_iter()
            .map(|(id, (name, n))| (id, name, n))
            .collect();
        top.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        top.truncate(10);
        Ok(top)
    }

    /// Sales per day in `[from, to]` as CSV: `date,orders,revenue,currency`, one row per day
    /// (days without sales included, as zeros).
    pub async fn sales_report_csv(
        &self,
        caller: &Caller,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<String, CommerceError> {
        caller.require_manager()?;
        if to < from {
            return Err(CommerceError::validation("to", "must not be before from"));
        }
        if (to - from).num_days() > 3660 {
            return Err(CommerceError::validation(
                "to",
                "a report covers at most ten years",
            ));
        }
        let settings = self.shop.settings().await?;
        let sales = self.shop.ports.orders.daily_sales(from, to).await?;
        let mut csv = String::from("date,orders,revenue,currency\n");
        let mut day = from;
        while day <= to {
            let (orders, revenue) = sales
                .iter()
                .find(|d| d.day == day)
                .map_or((0, Money::zero(settings.currency)), |d| {
                    (d.orders, d.revenue)
                });
            csv.push_str(&format!(
                "{day},{orders},{},{}\n",
                revenue.amount(),
                revenue.currency()
            ));
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        Ok(csv)
    }
}

fn not_found(what: &'static str) -> impl Fn(StorageError) -> CommerceError {
    move |e| match e {
        StorageError::NotFound => CommerceError::NotFound(what),
        other => other.into(),
    }
}
