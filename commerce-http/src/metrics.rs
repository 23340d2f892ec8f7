//! `GET /metrics` in the Prometheus text format: requests by method and status, and request
//! durations by method as a histogram. Counted with atomics (no lock on the request path)
//! and per router, so that several APIs in one process (as in tests) do not mix.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use poem::http::Method;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::cache::CatalogCache;

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "OTHER"];
/// Upper bounds in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
const STATUSES: usize = 500; // 100..=599

/// Request counts and latencies by method and status, served at `/metrics` in Prometheus'
/// text format.
pub struct Metrics {
    started: Instant,
    /// [method][status - 100]
    requests: Vec<AtomicU64>,
    /// [method][bucket], cumulative buckets are summed when rendered.
    buckets: Vec<AtomicU64>,
    /// Per method: the count of requests slower than the last bucket, and total microseconds.
    overflow: Vec<AtomicU64>,
    micros: Vec<AtomicU64>,
}

fn method_index(m: &Method) -> usize {
    match *m {
        Method::GET | Method::HEAD => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::DELETE => 3,
        Method::PATCH => 4,
        _ => 5,
    }
}

fn zeros(n: usize) -> Vec<AtomicU64> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            requests: zeros(METHODS.len() * STATUSES),
            buckets: zeros(METHODS.len() * BUCKETS.len()),
            overflow: zeros(METHODS.len()),
            micros: zeros(METHODS.len()),
        }
    }
}

impl Metrics {
    /// Counts one request and how long it took.
    pub fn record(&self, method: &Method, status: u16, seconds: f64) {
        let m = method_index(method);
        let s = usize::from(status.clamp(100, 599)) - 100;
        self.requests[m * STATUSES + s].fetch_add(1, Ordering::Relaxed);
        match BUCKETS.iter().position(|b| seconds <= *b) {
            Some(b) => self.buckets[m * BUCKETS.len() + b].fetch_add(1, Ordering::Relaxed),
            None => self.overflow[m].fetch_add(1, Ordering::Relaxed),
        };
        self.micros[m].fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (version 0.0.4), with the catalog cache's counts.
    pub fn render_with(&self, catalog_cache: &CatalogCache) -> String {
        let mut out = self.render();
        let (hits, misses) = catalog_cache.hits_and_misses();
        let _ = writeln!(
            out,
            "# HELP commerce_catalog_cache_reads_total Public catalog reads, answered from the kept replies (hit) or built afresh (miss).\n# TYPE commerce_catalog_cache_reads_total counter\ncommerce_catalog_cache_reads_total{{result=\"hit\"}} {hits}\ncommerce_catalog_cache_reads_total{{result=\"miss\"}} {misses}"
        );
        out
    }

    /// The Prometheus text exposition (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let _ = writeln!(
            out,
            "# HELP commerce_uptime_seconds Seconds since the API started.\n# TYPE commerce_uptime_seconds gauge\ncommerce_uptime_seconds {:.3}",
            self.started.elapsed().as_secs_f64()
        );
        out.push_str("# HELP commerce_http_requests_total HTTP requests answered, by method and status.\n# TYPE commerce_http_requests_total counter\n");
        for (m, method) in METHODS.iter().enumerate() {
            for s in 0..STATUSES {
                let n = self.requests[m * STATUSES + s].load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "commerce_http_requests_total{{method=\"{method}\",status=\"{}\"}} {n}",
                        s + 100
                    );
                }
            }
        }
        out.push_str("# HELP commerce_http_request_duration_seconds Time to answer, by method.\n# TYPE commerce_http_request_duration_seconds histogram\n");
        for (m, method) in METHODS.iter().enumerate() {
            let mut cumulative = 0;
            let mut lines = String::new();
            for (b, bound) in BUCKETS.iter().enumerate() {
                cumulative += self.buckets[m * BUCKETS.len() + b].load(Ordering::Relaxed);
                let _ = writeln!(
                    lines,
                    "commerce_http_request_duration_seconds_bucket{{method=\"{method}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = cumulative + self.overflow[m].load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            out.push_str(&lines);
            let _ = writeln!(
                out,
                "commerce_http_request_duration_seconds_bucket{{method=\"{method}\",le=\"+Inf\"}} {count}\ncommerce_http_request_duration_seconds_sum{{method=\"{method}\"}} {:.6}\ncommerce_http_request_duration_seconds_count{{method=\"{method}\"}} {count}",
                self.micros[m].load(Ordering::Relaxed) as f64 / 1e6
            );
        }
        out
    }
}

/// Counts every answered request.
pub async fn count_requests<E: Endpoint>(
    metrics: Arc<Metrics>,
    next: E,
    req: Request,
) -> poem::Result<Response> {
    let method = req.method().clone();
    let started = Instant::now();
    let resp = match next.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    metrics.record(
        &method,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.record(&Method::GET, 200, 0.0004);
        m.record(&Method::GET, 200, 0.003);
        m.record(&Method::POST, 422, 9.0);
        let text = m.render();
        assert!(text.contains("commerce_http_requests_total{method=\"GET\",status=\"200\"} 2\n"));
        assert!(text.contains("commerce_http_requests_total{method=\"POST\",status=\"422\"} 1\n"));
        assert!(text.contains(
            "commerce_http_request_duration_seconds_bucket{method=\"GET\",le=\"0.0005\"} 1\n"
        ));
        assert!(text.contains(
            "commerce_http_request_duration_seconds_bucket{method=\"GET\",le=\"0.005\"} 2\n"
        ));
        assert!(text.contains(
            "commerce_http_request_duration_seconds_bucket{method=\"POST\",le=\"5\"} 0\n"
        ));
        assert!(text.contains(
            "commerce_http_request_duration_seconds_bucket{method=\"POST\",le=\"+Inf\"} 1\n"
        ));
        assert!(text.contains("commerce_http_request_duration_seconds_count{method=\"GET\"} 2\n"));
        assert!(!text.contains("method=\"PUT\""));
    }
}
