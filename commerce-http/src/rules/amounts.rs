//! Amounts: decimals at the shop currency's scale, fractions (rates, percentages) and price bounds.

use super::*;

thread_local! {
    /// The shop's currency while a body is parsed or the document is written (both are
    /// synchronous, so the value never leaks to another request): an amount takes the
    /// currency's decimals, and a money object must be in it.
    static SHOP_CURRENCY: Cell<Option<Currency>> = const { Cell::new(None) };
}

/// Runs `f` with `currency` as the shop's (for [`Amount`]).
pub fn in_currency<T>(currency: Option<Currency>, f: impl FnOnce() -> T) -> T {
    let before = SHOP_CURRENCY.with(|c| c.replace(currency));
    let out = f();
    SHOP_CURRENCY.with(|c| c.set(before));
    out
}

/// The most decimals any currency has (CLF, UYW: 4), for a document written without a shop.
const MOST_DECIMALS: u32 = 4;

/// A decimal rule: from 0 to `10^whole_digits` with at most `decimals` digits after the
/// point. A string must match [`Decimals::pattern`] (the document's); a JSON number is read
/// from its digits and held to the same bounds and decimals.
#[derive(Clone, Copy, PartialEq)]
pub(super) struct Decimals {
    whole_digits: u32,
    decimals: u32,
    /// Zero is refused too (a refund of nothing).
    positive: bool,
}

impl Decimals {
    fn max(self) -> Decimal {
        Decimal::from(10u64.pow(self.whole_digits))
    }

    pub(super) fn pattern(self) -> String {
        format!("^{}$", self.alternatives())
    }

    /// `0` to `10^n - 1` with up to `decimals` decimals, or `10^n` itself (with zeros).
    fn alternatives(self) -> String {
        let d = self.decimals;
        let (fraction, zeros) = if d == 0 {
            (String::new(), String::new())
        } else {
            (format!(r"(\.[0-9]{{1,{d}}})?"), format!(r"(\.0{{1,{d}}})?"))
        };
        let below = match self.whole_digits {
            0 => "0".to_string(),
            n => format!("(0|[1-9][0-9]{{0,{}}})", n - 1),
        };
        let top = format!("1{}", "0".repeat(self.whole_digits as usize));
        if self.positive && self.whole_digits > 0 {
            // From one up with any decimals, or below one with a digit other than 0 among
            // them: `0\.(0{i}[1-9][0-9]{0,d-1-i})` for each place i of the first one.
            let n = self.whole_digits;
            let small: Vec<String> = (0..d)
                .map(|i| format!("0{{{i}}}[1-9][0-9]{{0,{}}}", d - 1 - i))
                .collect();
            let small = if small.is_empty() {
                String::new()
            } else {
                format!(r"|0\.({})", small.join("|"))
            };
            return format!(r"([1-9][0-9]{{0,{}}}{fraction}{small}|{top}{zeros})", n - 1);
        }
        format!(r"({below}{fraction}|{top}{zeros})")
    }

    fn matches(self, text: &str) -> bool {
        // Compiled once per rule and thread (a rule is a few numbers; the pattern is only
        // written out to compile it).
        thread_local! {
            static COMPILED: std::cell::RefCell<Vec<(Decimals, Regex)>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        COMPILED.with(|compiled| {
            let mut compiled = compiled.borrow_mut();
            if let Some((_, re)) = compiled.iter().find(|(rule, _)| *rule == self) {
                return re.is_match(text);
            }
            let Ok(re) = Regex::new(&self.pattern()) else {
                return false;
            };
            let found = re.is_match(text);
            compiled.push((self, re));
            found
        })
    }

    fn string_schema(self) -> MetaSchema {
        MetaSchema {
            pattern: Some(self.pattern()),
            ..MetaSchema::new("string")
        }
    }

    fn number_schema(self) -> MetaSchema {
        MetaSchema {
            minimum: Some(0.0),
            exclusive_minimum: self.positive.then_some(true),
            maximum: Some(10f64.powi(self.whole_digits as i32)),
            multiple_of: Some(10f64.powi(-(self.decimals as i32))),
            ..MetaSchema::new("number")
        }
    }

    /// The value of a decimal string, if it keeps the rule.
    fn read_text(self, text: &str) -> Option<Decimal> {
        if !self.matches(text) {
            return None;
        }
        Decimal::from_str_exact(text).ok()
    }

    /// The value of a JSON number's digits, if it keeps the rule.
    fn read_number(self, digits: &str) -> Option<Decimal> {
        let value = Decimal::from_str_exact(digits)
            .or_else(|_| Decimal::from_scientific(digits))
            .ok()?;
        let in_range =
            !value.is_sign_negative() && value <= self.max() && !(self.positive && value.is_zero());
        (in_range && value.normalize().scale() <= self.decimals).then_some(value)
    }

    fn read(self, value: &serde_json::Value) -> Option<Decimal> {
        match value {
            serde_json::Value::String(s) => self.read_text(s),
            serde_json::Value::Number(n) => self.read_number(&n.to_string()),
            _ => None,
        }
    }
}

/// An amount of money in a body: a decimal string (`"19.99"`), a JSON number (read from its
/// digits, never through a float) or a money object (`{"amount": "19.99", "currency":
/// "USD"}`) in the shop's currency; up to 1,000,000,000,000 with at most the currency's
/// decimals, from 0 ([`Amount`]) or above it ([`PositiveAmount`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AmountOf<const POSITIVE: bool>(pub Decimal);

/// An amount from 0.
pub type Amount = AmountOf<false>;
/// An amount above 0 (a part of a payment to refund).
pub type PositiveAmount = AmountOf<true>;

impl<const POSITIVE: bool> AmountOf<POSITIVE> {
    pub(super) fn rule(currency: Option<Currency>) -> Decimals {
        Decimals {
            whole_digits: 12,
            decimals: currency.map_or(MOST_DECIMALS, |c| c.scale()),
            positive: POSITIVE,
        }
    }

