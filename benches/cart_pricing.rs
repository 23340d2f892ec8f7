//! Time to price one cart: 1, 10, 100 and 1,000 lines with 0, 3 and 10 active promotions,
//! tax-exclusive at 8.25 % with per-line rounding and a flat shipping method.
//!
//! Run: `cargo bench --bench cart_pricing`

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use commerce::ids::{CartItemId, CategoryId, ProductId, PromotionId, ShippingMethodId};
use commerce::money::{Currency, Money, Rounding};
use commerce::pricing::{price, PricingContext, PricingLine, PricingRequest};
use commerce::promotion::{AppliesTo, ClassSet, Promotion, PromotionClass, PromotionKind};
use commerce::shipping::ShippingMethod;
use commerce::tax::TaxPolicy;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rust_decimal::Decimal;

fn cart(lines: usize, categories: &[CategoryId]) -> PricingRequest {
    PricingRequest {
        currency: Currency::USD,
        lines: (0..lines)
            .map(|i| PricingLine {
                item_id: CartItemId::random(),
                product_id: ProductId::random(),
                variant_id: None,
                category_ids: vec![categories[i % categories.len()]],
                unit_price: Money::new(
                    Decimal::new(199 + (i as i64 * 37) % 9_800, 2),
                    Currency::USD,
                )
                .expect("a price in cents"),
                quantity: 1 + (i % 4) as u32,
            })
            .collect(),
        codes: vec!["SAVE10".into(), "SHIPFREE".into()],
    }
}

/// A realistic mix: a category sale, an order code, free shipping, then more of each kind.
fn promotions(n: usize, categories: &[CategoryId]) -> Vec<Promotion> {
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let all: ClassSet = PromotionClass::ALL.into_iter().collect();
    (0..n)
        .map(|i| {
            let (kind, class, code) = match i % 5 {
                0 => (
                    PromotionKind::Percent {
                        value: Decimal::new(15, 0),
                    },
                    PromotionClass::Product,
                    None,
                ),
                1 => (
                    PromotionKind::Percent {
                        value: Decimal::new(10, 0),
                    },
                    PromotionClass::Order,
                    Some("SAVE10"),
                ),
                2 => (
                    PromotionKind::FreeShipping,
                    PromotionClass::Shipping,
                    Some("SHIPFREE"),
                ),
                3 => (
                    PromotionKind::BuyXGetY { buy: 2, get: 1 },
                    PromotionClass::Product,
                    None,
                ),
                _ => (
                    PromotionKind::Fixed {
                        value: Money::new(Decimal::new(500, 2), Currency::USD).expect("cents"),
                    },
                    PromotionClass::Order,
                    None,
                ),
            };
            Promotion {
                id: PromotionId::random(),
                code: code.map(|c: &str| {
                    if i < 5 {
                        c.to_string()
                    } else {
                        format!("{c}{i}")
                    }
                }),
                kind,
                class,
                combines_with: all,
                applies_to: AppliesTo {
                    product_ids: vec![],
                    category_ids: if i % 5 == 0 {
                        vec![categories[i % categories.len()]]
                    } else {
                        vec![]
                    },
                },
                min_subtotal: Some(
                    Money::new(Decimal::new(2_000, 2), Currency::USD).expect("cents"),
                ),
                starts_at: None,
                ends_at: None,
                usage_limit: Some(1_000_000),
                per_customer_limit: None,
                used_count: 10,
                active: true,
                created_at: now,
                updated_at: now,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let categories: Vec<CategoryId> = (0..8).map(|_| CategoryId::random()).collect();
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
    let method = ShippingMethod {
        id: ShippingMethodId::random(),
        name: "Standard".into(),
        price: Money::new(Decimal::new(499, 2), Currency::USD).expect("cents"),
        free_above: Some(Money::new(Decimal::new(100_000, 2), Currency::USD).expect("cents")),
        active: true,
        created_at: now,
        updated_at: now,
    };
    let mut group = c.benchmark_group("price_cart");
    for lines in [1usize, 10, 100, 1_000] {
        let request = cart(lines, &categories);
        for n in [0usize, 3, 10] {
            let promos = promotions(n, &categories);
            let ctx = PricingContext {
                now,
                promotions: &promos,
                customer_uses: &[],
                tax: TaxPolicy::default(),
                tax_rate: Decimal::new(825, 4),
                shipping: Some(&method),
                rounding: Rounding::HalfEven,
            };
            group.throughput(Throughput::Elements(lines as u64));
            group.bench_with_input(
                BenchmarkId::new(format!("{n}_promotions"), lines),
                &request,
                |b, request| b.iter(|| price(black_box(request), black_box(&ctx)).expect("prices")),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
