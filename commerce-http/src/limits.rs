//! A general request limit per client address (GCRA: a steady rate with a burst), far above
//! what a person or a test suite does, below what a flood does. Over it: 429 `rate_limited`
//! with `Retry-After`. Loopback is exempt by default, so load tests on the same machine
//! measure the server, not the limiter.
//!
//! The limit holds across server processes sharing the storage: each process decides at once
//! from its own view, and every [`SHARE_EVERY`] adds what it let in to each client's shared
//! time in storage (`ClientRateStore`, one statement per batch) and takes back the sum of
//! every process's. A client spread over N processes gets the rate once, not N times; between
//! two exchanges each process may let in at most its burst of a client new to it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use commerce_core::Commerce;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::auth::client_ip;
use crate::problem::ApiError;

/// How fast one client address may call the API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientLimits {
    /// Sustained requests per second per address; 0 turns the limit off.
    pub per_second: u32,
    /// Requests an address may send at once above the sustained rate.
    pub burst: u32,
    /// Whether loopback addresses (a proxy on the same machine, tests) are let through
    /// uncounted. Behind a proxy, set the trusted proxies so each client is counted by its own
    /// address.
    pub exempt_loopback: bool,
}

impl Default for ClientLimits {
    fn default() -> Self {
        Self {
            per_second: 100,
            burst: 1000,
            exempt_loopback: true,
        }
    }
}

/// Addresses tracked at most before idle ones are swept.
const MAX_TRACKED: usize = 100_000;

/// How often a process exchanges what it let in with the others.
pub const SHARE_EVERY: Duration = Duration::from_millis(100);

/// Exchanges between purges of clients idle for an hour.
const PURGE_EVERY: u64 = 36_000;

/// One client as this process sees it.
#[derive(Debug, Clone, Copy)]
struct Client {
    /// The theoretical arrival time of its next request.
    tat: Instant,
    /// Requests let in since the last exchange.
    unshared: u32,
}

/// Counts each client address's requests (a token bucket each), shared with other processes
/// on the same database so the limit holds across them.
pub struct ClientLimiter {
    limits: ClientLimits,
    clients: Mutex<HashMap<IpAddr, Client>>,
}

impl ClientLimiter {
    /// A limiter with these limits, counting from nothing.
    pub fn new(limits: ClientLimits) -> Self {
        Self {
            limits,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(1) / self.limits.per_second.max(1)
    }

    /// `None` to let the request in, `Some(wait)` to refuse it.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        if self.limits.per_second == 0 || (self.limits.exempt_loopback && ip.is_loopback()) {
            return None;
        }
        let interval = self.interval();
        let tolerance = interval * self.limits.burst;
        let mut clients = self.clients.lock().ok()?;
        if clients.len() >= MAX_TRACKED {
            clients.retain(|_, c| c.tat > now || c.unshared > 0);
        }
        let client = clients.entry(ip).or_insert(Client {
            tat: now,
            unshared: 0,
        });
        let tat = client.tat.max(now);
        if tat > now + tolerance {
            return Some(tat - now - tolerance);
        }
        client.tat = tat + interval;
        client.unshared = client.unshared.saturating_add(1);
        None
    }

    /// Adds what this process let in since the last exchange to the shared times, and takes
    /// each client's shared time (every process's requests) as its own when it is later.
    pub async fn share(&self, shop: &Commerce) -> Result<(), commerce_core::CommerceError> {
        let batch: Vec<(String, u32)> = match self.clients.lock() {
            Ok(mut clients) => clients
                .iter_mut()
                .filter(|(_, c)| c.unshared > 0)
                .map(|(ip, c)| (ip.to_string(), std::mem::take(&mut c.unshared)))
                .collect(),
            Err(_) => return Ok(()),
        };
        if batch.is_empty() {
            return Ok(());
        }
        let (utc, instant) = (shop.now(), Instant::now());
        let shared = shop
            .client_rates()
            .add_client_requests(&batch, self.interval(), utc)
            .await?;
        if let Ok(mut clients) = self.clients.lock() {
            for (ip, time) in shared {
                let (Ok(ip), Ok(ahead)) = (ip.parse::<IpAddr>(), (time - utc).to_std()) else {
                    continue;
                };
                if let Some(c) = clients.get_mut(&ip) {
                    // What was let in here since the batch was taken comes on top.
                    let since = self.interval() * c.unshared;
                    c.tat = c.tat.max(instant + ahead + since);
                }
            }
        }
        Ok(())
    }
}

