//! Outbound webhooks as the shop sets them up: endpoints, the events each hears, when a failed
//! delivery is tried again, and which targets a delivery may reach. Signing is in
//! [`crate::webhook_signing`]; the outbox and its relay build on both.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{WebhookDeliveryId, WebhookEndpointId};
use crate::outbox::OutboxEvent;
use crate::validation::{check_text, Lines, ValidationErrors};

/// The longest endpoint URL taken.
pub const MAX_URL_CHARS: usize = 2_048;
/// The longest description of an endpoint.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// What happened, as a receiver reads it in `type` (API.md's list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// `order.created`: an order was placed.
    OrderCreated,
    /// `order.paid`: its payment succeeded.
    OrderPaid,
    /// `order.status_changed`: any status change.
    OrderStatusChanged,
    /// `order.cancelled`.
    OrderCancelled,
    /// `order.refunded`: a refund, in part or in full.
    OrderRefunded,
    /// `payment.failed`: an attempt to pay failed.
    PaymentFailed,
    /// `product.created`.
    ProductCreated,
    /// `product.updated` (stock included).
    ProductUpdated,
    /// `product.deleted`.
    ProductDeleted,
    /// `inventory.low_stock`: stock fell to or below its threshold.
    InventoryLowStock,
    /// `inventory.out_of_stock`: stock reached zero.
    InventoryOutOfStock,
    /// `inventory.back_in_stock`: stock came back from zero.
    InventoryBackInStock,
    /// `customer.created`: an account was made.
    CustomerCreated,
    /// `review.created`.
    ReviewCreated,
    /// `webhook.test`: sent on request, to try an endpoint.
    WebhookTest,
}

impl EventType {
    /// Every type, in API.md's order.
    pub const ALL: [EventType; 15] = [
        EventType::OrderCreated,
        EventType::OrderPaid,
        EventType::OrderStatusChanged,
        EventType::OrderCancelled,
        EventType::OrderRefunded,
        EventType::PaymentFailed,
        EventType::ProductCreated,
        EventType::ProductUpdated,
        EventType::ProductDeleted,
        EventType::InventoryLowStock,
        EventType::InventoryOutOfStock,
        EventType::InventoryBackInStock,
        EventType::CustomerCreated,
        EventType::ReviewCreated,
        EventType::WebhookTest,
    ];

    /// The name on the wire: `order.paid`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::OrderCreated => "order.created",
            EventType::OrderPaid => "order.paid",
            EventType::OrderStatusChanged => "order.status_changed",
            EventType::OrderCancelled => "order.cancelled",
            EventType::OrderRefunded => "order.refunded",
            EventType::PaymentFailed => "payment.failed",
            EventType::ProductCreated => "product.created",
            EventType::ProductUpdated => "product.updated",
            EventType::ProductDeleted => "product.deleted",
            EventType::InventoryLowStock => "inventory.low_stock",
            EventType::InventoryOutOfStock => "inventory.out_of_stock",
            EventType::InventoryBackInStock => "inventory.back_in_stock",
            EventType::CustomerCreated => "customer.created",
            EventType::ReviewCreated => "review.created",
            EventType::WebhookTest => "webhook.test",
        }
    }

    /// The type of that name (`order.paid`).
    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        EventType::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("no event type `{name}`")))
    }
}

/// Which events an endpoint hears: all (`["*"]`, new types included as they come) or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventFilter {
    /// Every type, those added later included.
    All,
    /// These types.
    Only(Vec<EventType>),
}

impl EventFilter {
    /// Whether an endpoint with this filter gets events of `event`. A test event reaches
    /// every endpoint it is sent to.
    pub fn hears(&self, event: EventType) -> bool {
        match self {
            EventFilter::All => true,
            EventFilter::Only(types) => event == EventType::WebhookTest || types.contains(&event),
        }
    }

    /// From the names a client sent: known names (each once, sorted), or all of them when
    /// `"*"` is among them (it already says everything the others say).
    pub fn from_names(names: &[String]) -> Result<EventFilter, String> {
        match names {
            [] => Err("name at least one event, or \"*\" for all".into()),
            _ if names.iter().any(|n| n == "*") => Ok(EventFilter::All),
            _ => {
                let mut types = Vec::with_capacity(names.len());
                for name in names {
                    let t = EventType::parse(name)
                        .ok_or_else(|| format!("`{name}` is not an event type"))?;
                    types.push(t);
                }
                types.sort();
                types.dedup();
                Ok(EventFilter::Only(types))
            }
        }
    }

