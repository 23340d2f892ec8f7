//! Pricing a set of lines and placing them as an order: the one path that cart checkout and
//! direct orders (`POST /api/orders`) both take. A cart's view is priced here too, so that
//! what a customer sees in the cart is what checkout charges.
//!
//! Placing is two steps: `quote` resolves the buyer, the address, the shipping method and
//! the pricing inputs, and prices the lines; each caller then applies its own rules (a cart
//! drops codes that do not apply, a direct order refuses them) before `place` writes the
//! order, its stock and its promotion usage at once.

use rust_decimal::Decimal;

use super::{Caller, Commerce, CommerceError};
use crate::account::{normalize_email, Address};
use crate::catalog::{CategoryTree, Product};
use crate::events::DomainEvent;
use crate::ids::{
    AddressId, CartId, CartItemId, ProductId, PromotionId, ShippingMethodId, UserId, VariantId,
};
use crate::order::{order_number, ChosenShipping, Order, OrderDetails};
use crate::outbox::{ChangeRecord, OutboxEvent};
use crate::ports::{NewOrder, PlaceOrderError, StorageError, StoreSettings, UniqueRule};
use crate::pricing::{price, PricedCart, PricingContext, PricingLine, PricingRequest};
use crate::promotion::Promotion;
use crate::shipping::ShippingMethod;
use crate::tax::rate_for;
use crate::validation::ValidationErrors;

/// One line to price: a cart's item, or a line of a direct order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineRequest {
    pub item_id: CartItemId,
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub quantity: u32,
}

/// Everything a price needs besides the lines, loaded once per request.
pub(crate) struct PricingInputs {
    pub settings: StoreSettings,
    pub products: Vec<Product>,
    /// Empty unless a promotion is scoped by category.
    pub tree: CategoryTree,
    pub promotions: Vec<Promotion>,
    pub customer_uses: Vec<(PromotionId, u32)>,
    pub tax_rate: Decimal,
    pub shipping: Option<ShippingMethod>,
}

/// Lines priced, with what the client shows beside them.
pub(crate) struct PricedLines {
    pub priced: PricedCart,
    /// The display name of each priced line, in the order of `priced.lines`.
    pub names: Vec<String>,
    /// Lines whose product is not for sale or whose variant is gone; left out of the price.
    pub unavailable: Vec<CartItemId>,
}

/// What an order is placed from.
pub(crate) struct PlacementRequest<'a> {
    pub lines: Vec<LineRequest>,
    /// Normalised discount codes.
    pub codes: &'a [String],
    /// A guest's email (required of guests; a signed-in buyer's own is used).
    pub email: Option<&'a str>,
    pub shipping_address: Option<Address>,
    pub address_id: Option<AddressId>,
    /// `None` chooses the cheapest active method.
    pub shipping_method: Option<ShippingMethodId>,
    /// The lines' products, when the caller read them already (with the cart).
    pub products: Option<Vec<Product>>,
}

/// An order priced and ready to place.
pub(crate) struct Quote {
    pub details: OrderDetails,
    /// Whose promotion uses count: the user's id, or a guest's email.
    pub customer_key: String,
    pub lines: PricedLines,
    pub products: Vec<Product>,
}

/// The products to price: to be read, or read already by the caller.
pub(crate) enum ProductsToPrice {
    Read(Vec<ProductId>),
    Given(Vec<Product>),
}

impl Commerce {
    /// Loads what pricing lines of these products needs: products (unless given),
    /// categories, promotions for `codes` with this customer's uses, the destination's tax
    /// rate.
    pub(crate) async fn pricing_inputs(
        &self,
        products: ProductsToPrice,
        codes: &[String],
        customer_key: Option<&str>,
        destination: Option<&Address>,
        shipping: Option<ShippingMethod>,
    ) -> Result<PricingInputs, CommerceError> {
        let settings = self.settings().await?;
        let products = match products {
            ProductsToPrice::Given(products) => products,
            ProductsToPrice::Read(ids) if ids.is_empty() => Vec::new(),
            ProductsToPrice::Read(ids) => self.ports.products.products(&ids).await?,
        };
        let promotions = if codes.is_empty() {
            self.automatic_promotions().await?
        } else {
            self.ports.promotions.promotions_for_pricing(codes).await?
        };
        // A line's categories matter only to promotions scoped by category: most prices
        // need no category tree.
        let tree = if promotions
            .iter()
            .any(|p| !p.applies_to.category_ids.is_empty())
        {
            CategoryTree::new(self.ports.categories.categories().await?)
        } else {
            CategoryTree::default()
        };
        let limited: Vec<_> = promotions
            .iter()
            .filter(|p| p.per_customer_limit.is_some())
            .map(|p| p.id)
            .collect();
        let customer_uses = match customer_key {
            Some(key) if !limited.is_empty() => {
                self.ports.promotions.customer_uses(key, &limited).await?
            }
            _ => Vec::new(),
        };
        let tax_rate = match destination {
            Some(a) => rate_for(
                &self.kept_tax_rates().await?,
                &a.country,
                a.region.as_deref(),
            ),
            None => Decimal::ZERO,
        };
        Ok(PricingInputs {
            settings,
            products,
            tree,
            promotions,
            customer_uses,
            tax_rate,
            shipping,
        })
    }

