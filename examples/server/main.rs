//! The bundled REST server: the engine on SQLite (or PostgreSQL) behind the HTTP API.
//!
//! Run: `cargo run --example server --features full -- --demo`, then open
//! http://127.0.0.1:8080/docs. `--help` lists every setting; each is a flag or an environment
//! variable.

mod logging;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use commerce::account::Role;
use commerce::catalog::{NewProduct, NewVariant};
use commerce::http::client::IpBlock;
use commerce::http::serve::ConnectionLimits;
use commerce::http::{ApiConfig, BodyLimits, CorsConfig, JwtIssuer};
use commerce::images::DirImageStore;
use commerce::mail::{FileMailer, SmtpConfig, SmtpMailer};
use commerce::pdf::PdfInvoices;
use commerce::ports::Mailer;
use commerce::postgres::{PgOptions, PgStore};
use commerce::promotion::{PromotionClass, PromotionDraft};
use commerce::service::CommerceBuilder;
use commerce::sqlite::{SqliteOptions, SqliteStore, Synchronous};
use commerce::stripe::{StripeConfig, StripeGateway};
use commerce::{Caller, Commerce, CommerceError, Currency};
use logging::LogFormat;
use rust_decimal::Decimal;

const HELP: &str = "\
commerce server: the REST API of the commerce engine on SQLite or PostgreSQL

USAGE: server [OPTIONS]

