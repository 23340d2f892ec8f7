//! Authentication at the edge: signed access tokens (JWT, HS256), the caller of a request,
//! and the login throttle.
//!
//! Access tokens are stateless, but each carries the user's token version and every request
//! checks it against the stored user, so deactivation, a role change or a password reset
//! ends old tokens at once.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use commerce_core::account::{Role, User};
use commerce_core::ids::{LoginAttemptId, UserId};
use commerce_core::ports::{AccessClaims, TokenError, TokenIssuer};
use commerce_core::{Caller, Commerce, CommerceError};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use poem::http::StatusCode;
use poem::{IntoResponse, Request, RequestBody};
use poem_openapi::auth::Bearer;
use poem_openapi::registry::Registry;
use poem_openapi::SecurityScheme;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::{Deserialize, Serialize};

use crate::problem::ApiError;

/// Issues and verifies access tokens as HS256 JWTs.
pub struct JwtIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: chrono::Duration,
}

/// Shorter secrets make HS256 guessable offline.
pub const MIN_SECRET_BYTES: usize = 32;

/// The JWT secret is too short to sign tokens safely.
#[derive(Debug, thiserror::Error)]
#[error("the JWT secret must be at least {MIN_SECRET_BYTES} bytes")]
pub struct WeakSecret;

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    /// The user's token version when the token was issued.
    tv: u32,
    iat: i64,
    exp: i64,
}

impl JwtIssuer {
    /// Tokens live 15 minutes unless told otherwise.
    pub const DEFAULT_LIFETIME: chrono::Duration = chrono::Duration::minutes(15);

    /// An issuer signing HS256 tokens with `secret` (at least 32 bytes) that live `lifetime`.
    pub fn new(secret: &[u8], lifetime: chrono::Duration) -> Result<Self, WeakSecret> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the shop's clock below, not the system's.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "sub"].iter().map(|s| s.to_string()).collect();
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            lifetime,
        })
    }
}

impl TokenIssuer for JwtIssuer {
    fn issue(&self, user: &User, now: DateTime<Utc>) -> Result<(String, AccessClaims), TokenError> {
        let expires_at = now + self.lifetime;
        let claims = Claims {
            sub: user.id.to_string(),
            role: user.role.as_str().to_string(),
            tv: user.token_version,
            iat: now.timestamp(),
            // Whole seconds, rounded up, so the token lives the full lifetime.
            exp: expires_at.timestamp() + i64::from(expires_at.timestamp_subsec_nanos() > 0),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| TokenError::Issuer(e.to_string()))?;
        Ok((
            token,
            AccessClaims {
                user_id: user.id,
                role: user.role,
                token_version: user.token_version,
                expires_at: Utc
                    .timestamp_opt(claims.exp, 0)
                    .single()
                    .unwrap_or(expires_at),
            },
        ))
    }

    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        let claims = data.claims;
        if claims.exp <= now.timestamp() {
            return Err(TokenError::Expired);
        }
        let user_id = claims
            .sub
            .parse::<UserId>()
            .map_err(|_| TokenError::Invalid)?;
        let role = Role::parse(&claims.role).ok_or(TokenError::Invalid)?;
        let expires_at = Utc
            .timestamp_opt(claims.exp, 0)
            .single()
            .ok_or(TokenError::Invalid)?;
        Ok(AccessClaims {
            user_id,
            role,
            token_version: claims.tv,
            expires_at,
        })
    }
}

/// `Authorization: Bearer <access JWT>`: required by the operations that take it.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "signed_in")]
pub struct BearerAuth(pub Caller);

async fn signed_in(req: &Request, bearer: Bearer) -> poem::Result<Caller> {
    authenticate(req, &bearer.token).await
}

/// The token of an `Authorization: Bearer ...` header; `None` without the header, and an
/// empty string for a header in another scheme (which no token check accepts).
pub fn bearer_token(req: &Request) -> Option<&str> {
    req.header(poem::http::header::AUTHORIZATION).map(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .map(str::trim)
            .unwrap_or_default()
    })
}

/// The caller of this request's bearer token once checked, kept in the request's extensions
/// so that an outer layer (idempotency keys) and the operation check the token once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CheckedCaller(pub Caller);

/// Checks the request's token once per request.
pub(crate) async fn authenticate(req: &Request, token: &str) -> poem::Result<Caller> {
    if let Some(checked) = req.extensions().get::<CheckedCaller>() {
        return Ok(checked.0);
    }
    caller_of_token(req, token).await
}

async fn caller_of_token(req: &Request, token: &str) -> poem::Result<Caller> {
    let shop = crate::RequestShared::shop_of(req)
        .ok_or_else(|| poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR))?;
    let caller = shop
        .accounts()
        .authenticate(token)
        .await
        .map_err(|e| poem::Error::from_response(ApiError::from(e).into_response()))?;
    if let Some(user) = caller.user_id() {
        crate::request_log::saw_caller(user);
    }
    Ok(caller)
}

