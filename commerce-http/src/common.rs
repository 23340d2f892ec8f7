//! Small pieces every operation module uses: ids in paths, `If-Match`, `ETag`.

use std::borrow::Cow;
use std::str::FromStr;

use commerce_core::ports::PageRequest;
use poem::http::StatusCode;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type};

use crate::problem::ApiError;

/// The part of poem-openapi's `Type` that is the same for every type here: the value is its
/// own raw value.
macro_rules! own_raw_value {
    ($required:expr) => {
        const IS_REQUIRED: bool = $required;
        type RawValueType = Self;
        type RawElementValueType = Self;

        fn as_raw_value(&self) -> Option<&Self> {
            Some(self)
        }

        fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
            Box::new(self.as_raw_value().into_iter())
        }
    };
}
pub(crate) use own_raw_value;

/// An id in a path, documented as a UUID. It is taken as any text and checked by the
/// operation: one that is not a UUID names nothing, so it is a 404 like an unknown one (a
/// typed path parameter would make it Poem's 400).
pub struct PathId(String);

impl PathId {
    /// The id, or 404 naming `what` was not found.
    pub fn parse<T: FromStr>(&self, what: &str) -> Result<T, ApiError> {
        T::from_str(self.0.trim()).map_err(|_| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
            )
        })
    }
}

impl Type for PathId {
    own_raw_value!(true);

    fn name() -> Cow<'static, str> {
        "string_uuid".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "uuid")))
    }
}

impl ParseFromParameter for PathId {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Self(value.to_string()))
    }
}

/// The version an `If-Match` header asks for: quoted or bare (`"3"`, `3`, `W/"3"`); `*`,
/// an empty value or no header asks for none. Anything else is refused as the header is
/// parsed (422 naming it), and the document's pattern is the one it is checked with.
pub struct IfMatch(Option<u64>);

impl IfMatch {
    const PATTERN: &'static str = r#"^\s*(\*|(W/)?"?[0-9]{1,19}"?)?\s*$"#;

    /// The version asked for, if any.
    pub fn version(header: Option<IfMatch>) -> Option<u64> {
        header.and_then(|h| h.0)
    }

    fn parse(raw: &str) -> Option<IfMatch> {
        static SHAPE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(IfMatch::PATTERN).expect("a valid expression")
        });
        if !SHAPE.is_match(raw) {
            return None;
        }
        let raw = raw.trim();
        if raw.is_empty() || raw == "*" {
            return Some(IfMatch(None));
        }
        let bare = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
        bare.parse::<u64>().ok().map(|v| IfMatch(Some(v)))
    }
}

impl Type for IfMatch {
    own_raw_value!(true);

    fn name() -> Cow<'static, str> {
        "if_match".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            pattern: Some(Self::PATTERN.to_string()),
            ..MetaSchema::new("string")
        }))
    }
}

impl ParseFromParameter for IfMatch {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        IfMatch::parse(value).ok_or_else(|| {
            poem_openapi::types::ParseError::custom(
                "must be the resource's version as its ETag gave it, e.g. \"3\", or *",
            )
        })
    }
}

/// The `ETag` of a versioned resource.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// How many items a page holds (`limit`): 1 to `PageRequest::MAX_LIMIT`, by default
/// `PageRequest::DEFAULT_LIMIT`. The rule is checked here as the parameter is parsed, and the
/// document's schema is written from the same constants, so the two cannot disagree.
pub struct Limit(pub u32);

impl Type for Limit {
    own_raw_value!(true);

    fn name() -> Cow<'static, str> {
        "integer_page_limit".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            minimum: Some(1.0),
            maximum: Some(f64::from(PageRequest::MAX_LIMIT)),
            default: Some(PageRequest::DEFAULT_LIMIT.into()),
            ..MetaSchema::new_with_format("integer", "int32")
        }))
    }
}

impl ParseFromParameter for Limit {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        value
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=PageRequest::MAX_LIMIT).contains(n))
            .map(Limit)
            .ok_or_else(|| {
                poem_openapi::types::ParseError::custom(format!(
                    "must be 1 to {}",
                    PageRequest::MAX_LIMIT
                ))
            })
    }
}

