//! What the fields of a request must be, each stated once: a type here checks a value as
//! serde reads the body (or as a query is parsed) and writes the same rule into the OpenAPI
//! document, from the same constants and the same regular expression. So a value the
//! document allows is one this layer takes, and one it refuses is refused here with a 422
//! naming the field. The core still checks what it must; its rules are implied by these (a
//! name of 1 to 200 characters with something besides spaces is one the core takes).

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::LazyLock;

use commerce_core::limits;
use commerce_core::money::Currency;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use regex::Regex;
use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::common::own_raw_value;

fn inline(schema: MetaSchema) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(schema))
}

fn parse_error<T: Type>(message: impl fmt::Display) -> ParseError<T> {
    ParseError::custom(message.to_string())
}

/// `Type`, `ParseFromJSON` and `ToJSON` for a type that serde reads and writes: a body is
/// parsed by serde (see `body::JsonBody`); poem-openapi only needs the schema.
macro_rules! documented_by_serde {
    ($ty:ty, $name:expr, $schema:expr) => {
        documented_by_serde!(impl [] $ty, $name, $schema);
    };
    (impl [$($g:tt)*] $ty:ty, $name:expr, $schema:expr) => {
        impl<$($g)*> Type for $ty {
            own_raw_value!(true);

            fn name() -> Cow<'static, str> {
                $name
            }

            fn schema_ref() -> MetaSchemaRef {
                inline($schema)
            }
        }

        impl<$($g)*> ParseFromJSON for $ty {
            fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
                serde_json::from_value(value.unwrap_or_default()).map_err(parse_error)
            }
        }

        impl<$($g)*> ToJSON for $ty {
            fn to_json(&self) -> Option<serde_json::Value> {
                serde_json::to_value(self).ok()
            }
        }
    };
}

// ---------------------------------------------------------------------------------------
// Text

/// A rule for a text field: its length in characters (Unicode scalar values, as JSON
/// Schema counts them) and, where it has one, a regular expression it must match.
pub trait TextRule: Send + Sync + 'static {
    /// The schema's name in the document.
    const NAME: &'static str;
    const MIN_CHARS: usize;
    const MAX_CHARS: usize;
    /// The expression as the document states it (unanchored, as JSON Schema reads it:
    /// anchor it to hold for the whole text), and the same compiled.
    fn pattern() -> Option<(&'static str, &'static Regex)> {
        None
    }
    /// What a refusal says.
    fn expected() -> String {
        match (Self::MIN_CHARS, Self::MAX_CHARS) {
            (0, max) => format!("at most {max} characters"),
            (min, max) => format!("must be {min} to {max} characters"),
        }
    }
    fn check(text: &str) -> Result<(), String> {
        let n = text.chars().count();
        let matches = Self::pattern().is_none_or(|(_, re)| re.is_match(text));
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&n) && matches {
            Ok(())
        } else {
            Err(Self::expected())
        }
    }
}

