//! Lists of bounded length and option maps.

use super::*;

/// A list of `MIN` to `MAX` items.
#[derive(Debug)]
pub struct List<T, const MIN: usize, const MAX: usize>(Vec<T>);

impl<T, const MIN: usize, const MAX: usize> List<T, MIN, MAX> {
    fn expected() -> String {
        match MIN {
            0 => format!("at most {MAX} items"),
            _ => format!("{MIN} to {MAX} items"),
        }
    }

    /// The items.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }

    /// The items, borrowed.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
}

impl<T, const MIN: usize, const MAX: usize> Default for List<T, MIN, MAX> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>, const MIN: usize, const MAX: usize> Deserialize<'de>
    for List<T, MIN, MAX>
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<T>::deserialize(d)?;
        if !(MIN..=MAX).contains(&items.len()) {
            return Err(D::Error::custom(Self::expected()));
        }
        Ok(List(items))
    }
}

impl<T: Type, const MIN: usize, const MAX: usize> Type for List<T, MIN, MAX> {
    own_raw_value!(true);

    fn name() -> Cow<'static, str> {
        format!("list_of_{}_{MIN}_to_{MAX}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        inline(MetaSchema {
            items: Some(Box::new(T::schema_ref())),
            min_items: (MIN > 0).then_some(MIN),
            max_items: Some(MAX),
            ..MetaSchema::new("array")
        })
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        T::register(registry);
    }
}

impl<T: ParseFromJSON, const MIN: usize, const MAX: usize> ParseFromJSON for List<T, MIN, MAX> {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        let items = Vec::<T>::parse_from_json(value).map_err(ParseError::propagate)?;
        if !(MIN..=MAX).contains(&items.len()) {
            return Err(parse_error(Self::expected()));
        }
        Ok(List(items))
    }
}

impl<T: ToJSON, const MIN: usize, const MAX: usize> ToJSON for List<T, MIN, MAX> {
    fn to_json(&self) -> Option<serde_json::Value> {
        self.0.to_json()
    }
}

/// Named values (a variant's options: `{"size": "M"}`): at most [`Options::MAX`], each name
/// 1 to 50 characters with something besides spaces, each value keeping `R`.
pub struct Options<R>(std::collections::BTreeMap<String, Text<R>>);

impl<R> Options<R> {
    /// The most options a variant has.
    pub const MAX: usize = limits::MAX_OPTIONS;
    const NAME_CHARS: usize = limits::MAX_OPTION_NAME_CHARS;

    /// The options, names to values.
    pub fn into_map(self) -> std::collections::BTreeMap<String, String> {
        self.0
            .into_iter()
            .map(|(k, v)| (k, v.into_string()))
            .collect()
    }
}

impl<R> fmt::Debug for Options<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

impl<R> Default for Options<R> {
    fn default() -> Self {
        Options(Default::default())
    }
}

impl<R> Serialize for Options<R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, R: TextRule> Deserialize<'de> for Options<R> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, Text<R>>::deserialize(d)?;
        if map.len() > Self::MAX {
            return Err(D::Error::custom(format!("at most {} options", Self::MAX)));
        }
        if let Some(name) = map
            .keys()
            .find(|k| k.trim().is_empty() || k.chars().count() > Self::NAME_CHARS)
        {
            return Err(D::Error::custom(format!(
                "the option name {name:?} must be 1 to {} characters, not only spaces",
                Self::NAME_CHARS
            )));
        }
        Ok(Options(map))
    }
}

documented_by_serde!(
    impl [R: TextRule] Options<R>,
    format!("options_of_{}", R::NAME).into(),
    MetaSchema {
        additional_properties: Some(Box::new(<Text<R> as Type>::schema_ref())),
        max_properties: Some(Self::MAX),
        description: Some("Option values by name; a name is 1 to 50 characters, not only spaces."),
        ..MetaSchema::new("object")
    }
);
