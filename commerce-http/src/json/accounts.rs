//! Users, sessions and addresses (as shown, and as a body sends them).

use super::*;

/// An account, as its owner and the admins see it; never a password hash.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "User")]
pub struct UserJson {
    /// The user's id.
    pub id: Uuid,
    /// Their email, in lower case: what they sign in with.
    pub email: String,
    /// Their name.
    pub full_name: String,
    /// `customer`, `vendor` or `admin`.
    pub role: String,
    /// False once an admin deactivates the account: its tokens stop working.
    pub is_active: bool,
    /// Whether they followed the verification mail's link.
    pub email_verified: bool,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
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

/// A page of users, newest first.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "UserPage")]
pub struct UserPageJson {
    /// The users of this page.
    pub items: Vec<UserJson>,
    /// Where the next page starts (pass it as `cursor`); null on the last page.
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
    /// Who receives the parcel.
    #[serde(default)]
    #[oai(nullable)]
    pub full_name: Option<String>,
    /// Street and number.
    #[serde(default)]
    #[oai(nullable)]
    pub line1: Option<String>,
    /// Flat, floor or building.
    #[serde(default)]
    #[oai(nullable)]
    pub line2: Option<String>,
    /// City or town.
    #[serde(default)]
    #[oai(nullable)]
    pub city: Option<String>,
    /// State, province or county (US tax rates go by state).
    #[serde(default)]
    #[oai(nullable)]
    pub region: Option<String>,
    /// Postal or ZIP code.
    #[serde(default)]
    #[oai(nullable)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// A phone number for the carrier.
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
    /// Who receives the parcel.
    #[serde(default)]
    #[oai(nullable)]
    pub full_name: Option<Text<AddressPart>>,
    /// Street and number.
    pub line1: Text<RequiredAddressPart>,
    /// Flat, floor or building.
    #[serde(default)]
    #[oai(nullable)]
    pub line2: Option<Text<AddressPart>>,
    /// City or town.
    pub city: Text<RequiredAddressPart>,
    /// State, province or county (US tax rates go by state).
    #[serde(default)]
    #[oai(nullable)]
    pub region: Option<Text<AddressPart>>,
    /// Postal or ZIP code.
    pub postal_code: Text<RequiredAddressPart>,
    /// ISO 3166-1 alpha-2 code, e.g. `US`.
    pub country: Text<Country>,
    /// A phone number for the carrier.
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
    /// Who receives the parcel.
    #[serde(default)]
    #[oai(nullable)]
    pub full_name: Option<Text<AddressPart>>,
    /// Street and number.
    #[serde(default)]
    #[oai(nullable)]
    pub line1: Option<Text<AddressPart>>,
    /// Flat, floor or building.
    #[serde(default)]
    #[oai(nullable)]
    pub line2: Option<Text<AddressPart>>,
    /// City or town.
    #[serde(default)]
    #[oai(nullable)]
    pub city: Option<Text<AddressPart>>,
    /// State, province or county (US tax rates go by state).
    #[serde(default)]
    #[oai(nullable)]
    pub region: Option<Text<AddressPart>>,
    /// Postal or ZIP code.
    pub postal_code: Text<RequiredAddressPart>,
    /// ISO 3166-1 alpha-2 code, e.g. `US`.
    pub country: Text<Country>,
    /// A phone number for the carrier.
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

/// An address a customer keeps for checkout.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "SavedAddress")]
pub struct SavedAddressJson {
    /// The address's id (checkout's `address_id`).
    pub id: Uuid,
    /// The customer's name for it (`Home`).
    #[oai(nullable)]
    pub label: Option<String>,
    /// The address itself.
    #[oai(flatten)]
    #[serde(flatten)]
    pub address: AddressJson,
    /// Whether checkout proposes it first (one per customer).
    pub is_default: bool,
    /// When it was saved.
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