    /// The active shipping method with this id, or the cheapest active one when `None`.
    pub(crate) async fn shipping_method(
        &self,
        id: Option<ShippingMethodId>,
        field: &str,
    ) -> Result<Option<ShippingMethod>, CommerceError> {
        // A method in another currency than the cart is refused by pricing.
        let methods = self.kept_shipping_methods().await?;
        match id {
            Some(id) => methods
                .iter()
                .find(|m| m.id == id && m.active)
                .cloned()
                .map(Some)
                .ok_or_else(|| CommerceError::validation(field, "no such active shipping method")),
            None => Ok(methods
                .iter()
                .filter(|m| m.active)
                .min_by(|a, b| {
                    a.price
                        .amount()
                        .cmp(&b.price.amount())
                        .then(a.id.cmp(&b.id))
                })
                .cloned()),
        }
    }

    /// Who buys, where it goes, how, and at what price: everything of an order but its
    /// number, nothing written.
    pub(crate) async fn quote(
        &self,
        caller: &Caller,
        request: PlacementRequest<'_>,
    ) -> Result<Quote, CommerceError> {
        let (user_id, email) = self.buyer(caller, request.email).await?;
        let address = self
            .shipping_address(user_id, request.shipping_address, request.address_id)
            .await?;
        let method = self
            .shipping_method(request.shipping_method, "shipping_method")
            .await?;
        let customer_key = crate::order::customer_key(user_id, email.as_deref());
        let inputs = self
            .pricing_inputs(
                match request.products {
                    Some(products) => ProductsToPrice::Given(products),
                    None => ProductsToPrice::Read(product_ids(&request.lines)),
                },
                request.codes,
                Some(&customer_key),
                Some(&address),
                method.clone(),
            )
            .await?;
        let lines = price_lines(&inputs, &request.lines, request.codes, self.now())?;
        let shipping_method = method.map(|m| ChosenShipping {
            id: m.id,
            name: m.name,
            price: m.price,
        });
        Ok(Quote {
            details: OrderDetails {
                id: self.new_id(),
                number: String::new(),
                user_id,
                email,
                shipping_address: address,
                shipping_method,
                payment_provider: None,
            },
            customer_key,
            lines,
            products: inputs.products,
        })
    }

    /// Writes a quoted order atomically (stock, promotion usage and the cart it empties, if
    /// any, at the version read), retrying on the rare clash of order numbers; then reports
    /// low stock and publishes `OrderPlaced`.
    pub(crate) async fn place(
        &self,
        quote: Quote,
        cart: Option<(CartId, u64)>,
    ) -> Result<Order, CommerceError> {
        let Quote {
            mut details,
            customer_key,
            lines,
            products,
        } = quote;
        let priced = &lines.priced;
        let now = self.now();
        for attempt in 0..4 {
            details.number = order_number(now, self.ports.ids.random_u64());
            let order = Order::from_priced(details.clone(), priced, &products, now);
            let record =
                ChangeRecord::telling(vec![OutboxEvent::order_created(self.new_id(), &order)])
                    .watching_stock(now);
            let new = NewOrder {
                order,
                promotion_ids: priced.applied_ids().collect(),
                customer_key: customer_key.clone(),
                cart,
                record,
            };
            match self.ports.orders.place_order(&new).await {
                Ok(levels) => {
                    self.outbox_written();
                    self.catalog().report_low_stock(&levels);
                    self.ports.events.publish(DomainEvent::OrderPlaced {
                        order_id: new.order.id,
                        user_id: new.order.user_id,
                        at: now,
                    });
                    return Ok(new.order);
                }
                Err(PlaceOrderError::Storage(StorageError::Duplicate(UniqueRule::OrderNumber)))
                    if attempt < 3 =>
                {
                    continue
                }
                Err(e) => return Err(name_promotion(e, priced)),
            }
        }
        Err(CommerceError::Internal(
            "could not allocate an order number".into(),
        ))
    }