    /// The names, as the API shows them.
    pub fn names(&self) -> Vec<String> {
        match self {
            EventFilter::All => vec!["*".into()],
            EventFilter::Only(types) => types.iter().map(|t| t.as_str().to_string()).collect(),
        }
    }
}

impl Serialize for EventFilter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl<'de> Deserialize<'de> for EventFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        EventFilter::from_names(&names).map_err(serde::de::Error::custom)
    }
}

/// Where a shop's events go. The signing secret is kept apart (it is shown once, and stored so
/// that a dump of the database alone cannot sign).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// Its id.
    pub id: WebhookEndpointId,
    /// Where deliveries go (http or https; private targets only when the server allows).
    pub url: String,
    /// What it hears.
    pub events: EventFilter,
    /// The admin's note.
    pub description: Option<String>,
    /// Whether it gets deliveries.
    pub active: bool,
    /// Since when every delivery to it has failed (none succeeded since); `None` while it
    /// answers. After [`DISABLE_AFTER_FAILING`] it is turned off and the admins are told.
    #[serde(default)]
    pub failing_since: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What an admin sends to create or replace an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebhookEndpointDraft {
    /// Where deliveries go.
    pub url: String,
    /// Event type names, or `["*"]` for all.
    pub events: Vec<String>,
    /// A note.
    pub description: Option<String>,
    /// Whether it gets deliveries (default true).
    pub active: Option<bool>,
}

impl WebhookEndpointDraft {
    /// Checks the draft: an absolute `https` (or `http`) URL with a host and no credentials or
    /// fragment, known event names, a description of one paragraph.
    pub fn validate(
        self,
        id: WebhookEndpointId,
        now: DateTime<Utc>,
    ) -> Result<WebhookEndpoint, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let url = self.url.trim().to_string();
        if let Err(why) = check_url(&url) {
            errors.add("url", why);
        }
        let events = EventFilter::from_names(&self.events).unwrap_or_else(|why| {
            errors.add("events", why);
            EventFilter::All
        });
        let description = self
            .description
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty());
        if let Some(d) = &description {
            if d.chars().count() > MAX_DESCRIPTION_CHARS {
                errors.add(
                    "description",
                    format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
                );
            }
            check_text(&mut errors, "description", d, Lines::Many);
        }
        errors.into_result(WebhookEndpoint {
            id,
            url,
            events,
            description,
            active: self.active.unwrap_or(true),
            failing_since: None,
            created_at: now,
            updated_at: now,
        })
    }
}

fn check_url(url: &str) -> Result<(), String> {
    if url.chars().count() > MAX_URL_CHARS {
        return Err(format!("must be at most {MAX_URL_CHARS} characters"));
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("is not an absolute URL: {e}"))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err("must be an https (or http) URL".into());
    }
    if parsed.host().is_none() {
        return Err("must name a host".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry credentials (put them in the receiver's path)".into());
    }
    if parsed.fragment().is_some() {
        return Err("must not have a fragment".into());
    }
    Ok(())
}

/// How long an endpoint may fail every delivery before it is turned off (5 days).
pub const DISABLE_AFTER_FAILING: Duration = Duration::from_secs(5 * 24 * 3_600);

/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3_600);

/// An endpoint's signing secrets as stored: sealed with the server's
/// [`SealingKey`](crate::webhook_signing::SealingKey), never in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecrets {
    /// The secret signing now.
    pub current: Vec<u8>,
    /// The secret before the last rotation, signing too until the time given.
    pub previous: Option<(Vec<u8>, DateTime<Utc>)>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not yet delivered; tried at `next_attempt_at`.
    Pending,
    /// A 2xx answer came.
    Succeeded,
    /// Every attempt failed (or the endpoint answered 410 Gone).
    Failed,
}

impl DeliveryState {
    /// Its name in the API (`pending`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Succeeded => "succeeded",
            DeliveryState::Failed => "failed",
        }
    }

    /// The state of that name.
    pub fn parse(text: &str) -> Option<DeliveryState> {
        match text {
            "pending" => Some(DeliveryState::Pending),
            "succeeded" => Some(DeliveryState::Succeeded),
            "failed" => Some(DeliveryState::Failed),
            _ => None,
        }
    }
}

