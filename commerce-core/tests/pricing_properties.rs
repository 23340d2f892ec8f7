//! Invariants of the pricing engine over random carts, promotions, tax and shipping settings.

use chrono::{TimeZone, Utc};
use commerce_core::ids::{CartItemId, CategoryId, ProductId, PromotionId, ShippingMethodId};
use commerce_core::money::{Currency, Money, Rounding};
use commerce_core::pricing::{price, PricedCart, PricingContext, PricingLine, PricingRequest};
use commerce_core::promotion::{AppliesTo, ClassSet, Promotion, PromotionClass, PromotionKind};
use commerce_core::shipping::ShippingMethod;
use commerce_core::tax::{TaxPolicy, TaxRounding};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

#[derive(Debug, Clone)]
struct Scenario {
    lines: Vec<PricingLine>,
    codes: Vec<String>,
    promotions: Vec<Promotion>,
    shipping: Option<ShippingMethod>,
    policy: TaxPolicy,
    rate: Decimal,
}

fn class_of(i: u8) -> PromotionClass {
    PromotionClass::ALL[usize::from(i % 3)]
}

fn promotion_strategy(products: Vec<ProductId>) -> impl Strategy<Value = Promotion> {
    (
        0u8..6,
        0i64..20_000,
        0u8..3,
        0u8..8,
        any::<bool>(),
        prop::option::of(0i64..50_000),
        any::<bool>(),
        0usize..=products.len(),
    )
        .prop_map(
            move |(kind, value, class, combines, coded, min, restrict, which)| {
                let (kind, class) = match kind {
                    0 => (
                        PromotionKind::Percent {
                            value: Decimal::new(value % 10_001, 2),
                        },
                        class_of(class),
                    ),
                    1 | 2 => (
                        PromotionKind::Fixed {
                            value: Money::new(cents(value), Currency::USD).unwrap(),
                        },
                        class_of(class),
                    ),
                    3 => (
                        PromotionKind::BuyXGetY {
                            buy: (value % 3 + 1) as u32,
                            get: (value % 2 + 1) as u32,
                        },
                        PromotionClass::Product,
                    ),
                    _ => (PromotionKind::FreeShipping, PromotionClass::Shipping),
                };
                let id = PromotionId::random();
                let applies_to = match products.get(which) {
                    Some(p) if restrict => AppliesTo {
                        product_ids: vec![*p],
                        category_ids: vec![],
                    },
                    _ => AppliesTo::default(),
                };
                let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
                Promotion {
                    id,
                    code: coded.then(|| format!("C{}", &id.to_string()[..8]).to_uppercase()),
                    kind,
                    class,
                    combines_with: PromotionClass::ALL
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| combines & (1 << i) != 0)
                        .map(|(_, c)| c)
                        .collect::<ClassSet>(),
                    applies_to,
                    min_subtotal: min.map(|m| Money::new(cents(m), Currency::USD).unwrap()),
                    starts_at: None,
                    ends_at: None,
                    usage_limit: None,
                    per_customer_limit: None,
                    used_count: 0,
                    active: true,
                    created_at: now,
                    updated_at: now,
                }
            },
        )
}

fn scenario() -> impl Strategy<Value = Scenario> {
    prop::collection::vec((1i64..100_000, 1u32..25), 1..15)
        .prop_flat_map(|raw| {
            let lines: Vec<PricingLine> = raw
                .into_iter()
                .map(|(price, quantity)| PricingLine {
                    item_id: CartItemId::random(),
                    product_id: ProductId::random(),
                    variant_id: None,
                    category_ids: vec![CategoryId::random()],
                    unit_price: Money::new(cents(price), Currency::USD).unwrap(),
                    quantity,
                })
                .collect();
            let products: Vec<ProductId> = lines.iter().map(|l| l.product_id).collect();
            (
                Just(lines),
                prop::collection::vec(promotion_strategy(products), 0..6),
                prop::option::of((0i64..2_000, prop::option::of(0i64..100_000))),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                0i64..2_500,
            )
        })
        .prop_map(
            |(lines, promotions, shipping, inclusive, per_order, tax_shipping, rate)| {
                let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
                let codes = promotions.iter().filter_map(|p| p.code.clone()).collect();
                Scenario {
                    lines,
                    codes,
                    promotions,
                    shipping: shipping.map(|(price, free_above)| ShippingMethod {
                        id: ShippingMethodId::random(),
                        name: "Standard".into(),
                        price: Money::new(cents(price), Currency::USD).unwrap(),
                        free_above: free_above
                            .map(|f| Money::new(cents(f), Currency::USD).unwrap()),
                        active: true,
                        created_at: now,
                        updated_at: now,
                    }),
                    policy: TaxPolicy {
                        prices_include_tax: inclusive,
                        rounding: if per_order {
                            TaxRounding::Order
                        } else {
                            TaxRounding::Line
                        },
                        tax_shipping,
                    },
                    rate: Decimal::new(rate, 4),
                }
            },
        )
}

