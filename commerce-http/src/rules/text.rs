//! Text fields: a rule (length, pattern, no control characters) per kind of text, and the `Text` that holds it.

use super::*;

/// A rule for a text field: its length in characters (Unicode scalar values, as JSON
/// Schema counts them) and, where it has one, a regular expression it must match.
pub trait TextRule: Send + Sync + 'static {
    /// The schema's name in the document.
    const NAME: &'static str;
    /// The fewest characters.
    const MIN_CHARS: usize;
    /// The most characters.
    const MAX_CHARS: usize;
    /// The expression as the document states it (unanchored, as JSON Schema reads it:
    /// anchor it to hold for the whole text), and the same compiled.
    fn pattern() -> Option<(&'static str, &'static Regex)> {
        None
    }
    /// What a refusal says.
    fn expected() -> String {
        match (Self::MIN_CHARS, Self::MAX_CHARS) {
            (0, max) => format!("at most {max} characters"),
            (min, max) => format!("must be {min} to {max} characters"),
        }
    }
    /// Whether `text` keeps the rule; else what it should be.
    fn check(text: &str) -> Result<(), String> {
        let n = text.chars().count();
        let matches = Self::pattern().is_none_or(|(_, re)| re.is_match(text));
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&n) && matches {
            Ok(())
        } else {
            Err(Self::expected())
        }
    }
}

