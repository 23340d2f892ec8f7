//! Storage of accounts: users, their tokens and failed sign-ins.

use super::*;

/// Which users an admin lists.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserFilter {
    /// Only users with this role.
    pub role: Option<Role>,
    /// Matches email or name.
    pub text: Option<String>,
    /// Which page, and how long.
    pub page: PageRequest,
}

/// Users and their saved addresses. Held by the kit's
/// `emails_are_unique_and_one_address_is_default` and
/// `each_unique_rule_and_reference_is_reported_exactly`.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait UserStore: Send + Sync {
    /// `Duplicate(UserEmail)` when the email is taken.
    async fn insert_user(&self, user: &User, record: &ChangeRecord) -> Result<(), StorageError>;
    /// Writes the user as given (with `record`'s entries, for a change staff made).
    async fn update_user(&self, user: &User, record: &ChangeRecord) -> Result<(), StorageError>;
    /// The user, if it exists.
    async fn user(&self, id: UserId) -> Result<Option<User>, StorageError>;
    /// The user with this email (stored and asked in lower case).
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError>;
    /// The users `filter` selects, newest first, a page at a time.
    async fn list_users(&self, filter: &UserFilter) -> Result<Page<User>, StorageError>;

    /// The user's saved addresses, oldest first.
    async fn addresses(&self, user_id: UserId) -> Result<Vec<SavedAddress>, StorageError>;
    /// With `is_default`, the user's other addresses stop being default.
    async fn save_address(&self, address: &SavedAddress) -> Result<(), StorageError>;
    /// Deletes the user's address; `NotFound` when the user has no such address (another
    /// user's id included).
    async fn delete_address(&self, user_id: UserId, id: AddressId) -> Result<(), StorageError>;
}

/// Mailed one-time tokens (email verification, password reset) and refresh tokens, by the
/// SHA-256 of the token (tokens themselves are never stored). Held by the kit's
/// `one_time_tokens_work_once_and_expire` and `refresh_tokens_revoke_once_and_by_family`.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a new one-time token.
    async fn insert_one_time(&self, token: &OneTimeToken) -> Result<(), StorageError>;
    /// Marks an unused, unexpired token of that purpose used and returns it; `None` when
    /// there is none (unknown, expired or already used). Atomic: a token works once.
    async fn use_one_time(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<OneTimeToken>, StorageError>;
    /// Stores a new refresh token (of a family: one sign-in and its rotations).
    async fn insert_refresh(&self, token: &RefreshToken) -> Result<(), StorageError>;
    /// The refresh token with this hash, revoked or not.
    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>, StorageError>;
    /// Revokes the token if it is still active; `false` when it was already revoked (a
    /// reuse) or unknown. Atomic, so two concurrent rotations cannot both succeed.
    async fn revoke_refresh(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
    /// Revokes every token of the family still active (a reused token's: the whole sign-in
    /// ends).
    async fn revoke_family(
        &self,
        family_id: TokenFamilyId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
    /// Revokes every active refresh token of the user (a password reset, a deactivation).
    async fn revoke_all_of_user(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
}

/// Failed sign-ins, kept where every server process sharing the storage counts them, so a
/// limit on them holds however many processes serve the shop.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait LoginAttemptStore: Send + Sync {
    /// Counts a sign-in attempt as a failure under each of `keys` (an email, an email from one
    /// client, a client address), in one atomic step with the check of each key's limit: when
    /// some key already holds its `limit` of failures after `since`, nothing is recorded and
    /// the answer is the time of the oldest of those (the key frees when it leaves the
    /// window; of several such keys, the latest). `None`: counted, the password may be
    /// checked. Parallel attempts, from this process or others sharing the storage, never
    /// pass a limit together.
    async fn begin_login_attempt(
        &self,
        attempt: LoginAttemptId,
        keys: &[(String, u32)],
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StorageError>;
    /// Takes an attempt's failures back: its password was right.
    async fn forget_login_attempt(&self, attempt: LoginAttemptId) -> Result<(), StorageError>;
    /// Forgets failures before `before`; returns how many.
    async fn purge_login_failures(&self, before: DateTime<Utc>) -> Result<u64, StorageError>;
}
