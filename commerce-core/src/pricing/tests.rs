use super::*;
use crate::ids::ShippingMethodId;
use crate::promotion::{AppliesTo, ClassSet};
use chrono::TimeZone;
use rust_decimal::dec;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()
}

fn line(price: Decimal, quantity: u32) -> PricingLine {
    line_in(price, Currency::USD, quantity)
}

fn line_in(price: Decimal, currency: Currency, quantity: u32) -> PricingLine {
    PricingLine {
        item_id: CartItemId::random(),
        product_id: ProductId::random(),
        variant_id: None,
        category_ids: vec![],
        unit_price: Money::new(price, currency).expect("a price at the currency's scale"),
        quantity,
    }
}

fn promo(
    code: Option<&str>,
    kind: PromotionKind,
    class: PromotionClass,
    combines: &[PromotionClass],
) -> Promotion {
    Promotion {
        id: PromotionId::random(),
        code: code.map(str::to_string),
        kind,
        class,
        combines_with: combines.iter().copied().collect::<ClassSet>(),
        applies_to: AppliesTo::default(),
        min_subtotal: None,
        starts_at: None,
        ends_at: None,
        usage_limit: None,
        per_customer_limit: None,
        used_count: 0,
        active: true,
        created_at: now(),
        updated_at: now(),
    }
}

fn method(price: Decimal, free_above: Option<Decimal>) -> ShippingMethod {
    ShippingMethod {
        id: ShippingMethodId::random(),
        name: "Standard".into(),
        price: Money::new(price, Currency::USD).expect("a price in cents"),
        free_above: free_above.map(|f| Money::new(f, Currency::USD).expect("a price in cents")),
        active: true,
        created_at: now(),
        updated_at: now(),
    }
}

fn request(lines: Vec<PricingLine>, codes: &[&str]) -> PricingRequest {
    PricingRequest {
        currency: Currency::USD,
        lines,
        codes: codes.iter().map(|c| c.to_string()).collect(),
    }
}

fn ctx<'a>(
    promotions: &'a [Promotion],
    shipping: Option<&'a ShippingMethod>,
    rate: Decimal,
) -> PricingContext<'a> {
    PricingContext {
        now: now(),
        promotions,
        customer_uses: &[],
        tax: TaxPolicy::default(),
        tax_rate: rate,
        shipping,
        rounding: Rounding::HalfEven,
    }
}

fn amounts(priced: &PricedCart) -> [Decimal; 5] {
    [
        priced.subtotal.amount(),
        priced.discount.amount(),
        priced.shipping.amount(),
        priced.tax.amount(),
        priced.total.amount(),
    ]
}

fn percent(v: Decimal) -> PromotionKind {
    PromotionKind::Percent { value: v }
}

fn usd(v: Decimal) -> Money {
    Money::new(v, Currency::USD).expect("an amount in cents")
}

fn fixed(v: Decimal) -> PromotionKind {
    PromotionKind::Fixed { value: usd(v) }
}

use PromotionClass::{Order as O, Product as P, Shipping as S};

