//! How many round trips to PostgreSQL a cart write and a checkout make, counted on the wire:
//! the store talks to the server through a proxy on loopback that reads the client's side of
//! the protocol. Each `Sync` (the end of an extended-protocol exchange: parse, bind, execute)
//! and each simple `Query` is one wait for the server, so one round trip. The bounds hold
//! what was measured, so a change that adds round trips shows here; `cargo test -p
//! commerce-sqlx --test round_trips -- --nocapture` prints each round trip's statements.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use commerce_core::account::{Address, Role};
use commerce_core::catalog::NewProduct;
use commerce_core::service::{CartOwner, CheckoutRequest, DirectOrder, EngineConfig, ItemRequest};
use commerce_core::{Caller, Commerce};
use commerce_sqlx::temporary::TemporaryDatabase;
use commerce_sqlx::{PgOptions, PgStore};
use rust_decimal::Decimal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy saw: per round trip, the statements it ran.
#[derive(Default)]
struct Wire {
    round_trips: Vec<Trip>,
}

/// One exchange that waits for the server.
struct Trip {
    statements: Vec<String>,
    /// Its messages' types (`PDS`: prepare; `BECS`: run a prepared statement; `S`: ping).
    kinds: String,
}

/// Reads the client's messages of one connection as they pass.
#[derive(Default)]
struct ClientSide {
    buffer: Vec<u8>,
    started: bool,
    /// This connection's prepared statements: their names and SQL, from `Parse` messages.
    statements: HashMap<String, String>,
    pending: Vec<String>,
    /// The message types of the exchange so far (`PBES`), for one that ran no statement.
    kinds: String,
}

impl ClientSide {
    fn feed(&mut self, bytes: &[u8], wire: &Mutex<Wire>) {
        self.buffer.extend_from_slice(bytes);
        loop {
            if !self.started {
                // SSLRequest, GSSENCRequest or the StartupMessage: a length, no type byte.
                if self.buffer.len() < 8 {
                    return;
                }
                let len = u32::from_be_bytes(self.buffer[0..4].try_into().unwrap()) as usize;
                if self.buffer.len() < len {
                    return;
                }
                let code = u32::from_be_bytes(self.buffer[4..8].try_into().unwrap());
                // 3.0 is the startup message itself; the others are requests before it.
                if code == 196_608 {
                    self.started = true;
                }
                self.buffer.drain(..len);
                continue;
            }
            if self.buffer.len() < 5 {
                return;
            }
            let kind = self.buffer[0];
            let len = u32::from_be_bytes(self.buffer[1..5].try_into().unwrap()) as usize;
            if self.buffer.len() < len + 1 {
                return;
            }
            let body = self.buffer[5..len + 1].to_vec();
            self.buffer.drain(..len + 1);
            let text = |at: usize| -> (String, usize) {
                let end = body[at..].iter().position(|b| *b == 0).unwrap_or(0) + at;
                (
                    String::from_utf8_lossy(&body[at..end]).into_owned(),
                    end + 1,
                )
            };
            self.kinds.push(kind as char);
            match kind {
                b'P' => {
                    let (name, next) = text(0);
                    let (sql, _) = text(next);
                    let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
                    self.statements.insert(name, sql.clone());
                    self.pending.push(sql);
                }
                b'B' => {
                    let (_portal, next) = text(0);
                    let (name, _) = text(next);
                    let sql = self.statements.get(&name).cloned().unwrap_or(name);
                    // A statement parsed in this exchange is already listed.
                    if self.pending.last() != Some(&sql) {
                        self.pending.push(sql);
                    }
                }
                b'Q' => {
                    let (sql, _) = text(0);
                    self.pending
                        .push(sql.split_whitespace().collect::<Vec<_>>().join(" "));
                    self.end_of_exchange(wire);
                }
                b'S' => self.end_of_exchange(wire),
                _ => {}
            }
        }
    }
}

impl ClientSide {
    fn end_of_exchange(&mut self, wire: &Mutex<Wire>) {
        let trip = Trip {
            statements: std::mem::take(&mut self.pending),
            kinds: std::mem::take(&mut self.kinds),
        };
        wire.lock().unwrap().round_trips.push(trip);
    }
}

/// A proxy on `listener` (127.0.0.1) to `upstream`, counting what each client sends. Stops
/// with the test.
fn counting_proxy(listener: TcpListener, upstream: String, wire: Arc<Mutex<Wire>>) {
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                continue;
            };
            let wire = wire.clone();
            tokio::spawn(async move {
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let upward = async move {
                    let mut side = ClientSide::default();
                    let mut chunk = vec![0u8; 64 * 1024];
                    while let Ok(n) = client_read.read(&mut chunk).await {
                        if n == 0 {
                            break;
                        }
                        side.feed(&chunk[..n], &wire);
                        if server_write.write_all(&chunk[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = server_write.shutdown().await;
                };
                let downward = async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                    let _ = client_write.shutdown().await;
                };
                tokio::join!(upward, downward);
            });
        }
    });
}

