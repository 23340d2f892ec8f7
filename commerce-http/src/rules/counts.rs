//! Whole numbers within bounds (`Count`, `Quantity`) and days.

use super::*;

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

impl<const MIN: u32, const MAX: u32> Default for Count<MIN, MAX> {
    fn default() -> Self {
        Count(MIN)
    }
}

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