/// Exchanges every [`SHARE_EVERY`] while the limiter lives (on the current tokio runtime;
/// without one, limits stay per process).
pub fn share_with_other_processes(limiter: &Arc<ClientLimiter>, shop: Commerce) {
    if limiter.limits.per_second == 0 {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let limiter: Weak<ClientLimiter> = Arc::downgrade(limiter);
    runtime.spawn(async move {
        let mut ticks = tokio::time::interval(SHARE_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut rounds = 0u64;
        loop {
            ticks.tick().await;
            let Some(limiter) = limiter.upgrade() else {
                return;
            };
            if let Err(e) = limiter.share(&shop).await {
                tracing::debug!(error = %e, "request counts not shared this time");
            }
            rounds += 1;
            if rounds.is_multiple_of(PURGE_EVERY) {
                let before = shop.now() - chrono::Duration::hours(1);
                if let Err(e) = shop.client_rates().purge_client_rates(before).await {
                    tracing::warn!(error = %e, "idle clients' rates not purged");
                }
            }
        }
    });
}

impl ClientLimiter {
    /// 429 with `Retry-After` when the request's address is over its rate; counts it.
    pub(crate) fn refusal(&self, req: &Request) -> Option<Response> {
        let wait = self.check(client_ip(req)?, Instant::now())?;
        Some(ApiError::rate_limited(wait, "too many requests from this address").into_response())
    }
}

/// The middleware: 429 with `Retry-After` for an address over its rate.
pub async fn limit_clients<E: Endpoint>(
    limiter: Arc<ClientLimiter>,
    next: E,
    req: Request,
) -> poem::Result<Response> {
    if let Some(refused) = limiter.refusal(&req) {
        return Ok(refused);
    }
    next.call(req).await.map(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_steady_rate_and_loopback_is_exempt() {
        let limiter = ClientLimiter::new(ClientLimits {
            per_second: 10,
            burst: 5,
            exempt_loopback: true,
        });
        let ip = IpAddr::from([192, 0, 2, 1]);
        let t0 = Instant::now();
        let passed = (0..20).filter(|_| limiter.check(ip, t0).is_none()).count();
        assert_eq!(passed, 6, "one plus the burst at once");
        let wait = limiter.check(ip, t0).unwrap();
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        // A tenth of a second later, one more.
        assert!(limiter.check(ip, t0 + Duration::from_millis(100)).is_none());
        assert!(limiter.check(ip, t0 + Duration::from_millis(100)).is_some());
        // Other addresses and loopback are not held back.
        assert!(limiter.check(IpAddr::from([192, 0, 2, 2]), t0).is_none());
        for _ in 0..100 {
            assert!(limiter.check(IpAddr::from([127, 0, 0, 1]), t0).is_none());
        }
    }

    #[tokio::test]
    async fn what_other_processes_let_in_counts_here() {
        let shop = Commerce::in_memory();
        let limits = ClientLimits {
            per_second: 10,
            burst: 5,
            exempt_loopback: false,
        };
        let (here, there) = (ClientLimiter::new(limits), ClientLimiter::new(limits));
        let ip = IpAddr::from([192, 0, 2, 1]);
        let t0 = Instant::now();
        // The other process lets in a full burst, and shares it.
        assert_eq!((0..6).filter(|_| there.check(ip, t0).is_none()).count(), 6);
        there.share(&shop).await.unwrap();
        // This one knew nothing of the client: one request, then the exchange tells it.
        assert!(here.check(ip, t0).is_none());
        here.share(&shop).await.unwrap();
        assert!(
            here.check(ip, Instant::now()).is_some(),
            "the client used its burst elsewhere"
        );
    }

    #[test]
    fn a_hundred_registrations_from_one_address_are_not_throttled() {
        let limiter = ClientLimiter::new(ClientLimits {
            exempt_loopback: false,
            ..ClientLimits::default()
        });
        let ip = IpAddr::from([192, 0, 2, 1]);
        let t0 = Instant::now();
        // Register, verify, log in: three requests each, all at once.
        assert!((0..300).all(|_| limiter.check(ip, t0).is_none()));
    }
}
