//! Storage of accounts: users, their tokens and failed sign-ins.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserFilter {
    pub role: Option<Role>,
    /// Matches email or name.
    pub text: Option<String>,
    pub page: PageRequest,
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait UserStore: Send + Sync {
    /// `Duplicate(UserEmail)` when the email is taken.
    async fn insert_user(&self, user: &User, record: &ChangeRecord) -> Result<(), StorageError>;
    /// Writes the user as given (with `record`'s entries, for a change staff made).
    async fn update_user(&self, user: &User, record: &ChangeRecord) -> Result<(), StorageError>;
    async fn user(&self, id: UserId) -> Result<Option<User>, StorageError>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError>;
    async fn list_users(&self, filter: &UserFilter) -> Result<Page<User>, StorageError>;

    async fn addresses(&self, user_id: UserId) -> Result<Vec<SavedAddress>, StorageError>;
    /// With `is_default`, the user's other addresses stop being default.
    async fn save_address(&self, address: &SavedAddress) -> Result<(), StorageError>;
    async fn delete_address(&self, user_id: UserId, id: AddressId) -> Result<(), StorageError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn insert_one_time(&self, token: &OneTimeToken) -> Result<(), StorageError>;
    /// Marks an unused, unexpired token of that purpose used and returns it; `None` when
    /// there is none (unknown, expired or already used). Atomic: a token works once.
    async fn use_one_time(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<OneTimeToken>, StorageError>;
    async fn insert_refresh(&self, token: &RefreshToken) -> Result<(), StorageError>;
    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>, StorageError>;
    /// Revokes the token if it is still active; `false` when it was already revoked (a
    /// reuse) or unknown. Atomic, so two concurrent rotations cannot both succeed.
    async fn revoke_refresh(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
    async fn revoke_family(
        &self,
        family_id: TokenFamilyId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
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
