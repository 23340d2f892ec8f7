//! The audit log: its entries made for the changes services write, sign-ins recorded, and
//! the log read by admins.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use super::{Caller, Commerce, CommerceError};
use crate::account::{normalize_email, User};
use crate::audit::{
    AuditActor, AuditChanges, AuditEntry, AuditOutcome, AuditQuery, AuditTarget, RequestOrigin,
};
use crate::ports::Page;

impl Commerce {
    /// The audit entry of a change `caller` is making, when staff (a vendor or an admin)
    /// makes it: customers' changes to their own things, and the engine's own (the sweeper,
    /// a provider's webhook), are not audited.
    pub(crate) fn audit(
        &self,
        caller: &Caller,
        action: &str,
        target: AuditTarget,
        changes: AuditChanges,
    ) -> Option<AuditEntry> {
        match *caller {
            Caller::User { id, role } if role.is_staff() => Some(self.audit_entry(
                Some(AuditActor {
                    id,
                    role,
                    email: None,
                }),
                action,
                target,
                changes,
                AuditOutcome::Succeeded,
            )),
            _ => None,
        }
    }

    /// An entry of this moment, from where the current request came.
    pub(crate) fn audit_entry(
        &self,
        actor: Option<AuditActor>,
        action: &str,
        target: AuditTarget,
        changes: AuditChanges,
        outcome: AuditOutcome,
    ) -> AuditEntry {
        AuditEntry {
            id: self.new_id(),
            at: self.now(),
            actor,
            action: action.to_string(),
            target,
            changes,
            origin: RequestOrigin::current(),
            outcome,
        }
    }

    /// The audit log.
    pub fn audit_log(&self) -> AuditLog<'_> {
        AuditLog { shop: self }
    }
}

/// How often one email's refused sign-ins are recorded: once per this long per process, so
/// that a flood of guesses at a locked account does not become a flood of writes.
const REFUSALS_RECORDED_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Emails whose refusal was recorded lately (at most this many are remembered).
const REFUSALS_REMEMBERED: usize = 10_000;

/// When each email's last refused sign-in was recorded, in this process.
#[derive(Default)]
pub(crate) struct RecentRefusals(Mutex<HashMap<String, Instant>>);

impl RecentRefusals {
    /// Whether a refusal for `email` should be recorded now (and notes that it is).
    fn take(&self, email: &str) -> bool {
        let Ok(mut seen) = self.0.lock() else {
            return true;
        };
        let now = Instant::now();
        if seen
            .get(email)
            .is_some_and(|at| now.duration_since(*at) < REFUSALS_RECORDED_EVERY)
        {
            return false;
        }
        if seen.len() >= REFUSALS_REMEMBERED {
            seen.retain(|_, at| now.duration_since(*at) < REFUSALS_RECORDED_EVERY);
            if seen.len() >= REFUSALS_REMEMBERED {
                seen.clear();
            }
        }
        seen.insert(email.to_string(), now);
        true
    }
}

/// The audit log's use cases.
pub struct AuditLog<'a> {
    pub(super) shop: &'a Commerce,
}

impl AuditLog<'_> {
    /// Entries, newest first; admins only.
    pub async fn entries(
        &self,
        caller: &Caller,
        query: AuditQuery,
    ) -> Result<Page<AuditEntry>, CommerceError> {
        caller.require_admin()?;
        for (field, value) in [
            ("action", &query.action),
            ("target_type", &query.target_type),
            ("target_id", &query.target_id),
        ] {
            if value
                .as_deref()
                .is_some_and(|v| v.is_empty() || v.len() > 254 || v.chars().any(char::is_control))
            {
                return Err(CommerceError::validation(
                    field,
                    "must be 1 to 254 characters, with no control characters",
                ));
            }
        }
        if query.target_id.is_some() && query.target_type.is_none() {
            return Err(CommerceError::validation(
                "target_id",
                "needs target_type beside it",
            ));
        }
        if let (Some(from), Some(to)) = (query.from, query.to) {
            if to < from {
                return Err(CommerceError::validation("to", "must not be before from"));
            }
        }
        Ok(self.shop.ports.audit.audit_entries(&query).await?)
    }

    /// Records a sign-in: `auth.login` by `user`.
    pub(crate) async fn signed_in(&self, user: &User) -> Result<(), CommerceError> {
        let entry = self.shop.audit_entry(
            Some(AuditActor {
                id: user.id,
                role: user.role,
                email: None,
            }),
            "auth.login",
            AuditTarget::new("user", user.id),
            AuditChanges::new(),
            AuditOutcome::Succeeded,
        );
        Ok(self.shop.ports.audit.append_audit(&[entry]).await?)
    }

    /// Records a failed sign-in with `email` (`auth.login_failed`): its target is the user the
    /// email names (`user`), or the email itself when it names nobody (`None`).
    pub(crate) async fn sign_in_failed(
        &self,
        email: &str,
        user: Option<&User>,
    ) -> Result<(), CommerceError> {
        let target = match user {
            Some(user) => AuditTarget::new("user", user.id),
            None => email_target(email),
        };
        let entry = self.shop.audit_entry(
            None,
            "auth.login_failed",
            target,
            AuditChanges::new(),
            AuditOutcome::Failed,
        );
        Ok(self.shop.ports.audit.append_audit(&[entry]).await?)
    }

    /// Records a sign-in with `email` refused by the limit on failures (`auth.locked`); at
    /// most once a minute per email and process, however many are refused.
    pub async fn sign_in_refused(&self, email: &str) -> Result<(), CommerceError> {
        let key = normalize_email(email).unwrap_or_else(|| email.trim().to_lowercase());
        if !self.shop.recent_refusals.take(&key) {
            return Ok(());
        }
        let target = self.sign_in_target(email).await?;
        let entry = self.shop.audit_entry(
            None,
            "auth.locked",
            target,
            AuditChanges::new(),
            AuditOutcome::Refused,
        );
        Ok(self.shop.ports.audit.append_audit(&[entry]).await?)
    }

    async fn sign_in_target(&self, email: &str) -> Result<AuditTarget, CommerceError> {
        let user = match normalize_email(email) {
            Some(e) => self.shop.ports.users.user_by_email(&e).await?,
            None => None,
        };
        Ok(match user {
            Some(user) => AuditTarget::new("user", user.id),
            None => email_target(email),
        })
    }
}

/// The target of a sign-in with an email that names nobody: the email, as given (trimmed,
/// cut to an email's longest).
fn email_target(email: &str) -> AuditTarget {
    AuditTarget::new("email", crate::audit::kept_text(email.trim(), 254))
}
