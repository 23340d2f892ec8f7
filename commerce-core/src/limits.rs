//! Bounds on what input may ask for. They keep every sum the engine computes far inside
//! `Decimal`'s range (about 7.9e28), so arithmetic on validated data cannot overflow, and a
//! hostile quantity gets a validation error instead of a panic.

use rust_decimal::Decimal;

/// The largest price, fixed discount or threshold: one trillion in any currency.
pub const MAX_AMOUNT: Decimal = rust_decimal::dec!(1_000_000_000_000);

/// The most units of one line.
pub const MAX_LINE_QUANTITY: u32 = 100_000;

/// The most lines in one cart or order.
pub const MAX_LINES: usize = 10_000;

/// The highest tax rate, as a fraction (1 = 100 %).
pub const MAX_TAX_RATE: Decimal = Decimal::ONE;

// Lengths, in characters (Unicode scalar values, as JSON Schema counts them). The HTTP
// layer writes them into the OpenAPI document and checks them as a body is read.

/// A name: a product's, a category's, a shipping method's, the store's, a person's.
pub const MAX_NAME_CHARS: usize = 200;
/// A product's description.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// A review's title and its text.
pub const MAX_REVIEW_TITLE_CHARS: usize = 200;
/// The longest review body.
pub const MAX_REVIEW_TEXT_CHARS: usize = 10_000;
/// A variant's SKU.
pub const MAX_SKU_CHARS: usize = 64;
/// A slug (lower-case ASCII, so also bytes).
pub const MAX_SLUG_CHARS: usize = 120;
/// Each part of a postal address, and a saved address's label.
pub const MAX_ADDRESS_PART_CHARS: usize = 200;
/// The longest saved address label.
pub const MAX_LABEL_CHARS: usize = 100;
/// A variant's options: how many, and the length of a name and of a value.
pub const MAX_OPTIONS: usize = 10;
/// The longest variant option name.
pub const MAX_OPTION_NAME_CHARS: usize = 50;
/// The longest variant option value.
pub const MAX_OPTION_VALUE_CHARS: usize = 100;
/// Variants of one product.
pub const MAX_VARIANTS: usize = 100;
/// A discount code.
pub const MAX_DISCOUNT_CODE_CHARS: usize = 64;
/// A buy-x-get-y promotion's units bought and given, together.
pub const MAX_BUY_AND_GET_UNITS: u32 = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_amount_is_one_trillion() {
        assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000_u64));
    }
}
