//! The catalog: products with variants, the category tree, images and reviews.
//!
//! - `product`: [`Product`], its [`Variant`]s and images, how one is created
//!   ([`NewProduct`]) and changed ([`ProductChanges`]), and its stock.
//! - `slug`: [`slugify`] and the slugs made from names.
//! - `category`: [`Category`] and the [`CategoryTree`] that keeps parents acyclic.
//! - `review`: [`Review`] and the [`Rating`] the approved ones make.

use crate::limits::{
    MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_OPTIONS, MAX_OPTION_NAME_CHARS,
    MAX_OPTION_VALUE_CHARS, MAX_REVIEW_TEXT_CHARS, MAX_REVIEW_TITLE_CHARS, MAX_SKU_CHARS,
    MAX_VARIANTS,
};
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{CategoryId, ImageId, ProductId, ReviewId, UserId, VariantId};
use crate::inventory::Stock;
use crate::limits::MAX_AMOUNT;
use crate::money::{Currency, Money};
use crate::validation::{check_text, has_control_characters, Lines, ValidationErrors};

mod category;
mod product;
mod review;
mod slug;
#[cfg(test)]
mod tests;

pub use category::*;
pub use product::*;
pub use review::*;
pub use slug::*;
