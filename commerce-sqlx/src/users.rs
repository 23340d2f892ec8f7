//! Users, their addresses, and sign-in tokens (stored only as hashes).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::account::{OneTimeToken, RefreshToken, Role, SavedAddress, TokenPurpose, User};
use commerce_core::ids::{AddressId, TokenFamilyId, UserId};
use commerce_core::ports::{Page, StorageError, TokenStore, UserFilter, UserStore};
use sqlx::postgres::PgRow;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::page::newest_first_page;
use crate::tell;
use crate::{col, count, found, json, json_col, storage_error, PgStore};
use commerce_core::outbox::ChangeRecord;

const USER_COLUMNS: &str = "id, email, full_name, role, is_active, email_verified, password_hash, token_version, created_at, updated_at";

fn user_from_row(r: &PgRow) -> Result<User, StorageError> {
    let role: String = col(r, 3)?;
    Ok(User {
        id: col::<Uuid>(r, 0)?.into(),
        email: col(r, 1)?,
        full_name: col(r, 2)?,
        role: Role::parse(&role)
            .ok_or_else(|| StorageError::Corrupt(format!("unknown role {role}")))?,
        is_active: col(r, 4)?,
        email_verified: col(r, 5)?,
        password_hash: col(r, 6)?,
        token_version: count(col(r, 7)?)?,
        created_at: col(r, 8)?,
        updated_at: col(r, 9)?,
    })
}

fn purpose(p: TokenPurpose) -> &'static str {
    match p {
        TokenPurpose::VerifyEmail => "verify_email",
        TokenPurpose::ResetPassword => "reset_password",
    }
}