    /// The buyer: the signed-in user (with their email), or a guest's email (required).
    async fn buyer(
        &self,
        caller: &Caller,
        email: Option<&str>,
    ) -> Result<(Option<UserId>, Option<String>), CommerceError> {
        match caller.user_id() {
            Some(id) => {
                let user = self
                    .ports
                    .users
                    .user(id)
                    .await?
                    .ok_or(CommerceError::Unauthenticated)?;
                Ok((Some(id), Some(user.email)))
            }
            None => {
                let email = email.and_then(normalize_email).ok_or_else(|| {
                    CommerceError::validation("email", "a guest checkout needs a valid email")
                })?;
                Ok((None, Some(email)))
            }
        }
    }

    /// The inline address (validated in full) or one of the user's saved addresses.
    async fn shipping_address(
        &self,
        user: Option<UserId>,
        inline: Option<Address>,
        saved: Option<AddressId>,
    ) -> Result<Address, CommerceError> {
        match (inline, saved) {
            (Some(a), _) => a
                .validated(true)
                .map_err(|e| CommerceError::Validation(e.nested("shipping_address"))),
            (None, Some(id)) => {
                let user = user.ok_or_else(|| {
                    CommerceError::validation("address_id", "guests give a shipping_address")
                })?;
                self.ports
                    .users
                    .addresses(user)
                    .await?
                    .into_iter()
                    .find(|a| a.id == id)
                    .map(|a| a.address)
                    .ok_or_else(|| CommerceError::validation("address_id", "no such saved address"))
            }
            (None, None) => Err(CommerceError::Validation(ValidationErrors::single(
                "shipping_address",
                "is required (or give address_id)",
            ))),
        }
    }
}

/// Each product once, in id order.
pub(crate) fn product_ids(lines: &[LineRequest]) -> Vec<ProductId> {
    let mut ids: Vec<ProductId> = lines.iter().map(|l| l.product_id).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Prices `lines`. Lines whose product is not for sale, or whose variant does not fit the
/// product, are left out and returned as unavailable.
pub(crate) fn price_lines(
    inputs: &PricingInputs,
    lines: &[LineRequest],
    codes: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<PricedLines, CommerceError> {
    let mut pricing_lines = Vec::with_capacity(lines.len());
    let mut names = Vec::with_capacity(lines.len());
    let mut unavailable = Vec::new();
    for line in lines {
        let product = inputs
            .products
            .iter()
            .find(|p| p.id == line.product_id && p.is_sellable());
        let unit_price = product.and_then(|p| {
            if p.variants.is_empty() != line.variant_id.is_none() {
                None // a variant is required exactly when the product has variants
            } else {
                p.unit_price(line.variant_id)
            }
        });
        match (product, unit_price) {
            // The currency is fixed before the first product, so only storage filled behind
            // the engine's back can get here; pricing it would mix currencies.
            (Some(p), Some(price)) if price.currency() != inputs.settings.currency => {
                return Err(CommerceError::Internal(format!(
                    "product {} is priced in {}, but the shop sells in {}",
                    p.id,
                    price.currency(),
                    inputs.settings.currency
                )));
            }
            (Some(p), Some(unit_price)) => {
                names.push(p.line_name(line.variant_id));
                pricing_lines.push(PricingLine {
                    item_id: line.item_id,
                    product_id: line.product_id,
                    variant_id: line.variant_id,
                    category_ids: p
                        .category_id
                        .map(|c| inputs.tree.ancestry(c))
                        .unwrap_or_default(),
                    unit_price,
                    quantity: line.quantity,
                });
            }
            _ => unavailable.push(line.item_id),
        }
    }
    let request = PricingRequest {
        currency: inputs.settings.currency,
        lines: pricing_lines,
        codes: codes.to_vec(),
    };
    let ctx = PricingContext {
        now,
        promotions: &inputs.promotions,
        customer_uses: &inputs.customer_uses,
        tax: inputs.settings.tax,
        tax_rate: inputs.tax_rate,
        shipping: inputs.shipping.as_ref(),
        rounding: inputs.settings.rounding,
    };
    Ok(PricedLines {
        priced: price(&request, &ctx)?,
        names,
        unavailable,
    })
}

/// Puts the code of a promotion that ran out during placing into the error.
fn name_promotion(e: PlaceOrderError, priced: &PricedCart) -> CommerceError {
    let code_of = |id| {
        priced
            .applied
            .iter()
            .find(|a| a.id == id)
            .and_then(|a| a.code.clone())
            .unwrap_or_default()
    };
    match e {
        PlaceOrderError::UsageExhausted(id) => CommerceError::InvalidDiscount {
            code: code_of(id),
            reason: crate::pricing::RejectionReason::UsageExhausted,
        },
        PlaceOrderError::CustomerLimitReached(id) => CommerceError::InvalidDiscount {
            code: code_of(id),
            reason: crate::pricing::RejectionReason::CustomerLimitReached,
        },
        other => other.into(),
    }
}