fn run(s: &Scenario) -> PricedCart {
    let request = PricingRequest {
        currency: Currency::USD,
        lines: s.lines.clone(),
        codes: s.codes.clone(),
    };
    let ctx = PricingContext {
        now: Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap(),
        promotions: &s.promotions,
        customer_uses: &[],
        tax: s.policy,
        tax_rate: s.rate,
        shipping: s.shipping.as_ref(),
        rounding: Rounding::HalfEven,
    };
    price(&request, &ctx).expect("valid scenarios price")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn totals_add_up_and_nothing_is_negative(s in scenario()) {
        let p = run(&s);
        let expected = if s.policy.prices_include_tax {
            p.subtotal.amount() - p.discount.amount() + p.shipping.amount()
        } else {
            p.subtotal.amount() - p.discount.amount() + p.shipping.amount() + p.tax.amount()
        };
        prop_assert_eq!(p.total.amount(), expected);
        for m in [p.subtotal, p.discount, p.shipping, p.shipping_discount, p.tax, p.total] {
            prop_assert!(!m.is_negative(), "{m}");
            prop_assert_eq!(m.amount().scale(), 2);
        }
        prop_assert_eq!(
            p.discount.amount(),
            p.product_discount.amount() + p.order_discount.amount() + p.shipping_discount.amount()
        );
        prop_assert_eq!(p.subtotal.amount(), p.lines.iter().map(|l| l.line_subtotal.amount()).sum::<Decimal>());
    }

    #[test]
    fn no_discount_exceeds_its_base(s in scenario()) {
        let p = run(&s);
        for l in &p.lines {
            prop_assert!(l.product_discount.amount() <= l.line_subtotal.amount());
            prop_assert!(l.discount.amount() <= l.line_subtotal.amount());
            prop_assert!(!l.taxable.is_negative() && !l.tax.is_negative());
        }
        prop_assert!(p.order_discount.amount() <= p.subtotal.amount() - p.product_discount.amount());
        prop_assert!(p.shipping_discount.amount() <= p.shipping.amount());
    }

    #[test]
    fn allocations_sum_exactly(s in scenario()) {
        let p = run(&s);
        prop_assert_eq!(p.order_discount.amount(), p.lines.iter().map(|l| l.order_discount.amount()).sum::<Decimal>());
        prop_assert_eq!(p.product_discount.amount(), p.lines.iter().map(|l| l.product_discount.amount()).sum::<Decimal>());
        prop_assert_eq!(p.tax.amount(), p.lines.iter().map(|l| l.tax.amount()).sum::<Decimal>() + p.shipping_tax.amount());
        for a in &p.applied {
            let split = a.lines.iter().map(|l| l.amount.amount()).sum::<Decimal>() + a.shipping.amount();
            prop_assert_eq!(a.amount.amount(), split);
        }
    }

    #[test]
    fn pricing_is_deterministic_and_repricing_changes_nothing(s in scenario()) {
        let first = run(&s);
        prop_assert_eq!(&first, &run(&s));
        // Reprice from the priced cart's own lines and unit prices.
        let mut again = s.clone();
        again.lines = first
            .lines
            .iter()
            .zip(&s.lines)
            .map(|(priced, original)| PricingLine {
                unit_price: priced.unit_price,
                quantity: priced.quantity,
                ..original.clone()
            })
            .collect();
        prop_assert_eq!(&first, &run(&again));
    }

    #[test]
    fn line_tax_follows_the_formula_of_pricing_md(s in scenario()) {
        // Recomputed independently in Decimal: round(taxable × rate), or for tax-inclusive
        // prices taxable − round(taxable / (1 + rate)), half-even at the currency's scale.
        prop_assume!(s.policy.rounding == TaxRounding::Line);
        let p = run(&s);
        let round = |d: Decimal| d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointNearestEven);
        for l in &p.lines {
            let taxable = l.taxable.amount();
            let expected = if s.policy.prices_include_tax {
                taxable - round(taxable / (Decimal::ONE + s.rate))
            } else {
                round(taxable * s.rate)
            };
            prop_assert_eq!(l.tax.amount(), expected);
        }
    }

    #[test]
    fn every_promotion_is_applied_or_explained(s in scenario()) {
        let p = run(&s);
        for promo in &s.promotions {
            let applied = p.applied.iter().any(|a| a.id == promo.id);
            let rejected = p.rejected.iter().filter(|r| r.id == Some(promo.id)).count();
            prop_assert!(applied ^ (rejected == 1), "{:?} applied={} rejected={}", promo.id, applied, rejected);
        }
    }
}
