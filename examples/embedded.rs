//! The engine in-process, no server and no database: a shop with a category, products, a tax
//! rate, a shipping method and discount codes; a guest cart priced with a code, tax and
//! shipping, printed with its explanation; then checkout and payment with the built-in test
//! provider.
//!
//! Run: `cargo run --example embedded`

use commerce::account::{Address, Role};
use commerce::catalog::{NewProduct, NewVariant};
use commerce::pricing::PricedCart;
use commerce::promotion::{PromotionClass, PromotionDraft};
use commerce::service::{CartOwner, CheckoutRequest, Delivery, ItemRequest};
use commerce::{Caller, Commerce, CommerceError, Currency};
use rust_decimal::Decimal;

#[tokio::main]
async fn main() -> Result<(), CommerceError> {
    let shop = Commerce::in_memory();
    shop.admin()
        .initialise_store("Corner Shop", Currency::USD)
        .await?;
    let admin = shop
        .accounts()
        .create_user(
            "admin@corner.shop",
            "correct horse battery",
            "Admin",
            Role::Admin,
            true,
        )
        .await?;
    let admin = Caller::user(admin.id, admin.role);

    // The catalog.
    let catalog = shop.catalog();
    let kitchen = catalog
        .create_category(&admin, "Kitchen", None, None)
        .await?;
    let kettle = catalog
        .create_product(
            &admin,
            NewProduct {
                name: "Copper Kettle".into(),
                description: "Boils water beautifully.".into(),
                price: Decimal::new(1999, 2),
                category_id: Some(kitchen.id),
                inventory_count: 12,
                ..Default::default()
            },
        )
        .await?;
    let apron = catalog
        .create_product(
            &admin,
            NewProduct {
                name: "Linen Apron".into(),
                price: Decimal::new(500, 2),
                variants: vec![
                    NewVariant {
                        sku: "APRON-S".into(),
                        options: [("size".into(), "S".into())].into(),
                        price: None,
                        inventory_count: 5,
                        low_stock_threshold: None,
                    },
                    NewVariant {
                        sku: "APRON-L".into(),
                        options: [("size".into(), "L".into())].into(),
                        price: None,
                        inventory_count: 5,
                        low_stock_threshold: None,
                    },
                ],
                ..Default::default()
            },
        )
        .await?;

    // Tax, shipping and promotions: the worked example of PRICING.md.
    let settings = shop.admin();
    settings
        .save_tax_rate(&admin, None, "US", Some("TX"), Decimal::new(825, 4))
        .await?;
    let standard = settings
        .save_shipping_method(&admin, None, "Standard", Decimal::new(499, 2), None, true)
        .await?;
    for (code, kind, value, class, combines) in [
        (
            "TENOFF",
            "percent",
            Some(Decimal::TEN),
            PromotionClass::Order,
            PromotionClass::Shipping,
        ),
        (
            "FREESHIP",
            "free_shipping",
            None,
            PromotionClass::Shipping,
            PromotionClass::Order,
        ),
    ] {
        settings
            .create_promotion(
                &admin,
                PromotionDraft {
                    code: Some(code.into()),
                    kind: kind.into(),
                    value,
                    class: Some(class),
                    combines_with: vec![combines],
                    ..Default::default()
                },
            )
            .await?;
    }

    // A guest shops.
    let carts = shop.carts();
    let first = carts
        .add_item(
            &CartOwner::Guest(None),
            ItemRequest {
                product_id: kettle.id,
                variant_id: None,
                quantity: 3,
            },
            None,
        )
        .await?;
    let guest = CartOwner::Guest(first.new_guest_token);
    let large = apron.variants[1].id;
    carts
        .add_item(
            &guest,
            ItemRequest {
                product_id: apron.id,
                variant_id: Some(large),
                quantity: 1,
            },
            None,
        )
        .await?;
    carts.add_code(&guest, "tenoff", None).await?;
    carts.add_code(&guest, "freeship", None).await?;
    let texas = Address {
        full_name: Some("Ada Lovelace".into()),
        line1: Some("1 Congress Ave".into()),
        city: Some("Austin".into()),
        region: Some("TX".into()),
        postal_code: Some("78701".into()),
        country: "US".into(),
        ..Default::default()
    };
    let view = carts
        .set_delivery(
            &guest,
            Delivery {
                shipping_address: texas.clone(),
                shipping_method: standard.id,
            },
            None,
        )
        .await?;
    print_cart(&view.priced, &view.names);

    // Checkout and payment.
    let checkout = carts
        .checkout(
            &Caller::Anonymous,
            &guest,
            CheckoutRequest {
                shipping_address: Some(texas),
                email: Some("ada@example.com".into()),
                ..Default::default()
            },
        )
        .await?;
    let order = checkout.order;
    println!(
        "\nOrder {} placed: {} ({}), {} to pay",
        order.number,
        order.status.as_str(),
        order.email.as_deref().unwrap_or("-"),
        order.totals.total
    );
    if let Some(payment) = checkout.payment {
        // The test provider confirms on the server; a guest confirms through the shop's own
        // flow, so here the admin confirms on the guest's behalf.
        let paid = shop.payments().confirm(&admin, payment.id).await?;
        let order = shop.orders().order(&admin, order.id).await?;
        println!(
            "Payment {} via {}: {}; order is now {}",
            paid.provider_reference.unwrap_or_default(),
            paid.provider,
            paid.status.as_str(),
            order.status.as_str()
        );
    }
    let kettle = catalog.product(&admin, kettle.id).await?;
    println!("Copper Kettle stock left: {}", kettle.inventory_count);
    Ok(())
}

fn print_cart(priced: &PricedCart, names: &[String]) {
    println!("Cart ({})", priced.currency);
    for (line, name) in priced.lines.iter().zip(names) {
        println!(
            "  {:<22} {:>3} × {:>7} = {:>8}   discount {:>6}   tax {:>6}",
            name,
            line.quantity,
            line.unit_price.amount(),
            line.line_subtotal.amount(),
            line.discount.amount(),
            line.tax.amount()
        );
    }
    println!("  subtotal {:>10}", priced.subtotal.amount());
    println!("  discount {:>10}", priced.discount.amount());
    println!("  shipping {:>10}", priced.shipping.amount());
    println!("  tax      {:>10}", priced.tax.amount());
    println!(
        "  total    {:>10}  ({} minor units to charge)",
        priced.total.amount(),
        priced.total.minor_units().unwrap_or_default()
    );
    println!("Applied promotions:");
    for a in &priced.applied {
        let split: Vec<String> = a
            .lines
            .iter()
            .map(|l| l.amount.amount().to_string())
            .collect();
        let shipping = if a.shipping.is_zero() {
            String::new()
        } else {
            format!(" shipping {}", a.shipping.amount())
        };
        println!(
            "  {:<10} {:<8} {:>6}  lines [{}]{}",
            a.code.as_deref().unwrap_or("(auto)"),
            a.class.name(),
            a.amount.amount(),
            split.join(", "),
            shipping
        );
    }
    for r in &priced.rejected {
        println!(
            "  not applied: {} ({})",
            r.code.as_deref().unwrap_or("(auto)"),
            r.reason.as_str()
        );
    }
}
