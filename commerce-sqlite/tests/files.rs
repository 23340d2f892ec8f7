//! What happens to real files: opening a corrupt or newer database, reopening one, a lock
//! held by another process, and a whole checkout through the services.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use commerce_core::account::{Address, Role};
use commerce_core::catalog::NewProduct;
use commerce_core::outbox::ChangeRecord;
use commerce_core::ports::{ProductStore, StorageError, UniqueRule};
use commerce_core::service::{CartOwner, CheckoutRequest, ItemRequest};
use commerce_core::testkit::fixtures;
use commerce_core::{Caller, Commerce};
use commerce_sqlite::{OpenError, SqliteOptions, SqliteStore, Synchronous};
use rust_decimal::Decimal;

/// A database path in a fresh temporary directory, removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("commerce-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Self(dir)
    }
    fn db(&self) -> PathBuf {
        self.0.join("shop.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn commits_wait_for_the_disk_unless_told_otherwise() {
    let dir = TempDir::new();
    let store = SqliteStore::open(dir.db()).await.unwrap();
    assert_eq!(store.synchronous().await.unwrap(), Synchronous::Full);
    drop(store);
    let options = SqliteOptions {
        synchronous: Synchronous::Normal,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(dir.db(), options).await.unwrap();
    assert_eq!(store.synchronous().await.unwrap(), Synchronous::Normal);
    assert_eq!("FULL".parse::<Synchronous>(), Ok(Synchronous::Full));
    assert!("off".parse::<Synchronous>().is_err());
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_clearly() {
    let dir = TempDir::new();
    std::fs::write(dir.db(), vec![0x42u8; 8192]).unwrap();
    match SqliteStore::open(dir.db()).await {
        Err(OpenError::NotADatabase { path, .. }) => assert_eq!(path, dir.db()),
        Err(other) => panic!("expected NotADatabase, got {other}"),
        Ok(_) => panic!("a corrupt file was opened"),
    }
    // The file is left as it was, for whoever wants to recover it.
    assert_eq!(std::fs::read(dir.db()).unwrap(), vec![0x42u8; 8192]);
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused() {
    let dir = TempDir::new();
    drop(SqliteStore::open(dir.db()).await.unwrap());
    {
        let conn = rusqlite_connection(&dir);
        conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', '2030-01-01T00:00:00.000000Z')", [])
            .unwrap();
    }
    match SqliteStore::open(dir.db()).await {
        Err(OpenError::NewerSchema {
            found: 999, known, ..
        }) => assert_eq!(known, commerce_sqlite::schema::latest_version()),
        Err(other) => panic!("expected NewerSchema, got {other}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

#[tokio::test]
async fn reopening_keeps_the_data_and_migrates_nothing_twice() {
    let dir = TempDir::new();
    let lamp = fixtures::product("Lamp", Decimal::new(3000, 2), 4);
    {
        let store = SqliteStore::open(dir.db()).await.unwrap();
        store
            .insert_product(&lamp, &ChangeRecord::none())
            .await
            .unwrap();
    }
    let store = SqliteStore::open(dir.db()).await.unwrap();
    assert_eq!(
        store.product(lamp.id).await.unwrap().map(|p| p.name),
        Some("Lamp".into())
    );
    let conn = rusqlite_connection(&dir);
    let applied: i64 = conn
        .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(applied as usize, commerce_sqlite::schema::MIGRATIONS.len());
}

#[tokio::test]
async fn a_database_of_an_older_version_upgrades_in_place() {
    use commerce_core::ports::CategoryStore;
    let dir = TempDir::new();
    {
        // What version 1 of this crate left behind: schema 1 and a category.
        let conn = rusqlite_connection(&dir);
        conn.execute_batch("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)").unwrap();
        let (version, name, sql) = commerce_sqlite::schema::MIGRATIONS[0];
        conn.execute_batch(sql).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?1, ?2, '2026-01-01T00:00:00.000000Z')",
            rusqlite::params![version, name],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO categories (id, name, slug, parent_id, created_at, updated_at)
             VALUES ('00000000-0000-0000-0000-000000000001', 'Old', 'old', NULL, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
            [],
        )
        .unwrap();
    }
    let store = SqliteStore::open(dir.db()).await.unwrap();
    assert_eq!(
        commerce_sqlite::schema::current_version(&rusqlite_connection(&dir)).unwrap(),
        commerce_sqlite::schema::latest_version()
    );
    let categories = store.categories().await.unwrap();
    assert_eq!(
        categories
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Old"]
    );
}

#[tokio::test]
async fn prices_from_before_they_had_a_currency_take_the_shops() {
    let dir = TempDir::new();
    let product = "00000000-0000-0000-0000-0000000000a1";
    {
        // What schema 6 left behind: a yen shop, a product and its variants, a shipping
        // method and a fixed promotion with a minimum, amounts bare.
        let conn = rusqlite_connection(&dir);
        conn.execute_batch("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)").unwrap();
        for (version, name, sql) in &commerce_sqlite::schema::MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?1, ?2, '2026-01-01T00:00:00.000000Z')",
                rusqlite::params![version, name],
            )
            .unwrap();
        }
        conn.execute_batch(&format!(
            "INSERT INTO store_settings (id, data) VALUES (1, '{{\"name\": \"Yen shop\", \"currency\": \"JPY\"}}');
             INSERT INTO products (id, name, name_key, slug, description, price, price_key, vendor_id, status,
                 inventory_count, low_stock_threshold, has_variants, version, created_at, updated_at)
             VALUES ('{product}', 'Tea bowl', 'tea bowl', 'tea-bowl', '', '1500', 15000000,
                 '00000000-0000-0000-0000-0000000000b1', 'active', 3, 1, 1, 1,
                 '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');
             INSERT INTO product_variants (id, product_id, position, sku, options, price, inventory_count)
             VALUES ('00000000-0000-0000-0000-0000000000c1', '{product}', 0, 'BOWL-S', '{{}}', NULL, 1),
                    ('00000000-0000-0000-0000-0000000000c2', '{product}', 1, 'BOWL-L', '{{}}', '1800', 2);
             INSERT INTO shipping_methods (id, name, price, price_key, free_above, active, created_at, updated_at)
             VALUES ('00000000-0000-0000-0000-0000000000d1', 'Takkyubin', '500', 5000000, '10000', 1,
                 '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');"
        ))
        .unwrap();
        conn.execute(
            "INSERT INTO promotions (id, code, data, created_at)
             VALUES ('00000000-0000-0000-0000-0000000000e1', 'TAKE500', ?1, '2026-01-01T00:00:00.000000Z')",
            [commerce_core::testkit::upgrades::PROMOTION_BEFORE_MONEY],
        )
        .unwrap();
    }
    let store = SqliteStore::open(dir.db()).await.unwrap();
    commerce_core::testkit::upgrades::assert_yen_shop_upgraded(&store).await;
}

#[tokio::test]
async fn categories_changed_by_another_process_are_seen() {
    use commerce_core::ports::CategoryStore;
    let dir = TempDir::new();
    let store = SqliteStore::open(dir.db()).await.unwrap();
    assert!(store.categories().await.unwrap().is_empty());
    rusqlite_connection(&dir)
        .execute(
            "INSERT INTO categories (id, name, slug, parent_id, created_at, updated_at)
             VALUES ('00000000-0000-0000-0000-000000000002', 'Elsewhere', 'elsewhere', NULL, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
            [],
        )
        .unwrap();
    assert_eq!(
        store.categories().await.unwrap().len(),
        1,
        "the cache notices the other writer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_listings_are_cached_but_see_every_change() {
    use commerce_core::ports::{PageRequest, ProductQuery};
    let dir = TempDir::new();
    let store = SqliteStore::open(dir.db()).await.unwrap();
    let lamp = fixtures::product("Lamp", Decimal::new(2500, 2), 3);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let in_stock = ProductQuery {
        in_stock: true,
        page: PageRequest::default(),
        ..Default::default()
    };
    assert_eq!(store.list_products(&in_stock).await.unwrap().items.len(), 1);
    assert_eq!(store.list_products(&in_stock).await.unwrap().items.len(), 1);
    // Another process sells the last units: the next listing knows.
    rusqlite_connection(&dir)
        .execute(
            "UPDATE products SET inventory_count = 0 WHERE id = ?1",
            [lamp.id.to_string()],
        )
        .unwrap();
    assert!(store
        .list_products(&in_stock)
        .await
        .unwrap()
        .items
        .is_empty());
    // And this process's own writes too.
    let mut restocked = store.product(lamp.id).await.unwrap().unwrap();
    restocked.inventory_count = 5;
    store
        .update_product(&restocked, &ChangeRecord::none())
        .await
        .unwrap();
    let listed = store.list_products(&in_stock).await.unwrap();
    assert_eq!(listed.items[0].inventory_count, 5);
}

/// Another process's change is seen once the last reading is older than
/// `other_writers_seen_within`; this store's own at once (the kit's case checks those).
#[tokio::test]
async fn the_catalog_generation_sees_another_process_change_stock_and_categories() {
    let dir = TempDir::new();
    let within = Duration::from_millis(50);
    let options = SqliteOptions {
        other_writers_seen_within: within,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(dir.db(), options).await.unwrap();
    let lamp = fixtures::product("Lamp", Decimal::new(2500, 2), 3);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let before = store.catalog_generation().await.unwrap();
    let other = rusqlite_connection(&dir);
    other
        .execute(
            "UPDATE products SET inventory_count = 0 WHERE id = ?1",
            [lamp.id.to_string()],
        )
        .unwrap();
    tokio::time::sleep(within).await;
    let after_sale = store.catalog_generation().await.unwrap();
    assert_ne!(after_sale, before, "a sale elsewhere");
    // With no delay allowed, the very next reading sees it.
    let eager = SqliteStore::open_with(
        dir.db(),
        SqliteOptions {
            other_writers_seen_within: Duration::ZERO,
            ..SqliteOptions::default()
        },
    )
    .await
    .unwrap();
    let seen = eager.catalog_generation().await.unwrap();
    other
        .execute(
            "INSERT INTO categories (id, name, slug, parent_id, created_at, updated_at)
             VALUES ('00000000-0000-0000-0000-000000000003', 'Elsewhere', 'elsewhere', NULL, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
            [],
        )
        .unwrap();
    assert_ne!(
        eager.catalog_generation().await.unwrap(),
        seen,
        "a category made elsewhere"
    );
}

/// Within the window the file is not asked again (that is the point of it), but a write of
/// this store's own is seen at once however long the window.
#[tokio::test]
async fn within_the_window_only_this_store_s_writes_move_the_catalog_generation() {
    let dir = TempDir::new();
    let options = SqliteOptions {
        other_writers_seen_within: Duration::from_secs(3600),
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(dir.db(), options).await.unwrap();
    let lamp = fixtures::product("Lamp", Decimal::new(2500, 2), 3);
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    let first = store.catalog_generation().await.unwrap();
    rusqlite_connection(&dir)
        .execute(
            "UPDATE products SET inventory_count = 0 WHERE id = ?1",
            [lamp.id.to_string()],
        )
        .unwrap();
    assert_eq!(
        store.catalog_generation().await.unwrap(),
        first,
        "another process's change waits for the window"
    );
    let mut renamed = store.product(lamp.id).await.unwrap().unwrap();
    renamed.name = "Desk lamp".into();
    store
        .update_product(&renamed, &ChangeRecord::none())
        .await
        .unwrap();
    let after = store.catalog_generation().await.unwrap();
    assert!(after > first, "its own write, at once: {after:?} {first:?}");
}

#[tokio::test]
async fn a_lock_held_elsewhere_is_a_storage_error_and_nothing_is_half_written() {
    let dir = TempDir::new();
    let options = SqliteOptions {
        busy_timeout: Duration::from_millis(200),
        ..Default::default()
    };
    let store = SqliteStore::open_with(dir.db(), options).await.unwrap();
    // Another process takes the write lock and keeps it.
    let other = rusqlite_connection(&dir);
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let lamp = fixtures::product("Lamp", Decimal::ONE, 1);
    match store.insert_product(&lamp, &ChangeRecord::none()).await {
        Err(StorageError::Unavailable(reason)) => assert!(reason.contains("locked"), "{reason}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        store.product(lamp.id).await.unwrap(),
        None,
        "nothing half-written"
    );
    store
        .insert_product(&lamp, &ChangeRecord::none())
        .await
        .unwrap();
    assert!(store.product(lamp.id).await.unwrap().is_some());
}

#[tokio::test]
async fn a_full_disk_is_a_storage_error_and_nothing_is_half_written() {
    let dir = TempDir::new();
    drop(SqliteStore::open(dir.db()).await.unwrap());
    let used: i64 = rusqlite_connection(&dir)
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    let store = SqliteStore::open_with(
        dir.db(),
        SqliteOptions {
            max_pages: Some(used as u64 + 8),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut stored = Vec::new();
    let mut refused = None;
    for i in 0..500 {
        let mut p = fixtures::product(&format!("Lamp {i}"), Decimal::ONE, 1);
        p.description = "x".repeat(2_000);
        match store.insert_product(&p, &ChangeRecord::none()).await {
            Ok(()) => stored.push(p.id),
            Err(e) => {
                refused = Some((p.id, e));
                break;
            }
        }
    }
    let (id, error) = refused.expect("the database filled up");
    assert_eq!(error, StorageError::Unavailable("the disk is full".into()));
    assert_eq!(
        store.product(id).await.unwrap(),
        None,
        "the refused product left nothing behind"
    );
    for id in &stored {
        assert!(
            store.product(*id).await.unwrap().is_some(),
            "what was stored before is intact"
        );
    }
}

/// Writes that queue up commit together (one transaction, a savepoint each): a write that
/// fails is undone alone, and every write its caller was told of is on disk after reopening.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_committed_together_fail_alone_and_keep_what_they_said() {
    let dir = TempDir::new();
    let store = SqliteStore::open(dir.db()).await.unwrap();
    let taken = fixtures::product("Taken slug", Decimal::ONE, 1);
    store
        .insert_product(&taken, &ChangeRecord::none())
        .await
        .unwrap();
    let mut writes = Vec::new();
    for i in 0..300 {
        let mut p = fixtures::product(&format!("Lamp {i}"), Decimal::ONE, 1);
        if i % 7 == 3 {
            p.slug = taken.slug.clone();
        }
        let store = store.clone();
        writes.push(tokio::spawn(async move {
            let done = store.insert_product(&p, &ChangeRecord::none()).await;
            (p.id, i % 7 == 3, done)
        }));
    }
    let mut answers = Vec::new();
    for w in writes {
        answers.push(w.await.unwrap());
    }
    drop(store);
    let reopened = SqliteStore::open(dir.db()).await.unwrap();
    for (id, duplicate, done) in answers {
        let stored = reopened.product(id).await.unwrap().is_some();
        if duplicate {
            assert_eq!(done, Err(StorageError::Duplicate(UniqueRule::ProductSlug)));
            assert!(!stored, "a refused write left nothing");
        } else {
            assert_eq!(done, Ok(()));
            assert!(stored, "an acknowledged write is on disk");
        }
    }
}

/// The same when the disk fills in the middle of writes committed together: whatever each
/// caller was told, the file agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_disk_filling_under_concurrent_writes_keeps_every_answer_true() {
    let dir = TempDir::new();
    drop(SqliteStore::open(dir.db()).await.unwrap());
    let used: i64 = rusqlite_connection(&dir)
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    let options = SqliteOptions {
        max_pages: Some(used as u64 + 16),
        ..Default::default()
    };
    let store = SqliteStore::open_with(dir.db(), options).await.unwrap();
    let mut writes = Vec::new();
    for i in 0..200 {
        let mut p = fixtures::product(&format!("Lamp {i}"), Decimal::ONE, 1);
        p.description = "x".repeat(2_000);
        let store = store.clone();
        writes.push(tokio::spawn(async move {
            let done = store.insert_product(&p, &ChangeRecord::none()).await;
            (p.id, done)
        }));
    }
    let mut answers = Vec::new();
    for w in writes {
        answers.push(w.await.unwrap());
    }
    assert!(
        answers.iter().any(|(_, done)| done.is_err()),
        "the disk filled up"
    );
    drop(store);
    let reopened = SqliteStore::open(dir.db()).await.unwrap();
    for (id, done) in answers {
        let stored = reopened.product(id).await.unwrap().is_some();
        assert_eq!(stored, done.is_ok(), "told {done:?}, stored: {stored}");
    }
}

#[tokio::test]
async fn search_follows_renames_and_deletions() {
    let dir = TempDir::new();
    let store = SqliteStore::open(dir.db()).await.unwrap();
    let shop = Commerce::builder(Arc::new(store.clone())).build();
    let search = |q: &'static str| {
        let shop = shop.clone();
        async move {
            shop.catalog()
                .search(q, Default::default())
                .await
                .unwrap()
                .items
                .len()
        }
    };
    let kettle = fixtures::product("Copper kettle", Decimal::ONE, 1);
    store
        .insert_product(&kettle, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(search("kettle").await, 1);
    let mut renamed = store.product(kettle.id).await.unwrap().unwrap();
    renamed.name = "Brass teapot".into();
    renamed.description = "Pours well.".into();
    store
        .update_product(&renamed, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(
        search("kettle").await,
        0,
        "the old words are gone from the index"
    );
    assert_eq!(search("teapot").await, 1);
    store
        .delete_product(kettle.id, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(search("teapot").await, 0);
    // Input that looks like FTS syntax is only ever words.
    assert_eq!(search("\"teapot OR NEAR(").await, 0);
}

#[tokio::test]
async fn a_guest_checks_out_on_sqlite() {
    let dir = TempDir::new();
    let shop = Commerce::builder(Arc::new(SqliteStore::open(dir.db()).await.unwrap()))
        .test_payments()
        .build();
    let admin = shop
        .accounts()
        .create_user(
            "admin@shop.test",
            "a-long-password",
            "Admin",
            Role::Admin,
            true,
        )
        .await
        .unwrap();
    let admin = Caller::user(admin.id, admin.role);
    let mug = shop
        .catalog()
        .create_product(
            &admin,
            NewProduct {
                name: "Mug".into(),
                price: Decimal::new(1250, 2),
                inventory_count: 3,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    shop.admin()
        .save_tax_rate(&admin, None, "US", None, Decimal::new(5, 2))
        .await
        .unwrap();
    shop.admin()
        .save_shipping_method(&admin, None, "Post", Decimal::new(400, 2), None, true)
        .await
        .unwrap();
    let carts = shop.carts();
    let first = carts
        .add_item(
            &CartOwner::Guest(None),
            ItemRequest {
                product_id: mug.id,
                variant_id: None,
                quantity: 2,
            },
            None,
        )
        .await
        .unwrap();
    let guest = CartOwner::Guest(first.new_guest_token);
    let address = Address {
        line1: Some("1 Main St".into()),
        city: Some("Springfield".into()),
        postal_code: Some("12345".into()),
        country: "US".into(),
        ..Default::default()
    };
    let checkout = carts
        .checkout(
            &Caller::Anonymous,
            &guest,
            CheckoutRequest {
                shipping_address: Some(address),
                email: Some("g@example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // 25.00 + 4.00 shipping + 1.25 tax.
    assert_eq!(checkout.order.totals.total.amount(), Decimal::new(3025, 2));
    let paid = shop
        .payments()
        .confirm(&admin, checkout.payment.unwrap().id)
        .await
        .unwrap();
    assert_eq!(paid.status.as_str(), "succeeded");
    let order = shop
        .orders()
        .order(&admin, checkout.order.id)
        .await
        .unwrap();
    assert_eq!(order.status.as_str(), "paid");
    let mug = shop.catalog().product(&admin, mug.id).await.unwrap();
    assert_eq!((mug.inventory_count, mug.reserved), (1, 2));
    assert!(carts.cart(&guest).await.unwrap().cart.items.is_empty());
    // The same search the storefront runs.
    let found = shop
        .catalog()
        .search("mug", Default::default())
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
}

fn rusqlite_connection(dir: &TempDir) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.db()).unwrap()
}
