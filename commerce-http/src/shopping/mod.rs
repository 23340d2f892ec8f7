//! The shopping flow: the cart (a guest's, named by `X-Cart-Token`, or the signed-in
//! customer's), checkout, orders and payments.
//!
//! - here: the request bodies and responses the three APIs share;
//! - `cart`: [`ShoppingApi`], the cart and checkout;
//! - `orders`: [`OrdersApi`], a customer's orders, their event streams and invoices;
//! - `payments`: [`PaymentsApi`], intents, hosted checkout, confirmation and providers' webhooks;
//! - `wishlist`: [`WishlistApi`], the signed-in customer's products to buy later.

use commerce_core::ids::ShippingMethodId;
use commerce_core::ids::{AddressId, CartItemId, OrderId, PaymentId, ProductId, VariantId};
use commerce_core::service::{
    CartOwner, CartView, CheckoutRequest, Delivery, DirectOrder, ItemRequest, WebhookOutcome,
};
use commerce_core::{Caller, Commerce};
use poem::Request;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::EventStream;
use poem_openapi::types::ToJSON;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{BearerAuth, MaybeSignedIn};
use crate::body::{JsonBody, RawJson, Reply};
use crate::catalog::page;
use crate::common::{etag, IfMatch, Limit, PathId};
use crate::json::{
    CartJson, CheckoutJson, DestinationBody, OrderJson, OrderPageJson, ParcelAddressBody,
    PaymentJson,
};
use crate::problem::ApiError;
use crate::rules::{DiscountCode, Email, List, NewQuantity, ProviderName, Quantity, Text};

mod cart;
mod orders;
mod payments;
mod wishlist;

pub use cart::ShoppingApi;
pub use orders::OrdersApi;
pub use payments::PaymentsApi;
pub use wishlist::WishlistApi;

#[derive(Tags)]
pub enum ShoppingTags {
    /// The current cart: a guest's (`X-Cart-Token`) or the signed-in customer's.
    Cart,
    /// Orders and their cancellation.
    Orders,
    /// Payments through the configured provider.
    Payments,
    /// The signed-in customer's products to buy later.
    Wishlist,
}

#[derive(Debug, Object, Deserialize)]
pub struct AddItemBody {
    pub product_id: Uuid,
    /// Required for a product sold by variant.
    #[serde(default)]
    #[oai(nullable)]
    pub variant_id: Option<Uuid>,
    pub quantity: Quantity,
}

impl From<AddItemBody> for ItemRequest {
    fn from(b: AddItemBody) -> Self {
        ItemRequest {
            product_id: ProductId::from(b.product_id),
            variant_id: b.variant_id.map(VariantId::from),
            quantity: b.quantity.0,
        }
    }
}

#[derive(Debug, Object, Deserialize)]
pub struct QuantityBody {
    /// 0 removes the line.
    pub quantity: NewQuantity,
}

#[derive(Debug, Object, Deserialize)]
pub struct CodeBody {
    pub code: Text<DiscountCode>,
}

#[derive(Debug, Object, Deserialize)]
pub struct DeliveryBody {
    /// What tax and shipping need: country and postal code (region where it matters).
    pub shipping_address: DestinationBody,
    /// The id of an active shipping method.
    pub shipping_method: Uuid,
}

/// Where an order goes and who places it: the body of checkout, and part of a direct order.
#[derive(Debug, Object, Deserialize)]
pub struct CheckoutBody {
    #[serde(default)]
    #[oai(nullable)]
    pub shipping_address: Option<ParcelAddressBody>,
    /// One of the signed-in customer's saved addresses, instead of `shipping_address`.
    #[serde(default)]
    #[oai(nullable)]
    pub address_id: Option<Uuid>,
    /// Defaults to the cart's (checkout), else the cheapest active method.
    #[serde(default)]
    #[oai(nullable)]
    pub shipping_method: Option<Uuid>,
    /// Required for a guest.
    #[serde(default)]
    #[oai(nullable)]
    pub email: Option<Text<Email>>,
    /// The payment provider (one of `GET /api/store`'s `payment_providers`); default: the
    /// first.
    #[serde(default)]
    #[oai(nullable)]
    pub payment_provider: Option<Text<ProviderName>>,
}

impl From<CheckoutBody> for CheckoutRequest {
    fn from(b: CheckoutBody) -> Self {
        CheckoutRequest {
            shipping_address: b.shipping_address.map(Into::into),
            address_id: b.address_id.map(AddressId::from),
            shipping_method: b.shipping_method.map(ShippingMethodId::from),
            email: b.email.map(Text::into_string),
            payment_provider: b.payment_provider.map(Text::into_string),
        }
    }
}