    fn expected(currency: Option<Currency>) -> String {
        let rule = Self::rule(currency);
        let what = match currency {
            Some(c) => format!("{} amount", c.code()),
            None => "amount".to_string(),
        };
        let from = if POSITIVE { "above 0" } else { "from 0" };
        format!(
            "must be an {what}: a decimal string such as \"19.99\", {from} to 1000000000000, with at most {} decimals",
            rule.decimals
        )
    }

    /// A letter of the code in either case, as a pattern: `[Uu][Ss][Dd]`.
    fn code_pattern(currency: Currency) -> String {
        let letters: String = currency
            .code()
            .chars()
            .map(|c| format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()))
            .collect();
        format!("^{letters}$")
    }

    fn schema() -> MetaSchema {
        let currency = SHOP_CURRENCY.with(Cell::get);
        let rule = Self::rule(currency);
        let plain = || vec![inline(rule.string_schema()), inline(rule.number_schema())];
        let money = MetaSchema {
            required: vec!["amount"],
            properties: vec![
                (
                    "amount",
                    inline(MetaSchema {
                        any_of: plain(),
                        ..MetaSchema::ANY
                    }),
                ),
                (
                    "currency",
                    inline(MetaSchema {
                        pattern: currency.map(Self::code_pattern),
                        ..MetaSchema::new("string")
                    }),
                ),
            ],
            ..MetaSchema::new("object")
        };
        let mut choices = plain();
        choices.push(inline(money));
        MetaSchema {
            description: Some(
                "An amount in the shop's currency: a decimal string, a JSON number or a money object.",
            ),
            any_of: choices,
            ..MetaSchema::ANY
        }
    }

    fn read(value: &serde_json::Value) -> Result<Decimal, String> {
        use serde_json::Value;
        let currency = SHOP_CURRENCY.with(Cell::get);
        let rule = Self::rule(currency);
        let refuse = || Self::expected(currency);
        match value {
            Value::String(_) | Value::Number(_) => rule.read(value).ok_or_else(refuse),
            Value::Object(money) => {
                match (money.get("currency"), currency) {
                    (None, _) => {}
                    (Some(Value::String(code)), Some(shop))
                        if !code.eq_ignore_ascii_case(shop.code()) =>
                    {
                        return Err(format!("the currency must be the shop's, {}", shop.code()))
                    }
                    (Some(Value::String(_)), _) => {}
                    (Some(_), _) => return Err("currency must be a string such as \"USD\"".into()),
                }
                match money.get("amount") {
                    Some(amount @ (Value::String(_) | Value::Number(_))) => Self::read(amount),
                    _ => Err(refuse()),
                }
            }
            _ => Err(refuse()),
        }
    }
}

impl<const POSITIVE: bool> Serialize for AmountOf<POSITIVE> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de, const POSITIVE: bool> Deserialize<'de> for AmountOf<POSITIVE> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Through a `Value`: with serde_json's `arbitrary_precision` it keeps a number's
        // digits, which an untagged enum would not.
        let value = serde_json::Value::deserialize(d)?;
        Self::read(&value).map(AmountOf).map_err(D::Error::custom)
    }
}

documented_by_serde!(
    impl [const POSITIVE: bool] AmountOf<POSITIVE>,
    if POSITIVE { "positive_amount" } else { "amount" }.into(),
    Self::schema()
);

/// A tax rate as a fraction: `"0.0825"` is 8.25 %; from 0 to 1 with at most 6 decimals, as a
/// decimal string or a JSON number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fraction(pub Decimal);

impl Fraction {
    const RULE: Decimals = Decimals {
        whole_digits: 0,
        decimals: 6,
        positive: false,
    };
    const EXPECTED: &'static str =
        "must be a fraction from 0 to 1 with at most 6 decimals, such as \"0.0825\" for 8.25 %";
}

impl Serialize for Fraction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Fraction::RULE
            .read(&value)
            .map(Fraction)
            .ok_or_else(|| D::Error::custom(Fraction::EXPECTED))
    }
}

documented_by_serde!(
    Fraction,
    "fraction".into(),
    MetaSchema {
        any_of: vec![
            inline(Fraction::RULE.string_schema()),
            inline(Fraction::RULE.number_schema()),
        ],
        ..MetaSchema::ANY
    }
);

/// A price bound in a query (`min_price=10`): a decimal from 0 to 1,000,000,000,000 with at
/// most 4 decimals. Empty is absent, as an HTML form sends an empty field.
#[derive(Debug)]
pub struct PriceBound(pub Option<Decimal>);

impl PriceBound {
    const RULE: Decimals = Decimals {
        whole_digits: 12,
        decimals: MOST_DECIMALS,
        positive: false,
    };

    pub(super) fn pattern() -> String {
        format!("^{}?$", Self::RULE.alternatives())
    }
}

impl Type for PriceBound {
    own_raw_value!(true);

    fn name() -> Cow<'static, str> {
        "price_bound".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        inline(MetaSchema {
            pattern: Some(Self::pattern()),
            ..MetaSchema::new("string")
        })
    }
}

impl ParseFromParameter for PriceBound {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        if value.is_empty() {
            return Ok(PriceBound(None));
        }
        Self::RULE
            .read_text(value)
            .map(|p| PriceBound(Some(p)))
            .ok_or_else(|| {
                parse_error(
                    "must be a decimal such as 19.99, from 0 to 1000000000000, with at most 4 decimals",
                )
            })
    }
}
