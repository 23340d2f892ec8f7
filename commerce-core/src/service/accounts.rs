//! Account use cases: registration, email verification, sign-in with rotating refresh
//! tokens, password reset, the profile and saved addresses.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Caller, Commerce, CommerceError};
use crate::account::{
    check_full_name, check_password, hash_token, normalize_email, random_token, Address,
    OneTimeToken, RefreshToken, Role, SavedAddress, TokenPurpose, User,
};
use crate::audit::{changes, AuditTarget};
use crate::events::DomainEvent;
use crate::ids::{AddressId, TokenFamilyId, UserId};
use crate::outbox::{ChangeRecord, OutboxEvent};
use crate::ports::{Mail, PasswordHasher, StorageError, TokenError, UserFilter};
use crate::validation::{has_control_characters, Lines, ValidationErrors};

/// What a sign-in gives the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The signed access token (`Authorization: Bearer ...`).
    pub access_token: String,
    /// Opaque; stored only as a hash.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Who signed in.
    pub user: User,
}

/// Account use cases ([`Commerce::accounts`]).
pub struct Accounts<'a> {
    pub(super) shop: &'a Commerce,
}

/// Runs slow hashing off the async workers when there is a runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CommerceError> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(f)
            .await
            .map_err(|e| CommerceError::Internal(e.to_string())),
        Err(_) => Ok(f()),
    }
}