#[test]
fn the_worked_example_of_pricing_md() {
    let lines = vec![line(dec!(19.99), 3), line(dec!(5.00), 1)];
    let (a, b) = (lines[0].item_id, lines[1].item_id);
    let promotions = vec![
        promo(Some("TENOFF"), percent(dec!(10)), O, &[S]),
        promo(Some("FREESHIP"), PromotionKind::FreeShipping, S, &[O]),
    ];
    let m = method(dec!(4.99), None);
    let priced = price(
        &request(lines, &["TENOFF", "FREESHIP"]),
        &ctx(&promotions, Some(&m), dec!(0.0825)),
    )
    .unwrap();
    assert_eq!(
        amounts(&priced),
        [
            dec!(64.97),
            dec!(11.49),
            dec!(4.99),
            dec!(4.82),
            dec!(63.29)
        ]
    );
    assert_eq!(priced.order_discount.amount(), dec!(6.50));
    assert_eq!(priced.shipping_discount.amount(), dec!(4.99));
    assert_eq!(priced.lines[0].discount.amount(), dec!(6.00));
    assert_eq!(priced.lines[1].discount.amount(), dec!(0.50));
    assert_eq!(priced.lines[0].taxable.amount(), dec!(53.97));
    assert_eq!(priced.lines[0].tax.amount(), dec!(4.45));
    assert_eq!(priced.lines[1].tax.amount(), dec!(0.37));
    assert_eq!(priced.total.minor_units().unwrap(), 6329);
    // The explanation: both applied, with their per-line split, nothing rejected.
    assert_eq!(priced.applied.len(), 2);
    let tenoff = priced
        .applied
        .iter()
        .find(|x| x.code.as_deref() == Some("TENOFF"))
        .unwrap();
    assert_eq!(tenoff.amount.amount(), dec!(6.50));
    assert_eq!(
        tenoff
            .lines
            .iter()
            .map(|l| (l.item_id, l.amount.amount()))
            .collect::<Vec<_>>(),
        vec![(a, dec!(6.00)), (b, dec!(0.50))]
    );
    let freeship = priced
        .applied
        .iter()
        .find(|x| x.code.as_deref() == Some("FREESHIP"))
        .unwrap();
    assert_eq!(freeship.shipping.amount(), dec!(4.99));
    assert!(priced.rejected.is_empty());
    // Amounts print at scale.
    assert_eq!(priced.total.amount().to_string(), "63.29");
    assert_eq!(priced.lines[1].discount.amount().to_string(), "0.50");
}

