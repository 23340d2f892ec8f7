//! The pricing engine: `price(request, context) -> PricedCart`, a pure function.
//!
//! It follows the default policy of PRICING.md step by step: line subtotals from prices the
//! engine resolved (never a client's), selection of promotions by stand-alone value and
//! combinability, product discounts, order discounts on the discounted base allocated to lines
//! by largest remainder, shipping with its discounts and free-above threshold, tax per line
//! after discounts (rounded per line or once per order), and totals whose displayed parts add
//! up to the total the payment provider is asked to charge. No I/O and no clock: the time is
//! in the context. Every promotion that did not apply is reported with one reason.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{CartItemId, CategoryId, ProductId, PromotionId, VariantId};
use crate::limits::{MAX_AMOUNT, MAX_LINES, MAX_LINE_QUANTITY, MAX_TAX_RATE};
use crate::money::{allocate, round_total_and_distribute, Currency, Money, Rounding};
use crate::promotion::{Promotion, PromotionClass, PromotionKind};
use crate::shipping::ShippingMethod;
use crate::tax::{TaxPolicy, TaxRounding};

/// One line to price, with the unit price the engine resolved from the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingLine {
    pub item_id: CartItemId,
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    /// The product's category and every ancestor of it, so that a promotion on "Clothing"
    /// reaches a product in "Clothing > Shirts".
    pub category_ids: Vec<CategoryId>,
    /// At the currency's scale.
    pub unit_price: Decimal,
    pub quantity: u32,
}

/// What is priced: lines and the codes on the cart (upper-case, each once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingRequest {
    pub currency: Currency,
    pub lines: Vec<PricingLine>,
    pub codes: Vec<String>,
}

/// Everything the engine needs besides the cart; all of it resolved by the caller.
#[derive(Debug, Clone)]
pub struct PricingContext<'a> {
    /// The pricing time: promotions are active when `starts_at ≤ now < ends_at`.
    pub now: DateTime<Utc>,
    /// The automatic promotions and those whose codes are on the cart (others are ignored).
    pub promotions: &'a [Promotion],
    /// How often this customer already used each promotion (absent = 0).
    pub customer_uses: &'a [(PromotionId, u32)],
    pub tax: TaxPolicy,
    /// The destination's rate as a fraction (0.0825); 0 before a destination is known.
    pub tax_rate: Decimal,
    /// The chosen shipping method; `None` before one is chosen (shipping is then 0).
    pub shipping: Option<&'a ShippingMethod>,
    /// The rule at every rounding point; half-even unless the shop asks otherwise.
    pub rounding: Rounding,
}

/// Why a promotion or code did not apply. When several hold, the first in PRICING.md's order
/// is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    NotStarted,
    Expired,
    UsageExhausted,
    CustomerLimitReached,
    NothingEligible,
    MinimumNotMet,
    NotCombinable,
    UnknownCode,
}

impl RejectionReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            RejectionReason::NotStarted => "not_started",
            RejectionReason::Expired => "expired",
            RejectionReason::UsageExhausted => "usage_exhausted",
            RejectionReason::CustomerLimitReached => "customer_limit_reached",
            RejectionReason::NothingEligible => "nothing_eligible",
            RejectionReason::MinimumNotMet => "minimum_not_met",
            RejectionReason::NotCombinable => "not_combinable",
            RejectionReason::UnknownCode => "unknown_code",
        }
    }

    /// Whether a code with this reason can never apply now (refused when added to a cart),
    /// as opposed to one the cart does not qualify for yet (kept on the cart).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            RejectionReason::UnknownCode
                | RejectionReason::NotStarted
                | RejectionReason::Expired
                | RejectionReason::UsageExhausted
                | RejectionReason::CustomerLimitReached
        )
    }
}

/// An amount credited to one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineAmount {
    pub item_id: CartItemId,
    pub amount: Money,
}

