//! Several real server processes (the bundled `examples/server`) on one PostgreSQL
//! database, driven over HTTP: what one changes the other reads, events cross between
//! processes, an idempotency key and the login throttle hold across them, and a database that
//! goes away (through a TCP proxy this test cuts and restores) is answered with 503s, then
//! recovered from without a restart. Needs `COMMERCE_TEST_DATABASE_URL`.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use commerce::events::DomainEvent;
use commerce::ports::EventBus;
use commerce::postgres::temporary::TemporaryDatabase;
use commerce::postgres::{PgOptions, PgStore};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use common::{comes_up, free_port, http_client, server_binary, webhook_receiver};

const ADMIN: &str = "admin@shop.test";
const PASSWORD: &str = "a-long-password";
const SECRET: &str = "a-secret-shared-by-every-server-of-the-shop";
/// The key sealing webhook secrets, shared by every server of the shop as the JWT secret is.
const WEBHOOK_KEY: &str = "7a1f0c2e9b8d4a6f3e5c7b9d1f2a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a";
const TEXAS: &str = r#"{"full_name": "Ana Lima", "line1": "1 Main St", "city": "Austin",
    "region": "TX", "postal_code": "78701", "country": "US"}"#;

fn server_url() -> String {
    std::env::var("COMMERCE_TEST_DATABASE_URL")
        .expect("COMMERCE_TEST_DATABASE_URL names a PostgreSQL server")
}

/// A server process this test started; stopped (by its id) when dropped.
struct ServerProcess {
    child: Child,
    base: String,
    data_dir: PathBuf,
}

impl ServerProcess {
    async fn start(database_url: &str, demo: bool) -> ServerProcess {
        Self::start_with(database_url, demo, &[]).await
    }

    async fn start_with(database_url: &str, demo: bool, extra: &[&str]) -> ServerProcess {
        let port = free_port();
        let data_dir = std::env::temp_dir().join(format!("commerce-proc-{}", uuid::Uuid::new_v4()));
        let mut command = Command::new(server_binary());
        command
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["--database-url", database_url, "--database-pool", "8"])
            .arg("--test-payments")
            .args(extra)
            .env("COMMERCE_JWT_SECRET", SECRET)
            .env("COMMERCE_WEBHOOK_KEY", WEBHOOK_KEY)
            .env("COMMERCE_ADMIN_EMAIL", ADMIN)
            .env("COMMERCE_ADMIN_PASSWORD", PASSWORD)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if demo {
            command.arg("--demo");
        }
        let child = command.spawn().expect("the server starts");
        let server = ServerProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data_dir,
        };
        if comes_up(&server.base).await {
            return server;
        }
        panic!("the server on port {port} did not come up");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// A reply read whole.
struct Reply {
    status: StatusCode,
    body: Value,
    cart_token: Option<String>,
}

async fn call(
    http: &reqwest::Client,
    method: Method,
    url: String,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let mut request = http.request(method, url).timeout(Duration::from_secs(20));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.expect("an answer, not a hang");
    let status = response.status();
    let cart_token = response
        .headers()
        .get("x-cart-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = response.text().await.expect("a body");
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        cart_token,
    }
}

