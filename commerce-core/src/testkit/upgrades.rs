//! What an adapter's upgrade test checks after migrating a database written before amounts
//! were money: a yen shop's product (with variants), shipping method and fixed promotion,
//! stored with bare amounts, come back as money in the shop's currency. Each adapter writes
//! the old rows in its own schema; the ids and amounts are these.

use super::*;

/// The product's id: a tea bowl at 1,500, variants at its price and at 1,800.
pub const PRODUCT: u128 = 0xa1;
/// The shipping method's id: 500, free above 10,000.
pub const SHIPPING_METHOD: u128 = 0xd1;
/// The promotion's id: 500 off orders of 3,000 or more.
pub const PROMOTION: u128 = 0xe1;

/// The promotion as its JSON was stored before: value and minimum bare.
pub const PROMOTION_BEFORE_MONEY: &str = r#"{"id": "00000000-0000-0000-0000-0000000000e1", "code": "TAKE500", "kind": {"kind": "fixed", "value": "500"}, "class": "order", "combines_with": [], "applies_to": {"product_ids": [], "category_ids": []}, "min_subtotal": "3000", "starts_at": null, "ends_at": null, "usage_limit": null, "per_customer_limit": null, "used_count": 0, "active": true, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}"#;

/// Reads the yen shop back from `store` after the upgrade and checks every amount.
pub async fn assert_yen_shop_upgraded<S: Storage>(store: &S) {
    let yen = |amount: i64| Money::new(Decimal::from(amount), Currency::JPY).unwrap();
    let bowl = ProductStore::product(store, uuid::Uuid::from_u128(PRODUCT).into())
        .await
        .unwrap()
        .expect("the product survives the upgrade");
    assert_eq!(bowl.price, yen(1500));
    assert_eq!(bowl.variants[0].price, None);
    assert_eq!(bowl.variants[1].price, Some(yen(1800)));
    assert_eq!(bowl.unit_price(Some(bowl.variants[0].id)), Some(yen(1500)));
    let methods = SettingsStore::shipping_methods(store).await.unwrap();
    assert_eq!(methods.len(), 1, "the shipping method survives the upgrade");
    assert_eq!(methods[0].id, uuid::Uuid::from_u128(SHIPPING_METHOD).into());
    assert_eq!(methods[0].price, yen(500));
    assert_eq!(methods[0].free_above, Some(yen(10000)));
    let promotion = PromotionStore::promotion(store, uuid::Uuid::from_u128(PROMOTION).into())
        .await
        .unwrap()
        .expect("the promotion survives the upgrade");
    assert_eq!(
        promotion.kind,
        crate::promotion::PromotionKind::Fixed { value: yen(500) }
    );
    assert_eq!(promotion.min_subtotal, Some(yen(3000)));
}
