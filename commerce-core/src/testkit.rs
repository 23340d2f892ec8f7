//! The storage conformance kit: one suite of behaviour tests that every storage adapter runs
//! against itself. An adapter's test file needs one line:
//!
//! ```ignore
//! commerce_core::storage_conformance_tests!(|| async { std::sync::Arc::new(MyStore::open_temp().await) });
//! ```
//!
//! An attribute before the factory goes on every generated test (e.g. a `cfg_attr(..., ignore)`
//! for a store that needs a server).
//!
//! Each case gets a fresh store from the factory, on its own multi-threaded runtime, so the
//! concurrency cases really run in parallel.

use std::future::Future;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::account::{Address, OneTimeToken, RefreshToken, Role, SavedAddress, TokenPurpose, User};
use crate::cart::Cart;
use crate::catalog::{
    slugify, Category, NewProduct, NewReview, Product, ProductStatus, Review, ReviewStatus,
};
use crate::ids::*;
use crate::inventory::Stock;
use crate::money::{Currency, Money};
use crate::order::{Order, OrderDetails, OrderStatus};
use crate::payment::{Payment, PaymentStatus};
use crate::ports::*;
use crate::pricing::{price, PricingContext, PricingLine, PricingRequest};
use crate::promotion::{Promotion, PromotionDraft};
use crate::service::Storage;
use crate::shipping::ShippingMethod;
use crate::tax::{TaxPolicy, TaxRate};

/// The time now, to the microsecond: what every store keeps (PostgreSQL's precision).
pub fn now() -> chrono::DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// Runs one case on a fresh store from `factory`, on a new multi-threaded runtime.
pub fn run<S, F, Fut, C, CFut>(factory: F, case: C)
where
    S: Storage,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<S>>,
    C: FnOnce(Arc<S>) -> CFut,
    CFut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a test runtime");
    runtime.block_on(async move {
        let store = factory().await;
        case(store).await;
    });
}

/// Generates one `#[test]` per conformance case for the store the factory makes.
#[macro_export]
macro_rules! storage_conformance_tests {
    (#[$attr:meta] $factory:expr) => {
        $crate::storage_conformance_tests!(@all [#[$attr]] $factory);
    };
    ($factory:expr) => {
        $crate::storage_conformance_tests!(@all [] $factory);
    };
    (@all $attrs:tt $factory:expr) => {
        $crate::storage_conformance_tests!(@cases $attrs $factory;
            products_round_trip_with_versions,
            each_unique_rule_and_reference_is_reported_exactly,
            product_listings_filter_sort_and_page,
            deleting_a_category_moves_its_children_up,
            carts_round_trip_with_versions,
            placing_an_order_reserves_stock_counts_usage_and_empties_the_cart,
            placing_an_order_is_all_or_nothing,
            variants_sell_only_by_name_and_from_their_own_stock,
            an_order_of_many_lines_keeps_every_line,
            concurrent_checkouts_of_the_last_units_never_oversell,
            fifty_buyers_of_the_last_ten_units_leave_exactly_ten_orders,
            checkouts_taking_two_products_in_opposite_orders_never_fail,
            cancelling_gives_stock_back_and_versions_are_enforced,
            a_sale_moves_the_product_version_so_stale_writes_fail,
            low_stock_lists_active_products_at_or_below_their_threshold,
            orders_list_newest_first_and_report_sales,
            provider_events_are_recorded_once,
            emails_are_unique_and_one_address_is_default,
            one_time_tokens_work_once_and_expire,
            refresh_tokens_revoke_once_and_by_family,
            promotion_codes_are_unique_and_pricing_gets_the_right_ones,
            settings_tax_rates_and_shipping_round_trip,
            reviews_keep_the_rating_current,
            the_catalog_generation_moves_with_every_catalog_change,
            idempotency_keys_claim_once_replay_and_expire,
            concurrent_claims_of_one_idempotency_key_let_one_through,
            login_failures_are_counted_per_key_within_the_window,
            client_request_times_add_up_from_now,
            unpaid_orders_expire_giving_back_stock_and_discount_uses,
            an_expired_order_paid_late_comes_back_only_while_its_stock_is_there,
            guest_carts_untouched_for_long_are_purged,
        );
    };
    (@cases $attrs:tt $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            $crate::storage_conformance_tests!(@case $attrs $factory; $case);
        )+
    };
    (@case [$($attr:tt)*] $factory:expr; $case:ident) => {
        #[test]
        $($attr)*
        fn $case() {
            $crate::testkit::run($factory, |store| $crate::testkit::cases::$case(store));
        }
    };
}

/// Data builders shared by the cases.
pub mod fixtures {
    use super::*;

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
            })
            .collect();
        p.sync_inventory_count();
        p
    }

    pub fn user(email: &str) -> User {
        let now = now();
        User {
            id: UserId::random(),
            email: email.to_string(),
            full_name: "Test User".into(),
            role: Role::Customer,
            is_active: true,
            email_verified: false,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
                .into(),
            token_version: 0,
            created_at: now,
            updated_at: now,
        }
    }

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
                unit_price: p.unit_price(*v).unwrap_or(p.price).amount(),
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

    pub fn new_order(order: Order, customer: &str) -> NewOrder {
        NewOrder {
            order,
            promotion_ids: vec![],
            customer_key: customer.to_string(),
            cart: None,
        }
    }

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
}

/// The cases. Each takes a fresh store.
pub mod cases {
    use super::fixtures::*;
    use super::*;

