//! The server's settings: flags, each also an environment variable (`--help`).

use std::path::PathBuf;
use std::time::Duration;

use commerce::http::client::IpBlock;
use commerce::http::serve::ConnectionLimits;
use commerce::http::{BodyLimits, CorsConfig};
use commerce::sqlite::Synchronous;
use commerce::Currency;

use crate::logging::LogFormat;

pub(crate) const HELP: &str = "\
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
  --paypal-client-id ID    PAYPAL_CLIENT_ID         take payments through PayPal too (with the
                                                    next two); without Stripe, PayPal alone
  --paypal-client-secret S PAYPAL_CLIENT_SECRET     the REST app's secret
  --paypal-webhook-id ID   PAYPAL_WEBHOOK_ID        the id PayPal gave the webhook endpoint
                                                    (POST /api/webhooks/paypal)
  --paypal-api-base URL    PAYPAL_API_BASE          PayPal's API [https://api-m.sandbox.paypal.com]
                                                    (https://api-m.paypal.com takes real money)
  --paypal-cert-hosts LIST PAYPAL_CERT_HOSTS        hosts a webhook's PAYPAL-CERT-URL may name,
                                                    comma-separated [PayPal's own; 127.0.0.1 only
                                                    for a loopback fake]
  --paypal-return-url U    PAYPAL_RETURN_URL        where PayPal returns a buyer who approved;
                                                    {ORDER_ID} is the order's id
                                                    [http://BIND/orders/{ORDER_ID}?paypal=approved]
  --paypal-cancel-url U    PAYPAL_CANCEL_URL        where it returns one who gives up
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
  --webhook-key KEY        COMMERCE_WEBHOOK_KEY     seals webhook endpoints' secrets (64 hex digits
                                                    or base64 of 32 bytes) [generated once and
                                                    kept in DATA_DIR/webhook-key]; servers sharing
                                                    a database need the same key
  --webhook-retry-schedule L COMMERCE_WEBHOOK_RETRY_SCHEDULE  waits before each retry of a failed
                                                    delivery, comma-separated [0s,5s,5m,30m,2h,
                                                    5h,10h,14h,20h,24h]
  --webhook-timeout DUR    COMMERCE_WEBHOOK_TIMEOUT  a delivery's answer must come within [15s]
  --webhooks-allow-private COMMERCE_WEBHOOKS_ALLOW_PRIVATE=true  let webhooks reach private,
                                                    loopback and link-local addresses [refused]
  (environment only)       COMMERCE_OIDC_<NAME>_ISSUER, _CLIENT_ID, _CLIENT_SECRET (and optional
                                                    _DISPLAY_NAME, _SCOPES): offer sign-in with
                                                    that OpenID Connect provider, named <name>
                           COMMERCE_OIDC_REDIRECT_URIS  where social sign-ins may come back to,
                                                    comma-separated [loopback URIs only]
  --log-format FORMAT      COMMERCE_LOG_FORMAT      text or json (one object per line) [text];
                                                    levels from RUST_LOG [info]
  --demo                   COMMERCE_DEMO=1          seed a demo shop into an empty catalog
  --help                   this text

Durations: 500ms, 10s, 5m, 2h, 30d (a bare number is seconds).
";

/// Where the shop's data lives.
#[derive(Debug)]
pub(crate) enum Database {
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
pub(crate) struct Stripe {
    pub(crate) secret_key: String,
    pub(crate) webhook_secret: String,
    pub(crate) api_base: Option<String>,
    pub(crate) success_url: String,
    pub(crate) cancel_url: String,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys are never shown.
        f.debug_struct("Stripe")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

/// PayPal's settings, when payments go through it.
pub(crate) struct PayPal {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) webhook_id: String,
    pub(crate) api_base: Option<String>,
    pub(crate) cert_hosts: Option<Vec<String>>,
    pub(crate) return_url: String,
    pub(crate) cancel_url: String,
}

impl std::fmt::Debug for PayPal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret is never shown.
        f.debug_struct("PayPal")
            .field("client_id", &self.client_id)
            .field("api_base", &self.api_base)
            .field("cert_hosts", &self.cert_hosts)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) stripe: Option<Stripe>,
    pub(crate) paypal: Option<PayPal>,
    pub(crate) bind: String,
    pub(crate) data_dir: PathBuf,
    pub(crate) database: Database,
    pub(crate) currency: Currency,
    pub(crate) admin: Option<(String, String)>,
    pub(crate) demo: bool,
    pub(crate) jwt_secret: Option<String>,
    pub(crate) mail_dir: PathBuf,
    pub(crate) image_dir: PathBuf,
    pub(crate) smtp_url: Option<String>,
    pub(crate) mail_from: String,
    pub(crate) cors: CorsConfig,
    pub(crate) synchronous: Synchronous,
    pub(crate) trusted_proxies: Vec<IpBlock>,
    pub(crate) connections: ConnectionLimits,
    pub(crate) body_timeout: Duration,
    pub(crate) log_format: LogFormat,
    pub(crate) unpaid_order_timeout: Option<Duration>,
    pub(crate) guest_cart_lifetime: Option<Duration>,
    pub(crate) webhook_key: Option<String>,
    pub(crate) webhook_retries: Option<commerce::webhook::RetrySchedule>,
    pub(crate) webhooks_allow_private: bool,
    pub(crate) webhook_timeout: Duration,
    pub(crate) oidc_providers: Vec<commerce::oidc::ProviderSettings>,
    pub(crate) oidc_redirect_uris: Vec<String>,
}

