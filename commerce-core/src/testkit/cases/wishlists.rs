//! Wishlists: one entry per product and variant, newest first, a cap, removal by product or
//! by variant, and entries that outlive their product.

use super::*;
use crate::wishlist::WishlistEntry;

fn entry(user: &User, product: &Product, variant: Option<VariantId>, at: i64) -> WishlistEntry {
    WishlistEntry {
        user_id: user.id,
        product_id: product.id,
        variant_id: variant,
        name: product.name.clone(),
        added_at: now() + Duration::seconds(at),
    }
}

async fn listed<S: Storage>(store: &S, user: &User) -> Vec<(ProductId, Option<VariantId>)> {
    store
        .wishlist(user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.product_id, e.variant_id))
        .collect()
}

/// Conformance case: Wishlists keep one entry each newest first and outlive their product.
pub async fn wishlists_keep_one_entry_each_newest_first_and_outlive_their_product<S: Storage>(
    store: Arc<S>,
) {
    let ann = user("ann@example.com");
    let bob = user("bob@example.com");
    for u in [&ann, &bob] {
        store.insert_user(u, &ChangeRecord::none()).await.unwrap();
    }
    let lamp = product("Lamp ✓", Decimal::TEN, 3);
    let shirt = product_with_variants("Shirt", &[1, 2]);
    for p in [&lamp, &shirt] {
        store
            .insert_product(p, &ChangeRecord::none())
            .await
            .unwrap();
    }
    let small = shirt.variants[0].id;
    let first = entry(&ann, &lamp, None, 0);
    assert!(store.add_to_wishlist(&first, 10).await.unwrap());
    assert!(store
        .add_to_wishlist(&entry(&ann, &shirt, Some(small), 1), 10)
        .await
        .unwrap());
    assert!(store
        .add_to_wishlist(&entry(&ann, &shirt, None, 2), 10)
        .await
        .unwrap());
    // Added again, later: still one entry, where it was.
    assert!(store
        .add_to_wishlist(&entry(&ann, &lamp, None, 9), 10)
        .await
        .unwrap());
    assert_eq!(
        listed(&*store, &ann).await,
        [(shirt.id, None), (shirt.id, Some(small)), (lamp.id, None)]
    );
    let kept = store.wishlist(ann.id).await.unwrap();
    assert_eq!(kept[2], first, "kept as first added");
    // Each customer has their own.
    assert!(listed(&*store, &bob).await.is_empty());
    // Full: nothing more goes in, but what is in can be added again.
    assert!(store
        .add_to_wishlist(&entry(&bob, &lamp, None, 0), 1)
        .await
        .unwrap());
    assert!(!store
        .add_to_wishlist(&entry(&bob, &shirt, None, 1), 1)
        .await
        .unwrap());
    assert!(store
        .add_to_wishlist(&entry(&bob, &lamp, None, 2), 1)
        .await
        .unwrap());
    assert_eq!(listed(&*store, &bob).await, [(lamp.id, None)]);
    // An unknown user has no list to add to.
    assert_eq!(
        store
            .add_to_wishlist(&entry(&user("ghost@example.com"), &lamp, None, 0), 10)
            .await,
        Err(StorageError::MissingReference(Reference::User))
    );

    // The product goes; the entries stay, with the name they had.
    store
        .delete_product(lamp.id, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(
        listed(&*store, &ann).await,
        [(shirt.id, None), (shirt.id, Some(small)), (lamp.id, None)]
    );

    // Removal: one variant's entry, then every entry of a product.
    assert_eq!(
        store
            .remove_from_wishlist(ann.id, shirt.id, Some(Some(small)))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        listed(&*store, &ann).await,
        [(shirt.id, None), (lamp.id, None)]
    );
    assert!(store
        .add_to_wishlist(&entry(&ann, &shirt, Some(small), 3), 10)
        .await
        .unwrap());
    assert_eq!(
        store
            .remove_from_wishlist(ann.id, shirt.id, None)
            .await
            .unwrap(),
        2
    );
    assert_eq!(listed(&*store, &ann).await, [(lamp.id, None)]);
    assert_eq!(
        store
            .remove_from_wishlist(ann.id, shirt.id, None)
            .await
            .unwrap(),
        0
    );
    assert_eq!(listed(&*store, &bob).await, [(lamp.id, None)]);
}