/// The fields of `CheckoutBody` are repeated rather than flattened in: serde's `flatten`
/// loses the path of an error inside them (a test holds `shipping_address` as the field).
#[derive(Debug, Object, Deserialize)]
pub struct OrderBody {
    pub items: List<AddItemBody, 1, { commerce_core::limits::MAX_LINES }>,
    #[serde(default)]
    #[oai(default)]
    pub discount_codes: Vec<Text<DiscountCode>>,
    #[serde(default)]
    #[oai(nullable)]
    pub shipping_address: Option<ParcelAddressBody>,
    #[serde(default)]
    #[oai(nullable)]
    pub address_id: Option<Uuid>,
    #[serde(default)]
    #[oai(nullable)]
    pub shipping_method: Option<Uuid>,
    /// Required for a guest.
    #[serde(default)]
    #[oai(nullable)]
    pub email: Option<Text<Email>>,
    /// The payment provider (one of `GET /api/store`'s `payment_providers`); default: the
    /// first.
    #[serde(default)]
    #[oai(nullable)]
    pub payment_provider: Option<Text<ProviderName>>,
}

#[derive(Debug, Object, Deserialize)]
pub struct IntentBody {
    pub order_id: Uuid,
    /// The payment provider (one of `GET /api/store`'s `payment_providers`); default: the
    /// one the order was placed for, else the shop's first.
    #[serde(default)]
    #[oai(nullable)]
    pub payment_provider: Option<Text<ProviderName>>,
}

/// What a provider's webhook is told.
#[derive(Debug, Object, serde::Serialize)]
pub struct WebhookReceived {
    /// Always true: the event is acknowledged (applied now, or seen before, or of a kind
    /// the shop does not act on), so the provider stops sending it.
    pub received: bool,
}

/// A hosted payment page (Stripe Checkout) for an order.
#[derive(Debug, Object, serde::Serialize)]
pub struct HostedCheckoutJson {
    pub payment_id: Uuid,
    /// `stripe`, ...
    pub provider: String,
    /// The provider's id of the session (`cs_...`).
    pub session_id: String,
    /// Where to send the customer to pay.
    pub url: String,
}

#[derive(ApiResponse)]
pub enum HostedCheckoutCreated {
    #[oai(status = 201)]
    Created(
        Reply<HostedCheckoutJson>,
        #[oai(header = "Location")] String,
    ),
}

#[derive(Debug, Object, Deserialize)]
pub struct ConfirmBody {
    pub payment_id: Uuid,
    /// A guest (no bearer token) proves the payment is theirs with the `client_secret`
    /// their checkout returned.
    #[serde(default)]
    #[oai(nullable)]
    pub client_secret: Option<String>,
}

#[derive(ApiResponse)]
pub enum CartResponse {
    /// The cart. `X-Cart-Token` is set when this call created a guest cart: keep it.
    #[oai(status = 200)]
    Ok(
        Reply<CartJson>,
        #[oai(header = "ETag")] String,
        #[oai(header = "X-Cart-Token")] Option<String>,
    ),
    /// The line was added.
    #[oai(status = 201)]
    Created(
        Reply<CartJson>,
        #[oai(header = "ETag")] String,
        #[oai(header = "X-Cart-Token")] Option<String>,
        #[oai(header = "Location")] String,
    ),
}

impl CartResponse {
    fn ok(view: CartView) -> Self {
        let token = view.new_guest_token.clone();
        let cart: CartJson = view.into();
        let tag = etag(cart.version);
        CartResponse::Ok(Reply(cart), tag, token)
    }

    fn created(view: CartView) -> Self {
        let token = view.new_guest_token.clone();
        let cart: CartJson = view.into();
        let tag = etag(cart.version);
        CartResponse::Created(Reply(cart), tag, token, "/api/cart".into())
    }
}

#[derive(ApiResponse)]
pub enum CheckoutCreated {
    /// The pending order (stock reserved) and its payment.
    #[oai(status = 201)]
    Created(Reply<CheckoutJson>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
pub enum OrderCreated {
    /// The pending order; its stock is reserved.
    #[oai(status = 201)]
    Created(Reply<OrderJson>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
pub enum PaymentCreated {
    #[oai(status = 201)]
    Created(Reply<PaymentJson>, #[oai(header = "Location")] String),
}

fn owner(caller: &MaybeSignedIn, token: Header<Option<String>>) -> CartOwner {
    CartOwner::of(
        &caller.0,
        token
            .0
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
    )
}

/// A page of the caller's orders, newest first.
pub(crate) async fn my_orders(
    shop: &Commerce,
    caller: &Caller,
    limit: Option<Limit>,
    cursor: Option<String>,
) -> Result<Reply<OrderPageJson>, ApiError> {
    let found = shop.orders().my_orders(caller, page(limit, cursor)).await?;
    Ok(Reply(found.into()))
}

fn order_location(id: OrderId) -> String {
    format!("/api/orders/{id}")
}
