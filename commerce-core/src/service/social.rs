//! Social sign-in with OpenID Connect providers: a flow begins with [`SocialSignIn::start`]
//! (the browser goes to the provider) and ends with [`SocialSignIn::finish`] (the callback
//! brings the code and the state back), in any process sharing the storage.
//!
//! A user is found by the provider's (issuer, subject), never by email alone. A new person
//! becomes a customer when the provider vouches for their email; an existing account with
//! that email is linked only when both sides have it verified, else the owner must sign in
//! and link the provider (`account_link_required`). A signed-in user links a provider through
//! the same start and callback.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::{Caller, Commerce, CommerceError, Session};
use crate::account::{normalize_email, Role, User};
use crate::audit::{AuditActor, AuditChanges, AuditOutcome, AuditTarget};
use crate::ids::{TokenFamilyId, UserId};
use crate::outbox::{ChangeRecord, OutboxEvent};
use crate::ports::{IdentityProvider, IdentityProviderError, VerifiedIdentity};
use crate::social::{ProviderIdentity, SignInFlow, SIGN_IN_FLOW_LIFETIME};

/// Where the browser goes, and the state it will bring back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedSignIn {
    /// Where to send the browser.
    pub authorization_url: String,
    /// The state it will bring back to the callback (single use, 10 minutes).
    pub state: String,
}

/// Social sign-in's use cases.
pub struct SocialSignIn<'a> {
    pub(super) shop: &'a Commerce,
}

impl Commerce {
    /// Social sign-in with OpenID Connect providers.
    pub fn social_sign_in(&self) -> SocialSignIn<'_> {
        SocialSignIn { shop: self }
    }
}

