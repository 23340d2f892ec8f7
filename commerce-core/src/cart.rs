//! The cart: lines (one per product and variant), discount codes, the chosen delivery, and an
//! optimistic `version`. Prices are not stored here: the pricing engine resolves them on
//! every read, so a cart never shows a stale or client-sent price.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::Address;
use crate::ids::{CartId, CartItemId, ProductId, ShippingMethodId, UserId, VariantId};
use crate::limits::{MAX_LINES, MAX_LINE_QUANTITY};
use crate::money::Currency;
use crate::promotion::normalize_code;

/// The most codes one cart may carry.
pub const MAX_CODES: usize = 10;

/// A line of a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartItem {
    /// The line's id.
    pub id: CartItemId,
    /// The product.
    pub product_id: ProductId,
    /// The variant, when the product has them.
    pub variant_id: Option<VariantId>,
    /// How many (1 to `MAX_LINE_QUANTITY`).
    pub quantity: u32,
    /// When it was first added.
    pub added_at: DateTime<Utc>,
}

/// A cart: what a buyer means to buy. Prices are not kept: it is priced when shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    /// Its id.
    pub id: CartId,
    /// The customer who owns it; `None` for a guest cart.
    pub customer_id: Option<UserId>,
    /// SHA-256 of a guest cart's token (the token itself is only ever given to the client).
    pub guest_token_hash: Option<String>,
    /// The shop's currency when it was made.
    pub currency: Currency,
    /// Its lines, in the order they were added.
    pub items: Vec<CartItem>,
    /// Upper-case, each once, in the order they were added.
    pub discount_codes: Vec<String>,
    /// Where it will go, once given (tax and shipping follow it).
    pub shipping_address: Option<Address>,
    /// How it will go, once chosen.
    pub shipping_method_id: Option<ShippingMethodId>,
    /// Moved by every change; a write at an older version is refused.
    pub version: u64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed (old guest carts are purged by it).
    pub updated_at: DateTime<Utc>,
}

/// Why a change to a cart was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    /// A quantity of 0 or more than a line takes.
    #[error("quantity must be 1 to {MAX_LINE_QUANTITY}")]
    InvalidQuantity,
    /// More than is left to sell.
    #[error("only {available} available")]
    OutOfStock {
        /// The product short of units.
        product_id: ProductId,
        /// Its variant, when one was asked for.
        variant_id: Option<VariantId>,
        /// How many are left.
        available: u32,
    },
    /// No such line in this cart.
    #[error("cart item {0} is not in this cart")]
    ItemNotFound(CartItemId),
    /// The cart has as many lines as it may.
    #[error("a cart holds at most {MAX_LINES} lines")]
    TooManyLines,
    /// The cart has as many codes as it may.
    #[error("a cart holds at most {MAX_CODES} discount codes")]
    TooManyCodes,
    /// Not a code's shape (letters, digits, `-`, `_`).
    #[error("`{0}` is not a valid discount code")]
    InvalidCode(String),
    /// That code is not on the cart.
    #[error("code {0} is not on this cart")]
    CodeNotFound(String),
}

