//! The audit log in memory.

use super::*;
use crate::audit::{AuditEntry, AuditQuery};
use crate::cursor;

/// The listing kind in audit cursors.
const AUDIT: &str = "audit";

impl State {
    /// Appends entries, each actor's email as their user has it now (called under the lock,
    /// with the change they record).
    pub(super) fn append_audit(&mut self, entries: &[AuditEntry]) {
        for entry in entries {
            let mut entry = entry.clone();
            if let Some(actor) = &mut entry.actor {
                actor.email = self.users.get(&actor.id).map(|u| u.email.clone());
            }
            self.audit_log.push(entry);
        }
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StorageError> {
        self.lock()?.append_audit(entries);
        Ok(())
    }

    async fn audit_entries(&self, query: &AuditQuery) -> Result<Page<AuditEntry>, StorageError> {
        let limit = query.page.effective_limit();
        let s = self.lock()?;
        // Places count from 1; a cursor names the last place shown.
        let before = cursor::before_sequence(AUDIT, query.page.cursor.as_deref())?;
        let before = usize::try_from(before).unwrap_or(usize::MAX);
        let found: Vec<(AuditEntry, i64)> = s
            .audit_log
            .iter()
            .enumerate()
            .take(before.saturating_sub(1))
            .rev()
            .filter(|(_, e)| query.admits(e))
            .take(limit + 1)
            .map(|(i, e)| (e.clone(), i64::try_from(i + 1).unwrap_or(i64::MAX)))
            .collect();
        Ok(cursor::page_by_sequence(AUDIT, found, limit))
    }
}
