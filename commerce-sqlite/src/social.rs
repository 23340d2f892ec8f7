//! Social sign-in: flows under way (taken with `DELETE ... RETURNING`, so once) and provider
//! identities linked to users.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::account::User;
use commerce_core::ids::UserId;
use commerce_core::outbox::ChangeRecord;
use commerce_core::ports::{SocialSignInStore, StorageError};
use commerce_core::social::{ProviderIdentity, SignInFlow};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::codec::{time_text, RowExt};
use crate::users::insert_user_row;
use crate::{storage_error, tell, writing, SqliteStore, Told};

fn flow_from_row(r: &Row) -> rusqlite::Result<SignInFlow> {
    Ok(SignInFlow {
        state_hash: r.get(0)?,
        provider: r.get(1)?,
        nonce: r.get(2)?,
        pkce_verifier: r.get(3)?,
        redirect_uri: r.get(4)?,
        link_user: r.opt_id(5)?,
        expires_at: r.time(6)?,
    })
}

fn identity_from_row(r: &Row) -> rusqlite::Result<ProviderIdentity> {
    Ok(ProviderIdentity {
        issuer: r.get(0)?,
        subject: r.get(1)?,
        user_id: r.id(2)?,
        email: r.get(3)?,
        linked_at: r.time(4)?,
    })
}

fn insert_identity(conn: &Connection, i: &ProviderIdentity) -> Result<(), StorageError> {
    conn.prepare_cached(
        "INSERT INTO user_identities (issuer, subject, user_id, email, linked_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .map_err(storage_error)?
    .execute(params![
        i.issuer,
        i.subject,
        i.user_id.to_string(),
        i.email,
        time_text(i.linked_at)
    ])
    .map_err(writing("user_identities"))?;
    Ok(())
}

#[async_trait]
impl SocialSignInStore for SqliteStore {
    async fn insert_sign_in_flow(&self, flow: &SignInFlow) -> Result<(), StorageError> {
        let f = flow.clone();
        self.write_one_statement(move |conn| {
            conn.prepare_cached(
                "INSERT INTO sign_in_flows (state_hash, provider, nonce, pkce_verifier, redirect_uri,
                     user_id, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(storage_error)?
            .execute(params![
                f.state_hash,
                f.provider,
                f.nonce,
                f.pkce_verifier,
                f.redirect_uri,
                f.link_user.map(|u| u.to_string()),
                time_text(f.expires_at)
            ])
            .map_err(writing("sign_in_flows"))?;
            Ok(())
        })
        .await
    }

    async fn take_sign_in_flow(
        &self,
        state_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SignInFlow>, StorageError> {
        let key = state_hash.to_string();
        let taken = self
            .write_one_statement(move |conn| {
                conn.prepare_cached(
                    "DELETE FROM sign_in_flows WHERE state_hash = ?1
                     RETURNING state_hash, provider, nonce, pkce_verifier, redirect_uri, user_id,
                         expires_at",
                )
                .map_err(storage_error)?
                .query_row([key], flow_from_row)
                .optional()
                .map_err(storage_error)
            })
            .await?;
        Ok(taken.filter(|f| f.expires_at > now))
    }

    async fn purge_sign_in_flows(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        self.write_one_statement(move |conn| {
            let n = conn
                .prepare_cached("DELETE FROM sign_in_flows WHERE expires_at < ?1")
                .map_err(storage_error)?
                .execute([time_text(before)])
                .map_err(storage_error)?;
            Ok(n as u64)
        })
        .await
    }

    async fn identity_owner(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<UserId>, StorageError> {
        let (issuer, subject) = (issuer.to_string(), subject.to_string());
        self.read_inline(move |conn| {
            conn.prepare_cached(
                "SELECT user_id FROM user_identities WHERE issuer = ?1 AND subject = ?2",
            )
            .map_err(storage_error)?
            .query_row([issuer, subject], |r| r.id(0))
            .optional()
            .map_err(storage_error)
        })
        .await
    }

    async fn link_identity(&self, identity: &ProviderIdentity) -> Result<(), StorageError> {
        let i = identity.clone();
        self.write_one_statement(move |conn| insert_identity(conn, &i))
            .await
    }

    async fn insert_user_with_identity(
        &self,
        user: &User,
        identity: &ProviderIdentity,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let (u, i) = (user.clone(), identity.clone());
        let told = Told::of(record)?;
        self.write(move |conn| {
            insert_user_row(conn, &u)?;
            insert_identity(conn, &i)?;
            tell(conn, &told)
        })
        .await
    }

    async fn identities(&self, user: UserId) -> Result<Vec<ProviderIdentity>, StorageError> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT issuer, subject, user_id, email, linked_at FROM user_identities
                 WHERE user_id = ?1 ORDER BY linked_at, rowid",
            )
            .map_err(storage_error)?
            .query_map([user.to_string()], identity_from_row)
            .map_err(storage_error)?
            .collect::<Result<_, _>>()
            .map_err(storage_error)
        })
        .await
    }
}
