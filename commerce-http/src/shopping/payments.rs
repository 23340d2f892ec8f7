//! Payments: intents, hosted checkout, confirmation and the providers' webhooks.

use super::*;

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
