//! Payments: intents, hosted checkout, confirmation and the providers' webhooks.

use super::*;
use commerce_core::ports::WebhookHeaders;

pub struct PaymentsApi {
    pub shop: Commerce,
}

impl PaymentsApi {
    async fn webhook(
        &self,
        provider: &str,
        headers: WebhookHeaders,
        body: &[u8],
    ) -> Result<Reply<WebhookReceived>, ApiError> {
        let received = self
            .shop
            .payments()
            .receive_webhook(provider, &headers, body)
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
        let b = body.0;
        let payment = self
            .shop
            .payments()
            .create_intent_through(
                &caller.0,
                OrderId::from(b.order_id),
                b.payment_provider.as_ref().map(|p| p.as_str()),
            )
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
        self.webhook("stripe", stripe_headers(signature.0), &body.0)
            .await
    }

    /// PayPal's events (`CHECKOUT.ORDER.APPROVED`, which captures the payment,
    /// `PAYMENT.CAPTURE.COMPLETED`, `.DENIED`, `.DECLINED`, `.PENDING`, `.REFUNDED`,
    /// `.REVERSED`), verified before anything is parsed: the RSA-SHA256 transmission
    /// signature over `transmission_id|transmission_time|webhook_id|crc32(body)`, with the
    /// certificate `PAYPAL-CERT-URL` names, fetched only from the allowed hosts (400
    /// `invalid_signature` when any of it is missing or wrong). Each event id is applied once;
    /// kinds the shop does not act on are acknowledged. 502 when the certificate cannot be
    /// fetched and 503 when storage is down, so that PayPal sends it again.
    #[oai(path = "/webhooks/paypal", method = "post")]
    #[allow(clippy::too_many_arguments)]
    async fn paypal_webhook(
        &self,
        #[oai(name = "PAYPAL-TRANSMISSION-ID")] transmission_id: Header<Option<String>>,
        #[oai(name = "PAYPAL-TRANSMISSION-TIME")] transmission_time: Header<Option<String>>,
        #[oai(name = "PAYPAL-TRANSMISSION-SIG")] transmission_sig: Header<Option<String>>,
        #[oai(name = "PAYPAL-CERT-URL")] cert_url: Header<Option<String>>,
        #[oai(name = "PAYPAL-AUTH-ALGO")] auth_algo: Header<Option<String>>,
        body: RawJson,
    ) -> Result<Reply<WebhookReceived>, ApiError> {
        let mut headers = WebhookHeaders::new();
        for (name, value) in [
            ("paypal-transmission-id", transmission_id.0),
            ("paypal-transmission-time", transmission_time.0),
            ("paypal-transmission-sig", transmission_sig.0),
            ("paypal-cert-url", cert_url.0),
            ("paypal-auth-algo", auth_algo.0),
        ] {
            if let Some(value) = value {
                headers.insert(name, value);
            }
        }
        self.webhook("paypal", headers, &body.0).await
    }

    /// Seed 004's path of `POST /api/webhooks/stripe`.
    #[oai(path = "/payment/webhook", method = "post", deprecated)]
    async fn payment_webhook(
        &self,
        #[oai(name = "Stripe-Signature")] signature: Header<Option<String>>,
        body: RawJson,
    ) -> Result<Reply<WebhookReceived>, ApiError> {
        self.webhook("stripe", stripe_headers(signature.0), &body.0)
            .await
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
        let b = body.0;
        let hosted = self
            .shop
            .payments()
            .create_hosted_checkout(
                &auth.0,
                OrderId::from(b.order_id),
                b.payment_provider.as_ref().map(|p| p.as_str()),
            )
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

/// Stripe's one signature header, as the payment port reads headers.
fn stripe_headers(signature: Option<String>) -> WebhookHeaders {
    match signature {
        Some(signature) => WebhookHeaders::new().with("stripe-signature", signature),
        None => WebhookHeaders::new(),
    }
}
