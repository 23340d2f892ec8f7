//! A general request limit per client address (GCRA: a steady rate with a burst), far above
//! what a person or a test suite does, below what a flood does. Over it: 429 `rate_limited`
//! with `Retry-After`. Loopback is exempt by default, so load tests on the same machine
//! measure the server, not the limiter.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::{Endpoint, IntoResponse, Request, Response};

use crate::auth::client_ip;
use crate::problem::ApiError;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientLimits {
    /// Sustained requests per second per address; 0 turns the limit off.
    pub per_second: u32,
    /// Requests an address may send at once above the sustained rate.
    pub burst: u32,
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

pub struct ClientLimiter {
    limits: ClientLimits,
    /// Per address: the theoretical arrival time of its next request.
    next: Mutex<HashMap<IpAddr, Instant>>,
}

impl ClientLimiter {
    pub fn new(limits: ClientLimits) -> Self {
        Self {
            limits,
            next: Mutex::new(HashMap::new()),
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
        let mut next = self.next.lock().ok()?;
        if next.len() >= MAX_TRACKED {
            next.retain(|_, t| *t > now);
        }
        let tat = next.get(&ip).copied().unwrap_or(now).max(now);
        if tat > now + tolerance {
            return Some(tat - now - tolerance);
        }
        next.insert(ip, tat + interval);
        None
    }
}

pub async fn limit_clients<E: Endpoint>(
    limiter: Arc<ClientLimiter>,
    next: E,
    req: Request,
) -> poem::Result<Response> {
    if let Some(ip) = client_ip(&req) {
        if let Some(wait) = limiter.check(ip, Instant::now()) {
            return Ok(
                ApiError::rate_limited(wait, "too many requests from this address").into_response(),
            );
        }
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
