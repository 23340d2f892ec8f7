//! Money: an exact decimal amount in one ISO 4217 currency.
//!
//! Amounts are `rust_decimal::Decimal`, never floats. Every amount that is stored, shown or
//! charged is at its currency's minor-unit scale (USD 2, JPY 0, KWD 3). Rounding happens only
//! at named points with a stated [`Rounding`] rule, and [`allocate`] splits an amount over
//! weights so that the parts always sum back to the whole.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an amount or currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not an ISO 4217 code this build knows (the code given).
    #[error("unknown currency code `{0}`")]
    UnknownCurrency(String),
    /// Not a decimal number (the text given).
    #[error("`{0}` is not a decimal amount")]
    NotADecimal(String),
    /// More decimals than the currency has: refused, never rounded.
    #[error("{currency} allows {scale} decimal places, `{amount}` has more")]
    TooManyDecimals {
        /// The amount as given.
        amount: String,
        /// The currency.
        currency: Currency,
        /// Its decimals.
        scale: u32,
    },
    /// Two amounts in different currencies cannot be added or compared.
    #[error("cannot combine {left} with {right}: amounts in different currencies")]
    CurrencyMismatch {
        /// The first amount's currency.
        left: Currency,
        /// The other's.
        right: Currency,
    },
    /// Beyond what a decimal (or a provider's integer) holds.
    #[error("amount out of range")]
    Overflow,
}

/// An ISO 4217 currency and its minor-unit scale. `Copy`, two bytes of payload.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    scale: u8,
}

/// ISO 4217 codes this engine knows, with their minor-unit scale.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("MYR", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PHP", 2),
    ("PLN", 2),
    ("RON", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("TWD", 2),
    ("UAH", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

impl Currency {
    /// US dollar, two decimals.
    pub const USD: Currency = Currency::known(*b"USD", 2);
    /// Euro, two decimals.
    pub const EUR: Currency = Currency::known(*b"EUR", 2);
    /// Pound sterling, two decimals.
    pub const GBP: Currency = Currency::known(*b"GBP", 2);
    /// Japanese yen, no decimals.
    pub const JPY: Currency = Currency::known(*b"JPY", 0);
    /// Kuwaiti dinar, three decimals.
    pub const KWD: Currency = Currency::known(*b"KWD", 3);

    const fn known(code: [u8; 3], scale: u8) -> Currency {
        Currency { code, scale }
    }

    /// Looks a code up case-insensitively (`"usd"` is USD).
    pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
        let unknown = || MoneyError::UnknownCurrency(code.to_string());
        // Every stored price and amount read passes here: no allocation, a search of the
        // list (which is in code order).
        let wanted = match code.trim().as_bytes() {
            [a, b, c] => [
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ],
            _ => return Err(unknown()),
        };
        let at = CURRENCIES
            .binary_search_by(|(c, _)| c.as_bytes().cmp(&wanted[..]))
            .map_err(|_| unknown())?;
        Ok(Currency {
            code: wanted,
            scale: CURRENCIES[at].1,
        })
    }

    /// The ISO 4217 code, upper-case (`USD`).
    pub fn code(&self) -> &str {
        // The code bytes always come from the ASCII table above.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Digits after the decimal point of the minor unit.
    pub fn scale(&self) -> u32 {
        u32::from(self.scale)
    }

    /// The smallest amount: 0.01 for USD, 1 for JPY.
    pub fn minor_unit(&self) -> Decimal {
        Decimal::new(1, self.scale())
    }

    /// Rounds to this currency's scale with the given rule.
    pub fn round(&self, amount: Decimal, rule: Rounding) -> Decimal {
        let mut r = amount.round_dp_with_strategy(self.scale(), rule.strategy());
        // Fix the representation so that "5" prints "5.00" for USD.
        r.rescale(self.scale());
        r
    }

    /// Parses an amount exactly; more decimals than the currency allows is an error,
    /// never a silent rounding.
    pub fn parse_amount(&self, text: &str) -> Result<Decimal, MoneyError> {
        let trimmed = text.trim();
        let value = Decimal::from_str_exact(trimmed)
            .or_else(|_| Decimal::from_scientific(trimmed))
            .map_err(|_| MoneyError::NotADecimal(text.to_string()))?;
        self.at_scale(value)
            .map_err(|_| MoneyError::TooManyDecimals {
                amount: text.to_string(),
                currency: *self,
                scale: self.scale(),
            })
    }

    /// The amount rescaled to the currency's scale if that loses nothing.
    pub fn at_scale(&self, amount: Decimal) -> Result<Decimal, MoneyError> {
        let mut normalized = amount.normalize();
        if normalized.scale() > self.scale() {
            return Err(MoneyError::TooManyDecimals {
                amount: amount.to_string(),
                currency: *self,
                scale: self.scale(),
            });
        }
        normalized.rescale(self.scale());
        Ok(normalized)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::from_code(&code).map_err(serde::de::Error::custom)
    }
}

/// How a midpoint is rounded. Half-even (banker's) is the default at every rounding point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Halves go to the even neighbour (banker's rounding; the default): 0.125 → 0.12.
    #[default]
    HalfEven,
    /// Halves go away from zero: 0.125 → 0.13.
    HalfUp,
}

impl Rounding {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
        }
    }
}

