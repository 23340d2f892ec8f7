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
use crate::money::{allocate_units, hand_out, Currency, Money, Rounding};
use crate::promotion::{Promotion, PromotionClass, PromotionKind};
use crate::shipping::ShippingMethod;
use crate::tax::{TaxPolicy, TaxRounding};

mod promotions;
mod units;

use promotions::*;
use units::*;

/// One line to price, with the unit price the engine resolved from the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingLine {
    /// The cart line (reported back on every amount).
    pub item_id: CartItemId,
    /// The product.
    pub product_id: ProductId,
    /// Its variant, when it has them.
    pub variant_id: Option<VariantId>,
    /// The product's category and every ancestor of it, so that a promotion on "Clothing"
    /// reaches a product in "Clothing > Shirts".
    pub category_ids: Vec<CategoryId>,
    /// In the request's currency (a price in another is refused: [`PricingError::Currency`]).
    pub unit_price: Money,
    /// How many (1 to `MAX_LINE_QUANTITY`).
    pub quantity: u32,
}

/// What is priced: lines and the codes on the cart (upper-case, each once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingRequest {
    /// The cart's currency: every amount is in it.
    pub currency: Currency,
    /// The lines, in the cart's order.
    pub lines: Vec<PricingLine>,
    /// The codes entered.
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
    /// Whether prices include tax, how tax rounds, whether shipping is taxed.
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
    /// Its start is later.
    NotStarted,
    /// Its end has passed.
    Expired,
    /// It has no uses left.
    UsageExhausted,
    /// This customer has used it as often as it allows.
    CustomerLimitReached,
    /// Nothing in the cart is what it applies to.
    NothingEligible,
    /// The cart's subtotal is below its minimum.
    MinimumNotMet,
    /// A promotion taken before it does not combine with it.
    NotCombinable,
    /// No promotion has this code.
    UnknownCode,
}

impl RejectionReason {
    /// Its name in the API (`minimum_not_met`).
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
    /// The cart line.
    pub item_id: CartItemId,
    /// What falls on it.
    pub amount: Money,
}

/// A promotion that applied, with its split per line (and for shipping).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedPromotion {
    /// The promotion.
    pub id: PromotionId,
    /// Its code; `None` for an automatic one.
    pub code: Option<String>,
    /// What it discounts: products, the order, or shipping.
    pub class: PromotionClass,
    /// What it took off in all (lines and shipping).
    pub amount: Money,
    /// Its amount spread over the lines it touched (largest remainder: the parts add up).
    pub lines: Vec<LineAmount>,
    /// The part taken off shipping (shipping class only).
    pub shipping: Money,
}

/// A promotion or code that did not apply, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedPromotion {
    /// `None` for a code that matches no promotion.
    pub id: Option<PromotionId>,
    /// The code as entered (upper-case); `None` for an automatic promotion.
    pub code: Option<String>,
    /// Why it did not apply.
    pub reason: RejectionReason,
    /// For `not_combinable`: the first taken promotion that excluded it.
    pub excluded_by: Option<PromotionId>,
}

/// A priced line. `discount` is its product discount plus its share of order discounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    /// The cart line.
    pub item_id: CartItemId,
    /// The product.
    pub product_id: ProductId,
    /// Its variant.
    pub variant_id: Option<VariantId>,
    /// How many.
    pub quantity: u32,
    /// The price of one.
    pub unit_price: Money,
    /// Unit price × quantity, before discounts.
    pub line_subtotal: Money,
    /// What product promotions took off it.
    pub product_discount: Money,
    /// Its share of order promotions.
    pub order_discount: Money,
    /// Both together.
    pub discount: Money,
    /// What tax is computed on: subtotal less both discounts.
    pub taxable: Money,
    /// Its tax (added, or contained in its price when prices include tax).
    pub tax: Money,
}

