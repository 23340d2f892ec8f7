//! Data builders shared by the cases.

use super::*;

/// An active product at `price` in USD with `stock` units.
pub fn product(name: &str, price: Decimal, stock: u32) -> Product {
    Product::create(
        ProductId::random(),
        NewProduct {
            name: name.to_string(),
            // A name with no Latin letters slugs to nothing.
            slug: Some(format!(
                "{}-{}",
                Some(slugify(name))
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "product".into()),
                &ProductId::random().to_string()[..8]
            )),
            description: format!("{name}, described."),
            price,
            inventory_count: stock,
            ..Default::default()
        },
        UserId::random(),
        ProductStatus::Active,
        Currency::USD,
        now(),
    )
    .expect("a valid product")
}

/// An active product with one variant per entry of `stocks` (its units).
pub fn product_with_variants(name: &str, stocks: &[u32]) -> Product {
    let mut p = product(name, Decimal::new(2000, 2), 0);
    p.variants = stocks
        .iter()
        .enumerate()
        .map(|(i, s)| crate::catalog::Variant {
            id: VariantId::random(),
            sku: format!("SKU-{i}-{}", &p.id.to_string()[..8]),
            options: [("size".to_string(), format!("S{i}"))].into(),
            price: None,
            inventory_count: *s,
            reserved: 0,
            low_stock_threshold: None,
        })
        .collect();
    p.sync_inventory_count();
    p
}

/// An active customer with this email, not yet verified.
pub fn user(email: &str) -> User {
    let now = now();
    User {
        id: UserId::random(),
        email: email.to_string(),
        full_name: "Test User".into(),
        role: Role::Customer,
        is_active: true,
        email_verified: false,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
        token_version: 0,
        created_at: now,
        updated_at: now,
    }
}

/// An approved review of `product` by `user`.
pub fn review(product: ProductId, user: UserId, rating: u8) -> Review {
    Review::new(
        ReviewId::random(),
        product,
        user,
        NewReview {
            rating,
            title: "t".into(),
            body: "b".into(),
        },
        ReviewStatus::Approved,
        now(),
    )
    .expect("a valid review")
}

/// An address in Austin, Texas.
pub fn address() -> Address {
    Address {
        full_name: Some("Ada".into()),
        line1: Some("1 Main St".into()),
        city: Some("Austin".into()),
        region: Some("TX".into()),
        postal_code: Some("73301".into()),
        country: "US".into(),
        ..Default::default()
    }
}

/// A pending order for `units` of products (priced by the engine, no promotions).
pub fn order(user: Option<UserId>, units: &[(&Product, Option<VariantId>, u32)]) -> Order {
    let lines: Vec<PricingLine> = units
        .iter()
        .map(|(p, v, q)| PricingLine {
            item_id: CartItemId::random(),
            product_id: p.id,
            variant_id: *v,
            category_ids: vec![],
            unit_price: p.unit_price(*v).unwrap_or(p.price),
            quantity: *q,
        })
        .collect();
    let priced = price(
        &PricingRequest {
            currency: Currency::USD,
            lines,
            codes: vec![],
        },
        &PricingContext {
            now: now(),
            promotions: &[],
            customer_uses: &[],
            tax: TaxPolicy::default(),
            tax_rate: Decimal::ZERO,
            shipping: None,
            rounding: crate::money::Rounding::HalfEven,
        },
    )
    .expect("priced");
    let products: Vec<Product> = units.iter().map(|(p, _, _)| (*p).clone()).collect();
    let id = OrderId::random();
    Order::from_priced(
        OrderDetails {
            id,
            number: format!("T-{}", id.as_uuid().simple()),
            user_id: user,
            email: Some("buyer@example.com".into()),
            shipping_address: address(),
            shipping_method: None,
            payment_provider: None,
        },
        &priced,
        &products,
        now(),
    )
}

/// An invoice for an order of `lines` lines (two of each product, names long enough to
/// need shortening in a narrow column) from a shop in Leeds.
pub fn invoice(lines: usize) -> crate::invoice::Invoice {
    let products: Vec<Product> = (0..lines)
        .map(|i| {
            product(
                &format!("Walnut serving board no. {i} with a rather long name for its column"),
                Decimal::new(1999 + i as i64, 2),
                100,
            )
        })
        .collect();
    let units: Vec<_> = products.iter().map(|p| (p, None, 2)).collect();
    crate::invoice::Invoice {
        shop_name: "Linen & Co".into(),
        shop_address: Some(Address {
            full_name: Some("Linen & Co Ltd".into()),
            line1: Some("12 Market Street".into()),
            city: Some("Leeds".into()),
            postal_code: Some("LS1 6DT".into()),
            country: "GB".into(),
            ..Default::default()
        }),
        order: order(None, &units),
        issued_at: now(),
    }
}

/// What `place_order` takes for `order`: no promotions, no cart, nothing told; `customer` is its key for per-customer limits.
pub fn new_order(order: Order, customer: &str) -> NewOrder {
    NewOrder {
        order,
        promotion_ids: vec![],
        customer_key: customer.to_string(),
        cart: None,
        record: ChangeRecord::none(),
    }
}

/// A 10 % code (or automatic) promotion with these limits, checked as a draft would be.
pub fn promotion(
    code: Option<&str>,
    usage_limit: Option<u32>,
    per_customer: Option<u32>,
) -> Promotion {
    PromotionDraft {
        code: code.map(str::to_string),
        kind: "percent".into(),
        value: Some(Decimal::TEN),
        usage_limit,
        per_customer_limit: per_customer,
        ..Default::default()
    }
    .validate(PromotionId::random(), Currency::USD, now())
    .expect("a valid promotion")
}