/// Declares a [`TextRule`]: `name, min, max[, pattern[, what a refusal says]]`.
macro_rules! text_rule {
    ($(#[$doc:meta])* $rule:ident, $name:literal, $min:expr, $max:expr) => {
        $(#[$doc])*
        pub struct $rule;
        impl TextRule for $rule {
            const NAME: &'static str = $name;
            const MIN_CHARS: usize = $min;
            const MAX_CHARS: usize = $max;
        }
    };
    ($(#[$doc:meta])* $rule:ident, $name:literal, $min:expr, $max:expr, $pattern:expr $(, $expected:expr)?) => {
        $(#[$doc])*
        pub struct $rule;
        impl TextRule for $rule {
            const NAME: &'static str = $name;
            const MIN_CHARS: usize = $min;
            const MAX_CHARS: usize = $max;
            fn pattern() -> Option<(&'static str, &'static Regex)> {
                static COMPILED: LazyLock<Regex> = LazyLock::new(|| {
                    Regex::new($pattern).expect("the rule's pattern is a valid expression")
                });
                Some(($pattern, &COMPILED))
            }
            $(fn expected() -> String {
                ($expected).to_string()
            })?
        }
    };
}

/// No control character (NUL, the other C0 and C1 controls, DEL): what the core refuses in
/// one-line text (`commerce_core::validation::has_control_characters`).
macro_rules! one_line {
    () => {
        r"^[^\x00-\x1f\x7f-\x9f]*$"
    };
}
/// As [`one_line!`], with something besides spaces.
macro_rules! one_line_not_blank {
    () => {
        r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    };
}
/// Text of several lines: tab, line feed and carriage return, but no other control character.
macro_rules! many_lines {
    () => {
        r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    };
}

text_rule!(
    /// A name shown to shoppers: a product, a category, a shipping method, the store, a person.
    Name, "name", 1, limits::MAX_NAME_CHARS, one_line_not_blank!(),
    format!("must be 1 to {} characters, not only spaces, and no control characters", limits::MAX_NAME_CHARS)
);
text_rule!(
    /// A product's description.
    Description, "description", 0, limits::MAX_DESCRIPTION_CHARS, many_lines!(),
    format!("at most {} characters, and no control characters but tabs and line breaks", limits::MAX_DESCRIPTION_CHARS)
);
text_rule!(
    /// A review's title.
    ReviewTitle, "review_title", 0, limits::MAX_REVIEW_TITLE_CHARS, one_line!(),
    format!("at most {} characters, and no control characters", limits::MAX_REVIEW_TITLE_CHARS)
);
text_rule!(
    /// A review's text.
    ReviewText, "review_text", 0, limits::MAX_REVIEW_TEXT_CHARS, many_lines!(),
    format!("at most {} characters, and no control characters but tabs and line breaks", limits::MAX_REVIEW_TEXT_CHARS)
);
text_rule!(
    /// A new password: any characters, spaces too.
    Password, "password",
    commerce_core::account::MIN_PASSWORD_CHARS,
    commerce_core::account::MAX_PASSWORD_CHARS
);
text_rule!(
    /// A variant's stock-keeping unit, unique within its product.
    Sku, "sku", 1, limits::MAX_SKU_CHARS, one_line_not_blank!(),
    format!("must be 1 to {} characters, not only spaces, and no control characters", limits::MAX_SKU_CHARS)
);
text_rule!(
    /// A URL slug: lower-case letters and digits in words joined by single dashes.
    Slug, "slug", 1, limits::MAX_SLUG_CHARS, r"^[a-z0-9]+(-[a-z0-9]+)*$",
    "lower-case letters, digits and single dashes, at most 120 characters"
);
text_rule!(
    /// An ISO 3166-1 alpha-2 country code, either case.
    Country, "country", 2, 2, r"^[A-Za-z]{2}$",
    "must be an ISO 3166-1 alpha-2 code such as US"
);
text_rule!(
    /// A discount code: letters, digits, `-` and `_`; compared without case.
    DiscountCode, "discount_code", 1, limits::MAX_DISCOUNT_CODE_CHARS, r"^[A-Za-z0-9_-]{1,64}$",
    "use 1 to 64 letters, digits, '-' or '_'"
);
text_rule!(
    /// An email address: a local part of up to 64 characters, `@`, a domain with a dot, no
    /// spaces or control characters inside. The core trims it and keeps it in lower case.
    Email, "email", 3, 254,
    r"^\s*[^@\s\x00-\x1f\x7f-\x9f]{1,64}@[^@\s\x00-\x1f\x7f-\x9f.]+(\.[^@\s\x00-\x1f\x7f-\x9f.]+)+\s*$",
    "is not a valid email address"
);
text_rule!(
    /// A part of an address that may be left empty.
    AddressPart, "address_part", 0, limits::MAX_ADDRESS_PART_CHARS, one_line!(),
    format!("at most {} characters, and no control characters", limits::MAX_ADDRESS_PART_CHARS)
);
text_rule!(
    /// A part of an address that a parcel needs (line1, city, postal code).
    RequiredAddressPart, "required_address_part", 1, limits::MAX_ADDRESS_PART_CHARS, one_line_not_blank!(),
    format!("is required: 1 to {} characters, not only spaces, and no control characters", limits::MAX_ADDRESS_PART_CHARS)
);
text_rule!(
    /// A saved address's label ("Home").
    Label, "label", 0, limits::MAX_LABEL_CHARS, one_line!(),
    format!("at most {} characters, and no control characters", limits::MAX_LABEL_CHARS)
);
text_rule!(
    /// A variant option's value ("red").
    OptionValue, "option_value", 0, limits::MAX_OPTION_VALUE_CHARS, one_line!(),
    format!("at most {} characters, and no control characters", limits::MAX_OPTION_VALUE_CHARS)
);
text_rule!(
    /// Words to search for.
    SearchWords, "search_words", 1, 1000, r"\S", "is required: 1 to 1000 characters, not only spaces"
);

/// Text that keeps the rule `R`.
pub struct Text<R>(String, PhantomData<R>);

impl<R> Text<R> {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<R: TextRule> Text<R> {
    pub fn new(text: String) -> Result<Self, String> {
        R::check(&text).map(|()| Text(text, PhantomData))
    }

    fn schema() -> MetaSchema {
        MetaSchema {
            min_length: (R::MIN_CHARS > 0).then_some(R::MIN_CHARS),
            max_length: Some(R::MAX_CHARS),
            pattern: R::pattern().map(|(p, _)| p.to_string()),
            ..MetaSchema::new("string")
        }
    }
}

impl<R> std::ops::Deref for Text<R> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<R> fmt::Debug for Text<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<R> Clone for Text<R> {
    fn clone(&self) -> Self {
        Text(self.0.clone(), PhantomData)
    }
}

impl<R> Serialize for Text<R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de, R: TextRule> Deserialize<'de> for Text<R> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Text::new(String::deserialize(d)?).map_err(D::Error::custom)
    }
}

documented_by_serde!(impl [R: TextRule] Text<R>, R::NAME.into(), Self::schema());

impl<R: TextRule> ParseFromParameter for Text<R> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Text::new(value.to_string()).map_err(parse_error)
    }
}

// ---------------------------------------------------------------------------------------
// Whole numbers

/// A whole number from `MIN` to `MAX`: quantities, stock, limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count<const MIN: u32, const MAX: u32>(pub u32);

impl<const MIN: u32, const MAX: u32> Count<MIN, MAX> {
    fn expected() -> String {
        format!("must be a whole number from {MIN} to {MAX}")
    }

    fn schema() -> MetaSchema {
        MetaSchema {
            minimum: Some(f64::from(MIN)),
            maximum: Some(f64::from(MAX)),
            ..MetaSchema::new_with_format("integer", "int64")
        }
    }
}

impl<const MIN: u32, const MAX: u32> Serialize for Count<MIN, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<'de, const MIN: u32, const MAX: u32> Deserialize<'de> for Count<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Any JSON number, so that `-1` or `1.5` is told the rule rather than serde's type.
        let value = serde_json::Value::deserialize(d)?;
        value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (MIN..=MAX).contains(n))
            .map(Count)
            .ok_or_else(|| D::Error::custom(Self::expected()))
    }
}