/// The server `url` names (`host:port`), and `url` with its host and port replaced by the
/// proxy's and TLS off (the proxy reads the protocol in the clear; it is loopback).
fn through_proxy(url: &str, port: u16) -> (String, String) {
    let rest = url.strip_prefix("postgres://").unwrap_or(url);
    let (credentials, after) = match rest.split_once('@') {
        Some((c, a)) => (format!("{c}@"), a),
        None => (String::new(), rest),
    };
    let (host_port, path) = after.split_once('/').unwrap_or((after, ""));
    let upstream = if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    };
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    (
        upstream,
        format!("postgres://{credentials}127.0.0.1:{port}/{path}?sslmode=disable"),
    )
}

fn address() -> Address {
    Address {
        full_name: Some("Ana Lima".into()),
        line1: Some("1 Main St".into()),
        city: Some("Austin".into()),
        region: Some("TX".into()),
        postal_code: Some("78701".into()),
        country: "US".into(),
        ..Default::default()
    }
}

/// Waits until nothing has crossed the wire for 150 ms (at most 5 s).
async fn quiet(wire: &Mutex<Wire>) {
    let seen = || wire.lock().unwrap().round_trips.len();
    for _ in 0..33 {
        let before = seen();
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        if seen() == before {
            return;
        }
    }
}

/// Runs `f` and returns the round trips it made, printed under `what`, and their statements'
/// SQL. sqlx pings each
/// connection as it goes back to the pool (a lone `Sync`, in a task of its own after the
/// caller has its answer): those are printed and counted apart, not in the request's.
async fn counted<T>(
    wire: &Mutex<Wire>,
    what: &str,
    f: impl std::future::Future<Output = T>,
) -> (T, usize, usize, Vec<String>) {
    // What earlier requests still send (a release ping, the event relay's notify and the
    // ping when its queue is empty) is let through first: on a loaded machine it came after
    // a fixed 100 ms wait, inside the next request's count.
    quiet(wire).await;
    wire.lock().unwrap().round_trips.clear();
    let out = f.await;
    // The release pings of the last connections used come just after the answer.
    quiet(wire).await;
    let trips = std::mem::take(&mut wire.lock().unwrap().round_trips);
    let ping = |t: &Trip| t.statements.is_empty() && t.kinds == "S";
    // Preparing a statement happens once per pooled connection, not per request.
    let prepare = |t: &Trip| t.kinds.contains('P') && !t.kinds.contains('E');
    // Events go to other processes from a task of their own (`changes::send_events`).
    let relay = |t: &Trip| {
        t.statements
            .iter()
            .all(|s| s.starts_with("SELECT pg_notify"))
    };
    // A connection the pool or a writer (`gathered`) opens meanwhile is set up once.
    let connect = |t: &Trip| {
        t.statements
            .iter()
            .all(|s| s.starts_with("SET ") || s.starts_with("SELECT set_config('commerce.origin'"))
    };
    let own: Vec<&Trip> = trips
        .iter()
        .filter(|t| !ping(t) && !prepare(t) && !relay(t) && !connect(t))
        .collect();
    println!(
        "{what}: {} round trips (besides: {} release pings, {} prepares, {} event relays, {} connection setups)",
        own.len(),
        trips.iter().filter(|t| ping(t)).count(),
        trips.iter().filter(|t| prepare(t)).count(),
        trips.iter().filter(|t| !ping(t) && relay(t)).count(),
        trips.iter().filter(|t| !ping(t) && connect(t)).count(),
    );
    for trip in &own {
        println!("  {}", trip.statements.join(" ; "));
    }
    let pings = trips.iter().filter(|t| ping(t)).count();
    let statements = own.iter().flat_map(|t| t.statements.clone()).collect();
    (out, own.len(), pings, statements)
}

/// The plan PostgreSQL keeps for `sql` once it plans it generically (as it does for the hot
/// path's statements), on a connection of its own: what the store's connections run.
async fn generic_plan(url: &str, sql: &str) -> String {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let parameters = (1..=99)
        .take_while(|n| sql.contains(&format!("${n}")))
        .count();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET plan_cache_mode = force_generic_plan; PREPARE planned AS {sql}"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    let nulls = vec!["NULL"; parameters].join(", ");
    let execute = if parameters == 0 {
        "EXPLAIN EXECUTE planned".to_string()
    } else {
        format!("EXPLAIN EXECUTE planned({nulls})")
    };
    let plan: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(execute))
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>(0))
        .collect();
    plan.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
