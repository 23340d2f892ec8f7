//! The audit log: entries appended inside the writes whose `ChangeRecord` carries them (and
//! alone, for sign-ins), listed newest first by `seq` with any of the filters.

use async_trait::async_trait;
use commerce_core::account::Role;
use commerce_core::audit::{AuditActor, AuditEntry, AuditOutcome, AuditQuery, AuditTarget};
use commerce_core::cursor;
use commerce_core::ports::{AuditStore, Page, StorageError};
use rusqlite::types::{Type, Value};
use rusqlite::{Connection, Row};

use crate::codec::{json, time_text, RowExt};
use crate::{storage_error, writing, SqliteStore};

/// The listing kind in audit cursors.
const AUDIT: &str = "audit";

const AUDIT_COLUMNS: &str = "seq, id, at, actor_id, actor_email, actor_role, action, target_type, target_id, changes, ip, user_agent, request_id, outcome";

/// An entry ready to insert: its text made before the write goes to the writer's thread.
pub(crate) struct AuditRow([Value; 12]);

impl AuditRow {
    pub(crate) fn of(entry: &AuditEntry) -> Result<AuditRow, StorageError> {
        let text = |s: &str| Value::Text(s.to_string());
        let maybe = |s: Option<&str>| s.map_or(Value::Null, text);
        Ok(AuditRow([
            text(&entry.id.to_string()),
            text(&time_text(entry.at)),
            maybe(entry.actor.as_ref().map(|a| a.id.to_string()).as_deref()),
            maybe(entry.actor.as_ref().map(|a| a.role.as_str())),
            text(&entry.action),
            text(&entry.target.kind),
            maybe(entry.target.id.as_deref()),
            Value::Text(json(&entry.changes)?),
            maybe(entry.origin.ip.as_deref()),
            maybe(entry.origin.user_agent.as_deref()),
            maybe(entry.origin.request_id.as_deref()),
            text(entry.outcome.as_str()),
        ]))
    }
}

/// Appends entries inside the caller's transaction; each actor's email is read from their
/// user row by the insert itself.
pub(crate) fn append(tx: &Connection, rows: &[AuditRow]) -> Result<(), StorageError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO audit_log (id, at, actor_id, actor_email, actor_role, action, target_type, target_id,
                 changes, ip, user_agent, request_id, outcome)
             VALUES (?1, ?2, ?3, (SELECT email FROM users WHERE id = ?3), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .map_err(storage_error)?;
    for row in rows {
        insert
            .execute(rusqlite::params_from_iter(row.0.iter()))
            .map_err(writing("audit_log"))?;
    }
    Ok(())
}

fn unknown(index: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, Type::Text, format!("unknown {what}").into())
}

fn entry_from_row(r: &Row) -> rusqlite::Result<(AuditEntry, i64)> {
    let actor = match r.opt_id(3)? {
        Some(id) => {
            let role: String = r.get(5)?;
            Some(AuditActor {
                id,
                role: Role::parse(&role).ok_or_else(|| unknown(5, "role"))?,
                email: r.get(4)?,
            })
        }
        None => None,
    };
    let outcome: String = r.get(13)?;
    Ok((
        AuditEntry {
            id: r.id(1)?,
            at: r.time(2)?,
            actor,
            action: r.get(6)?,
            target: AuditTarget {
                kind: r.get(7)?,
                id: r.get(8)?,
            },
            changes: r.json(9)?,
            origin: commerce_core::audit::RequestOrigin {
                ip: r.get(10)?,
                user_agent: r.get(11)?,
                request_id: r.get(12)?,
            },
            outcome: AuditOutcome::parse(&outcome).ok_or_else(|| unknown(13, "outcome"))?,
        },
        r.get(0)?,
    ))
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StorageError> {
        let rows = entries
            .iter()
            .map(AuditRow::of)
            .collect::<Result<Vec<_>, _>>()?;
        self.write(move |conn| append(conn, &rows)).await
    }

    async fn audit_entries(&self, query: &AuditQuery) -> Result<Page<AuditEntry>, StorageError> {
        let limit = query.page.effective_limit();
        let before = cursor::before_sequence(AUDIT, query.page.cursor.as_deref())?;
        // Only the filters given, so each query can use its filter's index.
        let mut conditions = vec!["seq < ?1".to_string()];
        let mut values: Vec<Value> = vec![Value::Integer(before)];
        let mut filter = |condition: &str, value: String| {
            values.push(Value::Text(value));
            conditions.push(format!("{condition} ?{}", values.len()));
        };
        if let Some(actor) = query.actor {
            filter("actor_id =", actor.to_string());
        }
        if let Some(action) = &query.action {
            filter("action =", action.clone());
        }
        if let Some(kind) = &query.target_type {
            filter("target_type =", kind.clone());
        }
        if let Some(id) = &query.target_id {
            filter("target_id =", id.clone());
        }
        if let Some(from) = query.from {
            filter("at >=", time_text(from));
        }
        if let Some(to) = query.to {
            filter("at <", time_text(to));
        }
        values.push(Value::Integer((limit + 1) as i64));
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE {} ORDER BY seq DESC LIMIT ?{}",
            conditions.join(" AND "),
            values.len()
        );
        self.read(move |conn| {
            let rows: Vec<(AuditEntry, i64)> = conn
                .prepare_cached(&sql)
                .map_err(storage_error)?
                .query_map(rusqlite::params_from_iter(values.iter()), entry_from_row)
                .map_err(storage_error)?
                .collect::<Result<_, _>>()
                .map_err(storage_error)?;
            Ok(cursor::page_by_sequence(AUDIT, rows, limit))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    #[test]
    fn the_audit_log_refuses_updates_and_deletes() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn, std::path::Path::new(":memory:")).unwrap();
        conn.execute(
            "INSERT INTO audit_log (id, at, action, target_type, changes, outcome)
             VALUES ('e1', '2026-12-06T00:00:00.000000Z', 'store.update', 'store', '{}', 'succeeded')",
            [],
        )
        .unwrap();
        for sql in [
            "UPDATE audit_log SET action = 'store.delete'",
            "DELETE FROM audit_log",
        ] {
            let refused = conn.execute(sql, []).unwrap_err();
            assert!(refused.to_string().contains("append-only"), "{refused}");
        }
        let kept: String = conn
            .query_row("SELECT action FROM audit_log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, "store.update");
    }
}