/// The caller when signing in is optional (carts, checkout, product pages): anonymous without
/// an `Authorization` header; a header with a bad token is still 401, never silently a guest.
pub struct MaybeSignedIn(pub Caller);

/// Documented as the bearer scheme with an empty alternative (`security: [{BearerAuth: []},
/// {}]`): OpenAPI's way to say that signing in is optional.
impl<'a> ApiExtractor<'a> for MaybeSignedIn {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <BearerAuth as ApiExtractor>::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        <BearerAuth as ApiExtractor>::security_schemes()
    }

    fn has_security_fallback() -> bool {
        true
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut RequestBody,
        _options: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let Some(token) = bearer_token(req) else {
            return Ok(Self(Caller::Anonymous));
        };
        let token = Some(token).filter(|t| !t.is_empty()).ok_or_else(|| {
            poem::Error::from_response(
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "the Authorization header must be `Bearer <token>`",
                )
                .into_response(),
            )
        })?;
        Ok(Self(authenticate(req, token).await?))
    }
}

/// Limits on failed password checks (sign-ins, and `current_password` when a password is
/// changed) in a sliding window. Per email from one client low, against guessing one account's
/// password; per email from anywhere much higher, so that an attacker elsewhere cannot lock the
/// owner out; per client address, against spraying many accounts. A right password takes its
/// attempt back: the owner's own sign-ins never count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures for one email from one client address (default 10).
    pub failures_per_email_and_client: usize,
    /// Failures for one email from all clients together (default 100).
    pub failures_per_email: usize,
    /// Failures from one client address, whatever the email (default 100).
    pub failures_per_ip: usize,
    /// The window the failures are counted over (default 15 minutes).
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            failures_per_email_and_client: 10,
            failures_per_email: 100,
            failures_per_ip: 100,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Failed password checks in a sliding window, counted in the shop's storage
/// (`LoginAttemptStore`), so that several server processes sharing it enforce one limit.
/// An attempt is counted as a failure before its password is checked, in the same atomic step
/// as the check of the limits, and taken back if the password was right: a burst of parallel
/// guesses gets no more than the limit.
pub struct LoginThrottle {
    limits: LoginLimits,
    begun: AtomicU64,
}

/// Attempts begun between purges of failures older than the window.
const PURGE_EVERY: u64 = 1_000;

/// An attempt counted until its password proves right.
#[derive(Debug)]
pub struct Attempt(LoginAttemptId);

impl LoginThrottle {
    /// A throttle with these limits, counting from nothing.
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            begun: AtomicU64::new(0),
        }
    }

    fn window(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.limits.window).unwrap_or(chrono::Duration::MAX)
    }

    /// The counters a password check touches, each with its limit.
    fn keys(&self, email: &str, ip: Option<IpAddr>) -> Vec<(String, u32)> {
        let limit = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let email = email.trim().to_lowercase();
        let client = ip.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
        let mut keys = vec![
            (
                format!("email+client:{email}|{client}"),
                limit(self.limits.failures_per_email_and_client),
            ),
            (
                format!("email:{email}"),
                limit(self.limits.failures_per_email),
            ),
        ];
        if let Some(ip) = ip {
            keys.push((format!("ip:{ip}"), limit(self.limits.failures_per_ip)));
        }
        keys
    }

    /// Counts an attempt for `email` from `ip`, or refuses it: `Err(wait)` when a limit is
    /// reached, free again after `wait`.
    pub async fn begin(
        &self,
        shop: &Commerce,
        email: &str,
        ip: Option<IpAddr>,
    ) -> Result<Result<Attempt, Duration>, CommerceError> {
        let now = shop.now();
        let attempt = LoginAttemptId::random();
        let refused = shop
            .login_attempts()
            .begin_login_attempt(attempt, &self.keys(email, ip), now - self.window(), now)
            .await?;
        if self.begun.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY == PURGE_EVERY - 1 {
            let attempts = shop.login_attempts().clone();
            let before = now - self.window();
            tokio::spawn(async move {
                if let Err(e) = attempts.purge_login_failures(before).await {
                    tracing::warn!(error = %e, "old login failures not purged");
                }
            });
        }
        Ok(match refused {
            None => Ok(Attempt(attempt)),
            Some(oldest) => Err((oldest + self.window() - now)
                .to_std()
                .unwrap_or(Duration::ZERO)
                .max(Duration::from_secs(1))),
        })
    }

    /// The password was right (or never checked): the attempt does not count.
    pub async fn forget(&self, shop: &Commerce, attempt: Attempt) -> Result<(), CommerceError> {
        Ok(shop
            .login_attempts()
            .forget_login_attempt(attempt.0)
            .await?)
    }

    /// Runs `check` (a password check) under the throttle: refused with 429 at a limit;
    /// counted as a failure when `wrong_password` says its error means so, and not counted
    /// otherwise.
    pub async fn guard<T>(
        &self,
        shop: &Commerce,
        email: &str,
        ip: Option<IpAddr>,
        wrong_password: fn(&CommerceError) -> bool,
        check: impl std::future::Future<Output = Result<T, CommerceError>>,
    ) -> Result<T, crate::problem::ApiError> {
        let attempt = match self.begin(shop, email, ip).await? {
            Ok(attempt) => attempt,
            Err(wait) => {
                crate::request_log::security_event!(warn, "auth.locked", email = %email, wait_s = wait.as_secs(), "password check refused: too many failures");
                shop.audit_log().sign_in_refused(email).await?;
                return Err(crate::problem::ApiError::rate_limited(
                    wait,
                    "too many failed sign-ins; try again later",
                ));
            }
        };
        let checked = check.await;
        // A wrong password stays counted; anything else (right, a disabled account, storage
        // away) was not a guess.
        if !checked.as_ref().is_err_and(wrong_password) {
            if let Err(e) = self.forget(shop, attempt).await {
                tracing::warn!(error = %e, "a sign-in attempt was not taken back");
            }
        }
        Ok(checked?)
    }
}