#[test]
fn without_promotions_shipping_or_tax_the_total_is_the_subtotal() {
    let priced = price(
        &request(vec![line(dec!(10.00), 2)], &[]),
        &ctx(&[], None, Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(
        amounts(&priced),
        [dec!(20.00), dec!(0.00), dec!(0.00), dec!(0.00), dec!(20.00)]
    );
    assert_eq!(priced.shipping.amount().to_string(), "0.00");
}

#[test]
fn a_code_matching_nothing_is_unknown() {
    let priced = price(
        &request(vec![line(dec!(10.00), 1)], &["NOPE"]),
        &ctx(&[], None, Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(priced.rejected.len(), 1);
    assert_eq!(priced.rejected[0].reason, RejectionReason::UnknownCode);
    assert_eq!(priced.rejected[0].id, None);
    // A switched-off coded promotion is unknown too.
    let mut off = promo(Some("OFF"), percent(dec!(10)), O, &[]);
    off.active = false;
    let priced = price(
        &request(vec![line(dec!(10.00), 1)], &["OFF"]),
        &ctx(&[off], None, Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(priced.rejected[0].reason, RejectionReason::UnknownCode);
    assert_eq!(priced.discount.amount(), dec!(0));
}

#[test]
fn window_usage_and_customer_limits_are_reported_in_order() {
    let mut future = promo(Some("FUTURE"), percent(dec!(10)), O, &[]);
    future.starts_at = Some(now() + chrono::Duration::days(1));
    let mut past = promo(Some("PAST"), percent(dec!(10)), O, &[]);
    past.ends_at = Some(now());
    // Expired and exhausted both hold: the window is reported.
    past.usage_limit = Some(1);
    past.used_count = 1;
    let mut used = promo(Some("USED"), percent(dec!(10)), O, &[]);
    used.usage_limit = Some(5);
    used.used_count = 5;
    let mut mine = promo(Some("MINE"), percent(dec!(10)), O, &[]);
    mine.per_customer_limit = Some(1);
    let uses = [(mine.id, 1)];
    let promotions = vec![future, past, used, mine];
    let mut context = ctx(&promotions, None, Decimal::ZERO);
    context.customer_uses = &uses;
    let priced = price(
        &request(
            vec![line(dec!(10.00), 1)],
            &["FUTURE", "PAST", "USED", "MINE"],
        ),
        &context,
    )
    .unwrap();
    let reasons: Vec<_> = priced
        .rejected
        .iter()
        .map(|r| (r.code.clone().unwrap(), r.reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("FUTURE".to_string(), RejectionReason::NotStarted),
            ("PAST".to_string(), RejectionReason::Expired),
            ("USED".to_string(), RejectionReason::UsageExhausted),
            ("MINE".to_string(), RejectionReason::CustomerLimitReached),
        ]
    );
    assert_eq!(priced.total.amount(), dec!(10.00));
    assert!(priced.rejected.iter().all(|r| r.reason.is_permanent()));
}

#[test]
fn automatic_promotions_outside_their_window_are_silent() {
    let mut ended = promo(None, percent(dec!(50)), O, &[]);
    ended.ends_at = Some(now() - chrono::Duration::days(1));
    let priced = price(
        &request(vec![line(dec!(10.00), 1)], &[]),
        &ctx(&[ended], None, Decimal::ZERO),
    )
    .unwrap();
    assert!(priced.rejected.is_empty() && priced.applied.is_empty());
}

#[test]
fn the_best_promotion_wins_among_those_that_do_not_combine() {
    let small = promo(Some("SMALL"), percent(dec!(5)), O, &[]);
    let big = promo(Some("BIG"), fixed(dec!(20.00)), O, &[]);
    let promotions = vec![small.clone(), big.clone()];
    let priced = price(
        &request(vec![line(dec!(100.00), 1)], &["SMALL", "BIG"]),
        &ctx(&promotions, None, Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(priced.discount.amount(), dec!(20.00));
    assert_eq!(priced.applied[0].id, big.id);
    assert_eq!(priced.rejected[0].id, Some(small.id));
    assert_eq!(priced.rejected[0].reason, RejectionReason::NotCombinable);
    assert_eq!(priced.rejected[0].excluded_by, Some(big.id));
}

#[test]
fn equal_values_prefer_automatic_then_code_order() {
    let auto = promo(None, fixed(dec!(5.00)), O, &[]);
    let a = promo(Some("AAA"), fixed(dec!(5.00)), O, &[]);
    let b = promo(Some("BBB"), fixed(dec!(5.00)), O, &[]);
    let promotions = vec![b.clone(), a.clone(), auto.clone()];
    let priced = price(
        &request(vec![line(dec!(50.00), 1)], &["BBB", "AAA"]),
        &ctx(&promotions, None, Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(priced.applied.len(), 1);
    assert_eq!(priced.applied[0].id, auto.id);
    let excluded: Vec<_> = priced
        .rejected
        .iter()
        .map(|r| (r.id, r.excluded_by))
        .collect();
    assert_eq!(
        excluded,
        vec![(Some(a.id), Some(auto.id)), (Some(b.id), Some(auto.id))]
    );
}

#[test]
fn product_discounts_apply_before_order_discounts() {
    // 20 % off product X (product class), then 10 % off the order on the discounted base.
    let lines = vec![line(dec!(50.00), 2), line(dec!(30.00), 1)];
    let mut on_x = promo(None, percent(dec!(20)), P, &[O]);
    on_x.applies_to.product_ids = vec![lines[0].product_id];
    let order = promo(Some("TEN"), percent(dec!(10)), O, &[P]);
    let promotions = vec![on_x, order];
    let priced = price(
        &request(lines, &["TEN"]),
        &ctx(&promotions, None, Decimal::ZERO),
    )
    .unwrap();
    // Product: 20.00 off line 1. B = 130 - 20 = 110; order 11.00 allocated 80:30.
    assert_eq!(priced.product_discount.amount(), dec!(20.00));
    assert_eq!(priced.order_discount.amount(), dec!(11.00));
    assert_eq!(priced.lines[0].discount.amount(), dec!(28.00));
    assert_eq!(priced.lines[1].discount.amount(), dec!(3.00));
    assert_eq!(priced.total.amount(), dec!(99.00));
}

#[test]
fn a_fixed_product_discount_is_off_each_unit_and_never_above_the_line() {
    let lines = vec![line(dec!(3.00), 4), line(dec!(10.00), 1)];
    let promotions = vec![promo(None, fixed(dec!(5.00)), P, &[])];
    let priced = price(&request(lines, &[]), &ctx(&promotions, None, Decimal::ZERO)).unwrap();
    assert_eq!(priced.lines[0].product_discount.amount(), dec!(12.00));
    assert_eq!(priced.lines[1].product_discount.amount(), dec!(5.00));
    assert_eq!(priced.total.amount(), dec!(5.00));
}

#[test]
fn two_product_promotions_on_one_line_add_up_capped_by_what_is_left() {
    let promotions = vec![
        promo(None, percent(dec!(60)), P, &[P]),
        promo(Some("HALF"), percent(dec!(50)), P, &[P]),
    ];
    let priced = price(
        &request(vec![line(dec!(10.00), 1)], &["HALF"]),
        &ctx(&promotions, None, Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(priced.applied[0].amount.amount(), dec!(6.00));
    assert_eq!(priced.applied[1].amount.amount(), dec!(4.00));
    assert_eq!(priced.total.amount(), dec!(0.00));
}

#[test]
fn buy_two_get_one_frees_the_cheapest_units_across_lines() {
    let lines = vec![
        line(dec!(10.00), 2),
        line(dec!(4.00), 2),
        line(dec!(7.00), 2),
    ];
    let promotions = vec![promo(
        None,
        PromotionKind::BuyXGetY { buy: 2, get: 1 },
        P,
        &[],
    )];
    let priced = price(&request(lines, &[]), &ctx(&promotions, None, Decimal::ZERO)).unwrap();
    // 6 units → 2 free: both 4.00 units.
    assert_eq!(priced.lines[1].product_discount.amount(), dec!(8.00));
    assert_eq!(priced.discount.amount(), dec!(8.00));
    // 2 units only: nothing eligible.
    let priced = price(
        &request(vec![line(dec!(10.00), 2)], &[]),
        &ctx(&promotions, None, Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(priced.rejected[0].reason, RejectionReason::NothingEligible);
}

#[test]
fn order_minimum_is_checked_against_the_discounted_base() {
    let product = promo(None, fixed(dec!(10.00)), P, &[O]);
    let mut order = promo(Some("SPEND50"), fixed(dec!(5.00)), O, &[P]);
    order.min_subtotal = Some(usd(dec!(50.00)));
    let promotions = vec![product, order.clone()];
    // Plain subtotal 55 meets it; B = 45 does not.
    let priced = price(
        &request(vec![line(dec!(55.00), 1)], &["SPEND50"]),
        &ctx(&promotions, None, Decimal::ZERO),
    )
    .unwrap();
    let r = priced.rejection_of_code("spend50").unwrap();
    assert_eq!(r.reason, RejectionReason::MinimumNotMet);
    assert_eq!(priced.total.amount(), dec!(45.00));
    // Plain subtotal below the minimum: not a candidate, same reason.
    let priced = price(
        &request(vec![line(dec!(20.00), 1)], &["SPEND50"]),
        &ctx(&promotions, None, Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(
        priced.rejection_of_code("SPEND50").unwrap().reason,
        RejectionReason::MinimumNotMet
    );
    // Met exactly (≥).
    let priced = price(
        &request(vec![line(dec!(50.00), 1)], &["SPEND50"]),
        &ctx(&[order], None, Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(priced.discount.amount(), dec!(5.00));
}

#[test]
fn several_order_promotions_never_exceed_the_base() {
    let promotions = vec![
        promo(None, fixed(dec!(8.00)), O, &[O]),
        promo(Some("SIX"), fixed(dec!(6.00)), O, &[O]),
    ];
    let priced = price(
        &request(vec![line(dec!(7.00), 1), line(dec!(3.00), 1)], &["SIX"]),
        &ctx(&promotions, None, Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(priced.order_discount.amount(), dec!(10.00));
    assert_eq!(priced.applied[1].amount.amount(), dec!(2.00));
    assert_eq!(priced.total.amount(), dec!(0.00));
}

#[test]
fn shipping_promotions_need_a_method() {
    let promotions = vec![promo(Some("SHIP"), PromotionKind::FreeShipping, S, &[])];
    let priced = price(
        &request(vec![line(dec!(10.00), 1)], &["SHIP"]),
        &ctx(&promotions, None, Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(priced.rejected[0].reason, RejectionReason::NothingEligible);
    assert!(!priced.rejected[0].reason.is_permanent());
}

#[test]
fn free_above_threshold_frees_shipping_and_credits_promotions_first() {
    let m = method(dec!(6.00), Some(dec!(50.00)));
    let promotions = vec![promo(None, fixed(dec!(2.00)), S, &[])];
    let priced = price(
        &request(vec![line(dec!(50.00), 1)], &[]),
        &ctx(&promotions, Some(&m), Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(priced.shipping_discount.amount(), dec!(6.00));
    assert_eq!(priced.applied[0].shipping.amount(), dec!(2.00));
    assert_eq!(priced.total.amount(), dec!(50.00));
    // Below the threshold only the promotion counts.
    let priced = price(
        &request(vec![line(dec!(49.99), 1)], &[]),
        &ctx(&promotions, Some(&m), Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(priced.shipping_discount.amount(), dec!(2.00));
    assert_eq!(priced.total.amount(), dec!(53.99));
}

#[test]
fn tax_inclusive_prices_follow_the_literal_formula() {
    let mut context = ctx(&[], None, dec!(0.20));
    context.tax.prices_include_tax = true;
    // 0.03 at 20 %: 0.03 - round(0.025) = 0.03 - 0.02 = 0.01.
    let priced = price(&request(vec![line(dec!(0.03), 1)], &[]), &context).unwrap();
    assert_eq!(priced.tax.amount(), dec!(0.01));
    assert_eq!(priced.total.amount(), dec!(0.03));
    let priced = price(&request(vec![line(dec!(120.00), 1)], &[]), &context).unwrap();
    assert_eq!(priced.tax.amount(), dec!(20.00));
    assert_eq!(priced.total.amount(), dec!(120.00));
}

#[test]
fn order_level_tax_rounding_rounds_once_and_allocates_back() {
    // Three lines of 0.10 at 5 %: per line 0.005 each rounds to 0.00 (half-even) = 0.00;
    // per order 0.015 rounds to 0.02, allocated 0.01, 0.01, 0.00.
    let lines = vec![
        line(dec!(0.10), 1),
        line(dec!(0.10), 1),
        line(dec!(0.10), 1),
    ];
    let priced = price(&request(lines.clone(), &[]), &ctx(&[], None, dec!(0.05))).unwrap();
    assert_eq!(priced.tax.amount(), dec!(0.00));
    let mut context = ctx(&[], None, dec!(0.05));
    context.tax.rounding = TaxRounding::Order;
    let priced = price(&request(lines, &[]), &context).unwrap();
    assert_eq!(priced.tax.amount(), dec!(0.02));
    let taxes: Vec<_> = priced.lines.iter().map(|l| l.tax.amount()).collect();
    assert_eq!(taxes, vec![dec!(0.01), dec!(0.01), dec!(0.00)]);
}

#[test]
fn shipping_is_taxed_when_the_shop_says_so() {
    let m = method(dec!(10.00), None);
    let mut context = ctx(&[], Some(&m), dec!(0.10));
    context.tax.tax_shipping = true;
    let priced = price(&request(vec![line(dec!(20.00), 1)], &[]), &context).unwrap();
    assert_eq!(priced.shipping_tax.amount(), dec!(1.00));
    assert_eq!(priced.tax.amount(), dec!(3.00));
    assert_eq!(priced.total.amount(), dec!(33.00));
    context.tax.rounding = TaxRounding::Order;
    let priced = price(&request(vec![line(dec!(20.00), 1)], &[]), &context).unwrap();
    assert_eq!(priced.shipping_tax.amount(), dec!(1.00));
    assert_eq!(priced.total.amount(), dec!(33.00));
}

#[test]
fn zero_decimal_and_three_decimal_currencies_price_at_their_scale() {
    let mut req = request(vec![line_in(dec!(999), Currency::JPY, 3)], &[]);
    req.currency = Currency::JPY;
    let promotions = vec![promo(None, percent(dec!(15)), O, &[])];
    let priced = price(&req, &ctx(&promotions, None, dec!(0.10))).unwrap();
    // 2997 × 15 % = 449.55 → 450; taxable 2547 × 10 % = 254.7 → 255.
    assert_eq!(priced.discount.amount(), dec!(450));
    assert_eq!(priced.tax.amount(), dec!(255));
    assert_eq!(priced.total.amount(), dec!(2802));
    assert_eq!(priced.total.amount().to_string(), "2802");
    let mut req = request(vec![line_in(dec!(1.255), Currency::KWD, 1)], &[]);
    req.currency = Currency::KWD;
    let priced = price(&req, &ctx(&[], None, dec!(0.05))).unwrap();
    assert_eq!(priced.tax.amount().to_string(), "0.063");
}

#[test]
fn category_promotions_reach_lines_in_descendant_categories() {
    let clothing = CategoryId::random();
    let mut shirt = line(dec!(20.00), 1);
    shirt.category_ids = vec![CategoryId::random(), clothing];
    let mug = line(dec!(10.00), 1);
    let mut on_clothing = promo(None, percent(dec!(50)), P, &[]);
    on_clothing.applies_to.category_ids = vec![clothing];
    let priced = price(
        &request(vec![shirt, mug], &[]),
        &ctx(&[on_clothing], None, Decimal::ZERO),
    )
    .unwrap();
    assert_eq!(priced.lines[0].discount.amount(), dec!(10.00));
    assert_eq!(priced.lines[1].discount.amount(), dec!(0.00));
}

#[test]
fn refuses_input_out_of_range_instead_of_overflowing() {
    let req = request(vec![line(dec!(10.00), 0)], &[]);
    assert!(matches!(
        price(&req, &ctx(&[], None, Decimal::ZERO)),
        Err(PricingError::Quantity(_))
    ));
    // A price off its currency's scale is not a `Money` at all.
    assert!(Money::new(dec!(10.001), Currency::USD).is_err());
    let req = request(vec![line(dec!(-0.01), 1)], &[]);
    assert!(matches!(
        price(&req, &ctx(&[], None, Decimal::ZERO)),
        Err(PricingError::UnitPrice(_))
    ));
    let req = request(
        vec![line(dec!(10.00), 1), line_in(dec!(10.00), Currency::EUR, 1)],
        &[],
    );
    assert!(
        matches!(
            price(&req, &ctx(&[], None, Decimal::ZERO)),
            Err(PricingError::Currency(id)) if id == req.lines[1].item_id
        ),
        "a line priced in another currency than the cart is refused, naming the line"
    );
    let euros = |v| Money::new(v, Currency::EUR).unwrap();
    let mut shipping = method(dec!(5.00), None);
    shipping.free_above = Some(euros(dec!(50.00)));
    assert!(matches!(
        price(
            &request(vec![line(dec!(10.00), 1)], &[]),
            &ctx(&[], Some(&shipping), Decimal::ZERO)
        ),
        Err(PricingError::ShippingCurrency(_))
    ));
    let off = promo(
        None,
        PromotionKind::Fixed {
            value: euros(dec!(1.00)),
        },
        O,
        &[],
    );
    assert!(matches!(
        price(
            &request(vec![line(dec!(10.00), 1)], &[]),
            &ctx(&[off], None, Decimal::ZERO)
        ),
        Err(PricingError::PromotionCurrency(_))
    ));
    let mut above = promo(None, percent(dec!(10)), O, &[]);
    above.min_subtotal = Some(euros(dec!(5.00)));
    assert!(matches!(
        price(
            &request(vec![line(dec!(10.00), 1)], &[]),
            &ctx(&[above], None, Decimal::ZERO)
        ),
        Err(PricingError::PromotionCurrency(_))
    ));
    let req = request(vec![line(dec!(10.00), 1)], &[]);
    assert!(matches!(
        price(&req, &ctx(&[], None, dec!(2))),
        Err(PricingError::TaxRate)
    ));
}
