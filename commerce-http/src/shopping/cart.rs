//! The cart and checkout.

use super::*;

pub struct ShoppingApi {
    pub shop: Commerce,
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
