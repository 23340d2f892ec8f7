//! Cart use cases and checkout. A cart is priced on every read by the pricing engine, from
//! prices, promotions, tax rates and shipping methods resolved here; nothing a client sends
//! is trusted as a price.

use super::checkout::{
    price_lines, product_ids, LineRequest, PlacementRequest, PricedLines, ProductsToPrice,
};
use super::{Caller, Commerce, CommerceError};
use crate::account::{hash_token, random_token, Address};
use crate::cart::Cart;
use crate::catalog::Product;
use crate::ids::{AddressId, CartItemId, ProductId, ShippingMethodId, UserId, VariantId};
use crate::order::Order;
use crate::payment::Payment;
use crate::ports::{StorageError, StoredCartOwner, UniqueRule};
use crate::pricing::PricedCart;
use crate::shipping::ShippingMethod;

/// Whose cart: a guest's, named by the token it was given, or a signed-in customer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartOwner {
    /// `None` before the guest's first write (which creates the cart and its token).
    Guest(Option<String>),
    /// A signed-in customer's one cart.
    Customer(UserId),
}

impl CartOwner {
    /// The cart of a caller: the customer's when signed in, else the guest token's.
    pub fn of(caller: &Caller, guest_token: Option<String>) -> CartOwner {
        match caller.user_id() {
            Some(id) => CartOwner::Customer(id),
            None => CartOwner::Guest(guest_token),
        }
    }
}

/// A line to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRequest {
    /// The product.
    pub product_id: ProductId,
    /// Its variant; required when the product has variants.
    pub variant_id: Option<VariantId>,
    /// How many (added to a line already in the cart).
    pub quantity: u32,
}

/// A cart with its prices and what the client needs to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartView {
    /// The cart as stored.
    pub cart: Cart,
    /// Its prices now, with the explanation of every amount (PRICING.md).
    pub priced: PricedCart,
    /// The display name of each priced line, in the order of `priced.lines`.
    pub names: Vec<String>,
    /// Lines whose product or variant is no longer for sale; not priced, refused at checkout.
    pub unavailable: Vec<CartItemId>,
    /// The shipping method chosen (`PUT /api/cart/delivery`), if any.
    pub shipping_method: Option<ShippingMethod>,
    /// Set when this call created a guest cart: the token the client keeps.
    pub new_guest_token: Option<String>,
}

/// Where and how a cart is delivered (`PUT /api/cart/delivery`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Where: at least country and postal code (region where tax goes by it).
    pub shipping_address: Address,
    /// How: an active shipping method.
    pub shipping_method: ShippingMethodId,
}

/// What checkout needs besides the cart.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckoutRequest {
    /// Where the order goes (a full parcel address), unless `address_id` names a saved one.
    pub shipping_address: Option<Address>,
    /// One of the customer's saved addresses.
    pub address_id: Option<AddressId>,
    /// The method; default the cart's, else the cheapest active one.
    pub shipping_method: Option<ShippingMethodId>,
    /// Required for a guest.
    pub email: Option<String>,
    /// One of [`Commerce::payment_providers`]; `None`: the shop's default.
    pub payment_provider: Option<String>,
}

/// What checkout made: the pending order and its payment (none if the payment provider
/// could not be reached; the client then creates the payment with `create_intent`).
#[derive(Debug, Clone, PartialEq)]
pub struct Checkout {
    /// The order, `pending`, its stock reserved.
    pub order: Order,
    /// Its payment, started with the provider.
    pub payment: Option<Payment>,
    /// Why the payment could not be started, when it could not: the order stands all the
    /// same, and its payment may be started again.
    pub payment_error: Option<CommerceError>,
}

/// Cart use cases ([`Commerce::carts`]).
pub struct Carts<'a> {
    pub(super) shop: &'a Commerce,
}

fn cart_lines(cart: &Cart) -> Vec<LineRequest> {
    cart.items
        .iter()
        .map(|i| LineRequest {
            item_id: i.id,
            product_id: i.product_id,
            variant_id: i.variant_id,
            quantity: i.quantity,
        })
        .collect()
}