/// The result: every amount at the currency's scale, and the explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedCart {
    /// The currency of every amount.
    pub currency: Currency,
    /// The lines, priced.
    pub lines: Vec<PricedLine>,
    /// The lines before discounts.
    pub subtotal: Money,
    /// What product promotions took off.
    pub product_discount: Money,
    /// What order promotions took off.
    pub order_discount: Money,
    /// The shipping method's price (0 with none chosen).
    pub shipping: Money,
    /// What shipping promotions took off shipping.
    pub shipping_discount: Money,
    /// The tax on shipping (when the store taxes it).
    pub shipping_tax: Money,
    /// Product + order + shipping discounts.
    pub discount: Money,
    /// Line taxes plus shipping tax. With tax-inclusive prices, the part of the total that is tax.
    pub tax: Money,
    /// Exactly what a payment provider is asked to charge.
    pub total: Money,
    /// Whether prices included tax.
    pub prices_include_tax: bool,
    /// The rate applied, as a fraction.
    pub tax_rate: Decimal,
    /// The promotions that applied, in the order they were taken.
    pub applied: Vec<AppliedPromotion>,
    /// The promotions and codes that did not, with why.
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
    /// More lines than a cart holds.
    #[error("a cart holds at most {MAX_LINES} lines")]
    TooManyLines,
    /// A line's quantity is out of range.
    #[error("line {0}: quantity must be 1 to {MAX_LINE_QUANTITY}")]
    Quantity(CartItemId),
    /// A line's unit price is negative, too large or too precise.
    #[error("line {0}: the unit price is negative, too large or not at the currency's scale")]
    UnitPrice(CartItemId),
    /// A line's unit price is in another currency.
    #[error("line {0}: the unit price is in another currency than the cart")]
    Currency(CartItemId),
    /// The tax rate is not in 0..=1.
    #[error("the tax rate must be between 0 and 1")]
    TaxRate,
    /// A promotion's value is out of range.
    #[error("promotion {0} has a value out of range")]
    Promotion(PromotionId),
    /// A promotion's amount is in another currency.
    #[error("promotion {0} has an amount in another currency than the cart")]
    PromotionCurrency(PromotionId),
    /// The shipping method's price is out of range (its name).
    #[error("shipping method {0} has a price out of range")]
    Shipping(String),
    /// The shipping method's price is in another currency (its name).
    #[error("shipping method {0} is priced in another currency than the cart")]
    ShippingCurrency(String),
}

/// What a promotion takes off, in the engine's exact integer terms.
#[derive(Debug, Clone, Copy)]
enum Off {
    /// A fraction `num / den` of the base (a percentage already divided by 100).
    Share {
        num: i128,
        den: i128,
    },
    /// Minor units: off each unit (product class), off the order, or off the shipping.
    Units(i128),
    BuyGet {
        buy: u64,
        get: u64,
    },
    FreeShipping,
}

/// A promotion that passed the checks of step 2, with its stand-alone value.
struct Candidate<'a> {
    promotion: &'a Promotion,
    off: Off,
    min_subtotal: Option<i128>,
    value: i128,
    /// Product class: the amount per eligible line on its subtotal (step 3 caps them).
    line_amounts: Vec<(usize, i128)>,
}

/// One line's running amounts, in minor units.
#[derive(Debug, Clone, Copy)]
struct LineWork {
    unit: i128,
    subtotal: i128,
    product_discount: i128,
    order_discount: i128,
    tax: i128,
}

