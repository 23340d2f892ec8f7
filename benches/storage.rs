//! SQLite storage on a 100,000-product database: product by id, a 20-item listing filtered by
//! category (with descendants), full-text search, add-to-cart through the service, and
//! `place_order` from one writer.
//!
//! Run: `cargo bench --bench storage --features sqlite`
//! The database is built once (about a minute) into `target/bench-data/` and reused.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use commerce::account::Role;
use commerce::catalog::{Category, NewProduct, Product, ProductStatus};
use commerce::ids::{CategoryId, ProductId, UserId};
use commerce::ports::{CategoryStore, OrderStore, PageRequest, ProductStore};
use commerce::service::{CartOwner, ItemRequest, ProductListing};
use commerce::sqlite::SqliteStore;
use commerce::testkit::fixtures;
use commerce::{Caller, Commerce, Currency};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;

const PRODUCTS: usize = 100_000;
const WORDS: &[&str] = &[
    "linen", "copper", "walnut", "wool", "ceramic", "steel", "oak", "glass", "cotton", "leather",
    "bamboo", "marble", "brass", "velvet", "cedar", "silk", "clay", "slate", "hemp", "birch",
];
const THINGS: &[&str] = &[
    "kettle", "lamp", "shirt", "bowl", "chair", "scarf", "vase", "mug", "table", "blanket",
];

struct Fixture {
    store: SqliteStore,
    shop: Commerce,
    ids: Vec<ProductId>,
    root_category: CategoryId,
    customer: Caller,
    stocked: Vec<Product>,
}

fn data_dir() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    target.join("bench-data")
}