Each option may also be given as the environment variable shown.
  --bind ADDR              COMMERCE_BIND            address to listen on [127.0.0.1:8080]
  --data-dir DIR           COMMERCE_DATA_DIR        where the database lives [./data]
  --database-url URL       DATABASE_URL             sqlite://PATH [sqlite://DATA_DIR/commerce.db],
                                                    or postgres://USER[:PASS]@HOST[:PORT]/DB
                                                    (several servers may share one)
  --database-pool N        COMMERCE_DATABASE_POOL   PostgreSQL connections at most [16]
  --database-read-url URL  DATABASE_READ_URL        a PostgreSQL streaming replica that public
                                                    catalog reads may use [none]
  --currency CODE          COMMERCE_CURRENCY        a new shop's currency [USD]
  --jwt-secret SECRET      COMMERCE_JWT_SECRET      signs access tokens (32+ bytes) [generated
                                                    once and kept in DATA_DIR/jwt-secret]
  --mail-dir DIR           COMMERCE_MAIL_DIR        write mail as files here [DATA_DIR/mail]
  --image-dir DIR          COMMERCE_IMAGE_DIR       product images are kept here, served under
                                                    /images/ [DATA_DIR/images] (servers sharing
                                                    a database need it shared too)
  --smtp-url URL           COMMERCE_SMTP_URL        send mail by SMTP instead: smtp://,
                                                    smtp+starttls:// or smtps://[user:pass@]host[:port]
  --mail-from ADDR         COMMERCE_MAIL_FROM       the sender [Commerce <shop@localhost>]
  --stripe-secret-key KEY  STRIPE_SECRET_KEY        take payments through Stripe (with the next);
                                                    without it the server does not start, unless
                                                    --test-payments
  --stripe-webhook-secret S STRIPE_WEBHOOK_SECRET   the webhook endpoint's signing secret
                                                    (POST /api/webhooks/stripe)
  --stripe-api-base URL    STRIPE_API_BASE          Stripe's API [https://api.stripe.com]
                                                    (a fake Stripe in tests)
  --checkout-success-url U COMMERCE_CHECKOUT_SUCCESS_URL  where Stripe Checkout returns a paying
                                                    customer; {ORDER_ID} is the order's id
                                                    [http://BIND/orders/{ORDER_ID}?checkout=success]
  --checkout-cancel-url U  COMMERCE_CHECKOUT_CANCEL_URL   where it returns one who gives up
  --admin-email EMAIL      COMMERCE_ADMIN_EMAIL     create this admin at start if missing
  --admin-password PASS    COMMERCE_ADMIN_PASSWORD  its password (8 to 128 characters)
  --cors-origins LIST      COMMERCE_CORS_ORIGINS    origins whose browser scripts may call the
                                                    API, comma-separated (https://shop.example),
                                                    or * for any [none: CORS off]
  --cors-methods LIST      COMMERCE_CORS_METHODS    methods they may use
                                                    [GET,HEAD,POST,PUT,PATCH,DELETE]
  --cors-headers LIST      COMMERCE_CORS_HEADERS    request headers they may send [authorization,
                                                    content-type,if-match,if-none-match,
                                                    idempotency-key,last-event-id,x-cart-token,
                                                    x-request-id]
  --test-payments          COMMERCE_TEST_PAYMENTS=1 take \"payments\" through the built-in test
                                                    provider, which moves no money (for trying
                                                    the API; --demo implies it)
  --sqlite-synchronous S   COMMERCE_SQLITE_SYNCHRONOUS  full: a commit is on disk before it is
                                                    acknowledged; normal: faster, but a power
                                                    loss may lose the last commits [full]
  --trusted-proxies LIST   COMMERCE_TRUSTED_PROXIES  proxies (CIDRs, comma-separated) whose
                                                    Forwarded / X-Forwarded-For names the client
                                                    [none: the TCP peer is the client]
  --header-timeout DUR     COMMERCE_HEADER_TIMEOUT  a request's head must arrive within [10s]
  --idle-timeout DUR       COMMERCE_IDLE_TIMEOUT    a keep-alive connection may idle [60s]
  --body-timeout DUR       COMMERCE_BODY_TIMEOUT    a request's body must arrive within [30s]
  --max-connections N      COMMERCE_MAX_CONNECTIONS  open connections at most; more wait [10000]
  --unpaid-order-timeout D COMMERCE_UNPAID_ORDER_TIMEOUT  an order left unpaid this long is
                                                    cancelled, its stock and discount uses given
                                                    back [30m]; off keeps them
  --guest-cart-lifetime D  COMMERCE_GUEST_CART_LIFETIME  a guest cart untouched this long is
                                                    deleted [30d]; off keeps them
  --log-format FORMAT      COMMERCE_LOG_FORMAT      text or json (one object per line) [text];
                                                    levels from RUST_LOG [info]
  --demo                   COMMERCE_DEMO=1          seed a demo shop into an empty catalog
  --help                   this text

Durations: 500ms, 10s, 5m, 2h, 30d (a bare number is seconds).
";

/// Where the shop's data lives.
#[derive(Debug)]
enum Database {
    Sqlite(PathBuf),
    Postgres {
        url: String,
        read_url: Option<String>,
        pool: u32,
    },
}

impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "SQLite {}", path.display()),
            Database::Postgres { url, read_url, .. } => {
                write!(f, "PostgreSQL {}", commerce::postgres::redact(url))?;
                if let Some(read) = read_url {
                    write!(
                        f,
                        ", catalog reads from {}",
                        commerce::postgres::redact(read)
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// Stripe's settings, when payments go through it.
struct Stripe {
    secret_key: String,
    webhook_secret: String,
    api_base: Option<String>,
    success_url: String,
    cancel_url: String,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys are never shown.
        f.debug_struct("Stripe")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Config {
    stripe: Option<Stripe>,
    bind: String,
    data_dir: PathBuf,
    database: Database,
    currency: Currency,
    admin: Option<(String, String)>,
    demo: bool,
    jwt_secret: Option<String>,
    mail_dir: PathBuf,
    image_dir: PathBuf,
    smtp_url: Option<String>,
    mail_from: String,
    cors: CorsConfig,
    synchronous: Synchronous,
    trusted_proxies: Vec<IpBlock>,
    connections: ConnectionLimits,
    body_timeout: Duration,
    log_format: LogFormat,
    unpaid_order_timeout: Option<Duration>,
    guest_cart_lifetime: Option<Duration>,
}

/// A duration, or `off` for none.
fn parse_optional_duration(name: &str, text: &str) -> Result<Option<Duration>, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    parse_duration(name, text).map(Some)
}

/// A duration as `500ms`, `10s`, `5m` or `2h`; a bare number is seconds.
fn parse_duration(name: &str, text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{name}: {text:?} is not a duration such as 10s"))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        "d" => Duration::from_secs(n.saturating_mul(86_400)),
        _ => return Err(format!("{name}: {text:?} is not a duration such as 10s")),
    };
    if d.is_zero() {
        return Err(format!("{name} must be longer than zero"));
    }
    Ok(d)
}

fn config() -> Result<Config, String> {
    let mut args = std::env::args().skip(1);
    let mut flags: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    let mut demo = std::env::var("COMMERCE_DEMO").is_ok_and(|v| v == "1" || v == "true");
    let mut test_payments =
        std::env::var("COMMERCE_TEST_PAYMENTS").is_ok_and(|v| v == "1" || v == "true");
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let key = match name.as_str() {
            "--help" | "-h" => {
                print!("{HELP}");
                std::process::exit(0);
            }
            "--demo" => {
                demo = true;
                continue;
            }
            "--test-payments" => {
                test_payments = true;
                continue;
            }
            "--sqlite-synchronous" => "sqlite_synchronous",
            "--trusted-proxies" => "trusted_proxies",
            "--header-timeout" => "header_timeout",
            "--idle-timeout" => "idle_timeout",
            "--body-timeout" => "body_timeout",
            "--max-connections" => "max_connections",
            "--log-format" => "log_format",
            "--unpaid-order-timeout" => "unpaid_order_timeout",
            "--guest-cart-lifetime" => "guest_cart_lifetime",
            "--bind" => "bind",
            "--data-dir" => "data_dir",
            "--database-url" => "database_url",
            "--database-pool" => "database_pool",
            "--database-read-url" => "database_read_url",
            "--currency" => "currency",
            "--admin-email" => "admin_email",
            "--admin-password" => "admin_password",
            "--jwt-secret" => "jwt_secret",
            "--mail-dir" => "mail_dir",
            "--image-dir" => "image_dir",
            "--smtp-url" => "smtp_url",
            "--mail-from" => "mail_from",
            "--stripe-secret-key" => "stripe_secret_key",
            "--stripe-webhook-secret" => "stripe_webhook_secret",
            "--stripe-api-base" => "stripe_api_base",
            "--checkout-success-url" => "checkout_success_url",
            "--checkout-cancel-url" => "checkout_cancel_url",
            "--cors-origins" => "cors_origins",
            "--cors-methods" => "cors_methods",
            "--cors-headers" => "cors_headers",
            other => return Err(format!("unknown option {other} (see --help)")),
        };
        let value = match inline {
            Some(v) => v,
            None => args.next().ok_or_else(|| format!("{name} needs a value"))?,
        };
        flags.insert(key, value);
    }
    let setting = |key: &str, env: &str| {
        flags
            .get(key)
            .cloned()
            .or_else(|| std::env::var(env).ok())
            .filter(|v| !v.is_empty())
    };
    let data_dir =
        PathBuf::from(setting("data_dir", "COMMERCE_DATA_DIR").unwrap_or_else(|| "data".into()));
    let read_url = setting("database_read_url", "DATABASE_READ_URL");
    let database = match setting("database_url", "DATABASE_URL") {
        None => Database::Sqlite(data_dir.join("commerce.db")),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let pool = match setting("database_pool", "COMMERCE_DATABASE_POOL") {
                None => commerce::postgres::PgOptions::default().max_connections,
                Some(n) => n
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| format!("the database pool must be 1 to 1000, not {n}"))?,
            };
            Database::Postgres {
                url,
                read_url: read_url.clone(),
                pool,
            }
        }
        Some(url) => match url.strip_prefix("sqlite://") {
            Some(path) => Database::Sqlite(PathBuf::from(path)),
            None => {
                return Err(format!(
                    "DATABASE_URL {}: give sqlite://PATH or postgres://...",
                    commerce::postgres::redact(&url)
                ))
            }
        },
    };
    if read_url.is_some() && matches!(database, Database::Sqlite(_)) {
        return Err("a read replica (DATABASE_READ_URL) needs a PostgreSQL DATABASE_URL".into());
    }
    let currency = setting("currency", "COMMERCE_CURRENCY").unwrap_or_else(|| "USD".into());
    let currency = Currency::from_code(&currency).map_err(|e| e.to_string())?;
    let admin = match (
        setting("admin_email", "COMMERCE_ADMIN_EMAIL"),
        setting("admin_password", "COMMERCE_ADMIN_PASSWORD"),
    ) {
        (Some(e), Some(p)) => Some((e, p)),
        (None, None) => None,
        _ => return Err("give both the admin email and the admin password, or neither".into()),
    };
    let bind = setting("bind", "COMMERCE_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
    let stripe = match (
        setting("stripe_secret_key", "STRIPE_SECRET_KEY"),
        setting("stripe_webhook_secret", "STRIPE_WEBHOOK_SECRET"),
    ) {
        (Some(secret_key), Some(webhook_secret)) => Some(Stripe {
            secret_key,
            webhook_secret,
            api_base: setting("stripe_api_base", "STRIPE_API_BASE"),
            success_url: setting("checkout_success_url", "COMMERCE_CHECKOUT_SUCCESS_URL")
                .unwrap_or_else(|| format!("http://{bind}/orders/{{ORDER_ID}}?checkout=success")),
            cancel_url: setting("checkout_cancel_url", "COMMERCE_CHECKOUT_CANCEL_URL")
                .unwrap_or_else(|| format!("http://{bind}/orders/{{ORDER_ID}}?checkout=cancelled")),
        }),
        (None, None) => None,
        _ => {
            return Err(
                "Stripe needs both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (or neither, for the built-in test provider)"
                    .into(),
            )
        }
    };
    let mut cors = CorsConfig::default();
    if let Some(list) = setting("cors_origins", "COMMERCE_CORS_ORIGINS") {
        cors.allowed_origins = CorsConfig::origins(&list)?;
    }
    if let Some(list) = setting("cors_methods", "COMMERCE_CORS_METHODS") {
        cors.allowed_methods = CorsConfig::methods(&list)?;
    }
    if let Some(list) = setting("cors_headers", "COMMERCE_CORS_HEADERS") {
        cors.allowed_headers = CorsConfig::headers(&list)?;
    }
    let synchronous = match setting("sqlite_synchronous", "COMMERCE_SQLITE_SYNCHRONOUS") {
        Some(s) => s.parse()?,
        None => Synchronous::Full,
    };
    let trusted_proxies = match setting("trusted_proxies", "COMMERCE_TRUSTED_PROXIES") {
        Some(list) => list
            .split(',')
            .filter(|b| !b.trim().is_empty())
            .map(|b| b.parse::<IpBlock>().map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let mut connections = ConnectionLimits::default();
    if let Some(d) = setting("header_timeout", "COMMERCE_HEADER_TIMEOUT") {
        connections.header_read_timeout = parse_duration("--header-timeout", &d)?;
    }
    if let Some(d) = setting("idle_timeout", "COMMERCE_IDLE_TIMEOUT") {
        connections.idle_timeout = parse_duration("--idle-timeout", &d)?;
    }
    if let Some(n) = setting("max_connections", "COMMERCE_MAX_CONNECTIONS") {
        connections.max_connections =
            n.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                format!("--max-connections must be a whole number from 1, not {n}")
            })?;
    }
    let body_timeout = match setting("body_timeout", "COMMERCE_BODY_TIMEOUT") {
        Some(d) => parse_duration("--body-timeout", &d)?,
        None => BodyLimits::default().read_timeout,
    };
    let log_format = match setting("log_format", "COMMERCE_LOG_FORMAT") {
        Some(f) => f.parse()?,
        None => LogFormat::Text,
    };
    if stripe.is_none() && !test_payments && !demo {
        return Err(
            "no payment provider: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or give --test-payments to take test payments that move no money"
                .into(),
        );
    }
    let engine = commerce::service::EngineConfig::default();
    let unpaid_order_timeout =
        match setting("unpaid_order_timeout", "COMMERCE_UNPAID_ORDER_TIMEOUT") {
            Some(d) => parse_optional_duration("--unpaid-order-timeout", &d)?,
            None => engine.unpaid_order_timeout,
        };
    let guest_cart_lifetime = match setting("guest_cart_lifetime", "COMMERCE_GUEST_CART_LIFETIME") {
        Some(d) => parse_optional_duration("--guest-cart-lifetime", &d)?,
        None => engine.guest_cart_lifetime,
    };
    Ok(Config {
        unpaid_order_timeout,
        guest_cart_lifetime,
        synchronous,
        trusted_proxies,
        connections,
        body_timeout,
        log_format,
        cors,
        stripe,
        data_dir: data_dir.clone(),
        bind,
        database,
        currency,
        admin,
        demo,
        jwt_secret: setting("jwt_secret", "COMMERCE_JWT_SECRET"),
        mail_dir: setting("mail_dir", "COMMERCE_MAIL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("mail")),
        image_dir: setting("image_dir", "COMMERCE_IMAGE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("images")),
        smtp_url: setting("smtp_url", "COMMERCE_SMTP_URL"),
        mail_from: setting("mail_from", "COMMERCE_MAIL_FROM")
            .unwrap_or_else(|| "Commerce <shop@localhost>".into()),
    })
}

/// glibc gives each thread that allocates under contention an arena of its own (up to eight
/// per core) and keeps what was freed in each: under write load that held the server at
/// about 100 MiB. One arena held it near 55 MiB at the same throughput (README, performance).
/// `MALLOC_ARENA_MAX` in the environment still decides, if set.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it is called first thing in main,
        // before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

/// Hands the memory that starting up used and freed (opening storage, seeding the demo shop)
/// back to the system: glibc keeps freed heap pages otherwise, and they stay resident.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_startup_memory() {
    // SAFETY: malloc_trim only returns free memory of the allocator's own heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_startup_memory() {}

fn main() {
    limit_malloc_arenas();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(serve());
}

async fn serve() {
    let config = match config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = logging::init(config.log_format) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    if let Err(e) = run(config).await {
        logging::flush();
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// A shop's builder over the configured database; an unreachable one is an error here.
async fn storage(
    database: &Database,
    synchronous: Synchronous,
) -> Result<CommerceBuilder, Box<dyn std::error::Error>> {
    Ok(match database {
        Database::Sqlite(path) => {
            let options = SqliteOptions {
                synchronous,
                ..SqliteOptions::default()
            };
            Commerce::builder(Arc::new(SqliteStore::open_with(path, options).await?))
        }
        Database::Postgres {
            url,
            read_url,
            pool,
        } => {
            let options = PgOptions {
                max_connections: *pool,
                read_url: read_url.clone(),
                ..PgOptions::default()
            };
            let store = PgStore::open(url, options).await?;
            // Events cross processes, so each server's subscribers see every server's orders.
            Commerce::builder(Arc::new(store.clone())).events(store.event_bus())
        }
    })
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&config.data_dir)?;
    let builder = storage(&config.database, config.synchronous).await?;
    let secret = jwt_secret(&config)?;
    let issuer = JwtIssuer::new(secret.as_bytes(), JwtIssuer::DEFAULT_LIFETIME)
        .map_err(|e| format!("COMMERCE_JWT_SECRET: {e}"))?;
    let mailer: Arc<dyn Mailer> = match &config.smtp_url {
        Some(url) => Arc::new(SmtpMailer::new(
            SmtpConfig::from_url(url, &config.mail_from)
                .map_err(|e| format!("COMMERCE_SMTP_URL: {e}"))?,
        )?),
        None => Arc::new(
            FileMailer::new(&config.mail_dir, &config.mail_from)
                .map_err(|e| format!("{}: {e}", config.mail_dir.display()))?,
        ),
    };
    let builder = match &config.stripe {
        Some(stripe) => {
            let mut settings =
                StripeConfig::new(stripe.secret_key.clone(), stripe.webhook_secret.clone());
            if let Some(base) = &stripe.api_base {
                settings.client.api_base = base.clone();
            }
            settings.checkout_success_url = stripe.success_url.clone();
            settings.checkout_cancel_url = stripe.cancel_url.clone();
            builder.gateway(Arc::new(StripeGateway::new(settings)?))
        }
        None => builder.test_payments(),
    };
    let images = DirImageStore::new(&config.image_dir, "/images")
        .map_err(|e| format!("{}: {e}", config.image_dir.display()))?;
    let engine = commerce::service::EngineConfig {
        password_hashes_at_once: password_hashes_at_once(),
        unpaid_order_timeout: config.unpaid_order_timeout,
        guest_cart_lifetime: config.guest_cart_lifetime,
        ..commerce::service::EngineConfig::default()
    };
    let shop = builder
        .config(engine)
        .images(Arc::new(images))
        .invoices(Arc::new(PdfInvoices::new()))
        .token_issuer(Arc::new(issuer))
        .mailer(mailer)
        .build();
    let settings = shop
        .admin()
        .initialise_store("Commerce", config.currency)
        .await?;
    if let Some((email, password)) = &config.admin {
        match shop
            .accounts()
            .create_user(email, password, "Admin", Role::Admin, true)
            .await
        {
            Ok(_) => eprintln!("created admin {email}"),
            Err(CommerceError::Taken(_)) => {}
            Err(e) => return Err(format!("admin {email}: {e}").into()),
        }
    }
    if config.demo {
        let seeded = seed_demo(&shop).await?;
        if seeded > 0 {
            eprintln!("seeded a demo shop with {seeded} products");
        }
    }
    let payments = match &config.stripe {
        Some(stripe) => format!(
            "payments through Stripe at {}",
            stripe
                .api_base
                .as_deref()
                .unwrap_or("https://api.stripe.com")
        ),
        None => "TEST payments through the built-in provider, which moves no money".into(),
    };
    release_startup_memory();
    let listener = tokio::net::TcpListener::bind(&config.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    eprintln!(
        "commerce on http://{} ({} in {}, {payments}), API docs at http://{}/docs",
        config.bind, settings.currency, config.database, config.bind
    );
    // Order event streams end as the shutdown begins, so it does not wait for them.
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    // Unpaid orders expire and old guest carts go, in every process (each order is moved by
    // one of them only).
    let sweeper = shop.spawn_sweeper(sweep_every(config.unpaid_order_timeout), stopped.clone());
    let api = ApiConfig {
        shutdown: Some(stopped),
        cors: config.cors.clone(),
        trusted_proxies: config.trusted_proxies.clone(),
        body: BodyLimits {
            read_timeout: config.body_timeout,
            ..BodyLimits::default()
        },
        ..ApiConfig::default()
    };
    commerce::http::serve::serve_with_limits(
        listener,
        commerce::http::routes(shop, api),
        async move {
            shutdown().await;
            let _ = stopping.send(true);
        },
        Duration::from_secs(10),
        config.connections,
    )
    .await?;
    let _ = sweeper.await;
    tracing::info!("stopped");
    logging::flush();
    Ok(())
}

/// How often the sweeper runs: often enough that an unpaid order is not kept much past its
/// timeout (a tenth of it, between 1 and 30 s); every 5 minutes when orders never expire.
fn sweep_every(timeout: Option<Duration>) -> Duration {
    timeout.map_or(Duration::from_secs(300), |t| {
        (t / 10).clamp(Duration::from_secs(1), Duration::from_secs(30))
    })
}

/// Memory one Argon2id hash takes with the hasher's settings (19 MiB, OWASP's minimum).
const HASH_MEMORY_BYTES: u64 = 19 * 1024 * 1024;

/// Password hashes at once: one per core, but never more than a quarter of the memory
/// available now can hold, so a burst of sign-ins cannot run the machine out of memory.
fn password_hashes_at_once() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kib| kib * 1024);
    match available {
        Some(bytes) => cores
            .min(usize::try_from(bytes / 4 / HASH_MEMORY_BYTES).unwrap_or(cores))
            .max(1),
        None => cores,
    }
}

/// The configured secret, else the one kept in the data directory, else a new random one
/// written there (readable by the owner only) with a warning: tokens then survive restarts
/// but not a lost data directory, and several servers need the same secret configured.
fn jwt_secret(config: &Config) -> Result<String, Box<dyn std::error::Error>> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.clone());
    }
    let path = config.data_dir.join("jwt-secret");
    match std::fs::read_to_string(&path) {
        Ok(kept) if !kept.trim().is_empty() => return Ok(kept.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", path.display()).into()),
    }
    let secret = commerce::account::random_token()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, secret.as_bytes())?;
    eprintln!(
        "warning: no COMMERCE_JWT_SECRET given; generated one and kept it in {}",
        path.display()
    );
    Ok(secret)
}