/// A promotion that applied, with its split per line (and for shipping).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedPromotion {
    pub id: PromotionId,
    pub code: Option<String>,
    pub class: PromotionClass,
    pub amount: Money,
    pub lines: Vec<LineAmount>,
    /// The part taken off shipping (shipping class only).
    pub shipping: Money,
}

/// A promotion or code that did not apply, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedPromotion {
    /// `None` for a code that matches no promotion.
    pub id: Option<PromotionId>,
    pub code: Option<String>,
    pub reason: RejectionReason,
    /// For `not_combinable`: the first taken promotion that excluded it.
    pub excluded_by: Option<PromotionId>,
}

/// A priced line. `discount` is its product discount plus its share of order discounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    pub item_id: CartItemId,
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub quantity: u32,
    pub unit_price: Money,
    /// Unit price × quantity, before discounts.
    pub line_subtotal: Money,
    pub product_discount: Money,
    pub order_discount: Money,
    pub discount: Money,
    /// What tax is computed on: subtotal less both discounts.
    pub taxable: Money,
    pub tax: Money,
}

/// The result: every amount at the currency's scale, and the explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedCart {
    pub currency: Currency,
    pub lines: Vec<PricedLine>,
    pub subtotal: Money,
    pub product_discount: Money,
    pub order_discount: Money,
    /// The shipping method's price (0 with none chosen).
    pub shipping: Money,
    pub shipping_discount: Money,
    pub shipping_tax: Money,
    /// Product + order + shipping discounts.
    pub discount: Money,
    /// Line taxes plus shipping tax. With tax-inclusive prices, the part of the total that is tax.
    pub tax: Money,
    /// Exactly what a payment provider is asked to charge.
    pub total: Money,
    pub prices_include_tax: bool,
    pub tax_rate: Decimal,
    pub applied: Vec<AppliedPromotion>,
    pub rejected: Vec<RejectedPromotion>,
}

impl PricedCart {
    /// The promotions that applied, as ids (for counting usage at checkout).
    pub fn applied_ids(&self) -> impl Iterator<Item = PromotionId> + '_ {
        self.applied.iter().map(|a| a.id)
    }

    /// The reason a code did not apply, if it did not.
    pub fn rejection_of_code(&self, code: &str) -> Option<&RejectedPromotion> {
        self.rejected.iter().find(|r| {
            r.code
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(code))
        })
    }
}

/// Input the engine refuses; validated data never produces one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("a cart holds at most {MAX_LINES} lines")]
    TooManyLines,
    #[error("line {0}: quantity must be 1 to {MAX_LINE_QUANTITY}")]
    Quantity(CartItemId),
    #[error("line {0}: the unit price is negative, too large or not at the currency's scale")]
    UnitPrice(CartItemId),
    #[error("the tax rate must be between 0 and 1")]
    TaxRate,
    #[error("promotion {0} has a value out of range")]
    Promotion(PromotionId),
    #[error("shipping method {0} has a price out of range")]
    Shipping(String),
}

/// One percent, as a multiplier: exact, and much cheaper than dividing by 100.
const PERCENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// A promotion that passed the checks of step 2, with its stand-alone value.
struct Candidate<'a> {
    promotion: &'a Promotion,
    value: Decimal,
}

