//! What the fields of a request must be, each stated once: a type here checks a value as
//! serde reads the body (or as a query is parsed) and writes the same rule into the OpenAPI
//! document, from the same constants and the same regular expression. So a value the
//! document allows is one this layer takes, and one it refuses is refused here with a 422
//! naming the field. The core still checks what it must; its rules are implied by these (a
//! name of 1 to 200 characters with something besides spaces is one the core takes).
//!
//! By kind of value: `text` ([`Text`] and its rules), `counts` ([`Count`], [`Day`]),
//! `amounts` ([`AmountOf`], [`Fraction`], [`PriceBound`]), `collections` ([`List`],
//! [`Options`]); the macro that documents a serde-read type is here, before them.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::LazyLock;

use commerce_core::limits;
use commerce_core::money::Currency;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use regex::Regex;
use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::common::own_raw_value;

fn inline(schema: MetaSchema) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(schema))
}

fn parse_error<T: Type>(message: impl fmt::Display) -> ParseError<T> {
    ParseError::custom(message.to_string())
}

/// `Type`, `ParseFromJSON` and `ToJSON` for a type that serde reads and writes: a body is
/// parsed by serde (see `body::JsonBody`); poem-openapi only needs the schema.
macro_rules! documented_by_serde {
    ($ty:ty, $name:expr, $schema:expr) => {
        documented_by_serde!(impl [] $ty, $name, $schema);
    };
    (impl [$($g:tt)*] $ty:ty, $name:expr, $schema:expr) => {
        impl<$($g)*> Type for $ty {
            own_raw_value!(true);

            fn name() -> Cow<'static, str> {
                $name
            }

            fn schema_ref() -> MetaSchemaRef {
                inline($schema)
            }
        }

        impl<$($g)*> ParseFromJSON for $ty {
            fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
                serde_json::from_value(value.unwrap_or_default()).map_err(parse_error)
            }
        }

        impl<$($g)*> ToJSON for $ty {
            fn to_json(&self) -> Option<serde_json::Value> {
                serde_json::to_value(self).ok()
            }
        }
    };
}

mod amounts;
mod collections;
mod counts;
#[cfg(test)]
mod tests;
mod text;

pub use amounts::*;
pub use collections::*;
pub use counts::*;
pub use text::*;
