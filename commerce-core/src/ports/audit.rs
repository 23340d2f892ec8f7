use super::*;
use crate::audit::{AuditEntry, AuditQuery};

/// The audit log. Entries of changes are written by the changes' own writes (their
/// [`ChangeRecord`]'s `audit`); this port appends those of events that change nothing else
/// (sign-ins) and reads the log. Nothing updates or deletes an entry.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends `entries`, filling each actor's email from their user record as it is now.
    async fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StorageError>;
    /// Entries that `query` admits, newest first (the order they were written), a page at a
    /// time; an entry written after a page was read never shows on a later page of it.
    async fn audit_entries(&self, query: &AuditQuery) -> Result<Page<AuditEntry>, StorageError>;
}