impl Carts<'_> {
    /// The caller's cart, priced. A guest without a cart sees an empty one (nothing stored).
    pub async fn cart(&self, owner: &CartOwner) -> Result<CartView, CommerceError> {
        match self.find_with_products(owner, &[]).await? {
            (Some(cart), products) => self.view(cart, None, Some(products)).await,
            (None, _) => {
                let settings = self.shop.settings().await?;
                let cart = Cart::new(
                    self.shop.new_id(),
                    None,
                    None,
                    settings.currency,
                    self.shop.now(),
                );
                self.view(cart, None, None).await
            }
        }
    }

    /// Adds units of a product (merging with its line); 409 `out_of_stock` past what is
    /// available. `expected_version` comes from `If-Match`.
    pub async fn add_item(
        &self,
        owner: &CartOwner,
        item: ItemRequest,
        expected_version: Option<u64>,
    ) -> Result<CartView, CommerceError> {
        // The cart and every product it will hold: the new one is checked here, and all of
        // them are priced for the answer.
        let (found, products) = self.find_with_products(owner, &[item.product_id]).await?;
        let product = products
            .iter()
            .find(|p| p.id == item.product_id)
            .filter(|p| p.is_sellable())
            .ok_or_else(|| CommerceError::validation("product_id", "no such product for sale"))?;
        let available = match (item.variant_id, product.variants.is_empty()) {
            (None, false) => {
                return Err(CommerceError::validation(
                    "variant_id",
                    "this product is sold by variant: choose one",
                ))
            }
            (Some(_), true) => {
                return Err(CommerceError::validation(
                    "variant_id",
                    "this product has no variants",
                ))
            }
            (variant, _) => product.available(variant).ok_or_else(|| {
                CommerceError::validation("variant_id", "no such variant of this product")
            })?,
        };
        let now = self.shop.now();
        let add = |cart: &mut Cart| -> Result<(), CommerceError> {
            check_version(cart, expected_version)?;
            cart.add_item(
                self.shop.new_id(),
                item.product_id,
                item.variant_id,
                item.quantity,
                available,
                now,
            )?;
            Ok(())
        };
        if let Some(mut cart) = found {
            add(&mut cart)?;
            return self.save(cart, None, Some(products)).await;
        }
        // A first item: the cart is stored with it, in one write.
        let (mut cart, token) = self.new_cart(owner).await?;
        add(&mut cart)?;
        match self.shop.ports.carts.insert_cart(&cart).await {
            Ok(()) => self.view(cart, token, Some(products)).await,
            // Two first writes of one customer raced: add to the cart the other one made.
            Err(StorageError::Duplicate(UniqueRule::OneCartPerCustomer)) => {
                let mut cart = self.require(owner).await?;
                add(&mut cart)?;
                self.save(cart, None, None).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Sets a line's quantity; 0 removes it.
    pub async fn update_item(
        &self,
        owner: &CartOwner,
        item_id: CartItemId,
        quantity: u32,
        expected_version: Option<u64>,
    ) -> Result<CartView, CommerceError> {
        let mut cart = self.require(owner).await?;
        check_version(&cart, expected_version)?;
        let line = cart
            .item(item_id)
            .cloned()
            .ok_or(CommerceError::NotFound("cart item"))?;
        let available = if quantity == 0 {
            0
        } else {
            self.shop
                .ports
                .products
                .product(line.product_id)
                .await?
                .filter(Product::is_sellable)
                .and_then(|p| p.available(line.variant_id))
                .unwrap_or(0)
        };
        cart.set_quantity(item_id, quantity, available, self.shop.now())?;
        self.save(cart, None, None).await
    }

    /// Removes a line; `expected_version` (the client's `If-Match`) must be the cart's, else
    /// `VersionMismatch`. An unknown line is not found.
    pub async fn remove_item(
        &self,
        owner: &CartOwner,
        item_id: CartItemId,
        expected_version: Option<u64>,
    ) -> Result<CartView, CommerceError> {
        let mut cart = self.require(owner).await?;
        check_version(&cart, expected_version)?;
        cart.remove_item(item_id, self.shop.now())?;
        self.save(cart, None, None).await
    }

    /// Adds a discount code. One that can never apply now is refused with its reason; one
    /// the cart does not qualify for yet is kept and reported in `rejected_promotions`.
    pub async fn add_code(
        &self,
        owner: &CartOwner,
        code: &str,
        expected_version: Option<u64>,
    ) -> Result<CartView, CommerceError> {
        let (mut cart, token) = self.find_or_create(owner).await?;
        check_version(&cart, expected_version)?;
        let code = cart.add_code(code, self.shop.now())?;
        let view = self.view(cart.clone(), None, None).await?;
        if let Some(rejected) = view.priced.rejection_of_code(&code) {
            if rejected.reason.is_permanent() {
                return Err(CommerceError::InvalidDiscount {
                    code,
                    reason: rejected.reason,
                });
            }
        }
        self.save(cart, token, None).await
    }

    /// Takes a discount code off the cart (compared without case), with the same version
    /// check as `remove_item`.
    pub async fn remove_code(
        &self,
        owner: &CartOwner,
        code: &str,
        expected_version: Option<u64>,
    ) -> Result<CartView, CommerceError> {
        let mut cart = self.require(owner).await?;
        check_version(&cart, expected_version)?;
        cart.remove_code(code, self.shop.now())?;
        self.save(cart, None, None).await
    }

    /// Sets the destination (for tax) and the shipping method.
    pub async fn set_delivery(
        &self,
        owner: &CartOwner,
        delivery: Delivery,
        expected_version: Option<u64>,
    ) -> Result<CartView, CommerceError> {
        let address = delivery
            .shipping_address
            .validated(false)
            .map_err(|e| CommerceError::Validation(e.nested("shipping_address")))?;
        let method = self
            .shop
            .shipping_method(Some(delivery.shipping_method), "shipping_method")
            .await?;
        let (mut cart, token) = self.find_or_create(owner).await?;
        check_version(&cart, expected_version)?;
        cart.shipping_address = Some(address);
        cart.shipping_method_id = method.map(|m| m.id);
        cart.updated_at = self.shop.now();
        self.save(cart, token, None).await
    }

    /// At login: moves the guest cart's lines and codes into the customer's cart (quantities
    /// summed and capped by stock) and deletes the guest cart.
    pub async fn merge_guest_cart(
        &self,
        user: UserId,
        guest_token: &str,
    ) -> Result<Option<CartView>, CommerceError> {
        let Some(guest) = self
            .shop
            .ports
            .carts
            .cart_by_token(&hash_token(guest_token))
            .await?
        else {
            return Ok(None);
        };
        let (mut cart, _) = self.find_or_create(&CartOwner::Customer(user)).await?;
        let products = self
            .shop
            .ports
            .products
            .products(&product_ids(&cart_lines(&guest)))
            .await?;
        let stock = |p: ProductId, v: Option<VariantId>| {
            products
                .iter()
                .find(|x| x.id == p && x.is_sellable())
                .and_then(|x| x.available(v))
                .unwrap_or(0)
        };
        cart.merge_guest(&guest, stock, self.shop.now());
        let view = self.save(cart, None, None).await?;
        self.shop.ports.carts.delete_cart(guest.id).await?;
        Ok(Some(view))
    }

    /// Turns the cart into a pending order: prices it for the destination and method,
    /// reserves stock, counts promotion usage and empties the cart, all at once; then creates
    /// the payment. Codes that do not apply are dropped and reported on the order.
    pub async fn checkout(
        &self,
        caller: &Caller,
        owner: &CartOwner,
        request: CheckoutRequest,
    ) -> Result<Checkout, CommerceError> {
        self.shop
            .offered_provider(request.payment_provider.as_deref())?;
        // No cart yet is an empty cart, as `GET /api/cart` shows it.
        let (cart, products) = self.find_with_products(owner, &[]).await?;
        let Some(cart) = cart.filter(|c| !c.items.is_empty()) else {
            return Err(CommerceError::validation("items", "the cart is empty"));
        };
        let mut quote = self
            .shop
            .quote(
                caller,
                PlacementRequest {
                    lines: cart_lines(&cart),
                    codes: &cart.discount_codes,
                    email: request.email.as_deref(),
                    shipping_address: request.shipping_address,
                    address_id: request.address_id,
                    shipping_method: request.shipping_method.or(cart.shipping_method_id),
                    products: Some(products),
                },
            )
            .await?;
        if !quote.lines.unavailable.is_empty() {
            return Err(CommerceError::validation(
                "items",
                "some items are no longer for sale: remove them",
            ));
        }
        quote.details.payment_provider = request.payment_provider;
        let order = self
            .shop
            .place(quote, Some((cart.id, cart.version)))
            .await?;
        // The order stands whatever the provider says: the caller is told why there is no
        // payment (and logs it) and may start one again with create-intent.
        let payment = self.shop.payments().start(&order, None).await;
        let (payment, payment_error) = match payment {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        };
        Ok(Checkout {
            order,
            payment,
            payment_error,
        })
    }

    async fn find(&self, owner: &CartOwner) -> Result<Option<Cart>, CommerceError> {
        Ok(match owner {
            CartOwner::Customer(user) => self.shop.ports.carts.cart_of_customer(*user).await?,
            CartOwner::Guest(Some(token)) => {
                self.shop
                    .ports
                    .carts
                    .cart_by_token(&hash_token(token))
                    .await?
            }
            CartOwner::Guest(None) => None,
        })
    }

    /// The owner's cart with its lines' products and those in `also`: one read on a store
    /// that answers both at once, a second for the products on the others.
    async fn find_with_products(
        &self,
        owner: &CartOwner,
        also: &[ProductId],
    ) -> Result<(Option<Cart>, Vec<Product>), CommerceError> {
        let stored = match owner {
            CartOwner::Customer(user) => Some(StoredCartOwner::Customer(*user)),
            CartOwner::Guest(Some(token)) => Some(StoredCartOwner::Guest {
                token_hash: hash_token(token),
            }),
            CartOwner::Guest(None) => None,
        };
        let (cart, products) = match stored {
            Some(stored) => {
                let read = self
                    .shop
                    .ports
                    .carts
                    .cart_with_products(&stored, also)
                    .await?;
                (read.cart, read.products)
            }
            None => (None, None),
        };
        if let Some(products) = products {
            return Ok((cart, products));
        }
        let mut ids = cart
            .as_ref()
            .map(|c| product_ids(&cart_lines(c)))
            .unwrap_or_default();
        for id in also {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        let products = if ids.is_empty() {
            Vec::new()
        } else {
            self.shop.ports.products.products(&ids).await?
        };
        Ok((cart, products))
    }

    async fn require(&self, owner: &CartOwner) -> Result<Cart, CommerceError> {
        self.find(owner)
            .await?
            .ok_or(CommerceError::NotFound("cart"))
    }

    /// The owner's cart, created (and stored) if there is none; with the new guest token.
    async fn find_or_create(
        &self,
        owner: &CartOwner,
    ) -> Result<(Cart, Option<String>), CommerceError> {
        if let Some(cart) = self.find(owner).await? {
            return Ok((cart, None));
        }
        let (cart, token) = self.new_cart(owner).await?;
        match self.shop.ports.carts.insert_cart(&cart).await {
            Ok(()) => Ok((cart, token)),
            // Two first writes of one customer raced: use the cart the other one made.
            Err(StorageError::Duplicate(UniqueRule::OneCartPerCustomer)) => {
                Ok((self.require(owner).await?, None))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A new, empty cart for `owner` (not stored yet), with a new token for a guest: an
    /// unknown or expired token gets a new cart and a new token.
    async fn new_cart(&self, owner: &CartOwner) -> Result<(Cart, Option<String>), CommerceError> {
        let settings = self.shop.settings().await?;
        let now = self.shop.now();
        Ok(match owner {
            CartOwner::Customer(user) => (
                Cart::new(
                    self.shop.new_id(),
                    Some(*user),
                    None,
                    settings.currency,
                    now,
                ),
                None,
            ),
            CartOwner::Guest(_) => {
                let token = random_token().map_err(|e| CommerceError::Internal(e.to_string()))?;
                (
                    Cart::new(
                        self.shop.new_id(),
                        None,
                        Some(hash_token(&token)),
                        settings.currency,
                        now,
                    ),
                    Some(token),
                )
            }
        })
    }

    /// Stores the cart (at the version read) and prices it; `products`, if the caller has
    /// them already, spares reading them again.
    async fn save(
        &self,
        cart: Cart,
        new_token: Option<String>,
        products: Option<Vec<Product>>,
    ) -> Result<CartView, CommerceError> {
        let stored = self
            .shop
            .ports
            .carts
            .update_cart(&cart)
            .await
            .map_err(|e| match e {
                StorageError::VersionConflict => CommerceError::VersionMismatch("cart"),
                other => other.into(),
            })?;
        self.view(stored, new_token, products).await
    }

    pub(crate) async fn view(
        &self,
        cart: Cart,
        new_guest_token: Option<String>,
        products: Option<Vec<Product>>,
    ) -> Result<CartView, CommerceError> {
        let method = match cart.shipping_method_id {
            Some(id) => self
                .shop
                .shipping_method(Some(id), "shipping_method")
                .await
                .ok()
                .flatten(),
            None => None,
        };
        let customer_key = cart.customer_id.map(|u| u.to_string());
        let lines = cart_lines(&cart);
        // Products read with the cart are used only if they cover every line.
        let products = products.filter(|read| {
            lines
                .iter()
                .all(|l| read.iter().any(|p| p.id == l.product_id))
        });
        let inputs = self
            .shop
            .pricing_inputs(
                products.map_or_else(
                    || ProductsToPrice::Read(product_ids(&lines)),
                    ProductsToPrice::Given,
                ),
                &cart.discount_codes,
                customer_key.as_deref(),
                cart.shipping_address.as_ref(),
                method.clone(),
            )
            .await?;
        let PricedLines {
            priced,
            names,
            unavailable,
        } = price_lines(&inputs, &lines, &cart.discount_codes, self.shop.now())?;
        Ok(CartView {
            cart,
            priced,
            names,
            unavailable,
            shipping_method: method,
            new_guest_token,
        })
    }
}

fn check_version(cart: &Cart, expected: Option<u64>) -> Result<(), CommerceError> {
    match expected {
        Some(v) if v != cart.version => Err(CommerceError::VersionMismatch("cart")),
        _ => Ok(()),
    }
}
