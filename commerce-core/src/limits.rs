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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_amount_is_one_trillion() {
        assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000_u64));
    }
}