/// Resolves on ctrl-c or SIGTERM: in-flight requests get up to 10 s to finish.
async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// A demo shop, once, into an empty catalog: a category tree, 200 products (some with
/// variants), discount codes, tax rates and shipping methods.
async fn seed_demo(shop: &Commerce) -> Result<usize, CommerceError> {
    let existing = shop.catalog().list_products(Default::default()).await?;
    if !existing.items.is_empty() {
        return Ok(0);
    }
    let seller = shop
        .accounts()
        .create_user(
            "demo-admin@commerce.invalid",
            &uuid::Uuid::new_v4().simple().to_string(),
            "Demo",
            Role::Admin,
            true,
        )
        .await?;
    let admin = Caller::user(seller.id, seller.role);
    let catalog = shop.catalog();
    let tree = [
        ("Home", &["Kitchen", "Living", "Garden"][..]),
        ("Clothing", &["Shirts", "Knitwear", "Accessories"][..]),
        ("Books", &["Cooking", "Travel"][..]),
    ];
    let mut leaves = Vec::new();
    for (root, children) in tree {
        let r = catalog.create_category(&admin, root, None, None).await?;
        for child in children {
            leaves.push((
                catalog
                    .create_category(&admin, child, None, Some(r.id))
                    .await?,
                root,
            ));
        }
    }
    let materials = [
        "Linen", "Copper", "Walnut", "Wool", "Ceramic", "Oak", "Cotton", "Leather", "Bamboo",
        "Marble",
    ];
    let things = [
        "Kettle", "Lamp", "Shirt", "Bowl", "Scarf", "Vase", "Mug", "Cushion", "Notebook", "Blanket",
    ];
    for i in 0..200usize {
        let (category, root) = &leaves[i % leaves.len()];
        let name = format!(
            "{} {} No. {}",
            materials[i % materials.len()],
            things[(i / materials.len()) % things.len()],
            i + 1
        );
        let variants = if *root == "Clothing" {
            ["S", "M", "L"]
                .iter()
                .enumerate()
                .map(|(k, size)| NewVariant {
                    sku: format!("DEMO-{i}-{size}"),
                    options: [("size".to_string(), size.to_string())].into(),
                    price: (k == 2).then(|| Decimal::new(2_900 + (i as i64 % 40) * 100, 2)),
                    inventory_count: (i as u32 * 7 + k as u32) % 25,
                })
                .collect()
        } else {
            Vec::new()
        };
        catalog
            .create_product(
                &admin,
                NewProduct {
                    name,
                    description: format!(
                        "A well-made {} for everyday use.",
                        things[(i / materials.len()) % things.len()].to_lowercase()
                    ),
                    price: Decimal::new(499 + (i as i64 * 7919) % 15_000, 2),
                    category_id: Some(category.id),
                    inventory_count: (i as u32 * 13) % 60,
                    variants,
                    ..Default::default()
                },
            )
            .await?;
    }
    let admin_api = shop.admin();
    for (country, region, rate) in [
        ("US", Some("TX"), Decimal::new(825, 4)),
        ("US", Some("CA"), Decimal::new(725, 4)),
        ("GB", None, Decimal::new(20, 2)),
        ("DE", None, Decimal::new(19, 2)),
    ] {
        admin_api
            .save_tax_rate(&admin, None, country, region, rate)
            .await?;
    }
    admin_api
        .save_shipping_method(
            &admin,
            None,
            "Standard",
            Decimal::new(499, 2),
            Some(Decimal::new(7500, 2)),
            true,
        )
        .await?;
    admin_api
        .save_shipping_method(&admin, None, "Express", Decimal::new(1499, 2), None, true)
        .await?;
    for (code, kind, value, class, combines) in [
        (
            Some("WELCOME10"),
            "percent",
            Some(Decimal::TEN),
            PromotionClass::Order,
            vec![PromotionClass::Shipping],
        ),
        (
            Some("FREESHIP"),
            "free_shipping",
            None,
            PromotionClass::Shipping,
            vec![PromotionClass::Order, PromotionClass::Product],
        ),
        (
            None,
            "buy_x_get_y",
            None,
            PromotionClass::Product,
            vec![PromotionClass::Shipping],
        ),
    ] {
        let buy_x_get_y = kind == "buy_x_get_y";
        admin_api
            .create_promotion(
                &admin,
                PromotionDraft {
                    code: code.map(str::to_string),
                    kind: kind.into(),
                    value,
                    class: Some(class),
                    combines_with: combines,
                    buy_quantity: buy_x_get_y.then_some(2),
                    get_quantity: buy_x_get_y.then_some(1),
                    ..Default::default()
                },
            )
            .await?;
    }
    Ok(200)
}