async fn fixture() -> Fixture {
    // Built once; every run works on a fresh copy, so orders placed by earlier runs never
    // skew the figures.
    let pristine = data_dir().join("storage-100k-v2.db");
    let path = data_dir().join("storage-100k-run.db");
    if !pristine.exists() {
        build(&pristine).await;
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    for suffix in ["", "-wal"] {
        let from = format!("{}{suffix}", pristine.display());
        if std::path::Path::new(&from).exists() {
            std::fs::copy(&from, format!("{}{suffix}", path.display()))
                .expect("a copy of the bench database");
        }
    }
    let store = SqliteStore::open(&path).await.expect("bench database");
    let shop = Commerce::builder(Arc::new(store.clone())).build();
    shop.admin()
        .initialise_store("Bench", Currency::USD)
        .await
        .expect("settings");
    let first = store
        .list_products(&commerce::ports::ProductQuery {
            page: PageRequest::first(3),
            ..Default::default()
        })
        .await
        .expect("list");
    // Sample ids across the table for lookups by id.
    let mut ids = Vec::new();
    let mut cursor = None;
    for _ in 0..50 {
        let page = store
            .list_products(&commerce::ports::ProductQuery {
                page: PageRequest {
                    limit: 100,
                    cursor: cursor.clone(),
                },
                ..Default::default()
            })
            .await
            .expect("list");
        ids.extend(page.items.iter().map(|p| p.id));
        cursor = page.next_cursor;
    }
    let categories = store.categories().await.expect("categories");
    let root_category = categories
        .iter()
        .find(|c| c.parent_id.is_none())
        .expect("a root")
        .id;
    let customer = shop
        .accounts()
        .create_user(
            "bench@example.com",
            "bench-password",
            "Bench",
            Role::Customer,
            true,
        )
        .await
        .expect("customer");
    Fixture {
        store,
        shop,
        ids,
        root_category,
        customer: Caller::user(customer.id, customer.role),
        stocked: first.items,
    }
}

/// Fills a new database with 110 categories and 100,000 products.
async fn build(path: &std::path::Path) {
    eprintln!(
        "building {PRODUCTS} products into {} (once)",
        path.display()
    );
    let store = SqliteStore::open(path).await.expect("bench database");
    let now = commerce::testkit::now();
    let mut leaves = Vec::new();
    for r in 0..10 {
        let root = Category {
            id: CategoryId::random(),
            name: format!("Root {r}"),
            slug: format!("root-{r}"),
            parent_id: None,
            created_at: now,
            updated_at: now,
        };
        store.insert_category(&root).await.expect("category");
        for c in 0..10 {
            let leaf = Category {
                id: CategoryId::random(),
                name: format!("Leaf {r}.{c}"),
                slug: format!("leaf-{r}-{c}"),
                parent_id: Some(root.id),
                created_at: now,
                updated_at: now,
            };
            store.insert_category(&leaf).await.expect("category");
            leaves.push(leaf.id);
        }
    }
    let vendor = UserId::random();
    let mut batch = Vec::with_capacity(5_000);
    for i in 0..PRODUCTS {
        let word = WORDS[i % WORDS.len()];
        let thing = THINGS[(i / WORDS.len()) % THINGS.len()];
        let mut p = Product::create(
            ProductId::random(),
            NewProduct {
                name: format!("{word} {thing} {i}"),
                slug: Some(format!("p-{i}")),
                description: format!(
                    "A {word} {thing}, number {i}, made with care. {}",
                    if i % 100 == 0 {
                        "Limited aurora edition."
                    } else {
                        ""
                    }
                ),
                price: Decimal::new(500 + (i as i64 * 7919) % 100_000, 2),
                category_id: Some(leaves[i % leaves.len()]),
                inventory_count: 1_000_000_000,
                ..Default::default()
            },
            vendor,
            ProductStatus::Active,
            Currency::USD,
            now,
        )
        .expect("product");
        p.created_at = now - chrono::Duration::seconds(i as i64);
        batch.push(p);
        if batch.len() == 5_000 {
            store
                .insert_products(std::mem::take(&mut batch))
                .await
                .expect("insert");
        }
    }
    store.insert_products(batch).await.expect("insert");
    drop(store);
    // The checkpoint thread has let go once the store is dropped; closing the last
    // connection folds the WAL into the file, which is then copied per run.
    std::thread::sleep(Duration::from_millis(300));
}

/// Runs `fut` the way a server handler does: as a task on a runtime worker thread.
fn on_worker<T: Send + 'static>(
    rt: &tokio::runtime::Runtime,
    fut: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    rt.block_on(rt.spawn(fut)).expect("the task ran")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let f = rt.block_on(fixture());
    let mut group = c.benchmark_group("sqlite_100k");
    group.throughput(Throughput::Elements(1));

    let mut i = 0usize;
    group.bench_function("product_by_id", |b| {
        b.iter(|| {
            i = (i + 7) % f.ids.len();
            rt.block_on(f.store.product(black_box(f.ids[i])))
                .expect("product")
        })
    });

    group.bench_function("listing_20_by_category", |b| {
        let listing = ProductListing {
            category: Some(f.root_category),
            page: PageRequest::first(20),
            ..Default::default()
        };
        b.iter(|| {
            let page = rt
                .block_on(f.shop.catalog().list_products(black_box(listing.clone())))
                .expect("listing");
            assert_eq!(page.items.len(), 20);
            page
        })
    });

    group.bench_function("listing_20_page_500", |b| {
        // Keyset cursors: the 500th page of the whole catalog, newest first, costs what the
        // first does (OFFSET would read the 9,980 rows before it).
        let mut cursor = None;
        for _ in 0..499 {
            let listing = ProductListing {
                page: PageRequest {
                    limit: 20,
                    cursor: cursor.clone(),
                },
                ..Default::default()
            };
            cursor = rt
                .block_on(f.shop.catalog().list_products(listing))
                .expect("listing")
                .next_cursor;
        }
        let listing = ProductListing {
            page: PageRequest { limit: 20, cursor },
            ..Default::default()
        };
        b.iter(|| {
            let (shop, listing) = (f.shop.clone(), listing.clone());
            let page = on_worker(&rt, async move {
                shop.catalog().list_products(black_box(listing)).await
            })
            .expect("listing");
            assert_eq!(page.items.len(), 20);
            page
        })
    });

    group.bench_function("listing_20_page_1", |b| {
        let listing = ProductListing {
            page: PageRequest::first(20),
            ..Default::default()
        };
        b.iter(|| {
            let (shop, listing) = (f.shop.clone(), listing.clone());
            on_worker(&rt, async move {
                shop.catalog().list_products(black_box(listing)).await
            })
            .expect("listing")
        })
    });

    group.bench_function("search_20", |b| {
        b.iter(|| {
            let page = rt
                .block_on(
                    f.shop
                        .catalog()
                        .search(black_box("aurora kettle"), PageRequest::first(20)),
                )
                .expect("search");
            assert!(!page.items.is_empty());
            page
        })
    });

    group.bench_function("add_to_cart", |b| {
        let me = CartOwner::of(&f.customer, None);
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for n in 0..iters {
                let product = &f.stocked[(n % 3) as usize];
                let started = Instant::now();
                let cart = rt
                    .block_on(f.shop.carts().add_item(
                        &me,
                        ItemRequest {
                            product_id: product.id,
                            variant_id: None,
                            quantity: 1,
                        },
                        None,
                    ))
                    .expect("add");
                spent += started.elapsed();
                // Keep lines far from the per-line limit, outside the timing.
                if cart.cart.items.iter().any(|l| l.quantity > 50_000) {
                    for line in &cart.cart.items {
                        rt.block_on(f.shop.carts().update_item(&me, line.id, 0, None))
                            .expect("reset");
                    }
                }
            }
            spent
        })
    });

    group.bench_function("place_order", |b| {
        b.iter_custom(|iters| {
            let orders: Vec<_> = (0..iters)
                .map(|n| {
                    fixtures::new_order(
                        fixtures::order(
                            None,
                            &[
                                (&f.stocked[(n % 3) as usize], None, 1),
                                (&f.stocked[((n + 1) % 3) as usize], None, 2),
                            ],
                        ),
                        "bench",
                    )
                })
                .collect();
            let store = f.store.clone();
            let started = Instant::now();
            // One writer placing orders back to back, as a task on a worker.
            on_worker(&rt, async move {
                for order in &orders {
                    store.place_order(order).await.expect("placed");
                }
            });
            started.elapsed()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