/// 32 random bytes, base64url: a state, a nonce or a PKCE verifier.
fn random_token() -> Result<String, CommerceError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| CommerceError::Internal(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn state_hash(state: &str) -> String {
    Sha256::digest(state.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `uri` names a loopback host (what is allowed when no list is configured).
fn loopback(uri: &str) -> bool {
    match url::Url::parse(uri) {
        Ok(u) => match u.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        },
        Err(_) => false,
    }
}

fn provider_failed(e: IdentityProviderError) -> CommerceError {
    match e {
        IdentityProviderError::Unavailable(why) => CommerceError::ProviderUnavailable(why),
        IdentityProviderError::Refused(why) => CommerceError::OauthFailed(why),
        IdentityProviderError::Misconfigured(why) => CommerceError::Internal(why),
    }
}

impl SocialSignIn<'_> {
    /// The providers offered: (name, display name).
    pub fn providers(&self) -> Vec<(String, String)> {
        self.shop
            .ports
            .identity_providers
            .iter()
            .map(|p| (p.name(), p.display_name()))
            .collect()
    }

    fn provider(&self, name: &str) -> Result<&dyn IdentityProvider, CommerceError> {
        self.shop
            .ports
            .identity_providers
            .iter()
            .find(|p| p.name() == name)
            .map(|p| p.as_ref())
            .ok_or(CommerceError::NotFound("provider"))
    }

    /// Begins a sign-in with `provider` (or, for a signed-in caller, the linking of it to
    /// their account): the flow is kept for ten minutes under its state.
    pub async fn start(
        &self,
        caller: &Caller,
        provider: &str,
        redirect_uri: &str,
    ) -> Result<StartedSignIn, CommerceError> {
        let found = self.provider(provider)?;
        let allowed = &self.shop.config.sign_in_redirect_uris;
        let permitted = if allowed.is_empty() {
            loopback(redirect_uri)
        } else {
            allowed.iter().any(|a| a == redirect_uri)
        };
        if !permitted {
            return Err(CommerceError::validation(
                "redirect_uri",
                "is not one this shop sends sign-ins back to",
            ));
        }
        let (state, nonce, verifier) = (random_token()?, random_token()?, random_token()?);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let authorization_url = found
            .authorization_url(redirect_uri, &state, &nonce, &challenge)
            .await
            .map_err(provider_failed)?;
        let flow = SignInFlow {
            state_hash: state_hash(&state),
            provider: provider.to_string(),
            nonce,
            pkce_verifier: verifier,
            redirect_uri: redirect_uri.to_string(),
            link_user: caller.user_id(),
            expires_at: self.shop.now() + SIGN_IN_FLOW_LIFETIME,
        };
        self.shop.ports.social.insert_sign_in_flow(&flow).await?;
        Ok(StartedSignIn {
            authorization_url,
            state,
        })
    }

    /// Finishes a sign-in: the flow of `state` (once), the provider's word on who signed in,
    /// and then the account: found, linked or made. Tokens as a password sign-in gives.
    pub async fn finish(
        &self,
        provider: &str,
        code: &str,
        state: &str,
    ) -> Result<Session, CommerceError> {
        let found = self.provider(provider)?;
        let flow = self
            .shop
            .ports
            .social
            .take_sign_in_flow(&state_hash(state), self.shop.now())
            .await?
            .filter(|f| f.provider == provider)
            .ok_or_else(|| {
                CommerceError::OauthFailed("the sign-in is unknown, used or expired".into())
            })?;
        let signed_in = async {
            let identity = found
                .identify(code, &flow.pkce_verifier, &flow.redirect_uri, &flow.nonce)
                .await
                .map_err(provider_failed)?;
            let user = self.account_of(&identity, flow.link_user).await?;
            if !user.is_active {
                return Err(CommerceError::AccountDisabled);
            }
            self.shop
                .accounts()
                .start_session(user, TokenFamilyId::from(self.shop.ports.ids.new_id()))
                .await
        }
        .await;
        match signed_in {
            Ok(session) => {
                self.recorded(Some(&session.user), provider, AuditOutcome::Succeeded, None)
                    .await?;
                Ok(session)
            }
            Err(e) => {
                // A sign-in that got as far as the provider is recorded; a made-up state
                // (refused above) is not, so guessing does not fill the log.
                let why = e.code();
                self.recorded(None, provider, AuditOutcome::Failed, Some(why))
                    .await?;
                Err(e)
            }
        }
    }

    /// The account `identity` signs in to: linked already, linked now, or made now.
    async fn account_of(
        &self,
        identity: &VerifiedIdentity,
        linking: Option<UserId>,
    ) -> Result<User, CommerceError> {
        let social = &self.shop.ports.social;
        let users = &self.shop.ports.users;
        let owner = social
            .identity_owner(&identity.issuer, &identity.subject)
            .await?;
        let now = self.shop.now();
        let linked = |user_id| ProviderIdentity {
            user_id,
            issuer: identity.issuer.clone(),
            subject: identity.subject.clone(),
            email: identity.email.clone(),
            linked_at: now,
        };
        let user_id = match (owner, linking) {
            (Some(owner), Some(me)) if owner != me => {
                return Err(CommerceError::Conflict(
                    "this provider account is linked to another account".into(),
                ))
            }
            (Some(owner), _) => owner,
            (None, Some(me)) => {
                social.link_identity(&linked(me)).await?;
                me
            }
            (None, None) => {
                let email = identity
                    .email
                    .as_deref()
                    .and_then(normalize_email)
                    .filter(|_| identity.email_verified);
                let existing = match &email {
                    Some(e) => users.user_by_email(e).await?,
                    None => None,
                };
                match (email, existing) {
                    (Some(_), Some(user)) if user.email_verified => {
                        social.link_identity(&linked(user.id)).await?;
                        user.id
                    }
                    (Some(_), Some(_)) => return Err(CommerceError::AccountLinkRequired),
                    (Some(email), None) => self.new_customer(email, identity, &linked).await?,
                    (None, _) => {
                        // Without an email the provider vouches for, an account with the
                        // same email might be someone else's: the owner links it instead.
                        return Err(match identity.email.as_deref().and_then(normalize_email) {
                            Some(e) if users.user_by_email(&e).await?.is_some() => {
                                CommerceError::AccountLinkRequired
                            }
                            _ => CommerceError::OauthFailed(
                                "the provider does not vouch for an email address".into(),
                            ),
                        });
                    }
                }
            }
        };
        users
            .user(user_id)
            .await?
            .ok_or(CommerceError::NotFound("user"))
    }

    /// A customer with the provider's verified email and no password (no password matches
    /// an empty hash; they sign in with the provider, or set one by a password reset).
    async fn new_customer(
        &self,
        email: String,
        identity: &VerifiedIdentity,
        linked: &(dyn Fn(UserId) -> ProviderIdentity + Sync),
    ) -> Result<UserId, CommerceError> {
        let now = self.shop.now();
        let name = identity
            .name
            .as_deref()
            .map(|n| crate::audit::kept_text(n.trim(), 200))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
        let user = User {
            id: self.shop.new_id(),
            email,
            full_name: name,
            role: Role::Customer,
            is_active: true,
            email_verified: true,
            password_hash: String::new(),
            token_version: 0,
            created_at: now,
            updated_at: now,
        };
        let record = ChangeRecord::telling(vec![OutboxEvent::customer_created(
            self.shop.new_id(),
            &user,
        )]);
        self.shop
            .ports
            .social
            .insert_user_with_identity(&user, &linked(user.id), &record)
            .await?;
        self.shop.outbox_written();
        Ok(user.id)
    }

    /// `auth.login` (by `user`) or `auth.login_failed` (with why) in the audit log.
    async fn recorded(
        &self,
        user: Option<&User>,
        provider: &str,
        outcome: AuditOutcome,
        why: Option<&str>,
    ) -> Result<(), CommerceError> {
        let mut changes = AuditChanges::new();
        changes.insert(
            "provider".into(),
            (serde_json::Value::Null, provider.into()),
        );
        if let Some(why) = why {
            changes.insert("reason".into(), (serde_json::Value::Null, why.into()));
        }
        let (action, target) = match user {
            Some(u) => ("auth.login", AuditTarget::new("user", u.id)),
            None => ("auth.login_failed", AuditTarget::new("provider", provider)),
        };
        let actor = user.map(|u| AuditActor {
            id: u.id,
            role: u.role,
            email: None,
        });
        let entry = self
            .shop
            .audit_entry(actor, action, target, changes, outcome);
        Ok(self.shop.ports.audit.append_audit(&[entry]).await?)
    }
}