/// The client's address for limits and logs: the TCP peer, or whom a trusted proxy says it
/// forwarded for (`ApiConfig::trusted_proxies`, see [`crate::client`]).
pub fn client_ip(req: &Request) -> Option<IpAddr> {
    crate::request_log::current_client().or_else(|| match req.remote_addr().0 {
        poem::Addr::SocketAddr(addr) => Some(addr.ip()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        let now = Utc::now();
        User {
            id: UserId::from(uuid::Uuid::new_v4()),
            email: "a@example.com".into(),
            full_name: "A".into(),
            role: Role::Vendor,
            is_active: true,
            email_verified: true,
            password_hash: String::new(),
            token_version: 7,
            created_at: now,
            updated_at: now,
        }
    }

    // jsonwebtoken compiles without a crypto backend and panics at the first use: this test
    // is the guard (../shared/CRATES.md).
    #[test]
    fn a_signed_token_verifies_with_its_claims() {
        let issuer = JwtIssuer::new(&[7u8; 32], JwtIssuer::DEFAULT_LIFETIME).unwrap();
        let user = user();
        let now = Utc::now();
        let (token, issued) = issuer.issue(&user, now).unwrap();
        assert_eq!(token.split('.').count(), 3);
        let verified = issuer.verify(&token, now).unwrap();
        assert_eq!(verified.user_id, user.id);
        assert_eq!(verified.role, Role::Vendor);
        assert_eq!(verified.token_version, 7);
        assert_eq!(verified.expires_at, issued.expires_at);
    }

    #[test]
    fn expired_forged_and_foreign_tokens_are_refused() {
        let issuer = JwtIssuer::new(&[7u8; 32], JwtIssuer::DEFAULT_LIFETIME).unwrap();
        let now = Utc::now();
        let (token, _) = issuer.issue(&user(), now).unwrap();
        assert_eq!(
            issuer.verify(&token, now + chrono::Duration::seconds(15 * 60 + 1)),
            Err(TokenError::Expired)
        );
        let other = JwtIssuer::new(&[8u8; 32], JwtIssuer::DEFAULT_LIFETIME).unwrap();
        assert_eq!(other.verify(&token, now), Err(TokenError::Invalid));
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = "eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIiwidHYiOjAsImlhdCI6MCwiZXhwIjo5OTk5OTk5OTk5fQ";
        assert_eq!(
            issuer.verify(&parts.join("."), now),
            Err(TokenError::Invalid)
        );
        assert_eq!(issuer.verify("not a jwt", now), Err(TokenError::Invalid));
        assert!(JwtIssuer::new(b"short", JwtIssuer::DEFAULT_LIFETIME).is_err());
    }

    #[tokio::test]
    async fn the_eleventh_failure_for_an_email_from_a_client_waits_for_the_window() {
        let shop = Commerce::in_memory();
        let throttle = LoginThrottle::new(LoginLimits::default());
        let ip = Some(IpAddr::from([192, 0, 2, 1]));
        for _ in 0..10 {
            // Counted whatever the case and spacing of the email.
            assert!(throttle
                .begin(&shop, "A@example.com ", ip)
                .await
                .unwrap()
                .is_ok());
        }
        let wait = throttle
            .begin(&shop, "a@example.com", ip)
            .await
            .unwrap()
            .unwrap_err();
        assert!(wait > Duration::from_secs(14 * 60) && wait <= Duration::from_secs(15 * 60));
        // Another account from the same address, and the same account from elsewhere, are
        // still allowed; an attempt taken back does not count.
        let other = throttle.begin(&shop, "b@example.com", ip).await.unwrap();
        throttle.forget(&shop, other.unwrap()).await.unwrap();
        let elsewhere = Some(IpAddr::from([198, 51, 100, 2]));
        assert!(throttle
            .begin(&shop, "a@example.com", elsewhere)
            .await
            .unwrap()
            .is_ok());
    }
}
