//! The audit log: who changed what in the shop, when, from where, and what it was before.
//!
//! Every change a vendor or admin makes (products, stock, images, categories, reviews'
//! moderation, discounts, tax rates, shipping methods, store settings, users' roles and
//! activation, order status changes, refunds, webhooks) carries an [`AuditEntry`] in its
//! [`ChangeRecord`](crate::outbox::ChangeRecord), which storage writes in the change's own
//! transaction: no change without its entry, no entry for a change that did not happen. So are
//! sign-ins recorded (`auth.login`, `auth.login_failed`, `auth.locked`), which change nothing
//! else. Nothing updates or deletes an entry.
//!
//! Where a request came from ([`RequestOrigin`]: the client's address, its user agent and the
//! request's id) is set by the HTTP layer around each request that may write, in a task-local,
//! so that services need not pass it through every call. An embedder calling the services
//! directly may set it the same way, or leave it empty.
//!
//! ```
//! use commerce_core::audit::{changes, RequestOrigin};
//! use serde_json::json;
//!
//! let before = json!({"name": "Lamp", "price": "10.00", "version": 3});
//! let after = json!({"name": "Lamp", "price": "12.00", "version": 4});
//! // Only what changed, as `[before, after]`; bookkeeping such as `version` is left out.
//! let changed = changes(Some(&before), Some(&after), &[]);
//! assert_eq!(serde_json::to_value(&changed).unwrap(), json!({"price": ["10.00", "12.00"]}));
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let origin = RequestOrigin { ip: Some("203.0.113.9".into()), ..Default::default() };
//! let seen = origin.scope(async { RequestOrigin::current() }).await;
//! assert_eq!(seen.ip.as_deref(), Some("203.0.113.9"));
//! assert_eq!(RequestOrigin::current(), RequestOrigin::default());
//! # });
//! ```

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::account::Role;
use crate::ids::{AuditEntryId, UserId};
use crate::ports::PageRequest;

/// What changed: each field's value before and after, as JSON. A new record's fields have
/// `null` before; a deleted one's `null` after.
pub type AuditChanges = BTreeMap<String, (Value, Value)>;

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its id.
    pub id: AuditEntryId,
    /// When.
    pub at: DateTime<Utc>,
    /// Who did it; `None` for a sign-in that failed or was refused (nobody was signed in).
    pub actor: Option<AuditActor>,
    /// `<target type>.<verb>`: `product.update`, `order.status`, `auth.login`.
    pub action: String,
    /// What it was done to.
    pub target: AuditTarget,
    /// Each field changed, before and after (secrets and hashes never shown).
    pub changes: AuditChanges,
    /// Where the request came from.
    pub origin: RequestOrigin,
    /// How it ended.
    pub outcome: AuditOutcome,
}

/// The user who acted, as they were then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditActor {
    /// Their id.
    pub id: UserId,
    /// Their role then.
    pub role: Role,
    /// Their email when the entry was written: storage fills it in from the user's record
    /// inside the write (a service does not read it first), so it is `None` in what a service
    /// hands storage, and in what storage reads back only if the user did not exist.
    pub email: Option<String>,
}

/// What was acted on: a type (`product`, `order`, `user`, `store`...) and its id, when it has
/// one (the store's settings have none; a sign-in with an email that names nobody has the
/// email as its target, of type `email`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditTarget {
    /// What it is (`product`, `order`, `user`, `email`...).
    pub kind: String,
    /// Which one, when there is one.
    pub id: Option<String>,
}

impl AuditTarget {
    /// A target of this kind and id.
    pub fn new(kind: &str, id: impl ToString) -> AuditTarget {
        AuditTarget {
            kind: kind.to_string(),
            id: Some(id.to_string()),
        }
    }

    /// A target that is one of a kind (the store's settings).
    pub fn only(kind: &str) -> AuditTarget {
        AuditTarget {
            kind: kind.to_string(),
            id: None,
        }
    }
}

/// How it ended. Changes are recorded only when they happen, so they are `Succeeded`; a
/// sign-in may also have `Failed` (a wrong password) or been `Refused` (too many failures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Done.
    Succeeded,
    /// Tried and failed (a wrong password).
    Failed,
    /// Not even tried (too many failures).
    Refused,
}

impl AuditOutcome {
    /// Every outcome.
    pub const ALL: [AuditOutcome; 3] = [
        AuditOutcome::Succeeded,
        AuditOutcome::Failed,
        AuditOutcome::Refused,
    ];

    /// Its name in the API (`succeeded`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Succeeded => "succeeded",
            AuditOutcome::Failed => "failed",
            AuditOutcome::Refused => "refused",
        }
    }

    /// The outcome of that name.
    pub fn parse(s: &str) -> Option<AuditOutcome> {
        AuditOutcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// Where a request came from, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RequestOrigin {
    /// The client's address (as trusted proxies report it).
    pub ip: Option<String>,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
    /// The request's `x-request-id`.
    pub request_id: Option<String>,
}

