//! The bundled server run as a process on SQLite (no PostgreSQL needed), as an operator meets
//! it: its log read from standard error (one JSON line per request with its id, status and
//! client, and security events, never a password, token or secret), its refusal to start
//! without a payment provider, its sweeper expiring unpaid orders, and webhooks committed
//! before a crash delivered after the restart.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::{comes_up, free_port, http_client, server_binary, webhook_receiver};

const ADMIN: &str = "admin@shop.test";
const PASSWORD: &str = "a-long-password";
const SECRET: &str = "a-secret-that-signs-every-token-of-the-shop";
const STRIPE_KEY: &str = "sk_test_never_in_a_log";
const STRIPE_WEBHOOK_SECRET: &str = "whsec_never_in_a_log";

/// A server this test started, its log collected line by line; stopped (by its id) when
/// dropped.
struct Logged {
    child: Child,
    base: String,
    data_dir: PathBuf,
    lines: Arc<Mutex<Vec<String>>>,
    /// The data directory outlives this process (a restart uses it).
    keep_data: bool,
}

impl Logged {
    /// Signs in through the API: the status, and the tokens when it was 200.
    async fn login(&self, http: &reqwest::Client, password: &str) -> (u16, Value) {
        let r = http
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({"email": ADMIN, "password": password}))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn start(extra: &[&str]) -> Logged {
        let data_dir = std::env::temp_dir().join(format!("commerce-logs-{}", uuid::Uuid::new_v4()));
        Logged::start_in(data_dir, extra).await
    }

