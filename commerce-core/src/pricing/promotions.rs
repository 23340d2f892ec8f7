//! Which promotions apply and what each is worth: eligibility, limits, stand-alone value
//! (to choose between them), and the amounts a product or shipping discount takes.

use super::*;

pub(super) fn rejection(
    p: &Promotion,
    reason: RejectionReason,
    excluded_by: Option<PromotionId>,
) -> RejectedPromotion {
    RejectedPromotion {
        id: Some(p.id),
        code: p.code.clone(),
        reason,
        excluded_by,
    }
}

pub(super) fn customer_limit_reached(p: &Promotion, uses: &[(PromotionId, u32)]) -> bool {
    p.per_customer_limit.is_some_and(|limit| {
        uses.iter()
            .find(|(id, _)| *id == p.id)
            .is_some_and(|(_, n)| *n >= limit)
    })
}

pub(super) fn eligible(p: &Promotion, line: &PricingLine) -> bool {
    p.applies_to.matches(line.product_id, &line.category_ids)
}

pub(super) fn is_anything_eligible(
    p: &Promotion,
    lines: &[PricingLine],
    has_shipping: bool,
) -> bool {
    match (p.class, p.kind) {
        (_, PromotionKind::BuyXGetY { buy, get }) => {
            // Fewer eligible units than one full set frees nothing.
            let units: u64 = lines
                .iter()
                .filter(|l| eligible(p, l))
                .map(|l| u64::from(l.quantity))
                .sum();
            units >= u64::from(buy) + u64::from(get)
        }
        (PromotionClass::Shipping, _) => has_shipping && lines.iter().any(|l| eligible(p, l)),
        _ => lines.iter().any(|l| eligible(p, l)),
    }
}

/// The discount a promotion would give if it were the only one (conditions against the plain
/// subtotal), used to order the candidates.
pub(super) fn standalone_value(
    class: PromotionClass,
    off: Off,
    line_amounts: &[(usize, i128)],
    subtotal: i128,
    shipping_price: i128,
    rule: Rounding,
) -> i128 {
    match class {
        // Each line's amount is already capped by its subtotal.
        PromotionClass::Product => line_amounts.iter().map(|(_, a)| a).sum(),
        PromotionClass::Order => match off {
            Off::Share { num, den } => div_round(subtotal * num, den, rule).min(subtotal),
            Off::Units(v) => v.min(subtotal),
            Off::BuyGet { .. } | Off::FreeShipping => 0,
        },
        PromotionClass::Shipping => shipping_amount(off, shipping_price, rule),
    }
}

/// A product-class promotion's amount per eligible line, each computed on the line subtotal
/// (not yet capped by earlier promotions).
pub(super) fn product_amounts(
    p: &Promotion,
    off: Off,
    lines: &[PricingLine],
    work: &[LineWork],
    rule: Rounding,
) -> Vec<(usize, i128)> {
    let eligible_lines = (0..lines.len()).filter(|i| eligible(p, &lines[*i]));
    match off {
        Off::Share { num, den } => eligible_lines
            .map(|i| {
                (
                    i,
                    div_round(work[i].subtotal * num, den, rule).min(work[i].subtotal),
                )
            })
            .collect(),
        Off::Units(v) => eligible_lines
            .map(|i| (i, (v * i128::from(lines[i].quantity)).min(work[i].subtotal)))
            .collect(),
        Off::BuyGet { buy, get } => {
            // Eligible units across lines, cheapest first (ties by line order).
            let mut cheapest_first: Vec<usize> = eligible_lines.collect();
            cheapest_first.sort_by(|a, b| work[*a].unit.cmp(&work[*b].unit).then(a.cmp(b)));
            let units: u64 = cheapest_first
                .iter()
                .map(|i| u64::from(lines[*i].quantity))
                .sum();
            let mut free = units / (buy + get) * get;
            let mut amounts = Vec::new();
            for i in cheapest_first {
                if free == 0 {
                    break;
                }
                let here = free.min(u64::from(lines[i].quantity));
                free -= here;
                amounts.push((i, work[i].unit * i128::from(here)));
            }
            amounts.sort_by_key(|(i, _)| *i);
            amounts
        }
        Off::FreeShipping => Vec::new(),
    }
}

/// A shipping-class promotion's amount off `price`, capped by it.
pub(super) fn shipping_amount(off: Off, price: i128, rule: Rounding) -> i128 {
    match off {
        Off::Share { num, den } => div_round(price * num, den, rule),
        Off::Units(v) => v,
        Off::FreeShipping => price,
        Off::BuyGet { .. } => 0,
    }
    .min(price)
}