impl PgStore {
    async fn user_where(
        &self,
        sql: &'static str,
        bind: impl FnOnce(
            sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
        )
            -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<Option<User>, StorageError> {
        bind(sqlx::query(sql))
            .fetch_optional(self.pool())
            .await
            .map_err(storage_error)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }
}

/// Writes a new user's row (inside the caller's transaction).
pub(crate) async fn insert_user_row(
    conn: &mut sqlx::PgConnection,
    u: &User,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO users (id, email, full_name, role, is_active, email_verified, password_hash, token_version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(u.id.as_uuid())
    .bind(&u.email)
    .bind(&u.full_name)
    .bind(u.role.as_str())
    .bind(u.is_active)
    .bind(u.email_verified)
    .bind(&u.password_hash)
    .bind(i64::from(u.token_version))
    .bind(u.created_at)
    .bind(u.updated_at)
    .execute(conn)
    .await
    .map_err(storage_error)?;
    Ok(())
}

#[async_trait]
impl UserStore for PgStore {
    async fn insert_user(&self, u: &User, record: &ChangeRecord) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        insert_user_row(&mut tx, u).await?;
        tell(&mut tx, record).await?;
        tx.commit().await.map_err(storage_error)
    }

    async fn update_user(&self, u: &User, record: &ChangeRecord) -> Result<(), StorageError> {
        let touched = self
            .execute_recorded(
                sqlx::query(
                    "UPDATE users SET email = $1, full_name = $2, role = $3, is_active = $4, email_verified = $5,
                         password_hash = $6, token_version = $7, updated_at = $8 WHERE id = $9",
                )
                .bind(&u.email)
                .bind(&u.full_name)
                .bind(u.role.as_str())
                .bind(u.is_active)
                .bind(u.email_verified)
                .bind(&u.password_hash)
                .bind(i64::from(u.token_version))
                .bind(u.updated_at)
                .bind(u.id.as_uuid()),
                record,
            )
            .await?;
        found(touched)
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StorageError> {
        self.user_where(
            "SELECT id, email, full_name, role, is_active, email_verified, password_hash, token_version, created_at, updated_at
             FROM users WHERE id = $1",
            |q| q.bind(id.as_uuid()),
        )
        .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError> {
        let email = email.to_string();
        self.user_where(
            "SELECT id, email, full_name, role, is_active, email_verified, password_hash, token_version, created_at, updated_at
             FROM users WHERE email = $1",
            |q| q.bind(email),
        )
        .await
    }

    async fn list_users(&self, filter: &UserFilter) -> Result<Page<User>, StorageError> {
        let mut sql = QueryBuilder::new(format!(
            "SELECT {USER_COLUMNS}, created_at, id FROM users WHERE true"
        ));
        if let Some(role) = filter.role {
            sql.push(" AND role = ").push_bind(role.as_str());
        }
        if let Some(text) = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            // strpos() rather than LIKE: no wildcard in the text can change the meaning.
            let t = text.to_lowercase();
            sql.push(" AND (strpos(email, ")
                .push_bind(t.clone())
                .push(") > 0 OR strpos(lower(full_name), ")
                .push_bind(t)
                .push(") > 0)");
        }
        newest_first_page(
            self.pool(),
            sql,
            "users",
            false,
            &filter.page,
            user_from_row,
        )
        .await
    }

    async fn addresses(&self, user_id: UserId) -> Result<Vec<SavedAddress>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, user_id, label, address, is_default, created_at FROM addresses WHERE user_id = $1 ORDER BY created_at, id",
        )
        .bind(user_id.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(storage_error)?;
        rows.iter()
            .map(|r| {
                Ok(SavedAddress {
                    id: col::<Uuid>(r, 0)?.into(),
                    user_id: col::<Uuid>(r, 1)?.into(),
                    label: col(r, 2)?,
                    address: json_col(r, 3)?,
                    is_default: col(r, 4)?,
                    created_at: col(r, 5)?,
                })
            })
            .collect()
    }

    async fn save_address(&self, a: &SavedAddress) -> Result<(), StorageError> {
        self.retrying(|| async {
            let mut tx = self.pool().begin().await.map_err(storage_error)?;
            // The user's row is the lock that keeps "one default" true under concurrent saves.
            sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
                .bind(a.user_id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?;
            let owner: Option<Uuid> =
                sqlx::query_scalar("SELECT user_id FROM addresses WHERE id = $1")
                    .bind(a.id.as_uuid())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(storage_error)?;
            if owner.is_some_and(|o| o != a.user_id.as_uuid()) {
                return Err(StorageError::NotFound);
            }
            if a.is_default {
                sqlx::query("UPDATE addresses SET is_default = false WHERE user_id = $1 AND is_default")
                    .bind(a.user_id.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(storage_error)?;
            }
            sqlx::query(
                "INSERT INTO addresses (id, user_id, label, address, is_default, created_at) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (id) DO UPDATE SET label = excluded.label, address = excluded.address, is_default = excluded.is_default",
            )
            .bind(a.id.as_uuid())
            .bind(a.user_id.as_uuid())
            .bind(&a.label)
            .bind(json(&a.address)?)
            .bind(a.is_default)
            .bind(a.created_at)
            .execute(&mut *tx)
            .await
            .map_err(storage_error)?;
            tx.commit().await.map_err(storage_error)
        })
        .await
    }

    async fn delete_address(&self, user_id: UserId, id: AddressId) -> Result<(), StorageError> {
        // Only the owner's own address: another user's id is simply not found.
        found(
            sqlx::query("DELETE FROM addresses WHERE id = $1 AND user_id = $2")
                .bind(id.as_uuid())
                .bind(user_id.as_uuid())
                .execute(self.pool())
                .await
                .map_err(storage_error)?
                .rows_affected(),
        )
    }
}

#[async_trait]
impl TokenStore for PgStore {
    async fn insert_one_time(&self, t: &OneTimeToken) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO one_time_tokens (token_hash, user_id, purpose, expires_at, used_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&t.token_hash)
        .bind(t.user_id.as_uuid())
        .bind(purpose(t.purpose))
        .bind(t.expires_at)
        .bind(t.used_at)
        .execute(self.pool())
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn use_one_time(
        &self,
        token_hash: &str,
        token_purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<OneTimeToken>, StorageError> {
        // One statement marks it used only if it is still usable: a token works once.
        let row = sqlx::query(
            "UPDATE one_time_tokens SET used_at = $1
             WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1
             RETURNING token_hash, user_id, expires_at, used_at",
        )
        .bind(now)
        .bind(token_hash)
        .bind(purpose(token_purpose))
        .fetch_optional(self.pool())
        .await
        .map_err(storage_error)?;
        row.map(|r| {
            Ok(OneTimeToken {
                token_hash: col(&r, 0)?,
                user_id: col::<Uuid>(&r, 1)?.into(),
                purpose: token_purpose,
                expires_at: col(&r, 2)?,
                used_at: col(&r, 3)?,
            })
        })
        .transpose()
    }

    async fn insert_refresh(&self, t: &RefreshToken) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&t.token_hash)
        .bind(t.family_id.as_uuid())
        .bind(t.user_id.as_uuid())
        .bind(t.issued_at)
        .bind(t.expires_at)
        .bind(t.revoked_at)
        .execute(self.pool())
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>, StorageError> {
        let row = sqlx::query(
            "SELECT token_hash, family_id, user_id, issued_at, expires_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await
        .map_err(storage_error)?;
        row.map(|r| {
            Ok(RefreshToken {
                token_hash: col(&r, 0)?,
                family_id: col::<Uuid>(&r, 1)?.into(),
                user_id: col::<Uuid>(&r, 2)?.into(),
                issued_at: col(&r, 3)?,
                expires_at: col(&r, 4)?,
                revoked_at: col(&r, 5)?,
            })
        })
        .transpose()
    }

    async fn revoke_refresh(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let revoked = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(token_hash)
        .execute(self.pool())
        .await
        .map_err(storage_error)?
        .rows_affected();
        Ok(revoked == 1)
    }

    async fn revoke_family(
        &self,
        family_id: TokenFamilyId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(family_id.as_uuid())
        .execute(self.pool())
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn revoke_all_of_user(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id.as_uuid())
        .execute(self.pool())
        .await
        .map_err(storage_error)?;
        Ok(())
    }
}
