//! Amounts as PayPal takes them: a decimal string in the currency's units, for the
//! currencies PayPal's REST API lists. Most take two decimals; HUF, JPY and TWD take none
//! ("this currency does not support decimals"), so an amount with a fraction in them is
//! refused rather than rounded: a shop never charges other than its total.
//! <https://developer.paypal.com/reference/currency-codes/>

use commerce_core::money::{Currency, Money};
use rust_decimal::Decimal;

/// PayPal's currencies that take two decimals.
const TWO_DECIMALS: &[&str] = &[
    "AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "ILS", "MYR", "MXN", "NZD", "NOK",
    "PHP", "PLN", "GBP", "SGD", "SEK", "CHF", "THB", "USD",
];

/// PayPal's currencies that take whole units only.
const WHOLE_UNITS: &[&str] = &["HUF", "JPY", "TWD"];

/// Why an amount cannot go to PayPal, or one from PayPal cannot be read. Never rounded
/// away: the shop charges its total or nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// A currency PayPal does not take (its code).
    #[error("PayPal does not take payments in {0}")]
    Currency(String),
    /// A fraction in a currency PayPal takes in whole units only (HUF, JPY, TWD).
    #[error("{0} cannot be charged through PayPal: it takes {1} in whole units only")]
    WholeUnitsOnly(Money, String),
    /// More decimals than PayPal takes.
    #[error("{0} cannot be charged through PayPal: it has more decimals than PayPal takes")]
    TooPrecise(Money),
    /// An amount PayPal reported that is not one of this shop's (an unknown currency, or a
    /// value that is not a decimal at the currency's scale).
    #[error("{value} {currency} from PayPal is not an amount this shop can read")]
    Unreadable {
        /// PayPal's `value`.
        value: String,
        /// PayPal's `currency_code`.
        currency: String,
    },
}

/// The decimals PayPal takes in `code`, if it takes the currency at all.
fn decimals(code: &str) -> Option<u32> {
    if TWO_DECIMALS.contains(&code) {
        Some(2)
    } else if WHOLE_UNITS.contains(&code) {
        Some(0)
    } else {
        None
    }
}

/// `money` as PayPal's `{currency_code, value}`: `("USD", "12.30")`, `("JPY", "500")`.
pub fn to_paypal(money: &Money) -> Result<(String, String), AmountError> {
    let code = money.currency().code().to_string();
    let places = decimals(&code).ok_or_else(|| AmountError::Currency(code.clone()))?;
    let amount = money.amount();
    if amount.round_dp(places) != amount {
        return Err(if places == 0 {
            AmountError::WholeUnitsOnly(*money, code)
        } else {
            AmountError::TooPrecise(*money)
        });
    }
    let mut value = amount.round_dp(places);
    value.rescale(places);
    Ok((code, value.to_string()))
}

/// PayPal's `{currency_code, value}` as money.
pub fn from_paypal(currency: &str, value: &str) -> Result<Money, AmountError> {
    let unreadable = || AmountError::Unreadable {
        value: value.to_string(),
        currency: currency.to_string(),
    };
    let currency = Currency::from_code(currency).map_err(|_| unreadable())?;
    let amount: Decimal = value.trim().parse().map_err(|_| unreadable())?;
    // "500" in JPY, "12.3" or "12.30" in USD: the shop's scale, never rounded.
    let scaled = currency.at_scale(amount).map_err(|_| unreadable())?;
    Money::new(scaled, currency).map_err(|_| unreadable())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: &str, code: &str) -> Money {
        Money::parse(amount, Currency::from_code(code).unwrap()).unwrap()
    }

    #[test]
    fn amounts_are_sent_at_paypals_scale() {
        assert_eq!(
            to_paypal(&money("12.30", "USD")).unwrap(),
            ("USD".into(), "12.30".into())
        );
        assert_eq!(
            to_paypal(&money("7", "EUR")).unwrap(),
            ("EUR".into(), "7.00".into())
        );
        assert_eq!(
            to_paypal(&money("500", "JPY")).unwrap(),
            ("JPY".into(), "500".into())
        );
        // HUF has two decimals in ISO 4217 and none at PayPal: whole amounts go without them.
        assert_eq!(
            to_paypal(&money("1500.00", "HUF")).unwrap(),
            ("HUF".into(), "1500".into())
        );
    }

    #[test]
    fn what_paypal_cannot_take_is_refused_not_rounded() {
        assert!(matches!(
            to_paypal(&money("1500.50", "HUF")),
            Err(AmountError::WholeUnitsOnly(_, code)) if code == "HUF"
        ));
        assert!(matches!(
            to_paypal(&money("10.00", "TWD")),
            Ok((_, value)) if value == "10"
        ));
        assert!(matches!(
            to_paypal(&money("10.5", "TWD")),
            Err(AmountError::WholeUnitsOnly(..))
        ));
        assert_eq!(
            to_paypal(&money("5.120", "KWD")),
            Err(AmountError::Currency("KWD".into()))
        );
        assert_eq!(
            to_paypal(&money("100", "KRW")),
            Err(AmountError::Currency("KRW".into()))
        );
    }

    #[test]
    fn paypals_amounts_are_read_exactly() {
        assert_eq!(from_paypal("USD", "12.30").unwrap(), money("12.30", "USD"));
        assert_eq!(from_paypal("JPY", "500").unwrap(), money("500", "JPY"));
        assert_eq!(from_paypal("HUF", "1500").unwrap(), money("1500.00", "HUF"));
        assert!(from_paypal("USD", "12.345").is_err());
        assert!(from_paypal("XXX1", "1").is_err());
        assert!(from_paypal("USD", "ten").is_err());
    }
}
