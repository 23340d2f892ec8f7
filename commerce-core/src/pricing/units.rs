//! The engine's integer arithmetic: amounts in minor units, rates as exact fractions, and
//! the one rounding division every rounding point uses.

use super::*;

pub(super) const POW10: [i128; 29] = {
    let mut table = [1i128; 29];
    let mut i = 1;
    while i < 29 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// An amount in minor units, if it has no more decimals than `scale`.
pub(super) fn to_units(d: Decimal, scale: u32) -> Option<i128> {
    let d = if d.scale() > scale { d.normalize() } else { d };
    if d.scale() > scale {
        return None;
    }
    d.mantissa()
        .checked_mul(POW10[(scale - d.scale()) as usize])
}

/// Minor units back to a decimal at `scale`. Amounts within the limits check_input enforces
/// are far inside the 96 bits of a decimal's mantissa; building it from its parts is several
/// times cheaper than the general conversion, and this runs for every amount of the output.
pub(super) fn units_to_decimal(units: i128, scale: u32) -> Decimal {
    let magnitude = units.unsigned_abs();
    if magnitude >> 96 != 0 {
        return Decimal::from_i128_with_scale(units.clamp(-(1 << 95), 1 << 95), scale);
    }
    Decimal::from_parts(
        magnitude as u32,
        (magnitude >> 32) as u32,
        (magnitude >> 64) as u32,
        units < 0,
        scale,
    )
}

/// A decimal as the exact fraction `mantissa / 10^scale`.
pub(super) fn fraction(d: Decimal) -> (i128, i128) {
    let d = d.normalize();
    (d.mantissa(), POW10[d.scale() as usize])
}

/// `n / d` rounded to an integer by `rule`; `n ≥ 0`, `d > 0`. Exact: no intermediate rounding.
pub(super) fn div_round(n: i128, d: i128, rule: Rounding) -> i128 {
    let (q, r) = (n / d, n % d);
    match (2 * r).cmp(&d) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => match rule {
            Rounding::HalfEven => q + (q & 1),
            Rounding::HalfUp => q + 1,
        },
    }
}
