//! Users, their addresses, and sign-in tokens (stored only as hashes).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commerce_core::account::{OneTimeToken, RefreshToken, Role, SavedAddress, TokenPurpose, User};
use commerce_core::ids::{AddressId, TokenFamilyId, UserId};
use commerce_core::ports::{Page, StorageError, TokenStore, UserFilter, UserStore};
use rusqlite::types::Value;
use rusqlite::{params, OptionalExtension, Row};

use crate::codec::{json, newest_first_page, time_text, NewestFirst, RowExt};
use crate::{found, storage_error, tell, writing, SqliteStore, Told};
use commerce_core::outbox::ChangeRecord;

const USER_COLUMNS: &str = "id, email, full_name, role, is_active, email_verified, password_hash, token_version, created_at, updated_at";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(3)?;
    Ok(User {
        id: r.id(0)?,
        email: r.get(1)?,
        full_name: r.get(2)?,
        role: Role::parse(&role).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                3,
                rusqlite::types::Type::Text,
                format!("unknown role {role}").into(),
            )
        })?,
        is_active: r.get(4)?,
        email_verified: r.get(5)?,
        password_hash: r.get(6)?,
        token_version: r.get(7)?,
        created_at: r.time(8)?,
        updated_at: r.time(9)?,
    })
}

fn purpose(p: TokenPurpose) -> &'static str {
    match p {
        TokenPurpose::VerifyEmail => "verify_email",
        TokenPurpose::ResetPassword => "reset_password",
    }
}