impl Cart {
    /// An empty cart, a customer's or (with its token's hash) a guest's.
    pub fn new(
        id: CartId,
        customer_id: Option<UserId>,
        guest_token_hash: Option<String>,
        currency: Currency,
        now: DateTime<Utc>,
    ) -> Cart {
        Cart {
            id,
            customer_id,
            guest_token_hash,
            currency,
            items: Vec::new(),
            discount_codes: Vec::new(),
            shipping_address: None,
            shipping_method_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// The line of that id.
    pub fn item(&self, id: CartItemId) -> Option<&CartItem> {
        self.items.iter().find(|i| i.id == id)
    }

    /// Units of a product and variant already in the cart.
    pub fn quantity_of(&self, product_id: ProductId, variant_id: Option<VariantId>) -> u32 {
        self.items
            .iter()
            .filter(|i| i.product_id == product_id && i.variant_id == variant_id)
            .map(|i| i.quantity)
            .sum()
    }

    /// Adds units; the same product and variant merges into one line. `available` is the
    /// stock that may be sold; the line may not exceed it.
    pub fn add_item(
        &mut self,
        new_item_id: CartItemId,
        product_id: ProductId,
        variant_id: Option<VariantId>,
        quantity: u32,
        available: u32,
        now: DateTime<Utc>,
    ) -> Result<CartItemId, CartError> {
        if quantity == 0 || quantity > MAX_LINE_QUANTITY {
            return Err(CartError::InvalidQuantity);
        }
        let existing = self
            .items
            .iter()
            .position(|i| i.product_id == product_id && i.variant_id == variant_id);
        let wanted = existing
            .map_or(0, |i| self.items[i].quantity)
            .saturating_add(quantity);
        if wanted > MAX_LINE_QUANTITY {
            return Err(CartError::InvalidQuantity);
        }
        if wanted > available {
            return Err(CartError::OutOfStock {
                product_id,
                variant_id,
                available,
            });
        }
        let id = match existing {
            Some(i) => {
                self.items[i].quantity = wanted;
                self.items[i].id
            }
            None => {
                if self.items.len() >= MAX_LINES {
                    return Err(CartError::TooManyLines);
                }
                self.items.push(CartItem {
                    id: new_item_id,
                    product_id,
                    variant_id,
                    quantity,
                    added_at: now,
                });
                new_item_id
            }
        };
        self.updated_at = now;
        Ok(id)
    }

    /// Sets a line's quantity; 0 removes the line.
    pub fn set_quantity(
        &mut self,
        item_id: CartItemId,
        quantity: u32,
        available: u32,
        now: DateTime<Utc>,
    ) -> Result<(), CartError> {
        let index = self
            .items
            .iter()
            .position(|i| i.id == item_id)
            .ok_or(CartError::ItemNotFound(item_id))?;
        if quantity == 0 {
            self.items.remove(index);
        } else {
            if quantity > MAX_LINE_QUANTITY {
                return Err(CartError::InvalidQuantity);
            }
            let item = &self.items[index];
            if quantity > available {
                return Err(CartError::OutOfStock {
                    product_id: item.product_id,
                    variant_id: item.variant_id,
                    available,
                });
            }
            self.items[index].quantity = quantity;
        }
        self.updated_at = now;
        Ok(())
    }

    /// Takes a line out; `ItemNotFound` when it is not there.
    pub fn remove_item(
        &mut self,
        item_id: CartItemId,
        now: DateTime<Utc>,
    ) -> Result<(), CartError> {
        let before = self.items.len();
        self.items.retain(|i| i.id != item_id);
        if self.items.len() == before {
            return Err(CartError::ItemNotFound(item_id));
        }
        self.updated_at = now;
        Ok(())
    }

    /// Adds a code (normalised to upper-case); adding one already there changes nothing.
    pub fn add_code(&mut self, code: &str, now: DateTime<Utc>) -> Result<String, CartError> {
        let code = normalize_code(code).ok_or_else(|| CartError::InvalidCode(code.to_string()))?;
        if !self.discount_codes.contains(&code) {
            if self.discount_codes.len() >= MAX_CODES {
                return Err(CartError::TooManyCodes);
            }
            self.discount_codes.push(code.clone());
            self.updated_at = now;
        }
        Ok(code)
    }

    /// Takes a code off (compared without case); `CodeNotFound` when it is not there.
    pub fn remove_code(&mut self, code: &str, now: DateTime<Utc>) -> Result<(), CartError> {
        let before = self.discount_codes.len();
        self.discount_codes
            .retain(|c| !c.eq_ignore_ascii_case(code.trim()));
        if self.discount_codes.len() == before {
            return Err(CartError::CodeNotFound(code.to_string()));
        }
        self.updated_at = now;
        Ok(())
    }

    /// Moves a guest cart's lines and codes into this (the customer's) cart at login:
    /// quantities of the same product and variant are summed and capped by the stock
    /// `available` reports; lines with nothing available are dropped.
    pub fn merge_guest(
        &mut self,
        guest: &Cart,
        available: impl Fn(ProductId, Option<VariantId>) -> u32,
        now: DateTime<Utc>,
    ) {
        for g in &guest.items {
            let stock = available(g.product_id, g.variant_id);
            let existing = self
                .items
                .iter()
                .position(|i| i.product_id == g.product_id && i.variant_id == g.variant_id);
            match existing {
                Some(i) => {
                    let line = &mut self.items[i];
                    line.quantity = line
                        .quantity
                        .saturating_add(g.quantity)
                        .min(stock)
                        .min(MAX_LINE_QUANTITY);
                }
                None if stock > 0 && self.items.len() < MAX_LINES => self.items.push(CartItem {
                    quantity: g.quantity.min(stock),
                    ..g.clone()
                }),
                None => {}
            }
        }
        self.items.retain(|i| i.quantity > 0);
        for code in &guest.discount_codes {
            if !self.discount_codes.contains(code) && self.discount_codes.len() < MAX_CODES {
                self.discount_codes.push(code.clone());
            }
        }
        if self.shipping_address.is_none() {
            self.shipping_address = guest.shipping_address.clone();
            self.shipping_method_id = self.shipping_method_id.or(guest.shipping_method_id);
        }
        self.updated_at = now;
    }

    /// Empties the cart after checkout; the cart itself stays (and keeps its version).
    pub fn clear(&mut self, now: DateTime<Utc>) {
        self.items.clear();
        self.discount_codes.clear();
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cart() -> Cart {
        Cart::new(CartId::random(), None, None, Currency::USD, Utc::now())
    }

    #[test]
    fn the_same_product_merges_into_one_line() {
        let mut c = cart();
        let p = ProductId::random();
        let first = c
            .add_item(CartItemId::random(), p, None, 2, 10, Utc::now())
            .unwrap();
        let second = c
            .add_item(CartItemId::random(), p, None, 3, 10, Utc::now())
            .unwrap();
        assert_eq!(first, second);
        assert_eq!(c.items.len(), 1);
        assert_eq!(c.items[0].quantity, 5);
        // A different variant is its own line.
        c.add_item(
            CartItemId::random(),
            p,
            Some(VariantId::random()),
            1,
            10,
            Utc::now(),
        )
        .unwrap();
        assert_eq!(c.items.len(), 2);
    }

    #[test]
    fn never_more_than_the_stock() {
        let mut c = cart();
        let p = ProductId::random();
        c.add_item(CartItemId::random(), p, None, 2, 3, Utc::now())
            .unwrap();
        let err = c
            .add_item(CartItemId::random(), p, None, 2, 3, Utc::now())
            .unwrap_err();
        assert!(matches!(err, CartError::OutOfStock { available: 3, .. }));
        assert_eq!(
            c.items[0].quantity, 2,
            "a refused add leaves the line as it was"
        );
        assert_eq!(
            c.add_item(CartItemId::random(), p, None, 0, 3, Utc::now()),
            Err(CartError::InvalidQuantity)
        );
    }

    #[test]
    fn quantity_zero_removes_the_line() {
        let mut c = cart();
        let id = c
            .add_item(
                CartItemId::random(),
                ProductId::random(),
                None,
                2,
                5,
                Utc::now(),
            )
            .unwrap();
        c.set_quantity(id, 4, 5, Utc::now()).unwrap();
        assert_eq!(c.items[0].quantity, 4);
        c.set_quantity(id, 0, 5, Utc::now()).unwrap();
        assert!(c.items.is_empty());
        assert_eq!(
            c.set_quantity(id, 1, 5, Utc::now()),
            Err(CartError::ItemNotFound(id))
        );
    }

    #[test]
    fn codes_are_upper_case_and_unique() {
        let mut c = cart();
        assert_eq!(c.add_code(" tenoff ", Utc::now()).unwrap(), "TENOFF");
        c.add_code("TENOFF", Utc::now()).unwrap();
        assert_eq!(c.discount_codes, vec!["TENOFF"]);
        assert!(matches!(
            c.add_code("bad code!", Utc::now()),
            Err(CartError::InvalidCode(_))
        ));
        c.remove_code("tenoff", Utc::now()).unwrap();
        assert!(c.discount_codes.is_empty());
    }

    #[test]
    fn a_guest_cart_merges_capped_by_stock() {
        let (a, b, gone) = (
            ProductId::random(),
            ProductId::random(),
            ProductId::random(),
        );
        let mut customer = cart();
        customer
            .add_item(CartItemId::random(), a, None, 2, 10, Utc::now())
            .unwrap();
        let mut guest = cart();
        guest
            .add_item(CartItemId::random(), a, None, 3, 10, Utc::now())
            .unwrap();
        guest
            .add_item(CartItemId::random(), b, None, 4, 10, Utc::now())
            .unwrap();
        guest
            .add_item(CartItemId::random(), gone, None, 1, 10, Utc::now())
            .unwrap();
        guest.add_code("WELCOME", Utc::now()).unwrap();
        let stock = |p: ProductId, _| {
            if p == a {
                4
            } else if p == b {
                10
            } else {
                0
            }
        };
        customer.merge_guest(&guest, stock, Utc::now());
        assert_eq!(
            customer.quantity_of(a, None),
            4,
            "2 + 3 capped by the 4 in stock"
        );
        assert_eq!(customer.quantity_of(b, None), 4);
        assert_eq!(customer.quantity_of(gone, None), 0);
        assert_eq!(customer.discount_codes, vec!["WELCOME"]);
    }
}