/// Prices a cart by PRICING.md's default policy.
pub fn price(
    request: &PricingRequest,
    ctx: &PricingContext<'_>,
) -> Result<PricedCart, PricingError> {
    let currency = request.currency;
    let scale = currency.scale();
    let rounding = ctx.rounding;
    let round = |d: Decimal| currency.round(d, rounding);
    let lines = &request.lines;
    check_input(request, ctx)?;

    // Step 1: line subtotals.
    let line_subtotals: Vec<Decimal> = lines
        .iter()
        .map(|l| l.unit_price * Decimal::from(l.quantity))
        .collect();
    let subtotal: Decimal = line_subtotals.iter().copied().sum();
    let shipping_price = ctx.shipping.map_or(Decimal::ZERO, |m| m.price);

    // Step 2: selection.
    let mut rejected = Vec::new();
    for code in &request.codes {
        let known = ctx
            .promotions
            .iter()
            .any(|p| p.active && p.code.as_deref() == Some(code.as_str()));
        if !known {
            rejected.push(RejectedPromotion {
                id: None,
                code: Some(code.clone()),
                reason: RejectionReason::UnknownCode,
                excluded_by: None,
            });
        }
    }
    let mut candidates: Vec<Candidate<'_>> = Vec::with_capacity(ctx.promotions.len());
    for promotion in ctx.promotions {
        if !promotion.active {
            continue;
        }
        match &promotion.code {
            Some(code) if !request.codes.iter().any(|c| c == code) => continue,
            // Automatic promotions outside their window are not reported at all.
            None if !promotion.has_started(ctx.now) || promotion.has_ended(ctx.now) => continue,
            _ => {}
        }
        let reason = if !promotion.has_started(ctx.now) {
            Some(RejectionReason::NotStarted)
        } else if promotion.has_ended(ctx.now) {
            Some(RejectionReason::Expired)
        } else if promotion.usage_exhausted() {
            Some(RejectionReason::UsageExhausted)
        } else if customer_limit_reached(promotion, ctx.customer_uses) {
            Some(RejectionReason::CustomerLimitReached)
        } else if !is_anything_eligible(promotion, lines, ctx.shipping.is_some()) {
            Some(RejectionReason::NothingEligible)
        } else if promotion.min_subtotal.is_some_and(|min| subtotal < min) {
            Some(RejectionReason::MinimumNotMet)
        } else {
            None
        };
        match reason {
            Some(reason) => rejected.push(rejection(promotion, reason, None)),
            None => candidates.push(Candidate {
                promotion,
                value: standalone_value(
                    promotion,
                    lines,
                    &line_subtotals,
                    subtotal,
                    shipping_price,
                    &round,
                ),
            }),
        }
    }
    candidates.sort_by(|a, b| {
        b.value
            .cmp(&a.value)
            .then_with(|| a.promotion.code.is_some().cmp(&b.promotion.code.is_some()))
            .then_with(|| a.promotion.code.cmp(&b.promotion.code))
            .then_with(|| a.promotion.id.cmp(&b.promotion.id))
    });
    let mut taken: Vec<&Promotion> = Vec::with_capacity(candidates.len());
    for candidate in &candidates {
        let p = candidate.promotion;
        match taken.iter().find(|t| !t.combines(p)) {
            Some(excluder) => rejected.push(rejection(
                p,
                RejectionReason::NotCombinable,
                Some(excluder.id),
            )),
            None => taken.push(p),
        }
    }

    let zero = Money::zero(currency);
    // Every amount below is computed from at-scale amounts or already rounded.
    let money = |d: Decimal| Money::from_computed(d, currency);
    let mut applied = Vec::with_capacity(taken.len());

    // Step 3: product discounts, in selection order, each capped by what the line has left.
    let mut product_discounts = vec![Decimal::ZERO; lines.len()];
    for p in taken.iter().filter(|p| p.class == PromotionClass::Product) {
        let raw = product_amounts(p, lines, &line_subtotals, &round);
        let mut split = Vec::with_capacity(raw.len());
        let mut amount = Decimal::ZERO;
        for (i, a) in raw {
            let a = a.min(line_subtotals[i] - product_discounts[i]);
            product_discounts[i] += a;
            amount += a;
            if !a.is_zero() {
                split.push(LineAmount {
                    item_id: lines[i].item_id,
                    amount: money(a),
                });
            }
        }
        applied.push(AppliedPromotion {
            id: p.id,
            code: p.code.clone(),
            class: p.class,
            amount: money(amount),
            lines: split,
            shipping: zero,
        });
    }
    let product_discount: Decimal = product_discounts.iter().copied().sum();

    // Step 4: order discounts on the discounted base, each allocated on its own.
    let base = subtotal - product_discount;
    let weights: Vec<Decimal> = line_subtotals
        .iter()
        .zip(&product_discounts)
        .map(|(s, d)| s - d)
        .collect();
    let mut order_discounts = vec![Decimal::ZERO; lines.len()];
    let mut order_discount = Decimal::ZERO;
    for p in taken.iter().filter(|p| p.class == PromotionClass::Order) {
        if p.min_subtotal.is_some_and(|min| base < min) {
            rejected.push(rejection(p, RejectionReason::MinimumNotMet, None));
            continue;
        }
        let amount = match p.kind {
            PromotionKind::Percent { value } => round(base * value * PERCENT),
            PromotionKind::Fixed { value } => value.min(base),
            // Refused when saved: buy-X-get-Y and free shipping are never order class.
            PromotionKind::BuyXGetY { .. } | PromotionKind::FreeShipping => Decimal::ZERO,
        }
        .min(base - order_discount);
        let parts = allocate(amount, &weights, scale).map_err(|_| PricingError::Promotion(p.id))?;
        let mut split = Vec::with_capacity(parts.len());
        for (i, part) in parts.into_iter().enumerate() {
            order_discounts[i] += part;
            if !part.is_zero() {
                split.push(LineAmount {
                    item_id: lines[i].item_id,
                    amount: money(part),
                });
            }
        }
        order_discount += amount;
        applied.push(AppliedPromotion {
            id: p.id,
            code: p.code.clone(),
            class: p.class,
            amount: money(amount),
            lines: split,
            shipping: zero,
        });
    }

    // Step 5: shipping. Promotions are credited first; a met threshold frees the rest.
    let mut shipping_discount = Decimal::ZERO;
    for p in taken.iter().filter(|p| p.class == PromotionClass::Shipping) {
        if p.min_subtotal.is_some_and(|min| base < min) {
            rejected.push(rejection(p, RejectionReason::MinimumNotMet, None));
            continue;
        }
        let amount =
            shipping_amount(p, shipping_price, &round).min(shipping_price - shipping_discount);
        shipping_discount += amount;
        applied.push(AppliedPromotion {
            id: p.id,
            code: p.code.clone(),
            class: p.class,
            amount: money(amount),
            lines: Vec::new(),
            shipping: money(amount),
        });
    }
    if let Some(threshold) = ctx.shipping.and_then(|m| m.free_above) {
        if base - order_discount >= threshold {
            shipping_discount = shipping_price;
        }
    }

    // Step 6: tax per line after discounts.
    let taxables: Vec<Decimal> = (0..lines.len())
        .map(|i| line_subtotals[i] - product_discounts[i] - order_discounts[i])
        .collect();
    let shipping_taxable = shipping_price - shipping_discount;
    let inclusive = ctx.tax.prices_include_tax;
    let rate = ctx.tax_rate;
    let divisor = Decimal::ONE + rate;
    let (line_taxes, shipping_tax) = match ctx.tax.rounding {
        TaxRounding::Line => {
            let tax_of = |taxable: Decimal| {
                if rate.is_zero() || taxable.is_zero() {
                    Decimal::ZERO
                } else if inclusive {
                    taxable - round(taxable / divisor)
                } else {
                    round(taxable * rate)
                }
            };
            let line_taxes: Vec<Decimal> = taxables.iter().map(|t| tax_of(*t)).collect();
            let shipping_tax = if ctx.tax.tax_shipping {
                tax_of(shipping_taxable)
            } else {
                Decimal::ZERO
            };
            (line_taxes, shipping_tax)
        }
        TaxRounding::Order => {
            let unrounded = |taxable: Decimal| {
                if inclusive {
                    taxable - taxable / divisor
                } else {
                    taxable * rate
                }
            };
            let mut parts: Vec<Decimal> = taxables.iter().map(|t| unrounded(*t)).collect();
            if ctx.tax.tax_shipping {
                // Shipping joins the single rounding and is allocated last.
                parts.push(unrounded(shipping_taxable));
            }
            let (_, mut rounded) = round_total_and_distribute(&parts, scale, rounding);
            let shipping_tax = if ctx.tax.tax_shipping {
                rounded.pop().unwrap_or(Decimal::ZERO)
            } else {
                Decimal::ZERO
            };
            (rounded, shipping_tax)
        }
    };
    let tax: Decimal = line_taxes.iter().copied().sum::<Decimal>() + shipping_tax;

    // Step 7: totals.
    let discount = product_discount + order_discount + shipping_discount;
    let total = if inclusive {
        subtotal - discount + shipping_price
    } else {
        subtotal - discount + shipping_price + tax
    }
    .max(Decimal::ZERO);

    let priced_lines = lines
        .iter()
        .enumerate()
        .map(|(i, l)| PricedLine {
            item_id: l.item_id,
            product_id: l.product_id,
            variant_id: l.variant_id,
            quantity: l.quantity,
            unit_price: money(l.unit_price),
            line_subtotal: money(line_subtotals[i]),
            product_discount: money(product_discounts[i]),
            order_discount: money(order_discounts[i]),
            discount: money(product_discounts[i] + order_discounts[i]),
            taxable: money(taxables[i]),
            tax: money(line_taxes[i]),
        })
        .collect();
    Ok(PricedCart {
        currency,
        lines: priced_lines,
        subtotal: money(subtotal),
        product_discount: money(product_discount),
        order_discount: money(order_discount),
        shipping: money(shipping_price),
        shipping_discount: money(shipping_discount),
        shipping_tax: money(shipping_tax),
        discount: money(discount),
        tax: money(tax),
        total: money(total),
        prices_include_tax: inclusive,
        tax_rate: rate,
        applied,
        rejected,
    })
}