/// One event on its way to one endpoint, as the admin lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// Its id.
    pub id: WebhookDeliveryId,
    /// The endpoint it goes to.
    pub endpoint_id: WebhookEndpointId,
    /// The event's `webhook-id`.
    pub event_id: String,
    /// The event's type.
    pub event_type: EventType,
    /// Attempts made.
    pub attempts: u32,
    /// The last answer's status, when one came.
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Where it stands.
    pub state: DeliveryState,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When its event was committed.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A delivery due now, with its event, as a relay sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    /// Its id.
    pub id: WebhookDeliveryId,
    /// The event, as the outbox holds it.
    pub event: OutboxEvent,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// An endpoint a relay took, with its due deliveries in the order their events were committed.
/// No other relay sends to it until the lease runs out or is given back, which keeps each
/// endpoint's events in order and each delivery in one relay's hands.
#[derive(Debug, Clone, PartialEq)]
pub struct LeasedEndpoint {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// Its secrets, sealed.
    pub secrets: SealedSecrets,
    /// Its due deliveries, oldest event first.
    pub deliveries: Vec<DueDelivery>,
}

/// What became of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    /// A 2xx came: delivered.
    Succeeded,
    /// Failed; tried again then.
    RetryAt(DateTime<Utc>),
    /// Failed for good.
    Failed,
}

impl AfterAttempt {
    /// What a delivery's `state` and `next_attempt_at` become.
    pub fn stored(self) -> (DeliveryState, Option<DateTime<Utc>>) {
        match self {
            AfterAttempt::Succeeded => (DeliveryState::Succeeded, None),
            AfterAttempt::RetryAt(at) => (DeliveryState::Pending, Some(at)),
            AfterAttempt::Failed => (DeliveryState::Failed, None),
        }
    }
}

/// One attempt's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// The delivery.
    pub delivery_id: WebhookDeliveryId,
    /// When it was made.
    pub at: DateTime<Utc>,
    /// The answer's status, when one came.
    pub status_code: Option<u16>,
    /// Why it failed, in a line (no answer, a refused target, a status that is not 2xx).
    pub error: Option<String>,
    /// What becomes of the delivery.
    pub next: AfterAttempt,
}

/// Attempts at one endpoint's deliveries, as a relay records them together (one write for
/// many, so that a relay under load does not queue a write per delivery), with what became
/// of the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempts {
    /// The endpoint.
    pub endpoint_id: WebhookEndpointId,
    /// In the order they were made.
    pub attempts: Vec<DeliveryAttempt>,
    /// Since when every delivery to the endpoint has failed, after these attempts (`None`:
    /// the last one succeeded, or none failed since the last success).
    pub failing_since: Option<DateTime<Utc>>,
    /// The endpoint is to be turned off (it answered 410 Gone, or has failed for too long).
    pub disable_endpoint: bool,
    /// The relay that made them, whose lease of the endpoint runs on to `lease_until` (a
    /// lease since taken by another relay is left alone).
    pub relay: uuid::Uuid,
    /// Until when the lease runs.
    pub lease_until: DateTime<Utc>,
}

/// When a failed delivery is tried again: the n-th wait after the n-th failed attempt, then
/// no more. API.md's default: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl Default for RetrySchedule {
    fn default() -> Self {
        let (s, m, h) = (1, 60, 3_600);
        RetrySchedule(
            [
                0,
                5 * s,
                5 * m,
                30 * m,
                2 * h,
                5 * h,
                10 * h,
                14 * h,
                20 * h,
                24 * h,
            ]
            .into_iter()
            .map(Duration::from_secs)
            .collect(),
        )
    }
}

impl RetrySchedule {
    /// A schedule of these waits (tests use seconds); at least one.
    pub fn new(waits: Vec<Duration>) -> Option<RetrySchedule> {
        (!waits.is_empty()).then_some(RetrySchedule(waits))
    }

    /// How long to wait after `failed` failed attempts (1 for the first), or `None` when the
    /// delivery has had all its tries.
    pub fn wait_after(&self, failed: u32) -> Option<Duration> {
        let index = usize::try_from(failed.checked_sub(1)?).ok()?;
        self.0.get(index).copied()
    }

