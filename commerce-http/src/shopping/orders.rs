//! A customer's orders: listing, cancelling, their live events and invoices.

use super::*;

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
            payment_provider: b.payment_provider,
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
            payment_provider: delivery.payment_provider,
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