documented_by_serde!(
    impl [const MIN: u32, const MAX: u32] Count<MIN, MAX>,
    format!("integer_{MIN}_to_{MAX}").into(),
    Self::schema()
);

/// Units of one line: 1 to the core's most.
pub type Quantity = Count<1, { commerce_core::limits::MAX_LINE_QUANTITY }>;
/// A line's new quantity: 0 takes the line out.
pub type NewQuantity = Count<0, { commerce_core::limits::MAX_LINE_QUANTITY }>;
/// Units in stock.
pub type Stock = Count<0, { commerce_core::catalog::MAX_STOCK }>;
/// Stars of a review.
pub type Rating = Count<1, 5>;

// ---------------------------------------------------------------------------------------
// Amounts

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
struct Decimals {
    whole_digits: u32,
    decimals: u32,
    /// Zero is refused too (a refund of nothing).
    positive: bool,
}

impl Decimals {
    fn max(self) -> Decimal {
        Decimal::from(10u64.pow(self.whole_digits))
    }

    fn pattern(self) -> String {
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
    fn rule(currency: Option<Currency>) -> Decimals {
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

    fn pattern() -> String {
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

impl<R> Default for Text<R> {
    /// Empty: only for fields whose rule allows it (a left-out description).
    fn default() -> Self {
        Text(String::new(), PhantomData)
    }
}

impl<const MIN: u32, const MAX: u32> Default for Count<MIN, MAX> {
    fn default() -> Self {
        Count(MIN)
    }
}

// ---------------------------------------------------------------------------------------
// Collections

/// A list of `MIN` to `MAX` items.
#[derive(Debug)]
pub struct List<T, const MIN: usize, const MAX: usize>(Vec<T>);

impl<T, const MIN: usize, const MAX: usize> List<T, MIN, MAX> {
    fn expected() -> String {
        match MIN {
            0 => format!("at most {MAX} items"),
            _ => format!("{MIN} to {MAX} items"),
        }
    }

    pub fn into_vec(self) -> Vec<T> {
        self.0
    }

    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
}

impl<T, const MIN: usize, const MAX: usize> Default for List<T, MIN, MAX> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>, const MIN: usize, const MAX: usize> Deserialize<'de>
    for List<T, MIN, MAX>
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<T>::deserialize(d)?;
        if !(MIN..=MAX).contains(&items.len()) {
            return Err(D::Error::custom(Self::expected()));
        }
        Ok(List(items))
    }
}

impl<T: Type, const MIN: usize, const MAX: usize> Type for List<T, MIN, MAX> {
    own_raw_value!(true);

    fn name() -> Cow<'static, str> {
        format!("list_of_{}_{MIN}_to_{MAX}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        inline(MetaSchema {
            items: Some(Box::new(T::schema_ref())),
            min_items: (MIN > 0).then_some(MIN),
            max_items: Some(MAX),
            ..MetaSchema::new("array")
        })
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        T::register(registry);
    }
}

