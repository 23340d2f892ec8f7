//! The admin operations themselves: each one asks a service of the core and shapes its answer.

use super::*;

#[OpenApi(tag = "AdminTags::Admin")]
impl AdminApi {
    /// Revenue, orders by status, today's orders, best sellers and low stock.
    #[oai(path = "/admin/dashboard", method = "get")]
    async fn dashboard(&self, auth: BearerAuth) -> Result<Reply<DashboardJson>, ApiError> {
        let dashboard = self.shop.admin().dashboard(&auth.0).await?;
        Ok(Reply(DashboardJson::new(dashboard)))
    }

    /// Users, filtered by `role` and by `q` (email or name).
    #[oai(path = "/admin/users", method = "get")]
    async fn users(
        &self,
        auth: BearerAuth,
        role: Query<Option<Choice<Role>>>,
        q: Query<Option<String>>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<UserPageJson>, ApiError> {
        let filter = UserFilter {
            role: role.0.and_then(|r| r.0),
            text: q.0.filter(|t| !t.trim().is_empty()),
            page: page(limit.0, cursor.0),
        };
        let found = self.shop.accounts().list_users(&auth.0, filter).await?;
        Ok(Reply(UserPageJson {
            items: found.items.into_iter().map(Into::into).collect(),
            next_cursor: found.next_cursor,
        }))
    }

    /// Changes a user's role or active flag; their tokens stop working at once.
    #[oai(path = "/admin/users/:id", method = "put")]
    async fn update_user(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<UserChangesBody>,
    ) -> Result<Reply<UserJson>, ApiError> {
        let id: UserId = id.0.parse("user")?;
        let b = body.0;
        let role = b.role.0;
        let user = self
            .shop
            .accounts()
            .admin_update_user(&auth.0, id, role, b.is_active)
            .await?;
        Ok(Reply(user.into()))
    }

    /// All orders, newest first, filtered by `status`, and by `number` (the one order a
    /// customer quotes, without regard to case).
    #[oai(path = "/admin/orders", method = "get")]
    async fn orders(
        &self,
        auth: BearerAuth,
        status: Query<Option<Choice<OrderStatus>>>,
        number: Query<Option<Text<OrderNumber>>>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<OrderPageJson>, ApiError> {
        let status = status.0.and_then(|s| s.0);
        let found = self
            .shop
            .orders()
            .find_orders(
                &auth.0,
                status,
                number.0.as_ref().map(|n| n.as_str()),
                page(limit.0, cursor.0),
            )
            .await?;
        Ok(Reply(found.into()))
    }

    /// Products of every status, or of `status`, newest first, as the admin app lists them:
    /// a manager or an admin sees the whole catalog, a vendor their own; `q` searches name
    /// and description.
    #[oai(path = "/admin/products", method = "get")]
    async fn products(
        &self,
        auth: BearerAuth,
        status: Query<Option<Choice<ProductStatus>>>,
        q: Query<Option<String>>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<ProductPageJson>, ApiError> {
        let listing = ProductListing {
            q: q.0,
            page: page(limit.0, cursor.0),
            ..Default::default()
        };
        let found = self
            .shop
            .catalog()
            .products_for_staff(&auth.0, listing, status.0.and_then(|s| s.0))
            .await?;
        Ok(Reply(ProductPageJson {
            items: found.items.into_iter().map(ProductJson::new).collect(),
            next_cursor: found.next_cursor,
        }))
    }

    /// Moves an order along the status machine; 409 `invalid_transition` otherwise.
    #[oai(path = "/admin/orders/:id/status", method = "put")]
    async fn set_status(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<OrderStatusBody>,
    ) -> Result<Reply<OrderJson>, ApiError> {
        let id: OrderId = id.0.parse("order")?;
        let status = body.0.status.0;
        let order = self.shop.orders().set_status(&auth.0, id, status).await?;
        Ok(Reply(order.into()))
    }

    /// Seed 004's path of `PUT /api/admin/orders/{id}/status` (admins): the same operation.
    #[oai(path = "/orders/:id/status", method = "put", deprecated)]
    async fn set_order_status(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<OrderStatusBody>,
    ) -> Result<Reply<OrderJson>, ApiError> {
        self.set_status(auth, id, body).await
    }

    /// Refunds through the payment provider: the whole captured amount, or `amount` of it.
    #[oai(path = "/admin/orders/:id/refund", method = "post")]
    async fn refund(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<RefundBody>,
    ) -> Result<Reply<OrderJson>, ApiError> {
        let id: OrderId = id.0.parse("order")?;
        let currency = self.currency().await?;
        let amount = body
            .0
            .amount
            .map(|a| {
                Money::new(a.0, currency).map_err(|e| ApiError::validation("amount", e.to_string()))
            })
            .transpose()?;
        let order = self.shop.orders().refund(&auth.0, id, amount).await?;
        Ok(Reply(order.into()))
    }

    /// `pending_approval → active`.
    #[oai(path = "/admin/products/:id/approve", method = "put")]
    async fn approve(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<ProductResponse, ApiError> {
        let id: ProductId = id.0.parse("product")?;
        let product = self.shop.catalog().approve_product(&auth.0, id).await?;
        product_response(product)
    }

    /// Every product's reviews, newest first, of `status` when given: what the staff look
    /// over (reviews are published when written; moderating hides or restores one).
    #[oai(path = "/admin/reviews", method = "get")]
    async fn reviews(
        &self,
        auth: BearerAuth,
        status: Query<Option<Choice<ReviewStatus>>>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<ReviewPageJson>, ApiError> {
        let found = self
            .shop
            .catalog()
            .reviews_for_staff(&auth.0, status.0.and_then(|s| s.0), page(limit.0, cursor.0))
            .await?;
        Ok(Reply(ReviewPageJson {
            items: found.items.into_iter().map(Into::into).collect(),
            next_cursor: found.next_cursor,
        }))
    }

    /// Moderates a review: `approved`, `rejected` (hidden) or `pending`. Reviews by buyers
    /// are approved when written; the product's rating follows.
    #[oai(path = "/admin/reviews/:id", method = "put")]
    async fn moderate_review(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<ReviewStatusBody>,
    ) -> Result<Reply<ReviewJson>, ApiError> {
        let id: ReviewId = id.0.parse("review")?;
        let status = body.0.status.0;
        let review = self
            .shop
            .catalog()
            .moderate_review(&auth.0, id, status)
            .await?;
        Ok(Reply(review.into()))
    }

    /// Discount codes and automatic promotions, newest first.
    #[oai(path = "/admin/discounts", method = "get")]
    async fn discounts(
        &self,
        auth: BearerAuth,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<String>>,
    ) -> Result<Reply<DiscountPageJson>, ApiError> {
        let found = self
            .shop
            .admin()
            .promotions(&auth.0, page(limit.0, cursor.0))
            .await?;
        Ok(Reply(DiscountPageJson {
            items: found.items.into_iter().map(Into::into).collect(),
            next_cursor: found.next_cursor,
        }))
    }

    #[oai(path = "/admin/discounts/:id", method = "get")]
    async fn discount(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Reply<DiscountJson>, ApiError> {
        let id: PromotionId = id.0.parse("discount")?;
        let found = self.shop.admin().promotion(&auth.0, id).await?;
        Ok(Reply(found.into()))
    }

    #[oai(path = "/admin/discounts", method = "post")]
    async fn create_discount(
        &self,
        auth: BearerAuth,
        body: JsonBody<DiscountBody>,
    ) -> Result<Created<DiscountJson>, ApiError> {
        let draft = body.0.into_draft();
        let created = self.shop.admin().create_promotion(&auth.0, draft).await?;
        let location = format!("/api/admin/discounts/{}", created.id);
        Ok(Created::Created(Reply(created.into()), location))
    }

    /// Replaces a discount (its usage count is kept).
    #[oai(path = "/admin/discounts/:id", method = "put")]
    async fn update_discount(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<DiscountBody>,
    ) -> Result<Reply<DiscountJson>, ApiError> {
        let id: PromotionId = id.0.parse("discount")?;
        let draft = body.0.into_draft();
        let updated = self
            .shop
            .admin()
            .update_promotion(&auth.0, id, draft)
            .await?;
        Ok(Reply(updated.into()))
    }

    #[oai(path = "/admin/discounts/:id", method = "delete")]
    async fn delete_discount(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Deleted, ApiError> {
        let id: PromotionId = id.0.parse("discount")?;
        self.shop.admin().delete_promotion(&auth.0, id).await?;
        Ok(Deleted::Deleted)
    }

    #[oai(path = "/admin/tax-rates", method = "get")]
    async fn tax_rates(&self, auth: BearerAuth) -> Result<Reply<Vec<TaxRateJson>>, ApiError> {
        let rates = self.shop.admin().tax_rates(&auth.0).await?;
        Ok(Reply(rates.into_iter().map(Into::into).collect()))
    }

    /// A rate for a country or one of its regions; the most specific match wins.
    #[oai(path = "/admin/tax-rates", method = "post")]
    async fn create_tax_rate(
        &self,
        auth: BearerAuth,
        body: JsonBody<TaxRateBody>,
    ) -> Result<Created<TaxRateJson>, ApiError> {
        let b = body.0;
        let rate = self
            .shop
            .admin()
            .save_tax_rate(
                &auth.0,
                None,
                b.country.as_str(),
                b.region.as_ref().map(Text::as_str),
                b.rate.0,
            )
            .await?;
        let location = format!("/api/admin/tax-rates/{}", rate.id);
        Ok(Created::Created(Reply(rate.into()), location))
    }

    #[oai(path = "/admin/tax-rates/:id", method = "get")]
    async fn tax_rate(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Reply<TaxRateJson>, ApiError> {
        let id: TaxRateId = id.0.parse("tax rate")?;
        Ok(Reply(self.shop.admin().tax_rate(&auth.0, id).await?.into()))
    }

    #[oai(path = "/admin/tax-rates/:id", method = "put")]
    async fn update_tax_rate(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<TaxRateBody>,
    ) -> Result<Reply<TaxRateJson>, ApiError> {
        let id: TaxRateId = id.0.parse("tax rate")?;
        let b = body.0;
        let rate = self
            .shop
            .admin()
            .save_tax_rate(
                &auth.0,
                Some(id),
                b.country.as_str(),
                b.region.as_ref().map(Text::as_str),
                b.rate.0,
            )
            .await?;
        Ok(Reply(rate.into()))
    }

    #[oai(path = "/admin/tax-rates/:id", method = "delete")]
    async fn delete_tax_rate(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Deleted, ApiError> {
        let id: TaxRateId = id.0.parse("tax rate")?;
        self.shop.admin().delete_tax_rate(&auth.0, id).await?;
        Ok(Deleted::Deleted)
    }

    /// Every shipping method, inactive ones included.
    #[oai(path = "/admin/shipping-methods", method = "get")]
    async fn shipping_methods(
        &self,
        auth: BearerAuth,
    ) -> Result<Reply<Vec<ShippingMethodJson>>, ApiError> {
        let methods = self.shop.admin().shipping_methods(&auth.0).await?;
        Ok(Reply(methods.into_iter().map(Into::into).collect()))
    }

    #[oai(path = "/admin/shipping-methods", method = "post")]
    async fn create_shipping_method(
        &self,
        auth: BearerAuth,
        body: JsonBody<ShippingMethodBody>,
    ) -> Result<Created<ShippingMethodJson>, ApiError> {
        let b = body.0;
        let method = self
            .shop
            .admin()
            .save_shipping_method(
                &auth.0,
                None,
                b.name.as_str(),
                b.price.0,
                b.free_above.map(|f| f.0),
                b.active,
            )
            .await?;
        let location = format!("/api/admin/shipping-methods/{}", method.id);
        Ok(Created::Created(Reply(method.into()), location))
    }

    /// One shipping method, inactive or not.
    #[oai(path = "/admin/shipping-methods/:id", method = "get")]
    async fn shipping_method(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Reply<ShippingMethodJson>, ApiError> {
        let id: ShippingMethodId = id.0.parse("shipping method")?;
        let method = self.shop.admin().shipping_method(&auth.0, id).await?;
        Ok(Reply(method.into()))
    }

    #[oai(path = "/admin/shipping-methods/:id", method = "put")]
    async fn update_shipping_method(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
        body: JsonBody<ShippingMethodBody>,
    ) -> Result<Reply<ShippingMethodJson>, ApiError> {
        let id: ShippingMethodId = id.0.parse("shipping method")?;
        let b = body.0;
        let method = self
            .shop
            .admin()
            .save_shipping_method(
                &auth.0,
                Some(id),
                b.name.as_str(),
                b.price.0,
                b.free_above.map(|f| f.0),
                b.active,
            )
            .await?;
        Ok(Reply(method.into()))
    }

    #[oai(path = "/admin/shipping-methods/:id", method = "delete")]
    async fn delete_shipping_method(
        &self,
        auth: BearerAuth,
        id: Path<PathId>,
    ) -> Result<Deleted, ApiError> {
        let id: ShippingMethodId = id.0.parse("shipping method")?;
        self.shop
            .admin()
            .delete_shipping_method(&auth.0, id)
            .await?;
        Ok(Deleted::Deleted)
    }

    /// Changes the shop's name and tax settings.
    #[oai(path = "/admin/store", method = "put")]
    async fn update_store(
        &self,
        auth: BearerAuth,
        body: JsonBody<StoreBody>,
    ) -> Result<Reply<StoreJson>, ApiError> {
        let b = body.0;
        let changes = StoreChanges {
            name: b.name.map(Text::into_string),
            prices_include_tax: b.prices_include_tax,
            tax_rounding: b.tax_rounding.0,
            tax_shipping: b.tax_shipping,
            address: b.address.map(Into::into),
            low_stock_threshold: b.low_stock_threshold.map(|t| t.0),
        };
        let settings = self.shop.admin().update_store(&auth.0, changes).await?;
        Ok(Reply(StoreJson::of(settings, &self.shop)))
    }

    /// Sales per day from `from` to `to` (both `YYYY-MM-DD`, inclusive) as CSV.
    #[oai(path = "/admin/reports/sales", method = "get")]
    async fn sales_report(
        &self,
        auth: BearerAuth,
        from: Query<Day>,
        to: Query<Day>,
    ) -> Result<CsvReport, ApiError> {
        let (from, to) = (from.0 .0, to.0 .0);
        let csv = self
            .shop
            .admin()
            .sales_report_csv(&auth.0, from, to)
            .await?;
        Ok(CsvReport::Csv(PlainText(csv)))
    }
}