async fn admin_token(http: &reqwest::Client, base: &str) -> String {
    let r = call(
        http,
        Method::POST,
        format!("{base}/api/auth/login"),
        None,
        &[],
        Some(json!({"email": ADMIN, "password": PASSWORD})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["access_token"].as_str().unwrap().to_string()
}

/// A guest cart holding one unit of `product`, with its delivery set.
async fn guest_cart(http: &reqwest::Client, base: &str, product: &str) -> String {
    let added = call(
        http,
        Method::POST,
        format!("{base}/api/cart/items"),
        None,
        &[],
        Some(json!({"product_id": product, "quantity": 1})),
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    added.cart_token.expect("a cart token")
}

fn checkout_body() -> Value {
    json!({"shipping_address": serde_json::from_str::<Value>(TEXAS).unwrap(),
        "email": "guest@example.com"})
}

async fn product_of(http: &reqwest::Client, base: &str, id: &str) -> Value {
    let r = call(
        http,
        Method::GET,
        format!("{base}/api/products/{id}"),
        None,
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_act_as_one_shop() {
    let db = TemporaryDatabase::empty(&server_url(), 24).await.unwrap();
    // Both start at once on an empty database: one migrates, the other waits for it.
    let (a, b) = tokio::join!(
        ServerProcess::start(db.url(), true),
        ServerProcess::start(db.url(), false)
    );
    let http = http_client();
    let admin = admin_token(&http, &a.base).await;

    // A change made through A is what B reads next, though B kept the page it served.
    let page = call(
        &http,
        Method::GET,
        format!("{}/api/products?limit=5", b.base),
        None,
        &[],
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let product = page.body["items"][0]["id"].as_str().unwrap().to_string();
    product_of(&http, &b.base, &product).await;
    let changed = call(
        &http,
        Method::PUT,
        format!("{}/api/products/{product}", a.base),
        Some(&admin),
        &[],
        // Stock well above its low-stock line, so that the sale below is an ordinary one.
        Some(json!({"price": "77.70", "inventory_count": 50})),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let written = Instant::now();
    loop {
        let seen = product_of(&http, &b.base, &product).await;
        if seen["price"]["amount"] == "77.70" {
            break;
        }
        assert!(
            written.elapsed() < Duration::from_secs(5),
            "B still serves the old price: {seen}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!(
        "a change through A was read through B after {:?}",
        written.elapsed()
    );
    let listed = call(
        &http,
        Method::GET,
        format!("{}/api/products?limit=5", b.base),
        None,
        &[],
        None,
    )
    .await;
    assert!(
        listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == product.as_str() && p["price"]["amount"] == "77.70"),
        "B's kept listing was dropped too: {}",
        listed.body
    );

    // The shop's settings too: renamed through A, named so by B.
    let renamed = call(
        &http,
        Method::PUT,
        format!("{}/api/admin/store", a.base),
        Some(&admin),
        &[],
        Some(json!({"name": "Two Servers"})),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    let written = Instant::now();
    loop {
        let store = call(
            &http,
            Method::GET,
            format!("{}/api/store", b.base),
            None,
            &[],
            None,
        )
        .await;
        if store.body["name"] == "Two Servers" {
            break;
        }
        assert!(written.elapsed() < Duration::from_secs(5), "{}", store.body);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }

    // An event published by B reaches a subscriber in another process (this test's).
    let watcher = PgStore::open(
        db.url(),
        PgOptions {
            max_connections: 2,
            ..PgOptions::default()
        },
    )
    .await
    .unwrap();
    let bus = watcher.event_bus();
    let mut events = bus.subscribe();
    // A keeps the product's page, with its stock, while B sells a unit of it.
    let stock_before = product_of(&http, &a.base, &product).await["inventory_count"]
        .as_i64()
        .unwrap();
    assert_eq!(stock_before, 50);
    let cart = guest_cart(&http, &b.base, &product).await;
    let placed = call(
        &http,
        Method::POST,
        format!("{}/api/cart/checkout", b.base),
        None,
        &[("X-Cart-Token", &cart)],
        Some(checkout_body()),
    )
    .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let order_id = placed.body["order"]["id"].as_str().unwrap().to_string();
    let arrived = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.recv().await {
                Ok(DomainEvent::OrderPlaced { order_id: id, .. }) if id.to_string() == order_id => {
                    return;
                }
                Ok(_) => {}
                Err(e) => panic!("the subscription ended: {e}"),
            }
        }
    })
    .await;
    assert!(
        arrived.is_ok(),
        "B's OrderPlaced never reached this process"
    );
    // The sale went the placement's one way, which tells other processes of it after its
    // commit rather than from the catalog trigger (migration 0017): A drops the page it kept.
    let sold = Instant::now();
    loop {
        let seen = product_of(&http, &a.base, &product).await;
        if seen["inventory_count"].as_i64() == Some(stock_before - 1) {
            break;
        }
        assert!(
            sold.elapsed() < Duration::from_secs(5),
            "A still shows the stock from before B's sale ({stock_before}): {seen}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!(
        "a sale through B was seen through A after {:?}",
        sold.elapsed()
    );

    // A watcher of the order on B sees a change made through A, within a second.
    let mut stream = http
        .get(format!("{}/api/orders/{order_id}/events", b.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut seen = String::new();
    while !seen.contains("\"pending\"") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
            .await
            .expect("the current status")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let cancelled = call(
        &http,
        Method::PUT,
        format!("{}/api/admin/orders/{order_id}/status", a.base),
        Some(&admin),
        &[],
        Some(json!({"status": "cancelled"})),
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let changed = Instant::now();
    while !seen.contains("\"cancelled\"") {
        let chunk = tokio::time::timeout(Duration::from_secs(1), stream.chunk())
            .await
            .expect("the change reached B's stream within a second")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    eprintln!(
        "a status change through A reached B's stream after {:?}",
        changed.elapsed()
    );
    assert!(seen.contains("id: 2"), "{seen}");
    drop(stream);

    // One Idempotency-Key sent to both at once: one order, and both answers tell of it.
    let cart = guest_cart(&http, &a.base, &product).await;
    let key = uuid::Uuid::new_v4().to_string();
    let headers = [
        ("X-Cart-Token", cart.as_str()),
        ("Idempotency-Key", key.as_str()),
    ];
    let (first, second) = tokio::join!(
        call(
            &http,
            Method::POST,
            format!("{}/api/cart/checkout", a.base),
            None,
            &headers,
            Some(checkout_body())
        ),
        call(
            &http,
            Method::POST,
            format!("{}/api/cart/checkout", b.base),
            None,
            &headers,
            Some(checkout_body())
        ),
    );
    let mut orders = Vec::new();
    for r in [&first, &second] {
        match r.status {
            StatusCode::CREATED => orders.push(r.body["order"]["id"].clone()),
            StatusCode::CONFLICT => {
                assert_eq!(r.body["code"], "idempotency_key_in_use", "{}", r.body)
            }
            other => panic!("{other}: {}", r.body),
        }
    }
    orders.dedup();
    assert_eq!(orders.len(), 1, "one order for one key: {orders:?}");
    let retried = call(
        &http,
        Method::POST,
        format!("{}/api/cart/checkout", b.base),
        None,
        &headers,
        Some(checkout_body()),
    )
    .await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.body);
    assert_eq!(
        retried.body["order"]["id"], orders[0],
        "the retry is the first answer"
    );

    // Failed logins count across both servers: ten spread over them, then 429 on either.
    for i in 0..10 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let r = call(
            &http,
            Method::POST,
            format!("{base}/api/auth/login"),
            None,
            &[],
            Some(json!({"email": "target@example.com", "password": "wrong-password"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    }
    for base in [&a.base, &b.base] {
        let r = call(
            &http,
            Method::POST,
            format!("{base}/api/auth/login"),
            None,
            &[],
            Some(json!({"email": "target@example.com", "password": "wrong-password"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    }
}

/// A TCP proxy on 127.0.0.1 in front of the database that can be cut (every connection
/// through it closed, new ones closed at once) and restored.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    /// Bumped on every cut, so that open connections notice and close.
    epoch: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    async fn start(upstream: std::net::SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let (epoch, _) = tokio::sync::watch::channel(0u64);
        let (flag, epochs) = (cut.clone(), epoch.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if flag.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cuts = epochs.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Proxy { port, cut, epoch }
    }

    /// A proxy in front of the database `url` names, and the URL that goes through it.
    async fn in_front_of(url: &str) -> (Proxy, String) {
        let mut url = reqwest::Url::parse(url).unwrap();
        let upstream = std::net::SocketAddr::new(
            url.host_str().unwrap().parse().unwrap(),
            url.port().unwrap_or(5432),
        );
        let proxy = Proxy::start(upstream).await;
        url.set_port(Some(proxy.port)).unwrap();
        (proxy, url.to_string())
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.epoch.send_modify(|e| *e += 1);
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_is_503_and_the_server_recovers_by_itself() {
    let db = TemporaryDatabase::create(&server_url(), 12).await.unwrap();
    let (proxy, through) = Proxy::in_front_of(db.url()).await;
    let server = ServerProcess::start(&through, false).await;
    let http = http_client();
    let admin = admin_token(&http, &server.base).await;
    let created = call(
        &http,
        Method::POST,
        format!("{}/api/products", server.base),
        Some(&admin),
        &[],
        Some(json!({"name": "Lamp", "description": "A lamp", "price": "30.00", "inventory_count": 5})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let lamp = created.body["id"].as_str().unwrap().to_string();
    let cart = guest_cart(&http, &server.base, &lamp).await;

    proxy.cut();
    // Reads and writes that need the database: 503 storage_unavailable, in bounded time.
    for _ in 0..3 {
        let r = call(
            &http,
            Method::GET,
            format!("{}/api/cart", server.base),
            None,
            &[("X-Cart-Token", &cart)],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
        assert_eq!(r.body["code"], "storage_unavailable", "{}", r.body);
    }
    let refused = call(
        &http,
        Method::POST,
        format!("{}/api/cart/checkout", server.base),
        None,
        &[("X-Cart-Token", &cart)],
        Some(checkout_body()),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    let ready = call(
        &http,
        Method::GET,
        format!("{}/ready", server.base),
        None,
        &[],
        None,
    )
    .await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);

    proxy.restore();
    let back = Instant::now();
    loop {
        let r = call(
            &http,
            Method::GET,
            format!("{}/api/cart", server.base),
            None,
            &[("X-Cart-Token", &cart)],
            None,
        )
        .await;
        if r.status == StatusCode::OK {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(20),
            "not recovered: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "serving again {:?} after the database came back",
        back.elapsed()
    );
    // Nothing of the refused checkout was written: the stock is whole, the cart still full,
    // and checking out now works.
    let product = product_of(&http, &server.base, &lamp).await;
    assert_eq!(product["inventory_count"], 5, "{product}");
    let placed = call(
        &http,
        Method::POST,
        format!("{}/api/cart/checkout", server.base),
        None,
        &[("X-Cart-Token", &cart)],
        Some(checkout_body()),
    )
    .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let product = product_of(&http, &server.base, &lamp).await;
    assert_eq!(product["inventory_count"], 4, "{product}");
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_are_told_when_the_bus_may_have_missed_events() {
    let db = TemporaryDatabase::create(&server_url(), 6).await.unwrap();
    let (proxy, through) = Proxy::in_front_of(db.url()).await;
    let options = PgOptions {
        max_connections: 2,
        ..PgOptions::default()
    };
    let store = PgStore::open(&through, options).await.unwrap();
    let bus = store.event_bus();
    let mut events = bus.subscribe();
    use commerce::ports::ProductStore;
    assert!(store.catalog_generation().await.unwrap().is_some());
    let before = store.catalog_generation().await.unwrap();

    proxy.cut();
    // While nothing can be heard from other processes, nothing may be kept.
    let deaf = Instant::now();
    while store.catalog_generation().await.unwrap().is_some() {
        assert!(
            deaf.elapsed() < Duration::from_secs(5),
            "the lost connection went unnoticed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    proxy.restore();
    let told = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(DomainEvent::EventsMissed { .. }) = events.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(
        told.is_ok(),
        "no EventsMissed after the connection came back"
    );
    let after = store.catalog_generation().await.unwrap();
    assert!(
        after.is_some() && after != before,
        "what was kept before is dropped"
    );
}

/// The API of a shop on its own store (its own connections and listener, as a process has).
async fn api_on(database_url: &str, config: commerce::http::ApiConfig) -> String {
    let store = PgStore::open(
        database_url,
        PgOptions {
            max_connections: 2,
            ..PgOptions::default()
        },
    )
    .await
    .unwrap();
    let shop = commerce::Commerce::builder(Arc::new(store.clone()))
        .events(store.event_bus())
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(commerce::http::serve::serve(
        listener,
        commerce::http::routes(shop, config),
        std::future::pending(),
        Duration::ZERO,
    ));
    format!("http://{addr}")
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_spread_over_two_servers_gets_the_rate_once() {
    let db = TemporaryDatabase::create(&server_url(), 8).await.unwrap();
    // 20 requests a second, no burst; loopback counted like any address.
    let config = commerce::http::ApiConfig {
        clients: commerce::http::limits::ClientLimits {
            per_second: 20,
            burst: 0,
            exempt_loopback: false,
        },
        ..Default::default()
    };
    let a = api_on(db.url(), config.clone()).await;
    let b = api_on(db.url(), config).await;
    let http = http_client();
    // Two seconds of a request every 10 ms, alternately to each: 100 a second in all. Each
    // server alone would let in 20 a second of its 50; together they must let in 20 of 100.
    let started = Instant::now();
    let mut admitted = 0;
    let mut sent = 0;
    while started.elapsed() < Duration::from_secs(2) {
        let base = if sent % 2 == 0 { &a } else { &b };
        let r = http.get(format!("{base}/health")).send().await.unwrap();
        match r.status() {
            StatusCode::OK => admitted += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("{other}"),
        }
        sent += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!("{admitted} of {sent} let in over two seconds");
    assert!(
        (25..=50).contains(&admitted),
        "about 40 (20 a second) should pass, not 80 (20 a second each): {admitted} of {sent}"
    );
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[test]
fn a_server_whose_database_cannot_be_reached_says_so_and_exits() {
    let data_dir = std::env::temp_dir().join(format!("commerce-proc-{}", uuid::Uuid::new_v4()));
    // Nothing listens on port 1 of loopback.
    let out = Command::new(server_binary())
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["--bind", "127.0.0.1:0"])
        .args(["--database-url", "postgres://shop:s3cret@127.0.0.1:1/shop"])
        .arg("--test-payments")
        .output()
        .expect("the server runs");
    let _ = std::fs::remove_dir_all(&data_dir);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("cannot reach PostgreSQL at"), "{said}");
    assert!(said.contains("127.0.0.1:1"), "{said}");
    assert!(
        !said.contains("s3cret"),
        "the password is not shown: {said}"
    );
}

/// Two servers sweep one database: each unpaid order is cancelled once (one `cancelled` in its
/// history) and its units come back once, though both sweepers see it.
#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_expire_each_unpaid_order_once() {
    let db = TemporaryDatabase::empty(&server_url(), 24).await.unwrap();
    let a = ServerProcess::start_with(db.url(), true, &["--unpaid-order-timeout", "2s"]).await;
    let b = ServerProcess::start_with(db.url(), false, &["--unpaid-order-timeout", "2s"]).await;
    let http = http_client();
    let admin = admin_token(&http, &a.base).await;
    let page = call(
        &http,
        Method::GET,
        format!("{}/api/products?limit=50", a.base),
        None,
        &[],
        None,
    )
    .await;
    let product = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["inventory_count"].as_u64().unwrap_or(0) >= 20
                && p["variants"].as_array().is_none_or(Vec::is_empty)
        })
        .expect("a demo product with stock")
        .clone();
    let id = product["id"].as_str().unwrap().to_string();
    let stock = product["inventory_count"].as_u64().unwrap();
    let mut orders = Vec::new();
    for i in 0..20 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let mut body = checkout_body();
        body["items"] = json!([{"product_id": id, "quantity": 1}]);
        let placed = call(
            &http,
            Method::POST,
            format!("{base}/api/orders"),
            None,
            &[],
            Some(body),
        )
        .await;
        assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
        orders.push(placed.body["id"].as_str().unwrap().to_string());
    }
    assert_eq!(
        product_of(&http, &b.base, &id).await["inventory_count"],
        stock - 20
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pending = call(
            &http,
            Method::GET,
            format!("{}/api/admin/orders?status=pending&limit=100", b.base),
            Some(&admin),
            &[],
            None,
        )
        .await;
        if pending.body["items"].as_array().is_some_and(Vec::is_empty) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "orders still pending: {}",
            pending.body
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for order in &orders {
        let read = call(
            &http,
            Method::GET,
            format!("{}/api/orders/{order}", a.base),
            Some(&admin),
            &[],
            None,
        )
        .await;
        let history = read.body["status_history"].as_array().unwrap();
        let cancelled: Vec<&Value> = history
            .iter()
            .filter(|c| c["status"] == "cancelled")
            .collect();
        assert_eq!(cancelled.len(), 1, "{}", read.body);
        assert_eq!(cancelled[0]["reason"], "payment_timeout");
    }
    assert_eq!(
        product_of(&http, &a.base, &id).await["inventory_count"],
        stock,
        "every unit back, once"
    );
}

/// Two servers relay one outbox: with every attempt answered, each event reaches each
/// endpoint exactly once (counted at the receiver over a few thousand deliveries), though
/// both relays dispatch and lease all the time.
#[cfg_attr(
    not(postgres_tests),
    ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_deliver_each_webhook_event_once_per_endpoint() {
    const ORDERS: usize = 1_200;
    let db = TemporaryDatabase::empty(&server_url(), 24).await.unwrap();
    let flags = ["--webhooks-allow-private"];
    let a = ServerProcess::start_with(db.url(), false, &flags).await;
    let b = ServerProcess::start_with(db.url(), false, &flags).await;
    let http = http_client();
    let admin = admin_token(&http, &a.base).await;
    let port = free_port();
    let got = webhook_receiver(port).await;
    for (server, path) in [(&a, "one"), (&b, "two")] {
        let created = call(
            &http,
            Method::POST,
            format!("{}/api/admin/webhooks", server.base),
            Some(&admin),
            &[],
            Some(json!({"url": format!("http://127.0.0.1:{port}/{path}"), "events": ["order.created"]})),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    let product = call(
        &http,
        Method::POST,
        format!("{}/api/products", a.base),
        Some(&admin),
        &[],
        Some(json!({"name": "Bulk tea", "price": "4.00", "inventory_count": ORDERS + 10})),
    )
    .await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.body);
    let id = product.body["id"].as_str().unwrap().to_string();
    // Orders from 16 clients at once, spread over both servers.
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..16 {
        let http = http.clone();
        let bases = [a.base.clone(), b.base.clone()];
        let id = id.clone();
        clients.spawn(async move {
            let mut numbers = Vec::new();
            for n in (client..ORDERS).step_by(16) {
                let mut body = checkout_body();
                body["items"] = json!([{"product_id": id, "quantity": 1}]);
                let placed = call(
                    &http,
                    Method::POST,
                    format!("{}/api/orders", bases[n % 2]),
                    None,
                    &[],
                    Some(body),
                )
                .await;
                assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
                numbers.push(placed.body["number"].as_str().unwrap().to_string());
            }
            numbers
        });
    }
    let mut numbers = Vec::new();
    while let Some(done) = clients.join_next().await {
        numbers.extend(done.unwrap());
    }
    assert_eq!(numbers.len(), ORDERS);
    // Every delivery in, then a while longer for any second one.
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.lock().unwrap().len() < 2 * ORDERS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = got.lock().unwrap().clone();
    for path in ["/one", "/two"] {
        let mut ids: Vec<&str> = got
            .iter()
            .filter(|d| d.path == path)
            .map(|d| d.id.as_str())
            .collect();
        let all = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            all,
            ids.len(),
            "{path}: {} deliveries twice",
            all - ids.len()
        );
        assert_eq!(ids.len(), ORDERS, "{path}: every event once");
    }
    let mut delivered: Vec<String> = got
        .iter()
        .filter(|d| d.path == "/one")
        .map(|d| {
            let body: Value = serde_json::from_slice(&d.body).unwrap();
            body["data"]["number"].as_str().unwrap().to_string()
        })
        .collect();
    delivered.sort();
    numbers.sort();
    assert_eq!(delivered, numbers);
}