    /// Every attempt a delivery gets: the first, and one after each wait.
    pub fn attempts(&self) -> u32 {
        u32::try_from(self.0.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }
}

/// Whether a URL names a target deliveries may not reach (an address of
/// [`is_private_target`], or `localhost`), as far as can be told without DNS: what an endpoint
/// is refused at creation. Names are checked again after DNS at every delivery.
pub fn names_private_target(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    match parsed.host() {
        Some(url::Host::Ipv4(v4)) => is_private_target(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => is_private_target(IpAddr::V6(v6)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => false,
    }
}

/// Whether a delivery must not go to `address` unless the server allows private targets:
/// loopback, private, link-local (cloud metadata at 169.254.169.254 among them), shared
/// (carrier-grade NAT), unspecified, broadcast, documentation and unique-local addresses, and
/// IPv4 addresses written as IPv6. Checked after DNS, at every delivery, so a name that later
/// resolves inside the network is refused too.
pub fn is_private_target(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_target(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xff00) == 0xff00 // multicast
                || first == 0x2001 && v6.segments()[1] == 0x0db8 // documentation
                || first == 0x0064 && v6.segments()[1] == 0xff9b // NAT64 onto IPv4
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(url: &str, events: &[&str]) -> WebhookEndpointDraft {
        WebhookEndpointDraft {
            url: url.into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            ..Default::default()
        }
    }

    fn errors(d: WebhookEndpointDraft) -> Vec<String> {
        d.validate(WebhookEndpointId::random(), Utc::now())
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn event_names_round_trip_and_filters_hear_what_they_name() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        let only = EventFilter::from_names(&["order.paid".into(), "order.paid".into()]).unwrap();
        assert_eq!(only, EventFilter::Only(vec![EventType::OrderPaid]));
        assert!(only.hears(EventType::OrderPaid) && only.hears(EventType::WebhookTest));
        assert!(!only.hears(EventType::OrderCreated));
        assert!(EventFilter::All.hears(EventType::ProductDeleted));
        assert_eq!(
            serde_json::to_string(&EventFilter::All).unwrap(),
            r#"["*"]"#
        );
        assert!(EventFilter::from_names(&[]).is_err());
        assert_eq!(
            EventFilter::from_names(&["order.paid".into(), "*".into()]),
            Ok(EventFilter::All)
        );
        assert!(EventFilter::from_names(&["order.shipped".into()]).is_err());
    }

    #[test]
    fn endpoints_need_a_plain_web_url_and_known_events() {
        let ok = draft(" https://erp.example.com/hooks/commerce ", &["*"])
            .validate(WebhookEndpointId::random(), Utc::now())
            .unwrap();
        assert_eq!(ok.url, "https://erp.example.com/hooks/commerce");
        assert!(ok.active);
        assert_eq!(errors(draft("ftp://example.com/x", &["*"])), ["url"]);
        assert_eq!(errors(draft("/hooks", &["*"])), ["url"]);
        assert_eq!(
            errors(draft("https://user:pw@example.com/", &["*"])),
            ["url"]
        );
        assert_eq!(errors(draft("https://example.com/#x", &["*"])), ["url"]);
        assert_eq!(errors(draft("https://example.com/", &["nope"])), ["events"]);
        let mut long = draft("https://example.com/", &["*"]);
        long.description = Some("a\u{0}b".into());
        assert_eq!(errors(long), ["description"]);
    }

    #[test]
    fn the_default_schedule_is_api_mds_and_ends() {
        let s = RetrySchedule::default();
        assert_eq!(s.attempts(), 11);
        assert_eq!(s.wait_after(1), Some(Duration::ZERO));
        assert_eq!(s.wait_after(2), Some(Duration::from_secs(5)));
        assert_eq!(s.wait_after(10), Some(Duration::from_secs(24 * 3_600)));
        assert_eq!(s.wait_after(11), None);
        assert_eq!(s.wait_after(0), None);
        assert_eq!(RetrySchedule::new(vec![]), None);
    }

    #[test]
    fn private_and_metadata_targets_are_refused_public_ones_not() {
        let private = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ];
        for a in private {
            assert!(is_private_target(a.parse().unwrap()), "{a} is private");
        }
        for a in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"] {
            assert!(!is_private_target(a.parse().unwrap()), "{a} is public");
        }
    }
}
