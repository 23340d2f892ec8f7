//! Users, sessions and addresses (as shown, and as a body sends them).

use super::*;

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "User")]
pub struct UserJson {
    pub id: Uuid,
    pub email: String,
    pub full_name: String,
    /// `customer`, `vendor` or `admin`.
    pub role: String,
    pub is_active: bool,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserJson {
    fn from(u: User) -> Self {
        Self {
            id: u.id.as_uuid(),
            email: u.email,
            full_name: u.full_name,
            role: u.role.as_str().to_string(),
            is_active: u.is_active,
            email_verified: u.email_verified,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "UserPage")]
pub struct UserPageJson {
    pub items: Vec<UserJson>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

/// What a sign-in or a refresh gives the client.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Tokens")]
pub struct TokensJson {
    /// A JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque; single use: each refresh returns a new one.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

impl From<Session> for TokensJson {
    fn from(s: Session) -> Self {
        Self {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            token_type: "Bearer".into(),
            expires_in: s.expires_in,
        }
    }
}

/// A postal address as the API shows it (a saved one, an order's, the store's); requests
/// send a `ParcelAddressBody` or a `DestinationBody`, which state what they require.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Address")]
pub struct AddressJson {
    #[serde(default)]
    #[oai(nullable)]
    pub full_name: Option<String>,
    #[serde(default)]
    #[oai(nullable)]
    pub line1: Option<String>,
    #[serde(default)]
    #[oai(nullable)]
    pub line2: Option<String>,
    #[serde(default)]
    #[oai(nullable)]
    pub city: Option<String>,
    #[serde(default)]
    #[oai(nullable)]
    pub region: Option<String>,
    #[serde(default)]
    #[oai(nullable)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    #[serde(default)]
    #[oai(nullable)]
    pub phone: Option<String>,
}

impl From<Address> for AddressJson {
    fn from(a: Address) -> Self {
        Self {
            full_name: a.full_name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
        }
    }
}

/// A postal address a parcel can go to: `line1`, `city`, `postal_code` and `country` are
/// required; every part is at most 200 characters.
#[derive(Debug, Clone, Object, serde::Deserialize)]
pub struct ParcelAddressBody {
    #[serde(default)]
    #[oai(nullable)]
    pub full_name: Option<Text<AddressPart>>,
    pub line1: Text<RequiredAddressPart>,
    #[serde(default)]
    #[oai(nullable)]
    pub line2: Option<Text<AddressPart>>,
    pub city: Text<RequiredAddressPart>,
    #[serde(default)]
    #[oai(nullable)]
    pub region: Option<Text<AddressPart>>,
    pub postal_code: Text<RequiredAddressPart>,
    pub country: Text<Country>,
    #[serde(default)]
    #[oai(nullable)]
    pub phone: Option<Text<AddressPart>>,
}

impl From<ParcelAddressBody> for Address {
    fn from(a: ParcelAddressBody) -> Self {
        Self {
            full_name: a.full_name.map(Text::into_string),
            line1: Some(a.line1.into_string()),
            line2: a.line2.map(Text::into_string),
            city: Some(a.city.into_string()),
            region: a.region.map(Text::into_string),
            postal_code: Some(a.postal_code.into_string()),
            country: a.country.into_string(),
            phone: a.phone.map(Text::into_string),
        }
    }
}

/// Where a cart will go, as far as tax and shipping need it: `postal_code` and `country`
/// are required, the rest may follow at checkout.
#[derive(Debug, Clone, Object, serde::Deserialize)]
pub struct DestinationBody {
    #[serde(default)]
    #[oai(nullable)]
    pub full_name: Option<Text<AddressPart>>,
    #[serde(default)]
    #[oai(nullable)]
    pub line1: Option<Text<AddressPart>>,
    #[serde(default)]
    #[oai(nullable)]
    pub line2: Option<Text<AddressPart>>,
    #[serde(default)]
    #[oai(nullable)]
    pub city: Option<Text<AddressPart>>,
    #[serde(default)]
    #[oai(nullable)]
    pub region: Option<Text<AddressPart>>,
    pub postal_code: Text<RequiredAddressPart>,
    pub country: Text<Country>,
    #[serde(default)]
    #[oai(nullable)]
    pub phone: Option<Text<AddressPart>>,
}

impl From<DestinationBody> for Address {
    fn from(a: DestinationBody) -> Self {
        Self {
            full_name: a.full_name.map(Text::into_string),
            line1: a.line1.map(Text::into_string),
            line2: a.line2.map(Text::into_string),
            city: a.city.map(Text::into_string),
            region: a.region.map(Text::into_string),
            postal_code: Some(a.postal_code.into_string()),
            country: a.country.into_string(),
            phone: a.phone.map(Text::into_string),
        }
    }
}

#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "SavedAddress")]
pub struct SavedAddressJson {
    pub id: Uuid,
    #[oai(nullable)]
    pub label: Option<String>,
    #[oai(flatten)]
    #[serde(flatten)]
    pub address: AddressJson,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

impl From<SavedAddress> for SavedAddressJson {
    fn from(s: SavedAddress) -> Self {
        Self {
            id: s.id.as_uuid(),
            label: s.label,
            address: s.address.into(),
            is_default: s.is_default,
            created_at: s.created_at,
        }
    }
}