impl<T: ParseFromJSON, const MIN: usize, const MAX: usize> ParseFromJSON for List<T, MIN, MAX> {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        let items = Vec::<T>::parse_from_json(value).map_err(ParseError::propagate)?;
        if !(MIN..=MAX).contains(&items.len()) {
            return Err(parse_error(Self::expected()));
        }
        Ok(List(items))
    }
}

impl<T: ToJSON, const MIN: usize, const MAX: usize> ToJSON for List<T, MIN, MAX> {
    fn to_json(&self) -> Option<serde_json::Value> {
        self.0.to_json()
    }
}

/// Named values (a variant's options: `{"size": "M"}`): at most [`Options::MAX`], each name
/// 1 to 50 characters with something besides spaces, each value keeping `R`.
pub struct Options<R>(std::collections::BTreeMap<String, Text<R>>);

impl<R> Options<R> {
    pub const MAX: usize = limits::MAX_OPTIONS;
    const NAME_CHARS: usize = limits::MAX_OPTION_NAME_CHARS;

    pub fn into_map(self) -> std::collections::BTreeMap<String, String> {
        self.0
            .into_iter()
            .map(|(k, v)| (k, v.into_string()))
            .collect()
    }
}

impl<R> fmt::Debug for Options<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

impl<R> Default for Options<R> {
    fn default() -> Self {
        Options(Default::default())
    }
}

impl<R> Serialize for Options<R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, R: TextRule> Deserialize<'de> for Options<R> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, Text<R>>::deserialize(d)?;
        if map.len() > Self::MAX {
            return Err(D::Error::custom(format!("at most {} options", Self::MAX)));
        }
        if let Some(name) = map
            .keys()
            .find(|k| k.trim().is_empty() || k.chars().count() > Self::NAME_CHARS)
        {
            return Err(D::Error::custom(format!(
                "the option name {name:?} must be 1 to {} characters, not only spaces",
                Self::NAME_CHARS
            )));
        }
        Ok(Options(map))
    }
}

