//! Social sign-in: flows under way (taken with `DELETE ... RETURNING`, so once however many
//! processes race for one) and provider identities linked to users.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::account::User;
use commerce_core::ids::UserId;
use commerce_core::outbox::ChangeRecord;
use commerce_core::ports::{SocialSignInStore, StorageError};
use commerce_core::social::{ProviderIdentity, SignInFlow};
use sqlx::postgres::PgRow;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::users::insert_user_row;
use crate::{col, storage_error, tell, PgStore};

fn identity_from_row(r: &PgRow) -> Result<ProviderIdentity, StorageError> {
    Ok(ProviderIdentity {
        issuer: col(r, 0)?,
        subject: col(r, 1)?,
        user_id: col::<Uuid>(r, 2)?.into(),
        email: col(r, 3)?,
        linked_at: col(r, 4)?,
    })
}

async fn insert_identity(
    conn: &mut PgConnection,
    i: &ProviderIdentity,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO user_identities (issuer, subject, user_id, email, linked_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&i.issuer)
    .bind(&i.subject)
    .bind(i.user_id.as_uuid())
    .bind(&i.email)
    .bind(i.linked_at)
    .execute(conn)
    .await
    .map_err(storage_error)?;
    Ok(())
}

#[async_trait]
impl SocialSignInStore for PgStore {
    async fn insert_sign_in_flow(&self, f: &SignInFlow) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO sign_in_flows (state_hash, provider, nonce, pkce_verifier, redirect_uri,
                 user_id, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&f.state_hash)
        .bind(&f.provider)
        .bind(&f.nonce)
        .bind(&f.pkce_verifier)
        .bind(&f.redirect_uri)
        .bind(f.link_user.map(|u| u.as_uuid()))
        .bind(f.expires_at)
        .execute(self.pool())
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn take_sign_in_flow(
        &self,
        state_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SignInFlow>, StorageError> {
        let row = sqlx::query(
            "DELETE FROM sign_in_flows WHERE state_hash = $1
             RETURNING state_hash, provider, nonce, pkce_verifier, redirect_uri, user_id, expires_at",
        )
        .bind(state_hash)
        .fetch_optional(self.pool())
        .await
        .map_err(storage_error)?;
        let Some(r) = row else {
            return Ok(None);
        };
        let flow = SignInFlow {
            state_hash: col(&r, 0)?,
            provider: col(&r, 1)?,
            nonce: col(&r, 2)?,
            pkce_verifier: col(&r, 3)?,
            redirect_uri: col(&r, 4)?,
            link_user: col::<Option<Uuid>>(&r, 5)?.map(Into::into),
            expires_at: col(&r, 6)?,
        };
        Ok((flow.expires_at > now).then_some(flow))
    }

    async fn purge_sign_in_flows(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        Ok(
            sqlx::query("DELETE FROM sign_in_flows WHERE expires_at < $1")
                .bind(before)
                .execute(self.pool())
                .await
                .map_err(storage_error)?
                .rows_affected(),
        )
    }

    async fn identity_owner(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<UserId>, StorageError> {
        let owner: Option<Uuid> = sqlx::query_scalar(
            "SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2",
        )
        .bind(issuer)
        .bind(subject)
        .fetch_optional(self.pool())
        .await
        .map_err(storage_error)?;
        Ok(owner.map(Into::into))
    }

    async fn link_identity(&self, identity: &ProviderIdentity) -> Result<(), StorageError> {
        let mut conn = self.pool().acquire().await.map_err(storage_error)?;
        insert_identity(&mut conn, identity).await
    }

    async fn insert_user_with_identity(
        &self,
        user: &User,
        identity: &ProviderIdentity,
        record: &ChangeRecord,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        insert_user_row(&mut tx, user).await?;
        insert_identity(&mut tx, identity).await?;
        tell(&mut tx, record).await?;
        tx.commit().await.map_err(storage_error)
    }

    async fn identities(&self, user: UserId) -> Result<Vec<ProviderIdentity>, StorageError> {
        sqlx::query(
            "SELECT issuer, subject, user_id, email, linked_at FROM user_identities
             WHERE user_id = $1 ORDER BY linked_at, seq",
        )
        .bind(user.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(storage_error)?
        .iter()
        .map(identity_from_row)
        .collect()
    }
}
