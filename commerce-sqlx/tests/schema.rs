//! The schema on a real server: processes starting at once migrate once, a database of a
//! newer build or with an edited migration is refused, and a lost server is a clear error.
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