/// Declares a [`TextRule`]: `name, min, max[, pattern[, what a refusal says]]`.
macro_rules! text_rule {
    ($(#[$doc:meta])* $rule:ident, $name:literal, $min:expr, $max:expr) => {
        $(#[$doc])*
        pub struct $rule;
        impl TextRule for $rule {
            const NAME: &'static str = $name;
            const MIN_CHARS: usize = $min;
            const MAX_CHARS: usize = $max;
        }
    };
    ($(#[$doc:meta])* $rule:ident, $name:literal, $min:expr, $max:expr, $pattern:expr $(, $expected:expr)?) => {
        $(#[$doc])*
        pub struct $rule;
        impl TextRule for $rule {
            const NAME: &'static str = $name;
            const MIN_CHARS: usize = $min;
            const MAX_CHARS: usize = $max;
            fn pattern() -> Option<(&'static str, &'static Regex)> {
                static COMPILED: LazyLock<Regex> = LazyLock::new(|| {
                    Regex::new($pattern).expect("the rule's pattern is a valid expression")
                });
                Some(($pattern, &COMPILED))
            }
            $(fn expected() -> String {
                ($expected).to_string()
            })?
        }
    };
}

/// No control character (NUL, the other C0 and C1 controls, DEL): what the core refuses in
/// one-line text (`commerce_core::validation::has_control_characters`).
macro_rules! one_line {
    () => {
        r"^[^\x00-\x1f\x7f-\x9f]*$"
    };
}
/// As [`one_line!`], with something besides spaces.
macro_rules! one_line_not_blank {
    () => {
        r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    };
}
/// Text of several lines: tab, line feed and carriage return, but no other control character.
macro_rules! many_lines {
    () => {
        r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    };
}

text_rule!(
    /// A name shown to shoppers: a product, a category, a shipping method, the store, a person.
    Name, "name", 1, limits::MAX_NAME_CHARS, one_line_not_blank!(),
    format!("must be 1 to {} characters, not only spaces, and no control characters", limits::MAX_NAME_CHARS)
);
text_rule!(
    /// A product's description.
    Description, "description", 0, limits::MAX_DESCRIPTION_CHARS, many_lines!(),
    format!("at most {} characters, and no control characters but tabs and line breaks", limits::MAX_DESCRIPTION_CHARS)
);
text_rule!(
    /// A review's title.
    ReviewTitle, "review_title", 0, limits::MAX_REVIEW_TITLE_CHARS, one_line!(),
    format!("at most {} characters, and no control characters", limits::MAX_REVIEW_TITLE_CHARS)
);
text_rule!(
    /// A review's text.
    ReviewText, "review_text", 0, limits::MAX_REVIEW_TEXT_CHARS, many_lines!(),
    format!("at most {} characters, and no control characters but tabs and line breaks", limits::MAX_REVIEW_TEXT_CHARS)
);
text_rule!(
    /// A new password: any characters, spaces too.
    Password, "password",
    commerce_core::account::MIN_PASSWORD_CHARS,
    commerce_core::account::MAX_PASSWORD_CHARS
);
text_rule!(
    /// A variant's stock-keeping unit, unique within its product.
    Sku, "sku", 1, limits::MAX_SKU_CHARS, one_line_not_blank!(),
    format!("must be 1 to {} characters, not only spaces, and no control characters", limits::MAX_SKU_CHARS)
);
text_rule!(
    /// A URL slug: lower-case letters and digits in words joined by single dashes.
    Slug, "slug", 1, limits::MAX_SLUG_CHARS, r"^[a-z0-9]+(-[a-z0-9]+)*$",
    "lower-case letters, digits and single dashes, at most 120 characters"
);
text_rule!(
    /// An ISO 3166-1 alpha-2 country code, either case.
    Country, "country", 2, 2, r"^[A-Za-z]{2}$",
    "must be an ISO 3166-1 alpha-2 code such as US"
);
text_rule!(
    /// A discount code: letters, digits, `-` and `_`; compared without case.
    DiscountCode, "discount_code", 1, limits::MAX_DISCOUNT_CODE_CHARS, r"^[A-Za-z0-9_-]{1,64}$",
    "use 1 to 64 letters, digits, '-' or '_'"
);
text_rule!(
    /// An order number as the shop writes them (`CM-20261206-R23YBHHF`), in either case.
    OrderNumber, "order_number", 1, 64, r"^[A-Za-z0-9-]{1,64}$",
    "use the order's number: letters, digits and '-'"
);
text_rule!(
    /// A payment provider's name, as `GET /api/store` lists them: `stripe`, `paypal`, `test`.
    ProviderName, "provider_name", 1, 32, r"^[a-z0-9_-]{1,32}$",
    "use 1 to 32 lower-case letters, digits, '-' or '_'"
);
text_rule!(
    /// An email address: a local part of up to 64 characters, `@`, a domain with a dot, no
    /// spaces or control characters inside. The core trims it and keeps it in lower case.
    Email, "email", 3, 254,
    r"^\s*[^@\s\x00-\x1f\x7f-\x9f]{1,64}@[^@\s\x00-\x1f\x7f-\x9f.]+(\.[^@\s\x00-\x1f\x7f-\x9f.]+)+\s*$",
    "is not a valid email address"
);
text_rule!(
    /// A part of an address that may be left empty.
    AddressPart, "address_part", 0, limits::MAX_ADDRESS_PART_CHARS, one_line!(),
    format!("at most {} characters, and no control characters", limits::MAX_ADDRESS_PART_CHARS)
);
text_rule!(
    /// A part of an address that a parcel needs (line1, city, postal code).
    RequiredAddressPart, "required_address_part", 1, limits::MAX_ADDRESS_PART_CHARS, one_line_not_blank!(),
    format!("is required: 1 to {} characters, not only spaces, and no control characters", limits::MAX_ADDRESS_PART_CHARS)
);
text_rule!(
    /// A saved address's label ("Home").
    Label, "label", 0, limits::MAX_LABEL_CHARS, one_line!(),
    format!("at most {} characters, and no control characters", limits::MAX_LABEL_CHARS)
);
text_rule!(
    /// A variant option's value ("red").
    OptionValue, "option_value", 0, limits::MAX_OPTION_VALUE_CHARS, one_line!(),
    format!("at most {} characters, and no control characters", limits::MAX_OPTION_VALUE_CHARS)
);
text_rule!(
    /// Where a shop's webhooks go: an absolute http(s) URL with a host, no credentials and no
    /// fragment. (The core also parses it as a URL, and refuses private targets unless the
    /// server allows them.)
    WebhookUrl, "webhook_url", 10, commerce_core::webhook::MAX_URL_CHARS,
    r"^https?://[^\s/?#@\\]+([/?][^\s#]*)?$",
    "must be an absolute http(s) URL with a host, and no credentials, fragment or spaces"
);
text_rule!(
    /// What a webhook endpoint is for.
    WebhookDescription, "webhook_description", 0, commerce_core::webhook::MAX_DESCRIPTION_CHARS,
    many_lines!(),
    format!("at most {} characters, and no control characters but tabs and line breaks", commerce_core::webhook::MAX_DESCRIPTION_CHARS)
);
text_rule!(
    /// An audit log action: `<target type>.<verb>`, such as `product.update`.
    AuditAction, "audit_action", 1, 81, r"^[a-z_]{1,40}(\.[a-z_]{1,40})?$",
    "an action such as product.update: lower-case words and '_', one '.' between them"
);
text_rule!(
    /// What an audit log entry acted on: `product`, `order`, `user`...
    AuditTargetType, "audit_target_type", 1, 40, r"^[a-z_]{1,40}$",
    "a target type such as product: lower-case letters and '_'"
);
text_rule!(
    /// The id of what an audit log entry acted on (or an email, for sign-ins of no user).
    AuditTargetId, "audit_target_id", 1, 254, one_line_not_blank!(),
    "1 to 254 characters, not only spaces, and no control characters"
);
text_rule!(
    /// Where a social sign-in sends the browser back: an absolute http(s) URL.
    RedirectUri, "redirect_uri", 10, 2000, r"^https?://[^\s#]+$",
    "must be an absolute http(s) URL with no spaces or fragment"
);
text_rule!(
    /// A code or state a provider's callback carries: visible ASCII.
    CallbackValue, "callback_value", 1, 4096, r"^[\x21-\x7e]+$",
    "1 to 4096 visible ASCII characters"
);
text_rule!(
    /// Words to search for.
    SearchWords, "search_words", 1, 1000, r"\S", "is required: 1 to 1000 characters, not only spaces"
);

/// Text that keeps the rule `R`.
pub struct Text<R>(String, PhantomData<R>);

impl<R> Text<R> {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<R: TextRule> Text<R> {
    /// The text, if it keeps the rule; else what it should be.
    pub fn new(text: String) -> Result<Self, String> {
        R::check(&text).map(|()| Text(text, PhantomData))
    }

    pub(super) fn schema() -> MetaSchema {
        MetaSchema {
            min_length: (R::MIN_CHARS > 0).then_some(R::MIN_CHARS),
            max_length: Some(R::MAX_CHARS),
            pattern: R::pattern().map(|(p, _)| p.to_string()),
            ..MetaSchema::new("string")
        }
    }
}

impl<R> std::ops::Deref for Text<R> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<R> fmt::Debug for Text<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<R> Clone for Text<R> {
    fn clone(&self) -> Self {
        Text(self.0.clone(), PhantomData)
    }
}

impl<R> Serialize for Text<R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de, R: TextRule> Deserialize<'de> for Text<R> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Text::new(String::deserialize(d)?).map_err(D::Error::custom)
    }
}

documented_by_serde!(impl [R: TextRule] Text<R>, R::NAME.into(), Self::schema());

impl<R: TextRule> ParseFromParameter for Text<R> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Text::new(value.to_string()).map_err(parse_error)
    }
}

impl<R> Default for Text<R> {
    /// Empty: only for fields whose rule allows it (a left-out description).
    fn default() -> Self {
        Text(String::new(), PhantomData)
    }
}
