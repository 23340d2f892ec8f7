//! The schema on a real server: processes starting at once migrate once, a database of a
//! newer build or with an edited migration is refused, a lost server is a clear error, and
//! the rules the schema keeps itself (stock never below zero, known statuses) hold.
//! Needs `COMMERCE_TEST_DATABASE_URL`, like the conformance kit.

use commerce_sqlx::temporary::TemporaryDatabase;
use commerce_sqlx::{schema, OpenError, PgOptions, PgStore};

fn server() -> String {
    std::env::var("COMMERCE_TEST_DATABASE_URL")
        .expect("COMMERCE_TEST_DATABASE_URL names a PostgreSQL server")
}

fn small() -> PgOptions {
    PgOptions {
        max_connections: 2,
        ..PgOptions::default()
    }
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_processes_starting_at_once_migrate_an_empty_database_once() {
    let db = TemporaryDatabase::empty(&server(), 8 * 4).await.unwrap();
    let opens: Vec<_> = (0..8)
        .map(|_| {
            let url = db.url().to_string();
            tokio::spawn(async move { PgStore::open(&url, small()).await })
        })
        .collect();
    let mut stores = Vec::new();
    for open in opens {
        stores.push(open.await.unwrap().expect("every process opens"));
    }
    let applied: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, checksum FROM schema_migrations ORDER BY version")
            .fetch_all(stores[0].pool())
            .await
            .unwrap();
    let expected: Vec<(i64, String)> = schema::MIGRATIONS
        .iter()
        .map(|(v, _, sql)| (*v, schema::checksum(sql)))
        .collect();
    assert_eq!(applied, expected, "each migration recorded once");
    assert_eq!(
        schema::current_version(stores[0].pool()).await.unwrap(),
        schema::latest_version()
    );
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test]
async fn a_database_of_a_newer_build_is_refused() {
    let db = TemporaryDatabase::create(&server(), 4).await.unwrap();
    {
        let store = PgStore::open(db.url(), small()).await.unwrap();
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'future', 'x')",
        )
        .execute(store.pool())
        .await
        .unwrap();
    }
    match PgStore::open(db.url(), small()).await {
        Err(OpenError::NewerSchema { found, known, .. }) => {
            assert_eq!((found, known), (999, schema::latest_version()))
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test]
async fn an_edited_migration_is_refused() {
    let db = TemporaryDatabase::create(&server(), 4).await.unwrap();
    {
        let store = PgStore::open(db.url(), small()).await.unwrap();
        sqlx::query("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
            .execute(store.pool())
            .await
            .unwrap();
    }
    let refused = PgStore::open(db.url(), small()).await;
    assert!(
        matches!(refused, Err(OpenError::EditedMigration { version: 1, .. })),
        "{:?}",
        refused.err()
    );
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test]
async fn an_unreachable_server_is_a_clear_error_naming_it_without_its_password() {
    // Port 1 on loopback: nothing listens there.
    let refused = PgStore::open("postgres://shop:s3cret@127.0.0.1:1/shop", small()).await;
    match refused {
        Err(e @ OpenError::Unreachable { .. }) => {
            let text = e.to_string();
            assert!(text.contains("127.0.0.1:1"), "{text}");
            assert!(!text.contains("s3cret"), "{text}");
        }
        Err(other) => panic!("another error: {other}"),
        Ok(_) => panic!("opened nothing"),
    }
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test]
async fn prices_from_before_they_had_a_currency_take_the_shops() {
    use sqlx::Connection;
    let db = TemporaryDatabase::empty(&server(), 4).await.unwrap();
    {
        // What schema 1 left behind: a yen shop, a product and its variants, a shipping
        // method and a fixed promotion with a minimum, amounts bare.
        let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
        let (version, name, sql) = schema::MIGRATIONS[0];
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, name text NOT NULL,
                 checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)")
            .bind(version)
            .bind(name)
            .bind(schema::checksum(sql))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::raw_sql(
            "INSERT INTO store_settings (id, data) VALUES (1, '{\"name\": \"Yen shop\", \"currency\": \"JPY\"}');
             INSERT INTO products (id, name, name_key, slug, description, price, vendor_id, status,
                 inventory_count, low_stock_threshold, has_variants, version, created_at, updated_at, search)
             VALUES ('00000000-0000-0000-0000-0000000000a1', 'Tea bowl', 'tea bowl', 'tea-bowl', '', 1500,
                 '00000000-0000-0000-0000-0000000000b1', 'active', 3, 1, true, 1, now(), now(), '');
             INSERT INTO product_variants (id, product_id, position, sku, options, price, inventory_count)
             VALUES ('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-0000000000a1', 0, 'BOWL-S', '{}', NULL, 1),
                    ('00000000-0000-0000-0000-0000000000c2', '00000000-0000-0000-0000-0000000000a1', 1, 'BOWL-L', '{}', 1800, 2);
             INSERT INTO shipping_methods (id, name, price, free_above, active, created_at, updated_at)
             VALUES ('00000000-0000-0000-0000-0000000000d1', 'Takkyubin', 500, 10000, true, now(), now());"
        )
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO promotions (id, code, data, created_at)
             VALUES ('00000000-0000-0000-0000-0000000000e1', 'TAKE500', $1::jsonb, now())",
        )
        .bind(commerce_core::testkit::upgrades::PROMOTION_BEFORE_MONEY)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let store = PgStore::open(db.url(), small()).await.unwrap();
    commerce_core::testkit::upgrades::assert_yen_shop_upgraded(&store).await;
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test]
async fn the_audit_log_refuses_updates_and_deletes() {
    use commerce_core::audit::{AuditEntry, AuditOutcome, AuditQuery, AuditTarget};
    use commerce_core::ports::AuditStore;
    use sqlx::Connection;
    let db = TemporaryDatabase::empty(&server(), 4).await.unwrap();
    let store = PgStore::open(db.url(), small()).await.unwrap();
    let entry = AuditEntry {
        id: commerce_core::AuditEntryId::random(),
        at: chrono::Utc::now(),
        actor: None,
        action: "store.update".into(),
        target: AuditTarget::only("store"),
        changes: Default::default(),
        origin: Default::default(),
        outcome: AuditOutcome::Succeeded,
    };
    store.append_audit(&[entry]).await.unwrap();
    let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
    for sql in [
        "UPDATE audit_log SET action = 'store.delete'",
        "DELETE FROM audit_log",
    ] {
        let refused = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(refused.to_string().contains("append-only"), "{refused}");
    }
    let kept = store.audit_entries(&AuditQuery::default()).await.unwrap();
    assert_eq!(kept.items.len(), 1);
    assert_eq!(kept.items[0].action, "store.update");
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test]
async fn the_database_refuses_negative_stock_and_unknown_statuses_and_currencies() {
    use commerce_core::outbox::ChangeRecord;
    use commerce_core::ports::ProductStore;
    use commerce_core::testkit::fixtures::product;
    use sqlx::Connection;
    let db = TemporaryDatabase::empty(&server(), 4).await.unwrap();
    let store = PgStore::open(db.url(), small()).await.unwrap();
    let lamp = product("Lamp", rust_decimal::Decimal::new(1999, 2), 3);
    store
        .insert_product(&lamp, &ChangeRecord::default())
        .await
        .unwrap();
    let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
    // What another tool might write by hand: each refused as a broken rule (check_violation),
    // whichever of the row's columns the statement sets.
    for sql in [
        "UPDATE products SET inventory_count = inventory_count - 4",
        "UPDATE products SET reserved = -1",
        "UPDATE products SET status = 'sold'",
        "UPDATE products SET currency = 'usd'",
    ] {
        let refused = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        let code = refused
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("23514"), "{sql}: {refused}");
    }
    // Nothing of it was written: the lamp has its three units, none reserved.
    let (stock, reserved, status): (i64, i64, String) =
        sqlx::query_as("SELECT inventory_count, reserved, status FROM products")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!((stock, reserved, status.as_str()), (3, 0, "active"));
    // Taking all three is within the rule.
    sqlx::query("UPDATE products SET inventory_count = inventory_count - 3")
        .execute(&mut conn)
        .await
        .unwrap();
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test]
async fn order_lines_read_each_line_of_each_order_for_reports() {
    use commerce_core::outbox::ChangeRecord;
    use commerce_core::ports::{OrderStore, ProductStore};
    use commerce_core::testkit::fixtures::{new_order, order, product, product_with_variants};
    let db = TemporaryDatabase::empty(&server(), 4).await.unwrap();
    let store = PgStore::open(db.url(), small()).await.unwrap();
    let lamp = product("Lamp", rust_decimal::Decimal::new(1999, 2), 5);
    let shirt = product_with_variants("Shirt", &[4, 4]);
    for p in [&lamp, &shirt] {
        store
            .insert_product(p, &ChangeRecord::default())
            .await
            .unwrap();
    }
    let small_shirt = shirt.variants[1].id;
    let placed = order(None, &[(&lamp, None, 2), (&shirt, Some(small_shirt), 3)]);
    store
        .place_order(&new_order(placed.clone(), "a"))
        .await
        .unwrap();
    let lines: Vec<(uuid::Uuid, i32, uuid::Uuid, Option<uuid::Uuid>, i64)> = sqlx::query_as(
        "SELECT order_id, position, product_id, variant_id, quantity FROM order_lines ORDER BY position",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let id = placed.id.as_uuid();
    assert_eq!(
        lines,
        vec![
            (id, 0, lamp.id.as_uuid(), None, 2),
            (id, 1, shirt.id.as_uuid(), Some(small_shirt.as_uuid()), 3),
        ]
    );
}