/// The longest user agent kept; longer ones are cut (at a character boundary).
pub const MAX_USER_AGENT: usize = 512;

tokio::task_local! {
    static ORIGIN: RequestOrigin;
}

impl RequestOrigin {
    /// A user agent as kept: control characters dropped, at most [`MAX_USER_AGENT`] bytes.
    pub fn clean_user_agent(agent: &str) -> String {
        kept_text(agent, MAX_USER_AGENT)
    }

    /// Runs `work` with this as the origin of every audit entry it writes.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        ORIGIN.scope(self, work).await
    }

    /// The origin of the work being done, empty outside [`scope`](Self::scope).
    pub fn current() -> RequestOrigin {
        ORIGIN.try_with(Clone::clone).unwrap_or_default()
    }
}

/// `text` as an entry keeps it: control characters dropped, at most `max` bytes (cut at a
/// character boundary).
pub fn kept_text(text: &str, max: usize) -> String {
    let mut kept = String::with_capacity(text.len().min(max));
    for c in text.chars().filter(|c| !c.is_control()) {
        if kept.len() + c.len_utf8() > max {
            break;
        }
        kept.push(c);
    }
    kept
}

/// Fields no entry shows: bookkeeping that changes with every write, and secrets.
const NEVER_SHOWN: [&str; 6] = [
    "version",
    "updated_at",
    "created_at",
    "password_hash",
    "token_version",
    "secret",
];

/// What changed between two serialisable records (`None`: it did not exist), top-level field
/// by field: only fields whose value differs, minus `hidden` and the bookkeeping every
/// record has (versions, times) and secrets (password hashes).
pub fn changes<T: Serialize>(
    before: Option<&T>,
    after: Option<&T>,
    hidden: &[&str],
) -> AuditChanges {
    let fields = |record: Option<&T>| match record.map(serde_json::to_value) {
        Some(Ok(Value::Object(map))) => map,
        _ => serde_json::Map::new(),
    };
    let mut before = fields(before);
    let after = fields(after);
    let mut changed = AuditChanges::new();
    for (field, new) in after {
        let old = before.remove(&field).unwrap_or(Value::Null);
        if old != new {
            changed.insert(field, (old, new));
        }
    }
    for (field, old) in before {
        if !old.is_null() {
            changed.insert(field, (old, Value::Null));
        }
    }
    changed.retain(|field, _| {
        !NEVER_SHOWN.contains(&field.as_str()) && !hidden.contains(&field.as_str())
    });
    changed
}

/// Which entries to list: each filter narrows; newest first, a page at a time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditQuery {
    /// Only what this user did.
    pub actor: Option<UserId>,
    /// Only this action (`product.update`).
    pub action: Option<String>,
    /// Only what was done to this kind of target.
    pub target_type: Option<String>,
    /// Only with `target_type`.
    pub target_id: Option<String>,
    /// From this time on (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Before this time (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// Which page, and how long.
    pub page: PageRequest,
}

impl AuditQuery {
    /// Whether `entry` is one this query lists (for storage that filters in memory).
    pub fn admits(&self, entry: &AuditEntry) -> bool {
        self.actor
            .is_none_or(|a| entry.actor.as_ref().is_some_and(|x| x.id == a))
            && self.action.as_ref().is_none_or(|a| &entry.action == a)
            && self
                .target_type
                .as_ref()
                .is_none_or(|t| &entry.target.kind == t)
            && self
                .target_id
                .as_ref()
                .is_none_or(|t| entry.target.id.as_ref() == Some(t))
            && self.from.is_none_or(|f| entry.at >= f)
            && self.to.is_none_or(|t| entry.at < t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_name_what_differs_and_never_secrets_or_bookkeeping() {
        let before = json!({"name": "A", "price": "1.00", "version": 1, "password_hash": "x"});
        let after = json!({"name": "B", "price": "1.00", "version": 2, "password_hash": "y"});
        let changed = changes(Some(&before), Some(&after), &[]);
        assert_eq!(
            serde_json::to_value(&changed).unwrap(),
            json!({"name": ["A", "B"]})
        );
        let created = changes(None, Some(&after), &["price"]);
        assert_eq!(
            serde_json::to_value(&created).unwrap(),
            json!({"name": [null, "B"]})
        );
        let deleted = changes(Some(&before), None, &[]);
        assert_eq!(
            serde_json::to_value(&deleted).unwrap(),
            json!({"name": ["A", null], "price": ["1.00", null]})
        );
    }

    #[test]
    fn a_user_agent_is_kept_clean_and_short() {
        assert_eq!(RequestOrigin::clean_user_agent("curl/8\u{0}\n"), "curl/8");
        let long = "é".repeat(400);
        let kept = RequestOrigin::clean_user_agent(&long);
        assert!(kept.len() <= MAX_USER_AGENT && kept.len() >= MAX_USER_AGENT - 1);
    }
}
