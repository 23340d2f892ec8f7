//! Public catalog reads from a real streaming replica. The test makes its own pair of
//! clusters on loopback ports (a primary from `initdb`, and a replica of it from
//! `pg_basebackup -R`), so that the shared server's replication settings are left alone.
//! It needs PostgreSQL's server binaries, so it runs with the other PostgreSQL tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use commerce_core::account::{Address, Role};
use commerce_core::catalog::NewProduct;
use commerce_core::ports::{ProductQuery, ProductStore};
use commerce_core::service::{CartOwner, CheckoutRequest, ItemRequest};
use commerce_core::{Caller, Commerce};
use commerce_sqlx::{PgOptions, PgStore};
use rust_decimal::Decimal;

/// The directory of PostgreSQL's server binaries (`pg_ctl`, `initdb`, `pg_basebackup`).
fn bin_dir() -> PathBuf {
    let out = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .expect("pg_config (PostgreSQL's server package)");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a PostgreSQL tool, as the `postgres` user when this test runs as root (the server
/// refuses to run as root).
fn run_pg(tool: &str, args: &[&str]) -> std::io::Result<std::process::ExitStatus> {
    let path = bin_dir().join(tool);
    if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&path)
            .args(args)
            .status()
    } else {
        Command::new(&path).args(args).status()
    }
}