    /// Follows cursors one item at a time to the end, returning every item seen.
    async fn walk<T, F, Fut>(mut fetch: F) -> Vec<T>
    where
        F: FnMut(PageRequest) -> Fut,
        Fut: Future<Output = Result<Page<T>, StorageError>>,
    {
        let mut all = Vec::new();
        let mut page = PageRequest::first(1);
        loop {
            let got = fetch(page.clone()).await.expect("a page");
            assert!(got.items.len() <= 1);
            all.extend(got.items);
            match got.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => return all,
            }
        }
    }

    async fn stock_of<S: Storage>(store: &S, id: ProductId) -> u32 {
        ProductStore::product(store, id)
            .await
            .unwrap()
            .unwrap()
            .inventory_count
    }

    pub async fn products_round_trip_with_versions<S: Storage>(store: Arc<S>) {
        let p = product("Lamp", Decimal::new(3000, 2), 4);
        store.insert_product(&p).await.unwrap();
        assert_eq!(
            ProductStore::product(&*store, p.id).await.unwrap(),
            Some(p.clone())
        );
        let mut changed = p.clone();
        changed.name = "Desk lamp".into();
        let stored = store.update_product(&changed).await.unwrap();
        assert_eq!(stored.version, p.version + 1);
        assert_eq!(
            ProductStore::product(&*store, p.id)
                .await
                .unwrap()
                .unwrap()
                .name,
            "Desk lamp"
        );
        // Writing from the old version again is refused, and nothing changes.
        let mut stale = p.clone();
        stale.name = "Stale".into();
        assert_eq!(
            store.update_product(&stale).await,
            Err(StorageError::VersionConflict)
        );
        assert_eq!(
            ProductStore::product(&*store, p.id)
                .await
                .unwrap()
                .unwrap()
                .name,
            "Desk lamp"
        );
        let mut twin = product("Twin", Decimal::ONE, 1);
        twin.slug = p.slug.clone();
        assert_eq!(
            store.insert_product(&twin).await,
            Err(StorageError::Duplicate(UniqueRule::ProductSlug))
        );
        let v = product_with_variants("Shirt", &[2, 3]);
        store.insert_product(&v).await.unwrap();
        let fetched = store
            .products(&[p.id, v.id, ProductId::random()])
            .await
            .unwrap();
        assert_eq!(fetched.len(), 2);
        let shirt = fetched.iter().find(|x| x.id == v.id).unwrap();
        assert_eq!(shirt.variants, v.variants);
        assert_eq!(shirt.inventory_count, 5);
        // A price keeps its currency and that currency's scale, the variants' prices too.
        let mut dinar = product_with_variants("Dinar lamp", &[1, 1]);
        dinar.price = Money::new(Decimal::new(12_500, 3), Currency::KWD).unwrap();
        dinar.variants[1].price = Some(Money::new(Decimal::new(13, 0), Currency::KWD).unwrap());
        store.insert_product(&dinar).await.unwrap();
        let fetched = ProductStore::product(&*store, dinar.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(fetched, dinar);
        assert_eq!(fetched.price.to_string(), "12.500 KWD");
        assert_eq!(
            fetched
                .unit_price(Some(fetched.variants[1].id))
                .map(|m| m.to_string()),
            Some("13.000 KWD".to_string())
        );
        store.delete_product(p.id).await.unwrap();
        assert_eq!(ProductStore::product(&*store, p.id).await.unwrap(), None);
        assert_eq!(
            store.delete_product(p.id).await,
            Err(StorageError::NotFound)
        );
    }

    /// Every rule a write can break is named exactly (not just "a duplicate"), and nothing of
    /// the refused write is stored.
    pub async fn each_unique_rule_and_reference_is_reported_exactly<S: Storage>(store: Arc<S>) {
        let duplicate = |rule| Err(StorageError::Duplicate(rule));
        let missing = |reference| Err(StorageError::MissingReference(reference));

        let lamp = product("Lamp", Decimal::ONE, 5);
        store.insert_product(&lamp).await.unwrap();
        let mut same_id = product("Other lamp", Decimal::ONE, 5);
        same_id.id = lamp.id;
        assert_eq!(
            store.insert_product(&same_id).await,
            duplicate(UniqueRule::RecordId)
        );

        let mut shirt = product_with_variants("Shirt", &[1, 1]);
        shirt.variants[1].sku = shirt.variants[0].sku.to_lowercase();
        assert_eq!(
            store.insert_product(&shirt).await,
            duplicate(UniqueRule::VariantSku)
        );
        assert_eq!(
            ProductStore::product(&*store, shirt.id).await.unwrap(),
            None,
            "a refused product leaves nothing behind"
        );

        let mut filed = product("Filed", Decimal::ONE, 1);
        filed.category_id = Some(CategoryId::random());
        assert_eq!(
            store.insert_product(&filed).await,
            missing(Reference::Category)
        );
        let mut moved = ProductStore::product(&*store, lamp.id)
            .await
            .unwrap()
            .unwrap();
        moved.category_id = Some(CategoryId::random());
        assert_eq!(
            store.update_product(&moved).await.map(|_| ()),
            missing(Reference::Category)
        );

        let orphan_category = Category {
            id: CategoryId::random(),
            name: "Orphans".into(),
            slug: "orphans".into(),
            parent_id: Some(CategoryId::random()),
            created_at: now(),
            updated_at: now(),
        };
        assert_eq!(
            store.insert_category(&orphan_category).await,
            missing(Reference::ParentCategory)
        );

        let ada = user("ada@example.com");
        store.insert_user(&ada).await.unwrap();
        let stray_review = Review::new(
            ReviewId::random(),
            ProductId::random(),
            ada.id,
            NewReview {
                rating: 4,
                title: "t".into(),
                body: "b".into(),
            },
            ReviewStatus::Approved,
            now(),
        )
        .unwrap();
        assert_eq!(
            store.insert_review(&stray_review).await,
            missing(Reference::Product)
        );
        let stray_address = SavedAddress {
            id: AddressId::random(),
            user_id: UserId::random(),
            label: None,
            address: address(),
            is_default: false,
            created_at: now(),
        };
        assert_eq!(
            store.save_address(&stray_address).await,
            missing(Reference::User)
        );

        let guest = |token: &str| {
            Cart::new(
                CartId::random(),
                None,
                Some(token.into()),
                Currency::USD,
                now(),
            )
        };
        store.insert_cart(&guest("same-token")).await.unwrap();
        assert_eq!(
            store.insert_cart(&guest("same-token")).await,
            duplicate(UniqueRule::GuestCartToken)
        );

        let o = order(None, &[(&lamp, None, 1)]);
        store.place_order(&new_order(o.clone(), "a")).await.unwrap();
        let paid = |reference: &str| {
            let mut p = Payment::new(PaymentId::random(), o.id, "stripe", o.totals.total, now());
            p.provider_reference = Some(reference.into());
            p
        };
        store.insert_payment(&paid("pi_1")).await.unwrap();
        assert_eq!(
            store.insert_payment(&paid("pi_1")).await,
            duplicate(UniqueRule::PaymentReference)
        );
        let mut second = paid("pi_2");
        store.insert_payment(&second).await.unwrap();
        second.provider_reference = Some("pi_1".into());
        assert_eq!(
            store.update_payment(&second).await,
            duplicate(UniqueRule::PaymentReference)
        );

        let unknown_promotion = NewOrder {
            promotion_ids: vec![PromotionId::random()],
            ..new_order(order(None, &[(&lamp, None, 1)]), "b")
        };
        assert_eq!(
            store.place_order(&unknown_promotion).await,
            Err(PlaceOrderError::Storage(StorageError::MissingReference(
                Reference::Promotion
            )))
        );
        assert_eq!(
            stock_of(&*store, lamp.id).await,
            4,
            "the refused order took no stock"
        );
    }

    pub async fn product_listings_filter_sort_and_page<S: Storage>(store: Arc<S>) {
        let now = now();
        let root = Category {
            id: CategoryId::random(),
            name: "Home".into(),
            slug: "home".into(),
            parent_id: None,
            created_at: now,
            updated_at: now,
        };
        store.insert_category(&root).await.unwrap();
        let vendor = UserId::random();
        let mut ids = Vec::new();
        for i in 0..25u32 {
            let mut p = product(
                &format!("Item {i:02}"),
                Decimal::new(1000 + i64::from(i) * 100, 2),
                i % 3,
            );
            p.created_at = now - Duration::minutes(i64::from(i));
            if i % 2 == 0 {
                p.category_id = Some(root.id);
            }
            if i % 5 == 0 {
                p.vendor_id = vendor;
            }
            if i == 24 {
                p.status = ProductStatus::Draft;
            }
            if i == 7 {
                p.name = "Copper kettle".into();
                p.description = "A kettle of copper.".into();
            }
            if i == 8 {
                p.description = "Pairs well with a kettle.".into();
            }
            ids.push(p.id);
            store.insert_product(&p).await.unwrap();
        }
        let active = vec![ProductStatus::Active];
        let base = ProductQuery {
            statuses: active.clone(),
            ..Default::default()
        };
        // Newest first, 10 a page: three pages, every active product exactly once.
        let mut seen = Vec::new();
        let mut page = PageRequest::first(10);
        loop {
            let result = store
                .list_products(&ProductQuery {
                    page: page.clone(),
                    ..base.clone()
                })
                .await
                .unwrap();
            assert!(result.items.len() <= 10);
            seen.extend(result.items.iter().map(|p| p.id));
            match result.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(
            seen,
            ids[..24].to_vec(),
            "newest first, no repeats, no gaps"
        );
        let q = |f: ProductQuery| {
            let store = store.clone();
            async move { store.list_products(&f).await.unwrap().items }
        };
        let in_category = q(ProductQuery {
            category_ids: Some(vec![root.id]),
            page: PageRequest::first(100),
            ..base.clone()
        })
        .await;
        assert_eq!(in_category.len(), 12);
        let priced = q(ProductQuery {
            min_price: Some(Decimal::new(1500, 2)),
            max_price: Some(Decimal::new(1700, 2)),
            ..base.clone()
        })
        .await;
        assert_eq!(priced.iter().map(|p| p.price).collect::<Vec<_>>().len(), 3);
        let in_stock = q(ProductQuery {
            in_stock: true,
            page: PageRequest::first(100),
            ..base.clone()
        })
        .await;
        assert!(in_stock.iter().all(|p| p.inventory_count > 0));
        assert_eq!(in_stock.len(), 16);
        let by_vendor = q(ProductQuery {
            vendor_id: Some(vendor),
            ..base.clone()
        })
        .await;
        assert_eq!(by_vendor.len(), 5);
        let cheapest = q(ProductQuery {
            sort: ProductSort::PriceAsc,
            page: PageRequest::first(3),
            ..base.clone()
        })
        .await;
        assert_eq!(
            cheapest
                .iter()
                .map(|p| p.price.amount())
                .collect::<Vec<_>>(),
            vec![
                Decimal::new(1000, 2),
                Decimal::new(1100, 2),
                Decimal::new(1200, 2)
            ]
        );
        let dearest = q(ProductQuery {
            sort: ProductSort::PriceDesc,
            page: PageRequest::first(1),
            ..base.clone()
        })
        .await;
        assert_eq!(
            dearest[0].price.amount(),
            Decimal::new(3300, 2),
            "the draft (34.00) is not listed"
        );
        let by_name = q(ProductQuery {
            sort: ProductSort::Name,
            page: PageRequest::first(1),
            ..base.clone()
        })
        .await;
        assert_eq!(by_name[0].name, "Copper kettle");
        let found = q(ProductQuery {
            text: Some("kettle".into()),
            sort: ProductSort::Relevance,
            ..base.clone()
        })
        .await;
        assert_eq!(
            found.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![ids[7], ids[8]],
            "a name match ranks first"
        );
        let any_status = q(ProductQuery {
            page: PageRequest::first(100),
            ..Default::default()
        })
        .await;
        assert_eq!(any_status.len(), 25);
    }

    pub async fn deleting_a_category_moves_its_children_up<S: Storage>(store: Arc<S>) {
        let now = now();
        let cat = |name: &str, parent| Category {
            id: CategoryId::random(),
            name: name.into(),
            slug: slugify(name),
            parent_id: parent,
            created_at: now,
            updated_at: now,
        };
        let a = cat("Clothing", None);
        let b = cat("Shirts", Some(a.id));
        let c = cat("Linen shirts", Some(b.id));
        for x in [&a, &b, &c] {
            store.insert_category(x).await.unwrap();
        }
        assert!(matches!(
            store.insert_category(&cat("Clothing", None)).await,
            Err(StorageError::Duplicate(UniqueRule::CategorySlug))
        ));
        let mut p = product("Tee", Decimal::ONE, 1);
        p.category_id = Some(b.id);
        store.insert_product(&p).await.unwrap();
        store.delete_category(b.id).await.unwrap();
        let all = store.categories().await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            all.iter().find(|x| x.id == c.id).unwrap().parent_id,
            Some(a.id)
        );
        assert_eq!(
            ProductStore::product(&*store, p.id)
                .await
                .unwrap()
                .unwrap()
                .category_id,
            None
        );
        assert_eq!(
            store.delete_category(b.id).await,
            Err(StorageError::NotFound)
        );
    }

    pub async fn carts_round_trip_with_versions<S: Storage>(store: Arc<S>) {
        let user = user("cart@example.com");
        store.insert_user(&user).await.unwrap();
        let mut cart = Cart::new(
            CartId::random(),
            None,
            Some("token-hash".into()),
            Currency::USD,
            now(),
        );
        store.insert_cart(&cart).await.unwrap();
        assert_eq!(
            store
                .cart_by_token("token-hash")
                .await
                .unwrap()
                .map(|c| c.id),
            Some(cart.id)
        );
        let p = product("Mug", Decimal::ONE, 9);
        store.insert_product(&p).await.unwrap();
        cart.add_item(CartItemId::random(), p.id, None, 2, 9, now())
            .unwrap();
        cart.add_code("WELCOME", now()).unwrap();
        cart.shipping_address = Some(address());
        let stored = store.update_cart(&cart).await.unwrap();
        assert_eq!(stored.version, 2);
        let read = CartStore::cart(&*store, cart.id).await.unwrap().unwrap();
        assert_eq!(read.items, cart.items);
        assert_eq!(read.discount_codes, vec!["WELCOME"]);
        assert_eq!(read.shipping_address, Some(address()));
        assert_eq!(
            store.update_cart(&cart).await,
            Err(StorageError::VersionConflict)
        );
        let mine = Cart::new(CartId::random(), Some(user.id), None, Currency::USD, now());
        store.insert_cart(&mine).await.unwrap();
        assert_eq!(
            store.cart_of_customer(user.id).await.unwrap().map(|c| c.id),
            Some(mine.id)
        );
        let second = Cart::new(CartId::random(), Some(user.id), None, Currency::USD, now());
        assert!(
            matches!(
                store.insert_cart(&second).await,
                Err(StorageError::Duplicate(UniqueRule::OneCartPerCustomer))
            ),
            "one cart per customer"
        );
        store.delete_cart(cart.id).await.unwrap();
        assert_eq!(store.cart_by_token("token-hash").await.unwrap(), None);
    }

    pub async fn placing_an_order_reserves_stock_counts_usage_and_empties_the_cart<S: Storage>(
        store: Arc<S>,
    ) {
        let user = user("buyer@example.com");
        store.insert_user(&user).await.unwrap();
        let lamp = product("Lamp", Decimal::new(3000, 2), 10);
        let shirt = product_with_variants("Shirt", &[4, 6]);
        store.insert_product(&lamp).await.unwrap();
        store.insert_product(&shirt).await.unwrap();
        let promo = promotion(Some("SAVE"), Some(100), Some(5));
        store.insert_promotion(&promo).await.unwrap();
        let mut cart = Cart::new(CartId::random(), Some(user.id), None, Currency::USD, now());
        store.insert_cart(&cart).await.unwrap();
        cart.add_item(CartItemId::random(), lamp.id, None, 3, 10, now())
            .unwrap();
        let cart = store.update_cart(&cart).await.unwrap();
        let large = shirt.variants[1].id;
        let order = order(Some(user.id), &[(&lamp, None, 3), (&shirt, Some(large), 2)]);
        let new = NewOrder {
            order: order.clone(),
            promotion_ids: vec![promo.id],
            customer_key: user.id.to_string(),
            cart: Some((cart.id, cart.version)),
        };
        let levels = store.place_order(&new).await.unwrap();
        assert_eq!(levels.len(), 2);
        assert!(levels.contains(&StockLevel {
            product_id: lamp.id,
            variant_id: None,
            available: 7,
            threshold: lamp.low_stock_threshold
        }));
        assert_eq!(stock_of(&*store, lamp.id).await, 7);
        let stored_shirt = ProductStore::product(&*store, shirt.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored_shirt
                .variants
                .iter()
                .map(|v| v.inventory_count)
                .collect::<Vec<_>>(),
            vec![4, 4]
        );
        assert_eq!(stored_shirt.inventory_count, 8);
        assert_eq!(
            store.promotion(promo.id).await.unwrap().unwrap().used_count,
            1
        );
        assert_eq!(
            store
                .customer_uses(&user.id.to_string(), &[promo.id])
                .await
                .unwrap(),
            vec![(promo.id, 1)]
        );
        let emptied = CartStore::cart(&*store, cart.id).await.unwrap().unwrap();
        assert!(emptied.items.is_empty());
        assert!(emptied.version > cart.version);
        assert_eq!(
            OrderStore::order(&*store, order.id).await.unwrap(),
            Some(order.clone())
        );
        // An unpaid order does not count as bought (its buyer may not review yet); paid does.
        assert!(!store.has_bought(user.id, lamp.id).await.unwrap());
        let mut paid = order.clone();
        paid.transition(OrderStatus::Paid, Utc::now()).unwrap();
        let paid = store
            .update_order(&paid, StockMovement::None.into())
            .await
            .unwrap();
        assert!(store.has_bought(user.id, lamp.id).await.unwrap());
        assert!(!store
            .has_bought(user.id, ProductId::random())
            .await
            .unwrap());
        let mut refunded = paid.clone();
        refunded
            .transition(OrderStatus::Refunded, Utc::now())
            .unwrap();
        store
            .update_order(&refunded, StockMovement::Release.into())
            .await
            .unwrap();
        assert!(
            !store.has_bought(user.id, lamp.id).await.unwrap(),
            "a refunded order does not count"
        );
        let clash = new_order(
            Order {
                id: OrderId::random(),
                ..order
            },
            "x",
        );
        assert!(
            matches!(
                store.place_order(&clash).await,
                Err(PlaceOrderError::Storage(StorageError::Duplicate(
                    UniqueRule::OrderNumber
                )))
            ),
            "order numbers are unique"
        );
    }

    pub async fn variants_sell_only_by_name_and_from_their_own_stock<S: Storage>(store: Arc<S>) {
        let shirt = product_with_variants("Shirt", &[2, 5]);
        let lamp = product("Lamp", Decimal::ONE, 5);
        store.insert_product(&shirt).await.unwrap();
        store.insert_product(&lamp).await.unwrap();
        let (small, large) = (shirt.variants[0].id, shirt.variants[1].id);
        let place = |units: &[(&Product, Option<VariantId>, u32)]| {
            let new = new_order(order(None, units), "a");
            let store = store.clone();
            async move { store.place_order(&new).await }
        };
        assert_eq!(
            place(&[(&shirt, None, 1)]).await.unwrap_err(),
            PlaceOrderError::Unavailable(shirt.id),
            "a product sold by variant is not sold without one"
        );
        assert_eq!(
            place(&[(&lamp, Some(small), 1)]).await.unwrap_err(),
            PlaceOrderError::Unavailable(lamp.id),
            "nor a product without variants with one"
        );
        assert_eq!(
            place(&[(&shirt, Some(VariantId::random()), 1)])
                .await
                .unwrap_err(),
            PlaceOrderError::Unavailable(shirt.id),
            "nor a variant it does not have"
        );
        assert_eq!(
            place(&[(&shirt, Some(small), 3)]).await.unwrap_err(),
            PlaceOrderError::OutOfStock {
                product_id: shirt.id,
                variant_id: Some(small),
                available: 2
            }
        );
        let levels = place(&[(&shirt, Some(small), 2), (&shirt, Some(large), 1)])
            .await
            .unwrap();
        assert!(levels.contains(&StockLevel {
            product_id: shirt.id,
            variant_id: Some(small),
            available: 0,
            threshold: shirt.low_stock_threshold
        }));
        let stored = ProductStore::product(&*store, shirt.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored
                .variants
                .iter()
                .map(|v| v.inventory_count)
                .collect::<Vec<_>>(),
            vec![0, 4]
        );
        assert_eq!(
            stored.inventory_count, 4,
            "the product counts its variants' sum"
        );
        assert_eq!(
            stock_of(&*store, lamp.id).await,
            5,
            "refused orders took nothing"
        );
    }

    pub async fn an_order_of_many_lines_keeps_every_line<S: Storage>(store: Arc<S>) {
        let buyer = user("many@example.com");
        store.insert_user(&buyer).await.unwrap();
        let mut products = Vec::new();
        for i in 0..19 {
            let p = product(&format!("Item {i}"), Decimal::ONE, 10);
            store.insert_product(&p).await.unwrap();
            products.push(p);
        }
        let units: Vec<(&Product, Option<VariantId>, u32)> =
            products.iter().map(|p| (p, None, 2)).collect();
        let placed = order(Some(buyer.id), &units);
        let levels = store
            .place_order(&new_order(placed.clone(), "many"))
            .await
            .unwrap();
        assert_eq!(levels.len(), 19);
        assert_eq!(
            OrderStore::order(&*store, placed.id).await.unwrap(),
            Some(placed)
        );
        for p in &products {
            assert_eq!(stock_of(&*store, p.id).await, 8, "{}", p.name);
        }
        // Refused for its last line (8 left, 9 wanted): no line's units are taken, however
        // many products an adapter takes per statement.
        let mut units: Vec<(&Product, Option<VariantId>, u32)> =
            products.iter().map(|p| (p, None, 1)).collect();
        units[18].2 = 9;
        let err = store
            .place_order(&new_order(order(Some(buyer.id), &units), "many-2"))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            PlaceOrderError::OutOfStock {
                product_id: products[18].id,
                variant_id: None,
                available: 8
            }
        );
        for p in &products {
            assert_eq!(stock_of(&*store, p.id).await, 8, "{} untouched", p.name);
        }
        // Two lines of one product take the sum of their units, guarded as one.
        let twice = [
            (&products[0], None, 5),
            (&products[1], None, 1),
            (&products[0], None, 4),
        ];
        let err = store
            .place_order(&new_order(order(Some(buyer.id), &twice), "many-3"))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            PlaceOrderError::OutOfStock {
                product_id: products[0].id,
                variant_id: None,
                available: 8
            }
        );
        let twice = [
            (&products[0], None, 5),
            (&products[1], None, 1),
            (&products[0], None, 3),
        ];
        store
            .place_order(&new_order(order(Some(buyer.id), &twice), "many-4"))
            .await
            .unwrap();
        assert_eq!(stock_of(&*store, products[0].id).await, 0);
        assert_eq!(stock_of(&*store, products[1].id).await, 7);
    }

    pub async fn placing_an_order_is_all_or_nothing<S: Storage>(store: Arc<S>) {
        let plenty = product("Plenty", Decimal::ONE, 100);
        let scarce = product("Scarce", Decimal::ONE, 1);
        let mut hidden = product("Hidden", Decimal::ONE, 5);
        hidden.status = ProductStatus::Archived;
        for p in [&plenty, &scarce, &hidden] {
            store.insert_product(p).await.unwrap();
        }
        let limited = promotion(Some("ONCE"), Some(1), None);
        let mine = promotion(Some("MINE"), None, Some(1));
        store.insert_promotion(&limited).await.unwrap();
        store.insert_promotion(&mine).await.unwrap();
        let err = store
            .place_order(&new_order(
                order(None, &[(&plenty, None, 5), (&scarce, None, 2)]),
                "a",
            ))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            PlaceOrderError::OutOfStock {
                product_id: scarce.id,
                variant_id: None,
                available: 1
            }
        );
        assert_eq!(
            stock_of(&*store, plenty.id).await,
            100,
            "the first line's units are not taken"
        );
        let err = store
            .place_order(&new_order(
                order(None, &[(&plenty, None, 1), (&hidden, None, 1)]),
                "a",
            ))
            .await
            .unwrap_err();
        assert_eq!(err, PlaceOrderError::Unavailable(hidden.id));
        // Usage limits are counted inside the transaction.
        let mut first = new_order(order(None, &[(&plenty, None, 1)]), "a");
        first.promotion_ids = vec![limited.id, mine.id];
        store.place_order(&first).await.unwrap();
        let mut second = new_order(order(None, &[(&plenty, None, 1)]), "b");
        second.promotion_ids = vec![limited.id];
        assert_eq!(
            store.place_order(&second).await.unwrap_err(),
            PlaceOrderError::UsageExhausted(limited.id)
        );
        let mut again = new_order(order(None, &[(&plenty, None, 1)]), "a");
        again.promotion_ids = vec![mine.id];
        assert_eq!(
            store.place_order(&again).await.unwrap_err(),
            PlaceOrderError::CustomerLimitReached(mine.id)
        );
        let mut other = new_order(order(None, &[(&plenty, None, 1)]), "b");
        other.promotion_ids = vec![mine.id];
        store.place_order(&other).await.unwrap();
        assert_eq!(
            stock_of(&*store, plenty.id).await,
            98,
            "only the two placed orders took stock"
        );
        assert_eq!(
            store
                .promotion(limited.id)
                .await
                .unwrap()
                .unwrap()
                .used_count,
            1
        );
        assert_eq!(
            store.promotion(mine.id).await.unwrap().unwrap().used_count,
            2
        );
        // A cart changed since it was priced refuses the whole order.
        let mut cart = Cart::new(
            CartId::random(),
            None,
            Some("t".into()),
            Currency::USD,
            now(),
        );
        store.insert_cart(&cart).await.unwrap();
        cart.add_item(CartItemId::random(), plenty.id, None, 1, 100, now())
            .unwrap();
        store.update_cart(&cart).await.unwrap();
        let mut stale = new_order(order(None, &[(&plenty, None, 1)]), "c");
        stale.cart = Some((cart.id, cart.version));
        assert_eq!(
            store.place_order(&stale).await.unwrap_err(),
            PlaceOrderError::CartChanged
        );
        assert_eq!(stock_of(&*store, plenty.id).await, 98);
        assert_eq!(
            OrderStore::order(&*store, stale.order.id).await.unwrap(),
            None
        );
    }

    pub async fn concurrent_checkouts_of_the_last_units_never_oversell<S: Storage>(store: Arc<S>) {
        const UNITS: u32 = 5;
        const BUYERS: usize = 24;
        let last = product("Last units", Decimal::new(999, 2), UNITS);
        let shirt = product_with_variants("Last shirts", &[UNITS, 100]);
        store.insert_product(&last).await.unwrap();
        store.insert_product(&shirt).await.unwrap();
        let small = shirt.variants[0].id;
        let mut tasks = Vec::new();
        for i in 0..BUYERS {
            let store = store.clone();
            let (last, shirt) = (last.clone(), shirt.clone());
            tasks.push(tokio::spawn(async move {
                let units: Vec<(&Product, Option<VariantId>, u32)> = if i % 2 == 0 {
                    vec![(&last, None, 1)]
                } else {
                    vec![(&shirt, Some(small), 1)]
                };
                store
                    .place_order(&new_order(order(None, &units), &format!("buyer-{i}")))
                    .await
            }));
        }
        let mut sold = 0;
        for t in tasks {
            match t.await.expect("the task ran") {
                Ok(_) => sold += 1,
                Err(PlaceOrderError::OutOfStock { .. }) => {}
                Err(other) => panic!("unexpected failure: {other:?}"),
            }
        }
        assert_eq!(
            sold,
            2 * UNITS as usize,
            "exactly the units in stock were sold"
        );
        assert_eq!(stock_of(&*store, last.id).await, 0);
        let shirt = ProductStore::product(&*store, shirt.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(shirt.variants[0].inventory_count, 0);
        assert_eq!(shirt.variants[1].inventory_count, 100);
    }

    /// Every buyer at once (on PostgreSQL, each on its own connection when the pool allows):
    /// exactly the units in stock are sold, and the stock ends at zero, never below.
    pub async fn fifty_buyers_of_the_last_ten_units_leave_exactly_ten_orders<S: Storage>(
        store: Arc<S>,
    ) {
        const UNITS: u32 = 10;
        const BUYERS: usize = 50;
        let last = product("Last ten", Decimal::new(2500, 2), UNITS);
        store.insert_product(&last).await.unwrap();
        let start = Arc::new(tokio::sync::Barrier::new(BUYERS));
        let tasks: Vec<_> = (0..BUYERS)
            .map(|i| {
                let (store, last, start) = (store.clone(), last.clone(), start.clone());
                tokio::spawn(async move {
                    let new = new_order(order(None, &[(&last, None, 1)]), &format!("buyer-{i}"));
                    start.wait().await;
                    store.place_order(&new).await.map(|_| new.order.id)
                })
            })
            .collect();
        let mut placed = Vec::new();
        for t in tasks {
            match t.await.expect("the task ran") {
                Ok(id) => placed.push(id),
                Err(PlaceOrderError::OutOfStock { available, .. }) => {
                    assert!(available < UNITS, "refused with {available} left")
                }
                Err(other) => panic!("a buyer got {other:?}, not a sale or out of stock"),
            }
        }
        assert_eq!(placed.len(), UNITS as usize, "exactly ten orders");
        let stored = ProductStore::product(&*store, last.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((stored.inventory_count, stored.reserved), (0, UNITS));
        for id in placed {
            assert!(OrderStore::order(&*store, id).await.unwrap().is_some());
        }
    }

    /// Two products bought by many carts at once, half listing them one way round and half
    /// the other: a store that locked rows in line order could deadlock; none may fail.
    pub async fn checkouts_taking_two_products_in_opposite_orders_never_fail<S: Storage>(
        store: Arc<S>,
    ) {
        const ROUNDS: usize = 40;
        let lamp = product("Lamp", Decimal::ONE, 1_000);
        let shirt = product_with_variants("Shirt", &[1_000, 1_000]);
        store.insert_product(&lamp).await.unwrap();
        store.insert_product(&shirt).await.unwrap();
        let large = shirt.variants[1].id;
        let tasks: Vec<_> = (0..ROUNDS)
            .map(|i| {
                let (store, lamp, shirt) = (store.clone(), lamp.clone(), shirt.clone());
                tokio::spawn(async move {
                    let units: Vec<(&Product, Option<VariantId>, u32)> = if i % 2 == 0 {
                        vec![(&lamp, None, 2), (&shirt, Some(large), 3)]
                    } else {
                        vec![(&shirt, Some(large), 3), (&lamp, None, 2)]
                    };
                    store
                        .place_order(&new_order(order(None, &units), &format!("cart-{i}")))
                        .await
                })
            })
            .collect();
        for t in tasks {
            if let Err(e) = t.await.expect("the task ran") {
                panic!("a checkout failed: {e:?}");
            }
        }
        assert_eq!(stock_of(&*store, lamp.id).await, 1_000 - 2 * ROUNDS as u32);
        let shirt = ProductStore::product(&*store, shirt.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            shirt
                .variants
                .iter()
                .map(|v| v.inventory_count)
                .collect::<Vec<_>>(),
            vec![1_000, 1_000 - 3 * ROUNDS as u32]
        );
        assert_eq!(shirt.reserved, 3 * ROUNDS as u32);
    }

    pub async fn cancelling_gives_stock_back_and_versions_are_enforced<S: Storage>(store: Arc<S>) {
        let lamp = product("Lamp", Decimal::ONE, 5);
        store.insert_product(&lamp).await.unwrap();
        let placed = order(None, &[(&lamp, None, 3)]);
        store
            .place_order(&new_order(placed.clone(), "a"))
            .await
            .unwrap();
        let stock = |p: Product| p.stock(None).unwrap();
        let read = || {
            let store = store.clone();
            async move {
                ProductStore::product(&*store, lamp.id)
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        assert_eq!(
            stock(read().await),
            Stock {
                available: 2,
                reserved: 3
            }
        );
        let mut cancelled = placed.clone();
        cancelled.transition(OrderStatus::Cancelled, now()).unwrap();
        let stored = store
            .update_order(&cancelled, StockMovement::Release.into())
            .await
            .unwrap();
        assert_eq!(stored.version, placed.version + 1);
        assert_eq!(
            stock(read().await),
            Stock {
                available: 5,
                reserved: 0
            }
        );
        // A write from the old version is refused and gives nothing back twice.
        assert_eq!(
            store
                .update_order(&cancelled, StockMovement::Release.into())
                .await,
            Err(StorageError::VersionConflict)
        );
        assert_eq!(
            stock(read().await),
            Stock {
                available: 5,
                reserved: 0
            }
        );
        let read_order = OrderStore::order(&*store, placed.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read_order.status, OrderStatus::Cancelled);
        assert_eq!(read_order.status_history.len(), 2);
        // Shipping commits: the reserved units leave, what is available stays.
        let shirt = product_with_variants("Shirt", &[4, 4]);
        store.insert_product(&shirt).await.unwrap();
        let small = shirt.variants[0].id;
        let mut shipped = order(None, &[(&shirt, Some(small), 2)]);
        store
            .place_order(&new_order(shipped.clone(), "b"))
            .await
            .unwrap();
        for status in [
            OrderStatus::Paid,
            OrderStatus::Processing,
            OrderStatus::Shipped,
        ] {
            shipped.transition(status, now()).unwrap();
        }
        let movement = StockMovement::Commit;
        store.update_order(&shipped, movement.into()).await.unwrap();
        let shirt = ProductStore::product(&*store, shirt.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            shirt.stock(Some(small)),
            Some(Stock {
                available: 2,
                reserved: 0
            })
        );
        assert_eq!((shirt.inventory_count, shirt.reserved), (6, 0));
    }

    pub async fn a_sale_moves_the_product_version_so_stale_writes_fail<S: Storage>(store: Arc<S>) {
        let lamp = product("Lamp", Decimal::ONE, 5);
        store.insert_product(&lamp).await.unwrap();
        // An admin reads the product, a customer buys two, then the admin's edit arrives.
        let read_before_sale = ProductStore::product(&*store, lamp.id)
            .await
            .unwrap()
            .unwrap();
        let placed = order(None, &[(&lamp, None, 2)]);
        store
            .place_order(&new_order(placed.clone(), "a"))
            .await
            .unwrap();
        let mut stale = read_before_sale.clone();
        stale.name = "Renamed".into();
        assert_eq!(
            store.update_product(&stale).await,
            Err(StorageError::VersionConflict)
        );
        let after_sale = ProductStore::product(&*store, lamp.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (after_sale.inventory_count, after_sale.name.as_str()),
            (3, "Lamp"),
            "the sale is not undone"
        );
        assert!(after_sale.version > read_before_sale.version);
        // The same for giving stock back.
        let mut cancelled = placed;
        cancelled.transition(OrderStatus::Cancelled, now()).unwrap();
        store
            .update_order(&cancelled, StockMovement::Release.into())
            .await
            .unwrap();
        let mut stale = after_sale.clone();
        stale.name = "Renamed".into();
        assert_eq!(
            store.update_product(&stale).await,
            Err(StorageError::VersionConflict)
        );
        assert_eq!(stock_of(&*store, lamp.id).await, 5);
    }

    pub async fn low_stock_lists_active_products_at_or_below_their_threshold<S: Storage>(
        store: Arc<S>,
    ) {
        // The default threshold is 5: "at" counts as low.
        let empty = product("Empty", Decimal::ONE, 0);
        let at = product("At threshold", Decimal::ONE, 5);
        let above = product("Above", Decimal::ONE, 6);
        let mut archived = product("Archived", Decimal::ONE, 1);
        archived.status = ProductStatus::Archived;
        for p in [&above, &at, &archived, &empty] {
            store.insert_product(p).await.unwrap();
        }
        let low: Vec<ProductId> = store
            .low_stock(10)
            .await
            .unwrap()
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(
            low,
            vec![empty.id, at.id],
            "lowest first, active only, threshold included"
        );
        assert_eq!(store.low_stock(1).await.unwrap().len(), 1);
    }

    pub async fn orders_list_newest_first_and_report_sales<S: Storage>(store: Arc<S>) {
        let user = user("lister@example.com");
        store.insert_user(&user).await.unwrap();
        let lamp = product("Lamp", Decimal::new(1050, 2), 100);
        store.insert_product(&lamp).await.unwrap();
        let base = now() - Duration::days(2);
        let mut ids = Vec::new();
        for i in 0..7 {
            let mut o = order(
                if i == 6 { None } else { Some(user.id) },
                &[(&lamp, None, 1)],
            );
            o.created_at = base + Duration::hours(i);
            if i < 3 {
                o.transition(OrderStatus::Paid, o.created_at).unwrap();
            }
            ids.push(o.id);
            store.place_order(&new_order(o, "k")).await.unwrap();
        }
        let mut seen = Vec::new();
        let mut filter = OrderFilter {
            user_id: Some(user.id),
            status: None,
            page: PageRequest::first(4),
        };
        loop {
            let page = store.list_orders(&filter).await.unwrap();
            seen.extend(page.items.iter().map(|o| o.id));
            match page.next_cursor {
                Some(c) => filter.page.cursor = Some(c),
                None => break,
            }
        }
        let mut expected: Vec<_> = ids[..6].to_vec();
        expected.reverse();
        assert_eq!(seen, expected, "the user's orders, newest first, paged");
        let paid = store
            .list_orders(&OrderFilter {
                status: Some(OrderStatus::Paid),
                page: PageRequest::first(50),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(paid.items.len(), 3);
        let counts = store.count_by_status().await.unwrap();
        assert!(
            counts.contains(&(OrderStatus::Paid, 3)) && counts.contains(&(OrderStatus::Pending, 4))
        );
        let day = base.date_naive();
        let sales = store
            .daily_sales(day - Duration::days(1), day + Duration::days(1))
            .await
            .unwrap();
        let total: u32 = sales.iter().map(|d| d.orders).sum();
        assert_eq!(total, 3, "only paid orders are sales");
        let revenue = sales.iter().fold(Money::zero(Currency::USD), |acc, d| {
            acc.checked_add(&d.revenue).unwrap()
        });
        assert_eq!(revenue.amount(), Decimal::new(3150, 2));
        assert!(store
            .daily_sales(NaiveDate::MIN, day - Duration::days(5))
            .await
            .unwrap()
            .is_empty());
    }

    pub async fn idempotency_keys_claim_once_replay_and_expire<S: Storage>(store: Arc<S>) {
        let t0 = now();
        let day = chrono::Duration::hours(24);
        let minute = chrono::Duration::minutes(1);
        let claim = |scope: &'static str, key: &'static str, print: &'static str, at| {
            let store = store.clone();
            async move {
                store
                    .claim_idempotency_key(scope, key, print, at, at - day, at - minute)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            claim("user:a", "k1", "f1", t0).await,
            IdempotencyClaim::Claimed
        );
        // Running: the fingerprint is told, no response yet.
        assert_eq!(
            claim("user:a", "k1", "f1", t0).await,
            IdempotencyClaim::Existing {
                fingerprint: "f1".into(),
                response: None
            }
        );
        // The same key in another scope is another key.
        assert_eq!(
            claim("user:b", "k1", "f2", t0).await,
            IdempotencyClaim::Claimed
        );
        let response = KeptResponse {
            status: 201,
            headers: vec![("location".into(), "/api/orders/1".into())],
            body: b"{\"id\": 1}".to_vec(),
        };
        store
            .complete_idempotency_key("user:a", "k1", &response)
            .await
            .unwrap();
        let later = t0 + chrono::Duration::hours(2);
        assert_eq!(
            claim("user:a", "k1", "f1", later).await,
            IdempotencyClaim::Existing {
                fingerprint: "f1".into(),
                response: Some(response.clone())
            }
        );
        // An unfinished claim older than the abandon limit is free again; a finished one is
        // kept for the whole day.
        assert_eq!(
            claim("user:b", "k1", "f3", later).await,
            IdempotencyClaim::Claimed
        );
        assert_eq!(
            claim("user:a", "k1", "f9", t0 + day + minute).await,
            IdempotencyClaim::Claimed
        );
        // Released keys are free.
        assert_eq!(
            claim("user:c", "k", "f", t0).await,
            IdempotencyClaim::Claimed
        );
        store.release_idempotency_key("user:c", "k").await.unwrap();
        assert_eq!(
            claim("user:c", "k", "g", t0).await,
            IdempotencyClaim::Claimed
        );
        // Completing a key nobody claimed is NotFound; purging removes old records.
        assert_eq!(
            store
                .complete_idempotency_key("user:z", "none", &response)
                .await,
            Err(StorageError::NotFound)
        );
        let purged = store
            .purge_idempotency_keys(t0 + chrono::Duration::seconds(1))
            .await
            .unwrap();
        assert_eq!(purged, 1, "only user:c's record was made at t0");
        assert_eq!(
            claim("user:c", "k", "h", later).await,
            IdempotencyClaim::Claimed
        );
    }

    pub async fn concurrent_claims_of_one_idempotency_key_let_one_through<S: Storage>(
        store: Arc<S>,
    ) {
        let t0 = now();
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .claim_idempotency_key(
                            "user:a",
                            "same",
                            &format!("f{i}"),
                            t0,
                            t0 - chrono::Duration::hours(24),
                            t0 - chrono::Duration::minutes(1),
                        )
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut claimed = 0;
        for t in tasks {
            if t.await.unwrap() == IdempotencyClaim::Claimed {
                claimed += 1;
            }
        }
        assert_eq!(claimed, 1);
    }

    pub async fn login_failures_are_counted_per_key_within_the_window<S: Storage>(store: Arc<S>) {
        let t0 = now();
        let minute = Duration::minutes(1);
        let window_start = t0 - minute;
        // Ada's email at 3, the address (shared with Bob) at 4.
        let keys = |email: &str| {
            vec![
                (format!("email:{email}"), 3u32),
                ("ip:192.0.2.7".to_string(), 4u32),
            ]
        };
        let attempt = |email: &str, at| {
            let store = store.clone();
            let keys = keys(email);
            async move {
                let id = LoginAttemptId::random();
                let refused = store
                    .begin_login_attempt(id, &keys, window_start, at)
                    .await
                    .unwrap();
                (id, refused)
            }
        };
        for i in 0..3 {
            assert_eq!(attempt("ada@example.com", t0 + minute * i).await.1, None);
        }
        // At its limit, Ada's email is refused until its oldest failure leaves the window,
        // and the refusal is not counted (the address still has room for one).
        assert_eq!(
            attempt("ada@example.com", t0 + minute * 3).await.1,
            Some(t0)
        );
        let (bob, refused) = attempt("bob@example.com", t0 + minute * 3).await;
        assert_eq!(refused, None, "the address's fourth");
        // Now the address is full too: Bob is refused by it, told the later of the two.
        assert_eq!(
            attempt("bob@example.com", t0 + minute * 4).await.1,
            Some(t0)
        );
        // Bob's password was right: his attempt is taken back, on every key it touched.
        store.forget_login_attempt(bob).await.unwrap();
        assert_eq!(attempt("bob@example.com", t0 + minute * 4).await.1, None);
        // Failures before the window do not count: from t0 + 1m, Ada's first is gone.
        let later = t0 + minute;
        assert_eq!(
            store
                .begin_login_attempt(
                    LoginAttemptId::random(),
                    &[("email:ada@example.com".to_string(), 3)],
                    later,
                    t0 + minute * 5,
                )
                .await
                .unwrap(),
            None
        );
        // Purging forgets what is older than asked: Ada's first failure on both keys.
        assert_eq!(
            store.purge_login_failures(t0 + minute / 2).await.unwrap(),
            2
        );

        // A burst of parallel attempts on a fresh key: exactly its limit get through.
        let burst: Vec<_> = (0..24)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .begin_login_attempt(
                            LoginAttemptId::random(),
                            &[("email:carol@example.com".to_string(), 5)],
                            window_start,
                            t0,
                        )
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut counted = 0;
        for attempt in burst {
            if attempt.await.unwrap().is_none() {
                counted += 1;
            }
        }
        assert_eq!(counted, 5, "the check and the count are one step");
    }

    /// An order placed with a code, for the cases of its life after placement: placed (its
    /// units reserved, the code's use counted for the buyer), as stored.
    async fn placed_with_code<S: Storage>(
        store: &Arc<S>,
        promo: &Promotion,
        units: &[(&Product, Option<VariantId>, u32)],
        placed_at: chrono::DateTime<Utc>,
    ) -> Order {
        let buyer = user(&format!("buyer-{}@example.com", UserId::random()));
        store.insert_user(&buyer).await.unwrap();
        let mut placed = order(Some(buyer.id), units);
        placed.created_at = placed_at;
        placed
            .applied_promotions
            .push(crate::pricing::AppliedPromotion {
                id: promo.id,
                code: promo.code.clone(),
                class: crate::promotion::PromotionClass::Order,
                amount: Money::zero(Currency::USD),
                lines: vec![],
                shipping: Money::zero(Currency::USD),
            });
        store
            .place_order(&NewOrder {
                order: placed.clone(),
                promotion_ids: vec![promo.id],
                customer_key: placed.customer_key(),
                cart: None,
            })
            .await
            .unwrap();
        placed
    }

    /// What the sweeper stores for an order left unpaid: cancelled, for want of payment.
    fn expired_unpaid(order: &Order) -> Order {
        let mut expired = order.clone();
        expired
            .transition_because(
                OrderStatus::Cancelled,
                now(),
                Some(crate::order::StatusReason::PaymentTimeout),
            )
            .unwrap();
        expired
    }

    /// What the sweeper's cancellation does beside the order.
    const EXPIRY: OrderEffects = OrderEffects {
        stock: StockMovement::Release,
        give_back_promotion_uses: true,
    };

    async fn uses_of<S: Storage>(store: &S, promo: &Promotion, order: &Order) -> (u32, u32) {
        let total = store.promotion(promo.id).await.unwrap().unwrap().used_count;
        let mine = store
            .customer_uses(&order.customer_key(), &[promo.id])
            .await
            .unwrap()
            .first()
            .map_or(0, |(_, n)| *n);
        (total, mine)
    }

    pub async fn unpaid_orders_expire_giving_back_stock_and_discount_uses<S: Storage>(
        store: Arc<S>,
    ) {
        let lamp = product("Lamp", Decimal::TEN, 5);
        store.insert_product(&lamp).await.unwrap();
        let promo = promotion(Some("ONCE"), Some(10), Some(1));
        store.insert_promotion(&promo).await.unwrap();
        let t0 = now() - Duration::hours(2);
        let old = placed_with_code(&store, &promo, &[(&lamp, None, 2)], t0).await;
        let older =
            placed_with_code(&store, &promo, &[(&lamp, None, 1)], t0 - Duration::hours(1)).await;
        let recent = placed_with_code(&store, &promo, &[(&lamp, None, 1)], now()).await;
        assert_eq!(stock_of(&*store, lamp.id).await, 1);
        assert_eq!(uses_of(&*store, &promo, &old).await, (3, 1));

        // Pending orders placed before the cut, oldest first, at most as many as asked.
        let cut = now() - Duration::minutes(30);
        let unpaid = store.unpaid_orders(cut, 10).await.unwrap();
        let ids: Vec<OrderId> = unpaid.iter().map(|o| o.id).collect();
        assert_eq!(ids, vec![older.id, old.id]);
        assert_eq!(unpaid[1], old, "read whole, at its version");
        assert_eq!(store.unpaid_orders(cut, 1).await.unwrap().len(), 1);

        // Cancelled for want of payment: its units and its code's uses come back, in total
        // and for its buyer; the recent order keeps its own.
        let expired = expired_unpaid(&old);
        let stored = store.update_order(&expired, EXPIRY).await.unwrap();
        assert!(stored.expired_unpaid());
        assert_eq!(stock_of(&*store, lamp.id).await, 3);
        assert_eq!(uses_of(&*store, &promo, &old).await, (2, 0));
        assert_eq!(uses_of(&*store, &promo, &recent).await.1, 1);
        // Only once: a second process's write from the same version is refused and gives
        // nothing back twice.
        assert_eq!(
            store.update_order(&expired, EXPIRY).await,
            Err(StorageError::VersionConflict)
        );
        assert_eq!(stock_of(&*store, lamp.id).await, 3);
        assert_eq!(uses_of(&*store, &promo, &old).await, (2, 0));
        let unpaid = store.unpaid_orders(cut, 10).await.unwrap();
        assert_eq!(
            unpaid.iter().map(|o| o.id).collect::<Vec<_>>(),
            vec![older.id]
        );
    }

    pub async fn an_expired_order_paid_late_comes_back_only_while_its_stock_is_there<S: Storage>(
        store: Arc<S>,
    ) {
        let lamp = product("Lamp", Decimal::TEN, 3);
        store.insert_product(&lamp).await.unwrap();
        let promo = promotion(Some("LATE"), Some(2), Some(1));
        store.insert_promotion(&promo).await.unwrap();
        let placed = placed_with_code(&store, &promo, &[(&lamp, None, 2)], now()).await;
        let expired = store
            .update_order(&expired_unpaid(&placed), EXPIRY)
            .await
            .unwrap();
        assert_eq!(stock_of(&*store, lamp.id).await, 3);

        // Paid late while the units are there: reserved again, the code counted again (the
        // customer paid the discounted price), the order paid.
        let mut back = expired.clone();
        back.reinstate_paid(now()).unwrap();
        back.payment_status = PaymentStatus::Succeeded;
        let stored = store.reinstate_order(&back).await.unwrap();
        assert_eq!(stored.status, OrderStatus::Paid);
        assert_eq!(stored.version, back.version + 1);
        assert_eq!(stock_of(&*store, lamp.id).await, 1);
        assert_eq!(uses_of(&*store, &promo, &placed).await, (1, 1));
        assert_eq!(
            OrderStore::order(&*store, placed.id).await.unwrap(),
            Some(stored.clone())
        );
        // From a stale version: refused, nothing reserved twice.
        assert_eq!(
            store.reinstate_order(&back).await,
            Err(PlaceOrderError::Storage(StorageError::VersionConflict))
        );
        assert_eq!(stock_of(&*store, lamp.id).await, 1);

        // Another expires and its units are sold meanwhile: coming back is refused for the
        // line short, and nothing is written.
        let second = placed_with_code(&store, &promo, &[(&lamp, None, 1)], now()).await;
        let second = store
            .update_order(&expired_unpaid(&second), EXPIRY)
            .await
            .unwrap();
        let rival = order(None, &[(&lamp, None, 1)]);
        store.place_order(&new_order(rival, "rival")).await.unwrap();
        assert_eq!(stock_of(&*store, lamp.id).await, 0);
        let mut back = second.clone();
        back.reinstate_paid(now()).unwrap();
        match store.reinstate_order(&back).await {
            Err(PlaceOrderError::OutOfStock {
                product_id,
                available,
                ..
            }) => assert_eq!((product_id, available), (lamp.id, 0)),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            OrderStore::order(&*store, second.id).await.unwrap(),
            Some(second.clone()),
            "still cancelled, at its version"
        );
        assert_eq!(uses_of(&*store, &promo, &placed).await.0, 1);
    }

    pub async fn guest_carts_untouched_for_long_are_purged<S: Storage>(store: Arc<S>) {
        let user = user("keeps@example.com");
        store.insert_user(&user).await.unwrap();
        let long_ago = now() - Duration::days(40);
        let old_guest = Cart::new(
            CartId::random(),
            None,
            Some("old".into()),
            Currency::USD,
            long_ago,
        );
        let new_guest = Cart::new(
            CartId::random(),
            None,
            Some("new".into()),
            Currency::USD,
            now(),
        );
        let old_customer = Cart::new(
            CartId::random(),
            Some(user.id),
            None,
            Currency::USD,
            long_ago,
        );
        for cart in [&old_guest, &new_guest, &old_customer] {
            store.insert_cart(cart).await.unwrap();
        }
        let purged = store
            .purge_guest_carts(now() - Duration::days(30))
            .await
            .unwrap();
        assert_eq!(purged, 1);
        assert_eq!(CartStore::cart(&*store, old_guest.id).await.unwrap(), None);
        assert!(CartStore::cart(&*store, new_guest.id)
            .await
            .unwrap()
            .is_some());
        assert!(
            CartStore::cart(&*store, old_customer.id)
                .await
                .unwrap()
                .is_some(),
            "a customer's cart is kept however old"
        );
    }

    pub async fn client_request_times_add_up_from_now<S: Storage>(store: Arc<S>) {
        let t0 = now();
        let tenth = std::time::Duration::from_millis(100);
        let ms = |n: i64| Duration::milliseconds(n);
        let a = || ("ip:192.0.2.1".to_string(), 0u32);
        // A new client starts from now: 5 requests at a tenth of a second each.
        let times = store
            .add_client_requests(&[(a().0, 5), ("ip:192.0.2.2".into(), 1)], tenth, t0)
            .await
            .unwrap();
        assert!(times.contains(&(a().0, t0 + ms(500))), "{times:?}");
        assert!(times.contains(&("ip:192.0.2.2".into(), t0 + ms(100))));
        // Another process adds to the same time, from where it is.
        let times = store
            .add_client_requests(&[(a().0, 2)], tenth, t0 + ms(100))
            .await
            .unwrap();
        assert_eq!(times, vec![(a().0, t0 + ms(700))]);
        // A time in the past starts again from now.
        let later = t0 + ms(10_000);
        let times = store
            .add_client_requests(&[(a().0, 1)], tenth, later)
            .await
            .unwrap();
        assert_eq!(times, vec![(a().0, later + ms(100))]);
        // Old times are forgotten.
        assert_eq!(store.purge_client_rates(t0 + ms(1_000)).await.unwrap(), 1);
        assert_eq!(store.purge_client_rates(t0 + ms(1_000)).await.unwrap(), 0);
    }

    pub async fn provider_events_are_recorded_once<S: Storage>(store: Arc<S>) {
        let lamp = product("Lamp", Decimal::ONE, 5);
        store.insert_product(&lamp).await.unwrap();
        let o = order(None, &[(&lamp, None, 1)]);
        store.place_order(&new_order(o.clone(), "a")).await.unwrap();
        let mut p = Payment::new(PaymentId::random(), o.id, "stripe", o.totals.total, now());
        p.provider_reference = Some("pi_123".into());
        store.insert_payment(&p).await.unwrap();
        p.apply_status(PaymentStatus::Succeeded, now());
        store.update_payment(&p).await.unwrap();
        assert_eq!(
            store
                .payment_by_reference("stripe", "pi_123")
                .await
                .unwrap(),
            Some(p.clone())
        );
        assert_eq!(
            store.payment_by_reference("test", "pi_123").await.unwrap(),
            None
        );
        assert_eq!(
            store.payments_of_order(o.id).await.unwrap(),
            vec![p.clone()]
        );
        assert!(store
            .record_provider_event("stripe", "evt_1")
            .await
            .unwrap());
        assert!(!store
            .record_provider_event("stripe", "evt_1")
            .await
            .unwrap());
        assert!(store.record_provider_event("test", "evt_1").await.unwrap());
        // An event whose applying failed is forgotten, so the provider's retry applies it.
        store
            .forget_provider_event("stripe", "evt_1")
            .await
            .unwrap();
        assert!(store
            .record_provider_event("stripe", "evt_1")
            .await
            .unwrap());
        assert!(!store.record_provider_event("test", "evt_1").await.unwrap());
        let orphan = Payment::new(
            PaymentId::random(),
            OrderId::random(),
            "test",
            o.totals.total,
            now(),
        );
        assert!(matches!(
            store.insert_payment(&orphan).await,
            Err(StorageError::MissingReference(Reference::Order))
        ));
    }

    pub async fn emails_are_unique_and_one_address_is_default<S: Storage>(store: Arc<S>) {
        let ada = user("ada@example.com");
        store.insert_user(&ada).await.unwrap();
        assert_eq!(
            store.insert_user(&user("ada@example.com")).await,
            Err(StorageError::Duplicate(UniqueRule::UserEmail))
        );
        assert_eq!(
            store
                .user_by_email("ada@example.com")
                .await
                .unwrap()
                .map(|u| u.id),
            Some(ada.id)
        );
        let mut vendor = user("vendor@example.com");
        vendor.role = Role::Vendor;
        store.insert_user(&vendor).await.unwrap();
        let vendors = store
            .list_users(&UserFilter {
                role: Some(Role::Vendor),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            vendors.items.iter().map(|u| u.id).collect::<Vec<_>>(),
            vec![vendor.id]
        );
        let found = store
            .list_users(&UserFilter {
                text: Some("ADA@".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(found.items.len(), 1);
        let everyone = walk(|page| {
            let store = store.clone();
            async move {
                store
                    .list_users(&UserFilter {
                        page,
                        ..Default::default()
                    })
                    .await
            }
        })
        .await;
        assert_eq!(everyone.len(), 2, "every user once, page by page");
        let save = |default: bool| SavedAddress {
            id: AddressId::random(),
            user_id: ada.id,
            label: Some("home".into()),
            address: address(),
            is_default: default,
            created_at: now(),
        };
        let (home, work) = (save(true), save(true));
        store.save_address(&home).await.unwrap();
        store.save_address(&work).await.unwrap();
        let list = store.addresses(ada.id).await.unwrap();
        assert_eq!(
            list.iter()
                .filter(|a| a.is_default)
                .map(|a| a.id)
                .collect::<Vec<_>>(),
            vec![work.id]
        );
        assert_eq!(
            store.delete_address(vendor.id, home.id).await,
            Err(StorageError::NotFound),
            "not another user's"
        );
        store.delete_address(ada.id, home.id).await.unwrap();
        assert_eq!(store.addresses(ada.id).await.unwrap().len(), 1);
    }

    pub async fn one_time_tokens_work_once_and_expire<S: Storage>(store: Arc<S>) {
        let ada = user("ada@example.com");
        store.insert_user(&ada).await.unwrap();
        let now = now();
        let token = |hash: &str, ttl| OneTimeToken {
            token_hash: hash.into(),
            user_id: ada.id,
            purpose: TokenPurpose::VerifyEmail,
            expires_at: now + ttl,
            used_at: None,
        };
        store
            .insert_one_time(&token("fresh", Duration::hours(1)))
            .await
            .unwrap();
        store
            .insert_one_time(&token("old", Duration::seconds(-1)))
            .await
            .unwrap();
        assert_eq!(
            store
                .use_one_time("fresh", TokenPurpose::ResetPassword, now)
                .await
                .unwrap(),
            None,
            "wrong purpose"
        );
        assert!(store
            .use_one_time("fresh", TokenPurpose::VerifyEmail, now)
            .await
            .unwrap()
            .is_some());
        assert_eq!(
            store
                .use_one_time("fresh", TokenPurpose::VerifyEmail, now)
                .await
                .unwrap(),
            None,
            "single use"
        );
        assert_eq!(
            store
                .use_one_time("old", TokenPurpose::VerifyEmail, now)
                .await
                .unwrap(),
            None,
            "expired"
        );
        assert_eq!(
            store
                .use_one_time("unknown", TokenPurpose::VerifyEmail, now)
                .await
                .unwrap(),
            None
        );
    }

    pub async fn refresh_tokens_revoke_once_and_by_family<S: Storage>(store: Arc<S>) {
        let ada = user("ada@example.com");
        store.insert_user(&ada).await.unwrap();
        let now = now();
        let family = TokenFamilyId::random();
        let token = |hash: &str, family| RefreshToken {
            token_hash: hash.into(),
            family_id: family,
            user_id: ada.id,
            issued_at: now,
            expires_at: now + Duration::days(30),
            revoked_at: None,
        };
        for (h, f) in [
            ("r1", family),
            ("r2", family),
            ("other", TokenFamilyId::random()),
        ] {
            store.insert_refresh(&token(h, f)).await.unwrap();
        }
        // Two rotations racing: exactly one wins.
        let (a, b) = tokio::join!(
            store.revoke_refresh("r1", now),
            store.revoke_refresh("r1", now)
        );
        assert!(a.unwrap() ^ b.unwrap());
        store.revoke_family(family, now).await.unwrap();
        assert!(store
            .refresh_token("r2")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some());
        assert!(store
            .refresh_token("other")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none());
        store.revoke_all_of_user(ada.id, now).await.unwrap();
        assert!(store
            .refresh_token("other")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some());
        assert!(!store.revoke_refresh("missing", now).await.unwrap());
    }

    pub async fn promotion_codes_are_unique_and_pricing_gets_the_right_ones<S: Storage>(
        store: Arc<S>,
    ) {
        let auto = promotion(None, None, None);
        let save = promotion(Some("SAVE"), Some(10), None);
        let other = promotion(Some("OTHER"), None, None);
        for p in [&auto, &save, &other] {
            store.insert_promotion(p).await.unwrap();
        }
        assert_eq!(
            store
                .insert_promotion(&promotion(Some("SAVE"), None, None))
                .await,
            Err(StorageError::Duplicate(UniqueRule::PromotionCode))
        );
        let listed = walk(|page| {
            let store = store.clone();
            async move { store.list_promotions(&page).await }
        })
        .await;
        assert_eq!(listed.len(), 3, "every promotion once, page by page");
        let mut for_pricing: Vec<_> = store
            .promotions_for_pricing(&["SAVE".into()])
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        for_pricing.sort();
        let mut expected = vec![auto.id, save.id];
        expected.sort();
        assert_eq!(for_pricing, expected);
        let mut changed = save.clone();
        changed.active = false;
        store.update_promotion(&changed).await.unwrap();
        assert!(!store.promotion(save.id).await.unwrap().unwrap().active);
        assert_eq!(
            store
                .list_promotions(&PageRequest::first(2))
                .await
                .unwrap()
                .items
                .len(),
            2
        );
        store.delete_promotion(other.id).await.unwrap();
        assert_eq!(store.promotion(other.id).await.unwrap(), None);
        assert!(store
            .customer_uses("nobody", &[save.id])
            .await
            .unwrap()
            .iter()
            .all(|(_, n)| *n == 0));
    }

    pub async fn settings_tax_rates_and_shipping_round_trip<S: Storage>(store: Arc<S>) {
        assert_eq!(store.store_settings().await.unwrap(), None);
        let mut settings = StoreSettings {
            name: "Shop".into(),
            currency: Currency::EUR,
            ..Default::default()
        };
        settings.tax.prices_include_tax = true;
        store.save_store_settings(&settings).await.unwrap();
        assert_eq!(store.store_settings().await.unwrap(), Some(settings));
        let now = now();
        let us = TaxRate::new(TaxRateId::random(), "US", None, Decimal::new(5, 2), now).unwrap();
        let tx = TaxRate::new(
            TaxRateId::random(),
            "US",
            Some("TX"),
            Decimal::new(825, 4),
            now,
        )
        .unwrap();
        store.save_tax_rate(&us).await.unwrap();
        store.save_tax_rate(&tx).await.unwrap();
        let dup = TaxRate::new(TaxRateId::random(), "US", Some("TX"), Decimal::ONE, now).unwrap();
        assert!(matches!(
            store.save_tax_rate(&dup).await,
            Err(StorageError::Duplicate(UniqueRule::TaxRateRegion))
        ));
        let rates = store.tax_rates().await.unwrap();
        assert_eq!(
            crate::tax::rate_for(&rates, "US", Some("TX")),
            Decimal::new(825, 4)
        );
        store.delete_tax_rate(us.id).await.unwrap();
        assert_eq!(store.tax_rates().await.unwrap().len(), 1);
        let ship = ShippingMethod::new(
            ShippingMethodId::random(),
            "Express",
            Decimal::new(1500, 2),
            Some(Decimal::new(10000, 2)),
            true,
            Currency::EUR,
            now,
        )
        .unwrap();
        store.save_shipping_method(&ship).await.unwrap();
        assert_eq!(store.shipping_methods().await.unwrap(), vec![ship.clone()]);
        store.delete_shipping_method(ship.id).await.unwrap();
        assert_eq!(
            store.delete_shipping_method(ship.id).await,
            Err(StorageError::NotFound)
        );
    }

    /// Whatever is kept under the catalog generation (encoded listings) is only as right as
    /// this: every change a catalog read can show must move it, and reads must not.
    pub async fn the_catalog_generation_moves_with_every_catalog_change<S: Storage>(store: Arc<S>) {
        let Some(mut seen) = store.catalog_generation().await.unwrap() else {
            // A store that cannot tell must say so every time.
            assert_eq!(store.catalog_generation().await.unwrap(), None);
            return;
        };
        let mut moved = |now: Option<u64>, what: &str| {
            let now = now.expect("a store that told once tells every time");
            assert_ne!(now, seen, "{what} must move the catalog generation");
            seen = now;
        };
        let lamp = product("Lamp", Decimal::ONE, 5);
        store.insert_product(&lamp).await.unwrap();
        moved(store.catalog_generation().await.unwrap(), "a new product");
        let mut renamed = lamp.clone();
        renamed.name = "Desk lamp".into();
        let lamp = store.update_product(&renamed).await.unwrap();
        moved(store.catalog_generation().await.unwrap(), "a product edit");

        // Reads leave it alone.
        let still = store.catalog_generation().await.unwrap();
        ProductStore::product(&*store, lamp.id).await.unwrap();
        store
            .list_products(&ProductQuery {
                page: PageRequest::default(),
                ..Default::default()
            })
            .await
            .unwrap();
        store.categories().await.unwrap();
        assert_eq!(store.catalog_generation().await.unwrap(), still);

        let placed = order(None, &[(&lamp, None, 2)]);
        store
            .place_order(&new_order(placed.clone(), "a"))
            .await
            .unwrap();
        moved(
            store.catalog_generation().await.unwrap(),
            "stock reserved by an order",
        );
        let mut cancelled = placed;
        cancelled.transition(OrderStatus::Cancelled, now()).unwrap();
        store
            .update_order(&cancelled, StockMovement::Release.into())
            .await
            .unwrap();
        moved(
            store.catalog_generation().await.unwrap(),
            "stock given back",
        );

        let ada = user("ada@example.com");
        store.insert_user(&ada).await.unwrap();
        let review = Review::new(
            ReviewId::random(),
            lamp.id,
            ada.id,
            NewReview {
                rating: 4,
                title: "t".into(),
                body: "b".into(),
            },
            ReviewStatus::Approved,
            now(),
        )
        .unwrap();
        store.insert_review(&review).await.unwrap();
        moved(store.catalog_generation().await.unwrap(), "a new rating");
        let mut rejected = review;
        rejected.status = ReviewStatus::Rejected;
        store.update_review(&rejected).await.unwrap();
        moved(
            store.catalog_generation().await.unwrap(),
            "a rating withdrawn",
        );

        let at = now();
        let mut lights = Category {
            id: CategoryId::random(),
            name: "Lights".into(),
            slug: "lights".into(),
            parent_id: None,
            created_at: at,
            updated_at: at,
        };
        store.insert_category(&lights).await.unwrap();
        moved(store.catalog_generation().await.unwrap(), "a new category");
        lights.name = "Lighting".into();
        store.update_category(&lights).await.unwrap();
        moved(
            store.catalog_generation().await.unwrap(),
            "a renamed category",
        );
        store.delete_category(lights.id).await.unwrap();
        moved(
            store.catalog_generation().await.unwrap(),
            "a deleted category",
        );
        store.delete_product(lamp.id).await.unwrap();
        moved(
            store.catalog_generation().await.unwrap(),
            "a deleted product",
        );
    }

    pub async fn reviews_keep_the_rating_current<S: Storage>(store: Arc<S>) {
        let p = product("Kettle", Decimal::ONE, 5);
        store.insert_product(&p).await.unwrap();
        let (ada, bob) = (user("ada@example.com"), user("bob@example.com"));
        store.insert_user(&ada).await.unwrap();
        store.insert_user(&bob).await.unwrap();
        let review = |u: &User, rating| {
            Review::new(
                ReviewId::random(),
                p.id,
                u.id,
                NewReview {
                    rating,
                    title: "t".into(),
                    body: "b".into(),
                },
                ReviewStatus::Approved,
                now(),
            )
            .unwrap()
        };
        let first = review(&ada, 5);
        store.insert_review(&first).await.unwrap();
        store.insert_review(&review(&bob, 2)).await.unwrap();
        let pid = p.id;
        let both = walk(|page| {
            let store = store.clone();
            async move { store.reviews(pid, &page).await }
        })
        .await;
        assert_eq!(both.len(), 2, "every approved review once, page by page");
        assert!(
            matches!(
                store.insert_review(&review(&ada, 1)).await,
                Err(StorageError::Duplicate(UniqueRule::OneReviewPerCustomer))
            ),
            "one review per customer"
        );
        let rating = ProductStore::product(&*store, p.id)
            .await
            .unwrap()
            .unwrap()
            .rating;
        assert_eq!((rating.average, rating.count), (Decimal::new(35, 1), 2));
        let mut hidden = first.clone();
        hidden.status = ReviewStatus::Rejected;
        store.update_review(&hidden).await.unwrap();
        let rating = ProductStore::product(&*store, p.id)
            .await
            .unwrap()
            .unwrap()
            .rating;
        assert_eq!((rating.average, rating.count), (Decimal::TWO, 1));
        assert_eq!(
            store
                .reviews(p.id, &PageRequest::default())
                .await
                .unwrap()
                .items
                .len(),
            1
        );
        assert!(store.has_reviewed(p.id, ada.id).await.unwrap());
    }
}
