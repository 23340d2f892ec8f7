//! Tax rates by destination and the shop's tax settings.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::TaxRateId;
use crate::validation::ValidationErrors;

/// Whether tax is rounded on each line or once for the order (PRICING.md step 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxRounding {
    /// Each line's tax is rounded, then summed.
    #[default]
    Line,
    /// The order's tax is computed on its sum, rounded once, and spread over the lines.
    Order,
}

impl TaxRounding {
    /// Both rules.
    pub const ALL: [TaxRounding; 2] = [TaxRounding::Line, TaxRounding::Order];

    /// Its name in the API (`line`).
    pub fn as_str(&self) -> &'static str {
        match self {
            TaxRounding::Line => "line",
            TaxRounding::Order => "order",
        }
    }
}

/// How the shop states and taxes its prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaxPolicy {
    /// Prices include tax (VAT style) instead of tax being added on top.
    pub prices_include_tax: bool,
    /// Where tax is rounded.
    pub rounding: TaxRounding,
    /// Shipping (after its discount) is taxed at the destination rate.
    pub tax_shipping: bool,
}

/// A rate for a country, or for one region of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRate {
    /// Its id.
    pub id: TaxRateId,
    /// ISO 3166-1 alpha-2, upper-case.
    pub country: String,
    /// A region code within the country, upper-case; `None` for the whole country.
    pub region: Option<String>,
    /// A fraction: 0.0825 is 8.25 %.
    pub rate: Decimal,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A country code as stored: two ASCII letters, upper-case.
pub fn normalize_country(country: &str) -> Option<String> {
    let c = country.trim();
    (c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic())).then(|| c.to_ascii_uppercase())
}

/// A region code as stored: upper-case, trimmed; empty means none.
pub fn normalize_region(region: Option<&str>) -> Option<String> {
    region
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_ascii_uppercase)
}

impl TaxRate {
    /// A rate checked: a country code, an optional region, a rate from 0 to 1.
    pub fn new(
        id: TaxRateId,
        country: &str,
        region: Option<&str>,
        rate: Decimal,
        now: DateTime<Utc>,
    ) -> Result<TaxRate, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let country = normalize_country(country);
        if country.is_none() {
            errors.add("country", "must be an ISO 3166-1 alpha-2 code such as US");
        }
        if rate.is_sign_negative() || rate > crate::limits::MAX_TAX_RATE {
            errors.add(
                "rate",
                "must be a fraction between 0 and 1 (0.0825 = 8.25 %)",
            );
        }
        if rate.normalize().scale() > 6 {
            errors.add("rate", "at most 6 decimals");
        }
        if let Some(region) = region {
            crate::validation::check_text(
                &mut errors,
                "region",
                region,
                crate::validation::Lines::One,
            );
        }
        errors.into_result(TaxRate {
            id,
            country: country.unwrap_or_default(),
            region: normalize_region(region),
            rate: rate.normalize(),
            created_at: now,
            updated_at: now,
        })
    }
}

/// The most specific rate for a destination wins: country and region, then the country alone;
/// none is 0.
pub fn rate_for(rates: &[TaxRate], country: &str, region: Option<&str>) -> Decimal {
    let country = country.trim();
    let region = region.map(str::trim).filter(|r| !r.is_empty());
    let mut country_rate = None;
    for r in rates
        .iter()
        .filter(|r| r.country.eq_ignore_ascii_case(country))
    {
        match (&r.region, region) {
            (Some(rr), Some(reg)) if rr.eq_ignore_ascii_case(reg) => return r.rate,
            (None, _) => country_rate = Some(r.rate),
            _ => {}
        }
    }
    country_rate.unwrap_or(Decimal::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn the_most_specific_rate_wins() {
        let now = Utc::now();
        let rates = vec![
            TaxRate::new(TaxRateId::random(), "us", None, dec!(0.05), now).unwrap(),
            TaxRate::new(TaxRateId::random(), "US", Some("tx"), dec!(0.0825), now).unwrap(),
        ];
        assert_eq!(rate_for(&rates, "US", Some("TX")), dec!(0.0825));
        assert_eq!(rate_for(&rates, "us", Some("CA")), dec!(0.05));
        assert_eq!(rate_for(&rates, "US", None), dec!(0.05));
        assert_eq!(rate_for(&rates, "DE", Some("BE")), Decimal::ZERO);
    }

    #[test]
    fn refuses_impossible_rates() {
        let now = Utc::now();
        assert!(TaxRate::new(TaxRateId::random(), "USA", None, dec!(0.1), now).is_err());
        assert!(TaxRate::new(TaxRateId::random(), "US", None, dec!(-0.1), now).is_err());
        assert!(TaxRate::new(TaxRateId::random(), "US", None, dec!(8.25), now).is_err());
    }
}
