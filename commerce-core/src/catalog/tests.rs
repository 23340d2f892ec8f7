use super::*;
use rust_decimal::dec;

fn draft() -> NewProduct {
    NewProduct {
        name: "Linen Shirt".into(),
        description: "Breathable.".into(),
        price: dec!(49.00),
        inventory_count: 10,
        ..Default::default()
    }
}

#[test]
fn a_product_gets_a_slug_and_its_variants_prices() {
    let mut d = draft();
    d.variants = vec![
        NewVariant {
            sku: "SHIRT-M".into(),
            options: [("size".to_string(), "M".to_string())].into(),
            price: None,
            inventory_count: 3,
            low_stock_threshold: None,
        },
        NewVariant {
            sku: "SHIRT-XL".into(),
            options: [("size".to_string(), "XL".to_string())].into(),
            price: Some(dec!(55.00)),
            inventory_count: 2,
            low_stock_threshold: None,
        },
    ];
    let p = Product::create(
        ProductId::random(),
        d,
        UserId::random(),
        ProductStatus::Active,
        Currency::USD,
        Utc::now(),
    )
    .unwrap();
    assert_eq!(p.slug, "linen-shirt");
    assert_eq!(p.inventory_count, 5);
    let (m, xl) = (p.variants[0].id, p.variants[1].id);
    let usd = |amount| Some(Money::new(amount, Currency::USD).unwrap());
    assert_eq!(p.unit_price(Some(m)), usd(dec!(49.00)));
    assert_eq!(p.unit_price(Some(xl)), usd(dec!(55.00)));
    assert_eq!(p.available(Some(xl)), Some(2));
    assert_eq!(p.line_name(Some(xl)), "Linen Shirt (XL)");
    assert_eq!(p.unit_price(Some(VariantId::random())), None);
}

#[test]
fn refuses_bad_products_field_by_field() {
    let mut d = draft();
    d.name = " ".into();
    d.price = dec!(1.999);
    d.variants = vec![
        NewVariant {
            sku: "A".into(),
            ..Default::default()
        },
        NewVariant {
            sku: "a".into(),
            ..Default::default()
        },
    ];
    let err = Product::create(
        ProductId::random(),
        d,
        UserId::random(),
        ProductStatus::Active,
        Currency::USD,
        Utc::now(),
    )
    .unwrap_err();
    let fields: Vec<_> = err.fields().collect();
    assert_eq!(fields, vec!["name", "price", "variants.1.sku"]);
}

#[test]
fn status_follows_the_catalog_lifecycle() {
    use ProductStatus::*;
    assert!(Draft.can_become(PendingApproval));
    assert!(PendingApproval.can_become(Active));
    assert!(Active.can_become(Archived));
    assert!(!Draft.can_become(Active));
    assert!(!Archived.can_become(PendingApproval));
    let mut p = Product::create(
        ProductId::random(),
        draft(),
        UserId::random(),
        Draft,
        Currency::USD,
        Utc::now(),
    )
    .unwrap();
    let err = p
        .apply(
            ProductChanges {
                status: Some(Active),
                ..Default::default()
            },
            Utc::now(),
        )
        .unwrap_err();
    assert_eq!(err.fields().collect::<Vec<_>>(), vec!["status"]);
    assert_eq!(
        p.status, Draft,
        "a refused change leaves the product as it was"
    );
}

fn cat(name: &str, parent: Option<CategoryId>) -> Category {
    Category {
        id: CategoryId::random(),
        name: name.into(),
        slug: slugify(name),
        parent_id: parent,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

#[test]
fn the_category_tree_nests_and_refuses_cycles() {
    let clothing = cat("Clothing", None);
    let shirts = cat("Shirts", Some(clothing.id));
    let linen = cat("Linen", Some(shirts.id));
    let tree = CategoryTree::new([clothing.clone(), shirts.clone(), linen.clone()]);
    assert_eq!(
        tree.ancestry(linen.id),
        vec![linen.id, shirts.id, clothing.id]
    );
    let mut below = tree.with_descendants(clothing.id);
    below.sort();
    let mut expected = vec![clothing.id, shirts.id, linen.id];
    expected.sort();
    assert_eq!(below, expected);
    let nested = tree.nested();
    assert_eq!(nested.len(), 1);
    assert_eq!(nested[0].children[0].children[0].category.id, linen.id);
    // Moving Clothing under Linen would make a cycle.
    let mut moved = clothing.clone();
    moved.parent_id = Some(linen.id);
    assert_eq!(tree.check(&moved), Err(CategoryTreeError::Cycle));
    let mut dup = cat("Shirts", None);
    dup.slug = "shirts".into();
    assert!(matches!(
        tree.check(&dup),
        Err(CategoryTreeError::SlugTaken(_))
    ));
}

#[test]
fn ratings_average_approved_reviews() {
    let p = ProductId::random();
    let r = |rating, status| {
        let draft = NewReview {
            rating,
            ..Default::default()
        };
        Review::new(
            ReviewId::random(),
            p,
            UserId::random(),
            draft,
            status,
            Utc::now(),
        )
        .unwrap()
    };
    let reviews = vec![
        r(5, ReviewStatus::Approved),
        r(4, ReviewStatus::Approved),
        r(4, ReviewStatus::Approved),
        r(1, ReviewStatus::Pending),
    ];
    assert_eq!(
        rating_of(&reviews),
        Rating {
            average: dec!(4.33),
            count: 3
        }
    );
    let six = NewReview {
        rating: 6,
        ..Default::default()
    };
    assert!(Review::new(
        ReviewId::random(),
        p,
        UserId::random(),
        six,
        ReviewStatus::Pending,
        Utc::now()
    )
    .is_err());
}

#[test]
fn slugs_are_url_safe() {
    assert_eq!(slugify("  Crème Brûlée & Co. "), "cr-me-br-l-e-co");
    assert_eq!(slugify("T-Shirt  XL"), "t-shirt-xl");
}