/// A query value, or `None` when it is absent or empty: `?cursor=` as an HTML form sends an
/// empty field means no cursor.
pub fn given(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// One of a fixed set of words in a query (`sort=price_asc`), parsed and documented from the
/// same table, so the document's `enum` is exactly what is accepted. An empty value is
/// absent (see [`given`]).
pub struct Choice<T: Choices>(pub Option<T>);

/// The words a [`Choice`] or a [`Word`] accepts and what each means: from the core's own
/// list where it has one (`OrderStatus::ALL` and `as_str`).
pub trait Choices: Sized + Copy + PartialEq + Send + Sync + 'static {
    const NAME: &'static str;
    fn all() -> Vec<(&'static str, Self)>;

    fn find(word: &str) -> Option<Self> {
        Self::all()
            .into_iter()
            .find(|(w, _)| *w == word)
            .map(|(_, meaning)| meaning)
    }

    fn word(self) -> &'static str {
        Self::all()
            .into_iter()
            .find(|(_, m)| *m == self)
            .map_or("", |(w, _)| w)
    }

    /// `one of a, b, c`: what a refusal says.
    fn expected() -> String {
        let words: Vec<&str> = Self::all().into_iter().map(|(w, _)| w).collect();
        format!("one of {}", words.join(", "))
    }

    /// The words as a schema; `extra` (an empty string, `null`) is accepted too.
    fn schema(extra: Option<serde_json::Value>) -> MetaSchemaRef {
        let nullable = extra.as_ref().is_some_and(|e| e.is_null());
        let mut words: Vec<serde_json::Value> = extra.into_iter().collect();
        words.extend(Self::all().into_iter().map(|(word, _)| word.into()));
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            enum_items: words,
            nullable,
            ..MetaSchema::new("string")
        }))
    }
}

impl<T: Choices> Type for Choice<T> {
    own_raw_value!(true);

    fn name() -> Cow<'static, str> {
        T::NAME.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema(Some("".into()))
    }
}

impl<T: Choices> ParseFromParameter for Choice<T> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(Choice(None));
        }
        T::find(value)
            .map(|meaning| Choice(Some(meaning)))
            .ok_or_else(|| poem_openapi::types::ParseError::custom(T::expected()))
    }
}

/// One of a fixed set of words in a JSON body (`{"status": "shipped"}`): required, parsed by
/// serde with the body and documented as an `enum`, both from [`Choices::all`].
#[derive(Debug, Clone, Copy)]
pub struct Word<T: Choices>(pub T);

impl<T: Choices> Type for Word<T> {
    own_raw_value!(true);

    fn name() -> Cow<'static, str> {
        T::NAME.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema(None)
    }
}

impl<T: Choices> ParseFromJSON for Word<T> {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        value
            .as_ref()
            .and_then(|v| v.as_str())
            .and_then(|w| T::find(w.trim()))
            .map(Word)
            .ok_or_else(|| poem_openapi::types::ParseError::custom(T::expected()))
    }
}

impl<T: Choices> ToJSON for Word<T> {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(self.0.word().into())
    }
}

impl<'de, T: Choices> serde::Deserialize<'de> for Word<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        T::find(text.trim())
            .map(Word)
            .ok_or_else(|| serde::de::Error::custom(T::expected()))
    }
}

/// A [`Word`] that may be left out or `null` (a change that keeps what is there): `null` is
/// in the document's `enum`, as OpenAPI wants of a nullable enum.
#[derive(Debug, Clone, Copy)]
pub struct MaybeWord<T: Choices>(pub Option<T>);

impl<T: Choices> Type for MaybeWord<T> {
    own_raw_value!(false);

    fn name() -> Cow<'static, str> {
        format!("optional_{}", T::NAME).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema(Some(serde_json::Value::Null))
    }
}

impl<T: Choices> ParseFromJSON for MaybeWord<T> {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        match value {
            None | Some(serde_json::Value::Null) => Ok(MaybeWord(None)),
            some => Word::<T>::parse_from_json(some)
                .map(|w| MaybeWord(Some(w.0)))
                .map_err(|e| e.propagate()),
        }
    }
}

impl<T: Choices> ToJSON for MaybeWord<T> {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(self.0.map_or(serde_json::Value::Null, |w| w.word().into()))
    }
}

impl<'de, T: Choices> serde::Deserialize<'de> for MaybeWord<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(MaybeWord(Option::<Word<T>>::deserialize(d)?.map(|w| w.0)))
    }
}

impl<T: Choices> Default for MaybeWord<T> {
    fn default() -> Self {
        MaybeWord(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_quoted_bare_weak_star_and_empty() {
        let version = |raw: &str| IfMatch::parse(raw).map(|h| IfMatch::version(Some(h)));
        assert_eq!(version("\"3\""), Some(Some(3)));
        assert_eq!(version("3"), Some(Some(3)));
        assert_eq!(version("W/\"3\""), Some(Some(3)));
        assert_eq!(version(" 3 "), Some(Some(3)));
        assert_eq!(version("*"), Some(None));
        assert_eq!(version(""), Some(None));
        assert_eq!(IfMatch::version(None), None);
        for refused in ["abc", "\"3\", \"4\"", "-1", "99999999999999999999", "W/"] {
            assert!(IfMatch::parse(refused).is_none(), "{refused}");
        }
    }
}