fn check_input(request: &PricingRequest, ctx: &PricingContext<'_>) -> Result<(), PricingError> {
    let currency = request.currency;
    if request.lines.len() > MAX_LINES {
        return Err(PricingError::TooManyLines);
    }
    for line in &request.lines {
        if line.quantity == 0 || line.quantity > MAX_LINE_QUANTITY {
            return Err(PricingError::Quantity(line.item_id));
        }
        let price = line.unit_price;
        if price.is_sign_negative() && !price.is_zero()
            || price > MAX_AMOUNT
            || price.scale() > currency.scale() && currency.at_scale(price).is_err()
        {
            return Err(PricingError::UnitPrice(line.item_id));
        }
    }
    if ctx.tax_rate.is_sign_negative() || ctx.tax_rate > MAX_TAX_RATE {
        return Err(PricingError::TaxRate);
    }
    for p in ctx.promotions {
        let in_range = match p.kind {
            PromotionKind::Percent { value } => {
                value >= Decimal::ZERO && value <= Decimal::ONE_HUNDRED
            }
            PromotionKind::Fixed { value } => value >= Decimal::ZERO && value <= MAX_AMOUNT,
            PromotionKind::BuyXGetY { buy, get } => buy > 0 && get > 0,
            PromotionKind::FreeShipping => true,
        };
        if !in_range {
            return Err(PricingError::Promotion(p.id));
        }
    }
    if let Some(m) = ctx.shipping {
        let bad = |d: Decimal| d.is_sign_negative() && !d.is_zero() || d > MAX_AMOUNT;
        if bad(m.price) || m.free_above.is_some_and(bad) {
            return Err(PricingError::Shipping(m.name.clone()));
        }
    }
    Ok(())
}

