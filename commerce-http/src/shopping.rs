//! The shopping flow: the cart (a guest's, named by `X-Cart-Token`, or the signed-in
//! customer's), checkout, orders and payments.

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
use crate::rules::{DiscountCode, Email, List, NewQuantity, Quantity, Text};

#[derive(Tags)]
pub enum ShoppingTags {
    /// The current cart: a guest's (`X-Cart-Token`) or the signed-in customer's.
    Cart,
    /// Orders and their cancellation.
    Orders,
    /// Payments through the configured provider.
    Payments,
}

pub struct ShoppingApi {
    pub shop: Commerce,
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
}

impl From<CheckoutBody> for CheckoutRequest {
    fn from(b: CheckoutBody) -> Self {
        CheckoutRequest {
            shipping_address: b.shipping_address.map(Into::into),
            address_id: b.address_id.map(AddressId::from),
            shipping_method: b.shipping_method.map(ShippingMethodId::from),
            email: b.email.map(Text::into_string),
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
}

#[derive(Debug, Object, Deserialize)]
pub struct IntentBody {
    pub order_id: Uuid,
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

#[OpenApi(tag = "ShoppingTags::Cart")]
impl ShoppingApi {
    /// The current cart, priced. A guest without a cart sees an empty one.
    #[oai(path = "/cart", method = "get")]
    async fn cart(
        &self,
        caller: MaybeSignedIn,
        #[oai(name = "X-Cart-Token")] token: Header<Option<String>>,
    ) -> Result<CartResponse, ApiError> {
        let view = self.shop.carts().cart(&owner(&caller, token)).await?;
        Ok(CartResponse::ok(view))
    }

    /// Adds units of a product; an existing line grows. 409 `out_of_stock` past what is
    /// available.
    #[oai(path = "/cart/items", method = "post")]
    async fn add_item(
        &self,
        caller: MaybeSignedIn,
        #[oai(name = "X-Cart-Token")] token: Header<Option<String>>,
        #[oai(name = "If-Match")] version: Header<Option<IfMatch>>,
        body: JsonBody<AddItemBody>,
    ) -> Result<CartResponse, ApiError> {
        let version = IfMatch::version(version.0);
        let view = self
            .shop
            .carts()
            .add_item(&owner(&caller, token), body.0.into(), version)
            .await?;
        Ok(CartResponse::created(view))
    }

    /// Sets a line's quantity; 0 removes it.
    #[oai(path = "/cart/items/:id", method = "put")]
    async fn update_item(
        &self,
        caller: MaybeSignedIn,
        #[oai(name = "X-Cart-Token")] token: Header<Option<String>>,
        #[oai(name = "If-Match")] version: Header<Option<IfMatch>>,
        id: Path<PathId>,
        body: JsonBody<QuantityBody>,
    ) -> Result<CartResponse, ApiError> {
        let id: CartItemId = id.0.parse("cart item")?;
        let version = IfMatch::version(version.0);
        let view = self
            .shop
            .carts()
            .update_item(&owner(&caller, token), id, body.0.quantity.0, version)
            .await?;
        Ok(CartResponse::ok(view))
    }

    #[oai(path = "/cart/items/:id", method = "delete")]
    async fn remove_item(
        &self,
        caller: MaybeSignedIn,
        #[oai(name = "X-Cart-Token")] token: Header<Option<String>>,
        #[oai(name = "If-Match")] version: Header<Option<IfMatch>>,
        id: Path<PathId>,
    ) -> Result<CartResponse, ApiError> {
        let id: CartItemId = id.0.parse("cart item")?;
        let version = IfMatch::version(version.0);
        let view = self
            .shop
            .carts()
            .remove_item(&owner(&caller, token), id, version)
            .await?;
        Ok(CartResponse::ok(view))
    }

    /// Seed 004's path of `POST /api/cart/items` (adds a product, or grows its line): the
    /// same operation.
    #[oai(path = "/cart", method = "post", deprecated)]
    async fn add_to_cart(
        &self,
        caller: MaybeSignedIn,
        #[oai(name = "X-Cart-Token")] token: Header<Option<String>>,
        #[oai(name = "If-Match")] version: Header<Option<IfMatch>>,
        body: JsonBody<AddItemBody>,
    ) -> Result<CartResponse, ApiError> {
        self.add_item(caller, token, version, body).await
    }

    /// Seed 004's path of `PUT /api/cart/items/{id}`: the same operation.
    #[oai(path = "/cart/:id", method = "put", deprecated)]
    async fn update_cart_line(
        &self,
        caller: MaybeSignedIn,
        #[oai(name = "X-Cart-Token")] token: Header<Option<String>>,
        #[oai(name = "If-Match")] version: Header<Option<IfMatch>>,
        id: Path<PathId>,
        body: JsonBody<QuantityBody>,
    ) -> Result<CartResponse, ApiError> {
        self.update_item(caller, token, version, id, body).await
    }

    /// Seed 004's path of `DELETE /api/cart/items/{id}`: the same operation.
    #[oai(path = "/cart/:id", method = "delete", deprecated)]
    async fn remove_cart_line(
        &self,
        caller: MaybeSignedIn,
        #[oai(name = "X-Cart-Token")] token: Header<Option<String>>,
        #[oai(name = "If-Match")] version: Header<Option<IfMatch>>,
        id: Path<PathId>,
    ) -> Result<CartResponse, ApiError> {
        self.remove_item(caller, token, version, id).await
    }

    /// Adds a discount code. One that can never apply now is 422 `invalid_discount` with a
    /// `reason`; one the cart does not qualify for yet is kept and listed in
    /// `rejected_promotions`.
    #[oai(path = "/cart/discounts", method = "post")]
    async fn add_code(
        &self,
        caller: MaybeSignedIn,
        #[oai(name = "X-Cart-Token")] token: Header<Option<String>>,
        #[oai(name = "If-Match")] version: Header<Option<IfMatch>>,
        body: JsonBody<CodeBody>,
    ) -> Result<CartResponse, ApiError> {
        let version = IfMatch::version(version.0);
        let view = self
            .shop
            .carts()
            .add_code(&owner(&caller, token), body.0.code.as_str(), version)
            .await?;
        Ok(CartResponse::ok(view))
    }

    #[oai(path = "/cart/discounts/:code", method = "delete")]
    async fn remove_code(
        &self,
        caller: MaybeSignedIn,
        #[oai(name = "X-Cart-Token")] token: Header<Option<String>>,
        #[oai(name = "If-Match")] version: Header<Option<IfMatch>>,
        code: Path<String>,
    ) -> Result<CartResponse, ApiError> {
        let version = IfMatch::version(version.0);
        let view = self
            .shop
            .carts()
            .remove_code(&owner(&caller, token), &code.0, version)
            .await?;
        Ok(CartResponse::ok(view))
    }

    /// Sets the destination (for tax) and the shipping method.
    #[oai(path = "/cart/delivery", method = "put")]
    async fn set_delivery(
        &self,
        caller: MaybeSignedIn,
        #[oai(name = "X-Cart-Token")] token: Header<Option<String>>,
        #[oai(name = "If-Match")] version: Header<Option<IfMatch>>,
        body: JsonBody<DeliveryBody>,
    ) -> Result<CartResponse, ApiError> {
        let version = IfMatch::version(version.0);
        let b = body.0;
        let delivery = Delivery {
            shipping_address: b.shipping_address.into(),
            shipping_method: ShippingMethodId::from(b.shipping_method),
        };
        let view = self
            .shop
            .carts()
            .set_delivery(&owner(&caller, token), delivery, version)
            .await?;
        Ok(CartResponse::ok(view))
    }

    /// Turns the cart into a pending order (stock reserved, cart emptied) and creates its
    /// payment. Codes that do not apply are dropped and reported in `rejected_promotions`.
    #[oai(path = "/cart/checkout", method = "post")]
    async fn checkout(
        &self,
        caller: MaybeSignedIn,
        #[oai(name = "X-Cart-Token")] token: Header<Option<String>>,
        body: JsonBody<CheckoutBody>,
    ) -> Result<CheckoutCreated, ApiError> {
        let done = self
            .shop
            .carts()
            .checkout(&caller.0, &owner(&caller, token), body.0.into())
            .await?;
        let location = order_location(done.order.id);
        if let Some(e) = &done.payment_error {
            tracing::warn!(
                request_id = %crate::request_log::OrEmpty(crate::request_log::current_request_id()),
                order = %done.order.number,
                error = %e,
                "the payment of a placed order could not be started"
            );
        }
        Ok(CheckoutCreated::Created(
            Reply(CheckoutJson {
                order: done.order.into(),
                payment: done.payment.map(Into::into),
                payment_error: done.payment_error.map(crate::problem::Problem::of),
            }),
            location,
        ))
    }
}

pub struct OrdersApi {
    pub shop: Commerce,
    /// Order event streams end when this turns true (the server is shutting down).
    pub shutdown: Option<tokio::sync::watch::Receiver<bool>>,
    /// How often an idle order event stream sends a comment, so that proxies keep it open.
    pub keep_alive: std::time::Duration,
    pub streams: std::sync::Arc<crate::streams::OpenStreams>,
}

/// An open order event stream: what it watches, and what ends it (the server stopping, its
/// user no longer signed in).
struct Watching {
    watch: commerce_core::service::OrderWatch,
    shutdown: Option<tokio::sync::watch::Receiver<bool>>,
    shop: Commerce,
    token: String,
    /// When the token was checked at the start: later checks ask whether the user still
    /// stands behind it, not whether it has since expired.
    opened_at: chrono::DateTime<chrono::Utc>,
    recheck: tokio::time::Interval,
    _slot: crate::streams::StreamSlot,
}

impl Watching {
    /// The next update; `None` ends the stream.
    async fn next(&mut self) -> Option<commerce_core::service::OrderStatusUpdate> {
        loop {
            let stop = async {
                match self.shutdown.as_mut() {
                    Some(stop) => {
                        let _ = stop.wait_for(|stopping| *stopping).await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                update = self.watch.next() => return update,
                () = stop => return None,
                _ = self.recheck.tick() => {
                    let still = self
                        .shop
                        .accounts()
                        .is_still_signed_in(&self.token, self.opened_at)
                        .await;
                    // Storage that cannot answer now is asked again at the next check.
                    if matches!(still, Ok(false)) {
                        return None;
                    }
                }
            }
        }
    }
}

#[derive(ApiResponse)]
pub enum InvoiceFile {
    /// The invoice (`application/pdf`).
    #[oai(status = 200, content_type = "application/pdf")]
    Ok(
        poem_openapi::payload::Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

/// One change of an order's status on its event stream.
#[derive(Debug, Object, serde::Serialize)]
pub struct OrderStatusEventJson {
    pub order_id: Uuid,
    /// `pending`, `paid`, `processing`, `shipped`, `delivered`, `cancelled` or `refunded`.
    pub status: String,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The event's `id:`: its place in the order's status history, from 1.
    #[oai(skip)]
    #[serde(skip)]
    pub sequence: u64,
}

#[OpenApi(tag = "ShoppingTags::Orders")]
impl OrdersApi {
    /// Orders the items directly (without a cart): stock is reserved atomically, never past
    /// zero. A code that does not apply is 422 `invalid_discount` and nothing is reserved.
    #[oai(path = "/orders", method = "post")]
    async fn create(
        &self,
        caller: MaybeSignedIn,
        body: JsonBody<OrderBody>,
    ) -> Result<OrderCreated, ApiError> {
        let b = body.0;
        let delivery = CheckoutRequest::from(CheckoutBody {
            shipping_address: b.shipping_address,
            address_id: b.address_id,
            shipping_method: b.shipping_method,
            email: b.email,
        });
        let request = DirectOrder {
            items: b.items.into_vec().into_iter().map(Into::into).collect(),
            discount_codes: b
                .discount_codes
                .into_iter()
                .map(Text::into_string)
                .collect(),
            shipping_address: delivery.shipping_address,
            address_id: delivery.address_id,
            shipping_method: delivery.shipping_method,
            email: delivery.email,
        };
        let order = self.shop.orders().create(&caller.0, request).await?;
        let location = order_location(order.id);
        Ok(OrderCreated::Created(Reply(order.into()), location))
    }

    /// The order's status, live (`text/event-stream`), to its owner or an admin: first the
    /// current status, then one `order.status` event per change, each with an `id:` (its
    /// place in the status history). A client reconnecting with `Last-Event-ID` gets the
    /// changes it missed, never one twice. Comment lines keep an idle stream open.
    #[oai(path = "/orders/:id/events", method = "get")]
    async fn events(
        &self,
        req: &Request,
        auth: BearerAuth,
        id: Path<PathId>,
        #[oai(name = "Last-Event-ID")] last_event_id: Header<Option<String>>,
    ) -> Result<EventStream<futures_util::stream::BoxStream<'static, OrderStatusEventJson>>, ApiError>
    {
        let id: OrderId = id.0.parse("order")?;
        let (user, _) = auth.0.require_user()?;
        let slot = self.streams.open(user)?;
        let after = last_event_id.0.and_then(|v| v.trim().parse::<u64>().ok());
        let watch = self.shop.watch_order(&auth.0, id, after).await?;
        let token = crate::auth::bearer_token(req)
            .unwrap_or_default()
            .to_string();
        let watching = Watching {
            watch,
            shutdown: self.shutdown.clone(),
            shop: self.shop.clone(),
            token,
            opened_at: self.shop.now(),
            recheck: tokio::time::interval_at(
                tokio::time::Instant::now() + self.streams.limits.recheck_every,
                self.streams.limits.recheck_every,
            ),
            _slot: slot,
        };
        let updates = futures_util::stream::unfold(watching, |mut w| async move {
            let update = w.next().await?;
            let event = OrderStatusEventJson {
                order_id: update.order_id.as_uuid(),
                status: update.status.as_str().to_string(),
                at: update.at,
                sequence: update.sequence,
            };
            Some((event, w))
        });
        Ok(
            EventStream::new(Box::pin(updates) as futures_util::stream::BoxStream<'static, _>)
                .keep_alive(self.keep_alive)
                .to_event(|e: OrderStatusEventJson| {
                    poem::web::sse::Event::message(e.to_json_string())
                        .event_type("order.status")
                        .id(e.sequence.to_string())
                }),
        )
    }

    /// The order's invoice as a PDF, to its owner or an admin: the shop's name and address,
    /// the buyer's, the order's number and date, each line (SKU, quantity, unit price,
    /// discount, tax) and the totals, to the cent as the order holds them.
    #[oai(path = "/orders/:id/invoice", method = "get")]
    async fn invoice(&self, auth: BearerAuth, id: Path<PathId>) -> Result<InvoiceFile, ApiError> {
        let id: OrderId = id.0.parse("order")?;
        let (bytes, name) = self.shop.orders().invoice(&auth.0, id).await?;
        Ok(InvoiceFile::Ok(
            poem_openapi::payload::Binary(bytes),
            format!("attachment; filename=\"{name}\""),
        ))
    }

    /// The caller's orders, newest first.
    #[oai(path = "/orders", method = "get")]
    async fn list(
        &self,
        auth: BearerAuth,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<OrderPageJson>, ApiError> {
        my_orders(&self.shop, &auth.0, limit.0, cursor.0).await
    }

    /// One order: its owner or an admin; 404 for anyone else.
    #[oai(path = "/orders/:id", method = "get")]
    async fn order(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Reply<OrderJson>, ApiError> {
        let id: OrderId = id.0.parse("order")?;
        Ok(Reply(self.shop.orders().order(&auth.0, id).await?.into()))
    }

    /// Cancels an order while `pending` or `paid` (a paid one is refunded); its stock returns.
    #[oai(path = "/orders/:id/cancel", method = "put")]
    async fn cancel(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Reply<OrderJson>, ApiError> {
        let id: OrderId = id.0.parse("order")?;
        Ok(Reply(self.shop.orders().cancel(&auth.0, id).await?.into()))
    }
}

pub struct PaymentsApi {
    pub shop: Commerce,
}

impl PaymentsApi {
    async fn webhook(
        &self,
        provider: &str,
        signature: Option<String>,
        body: &[u8],
    ) -> Result<Reply<WebhookReceived>, ApiError> {
        let received = self
            .shop
            .payments()
            .receive_webhook(provider, signature, body)
            .await;
        if let Err(commerce_core::service::CommerceError::BadWebhook {
            signature: true,
            detail,
        }) = &received
        {
            crate::request_log::security_event!(warn, "webhook.bad_signature", provider, %detail, "a webhook that is not the provider's");
        }
        match received? {
            WebhookOutcome::Refused(why) => {
                tracing::warn!(provider, %why, "a provider event was not applied");
            }
            WebhookOutcome::UnknownPayment => {
                tracing::info!(
                    provider,
                    "a provider event about a payment this shop does not have"
                );
            }
            WebhookOutcome::Applied(_) | WebhookOutcome::Ignored | WebhookOutcome::Duplicate => {}
        }
        Ok(Reply(WebhookReceived { received: true }))
    }
}

#[OpenApi(tag = "ShoppingTags::Payments")]
impl PaymentsApi {
    /// Creates the payment of a pending order with the provider.
    #[oai(path = "/payments/create-intent", method = "post")]
    async fn create_intent(
        &self,
        caller: MaybeSignedIn,
        body: JsonBody<IntentBody>,
    ) -> Result<PaymentCreated, ApiError> {
        let payment = self
            .shop
            .payments()
            .create_intent(&caller.0, OrderId::from(body.0.order_id))
            .await?;
        let location = format!("/api/payments/{}", payment.id);
        Ok(PaymentCreated::Created(Reply(payment.into()), location))
    }

    /// Seed 000's path of `POST /api/payments/create-intent`: the same operation.
    #[oai(path = "/payments", method = "post", deprecated)]
    async fn create_payment(
        &self,
        caller: MaybeSignedIn,
        body: JsonBody<IntentBody>,
    ) -> Result<PaymentCreated, ApiError> {
        self.create_intent(caller, body).await
    }

    /// Confirms a payment with providers confirmed by the client (the built-in test provider
    /// confirms here; it declines amounts ending in .13). A success marks the order paid.
    #[oai(path = "/payments/confirm", method = "post")]
    async fn confirm(
        &self,
        caller: MaybeSignedIn,
        body: JsonBody<ConfirmBody>,
    ) -> Result<Reply<PaymentJson>, ApiError> {
        let b = body.0;
        let id = PaymentId::from(b.payment_id);
        let payments = self.shop.payments();
        let payment = match (&caller.0, b.client_secret) {
            (Caller::Anonymous, Some(secret)) => payments.confirm_with_secret(id, &secret).await?,
            (caller, _) => payments.confirm(caller, id).await?,
        };
        Ok(Reply(payment.into()))
    }

    /// Stripe's events (`payment_intent.succeeded`, `.payment_failed`, `.canceled`,
    /// `charge.refunded`, `checkout.session.completed`, ...), verified by the
    /// `Stripe-Signature` header over the raw body before anything is parsed (400
    /// `invalid_signature` when missing, wrong or older than 300 s). Each event id is applied
    /// once; kinds the shop does not act on are acknowledged. 503 when storage is down, so
    /// that Stripe sends it again.
    #[oai(path = "/webhooks/stripe", method = "post")]
    async fn stripe_webhook(
        &self,
        #[oai(name = "Stripe-Signature")] signature: Header<Option<String>>,
        body: RawJson,
    ) -> Result<Reply<WebhookReceived>, ApiError> {
        self.webhook("stripe", signature.0, &body.0).await
    }

    /// Seed 004's path of `POST /api/webhooks/stripe`.
    #[oai(path = "/payment/webhook", method = "post", deprecated)]
    async fn payment_webhook(
        &self,
        #[oai(name = "Stripe-Signature")] signature: Header<Option<String>>,
        body: RawJson,
    ) -> Result<Reply<WebhookReceived>, ApiError> {
        self.webhook("stripe", signature.0, &body.0).await
    }

    /// A payment page hosted by the provider (Stripe Checkout) for a pending order the caller
    /// owns: its lines and total. 409 when the provider has no hosted checkout (the built-in
    /// test provider). `checkout.session.completed`, paid, marks the order paid.
    #[oai(path = "/payment/checkout", method = "post")]
    async fn hosted_checkout(
        &self,
        auth: BearerAuth,
        body: JsonBody<IntentBody>,
    ) -> Result<HostedCheckoutCreated, ApiError> {
        let hosted = self
            .shop
            .payments()
            .create_hosted_checkout(&auth.0, OrderId::from(body.0.order_id))
            .await?;
        let location = format!("/api/payments/{}", hosted.payment.id);
        Ok(HostedCheckoutCreated::Created(
            Reply(HostedCheckoutJson {
                payment_id: hosted.payment.id.as_uuid(),
                provider: hosted.payment.provider,
                session_id: hosted.payment.provider_reference.unwrap_or_default(),
                url: hosted.url,
            }),
            location,
        ))
    }

    /// One payment, to whoever may see its order.
    #[oai(path = "/payments/:id", method = "get")]
    async fn payment(
        &self,
        caller: MaybeSignedIn,
        id: Path<PathId>,
    ) -> Result<Reply<PaymentJson>, ApiError> {
        let id: PaymentId = id.0.parse("payment")?;
        Ok(Reply(
            self.shop.payments().payment(&caller.0, id).await?.into(),
        ))
    }
}
