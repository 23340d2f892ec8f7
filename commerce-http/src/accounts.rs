//! Accounts: registration, email verification, sign-in with rotating refresh tokens,
//! password reset; the caller's profile, orders and saved addresses.

use std::sync::Arc;

use commerce_core::account::Address;
use commerce_core::ids::AddressId;
use commerce_core::service::CommerceError;
use commerce_core::Commerce;
use poem::Request;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;

use crate::auth::{client_ip, BearerAuth, LoginThrottle};
use crate::body::{JsonBody, Reply};
use crate::common::{Limit, PathId};
use crate::json::{OrderPageJson, SavedAddressJson, TokensJson, UserJson};
use crate::problem::ApiError;
use crate::request_log::security_event;
use crate::rules::{AddressPart, Country, Email, Label, Name, Password, RequiredAddressPart, Text};

#[derive(Tags)]
pub enum AccountTags {
    /// Registration, sign-in and tokens.
    Auth,
    /// The signed-in user's profile, orders and addresses.
    Users,
}

pub struct AccountsApi {
    pub shop: Commerce,
    pub throttle: Arc<LoginThrottle>,
}

#[derive(Debug, Object, Deserialize)]
pub struct RegisterBody {
    pub email: Text<Email>,
    pub password: Text<Password>,
    pub full_name: Text<Name>,
}

#[derive(Debug, Object, Deserialize)]
pub struct TokenBody {
    /// The token from the mail.
    pub token: String,
}

#[derive(Debug, Object, Deserialize)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Object, Deserialize)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Debug, Object, Deserialize)]
pub struct ForgotBody {
    pub email: String,
}

#[derive(Debug, Object, Deserialize)]
pub struct ResetBody {
    pub token: String,
    pub password: Text<Password>,
}

#[derive(Debug, Object, Deserialize)]
pub struct ProfileBody {
    #[serde(default)]
    #[oai(nullable)]
    pub full_name: Option<Text<Name>>,
    /// A new password; needs `current_password`.
    #[serde(default)]
    #[oai(nullable)]
    pub password: Option<Text<Password>>,
    #[serde(default)]
    #[oai(nullable)]
    pub current_password: Option<String>,
}

#[derive(Debug, Object, Deserialize)]
/// The address fields are listed rather than a flattened `AddressJson`: serde's `flatten`
/// loses the path of a type error inside them (a test holds `country` as the field).
pub struct AddressBody {
    #[serde(default)]
    #[oai(nullable)]
    pub label: Option<Text<Label>>,
    #[serde(default)]
    #[oai(nullable)]
    pub full_name: Option<Text<AddressPart>>,
    pub line1: Text<RequiredAddressPart>,
    #[serde(default)]
    #[oai(nullable)]
    pub line2: Option<Text<AddressPart>>,
    pub city: Text<RequiredAddressPart>,
    #[serde(default)]
    #[oai(nullable)]
    pub region: Option<Text<AddressPart>>,
    pub postal_code: Text<RequiredAddressPart>,
    pub country: Text<Country>,
    #[serde(default)]
    #[oai(nullable)]
    pub phone: Option<Text<AddressPart>>,
    /// The first address is the default either way.
    #[serde(default)]
    #[oai(default)]
    pub is_default: bool,
}

impl AddressBody {
    fn into_parts(self) -> (Option<String>, Address, bool) {
        let address = Address {
            full_name: self.full_name.map(Text::into_string),
            line1: Some(self.line1.into_string()),
            line2: self.line2.map(Text::into_string),
            city: Some(self.city.into_string()),
            region: self.region.map(Text::into_string),
            postal_code: Some(self.postal_code.into_string()),
            country: self.country.into_string(),
            phone: self.phone.map(Text::into_string),
        };
        (self.label.map(Text::into_string), address, self.is_default)
    }
}

