//! The demo shop `--demo` seeds into an empty catalog.

use commerce::account::Role;
use commerce::catalog::{NewProduct, NewVariant};
use commerce::promotion::{PromotionClass, PromotionDraft};
use commerce::{Caller, Commerce, CommerceError};
use rust_decimal::Decimal;

/// A demo shop, once, into an empty catalog: a category tree, 200 products (some with
/// variants), discount codes, tax rates and shipping methods.
pub(crate) async fn seed_demo(shop: &Commerce) -> Result<usize, CommerceError> {
    let existing = shop.catalog().list_products(Default::default()).await?;
    if !existing.items.is_empty() {
        return Ok(0);
    }
    let seller = shop
        .accounts()
        .create_user(
            "demo-admin@commerce.invalid",
            &uuid::Uuid::new_v4().simple().to_string(),
            "Demo",
            Role::Admin,
            true,
        )
        .await?;
    let admin = Caller::user(seller.id, seller.role);
    let catalog = shop.catalog();
    let tree = [
        ("Home", &["Kitchen", "Living", "Garden"][..]),
        ("Clothing", &["Shirts", "Knitwear", "Accessories"][..]),
        ("Books", &["Cooking", "Travel"][..]),
    ];
    let mut leaves = Vec::new();
    for (root, children) in tree {
        let r = catalog.create_category(&admin, root, None, None).await?;
        for child in children {
            leaves.push((
                catalog
                    .create_category(&admin, child, None, Some(r.id))
                    .await?,
                root,
            ));
        }
    }
    let materials = [
        "Linen", "Copper", "Walnut", "Wool", "Ceramic", "Oak", "Cotton", "Leather", "Bamboo",
        "Marble",
    ];
    let things = [
        "Kettle", "Lamp", "Shirt", "Bowl", "Scarf", "Vase", "Mug", "Cushion", "Notebook", "Blanket",
    ];
    for i in 0..200usize {
        let (category, root) = &leaves[i % leaves.len()];
        let name = format!(
            "{} {} No. {}",
            materials[i % materials.len()],
            things[(i / materials.len()) % things.len()],
            i + 1
        );
        let variants = if *root == "Clothing" {
            ["S", "M", "L"]
                .iter()
                .enumerate()
                .map(|(k, size)| NewVariant {
                    sku: format!("DEMO-{i}-{size}"),
                    options: [("size".to_string(), size.to_string())].into(),
                    price: (k == 2).then(|| Decimal::new(2_900 + (i as i64 % 40) * 100, 2)),
                    inventory_count: (i as u32 * 7 + k as u32) % 25,
                    low_stock_threshold: None,
                })
                .collect()
        } else {
            Vec::new()
        };
        catalog
            .create_product(
                &admin,
                NewProduct {
                    name,
                    description: format!(
                        "A well-made {} for everyday use.",
                        things[(i / materials.len()) % things.len()].to_lowercase()
                    ),
                    price: Decimal::new(499 + (i as i64 * 7919) % 15_000, 2),
                    category_id: Some(category.id),
                    inventory_count: (i as u32 * 13) % 60,
                    variants,
                    ..Default::default()
                },
            )
            .await?;
    }
    let admin_api = shop.admin();
    for (country, region, rate) in [
        ("US", Some("TX"), Decimal::new(825, 4)),
        ("US", Some("CA"), Decimal::new(725, 4)),
        ("GB", None, Decimal::new(20, 2)),
        ("DE", None, Decimal::new(19, 2)),
    ] {
        admin_api
            .save_tax_rate(&admin, None, country, region, rate)
            .await?;
    }
    admin_api
        .save_shipping_method(
            &admin,
            None,
            "Standard",
            Decimal::new(499, 2),
            Some(Decimal::new(7500, 2)),
            true,
        )
        .await?;
    admin_api
        .save_shipping_method(&admin, None, "Express", Decimal::new(1499, 2), None, true)
        .await?;
    for (code, kind, value, class, combines) in [
        (
            Some("WELCOME10"),
            "percent",
            Some(Decimal::TEN),
            PromotionClass::Order,
            vec![PromotionClass::Shipping],
        ),
        (
            Some("FREESHIP"),
            "free_shipping",
            None,
            PromotionClass::Shipping,
            vec![PromotionClass::Order, PromotionClass::Product],
        ),
        (
            None,
            "buy_x_get_y",
            None,
            PromotionClass::Product,
            vec![PromotionClass::Shipping],
        ),
    ] {
        let buy_x_get_y = kind == "buy_x_get_y";
        admin_api
            .create_promotion(
                &admin,
                PromotionDraft {
                    code: code.map(str::to_string),
                    kind: kind.into(),
                    value,
                    class: Some(class),
                    combines_with: combines,
                    buy_quantity: buy_x_get_y.then_some(2),
                    get_quantity: buy_x_get_y.then_some(1),
                    ..Default::default()
                },
            )
            .await?;
    }
    Ok(200)
}