/// An amount at its currency's scale.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Money from an amount that must already be at the currency's scale.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        Ok(Money {
            amount: currency.at_scale(amount)?,
            currency,
        })
    }

    /// Money from any amount, rounded to scale by `rule`.
    pub fn rounded(amount: Decimal, currency: Currency, rule: Rounding) -> Money {
        Money {
            amount: currency.round(amount, rule),
            currency,
        }
    }

    /// Money from an amount the caller computed from at-scale amounts (sums, differences,
    /// products with whole quantities, already rounded values): only its representation is
    /// fixed to the currency's scale. Cheaper than [`Money::rounded`] on the pricing hot path.
    pub(crate) fn from_computed(mut amount: Decimal, currency: Currency) -> Money {
        if amount.scale() != currency.scale() {
            debug_assert!(
                amount.scale() < currency.scale() || amount.normalize().scale() <= currency.scale()
            );
            amount.rescale(currency.scale());
        }
        Money { amount, currency }
    }

    /// Parses `"19.99"` exactly in `currency`.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        Ok(Money {
            amount: currency.parse_amount(text)?,
            currency,
        })
    }

    /// Nothing, in `currency`.
    pub fn zero(currency: Currency) -> Money {
        Money::rounded(Decimal::ZERO, currency, Rounding::HalfEven)
    }

    /// The amount, at the currency's scale (`19.90`).
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// Its currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Whether it is nothing.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// Whether it is below zero.
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// The amount in minor units (cents), as a payment provider expects it.
    pub fn minor_units(&self) -> Result<i64, MoneyError> {
        let scaled = self
            .amount
            .checked_mul(Decimal::from(10_i64.pow(self.currency.scale())))
            .ok_or(MoneyError::Overflow)?;
        i64::try_from(scaled).map_err(|_| MoneyError::Overflow)
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// The sum; `CurrencyMismatch` across currencies, `Overflow` beyond range.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            amount,
            currency: self.currency,
        })
    }

    /// The difference; `CurrencyMismatch` across currencies, `Overflow` beyond range.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            amount,
            currency: self.currency,
        })
    }

    /// Multiplies by a whole quantity; stays at scale.
    pub fn times(&self, quantity: u32) -> Result<Money, MoneyError> {
        let amount = self
            .amount
            .checked_mul(Decimal::from(quantity))
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            amount,
            currency: self.currency,
        })
    }

    /// Splits this amount over `weights` by largest remainder; see [`allocate`].
    pub fn allocate(&self, weights: &[Decimal]) -> Result<Vec<Money>, MoneyError> {
        Ok(allocate(self.amount, weights, self.currency.scale())?
            .into_iter()
            .map(|amount| Money {
                amount,
                currency: self.currency,
            })
            .collect())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

fn pow10(exp: u32) -> Option<i128> {
    10_i128.checked_pow(exp)
}

/// An amount as an integer count of `10^-scale` units, if it is exactly representable.
fn to_units(value: Decimal, scale: u32) -> Option<i128> {
    if value.scale() > scale {
        return None;
    }
    value.mantissa().checked_mul(pow10(scale - value.scale())?)
}

/// Adds one unit to each of the `left` parts with the largest remainders (ties to the
/// earlier part), so that rounded-down parts sum back to their total.
pub(crate) fn hand_out(parts: &mut [i128], remainders: &[i128], left: i128) {
    if left <= 0 {
        return;
    }
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|a, b| remainders[*b].cmp(&remainders[*a]).then(a.cmp(b)));
    for i in order
        .into_iter()
        .take(usize::try_from(left).unwrap_or(usize::MAX))
    {
        parts[i] += 1;
    }
}