    async fn start_in(data_dir: PathBuf, extra: &[&str]) -> Logged {
        let port = free_port();
        let mut child = Command::new(server_binary())
            .args(["--bind", &format!("127.0.0.1:{port}"), "--test-payments"])
            .args(if extra.contains(&"--log-format") {
                &[][..]
            } else {
                &["--log-format", "json"][..]
            })
            .args(extra)
            .arg("--data-dir")
            .arg(&data_dir)
            .env("COMMERCE_JWT_SECRET", SECRET)
            .env("COMMERCE_ADMIN_EMAIL", ADMIN)
            .env("COMMERCE_ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("its standard error");
        let kept = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        let server = Logged {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data_dir,
            lines,
            keep_data: false,
        };
        if comes_up(&server.base).await {
            return server;
        }
        panic!(
            "the server did not come up: {:?}",
            server.lines.lock().unwrap()
        );
    }

    /// The JSON lines logged so far that `pick` chooses, waiting up to 5 s for at least `n`.
    async fn wait_for(&self, n: usize, pick: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found: Vec<Value> = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|v| pick(v))
                .collect();
            if found.len() >= n || Instant::now() > deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A demo product without variants with more than `units` in stock.
    async fn demo_product_with_more_than(&self, http: &reqwest::Client, units: u64) -> Value {
        let page: Value = http
            .get(format!("{}/api/products?limit=50", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| {
                p["inventory_count"].as_u64().unwrap_or(0) > units
                    && p["variants"].as_array().is_none_or(Vec::is_empty)
            })
            .expect("a demo product in stock")
            .clone()
    }

    /// A guest's direct order of one unit of `product`, shipped to Texas: the answer.
    async fn guest_order(&self, http: &reqwest::Client, product: &str) -> Value {
        http.post(format!("{}/api/orders", self.base))
            .json(&json!({
                "items": [{"product_id": product, "quantity": 1}],
                "email": "guest@example.com",
                "shipping_address": {"line1": "1 Main St", "city": "Austin", "region": "TX",
                                      "postal_code": "78701", "country": "US"}
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn all_text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.keep_data {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

#[tokio::test]
async fn each_request_is_one_json_line_and_security_events_never_show_secrets() {
    // Stripe set up (its API never called here), so that its webhook endpoint listens.
    let server = Logged::start(&[
        "--trusted-proxies",
        "127.0.0.1/32",
        "--stripe-secret-key",
        STRIPE_KEY,
        "--stripe-webhook-secret",
        STRIPE_WEBHOOK_SECRET,
        "--stripe-api-base",
        "http://127.0.0.1:1",
    ])
    .await;
    let http = http_client();
    let url = |p: &str| format!("{}{p}", server.base);

    // A request through a trusted proxy: the line names the client it forwarded for.
    let r = http
        .get(url("/api/products?limit=1"))
        .header("x-request-id", "req-from-the-client-1")
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "req-from-the-client-1");

    // A wrong password, then the right one: both told, neither password shown.
    let wrong = "wrong-password-never-logged";
    assert_eq!(server.login(&http, wrong).await.0, 401);
    let (status, tokens) = server.login(&http, PASSWORD).await;
    assert_eq!(status, 200);
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let r = http
        .get(url("/api/users/profile"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();

    // A webhook that is not the provider's.
    let r = http
        .post(url("/api/webhooks/stripe"))
        .header("stripe-signature", "t=1,v1=00")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let requests = server
        .wait_for(5, |v| v["target"] == "commerce_http::request")
        .await;
    assert!(requests.len() >= 5, "{}", server.all_text());
    let first = requests
        .iter()
        .find(|v| v["request_id"] == "req-from-the-client-1")
        .expect("the line of the first request");
    assert_eq!(first["method"], "GET");
    assert_eq!(first["path"], "/api/products", "no query string: {first}");
    assert_eq!(first["status"], 200);
    assert_eq!(first["client"], "203.0.113.7");
    assert_eq!(first["level"], "INFO");
    assert!(first["duration_us"].as_u64().is_some(), "{first}");
    // RFC 3339 in UTC to the microsecond, as tracing-subscriber writes it (the server keeps
    // the date and time of day of the current second and adds the fraction).
    let stamp = first["timestamp"].as_str().unwrap_or_default();
    assert_eq!(stamp.len(), "2026-12-07T01:28:10.889314Z".len(), "{first}");
    assert!(
        stamp.ends_with('Z') && stamp.as_bytes()[19] == b'.',
        "{first}"
    );
    let logged_at = chrono::DateTime::parse_from_rfc3339(stamp).expect("an RFC 3339 time");
    let age = chrono::Utc::now().signed_duration_since(logged_at);
    assert!(age.num_seconds() >= 0 && age.num_seconds() < 120, "{first}");
    let profile = requests
        .iter()
        .find(|v| v["path"] == "/api/users/profile")
        .expect("the profile's line");
    assert_eq!(profile["user"], me["id"], "the signed-in caller is named");

    let security = server
        .wait_for(3, |v| v["target"] == "commerce::security")
        .await;
    let event = |name: &str| {
        security
            .iter()
            .find(|v| v["event"] == name)
            .unwrap_or_else(|| panic!("no {name} in {}", server.all_text()))
            .clone()
    };
    let failed = event("auth.login_failed");
    assert_eq!(failed["email"], ADMIN);
    assert!(
        failed["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{failed}"
    );
    assert_eq!(event("auth.login")["user"], me["id"]);
    assert_eq!(event("webhook.bad_signature")["provider"], "stripe");

    let everything = server.all_text();
    for secret in [
        wrong,
        PASSWORD,
        SECRET,
        STRIPE_KEY,
        STRIPE_WEBHOOK_SECRET,
        &access,
        &refresh,
    ] {
        assert!(!everything.contains(secret), "{secret} was logged");
    }
}

/// The text log (the default) reads as tracing-subscriber's own format, though the server
/// writes a line's fields itself: `name=value` after the message, strings quoted, and a
/// string that needs it escaped as Rust's `Debug` escapes it.
#[tokio::test]
async fn a_text_log_line_is_the_message_then_name_equals_value() {
    let server = Logged::start(&["--log-format", "text"]).await;
    let http = http_client();
    let r = http
        .get(format!("{}/api/products", server.base))
        .header("x-request-id", "text-line-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A quote and a backslash in a path reach the log as they came (HTTP lets them through).
    let port = server.base.rsplit(':').next().unwrap().to_string();
    let mut raw = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    use std::io::{Read, Write};
    raw.write_all(b"GET /api/products/a\"b\\c HTTP/1.1\r\nHost: x\r\nX-Request-Id: text-line-2\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    raw.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");

    let line = |id: &str| {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = server
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(&format!("request_id={id} ")))
                .cloned();
            if let Some(line) = found {
                return line;
            }
            assert!(Instant::now() < deadline, "{}", server.all_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // A line: the time, the level padded to five after one space (as tracing-subscriber
    // writes it), the target, the message, the fields up to `duration_us`, a number; what
    // follows that number is returned.
    let after_duration = |line: &str, level: &str, fields: &str| -> String {
        let (stamp, rest) = line.split_once(' ').unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
            "{line}"
        );
        let rest = rest
            .strip_prefix(&format!(
                "{level:>5} commerce_http::request: request {fields} duration_us="
            ))
            .unwrap_or_else(|| panic!("{line}"));
        let (micros, tail) = rest.split_once(' ').unwrap();
        assert!(micros.parse::<u64>().is_ok(), "{line}");
        tail.to_string()
    };
    let first = line("text-line-1");
    assert_eq!(
        after_duration(
            &first,
            "INFO",
            r#"method=GET path="/api/products" status=200"#
        ),
        "request_id=text-line-1 client=127.0.0.1 user="
    );
    let second = line("text-line-2");
    assert!(
        second.contains(r#" path="/api/products/a\"b\\c" status=404 "#),
        "{second}"
    );

    // A signed-in caller is named by their id, last on the line.
    let (status, tokens) = server.login(&http, PASSWORD).await;
    assert_eq!(status, 200);
    let r = http
        .get(format!("{}/api/users/profile", server.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .header("x-request-id", "text-line-3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    let third = line("text-line-3");
    assert_eq!(
        after_duration(
            &third,
            "INFO",
            r#"method=GET path="/api/users/profile" status=200"#
        ),
        format!(
            "request_id=text-line-3 client=127.0.0.1 user={}",
            me["id"].as_str().unwrap()
        )
    );

    // A 5xx is a WARN line, its level padded as INFO's: an image that cannot be read (a
    // directory where the file should be) is 503.
    let images = server.data_dir.join("images");
    std::fs::create_dir_all(images.join("unreadable.png")).unwrap();
    let r = http
        .get(format!("{}/images/unreadable.png", server.base))
        .header("x-request-id", "text-line-4")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let fourth = line("text-line-4");
    assert_eq!(
        after_duration(
            &fourth,
            "WARN",
            r#"method=GET path="/images/unreadable.png" status=503"#
        ),
        "request_id=text-line-4 client=127.0.0.1 user="
    );
}

#[test]
fn without_a_payment_provider_the_server_refuses_to_start() {
    let data_dir = std::env::temp_dir().join(format!("commerce-logs-{}", uuid::Uuid::new_v4()));
    let out = Command::new(server_binary())
        .args(["--bind", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(&data_dir)
        .env_remove("STRIPE_SECRET_KEY")
        .env_remove("COMMERCE_TEST_PAYMENTS")
        .env_remove("COMMERCE_DEMO")
        .output()
        .expect("the server runs");
    let _ = std::fs::remove_dir_all(&data_dir);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("no payment provider"), "{said}");
    assert!(said.contains("--test-payments"), "{said}");
}

/// The running server's sweeper, with `--unpaid-order-timeout`: an unpaid order gives its
/// stock back by itself, and its history says why.
#[tokio::test]
async fn the_server_expires_unpaid_orders_by_itself() {
    let server = Logged::start(&["--demo", "--unpaid-order-timeout", "1s"]).await;
    let http = http_client();
    let url = |p: &str| format!("{}{p}", server.base);
    let product = server.demo_product_with_more_than(&http, 1).await;
    let id = product["id"].as_str().unwrap();
    let stock = product["inventory_count"].as_u64().unwrap();
    let placed = server.guest_order(&http, id).await;
    assert_eq!(placed["status"], "pending", "{placed}");
    let stock_now = |http: reqwest::Client, u: String| async move {
        let p: Value = http.get(u).send().await.unwrap().json().await.unwrap();
        p["inventory_count"].as_u64().unwrap()
    };
    assert_eq!(
        stock_now(http.clone(), url(&format!("/api/products/{id}"))).await,
        stock - 1
    );
    let (_, admin) = server.login(&http, PASSWORD).await;
    let token = admin["access_token"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    let order = loop {
        let order: Value = http
            .get(url(&format!(
                "/api/orders/{}",
                placed["id"].as_str().unwrap()
            )))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if order["status"] != "pending" || Instant::now() > deadline {
            break order;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(order["status"], "cancelled", "{order}");
    let last = order["status_history"].as_array().unwrap().last().unwrap();
    assert_eq!(last["reason"], "payment_timeout");
    assert_eq!(
        stock_now(http.clone(), url(&format!("/api/products/{id}"))).await,
        stock
    );
}

#[tokio::test]
async fn webhooks_committed_before_a_kill_are_delivered_after_the_restart() {
    let data_dir = std::env::temp_dir().join(format!("commerce-hooks-{}", uuid::Uuid::new_v4()));
    let flags = [
        "--demo",
        "--webhooks-allow-private",
        "--webhook-retry-schedule",
        "1s,1s,2s,4s,8s,16s,32s",
        // A lease the killed process held runs out 10 s after this.
        "--webhook-timeout",
        "2s",
    ];
    let mut first = Logged::start_in(data_dir.clone(), &flags).await;
    let http = http_client();
    let (_, admin) = first.login(&http, PASSWORD).await;
    let token = admin["access_token"].as_str().unwrap().to_string();
    // The receiver is not up yet: nothing can be delivered before the kill.
    let receiver_port = free_port();
    let hook: Value = http
        .post(format!("{}/api/admin/webhooks", first.base))
        .bearer_auth(&token)
        .json(&json!({"url": format!("http://127.0.0.1:{receiver_port}/hooks"), "events": ["order.created"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = hook["secret"].as_str().expect("a secret").to_string();
    let product = first.demo_product_with_more_than(&http, 3).await;
    let mut numbers = Vec::new();
    for _ in 0..3 {
        let placed = first
            .guest_order(&http, product["id"].as_str().unwrap())
            .await;
        numbers.push(placed["number"].as_str().expect("an order").to_string());
    }
    // Killed (SIGKILL): no shutdown, nothing flushed but what was committed.
    first.keep_data = true;
    drop(first);

    let got = webhook_receiver(receiver_port).await;
    let second = Logged::start_in(data_dir, &flags).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.lock().unwrap().len() < numbers.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = got.lock().unwrap().clone();
    let mut delivered: Vec<String> = got
        .iter()
        .map(|d| {
            commerce::webhook_signing::verify(
                &commerce::webhook_signing::WebhookSecret::parse(&secret).unwrap(),
                &d.id,
                &d.timestamp,
                &d.signature,
                &d.body,
                chrono::Utc::now().timestamp(),
            )
            .expect("signed with the endpoint's secret");
            let body: Value = serde_json::from_slice(&d.body).unwrap();
            assert_eq!(body["type"], "order.created");
            body["data"]["number"].as_str().unwrap().to_string()
        })
        .collect();
    delivered.sort();
    delivered.dedup();
    numbers.sort();
    assert_eq!(delivered, numbers, "{}", second.all_text());
}