fn pg(tool: &str, args: &[&str]) {
    let status = run_pg(tool, args).unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(status.success(), "{tool} {args:?} failed");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A primary and its streaming replica, each in a directory of its own, stopped and
/// removed when dropped.
struct Pair {
    root: PathBuf,
    primary_port: u16,
    replica_port: u16,
}

impl Pair {
    fn start() -> Pair {
        let root = std::env::temp_dir().join(format!("commerce-replica-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&root).unwrap();
        if is_root() {
            let owned = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&root)
                .status()
                .unwrap();
            assert!(owned.success());
        }
        let (primary_port, replica_port) = (free_port(), free_port());
        let pair = Pair {
            root,
            primary_port,
            replica_port,
        };
        let primary = pair.dir("primary");
        pg(
            "initdb",
            &[
                "-D",
                &primary,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        );
        pair.configure("primary", primary_port);
        pg(
            "pg_ctl",
            &["-D", &primary, "-l", &pair.log("primary"), "-w", "start"],
        );
        let replica = pair.dir("replica");
        pg(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary_port.to_string(),
                "-U",
                "postgres",
                "-D",
                &replica,
                "-R",
                "--checkpoint=fast",
            ],
        );
        pair.configure("replica", replica_port);
        pg(
            "pg_ctl",
            &["-D", &replica, "-l", &pair.log("replica"), "-w", "start"],
        );
        pair
    }

    fn dir(&self, name: &str) -> String {
        self.root.join(name).display().to_string()
    }

    fn log(&self, name: &str) -> String {
        self.root.join(format!("{name}.log")).display().to_string()
    }

    /// Loopback only, on its own port, its socket in the pair's directory.
    fn configure(&self, name: &str, port: u16) {
        let conf = Path::new(&self.dir(name)).join("postgresql.auto.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap_or_default();
        text.push_str(&format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\nfsync = off\n",
            self.root.display()
        ));
        std::fs::write(&conf, text).unwrap();
    }

    fn primary_url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}",
            self.primary_port
        )
    }

    fn replica_url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}",
            self.replica_port
        )
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for name in ["replica", "primary"] {
            let dir = self.dir(name);
            let _ = run_pg("pg_ctl", &["-D", &dir, "-m", "immediate", "-w", "stop"]);
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

async fn sql(url: &str, statement: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

async fn listed_names(store: &PgStore) -> Vec<String> {
    store
        .list_products(&ProductQuery {
            page: commerce_core::ports::PageRequest::first(100),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|p| p.name)
        .collect()
}

/// Adds a product on the primary behind the store's back: triggers off (superuser), so no
/// process is told, and the store can only see it by reading where it was written.
async fn add_unannounced(url: &str, name: &str) {
    sql(
        url,
        &format!(
            "SET session_replication_role = replica;
             INSERT INTO products (id, name, name_key, slug, description, price, vendor_id, status,
                 inventory_count, low_stock_threshold, version, created_at, updated_at, search, currency)
             VALUES (gen_random_uuid(), '{name}', lower('{name}'), lower('{name}'), '', 1, gen_random_uuid(),
                 'active', 1, 0, 1, now(), now(), ''::tsvector, 'USD')"
        ),
    )
    .await;
}

/// Waits until the replica has replayed everything the primary wrote so far.
async fn caught_up(primary: &str, replica: &str) {
    use sqlx::Connection;
    let mut p = sqlx::PgConnection::connect(primary).await.unwrap();
    let target: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
        .fetch_one(&mut p)
        .await
        .unwrap();
    let mut r = sqlx::PgConnection::connect(replica).await.unwrap();
    let started = Instant::now();
    loop {
        let done: bool = sqlx::query_scalar("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
            .bind(&target)
            .fetch_one(&mut r)
            .await
            .unwrap();
        if done {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the replica does not catch up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_reads_come_from_the_replica_and_writes_never_go_there() {
    let pair = tokio::task::spawn_blocking(Pair::start).await.unwrap();
    sql(&pair.primary_url("postgres"), "CREATE DATABASE shop").await;
    // The store connects to the replica at once: it must have the database by then.
    caught_up(&pair.primary_url("postgres"), &pair.replica_url("postgres")).await;
    let (primary, replica) = (pair.primary_url("shop"), pair.replica_url("shop"));
    let store = PgStore::open(
        &primary,
        PgOptions {
            max_connections: 4,
            read_url: Some(replica.clone()),
            read_max_connections: 2,
            ..PgOptions::default()
        },
    )
    .await
    .unwrap();
    // The whole engine on it: every write below would fail on the read-only replica.
    let shop = Commerce::builder(Arc::new(store.clone()))
        .events(store.event_bus())
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
    let product = |name: &str| NewProduct {
        name: name.into(),
        price: Decimal::new(1000, 2),
        inventory_count: 5,
        ..Default::default()
    };
    shop.catalog()
        .create_product(&admin, product("Kettle"))
        .await
        .unwrap();
    caught_up(&primary, &replica).await;
    assert_eq!(listed_names(&store).await, vec!["Kettle"]);

    // Replay paused: what the primary has and the replica has not tells where reads go.
    sql(&replica, "SELECT pg_wal_replay_pause()").await;
    add_unannounced(&primary, "Hidden").await;
    assert_eq!(
        listed_names(&store).await,
        vec!["Kettle"],
        "a catalog read with nothing pending is served by the replica"
    );
    // This process's own write: read right after from the primary, not missing.
    shop.catalog()
        .create_product(&admin, product("Teapot"))
        .await
        .unwrap();
    let mut seen = listed_names(&store).await;
    seen.sort();
    assert_eq!(
        seen,
        vec!["Hidden", "Kettle", "Teapot"],
        "right after a write, catalog reads go to the primary"
    );

    // Replay again: once the replica has the write, reads go back to it.
    sql(&replica, "SELECT pg_wal_replay_resume()").await;
    caught_up(&primary, &replica).await;
    let back = Instant::now();
    loop {
        sql(&replica, "SELECT pg_wal_replay_pause()").await;
        add_unannounced(&primary, &format!("Later{}", back.elapsed().as_micros())).await;
        if listed_names(&store).await.len() == 3 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "reads never went back to the replica"
        );
        sql(&replica, "SELECT pg_wal_replay_resume()").await;
        caught_up(&primary, &replica).await;
    }

    // A whole checkout with the replica paused: it writes (a read-only replica would refuse
    // every write) and reads what it wrote, on the primary.
    let kettle = shop
        .catalog()
        .list_products(Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|p| p.name == "Kettle")
        .unwrap();
    let cart = shop
        .carts()
        .add_item(
            &CartOwner::Guest(None),
            ItemRequest {
                product_id: kettle.id,
                variant_id: None,
                quantity: 2,
            },
            None,
        )
        .await
        .unwrap();
    let owner = CartOwner::Guest(cart.new_guest_token.clone());
    let placed = shop
        .carts()
        .checkout(
            &Caller::Anonymous,
            &owner,
            CheckoutRequest {
                shipping_address: Some(Address {
                    full_name: Some("Ana Lima".into()),
                    line1: Some("1 Main St".into()),
                    city: Some("Austin".into()),
                    region: Some("TX".into()),
                    postal_code: Some("78701".into()),
                    country: "US".into(),
                    ..Default::default()
                }),
                email: Some("guest@example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(placed.order.lines[0].quantity, 2);
    let after = ProductStore::product(&store, kettle.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.inventory_count, kettle.inventory_count - 2);
    sql(&replica, "SELECT pg_wal_replay_resume()").await;
}