async fn round_trips_per_cart_write_and_checkout() {
    let url = std::env::var("COMMERCE_TEST_DATABASE_URL").expect("COMMERCE_TEST_DATABASE_URL");
    let options = PgOptions {
        max_connections: 4,
        ..Default::default()
    };
    let database = TemporaryDatabase::create(&url, options.max_connections + 5)
        .await
        .unwrap();
    let wire = Arc::new(Mutex::new(Wire::default()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (upstream, proxied) = through_proxy(database.url(), listener.local_addr().unwrap().port());
    counting_proxy(listener, upstream, wire.clone());
    let store = PgStore::open(&proxied, options).await.unwrap();
    // Kept for the whole test, however slow the machine: what is counted is the requests'
    // own round trips, not the refresh of what is kept.
    let shop = Commerce::builder(Arc::new(store.clone()))
        .events(store.event_bus())
        .config(EngineConfig {
            settings_ttl: std::time::Duration::from_secs(3600),
            ..EngineConfig::default()
        })
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
    let mut products = Vec::new();
    for name in ["Mug", "Lamp"] {
        let p = shop
            .catalog()
            .create_product(
                &admin,
                NewProduct {
                    name: name.into(),
                    price: Decimal::new(1250, 2),
                    inventory_count: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        products.push(p.id);
    }
    shop.admin()
        .save_tax_rate(&admin, None, "US", Some("TX"), Decimal::new(825, 4))
        .await
        .unwrap();
    shop.admin()
        .save_shipping_method(&admin, None, "Post", Decimal::new(400, 2), None, true)
        .await
        .unwrap();
    let carts = shop.carts();
    let item = |i: usize| ItemRequest {
        product_id: products[i],
        variant_id: None,
        quantity: 2,
    };
    let checkout = || CheckoutRequest {
        shipping_address: Some(address()),
        email: Some("guest@example.com".into()),
        ..Default::default()
    };
    // Once through, so that what is kept between requests (the shop's setup, prepared
    // statements on the pooled connections) is kept.
    for _ in 0..4 {
        let warm = carts
            .add_item(&CartOwner::Guest(None), item(0), None)
            .await
            .unwrap();
        let warm = CartOwner::Guest(warm.new_guest_token);
        carts.add_item(&warm, item(1), None).await.unwrap();
        carts
            .checkout(&Caller::Anonymous, &warm, checkout())
            .await
            .unwrap();
    }

    let (first, new_cart, new_cart_pings, mut statements) = counted(
        &wire,
        "add to a new guest cart",
        carts.add_item(&CartOwner::Guest(None), item(0), None),
    )
    .await;
    let guest = CartOwner::Guest(first.unwrap().new_guest_token);
    let (_, add, add_pings, more) = counted(
        &wire,
        "add to a guest cart",
        carts.add_item(&guest, item(1), None),
    )
    .await;
    statements.extend(more);
    let (done, cart_checkout, cart_checkout_pings, more) = counted(
        &wire,
        "check a guest cart (2 lines) out",
        carts.checkout(&Caller::Anonymous, &guest, checkout()),
    )
    .await;
    statements.extend(more);
    assert_eq!(done.unwrap().order.lines.len(), 2);
    let (_, direct, direct_pings, more) = counted(
        &wire,
        "a direct guest order (2 lines)",
        shop.orders().create(
            &Caller::Anonymous,
            DirectOrder {
                items: vec![item(0), item(1)],
                shipping_address: Some(address()),
                email: Some("guest@example.com".into()),
                ..Default::default()
            },
        ),
    )
    .await;
    statements.extend(more);

    // What was measured (2026-12-06): with checkout's write as a transaction of one
    // statement per step, 3, 4, 14 and 10; with it one call of `commerce_place_order`
    // (migration 0012), 3, 4, 5 and 3; with the automatic promotions kept with the shop's
    // setup (a cart without codes reads none), 2, 3, 4 and 2. The cart and its products
    // read in one statement gave 2, 2, 3 and 2 but fewer requests a second (PostgreSQL's
    // CPU is the limit here, and that statement cost it more than the round trip it saved;
    // README), so it was not kept. Lower them as round trips go.
    assert!(new_cart <= 2, "add to a new cart: {new_cart}");
    assert!(add <= 2, "add to a cart: {add}");
    assert!(cart_checkout <= 3, "cart checkout: {cart_checkout}");
    assert!(direct <= 2, "direct order: {direct}");
    // sqlx pings a connection when it goes back to its pool; the hot paths keep theirs
    // (`connections.rs`), so a cart write makes none. An order's events go to other
    // processes on a connection that goes back when the relay's queue is empty: one ping.
    assert_eq!(new_cart_pings, 0, "pings after adding to a new cart");
    assert_eq!(add_pings, 0, "pings after adding to a cart");
    assert!(
        cart_checkout_pings <= 1,
        "pings after a checkout: {cart_checkout_pings}"
    );
    assert!(
        direct_pings <= 1,
        "pings after a direct order: {direct_pings}"
    );

    // No statement of these reads every product: on a new shop's database (small tables, no
    // statistics yet) `p.id = ANY($1)` was a scan of the whole products table per add to cart
    // and per order. Each statement that reads products is planned here as the store's
    // connections keep it, generically.
    let mut planned = 0;
    for sql in statements.iter().filter(|s| s.contains("products")) {
        let plan = generic_plan(database.url(), sql).await;
        assert!(
            !plan.contains("Seq Scan on products"),
            "a scan of every product:\n{sql}\n{plan}"
        );
        planned += 1;
    }
    assert!(
        planned >= 2,
        "the cart's and the order's product reads: {planned}"
    );
    drop(shop);
    drop(store);
    drop(database);
}