/// The OpenID Connect providers the environment sets up: one per `COMMERCE_OIDC_<NAME>_ISSUER`,
/// with its `_CLIENT_ID` and `_CLIENT_SECRET` (both required) and optional `_DISPLAY_NAME`
/// and `_SCOPES` (space- or comma-separated).
pub(crate) fn oidc_providers(
    vars: &[(String, String)],
) -> Result<Vec<commerce::oidc::ProviderSettings>, String> {
    let get = |key: String| {
        vars.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut providers = Vec::new();
    for (key, issuer) in vars {
        let Some(name) = key
            .strip_prefix("COMMERCE_OIDC_")
            .and_then(|k| k.strip_suffix("_ISSUER"))
        else {
            continue;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!(
                "{key}: the provider's name must be letters, digits and _"
            ));
        }
        let required = |part: &str| {
            get(format!("COMMERCE_OIDC_{name}_{part}"))
                .ok_or_else(|| format!("COMMERCE_OIDC_{name}_{part} is needed beside {key}"))
        };
        let lower = name.to_ascii_lowercase();
        providers.push(commerce::oidc::ProviderSettings {
            display_name: get(format!("COMMERCE_OIDC_{name}_DISPLAY_NAME")).unwrap_or_else(|| {
                let mut shown = lower.clone();
                if let Some(first) = shown.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                shown
            }),
            name: lower,
            issuer: issuer.trim().to_string(),
            client_id: required("CLIENT_ID")?,
            client_secret: required("CLIENT_SECRET")?,
            scopes: get(format!("COMMERCE_OIDC_{name}_SCOPES"))
                .map(|s| {
                    s.split([' ', ','])
                        .filter(|w| !w.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    providers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(providers)
}

/// Waits as `0s,5s,5m`: each a duration, zero allowed (at once).
pub(crate) fn parse_schedule(
    name: &str,
    text: &str,
) -> Result<commerce::webhook::RetrySchedule, String> {
    let waits = text
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(
            |w| match w.trim_end_matches(|c: char| c.is_ascii_alphabetic()) {
                "0" => Ok(Duration::ZERO),
                _ => parse_duration(name, w),
            },
        )
        .collect::<Result<Vec<_>, _>>()?;
    commerce::webhook::RetrySchedule::new(waits)
        .ok_or_else(|| format!("{name}: give at least one wait, such as 0s,5s,5m"))
}

/// A duration, or `off` for none.
pub(crate) fn parse_optional_duration(name: &str, text: &str) -> Result<Option<Duration>, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    parse_duration(name, text).map(Some)
}

/// A duration as `500ms`, `10s`, `5m` or `2h`; a bare number is seconds.
pub(crate) fn parse_duration(name: &str, text: &str) -> Result<Duration, String> {
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

pub(crate) fn config() -> Result<Config, String> {
    let mut args = std::env::args().skip(1);
    let mut flags: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    let mut demo = std::env::var("COMMERCE_DEMO").is_ok_and(|v| v == "1" || v == "true");
    let mut test_payments =
        std::env::var("COMMERCE_TEST_PAYMENTS").is_ok_and(|v| v == "1" || v == "true");
    let mut webhooks_allow_private =
        std::env::var("COMMERCE_WEBHOOKS_ALLOW_PRIVATE").is_ok_and(|v| v == "1" || v == "true");
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
            "--webhooks-allow-private" => {
                webhooks_allow_private = true;
                continue;
            }
            "--webhook-key" => "webhook_key",
            "--webhook-retry-schedule" => "webhook_retry_schedule",
            "--webhook-timeout" => "webhook_timeout",
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
            "--paypal-client-id" => "paypal_client_id",
            "--paypal-client-secret" => "paypal_client_secret",
            "--paypal-webhook-id" => "paypal_webhook_id",
            "--paypal-api-base" => "paypal_api_base",
            "--paypal-cert-hosts" => "paypal_cert_hosts",
            "--paypal-return-url" => "paypal_return_url",
            "--paypal-cancel-url" => "paypal_cancel_url",
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
    let paypal = match (
        setting("paypal_client_id", "PAYPAL_CLIENT_ID"),
        setting("paypal_client_secret", "PAYPAL_CLIENT_SECRET"),
        setting("paypal_webhook_id", "PAYPAL_WEBHOOK_ID"),
    ) {
        (Some(client_id), Some(client_secret), Some(webhook_id)) => Some(PayPal {
            client_id,
            client_secret,
            webhook_id,
            api_base: setting("paypal_api_base", "PAYPAL_API_BASE"),
            cert_hosts: setting("paypal_cert_hosts", "PAYPAL_CERT_HOSTS").map(|l| {
                l.split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_string)
                    .collect()
            }),
            return_url: setting("paypal_return_url", "PAYPAL_RETURN_URL")
                .unwrap_or_else(|| format!("http://{bind}/orders/{{ORDER_ID}}?paypal=approved")),
            cancel_url: setting("paypal_cancel_url", "PAYPAL_CANCEL_URL")
                .unwrap_or_else(|| format!("http://{bind}/orders/{{ORDER_ID}}?paypal=cancelled")),
        }),
        (None, None, None) => None,
        _ => {
            return Err(
                "PayPal needs PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET and PAYPAL_WEBHOOK_ID (or none of them)"
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
    if stripe.is_none() && paypal.is_none() && !test_payments && !demo {
        return Err(
            "no payment provider: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (or PayPal's PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET and PAYPAL_WEBHOOK_ID), or give --test-payments to take test payments that move no money"
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
    let webhook_retries = setting("webhook_retry_schedule", "COMMERCE_WEBHOOK_RETRY_SCHEDULE")
        .map(|l| parse_schedule("--webhook-retry-schedule", &l))
        .transpose()?;
    Ok(Config {
        unpaid_order_timeout,
        guest_cart_lifetime,
        webhook_key: setting("webhook_key", "COMMERCE_WEBHOOK_KEY"),
        oidc_providers: oidc_providers(&std::env::vars().collect::<Vec<_>>())?,
        oidc_redirect_uris: std::env::var("COMMERCE_OIDC_REDIRECT_URIS")
            .map(|l| {
                l.split(',')
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        webhook_retries,
        webhooks_allow_private,
        webhook_timeout: match setting("webhook_timeout", "COMMERCE_WEBHOOK_TIMEOUT") {
            Some(d) => parse_duration("--webhook-timeout", &d)?,
            None => Duration::from_secs(15),
        },
        synchronous,
        trusted_proxies,
        connections,
        body_timeout,
        log_format,
        cors,
        stripe,
        paypal,
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
