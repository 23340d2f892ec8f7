//! The audit log (role admin): who changed what, newest first.

use std::collections::BTreeMap;

use commerce_core::audit::{AuditEntry, AuditQuery};

use super::*;
use crate::rules::{AuditAction, AuditTargetId, AuditTargetType};

/// Who acted, as they were then.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "AuditActor")]
pub struct AuditActorJson {
    pub id: Uuid,
    /// Their email when they acted; null if their account was gone by then.
    #[oai(nullable)]
    pub email: Option<String>,
    pub role: String,
}

/// What was acted on.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "AuditTarget")]
pub struct AuditTargetJson {
    /// `product`, `order`, `user`, `discount`, `store`, `email` (a sign-in with an email of no
    /// account)...
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    /// Null for what is one of a kind (the store's settings).
    #[oai(nullable)]
    pub id: Option<String>,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "AuditEntry")]
pub struct AuditEntryJson {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// Null for a sign-in that failed or was refused.
    #[oai(nullable)]
    pub actor: Option<AuditActorJson>,
    /// `<target type>.<verb>`: `product.update`, `order.status`, `auth.login`...
    pub action: String,
    pub target: AuditTargetJson,
    /// Each changed field: `[before, after]` (null before for what was created, null after
    /// for what was deleted). Secrets are never shown.
    pub changes: BTreeMap<String, Vec<serde_json::Value>>,
    #[oai(nullable)]
    pub ip: Option<String>,
    #[oai(nullable)]
    pub user_agent: Option<String>,
    #[oai(nullable)]
    pub request_id: Option<String>,
    /// `succeeded`; for sign-ins also `failed` (a wrong password) or `refused` (too many).
    pub outcome: String,
}

impl From<AuditEntry> for AuditEntryJson {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id.as_uuid(),
            at: e.at,
            actor: e.actor.map(|a| AuditActorJson {
                id: a.id.as_uuid(),
                email: a.email,
                role: a.role.as_str().to_string(),
            }),
            action: e.action,
            target: AuditTargetJson {
                kind: e.target.kind,
                id: e.target.id,
            },
            changes: e
                .changes
                .into_iter()
                .map(|(field, (before, after))| (field, vec![before, after]))
                .collect(),
            ip: e.origin.ip,
            user_agent: e.origin.user_agent,
            request_id: e.origin.request_id,
            outcome: e.outcome.as_str().to_string(),
        }
    }
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "AuditEntryPage")]
pub struct AuditEntryPageJson {
    pub items: Vec<AuditEntryJson>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

pub struct AuditApi {
    pub shop: Commerce,
}

#[OpenApi(tag = "AdminTags::Admin")]
impl AuditApi {
    /// The audit log, newest first: every change staff made, and sign-ins. Each filter
    /// narrows; `from` is inclusive, `to` exclusive; `target_id` needs `target_type`.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/admin/audit", method = "get")]
    async fn entries(
        &self,
        auth: BearerAuth,
        actor: Query<Option<Uuid>>,
        action: Query<Option<Text<AuditAction>>>,
        target_type: Query<Option<Text<AuditTargetType>>>,
        target_id: Query<Option<Text<AuditTargetId>>>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<AuditEntryPageJson>, ApiError> {
        let query = AuditQuery {
            actor: actor.0.map(UserId::from),
            action: action.0.map(Text::into_string),
            target_type: target_type.0.map(Text::into_string),
            target_id: target_id.0.map(Text::into_string),
            from: from.0,
            to: to.0,
            page: page(limit.0, cursor.0),
        };
        let found = self.shop.audit_log().entries(&auth.0, query).await?;
        Ok(Reply(AuditEntryPageJson {
            items: found.items.into_iter().map(Into::into).collect(),
            next_cursor: found.next_cursor,
        }))
    }
}