fn rejection(
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

fn customer_limit_reached(p: &Promotion, uses: &[(PromotionId, u32)]) -> bool {
    p.per_customer_limit.is_some_and(|limit| {
        uses.iter()
            .find(|(id, _)| *id == p.id)
            .is_some_and(|(_, n)| *n >= limit)
    })
}

fn eligible(p: &Promotion, line: &PricingLine) -> bool {
    p.applies_to.matches(line.product_id, &line.category_ids)
}

fn is_anything_eligible(p: &Promotion, lines: &[PricingLine], has_shipping: bool) -> bool {
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
fn standalone_value(
    p: &Promotion,
    lines: &[PricingLine],
    line_subtotals: &[Decimal],
    subtotal: Decimal,
    shipping_price: Decimal,
    round: &impl Fn(Decimal) -> Decimal,
) -> Decimal {
    match p.class {
        PromotionClass::Product => product_amounts(p, lines, line_subtotals, round)
            .into_iter()
            .map(|(i, a)| a.min(line_subtotals[i]))
            .sum(),
        PromotionClass::Order => match p.kind {
            PromotionKind::Percent { value } => round(subtotal * value * PERCENT).min(subtotal),
            PromotionKind::Fixed { value } => value.min(subtotal),
            PromotionKind::BuyXGetY { .. } | PromotionKind::FreeShipping => Decimal::ZERO,
        },
        PromotionClass::Shipping => shipping_amount(p, shipping_price, round),
    }
}

/// A product-class promotion's amount per eligible line, each computed on the line subtotal
/// (not yet capped by earlier promotions).
fn product_amounts(
    p: &Promotion,
    lines: &[PricingLine],
    line_subtotals: &[Decimal],
    round: &impl Fn(Decimal) -> Decimal,
) -> Vec<(usize, Decimal)> {
    match p.kind {
        PromotionKind::Percent { value } => (0..lines.len())
            .filter(|i| eligible(p, &lines[*i]))
            .map(|i| {
                (
                    i,
                    round(line_subtotals[i] * value * PERCENT).min(line_subtotals[i]),
                )
            })
            .collect(),
        PromotionKind::Fixed { value } => (0..lines.len())
            .filter(|i| eligible(p, &lines[*i]))
            .map(|i| {
                (
                    i,
                    (value * Decimal::from(lines[i].quantity)).min(line_subtotals[i]),
                )
            })
            .collect(),
        PromotionKind::BuyXGetY { buy, get } => {
            // Eligible units across lines, cheapest first (ties by line order).
            let mut eligible_lines: Vec<usize> = (0..lines.len())
                .filter(|i| eligible(p, &lines[*i]))
                .collect();
            eligible_lines.sort_by(|a, b| {
                lines[*a]
                    .unit_price
                    .cmp(&lines[*b].unit_price)
                    .then(a.cmp(b))
            });
            let units: u64 = eligible_lines
                .iter()
                .map(|i| u64::from(lines[*i].quantity))
                .sum();
            let set = u64::from(buy) + u64::from(get);
            let mut free = units / set * u64::from(get);
            let mut amounts = Vec::new();
            for i in eligible_lines {
                if free == 0 {
                    break;
                }
                let here = free.min(u64::from(lines[i].quantity));
                free -= here;
                amounts.push((i, lines[i].unit_price * Decimal::from(here)));
            }
            amounts.sort_by_key(|(i, _)| *i);
            amounts
        }
        PromotionKind::FreeShipping => Vec::new(),
    }
}

/// A shipping-class promotion's amount off `price`, capped by it.
fn shipping_amount(p: &Promotion, price: Decimal, round: &impl Fn(Decimal) -> Decimal) -> Decimal {
    match p.kind {
        PromotionKind::Percent { value } => round(price * value * PERCENT),
        PromotionKind::Fixed { value } => value,
        PromotionKind::FreeShipping => price,
        PromotionKind::BuyXGetY { .. } => Decimal::ZERO,
    }
    .min(price)
}

#[cfg(test)]
mod tests;