documented_by_serde!(
    impl [R: TextRule] Options<R>,
    format!("options_of_{}", R::NAME).into(),
    MetaSchema {
        additional_properties: Some(Box::new(<Text<R> as Type>::schema_ref())),
        max_properties: Some(Self::MAX),
        description: Some("Option values by name; a name is 1 to 50 characters, not only spaces."),
        ..MetaSchema::new("object")
    }
);

/// A calendar day in a query (`from=2026-12-01`): `YYYY-MM-DD`, as the document's pattern
/// and format say.
pub struct Day(pub chrono::NaiveDate);

impl Day {
    const PATTERN: &'static str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
}

impl Type for Day {
    own_raw_value!(true);

    fn name() -> Cow<'static, str> {
        "day".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        inline(MetaSchema {
            pattern: Some(Self::PATTERN.to_string()),
            ..MetaSchema::new_with_format("string", "date")
        })
    }
}

impl ParseFromParameter for Day {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .ok()
            .filter(|_| value.len() == 10)
            .map(Day)
            .ok_or_else(|| parse_error("must be a day as YYYY-MM-DD, such as 2026-12-01"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    /// The document's pattern, read back with the same engine, agrees with the check.
    fn pattern_of<R: TextRule>() -> Regex {
        let schema = Text::<R>::schema();
        Regex::new(&schema.pattern.expect("a pattern")).unwrap()
    }

    #[test]
    fn names_need_something_besides_spaces_and_at_most_200_characters() {
        assert!(parse::<Text<Name>>(r#""Desk lamp""#).is_ok());
        assert!(parse::<Text<Name>>(&format!("\"{}\"", "é".repeat(200))).is_ok());
        for refused in [r#""""#, r#""   ""#, &format!("\"{}\"", "a".repeat(201))] {
            assert!(parse::<Text<Name>>(refused).is_err(), "{refused}");
        }
        let schema = Text::<Name>::schema();
        assert_eq!((schema.min_length, schema.max_length), (Some(1), Some(200)));
    }

    #[test]
    fn emails_slugs_countries_and_codes_match_their_documented_patterns() {
        let email = pattern_of::<Email>();
        for ok in [
            "ana@example.com",
            " Ana@Example.com ",
            "a.b+c@sub.example.co",
        ] {
            assert!(Email::check(ok).is_ok() && email.is_match(ok), "{ok}");
            assert!(
                commerce_core::account::normalize_email(ok).is_some(),
                "{ok}"
            );
        }
        for bad in [
            "",
            "ana",
            "ana@example",
            "ana@@example.com",
            "a b@example.com",
            "@x.com",
            "ana@.com",
            "ana@example..com",
            "ana@example.com.",
        ] {
            assert!(Email::check(bad).is_err(), "{bad}");
        }
        let slug = pattern_of::<Slug>();
        assert!(slug.is_match("desk-lamp-2") && !slug.is_match("Desk") && !slug.is_match("a--b"));
        assert!(Country::check("us").is_ok() && Country::check("USA").is_err());
        assert!(DiscountCode::check("SUMMER_10").is_ok() && DiscountCode::check("10 %").is_err());
        // Patterns are literals; the lengths inside them are the core's.
        let (code, _) = DiscountCode::pattern().unwrap();
        assert!(code.contains(&format!("{{1,{}}}", limits::MAX_DISCOUNT_CODE_CHARS)));
    }

    #[test]
    fn counts_keep_their_range_and_say_it() {
        assert_eq!(parse::<Quantity>("3").unwrap(), Count(3));
        for refused in ["0", "-1", "1.5", "100001", "\"3\""] {
            let e = parse::<Quantity>(refused).unwrap_err();
            assert!(e.contains("from 1 to 100000"), "{refused}: {e}");
        }
        assert_eq!(parse::<NewQuantity>("0").unwrap(), Count(0));
    }

    #[test]
    fn amount_patterns_follow_the_currency() {
        let usd = in_currency(Some(Currency::USD), || {
            Amount::rule(Some(Currency::USD)).pattern()
        });
        let re = Regex::new(&usd).unwrap();
        for ok in [
            "0",
            "19.99",
            "19.9",
            "999999999999.99",
            "1000000000000",
            "1000000000000.00",
        ] {
            assert!(re.is_match(ok), "{ok}");
        }
        for bad in ["", "05", "19.999", "-1", "1000000000000.01", "1e3", " 5"] {
            assert!(!re.is_match(bad), "{bad}");
        }
        let jpy = Currency::from_code("JPY").unwrap();
        let parsed = in_currency(Some(jpy), || parse::<Amount>(r#""500""#));
        assert_eq!(parsed.unwrap().0, Decimal::from(500));
        assert!(in_currency(Some(jpy), || parse::<Amount>(r#""5.5""#)).is_err());
        assert!(in_currency(Some(jpy), || parse::<Amount>("5.5")).is_err());
        // Above zero: every way of writing nothing is refused, the smallest unit taken.
        let positive = Regex::new(&PositiveAmount::rule(Some(Currency::USD)).pattern()).unwrap();
        for ok in [
            "0.01",
            "0.1",
            "0.10",
            "0.05",
            "1",
            "12.5",
            "1000000000000.00",
        ] {
            assert!(positive.is_match(ok), "{ok}");
            let json = format!("\"{ok}\"");
            assert!(
                in_currency(Some(Currency::USD), || parse::<PositiveAmount>(&json)).is_ok(),
                "{ok}"
            );
        }
        for bad in ["0", "0.0", "0.00", "00.1", "0.001", "-1"] {
            assert!(!positive.is_match(bad), "{bad}");
        }
        assert!(in_currency(Some(Currency::USD), || parse::<PositiveAmount>("0")).is_err());
        assert!(in_currency(Some(Currency::USD), || parse::<PositiveAmount>("0.5")).is_ok());
    }

    #[test]
    fn tax_rates_are_fractions_up_to_one_with_six_decimals() {
        for (json, want) in [
            (r#""0.0825""#, "0.0825"),
            ("0.2", "0.2"),
            (r#""1""#, "1"),
            (r#""1.000""#, "1.000"),
        ] {
            assert_eq!(
                parse::<Fraction>(json).unwrap().0.to_string(),
                want,
                "{json}"
            );
        }
        for refused in [
            r#""1.01""#,
            r#""0.0000001""#,
            "2",
            r#""-0.1""#,
            r#""8.25%""#,
        ] {
            assert!(parse::<Fraction>(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn price_bounds_in_queries_are_empty_or_decimals() {
        assert_eq!(PriceBound::parse_from_parameter("").unwrap().0, None);
        assert_eq!(
            PriceBound::parse_from_parameter("10.5").unwrap().0,
            Some(Decimal::new(105, 1))
        );
        assert!(PriceBound::parse_from_parameter("N\\").is_err());
        assert!(Regex::new(&PriceBound::pattern()).unwrap().is_match(""));
    }

    #[test]
    fn lists_and_options_keep_their_sizes() {
        assert!(parse::<List<u32, 1, 2>>("[]").is_err());
        assert!(parse::<List<u32, 1, 2>>("[1, 2, 3]").is_err());
        assert_eq!(parse::<List<u32, 1, 2>>("[1]").unwrap().into_vec(), vec![1]);
        assert!(parse::<Options<OptionValue>>(r#"{"size": "M"}"#).is_ok());
        assert!(parse::<Options<OptionValue>>(r#"{" ": "M"}"#).is_err());
        let eleven: String = (0..11)
            .map(|i| format!("\"k{i}\": \"v\""))
            .collect::<Vec<_>>()
            .join(",");
        assert!(parse::<Options<OptionValue>>(&format!("{{{eleven}}}")).is_err());
    }
}
