//! The audit log: entries appended inside the writes whose `ChangeRecord` carries them (and
//! alone, for sign-ins), listed newest first by `seq` with any of the filters.

use async_trait::async_trait;
use commerce_core::account::Role;
use commerce_core::audit::{
    AuditActor, AuditEntry, AuditOutcome, AuditQuery, AuditTarget, RequestOrigin,
};
use commerce_core::cursor;
use commerce_core::ports::{AuditStore, Page, StorageError};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::{col, json, json_col, storage_error, PgStore};

/// The listing kind in audit cursors.
const AUDIT: &str = "audit";

/// Appends entries inside the caller's transaction, in one statement; each actor's email is
/// read from their user row by the insert itself.
pub(crate) async fn append(
    conn: &mut PgConnection,
    entries: &[AuditEntry],
) -> Result<(), StorageError> {
    if entries.is_empty() {
        return Ok(());
    }
    let n = entries.len();
    let (mut ids, mut times, mut actors, mut roles) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut actions, mut kinds, mut targets, mut changes) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut ips, mut agents, mut requests, mut outcomes) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for e in entries {
        ids.push(e.id.as_uuid());
        times.push(e.at);
        actors.push(e.actor.as_ref().map(|a| a.id.as_uuid()));
        roles.push(e.actor.as_ref().map(|a| a.role.as_str().to_string()));
        actions.push(e.action.clone());
        kinds.push(e.target.kind.clone());
        targets.push(e.target.id.clone());
        changes.push(json(&e.changes)?);
        ips.push(e.origin.ip.clone());
        agents.push(e.origin.user_agent.clone());
        requests.push(e.origin.request_id.clone());
        outcomes.push(e.outcome.as_str().to_string());
    }
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_id, actor_email, actor_role, action, target_type, target_id,
             changes, ip, user_agent, request_id, outcome)
         SELECT a.id, a.at, a.actor_id, u.email, a.actor_role, a.action, a.target_type, a.target_id,
             a.changes, a.ip, a.user_agent, a.request_id, a.outcome
         FROM unnest($1::uuid[], $2::timestamptz[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::jsonb[], $9::text[], $10::text[], $11::text[], $12::text[])
              WITH ORDINALITY AS a(id, at, actor_id, actor_role, action, target_type, target_id,
                                   changes, ip, user_agent, request_id, outcome, place)
         LEFT JOIN users u ON u.id = a.actor_id
         ORDER BY a.place",
    )
    .bind(ids)
    .bind(times)
    .bind(actors)
    .bind(roles)
    .bind(actions)
    .bind(kinds)
    .bind(targets)
    .bind(changes)
    .bind(ips)
    .bind(agents)
    .bind(requests)
    .bind(outcomes)
    .execute(conn)
    .await
    .map_err(storage_error)?;
    Ok(())
}

fn entry_from_row(r: &PgRow) -> Result<(AuditEntry, i64), StorageError> {
    let unknown = |what: &str, value: &str| {
        StorageError::Corrupt(format!("an audit entry has an unknown {what}: {value}"))
    };
    let actor = match col::<Option<Uuid>>(r, 3)? {
        Some(id) => {
            let role: String = col(r, 5)?;
            Some(AuditActor {
                id: id.into(),
                role: Role::parse(&role).ok_or_else(|| unknown("role", &role))?,
                email: col(r, 4)?,
            })
        }
        None => None,
    };
    let outcome: String = col(r, 13)?;
    Ok((
        AuditEntry {
            id: col::<Uuid>(r, 1)?.into(),
            at: col(r, 2)?,
            actor,
            action: col(r, 6)?,
            target: AuditTarget {
                kind: col(r, 7)?,
                id: col(r, 8)?,
            },
            changes: json_col(r, 9)?,
            origin: RequestOrigin {
                ip: col(r, 10)?,
                user_agent: col(r, 11)?,
                request_id: col(r, 12)?,
            },
            outcome: AuditOutcome::parse(&outcome).ok_or_else(|| unknown("outcome", &outcome))?,
        },
        col(r, 0)?,
    ))
}

#[async_trait]
impl AuditStore for PgStore {
    async fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StorageError> {
        let mut conn = self.pool().acquire().await.map_err(storage_error)?;
        append(&mut conn, entries).await
    }

    async fn audit_entries(&self, query: &AuditQuery) -> Result<Page<AuditEntry>, StorageError> {
        let limit = query.page.effective_limit();
        let before = cursor::before_sequence(AUDIT, query.page.cursor.as_deref())?;
        // Only the filters given, so each query can use its filter's index.
        let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT seq, id, at, actor_id, actor_email, actor_role, action, target_type, target_id,
                 changes, ip, user_agent, request_id, outcome
             FROM audit_log WHERE seq < ",
        );
        sql.push_bind(before);
        if let Some(actor) = query.actor {
            sql.push(" AND actor_id = ").push_bind(actor.as_uuid());
        }
        if let Some(action) = &query.action {
            sql.push(" AND action = ").push_bind(action.clone());
        }
        if let Some(kind) = &query.target_type {
            sql.push(" AND target_type = ").push_bind(kind.clone());
        }
        if let Some(id) = &query.target_id {
            sql.push(" AND target_id = ").push_bind(id.clone());
        }
        if let Some(from) = query.from {
            sql.push(" AND at >= ").push_bind(from);
        }
        if let Some(to) = query.to {
            sql.push(" AND at < ").push_bind(to);
        }
        sql.push(" ORDER BY seq DESC LIMIT ")
            .push_bind((limit + 1) as i64);
        let rows = sql
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(storage_error)?;
        let entries = rows
            .iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(cursor::page_by_sequence(AUDIT, entries, limit))
    }
}