/// Prices a cart by PRICING.md's default policy.
///
/// All arithmetic is on exact integers in the currency's minor units: percentages and tax
/// rates are exact fractions, so every rounding point of the policy is one exact integer
/// division with the context's rule. Amounts within the engine's limits (see
/// [`crate::limits`]) cannot overflow; larger ones are refused.
///
/// ```
/// use chrono::Utc;
/// use commerce_core::ids::{CartItemId, ProductId, PromotionId, ShippingMethodId};
/// use commerce_core::money::{Currency, Money};
/// use commerce_core::pricing::{price, PricingContext, PricingLine, PricingRequest};
/// use commerce_core::promotion::PromotionDraft;
/// use commerce_core::shipping::ShippingMethod;
/// use rust_decimal::Decimal;
///
/// let usd = |cents: i64| Money::new(Decimal::new(cents, 2), Currency::USD).unwrap();
/// let line = |cents, quantity| PricingLine {
///     item_id: CartItemId::random(), product_id: ProductId::random(), variant_id: None,
///     category_ids: vec![], unit_price: usd(cents), quantity,
/// };
/// let now = Utc::now();
/// let ten_off = PromotionDraft {
///     code: Some("TENOFF".into()), kind: "percent".into(), value: Some(Decimal::TEN),
///     ..Default::default()
/// }.validate(PromotionId::random(), Currency::USD, now).unwrap();
/// let standard = ShippingMethod::new(ShippingMethodId::random(), "Standard",
///     Decimal::new(499, 2), None, true, Currency::USD, now).unwrap();
///
/// // Three kettles at 19.99 and an apron at 5.00, code TENOFF, shipped to a 8.25 % region.
/// let request = PricingRequest {
///     currency: Currency::USD,
///     lines: vec![line(1999, 3), line(500, 1)],
///     codes: vec!["TENOFF".into()],
/// };
/// let priced = price(&request, &PricingContext {
///     now,
///     promotions: &[ten_off],
///     customer_uses: &[],
///     tax: Default::default(),
///     tax_rate: Decimal::new(825, 4),
///     shipping: Some(&standard),
///     rounding: Default::default(),
/// }).unwrap();
///
/// assert_eq!(priced.subtotal, usd(6497));
/// // 10 % of 64.97 is 6.497, rounded half-even once to 6.50, then allocated 6.00 + 0.50.
/// assert_eq!(priced.discount, usd(650));
/// assert_eq!((priced.lines[0].discount, priced.lines[1].discount), (usd(600), usd(50)));
/// // Tax per line after discounts: 53.97 × 8.25 % = 4.45, 4.50 × 8.25 % = 0.37.
/// assert_eq!(priced.tax, usd(482));
/// assert_eq!(priced.shipping, usd(499));
/// // The parts add up to what the provider is asked to charge.
/// assert_eq!(priced.total, usd(6828));
/// assert_eq!(priced.total.minor_units().unwrap(), 6828);
/// ```
pub fn price(
    request: &PricingRequest,
    ctx: &PricingContext<'_>,
) -> Result<PricedCart, PricingError> {
    let currency = request.currency;
    let scale = currency.scale();
    let rule = ctx.rounding;
    let lines = &request.lines;
    check_input(request, ctx)?;

    // Step 1: line subtotals.
    let max_units = to_units(MAX_AMOUNT, scale).unwrap_or(i128::MAX);
    let mut work = Vec::with_capacity(lines.len());
    for l in lines {
        if l.unit_price.currency() != request.currency {
            return Err(PricingError::Currency(l.item_id));
        }
        let unit = to_units(l.unit_price.amount(), scale)
            .filter(|u| (0..=max_units).contains(u))
            .ok_or(PricingError::UnitPrice(l.item_id))?;
        work.push(LineWork {
            unit,
            subtotal: unit * i128::from(l.quantity),
            product_discount: 0,
            order_discount: 0,
            tax: 0,
        });
    }
    let subtotal: i128 = work.iter().map(|w| w.subtotal).sum();
    let shipping_units = |d: Decimal| {
        to_units(d, scale).ok_or_else(|| {
            PricingError::Shipping(ctx.shipping.map(|m| m.name.clone()).unwrap_or_default())
        })
    };
    let shipping_price = ctx
        .shipping
        .map(|m| shipping_units(m.price.amount()))
        .transpose()?
        .unwrap_or(0);
    let free_above = ctx
        .shipping
        .and_then(|m| m.free_above)
        .map(|f| shipping_units(f.amount()))
        .transpose()?;

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
        let bad = || PricingError::Promotion(promotion.id);
        let min_subtotal = promotion
            .min_subtotal
            .map(|m| to_units(m.amount(), scale).ok_or_else(bad))
            .transpose()?;
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
        } else if min_subtotal.is_some_and(|min| subtotal < min) {
            Some(RejectionReason::MinimumNotMet)
        } else {
            None
        };
        if let Some(reason) = reason {
            rejected.push(rejection(promotion, reason, None));
            continue;
        }
        let off = match promotion.kind {
            PromotionKind::Percent { value } => {
                let (num, den) = fraction(value);
                Off::Share {
                    num,
                    den: den * 100,
                }
            }
            PromotionKind::Fixed { value } => {
                Off::Units(to_units(value.amount(), scale).ok_or_else(bad)?)
            }
            PromotionKind::BuyXGetY { buy, get } => Off::BuyGet {
                buy: u64::from(buy),
                get: u64::from(get),
            },
            PromotionKind::FreeShipping => Off::FreeShipping,
        };
        let line_amounts = match promotion.class {
            PromotionClass::Product => product_amounts(promotion, off, lines, &work, rule),
            PromotionClass::Order | PromotionClass::Shipping => Vec::new(),
        };
        let value = standalone_value(
            promotion.class,
            off,
            &line_amounts,
            subtotal,
            shipping_price,
            rule,
        );
        candidates.push(Candidate {
            promotion,
            off,
            min_subtotal,
            value,
            line_amounts,
        });
    }
    candidates.sort_by(|a, b| {
        b.value
            .cmp(&a.value)
            .then_with(|| a.promotion.code.is_some().cmp(&b.promotion.code.is_some()))
            .then_with(|| a.promotion.code.cmp(&b.promotion.code))
            .then_with(|| a.promotion.id.cmp(&b.promotion.id))
    });
    let mut taken: Vec<&Candidate<'_>> = Vec::with_capacity(candidates.len());
    for candidate in &candidates {
        let p = candidate.promotion;
        match taken.iter().find(|t| !t.promotion.combines(p)) {
            Some(excluder) => rejected.push(rejection(
                p,
                RejectionReason::NotCombinable,
                Some(excluder.promotion.id),
            )),
            None => taken.push(candidate),
        }
    }

    let money = |units: i128| Money::from_computed(units_to_decimal(units, scale), currency);
    let zero = money(0);
    let mut applied = Vec::with_capacity(taken.len());
    let applied_promotion = |c: &Candidate<'_>,
                             amount: i128,
                             lines: Vec<LineAmount>,
                             shipping: i128| AppliedPromotion {
        id: c.promotion.id,
        code: c.promotion.code.clone(),
        class: c.promotion.class,
        amount: money(amount),
        lines,
        shipping: if shipping == 0 { zero } else { money(shipping) },
    };

    // Step 3: product discounts, in selection order, each capped by what the line has left.
    for c in taken
        .iter()
        .filter(|c| c.promotion.class == PromotionClass::Product)
    {
        let mut split = Vec::new();
        let mut amount = 0;
        for &(i, a) in &c.line_amounts {
            let w = &mut work[i];
            let a = a.min(w.subtotal - w.product_discount);
            w.product_discount += a;
            amount += a;
            if a != 0 {
                split.push(LineAmount {
                    item_id: lines[i].item_id,
                    amount: money(a),
                });
            }
        }
        applied.push(applied_promotion(c, amount, split, 0));
    }
    let product_discount: i128 = work.iter().map(|w| w.product_discount).sum();

    // Step 4: order discounts on the discounted base, each allocated on its own.
    let base = subtotal - product_discount;
    let mut order_discount = 0;
    let mut weights: Vec<i128> = Vec::new();
    for c in taken
        .iter()
        .filter(|c| c.promotion.class == PromotionClass::Order)
    {
        if c.min_subtotal.is_some_and(|min| base < min) {
            rejected.push(rejection(c.promotion, RejectionReason::MinimumNotMet, None));
            continue;
        }
        let amount = match c.off {
            Off::Share { num, den } => div_round(base * num, den, rule),
            Off::Units(v) => v,
            // Refused when saved: buy-X-get-Y and free shipping are never order class.
            Off::BuyGet { .. } | Off::FreeShipping => 0,
        }
        .min(base - order_discount);
        if weights.is_empty() {
            weights = work
                .iter()
                .map(|w| w.subtotal - w.product_discount)
                .collect();
        }
        let parts =
            allocate_units(amount, &weights).ok_or(PricingError::Promotion(c.promotion.id))?;
        let mut split = Vec::with_capacity(parts.len());
        for (i, part) in parts.into_iter().enumerate() {
            work[i].order_discount += part;
            if part != 0 {
                split.push(LineAmount {
                    item_id: lines[i].item_id,
                    amount: money(part),
                });
            }
        }
        order_discount += amount;
        applied.push(applied_promotion(c, amount, split, 0));
    }

    // Step 5: shipping. Promotions are credited first; a met threshold frees the rest.
    let mut shipping_discount = 0;
    for c in taken
        .iter()
        .filter(|c| c.promotion.class == PromotionClass::Shipping)
    {
        if c.min_subtotal.is_some_and(|min| base < min) {
            rejected.push(rejection(c.promotion, RejectionReason::MinimumNotMet, None));
            continue;
        }
        let amount =
            shipping_amount(c.off, shipping_price, rule).min(shipping_price - shipping_discount);
        shipping_discount += amount;
        applied.push(applied_promotion(c, amount, Vec::new(), amount));
    }
    if free_above.is_some_and(|threshold| base - order_discount >= threshold) {
        shipping_discount = shipping_price;
    }

    // Step 6: tax per line after discounts, on the rate as an exact fraction.
    let inclusive = ctx.tax.prices_include_tax;
    let (rate_num, rate_den) = fraction(ctx.tax_rate);
    let shipping_taxable = shipping_price - shipping_discount;
    let taxable = |w: &LineWork| w.subtotal - w.product_discount - w.order_discount;
    let mut shipping_tax = 0;
    if rate_num != 0 {
        match ctx.tax.rounding {
            TaxRounding::Line => {
                let tax_of = |t: i128| {
                    if inclusive {
                        t - div_round(t * rate_den, rate_den + rate_num, rule)
                    } else {
                        div_round(t * rate_num, rate_den, rule)
                    }
                };
                for w in work.iter_mut() {
                    w.tax = tax_of(taxable(w));
                }
                if ctx.tax.tax_shipping {
                    shipping_tax = tax_of(shipping_taxable);
                }
            }
            TaxRounding::Order => {
                // Each unrounded tax is n / d with one denominator, so the single rounding
                // and the allocation back to lines are exact.
                let d = if inclusive {
                    rate_den + rate_num
                } else {
                    rate_den
                };
                let mut numerators: Vec<i128> =
                    work.iter().map(|w| taxable(w) * rate_num).collect();
                if ctx.tax.tax_shipping {
                    // Shipping joins the single rounding and is allocated last.
                    numerators.push(shipping_taxable * rate_num);
                }
                let total = div_round(numerators.iter().sum(), d, rule);
                let mut parts: Vec<i128> = numerators.iter().map(|n| n / d).collect();
                let remainders: Vec<i128> = numerators.iter().map(|n| n % d).collect();
                let given: i128 = parts.iter().sum();
                hand_out(&mut parts, &remainders, total - given);
                if ctx.tax.tax_shipping {
                    shipping_tax = parts.pop().unwrap_or(0);
                }
                for (w, t) in work.iter_mut().zip(parts) {
                    w.tax = t;
                }
            }
        }
    }
    let tax: i128 = work.iter().map(|w| w.tax).sum::<i128>() + shipping_tax;

    // Step 7: totals.
    let discount = product_discount + order_discount + shipping_discount;
    let total = if inclusive {
        subtotal - discount + shipping_price
    } else {
        subtotal - discount + shipping_price + tax
    }
    .max(0);

    let priced_lines = lines
        .iter()
        .zip(&work)
        .map(|(l, w)| PricedLine {
            item_id: l.item_id,
            product_id: l.product_id,
            variant_id: l.variant_id,
            quantity: l.quantity,
            unit_price: money(w.unit),
            line_subtotal: money(w.subtotal),
            product_discount: money(w.product_discount),
            order_discount: money(w.order_discount),
            discount: money(w.product_discount + w.order_discount),
            taxable: money(taxable(w)),
            tax: money(w.tax),
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
        tax_rate: ctx.tax_rate,
        applied,
        rejected,
    })
}