impl Accounts<'_> {
    fn hasher(&self) -> Arc<dyn PasswordHasher> {
        self.shop.ports.hasher.clone()
    }

    async fn hash(&self, password: &str) -> Result<String, CommerceError> {
        let hasher = self.hasher();
        let password = password.to_string();
        let _slot = self.shop.hashing.take().await?;
        blocking(move || hasher.hash(&password))
            .await?
            .map_err(|e| CommerceError::Internal(e.to_string()))
    }

    async fn verify(&self, password: &str, hash: &str) -> Result<bool, CommerceError> {
        let hasher = self.hasher();
        let (password, hash) = (password.to_string(), hash.to_string());
        let _slot = self.shop.hashing.take().await?;
        // A malformed stored hash counts as a wrong password, never as a crash.
        Ok(blocking(move || hasher.verify(&password, &hash))
            .await?
            .unwrap_or(false))
    }

    /// A real hash of no one's password, made once: what a refused sign-in is checked against
    /// when there is no hash of its own to check, so it takes as long as any other.
    async fn dummy_hash(&self) -> Result<String, CommerceError> {
        if let Some(h) = self.shop.dummy_hash.get() {
            return Ok(h.clone());
        }
        let h = self.hash("not the password of anyone").await?;
        Ok(self.shop.dummy_hash.get_or_init(|| h).clone())
    }

    /// Registers a customer and mails a verification token. 409 `email_taken` if the
    /// email is in use.
    pub async fn register(
        &self,
        email: &str,
        password: &str,
        full_name: &str,
    ) -> Result<User, CommerceError> {
        self.create_user(email, password, full_name, Role::Customer, false)
            .await
    }

    /// Creates a user of any role (the server's admin bootstrap, seeding). `verified` skips
    /// the verification mail.
    pub async fn create_user(
        &self,
        email: &str,
        password: &str,
        full_name: &str,
        role: Role,
        verified: bool,
    ) -> Result<User, CommerceError> {
        let mut errors = ValidationErrors::new();
        let email = normalize_email(email);
        if email.is_none() {
            errors.add("email", "is not a valid email address");
        }
        if let Err(e) = check_password(password, "password") {
            errors.merge(e);
        }
        let full_name = match check_full_name(full_name) {
            Ok(n) => n,
            Err(e) => {
                errors.merge(e);
                String::new()
            }
        };
        errors.into_result(())?;
        let email = email.unwrap_or_default();
        let now = self.shop.now();
        let user = User {
            id: self.shop.new_id(),
            email,
            full_name,
            role,
            is_active: true,
            email_verified: verified,
            password_hash: self.hash(password).await?,
            token_version: 0,
            created_at: now,
            updated_at: now,
        };
        let record = ChangeRecord::telling(vec![OutboxEvent::customer_created(
            self.shop.new_id(),
            &user,
        )]);
        self.shop.ports.users.insert_user(&user, &record).await?;
        self.shop.outbox_written();
        if !verified {
            let token = self
                .one_time_token(user.id, TokenPurpose::VerifyEmail)
                .await?;
            self.mail(
                &user.email,
                "Verify your email",
                &format!(
                    "Welcome, {}.\n\nConfirm your email address with this token:\n\n{token}\n",
                    user.full_name
                ),
            )
            .await;
        }
        self.shop.ports.events.publish(DomainEvent::UserRegistered {
            user_id: user.id,
            at: now,
        });
        Ok(user)
    }

    /// Marks the email verified with a mailed token (single use, expiring).
    pub async fn verify_email(&self, token: &str) -> Result<User, CommerceError> {
        let used = self
            .shop
            .ports
            .tokens
            .use_one_time(
                &hash_token(token.trim()),
                TokenPurpose::VerifyEmail,
                self.shop.now(),
            )
            .await?
            .ok_or(CommerceError::InvalidToken)?;
        let mut user = self
            .shop
            .ports
            .users
            .user(used.user_id)
            .await?
            .ok_or(CommerceError::InvalidToken)?;
        if !user.email_verified {
            user.email_verified = true;
            user.updated_at = self.shop.now();
            self.shop
                .ports
                .users
                .update_user(&user, &ChangeRecord::none())
                .await?;
        }
        Ok(user)
    }

    /// Signs in. An unknown email and a wrong password get the same error in the same time;
    /// a deactivated account is told so only when the password is right. The audit log
    /// records each sign-in (`auth.login`) and each wrong password (`auth.login_failed`).
    pub async fn login(&self, email: &str, password: &str) -> Result<Session, CommerceError> {
        let user = match normalize_email(email) {
            Some(e) => self.shop.ports.users.user_by_email(&e).await?,
            None => None,
        };
        let Some(user) = user else {
            // Verify against a real hash anyway, so that an unknown email takes as long to
            // refuse as a wrong password (no user enumeration by timing).
            let _ = self.verify(password, &self.dummy_hash().await?).await;
            self.shop.audit_log().sign_in_failed(email, None).await?;
            return Err(CommerceError::InvalidCredentials);
        };
        // An account made by a provider has no password (an empty hash): refused after the
        // same work, so timing does not tell it from one with a password.
        let hash = if user.password_hash.is_empty() {
            self.dummy_hash().await?
        } else {
            user.password_hash.clone()
        };
        if !self.verify(password, &hash).await? || user.password_hash.is_empty() {
            self.shop
                .audit_log()
                .sign_in_failed(email, Some(&user))
                .await?;
            return Err(CommerceError::InvalidCredentials);
        }
        if !user.is_active {
            return Err(CommerceError::AccountDisabled);
        }
        let session = self
            .start_session(user, TokenFamilyId::from(self.shop.ports.ids.new_id()))
            .await?;
        self.shop.audit_log().signed_in(&session.user).await?;
        Ok(session)
    }

    /// Rotates a refresh token. A token already used or revoked means it leaked: its whole
    /// family is revoked and the caller must sign in again.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Session, CommerceError> {
        let now = self.shop.now();
        let hash = hash_token(refresh_token.trim());
        let stored = self
            .shop
            .ports
            .tokens
            .refresh_token(&hash)
            .await?
            .ok_or(CommerceError::InvalidToken)?;
        if !self.shop.ports.tokens.revoke_refresh(&hash, now).await? {
            self.shop
                .ports
                .tokens
                .revoke_family(stored.family_id, now)
                .await?;
            return Err(CommerceError::InvalidToken);
        }
        if stored.expires_at <= now {
            return Err(CommerceError::InvalidToken);
        }
        let user = self
            .shop
            .ports
            .users
            .user(stored.user_id)
            .await?
            .ok_or(CommerceError::InvalidToken)?;
        if !user.is_active {
            self.shop
                .ports
                .tokens
                .revoke_family(stored.family_id, now)
                .await?;
            return Err(CommerceError::AccountDisabled);
        }
        self.start_session(user, stored.family_id).await
    }

    /// Revokes a refresh token; an unknown one is not an error.
    pub async fn logout(&self, refresh_token: &str) -> Result<(), CommerceError> {
        self.shop
            .ports
            .tokens
            .revoke_refresh(&hash_token(refresh_token.trim()), self.shop.now())
            .await?;
        Ok(())
    }

    /// Mails a reset token if the email belongs to an active account; says nothing either way.
    pub async fn forgot_password(&self, email: &str) -> Result<(), CommerceError> {
        let Some(email) = normalize_email(email) else {
            return Ok(());
        };
        if let Some(user) = self
            .shop
            .ports
            .users
            .user_by_email(&email)
            .await?
            .filter(|u| u.is_active)
        {
            let token = self
                .one_time_token(user.id, TokenPurpose::ResetPassword)
                .await?;
            self.mail(&user.email, "Reset your password", &format!(
                "Someone asked to reset the password of this account. If it was you, use this token:\n\n{token}\n\nIt expires in {} minutes.",
                self.shop.config.reset_ttl.num_minutes()
            ))
            .await;
        }
        Ok(())
    }

    /// Sets a new password with a mailed token; every session of the user ends.
    pub async fn reset_password(&self, token: &str, password: &str) -> Result<(), CommerceError> {
        check_password(password, "password")?;
        let now = self.shop.now();
        let used = self
            .shop
            .ports
            .tokens
            .use_one_time(&hash_token(token.trim()), TokenPurpose::ResetPassword, now)
            .await?
            .ok_or(CommerceError::InvalidToken)?;
        let mut user = self
            .shop
            .ports
            .users
            .user(used.user_id)
            .await?
            .ok_or(CommerceError::InvalidToken)?;
        user.password_hash = self.hash(password).await?;
        user.token_version = user.token_version.wrapping_add(1);
        // Whoever holds the mailed token controls the mailbox, so the email is verified too.
        user.email_verified = true;
        user.updated_at = now;
        self.shop
            .ports
            .users
            .update_user(&user, &ChangeRecord::none())
            .await?;
        self.shop
            .ports
            .tokens
            .revoke_all_of_user(user.id, now)
            .await?;
        Ok(())
    }

    /// The caller of an access token: valid signature, not expired, and the user still
    /// active with the same token version (deactivation and password resets apply at once).
    pub async fn authenticate(&self, access_token: &str) -> Result<Caller, CommerceError> {
        self.authenticate_at(access_token, self.shop.now()).await
    }

    /// Whether a token that was good at `checked_at` still speaks for its user: the user is
    /// active and no deactivation, role change or password reset has ended their tokens since.
    /// What a long-lived response (an order event stream) asks now and then; storage that
    /// cannot answer is an error, not a no.
    pub async fn is_still_signed_in(
        &self,
        access_token: &str,
        checked_at: DateTime<Utc>,
    ) -> Result<bool, CommerceError> {
        match self.authenticate_at(access_token, checked_at).await {
            Ok(_) => Ok(true),
            Err(CommerceError::Unauthenticated) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn authenticate_at(
        &self,
        access_token: &str,
        now: DateTime<Utc>,
    ) -> Result<Caller, CommerceError> {
        let issuer = self
            .shop
            .ports
            .token_issuer
            .as_ref()
            .ok_or(CommerceError::Unauthenticated)?;
        let claims = issuer.verify(access_token, now).map_err(|e| match e {
            TokenError::Issuer(m) => CommerceError::Internal(m),
            _ => CommerceError::Unauthenticated,
        })?;
        let user = self
            .shop
            .ports
            .users
            .user(claims.user_id)
            .await?
            .ok_or(CommerceError::Unauthenticated)?;
        if !user.is_active || user.token_version != claims.token_version {
            return Err(CommerceError::Unauthenticated);
        }
        Ok(Caller::user(user.id, user.role))
    }

    /// The caller's own account.
    pub async fn profile(&self, caller: &Caller) -> Result<User, CommerceError> {
        let (id, _) = caller.require_user()?;
        self.shop
            .ports
            .users
            .user(id)
            .await?
            .ok_or(CommerceError::Unauthenticated)
    }

    /// Changes the name and, with the current password, the password (ending other sessions).
    pub async fn update_profile(
        &self,
        caller: &Caller,
        full_name: Option<&str>,
        new_password: Option<&str>,
        current_password: Option<&str>,
    ) -> Result<User, CommerceError> {
        let mut user = self.profile(caller).await?;
        let mut errors = ValidationErrors::new();
        if let Some(name) = full_name {
            match check_full_name(name) {
                Ok(n) => user.full_name = n,
                Err(e) => errors.merge(e),
            }
        }
        if let Some(pw) = new_password {
            if let Err(e) = check_password(pw, "password") {
                errors.merge(e);
            }
            // A user who signed up with a provider has no password to give: their first is
            // set on the strength of their session alone.
            let has_password = !user.password_hash.is_empty();
            match current_password {
                None if !has_password => {}
                None => errors.add("current_password", "is required to change the password"),
                Some(current) if !self.verify(current, &user.password_hash).await? => {
                    errors.add("current_password", "is wrong")
                }
                Some(_) => {}
            }
        }
        errors.into_result(())?;
        let now = self.shop.now();
        if let Some(pw) = new_password {
            user.password_hash = self.hash(pw).await?;
            user.token_version = user.token_version.wrapping_add(1);
            self.shop
                .ports
                .tokens
                .revoke_all_of_user(user.id, now)
                .await?;
        }
        user.updated_at = now;
        self.shop
            .ports
            .users
            .update_user(&user, &ChangeRecord::none())
            .await?;
        Ok(user)
    }

    /// The caller's saved addresses, oldest first.
    pub async fn addresses(&self, caller: &Caller) -> Result<Vec<SavedAddress>, CommerceError> {
        let (id, _) = caller.require_user()?;
        Ok(self.shop.ports.users.addresses(id).await?)
    }

    /// One of the caller's saved addresses; another's is not found.
    pub async fn address(
        &self,
        caller: &Caller,
        id: AddressId,
    ) -> Result<SavedAddress, CommerceError> {
        self.addresses(caller)
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or(CommerceError::NotFound("address"))
    }

    /// Saves a new address (`id` None) or replaces one of the caller's.
    pub async fn save_address(
        &self,
        caller: &Caller,
        id: Option<AddressId>,
        label: Option<String>,
        address: Address,
        is_default: bool,
    ) -> Result<SavedAddress, CommerceError> {
        let (user, _) = caller.require_user()?;
        let address = address.validated(true)?;
        let existing = self.shop.ports.users.addresses(user).await?;
        let created_at = match id {
            Some(id) => existing
                .iter()
                .find(|a| a.id == id)
                .map(|a| a.created_at)
                .ok_or(CommerceError::NotFound("address"))?,
            None => {
                if existing.len() >= 50 {
                    return Err(CommerceError::validation(
                        "address",
                        "at most 50 saved addresses",
                    ));
                }
                self.shop.now()
            }
        };
        let most = crate::limits::MAX_LABEL_CHARS;
        if label.as_ref().is_some_and(|l| l.chars().count() > most) {
            return Err(CommerceError::validation(
                "label",
                format!("at most {most} characters"),
            ));
        }
        if label
            .as_ref()
            .is_some_and(|l| has_control_characters(l, Lines::One))
        {
            return Err(CommerceError::validation(
                "label",
                "must not contain control characters",
            ));
        }
        let saved = SavedAddress {
            id: id.unwrap_or_else(|| self.shop.new_id()),
            user_id: user,
            label,
            address,
            // The first address is the default.
            is_default: is_default || existing.is_empty(),
            created_at,
        };
        self.shop.ports.users.save_address(&saved).await?;
        Ok(saved)
    }

    /// Deletes one of the caller's saved addresses; another's is not found.
    pub async fn delete_address(
        &self,
        caller: &Caller,
        id: AddressId,
    ) -> Result<(), CommerceError> {
        let (user, _) = caller.require_user()?;
        self.shop
            .ports
            .users
            .delete_address(user, id)
            .await
            .map_err(|e| match e {
                StorageError::NotFound => CommerceError::NotFound("address"),
                other => other.into(),
            })
    }

    /// Users, filtered by role and text; admins only.
    pub async fn list_users(
        &self,
        caller: &Caller,
        filter: UserFilter,
    ) -> Result<crate::ports::Page<User>, CommerceError> {
        caller.require_admin()?;
        Ok(self.shop.ports.users.list_users(&filter).await?)
    }

    /// An admin changes a user's role or active flag; the user's tokens stop working at once.
    pub async fn admin_update_user(
        &self,
        caller: &Caller,
        id: UserId,
        role: Option<Role>,
        is_active: Option<bool>,
    ) -> Result<User, CommerceError> {
        let admin = caller.require_admin()?;
        let mut user = self
            .shop
            .ports
            .users
            .user(id)
            .await?
            .ok_or(CommerceError::NotFound("user"))?;
        if admin == id && (is_active == Some(false) || role.is_some_and(|r| r != Role::Admin)) {
            return Err(CommerceError::Conflict(
                "admins cannot deactivate or demote themselves".into(),
            ));
        }
        let changed =
            role.is_some_and(|r| r != user.role) || is_active.is_some_and(|a| a != user.is_active);
        let before = user.clone();
        if let Some(role) = role {
            user.role = role;
        }
        if let Some(active) = is_active {
            user.is_active = active;
        }
        let now = self.shop.now();
        if changed {
            user.token_version = user.token_version.wrapping_add(1);
            user.updated_at = now;
            let record = ChangeRecord::audited(self.shop.audit(
                caller,
                "user.update",
                AuditTarget::new("user", id),
                changes(Some(&before), Some(&user), &[]),
            ));
            self.shop.ports.users.update_user(&user, &record).await?;
            if !user.is_active {
                self.shop
                    .ports
                    .tokens
                    .revoke_all_of_user(user.id, now)
                    .await?;
            }
        }
        Ok(user)
    }

    pub(crate) async fn start_session(
        &self,
        user: User,
        family: TokenFamilyId,
    ) -> Result<Session, CommerceError> {
        let issuer = self
            .shop
            .ports
            .token_issuer
            .as_ref()
            .ok_or_else(|| CommerceError::Internal("no token issuer is configured".into()))?;
        let now = self.shop.now();
        let (access_token, claims) = issuer
            .issue(&user, now)
            .map_err(|e| CommerceError::Internal(e.to_string()))?;
        let refresh_token = random_token().map_err(|e| CommerceError::Internal(e.to_string()))?;
        self.shop
            .ports
            .tokens
            .insert_refresh(&RefreshToken {
                token_hash: hash_token(&refresh_token),
                family_id: family,
                user_id: user.id,
                issued_at: now,
                expires_at: now + self.shop.config.refresh_ttl,
                revoked_at: None,
            })
            .await?;
        Ok(Session {
            access_token,
            refresh_token,
            expires_in: (claims.expires_at - now).num_seconds().max(0),
            user,
        })
    }

    async fn one_time_token(
        &self,
        user: UserId,
        purpose: TokenPurpose,
    ) -> Result<String, CommerceError> {
        let token = random_token().map_err(|e| CommerceError::Internal(e.to_string()))?;
        let ttl = match purpose {
            TokenPurpose::VerifyEmail => self.shop.config.verification_ttl,
            TokenPurpose::ResetPassword => self.shop.config.reset_ttl,
        };
        self.shop
            .ports
            .tokens
            .insert_one_time(&OneTimeToken {
                token_hash: hash_token(&token),
                user_id: user,
                purpose,
                expires_at: self.shop.now() + ttl,
                used_at: None,
            })
            .await?;
        Ok(token)
    }

    /// A mail that cannot be sent does not fail the request: the user can ask again.
    async fn mail(&self, to: &str, subject: &str, text: &str) {
        let _ = self
            .shop
            .ports
            .mailer
            .send(&Mail {
                to: to.to_string(),
                subject: subject.to_string(),
                text: text.to_string(),
                html: None,
            })
            .await;
    }
}
