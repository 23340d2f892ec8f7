//! The bundled REST server: the engine on SQLite (or PostgreSQL) behind the HTTP API.
//!
//! Run: `cargo run --example server --features full -- --demo`, then open
//! http://127.0.0.1:8080/docs. `--help` lists every setting; each is a flag or an environment
//! variable.
//!
//! `config` reads the settings, `storage` opens SQLite or PostgreSQL, `demo` seeds the demo
//! shop, `logging` writes the log; this file assembles the shop and serves it until a signal.

mod config;
mod demo;
mod logging;
mod storage;

use std::sync::Arc;
use std::time::Duration;

use commerce::account::Role;
use commerce::http::{ApiConfig, BodyLimits, JwtIssuer};
use commerce::images::DirImageStore;
use commerce::mail::{FileMailer, SmtpConfig, SmtpMailer};
use commerce::paypal::{PayPalConfig, PayPalGateway};
use commerce::pdf::PdfInvoices;
use commerce::ports::Mailer;
use commerce::service::WebhookRelayConfig;
use commerce::stripe::{StripeConfig, StripeGateway};
use commerce::webhook_signing::SealingKey;
use commerce::webhooks::{HttpWebhookSender, SenderOptions};
use commerce::CommerceError;
use config::{config, Config};
use demo::seed_demo;
use storage::storage;

/// jemalloc: each thread allocates from a cache of its own and the two workers do not share
/// one lock. With glibc's malloc they took turns at an arena lock (most of the server's
/// futex calls under read load were its wake-ups: a future boxed on one worker is often freed
/// on the other), and glibc kept freed memory resident unless its arenas were capped.
/// Measured against glibc with two arenas (README, performance): less server CPU per request
/// on reads and writes, peak 52–56 MiB under `benches/http_writes.sh` and 137 MiB with 10,000
/// connections (glibc: 50 and 182). jemalloc's own decay (dirty pages handed back over ten
/// seconds) is kept. mimalloc was measured too: as fast, but 65 MiB and 240 MiB.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
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
        None if config.paypal.is_none() => builder.test_payments(),
        None => builder,
    };
    // PayPal beside Stripe (chosen with `payment_provider: "paypal"`), or alone.
    let builder = match &config.paypal {
        Some(paypal) => {
            let mut settings = PayPalConfig::new(
                paypal.client_id.clone(),
                paypal.client_secret.clone(),
                paypal.webhook_id.clone(),
            );
            if let Some(base) = &paypal.api_base {
                settings.client.api_base = base.clone();
            }
            if let Some(hosts) = &paypal.cert_hosts {
                settings.cert_hosts = hosts.clone();
            }
            settings.return_url = paypal.return_url.clone();
            settings.cancel_url = paypal.cancel_url.clone();
            builder.add_gateway(Arc::new(PayPalGateway::new(settings)?))
        }
        None => builder,
    };
    let images = DirImageStore::new(&config.image_dir, "/images")
        .map_err(|e| format!("{}: {e}", config.image_dir.display()))?;
    let mut webhooks = WebhookRelayConfig {
        allow_private_targets: config.webhooks_allow_private,
        send_timeout: config.webhook_timeout,
        // Long enough for one send and its recording; renewed by each attempt.
        lease: config.webhook_timeout + Duration::from_secs(10),
        ..WebhookRelayConfig::default()
    };
    if let Some(retries) = &config.webhook_retries {
        webhooks.retries = retries.clone();
    }
    let sender = HttpWebhookSender::new(SenderOptions {
        allow_private: config.webhooks_allow_private,
        timeout: config.webhook_timeout,
    })?;
    let engine = commerce::service::EngineConfig {
        password_hashes_at_once: password_hashes_at_once(),
        unpaid_order_timeout: config.unpaid_order_timeout,
        guest_cart_lifetime: config.guest_cart_lifetime,
        webhooks,
        sign_in_redirect_uris: config.oidc_redirect_uris.clone(),
        ..commerce::service::EngineConfig::default()
    };
    let mut builder = builder;
    for provider in &config.oidc_providers {
        let client = commerce::oidc::OidcClient::new(provider.clone())
            .map_err(|e| format!("COMMERCE_OIDC_{}: {e}", provider.name.to_uppercase()))?;
        builder = builder.identity_provider(Arc::new(client));
    }
    let shop = builder
        .config(engine)
        .webhook_sender(Arc::new(sender))
        .sealing_key(webhook_key(&config)?)
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
    let mut providers = Vec::new();
    if let Some(stripe) = &config.stripe {
        providers.push(format!(
            "Stripe at {}",
            stripe
                .api_base
                .as_deref()
                .unwrap_or("https://api.stripe.com")
        ));
    }
    if let Some(paypal) = &config.paypal {
        providers.push(format!(
            "PayPal at {}",
            paypal
                .api_base
                .as_deref()
                .unwrap_or(commerce::paypal::SANDBOX)
        ));
    }
    let payments = if providers.is_empty() {
        "TEST payments through the built-in provider, which moves no money".to_string()
    } else {
        format!("payments through {}", providers.join(" and "))
    };
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
    // The outbox goes out to webhook endpoints from every process (each endpoint is sent to
    // by one at a time).
    let relay = shop.spawn_webhook_relay(stopped.clone());
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
    let _ = relay.await;
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
    given_or_kept(
        config,
        config.jwt_secret.as_ref(),
        "jwt-secret",
        "COMMERCE_JWT_SECRET",
        || Ok(commerce::account::random_token()?),
    )
}

/// The key that seals webhook secrets, kept like the JWT secret: outside the database, so a
/// dump of it alone cannot sign deliveries.
fn webhook_key(config: &Config) -> Result<SealingKey, Box<dyn std::error::Error>> {
    let text = given_or_kept(
        config,
        config.webhook_key.as_ref(),
        "webhook-key",
        "COMMERCE_WEBHOOK_KEY",
        || Ok(SealingKey::generate_text()?),
    )?;
    Ok(SealingKey::parse(&text).map_err(|e| format!("COMMERCE_WEBHOOK_KEY: {e}"))?)
}

/// A setting given, else the value kept in DATA_DIR/`file`, else `make`'s, kept there.
fn given_or_kept(
    config: &Config,
    given: Option<&String>,
    file: &str,
    env: &str,
    make: impl FnOnce() -> Result<String, Box<dyn std::error::Error>>,
) -> Result<String, Box<dyn std::error::Error>> {
    if let Some(value) = given {
        return Ok(value.clone());
    }
    let path = config.data_dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(kept) if !kept.trim().is_empty() => return Ok(kept.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", path.display()).into()),
    }
    let value = make()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, value.as_bytes())?;
    eprintln!(
        "warning: no {env} given; generated one and kept it in {}",
        path.display()
    );
    Ok(value)
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
