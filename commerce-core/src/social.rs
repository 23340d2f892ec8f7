//! Social sign-in's records: a sign-in under way with an OpenID Connect provider (kept by the
//! shop so that any process sharing the storage can finish what another began; single use,
//! ten minutes) and the provider identities linked to an account, found by (issuer,
//! subject), never by email alone.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// How long a sign-in may take from its start to its callback.
pub const SIGN_IN_FLOW_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

/// A sign-in begun and not yet finished: what its callback needs to finish it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInFlow {
    /// SHA-256 (hex) of the `state` the browser carries: the flow's key. The state itself is
    /// not kept, so a copy of the database cannot finish someone's sign-in.
    pub state_hash: String,
    /// The provider's name (`google`).
    pub provider: String,
    /// The OpenID Connect nonce the ID token must carry back.
    pub nonce: String,
    /// The PKCE verifier of the challenge the browser carried.
    pub pkce_verifier: String,
    /// Where the provider sends the browser back; the code is redeemed for it alone.
    pub redirect_uri: String,
    /// The signed-in user linking this provider to their account; `None` for a sign-in.
    pub link_user: Option<UserId>,
    /// When the flow stops working (10 minutes).
    pub expires_at: DateTime<Utc>,
}

/// A provider's account linked to one of the shop's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderIdentity {
    /// The shop's account.
    pub user_id: UserId,
    /// The provider's issuer exactly as its ID tokens say it.
    pub issuer: String,
    /// The provider's stable id of the person (`sub`).
    pub subject: String,
    /// The email the provider gave when linked, for showing only.
    pub email: Option<String>,
    /// When it was linked.
    pub linked_at: DateTime<Utc>,
}