/// Splits `total` units over `weights` in proportion by largest remainder (all weights zero:
/// zeros): the one allocation, used by pricing on minor units and by [`allocate`] on amounts.
/// `None` on overflow.
pub(crate) fn allocate_units(total: i128, weights: &[i128]) -> Option<Vec<i128>> {
    let sum: i128 = weights.iter().sum();
    let mut parts = vec![0i128; weights.len()];
    if sum <= 0 || total == 0 {
        return Some(parts);
    }
    let mut remainders = vec![0i128; weights.len()];
    let mut given = 0;
    for (i, w) in weights.iter().enumerate() {
        let n = total.checked_mul(*w)?;
        parts[i] = n / sum;
        remainders[i] = n % sum;
        given += parts[i];
    }
    hand_out(&mut parts, &remainders, total - given);
    Some(parts)
}

/// Splits `total` (at `scale`) over `weights` in proportion, by largest remainder.
///
/// Each part gets the floor of its exact share at `scale`; the units left over go one each
/// to the largest remainders, ties to the earlier weight. The parts always sum to `total`.
/// Weights must be non-negative; if they are all zero, every part is zero (PRICING.md's edge
/// case: allocation over lines that all weigh zero gives zeros). A negative `total` is split
/// as the negation of the split of its absolute value.
pub fn allocate(
    total: Decimal,
    weights: &[Decimal],
    scale: u32,
) -> Result<Vec<Decimal>, MoneyError> {
    if weights.iter().any(|w| w.is_sign_negative() && !w.is_zero()) {
        return Err(MoneyError::Overflow);
    }
    let negative = total.is_sign_negative();
    let total_units =
        to_units(total.abs().normalize(), scale).ok_or(MoneyError::TooManyDecimals {
            amount: total.to_string(),
            currency: Currency::known(*b"XXX", scale as u8),
            scale,
        })?;
    let weight_scale = weights
        .iter()
        .map(|w| w.normalize().scale())
        .max()
        .unwrap_or(0);
    let weight_units: Vec<i128> = weights
        .iter()
        .map(|w| to_units(w.normalize(), weight_scale).ok_or(MoneyError::Overflow))
        .collect::<Result<_, _>>()?;
    // The weights' sum must fit before the split adds them up.
    weight_units
        .iter()
        .try_fold(0_i128, |acc, w| acc.checked_add(*w))
        .ok_or(MoneyError::Overflow)?;
    let parts = allocate_units(total_units, &weight_units).ok_or(MoneyError::Overflow)?;
    Ok(parts
        .into_iter()
        .map(|units| {
            let mut d = Decimal::from_i128_with_scale(units, scale);
            if negative {
                d.set_sign_negative(units != 0);
            }
            d
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn currencies_are_found_by_code_in_any_case_and_the_list_is_in_code_order() {
        assert!(CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
        for (code, scale) in CURRENCIES {
            let found = Currency::from_code(code).unwrap();
            assert_eq!((found.code(), found.scale()), (*code, u32::from(*scale)));
            let lower = Currency::from_code(&format!(" {} ", code.to_lowercase())).unwrap();
            assert_eq!(lower, found);
        }
        for unknown in ["", "US", "USDX", "XXX", "€UR", "ÜSD"] {
            assert!(
                matches!(Currency::from_code(unknown), Err(MoneyError::UnknownCurrency(c)) if c == unknown),
                "{unknown}"
            );
        }
    }

    #[test]
    fn parses_exactly_at_the_currency_scale() {
        assert_eq!(
            Money::parse("19.99", Currency::USD).unwrap().amount(),
            dec!(19.99)
        );
        assert_eq!(
            Money::parse("5", Currency::USD)
                .unwrap()
                .amount()
                .to_string(),
            "5.00"
        );
        assert_eq!(
            Money::parse("1.500", Currency::KWD)
                .unwrap()
                .amount()
                .to_string(),
            "1.500"
        );
        assert_eq!(
            Money::parse("1200", Currency::JPY)
                .unwrap()
                .amount()
                .to_string(),
            "1200"
        );
        // Trailing zeros beyond the scale lose nothing, so they are accepted.
        assert_eq!(
            Money::parse("2.50000", Currency::USD)
                .unwrap()
                .amount()
                .to_string(),
            "2.50"
        );
    }

    #[test]
    fn refuses_more_decimals_than_the_currency_has() {
        assert!(matches!(
            Money::parse("19.999", Currency::USD),
            Err(MoneyError::TooManyDecimals { scale: 2, .. })
        ));
        assert!(matches!(
            Money::parse("100.5", Currency::JPY),
            Err(MoneyError::TooManyDecimals { scale: 0, .. })
        ));
        assert!(matches!(
            Money::parse("abc", Currency::USD),
            Err(MoneyError::NotADecimal(_))
        ));
    }

    #[test]
    fn currencies_are_looked_up_case_insensitively() {
        assert_eq!(Currency::from_code("eur").unwrap(), Currency::EUR);
        assert_eq!(Currency::from_code("KWD").unwrap().scale(), 3);
        assert!(Currency::from_code("XYZ").is_err());
    }

    #[test]
    fn arithmetic_across_currencies_is_an_error() {
        let usd = Money::parse("1.00", Currency::USD).unwrap();
        let eur = Money::parse("1.00", Currency::EUR).unwrap();
        assert!(matches!(
            usd.checked_add(&eur),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
        assert_eq!(usd.checked_add(&usd).unwrap().amount(), dec!(2.00));
    }

    #[test]
    fn rounds_half_even_by_default_and_half_up_on_request() {
        assert_eq!(
            Currency::USD.round(dec!(0.125), Rounding::HalfEven),
            dec!(0.12)
        );
        assert_eq!(
            Currency::USD.round(dec!(0.135), Rounding::HalfEven),
            dec!(0.14)
        );
        assert_eq!(
            Currency::USD.round(dec!(0.125), Rounding::HalfUp),
            dec!(0.13)
        );
        assert_eq!(Currency::JPY.round(dec!(2.5), Rounding::HalfEven), dec!(2));
        assert_eq!(
            Currency::KWD.round(dec!(1.2345), Rounding::HalfEven),
            dec!(1.234)
        );
    }

    #[test]
    fn minor_units_are_what_a_provider_charges() {
        assert_eq!(
            Money::parse("63.29", Currency::USD)
                .unwrap()
                .minor_units()
                .unwrap(),
            6329
        );
        assert_eq!(
            Money::parse("500", Currency::JPY)
                .unwrap()
                .minor_units()
                .unwrap(),
            500
        );
        assert_eq!(
            Money::parse("1.005", Currency::KWD)
                .unwrap()
                .minor_units()
                .unwrap(),
            1005
        );
    }

    #[test]
    fn allocation_follows_the_worked_example() {
        // PRICING.md: 6.50 over 59.97 : 5.00 gives 6.00 and 0.50.
        let parts = allocate(dec!(6.50), &[dec!(59.97), dec!(5.00)], 2).unwrap();
        assert_eq!(parts, vec![dec!(6.00), dec!(0.50)]);
    }

    #[test]
    fn allocation_ties_go_to_the_earlier_line_and_sum_exactly() {
        let parts = allocate(dec!(0.01), &[dec!(1), dec!(1), dec!(1)], 2).unwrap();
        assert_eq!(parts, vec![dec!(0.01), dec!(0), dec!(0)]);
        let parts = allocate(dec!(100), &[dec!(1), dec!(1), dec!(1)], 2).unwrap();
        assert_eq!(parts, vec![dec!(33.34), dec!(33.33), dec!(33.33)]);
        assert_eq!(parts.iter().copied().sum::<Decimal>(), dec!(100));
    }

    #[test]
    fn allocation_over_zero_weights_gives_zeros() {
        let parts = allocate(dec!(0), &[dec!(0), dec!(0)], 2).unwrap();
        assert_eq!(parts, vec![dec!(0), dec!(0)]);
    }
}