/// Writes a new user's row (inside the caller's transaction).
pub(crate) fn insert_user_row(conn: &rusqlite::Connection, u: &User) -> Result<(), StorageError> {
    conn.prepare_cached(&format!(
        "INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    ))
    .map_err(storage_error)?
    .execute(params![
        u.id.to_string(),
        u.email,
        u.full_name,
        u.role.as_str(),
        u.is_active,
        u.email_verified,
        u.password_hash,
        u.token_version,
        time_text(u.created_at),
        time_text(u.updated_at)
    ])
    .map_err(storage_error)?;
    Ok(())
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_user(&self, user: &User, record: &ChangeRecord) -> Result<(), StorageError> {
        let u = user.clone();
        let told = Told::of(record)?;
        self.write(move |conn| {
            insert_user_row(conn, &u)?;
            tell(conn, &told)
        })
        .await
    }

    async fn update_user(&self, user: &User, record: &ChangeRecord) -> Result<(), StorageError> {
        let told = Told::of(record)?;
        let u = user.clone();
        self.write_told(told, move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE users SET email = ?1, full_name = ?2, role = ?3, is_active = ?4, email_verified = ?5, password_hash = ?6,
                         token_version = ?7, updated_at = ?8 WHERE id = ?9",
                )
                .map_err(storage_error)?
                .execute(params![
                    u.email,
                    u.full_name,
                    u.role.as_str(),
                    u.is_active,
                    u.email_verified,
                    u.password_hash,
                    u.token_version,
                    time_text(u.updated_at),
                    u.id.to_string()
                ])
                .map_err(storage_error)?;
            found(n)
        })
        .await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StorageError> {
        self.read_inline(move |conn| {
            conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))
                .map_err(storage_error)?
                .query_row([id.to_string()], user_from_row)
                .optional()
                .map_err(storage_error)
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError> {
        let email = email.to_string();
        self.read_inline(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE email = ?1"
            ))
            .map_err(storage_error)?
            .query_row([email], user_from_row)
            .optional()
            .map_err(storage_error)
        })
        .await
    }

    async fn list_users(&self, filter: &UserFilter) -> Result<Page<User>, StorageError> {
        let filter = filter.clone();
        self.read(move |conn| {
            let mut from = String::from("FROM users WHERE 1 = 1");
            let mut args: Vec<Value> = Vec::new();
            if let Some(role) = filter.role {
                from.push_str(" AND role = ?");
                args.push(Value::Text(role.as_str().into()));
            }
            if let Some(text) = filter
                .text
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
            {
                // instr() rather than LIKE: no wildcard in the text can change the meaning.
                from.push_str(" AND (instr(email, ?) > 0 OR instr(lower(full_name), ?) > 0)");
                let t = text.to_lowercase();
                args.extend([Value::Text(t.clone()), Value::Text(t)]);
            }
            let listing = NewestFirst {
                kind: "users",
                columns: USER_COLUMNS,
                from: &from,
                ids_descending: false,
            };
            newest_first_page(conn, listing, args, &filter.page, user_from_row)
        })
        .await
    }

    async fn addresses(&self, user_id: UserId) -> Result<Vec<SavedAddress>, StorageError> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT id, user_id, label, address, is_default, created_at FROM addresses WHERE user_id = ?1 ORDER BY created_at, id")
                .map_err(storage_error)?;
            let rows = stmt
                .query_map([user_id.to_string()], |r| {
                    Ok(SavedAddress {
                        id: r.id(0)?,
                        user_id: r.id(1)?,
                        label: r.get(2)?,
                        address: r.json(3)?,
                        is_default: r.get(4)?,
                        created_at: r.time(5)?,
                    })
                })
                .map_err(storage_error)?;
            rows.collect::<Result<_, _>>().map_err(storage_error)
        })
        .await
    }

    async fn save_address(&self, address: &SavedAddress) -> Result<(), StorageError> {
        let a = address.clone();
        self.write(move |conn| {
            let tx = &*conn;
            let owner: Option<String> = tx
                .query_row("SELECT user_id FROM addresses WHERE id = ?1", [a.id.to_string()], |r| r.get(0))
                .optional()
                .map_err(storage_error)?;
            if owner.is_some_and(|o| o != a.user_id.to_string()) {
                return Err(StorageError::NotFound);
            }
            if a.is_default {
                tx.execute("UPDATE addresses SET is_default = 0 WHERE user_id = ?1", [a.user_id.to_string()])
                    .map_err(storage_error)?;
            }
            tx.execute(
                "INSERT INTO addresses (id, user_id, label, address, is_default, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(id) DO UPDATE SET label = excluded.label, address = excluded.address, is_default = excluded.is_default",
                params![a.id.to_string(), a.user_id.to_string(), a.label, json(&a.address)?, a.is_default, time_text(a.created_at)],
            )
            .map_err(writing("addresses"))?;
            Ok(())
        })
        .await
    }

    async fn delete_address(&self, user_id: UserId, id: AddressId) -> Result<(), StorageError> {
        self.write(move |conn| {
            // Only the owner's own address: another user's id is simply not found.
            found(
                conn.execute(
                    "DELETE FROM addresses WHERE id = ?1 AND user_id = ?2",
                    [id.to_string(), user_id.to_string()],
                )
                .map_err(storage_error)?,
            )
        })
        .await
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_one_time(&self, token: &OneTimeToken) -> Result<(), StorageError> {
        let t = token.clone();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO one_time_tokens (token_hash, user_id, purpose, expires_at, used_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![t.token_hash, t.user_id.to_string(), purpose(t.purpose), time_text(t.expires_at), t.used_at.map(time_text)],
            )
            .map_err(writing("one_time_tokens"))?;
            Ok(())
        })
        .await
    }

    async fn use_one_time(
        &self,
        token_hash: &str,
        token_purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<OneTimeToken>, StorageError> {
        let hash = token_hash.to_string();
        self.write(move |conn| {
            // One statement marks it used only if it is still usable: a token works once.
            let used = conn
                .execute(
                    "UPDATE one_time_tokens SET used_at = ?1 WHERE token_hash = ?2 AND purpose = ?3 AND used_at IS NULL AND expires_at > ?1",
                    params![time_text(now), hash, purpose(token_purpose)],
                )
                .map_err(storage_error)?;
            if used == 0 {
                return Ok(None);
            }
            conn.query_row(
                "SELECT token_hash, user_id, expires_at, used_at FROM one_time_tokens WHERE token_hash = ?1",
                [&hash],
                |r| {
                    Ok(OneTimeToken {
                        token_hash: r.get(0)?,
                        user_id: r.id(1)?,
                        purpose: token_purpose,
                        expires_at: r.time(2)?,
                        used_at: r.opt_time(3)?,
                    })
                },
            )
            .optional()
            .map_err(storage_error)
        })
        .await
    }

    async fn insert_refresh(&self, token: &RefreshToken) -> Result<(), StorageError> {
        let t = token.clone();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    t.token_hash,
                    t.family_id.to_string(),
                    t.user_id.to_string(),
                    time_text(t.issued_at),
                    time_text(t.expires_at),
                    t.revoked_at.map(time_text)
                ],
            )
            .map_err(writing("refresh_tokens"))?;
            Ok(())
        })
        .await
    }

    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>, StorageError> {
        let hash = token_hash.to_string();
        self.read_inline(move |conn| {
            conn.query_row(
                "SELECT token_hash, family_id, user_id, issued_at, expires_at, revoked_at FROM refresh_tokens WHERE token_hash = ?1",
                [hash],
                |r| {
                    Ok(RefreshToken {
                        token_hash: r.get(0)?,
                        family_id: r.id(1)?,
                        user_id: r.id(2)?,
                        issued_at: r.time(3)?,
                        expires_at: r.time(4)?,
                        revoked_at: r.opt_time(5)?,
                    })
                },
            )
            .optional()
            .map_err(storage_error)
        })
        .await
    }

    async fn revoke_refresh(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let hash = token_hash.to_string();
        self.write(move |conn| {
            let n = conn
                .execute("UPDATE refresh_tokens SET revoked_at = ?1 WHERE token_hash = ?2 AND revoked_at IS NULL", params![time_text(now), hash])
                .map_err(storage_error)?;
            Ok(n == 1)
        })
        .await
    }

    async fn revoke_family(
        &self,
        family_id: TokenFamilyId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.revoke_refresh_where("family_id", family_id.to_string(), now)
            .await
    }

    async fn revoke_all_of_user(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.revoke_refresh_where("user_id", user_id.to_string(), now)
            .await
    }
}

impl SqliteStore {
    /// Revokes every still-active refresh token whose `column` (a fixed column name, never
    /// input) equals `value`.
    async fn revoke_refresh_where(
        &self,
        column: &'static str,
        value: String,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.write(move |conn| {
            conn.execute(
                &format!("UPDATE refresh_tokens SET revoked_at = ?1 WHERE {column} = ?2 AND revoked_at IS NULL"),
                params![time_text(now), value],
            )
            .map_err(storage_error)?;
            Ok(())
        })
        .await
    }
}