#[derive(ApiResponse)]
pub enum UserCreated {
    /// Registered; a verification mail was sent.
    #[oai(status = 201)]
    Created(Reply<UserJson>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
pub enum AddressCreated {
    #[oai(status = 201)]
    Created(Reply<SavedAddressJson>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
pub enum Accepted {
    /// Accepted: a mail is on its way if the address belongs to an account.
    #[oai(status = 202)]
    Accepted,
}

#[derive(ApiResponse)]
pub enum NoContent {
    #[oai(status = 204)]
    Done,
}

#[OpenApi(tag = "AccountTags::Auth")]
impl AccountsApi {
    /// Registers a customer and mails a verification token. 409 `email_taken`.
    #[oai(path = "/auth/register", method = "post")]
    async fn register(&self, body: JsonBody<RegisterBody>) -> Result<UserCreated, ApiError> {
        let b = body.0;
        let user = self
            .shop
            .accounts()
            .register(&b.email, &b.password, &b.full_name)
            .await?;
        Ok(UserCreated::Created(
            Reply(user.into()),
            "/api/users/profile".into(),
        ))
    }

    /// Marks the email verified with the token from the verification mail.
    #[oai(path = "/auth/verify-email", method = "post")]
    async fn verify_email(&self, body: JsonBody<TokenBody>) -> Result<Reply<UserJson>, ApiError> {
        let user = self.shop.accounts().verify_email(&body.0.token).await?;
        Ok(Reply(user.into()))
    }

    /// Signs in. With an `X-Cart-Token` header, the guest cart merges into the user's cart.
    /// Unknown email and wrong password are the same 401 `invalid_credentials`; too many
    /// failures for an email or from an address are 429 with `Retry-After`.
    #[oai(path = "/auth/login", method = "post")]
    async fn login(
        &self,
        req: &Request,
        body: JsonBody<LoginBody>,
        #[oai(name = "X-Cart-Token")] cart_token: Header<Option<String>>,
    ) -> Result<Reply<TokensJson>, ApiError> {
        let b = body.0;
        let ip = client_ip(req);
        let session = self
            .throttle
            .guard(&self.shop, &b.email, ip, is_invalid_credentials, async {
                let signed_in = self.shop.accounts().login(&b.email, &b.password).await;
                if matches!(signed_in, Err(CommerceError::InvalidCredentials)) {
                    security_event!(warn, "auth.login_failed", email = %b.email, "a failed sign-in");
                }
                signed_in
            })
            .await?;
        security_event!(info, "auth.login", user = %session.user.id, "signed in");
        if let Some(token) = cart_token.0.filter(|t| !t.trim().is_empty()) {
            // The sign-in stands even if the guest cart cannot be merged now.
            if let Err(e) = self
                .shop
                .carts()
                .merge_guest_cart(session.user.id, token.trim())
                .await
            {
                tracing::warn!(error = %e, "guest cart not merged at sign-in");
            }
        }
        Ok(Reply(session.into()))
    }

    /// Seed 000's path of `POST /api/auth/login`: the same operation.
    #[oai(path = "/users/login", method = "post", deprecated)]
    async fn users_login(
        &self,
        req: &Request,
        body: JsonBody<LoginBody>,
        #[oai(name = "X-Cart-Token")] cart_token: Header<Option<String>>,
    ) -> Result<Reply<TokensJson>, ApiError> {
        self.login(req, body, cart_token).await
    }

    /// Trades a refresh token for a new pair. The old one is revoked; presenting a revoked
    /// one again revokes its whole family (it leaked) and is 401.
    #[oai(path = "/auth/refresh", method = "post")]
    async fn refresh(&self, body: JsonBody<RefreshBody>) -> Result<Reply<TokensJson>, ApiError> {
        let session = self.shop.accounts().refresh(&body.0.refresh_token).await?;
        Ok(Reply(session.into()))
    }

    /// Revokes a refresh token.
    #[oai(path = "/auth/logout", method = "post")]
    async fn logout(&self, body: JsonBody<RefreshBody>) -> Result<NoContent, ApiError> {
        self.shop.accounts().logout(&body.0.refresh_token).await?;
        Ok(NoContent::Done)
    }

    /// Mails a reset token if the email belongs to an active account. Always 202, and as
    /// fast either way: the work happens after the answer.
    #[oai(path = "/auth/forgot-password", method = "post")]
    async fn forgot_password(&self, body: JsonBody<ForgotBody>) -> Result<Accepted, ApiError> {
        let shop = self.shop.clone();
        let email = body.0.email;
        tokio::spawn(async move {
            if let Err(e) = shop.accounts().forgot_password(&email).await {
                tracing::warn!(error = %e, "password reset mail not sent");
            }
        });
        Ok(Accepted::Accepted)
    }

    /// Sets a new password with the mailed token; every session of the user ends.
    #[oai(path = "/auth/reset-password", method = "post")]
    async fn reset_password(&self, body: JsonBody<ResetBody>) -> Result<NoContent, ApiError> {
        let b = body.0;
        self.shop
            .accounts()
            .reset_password(&b.token, &b.password)
            .await?;
        Ok(NoContent::Done)
    }
}

pub struct UsersApi {
    pub shop: Commerce,
    pub throttle: Arc<LoginThrottle>,
}

#[OpenApi(tag = "AccountTags::Users")]
impl UsersApi {
    /// The signed-in user.
    #[oai(path = "/users/profile", method = "get")]
    async fn profile(&self, auth: BearerAuth) -> Result<Reply<UserJson>, ApiError> {
        Ok(Reply(self.shop.accounts().profile(&auth.0).await?.into()))
    }

    /// Changes the name and, with `current_password`, the password (other sessions end).
    #[oai(path = "/users/profile", method = "put")]
    async fn update_profile(
        &self,
        req: &Request,
        auth: BearerAuth,
        body: JsonBody<ProfileBody>,
    ) -> Result<Reply<UserJson>, ApiError> {
        let b = body.0;
        let accounts = self.shop.accounts();
        let change = accounts.update_profile(
            &auth.0,
            b.full_name.as_deref(),
            b.password.as_deref(),
            b.current_password.as_deref(),
        );
        // A current password is a password guess like a sign-in's, and throttled the same.
        let user = match (&b.password, &b.current_password) {
            (Some(_), Some(_)) => {
                let email = self.shop.accounts().profile(&auth.0).await?.email;
                let ip = client_ip(req);
                let wrong = |e: &CommerceError| matches!(e, CommerceError::Validation(v) if v.fields().any(|f| f == "current_password"));
                let changed = self
                    .throttle
                    .guard(&self.shop, &email, ip, wrong, change)
                    .await;
                if matches!(&changed, Err(ApiError::Problem(_, p)) if p.code == "validation_failed"
                    && p.errors.as_ref().is_some_and(|e| e.iter().any(|f| f.field == "current_password")))
                {
                    security_event!(warn, "auth.password_check_failed", email = %email, "a wrong current password");
                }
                changed?
            }
            _ => change.await?,
        };
        Ok(Reply(user.into()))
    }

    /// Seed 004's path of `GET /api/users/profile`: the same operation.
    #[oai(path = "/auth/profile", method = "get", deprecated)]
    async fn auth_profile(&self, auth: BearerAuth) -> Result<Reply<UserJson>, ApiError> {
        self.profile(auth).await
    }

    /// Seed 004's path of `PUT /api/users/profile`: the same operation.
    #[oai(path = "/auth/profile", method = "put", deprecated)]
    async fn update_auth_profile(
        &self,
        req: &Request,
        auth: BearerAuth,
        body: JsonBody<ProfileBody>,
    ) -> Result<Reply<UserJson>, ApiError> {
        self.update_profile(req, auth, body).await
    }

    /// The caller's orders, newest first (as `GET /api/orders`).
    #[oai(path = "/users/orders", method = "get")]
    async fn orders(
        &self,
        auth: BearerAuth,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<OrderPageJson>, ApiError> {
        crate::shopping::my_orders(&self.shop, &auth.0, limit.0, cursor.0).await
    }

    /// The caller's saved addresses.
    #[oai(path = "/users/addresses", method = "get")]
    async fn addresses(&self, auth: BearerAuth) -> Result<Reply<Vec<SavedAddressJson>>, ApiError> {
        let saved = self.shop.accounts().addresses(&auth.0).await?;
        Ok(Reply(saved.into_iter().map(Into::into).collect()))
    }

    /// Saves an address; the first one is the default.
    #[oai(path = "/users/addresses", method = "post")]
    async fn add_address(
        &self,
        auth: BearerAuth,
        body: JsonBody<AddressBody>,
    ) -> Result<AddressCreated, ApiError> {
        let (label, address, is_default) = body.0.into_parts();
        let saved = self
            .shop
            .accounts()
            .save_address(&auth.0, None, label, address, is_default)
            .await?;
        let location = format!("/api/users/addresses/{}", saved.id);
        Ok(AddressCreated::Created(Reply(saved.into()), location))
    }

    /// One of the caller's saved addresses.
    #[oai(path = "/users/addresses/:id", method = "get")]
    async fn address(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Reply<SavedAddressJson>, ApiError> {
        let id: AddressId = id.0.parse("address")?;
        Ok(Reply(
            self.shop.accounts().address(&auth.0, id).await?.into(),
        ))
    }

    /// Replaces a saved address.
    #[oai(path = "/users/addresses/:id", method = "put")]
    async fn update_address(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<AddressBody>,
    ) -> Result<Reply<SavedAddressJson>, ApiError> {
        let id: AddressId = id.0.parse("address")?;
        let (label, address, is_default) = body.0.into_parts();
        let saved = self
            .shop
            .accounts()
            .save_address(&auth.0, Some(id), label, address, is_default)
            .await?;
        Ok(Reply(saved.into()))
    }

    #[oai(path = "/users/addresses/:id", method = "delete")]
    async fn delete_address(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<NoContent, ApiError> {
        let id: AddressId = id.0.parse("address")?;
        self.shop.accounts().delete_address(&auth.0, id).await?;
        Ok(NoContent::Done)
    }
}

/// A sign-in refused for its password (not for a disabled account or storage away).
fn is_invalid_credentials(e: &CommerceError) -> bool {
    matches!(e, CommerceError::InvalidCredentials)
}
