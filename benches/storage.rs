//! Storage on a 100,000-product database, SQLite and PostgreSQL side by side: product by id,
//! a 20-item listing filtered by category (with descendants), full-text search, add-to-cart
//! through the service, and `place_order` from one writer.
//!
//! Run: `cargo bench --bench storage --features sqlite,postgres,testkit`
//! SQLite's database is built once (about a minute) into `target/bench-data/` and reused; each
//! run works on a copy. PostgreSQL runs when `COMMERCE_BENCH_DATABASE_URL` (or
//! `COMMERCE_TEST_DATABASE_URL`) names a server: the data is built once into the database
//! `commerce_bench_100k`, and each run works on a `CREATE DATABASE ... TEMPLATE` copy of it.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use commerce::account::Role;
use commerce::catalog::{Category, NewProduct, Product, ProductStatus};
use commerce::ids::{CategoryId, ProductId, UserId};
use commerce::outbox::ChangeRecord;
use commerce::ports::{PageRequest, StorageError};
use commerce::postgres::{PgOptions, PgStore};
use commerce::service::{CartOwner, ItemRequest, ProductListing, Storage};
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

/// A store the bench can fill in bulk.
trait BenchStore: Storage + Clone {
    async fn insert_many(&self, products: Vec<Product>) -> Result<(), StorageError>;
}

impl BenchStore for SqliteStore {
    async fn insert_many(&self, products: Vec<Product>) -> Result<(), StorageError> {
        self.insert_products(products).await
    }
}

impl BenchStore for PgStore {
    async fn insert_many(&self, products: Vec<Product>) -> Result<(), StorageError> {
        self.insert_products(products).await
    }
}

struct Fixture<S> {
    store: S,
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

/// SQLite: built once; every run works on a fresh copy, so orders placed by earlier runs
/// never skew the figures.
async fn sqlite_store() -> SqliteStore {
    let pristine = data_dir().join("storage-100k-v2.db");
    let path = data_dir().join("storage-100k-run.db");
    if !pristine.exists() {
        let store = SqliteStore::open(&pristine).await.expect("bench database");
        build(&store).await;
        drop(store);
        // The checkpoint thread has let go once the store is dropped; closing the last
        // connection folds the WAL into the file, which is then copied per run.
        std::thread::sleep(Duration::from_millis(300));
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
    SqliteStore::open(&path).await.expect("bench database")
}

/// The PostgreSQL server to bench against, if one is named.
fn postgres_url() -> Option<String> {
    ["COMMERCE_BENCH_DATABASE_URL", "COMMERCE_TEST_DATABASE_URL"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
}

/// PostgreSQL: built once into `commerce_bench_100k` (marked complete, with its schema's
/// fingerprint, by a comment on the database: another schema builds it again), and every run
/// works on a fresh copy of it made by `CREATE DATABASE TEMPLATE`.
async fn postgres_store(url: &str) -> PgStore {
    use sqlx::{Connection, Executor};
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    let mut admin = sqlx::PgConnection::connect(url)
        .await
        .expect("the PostgreSQL server");
    let built: Option<Option<String>> = sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'commerce_bench_100k'",
    )
    .fetch_optional(&mut admin)
    .await
    .expect("pg_database");
    let complete = format!("complete {}", commerce::postgres::schema::fingerprint());
    if built.flatten().as_deref() != Some(complete.as_str()) {
        admin
            .execute("DROP DATABASE IF EXISTS commerce_bench_100k WITH (FORCE)")
            .await
            .expect("drop");
        admin
            .execute("CREATE DATABASE commerce_bench_100k")
            .await
            .expect("create");
        let store = PgStore::open(&format!("{base}/commerce_bench_100k"), PgOptions::default())
            .await
            .expect("the bench database");
        build(&store).await;
        // Statistics, as autovacuum would gather them on a shop that has run a while.
        sqlx::query("ANALYZE")
            .execute(store.pool())
            .await
            .expect("analyze");
        drop(store);
        tokio::time::sleep(Duration::from_millis(300)).await;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "COMMENT ON DATABASE commerce_bench_100k IS '{complete}'"
            )))
            .await
            .expect("comment");
    }
    admin
        .execute("DROP DATABASE IF EXISTS commerce_bench_run WITH (FORCE)")
        .await
        .expect("drop");
    // The template must have no connections while it is copied.
    admin
        .execute("CREATE DATABASE commerce_bench_run TEMPLATE commerce_bench_100k")
        .await
        .expect("a copy of the bench database");
    let _ = admin.close().await;
    PgStore::open(&format!("{base}/commerce_bench_run"), PgOptions::default())
        .await
        .expect("the bench database copy")
}

async fn fixture<S: BenchStore>(store: S) -> Fixture<S> {
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
async fn build<S: BenchStore>(store: &S) {
    eprintln!("building {PRODUCTS} products into the bench database (once)");
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
        store
            .insert_category(&root, &ChangeRecord::none())
            .await
            .expect("category");
        for c in 0..10 {
            let leaf = Category {
                id: CategoryId::random(),
                name: format!("Leaf {r}.{c}"),
                slug: format!("leaf-{r}-{c}"),
                parent_id: Some(root.id),
                created_at: now,
                updated_at: now,
            };
            store
                .insert_category(&leaf, &ChangeRecord::none())
                .await
                .expect("category");
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
                .insert_many(std::mem::take(&mut batch))
                .await
                .expect("insert");
        }
    }
    store.insert_many(batch).await.expect("insert");
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
    let sqlite = rt.block_on(async { fixture(sqlite_store().await).await });
    bench_store(c, &rt, "sqlite_100k", &sqlite);
    drop(sqlite);
    match postgres_url() {
        Some(url) => {
            let postgres = rt.block_on(async { fixture(postgres_store(&url).await).await });
            bench_store(c, &rt, "postgres_100k", &postgres);
        }
        None => eprintln!(
            "PostgreSQL skipped: set COMMERCE_BENCH_DATABASE_URL (or COMMERCE_TEST_DATABASE_URL)"
        ),
    }
}

fn bench_store<S: BenchStore>(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    name: &str,
    f: &Fixture<S>,
) {
    let mut group = c.benchmark_group(name);
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
            let page = on_worker(rt, async move {
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
            on_worker(rt, async move {
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
            on_worker(rt, async move {
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
