//! Amounts as Stripe counts them: an integer of the currency's minor unit, where Stripe's
//! idea of the minor unit is its own. Most currencies have two decimals; these have none
//! (JPY 500 is `500`), these three (KWD 5.120 is `5120`, and the last digit must be 0), and
//! ISK, though its coins have no decimals, is sent with two that must be `00`.
//! <https://docs.stripe.com/currencies#special-cases>

use commerce_core::money::{Currency, Money};
use rust_decimal::Decimal;

/// Charged in whole units.
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// Charged in thousandths, the last of which must be 0.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// Two decimals in the API, but only whole units may be charged.
const WHOLE_UNITS_ONLY: &[&str] = &["ISK"];

/// Why an amount cannot go to Stripe, or one from Stripe cannot be read. Never rounded
/// away: the shop charges its total or nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// More decimals than Stripe counts in the currency (a yen fraction).
    #[error("{0} cannot be charged through Stripe: it has more decimals than Stripe takes")]
    TooPrecise(Money),
    /// Not a multiple of what Stripe takes in the currency (the currency's code, and the
    /// step: KWD in 0.010, ISK in whole units).
    #[error("{0} cannot be charged through Stripe: {1} amounts must be a multiple of {2}")]
    NotAMultiple(Money, String, &'static str),
    /// Too large for Stripe's integer amounts.
    #[error("{0} is out of the range Stripe takes")]
    OutOfRange(Money),
    /// An amount Stripe reported in a currency this build does not know.
    #[error("{amount} {currency} from Stripe is not an amount of this shop's currencies")]
    Unknown {
        /// Stripe's integer amount.
        amount: i64,
        /// Stripe's currency code (lower case).
        currency: String,
    },
}

/// The decimals Stripe's API counts in `currency`.
fn stripe_decimals(code: &str) -> u32 {
    if ZERO_DECIMAL.contains(&code) {
        0
    } else if THREE_DECIMAL.contains(&code) {
        3
    } else {
        2
    }
}

/// `money` as Stripe's `amount` and `currency` (lower case).
pub fn to_stripe(money: &Money) -> Result<(i64, String), AmountError> {
    let code = money.currency().code().to_string();
    let decimals = stripe_decimals(&code);
    let scaled = money
        .amount()
        .checked_mul(Decimal::from(10_i64.pow(decimals)))
        .ok_or(AmountError::OutOfRange(*money))?;
    if !scaled.fract().is_zero() {
        return Err(AmountError::TooPrecise(*money));
    }
    let minor = i64::try_from(scaled).map_err(|_| AmountError::OutOfRange(*money))?;
    if decimals == 3 && minor % 10 != 0 {
        return Err(AmountError::NotAMultiple(*money, code, "0.010"));
    }
    if WHOLE_UNITS_ONLY.contains(&code.as_str()) && minor % 100 != 0 {
        return Err(AmountError::NotAMultiple(*money, code, "1"));
    }
    Ok((minor, code.to_lowercase()))
}

/// Stripe's `amount` in `currency` as money of the engine.
pub fn from_stripe(amount: i64, currency: &str) -> Result<Money, AmountError> {
    let unknown = || AmountError::Unknown {
        amount,
        currency: currency.to_string(),
    };
    let code = currency.to_uppercase();
    let currency = Currency::from_code(&code).map_err(|_| unknown())?;
    let value = Decimal::new(amount, stripe_decimals(&code));
    Money::new(value.normalize(), currency).map_err(|_| unknown())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str, code: &str) -> Money {
        Money::parse(text, Currency::from_code(code).unwrap()).unwrap()
    }

    #[test]
    fn two_zero_and_three_decimal_currencies() {
        assert_eq!(to_stripe(&money("25.99", "USD")), Ok((2599, "usd".into())));
        assert_eq!(to_stripe(&money("500", "JPY")), Ok((500, "jpy".into())));
        assert_eq!(to_stripe(&money("5.120", "KWD")), Ok((5120, "kwd".into())));
        assert_eq!(
            to_stripe(&money("1500", "ISK")),
            Ok((150_000, "isk".into()))
        );
        assert_eq!(to_stripe(&money("99.50", "HUF")), Ok((9950, "huf".into())));
    }

    #[test]
    fn what_stripe_cannot_take_is_refused_not_rounded() {
        assert!(matches!(
            to_stripe(&money("5.124", "KWD")),
            Err(AmountError::NotAMultiple(..))
        ));
    }

    #[test]
    fn amounts_come_back_at_the_shop_currency() {
        assert_eq!(from_stripe(2599, "usd"), Ok(money("25.99", "USD")));
        assert_eq!(from_stripe(500, "jpy"), Ok(money("500", "JPY")));
        assert_eq!(from_stripe(5120, "kwd"), Ok(money("5.12", "KWD")));
        assert_eq!(from_stripe(150_000, "isk"), Ok(money("1500", "ISK")));
        assert!(from_stripe(100, "xyz").is_err());
        // ISK with a fraction is not an ISK amount of this engine.
        assert!(from_stripe(150_050, "isk").is_err());
    }
}