/// The most decimals of a percentage and of a tax rate the engine takes (exact fractions
/// with these stay far inside i128 for any cart within the limits).
const MAX_PERCENT_DECIMALS: u32 = 6;
const MAX_RATE_DECIMALS: u32 = 9;

fn check_input(request: &PricingRequest, ctx: &PricingContext<'_>) -> Result<(), PricingError> {
    if request.lines.len() > MAX_LINES {
        return Err(PricingError::TooManyLines);
    }
    // Unit prices are checked as they are converted to minor units.
    for line in &request.lines {
        if line.quantity == 0 || line.quantity > MAX_LINE_QUANTITY {
            return Err(PricingError::Quantity(line.item_id));
        }
    }
    let rate = ctx.tax_rate;
    if rate.is_sign_negative()
        || rate > MAX_TAX_RATE
        || rate.normalize().scale() > MAX_RATE_DECIMALS
    {
        return Err(PricingError::TaxRate);
    }
    for p in ctx.promotions {
        let fixed = match p.kind {
            PromotionKind::Fixed { value } => Some(value),
            _ => None,
        };
        if fixed
            .into_iter()
            .chain(p.min_subtotal)
            .any(|m| m.currency() != request.currency)
        {
            return Err(PricingError::PromotionCurrency(p.id));
        }
        let in_range = match p.kind {
            PromotionKind::Percent { value } => {
                value >= Decimal::ZERO
                    && value <= Decimal::ONE_HUNDRED
                    && value.normalize().scale() <= MAX_PERCENT_DECIMALS
            }
            PromotionKind::Fixed { value } => {
                value.amount() >= Decimal::ZERO && value.amount() <= MAX_AMOUNT
            }
            PromotionKind::BuyXGetY { buy, get } => buy > 0 && get > 0,
            PromotionKind::FreeShipping => true,
        } && p
            .min_subtotal
            .is_none_or(|m| m.amount() >= Decimal::ZERO && m.amount() <= MAX_AMOUNT);
        if !in_range {
            return Err(PricingError::Promotion(p.id));
        }
    }
    if let Some(m) = ctx.shipping {
        let bad = |d: Decimal| d.is_sign_negative() && !d.is_zero() || d > MAX_AMOUNT;
        let in_currency = |money: Money| money.currency() == request.currency;
        if !in_currency(m.price) || m.free_above.is_some_and(|f| !in_currency(f)) {
            return Err(PricingError::ShippingCurrency(m.name.clone()));
        }
        if bad(m.price.amount()) || m.free_above.is_some_and(|f| bad(f.amount())) {
            return Err(PricingError::Shipping(m.name.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
