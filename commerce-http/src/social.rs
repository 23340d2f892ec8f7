//! Social sign-in (OpenID Connect): the providers offered, the start of a sign-in (or of the
//! linking of a provider by a signed-in user) and its callback, which signs in as a password
//! login does.

use commerce_core::Commerce;
use poem_openapi::param::{Header, Path};
use poem_openapi::{Object, OpenApi};
use serde::Deserialize;

use crate::accounts::AccountTags;
use crate::auth::MaybeSignedIn;
use crate::body::{JsonBody, Reply};
use crate::json::TokensJson;
use crate::problem::ApiError;
use crate::request_log::security_event;
use crate::rules::{CallbackValue, RedirectUri, Text};

pub struct SocialSignInApi {
    pub shop: Commerce,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "SignInProvider")]
pub struct ProviderJson {
    /// What the API calls it (`google`).
    pub name: String,
    /// What a button says (`Google`).
    pub display_name: String,
}

#[derive(Debug, Object, Deserialize)]
pub struct StartBody {
    /// Where the provider sends the browser back; one of the shop's allowed URIs.
    pub redirect_uri: Text<RedirectUri>,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "StartedSignIn")]
pub struct StartedJson {
    /// Send the browser here.
    pub authorization_url: String,
    /// Comes back with the browser; give it to the callback.
    pub state: String,
}

#[derive(Debug, Object, Deserialize)]
pub struct CallbackBody {
    pub code: Text<CallbackValue>,
    pub state: Text<CallbackValue>,
}

#[OpenApi(tag = "AccountTags::Auth")]
impl SocialSignInApi {
    /// The OpenID Connect providers this shop offers.
    #[oai(path = "/auth/oauth/providers", method = "get")]
    async fn providers(&self) -> Reply<Vec<ProviderJson>> {
        Reply(
            self.shop
                .social_sign_in()
                .providers()
                .into_iter()
                .map(|(name, display_name)| ProviderJson { name, display_name })
                .collect(),
        )
    }

    /// Begins a sign-in with the provider: the authorization code flow with PKCE; the state
    /// and nonce are kept by the shop for ten minutes, for one callback. Signed in, it links
    /// the provider to the caller's account instead.
    #[oai(path = "/auth/oauth/:provider/start", method = "post")]
    async fn start(
        &self,
        caller: MaybeSignedIn,
        provider: Path<String>,
        body: JsonBody<StartBody>,
    ) -> Result<Reply<StartedJson>, ApiError> {
        let started = self
            .shop
            .social_sign_in()
            .start(&caller.0, &provider.0, body.0.redirect_uri.as_str())
            .await?;
        Ok(Reply(StartedJson {
            authorization_url: started.authorization_url,
            state: started.state,
        }))
    }

    /// Finishes a sign-in with the code and state the provider sent back: tokens as a
    /// password login gives (an `X-Cart-Token` merges the guest cart). 401 `oauth_failed` for
    /// a state unknown, used or expired, a refused code or an ID token that fails a check;
    /// 409 `account_link_required` when an account has the email but the provider or the
    /// account does not vouch that it is verified.
    #[oai(path = "/auth/oauth/:provider/callback", method = "post")]
    async fn callback(
        &self,
        provider: Path<String>,
        body: JsonBody<CallbackBody>,
        #[oai(name = "X-Cart-Token")] cart_token: Header<Option<String>>,
    ) -> Result<Reply<TokensJson>, ApiError> {
        let b = body.0;
        let finished = self
            .shop
            .social_sign_in()
            .finish(&provider.0, b.code.as_str(), b.state.as_str())
            .await;
        let session = match finished {
            Ok(session) => session,
            Err(e) => {
                security_event!(warn, "auth.login_failed", provider = %provider.0, code = e.code(), "a failed social sign-in");
                return Err(e.into());
            }
        };
        security_event!(info, "auth.login", user = %session.user.id, provider = %provider.0, "signed in with a provider");
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
}
