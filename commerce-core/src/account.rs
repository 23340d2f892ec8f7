//! Customer accounts: users with a role, addresses, password rules, and the one-time and
//! refresh tokens of sign-in. Secrets are stored only as hashes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{AddressId, TokenFamilyId, UserId};
use crate::tax::{normalize_country, normalize_region};
use crate::validation::{check_text, has_control_characters, Lines, ValidationErrors};

/// What a user may do (README: who may do what).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Shops: carts, orders, reviews of what they bought, their own account.
    Customer,
    /// Sells their own products (an admin or manager approves them).
    Vendor,
    /// Runs the shop day to day: orders, refunds, products, categories, reviews, discounts,
    /// stock; not its keys (users and roles, store settings, tax, shipping, webhooks, the
    /// audit log).
    Manager,
    /// Everything.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Customer, Role::Vendor, Role::Manager, Role::Admin];

    /// Its name in the API (`customer`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Vendor => "vendor",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    /// The role of that name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role runs (part of) the shop: its changes go to the audit log.
    pub fn is_staff(&self) -> bool {
        !matches!(self, Role::Customer)
    }

    /// Whether the role runs the shop day to day (managers and admins): every order, product,
    /// category, review and discount.
    pub fn runs_the_shop(&self) -> bool {
        matches!(self, Role::Manager | Role::Admin)
    }
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Normalised: trimmed and lower-case.
    pub email: String,
    /// Their name.
    pub full_name: String,
    /// What they may do.
    pub role: Role,
    /// False once deactivated: sign-in refused, tokens void.
    pub is_active: bool,
    /// Whether they followed the verification mail's link.
    pub email_verified: bool,
    /// A PHC string (argon2id); never shown.
    #[serde(skip_serializing)]
    pub password_hash: String,
    /// Bumped when the user is deactivated, changes role or resets the password, so that
    /// access tokens carrying an older version stop working at once.
    pub token_version: u32,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Trims and lower-cases an address and checks its shape; `None` when it is not an email.
pub fn normalize_email(email: &str) -> Option<String> {
    let e = email.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    let ok = !local.is_empty()
        && local.chars().count() <= 64
        && e.chars().count() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(e)
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password accepted (hashing cost stays bounded).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Password rules: 8 to 128 characters (counted as characters, not bytes).
pub fn check_password(password: &str, field: &str) -> Result<(), ValidationErrors> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(ValidationErrors::single(
            field,
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A full name trimmed, 1 to 200 characters on one line; else what is wrong with it.
pub fn check_full_name(name: &str) -> Result<String, ValidationErrors> {
    let n = name.trim();
    let most = crate::limits::MAX_NAME_CHARS;
    if n.is_empty() || n.chars().count() > most {
        return Err(ValidationErrors::single(
            "full_name",
            format!("must be 1 to {most} characters"),
        ));
    }
    if has_control_characters(n, Lines::One) {
        return Err(ValidationErrors::single(
            "full_name",
            "must not contain control characters",
        ));
    }
    Ok(n.to_string())
}

/// A postal address, saved or given inline at checkout.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    /// Who receives the parcel.
    pub full_name: Option<String>,
    /// Street and number.
    pub line1: Option<String>,
    /// Flat, floor or building.
    pub line2: Option<String>,
    /// City or town.
    pub city: Option<String>,
    /// State, province or county (US tax rates go by state).
    pub region: Option<String>,
    /// Postal or ZIP code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, upper-case.
    pub country: String,
    /// A phone number for the carrier.
    pub phone: Option<String>,
}

impl Address {
    /// The address as it goes on a parcel, one line each: name, street lines, postal code with
    /// town and region, country. Blank parts are left out.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for part in [&self.full_name, &self.line1, &self.line2] {
            if let Some(p) = part.as_deref().filter(|p| !p.trim().is_empty()) {
                lines.push(p.to_string());
            }
        }
        let town: Vec<&str> = [&self.postal_code, &self.city, &self.region]
            .into_iter()
            .filter_map(|p| p.as_deref())
            .filter(|p| !p.trim().is_empty())
            .collect();
        if !town.is_empty() {
            lines.push(town.join(" "));
        }
        lines.push(self.country.clone());
        lines
    }

    /// Checks and normalises. `full` asks for what a parcel needs (line1, city, postal code);
    /// without it only what tax needs (country, region, postal code) is required, as for
    /// `PUT /api/cart/delivery`.
    pub fn validated(mut self, full: bool) -> Result<Address, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        match normalize_country(&self.country) {
            Some(c) => self.country = c,
            None => errors.add("country", "must be an ISO 3166-1 alpha-2 code such as US"),
        }
        self.region = normalize_region(self.region.as_deref());
        let trim = |v: &mut Option<String>| {
            *v = v
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
        };
        for field in [
            &mut self.full_name,
            &mut self.line1,
            &mut self.line2,
            &mut self.city,
            &mut self.postal_code,
            &mut self.phone,
        ] {
            trim(field);
        }
        for (name, value) in [
            ("full_name", &self.full_name),
            ("line1", &self.line1),
            ("line2", &self.line2),
            ("city", &self.city),
            ("region", &self.region),
            ("postal_code", &self.postal_code),
            ("phone", &self.phone),
        ] {
            let most = crate::limits::MAX_ADDRESS_PART_CHARS;
            if let Some(value) = value {
                if value.chars().count() > most {
                    errors.add(name, format!("at most {most} characters"));
                }
                check_text(&mut errors, name, value, Lines::One);
            }
        }
        if self.postal_code.is_none() {
            errors.add("postal_code", "is required");
        }
        if full {
            if self.line1.is_none() {
                errors.add("line1", "is required");
            }
            if self.city.is_none() {
                errors.add("city", "is required");
            }
        }
        errors.into_result(self)
    }
}

/// An address a customer keeps for checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedAddress {
    /// Its id.
    pub id: AddressId,
    /// Whose.
    pub user_id: UserId,
    /// The customer's name for it (`Home`).
    pub label: Option<String>,
    /// The address.
    pub address: Address,
    /// Whether checkout proposes it first; one per customer.
    pub is_default: bool,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
}

/// 32 random bytes as 64 hex characters: tokens sent by mail or kept by clients.
pub fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex(&bytes))
}

/// What is stored of a token: its SHA-256, so a leaked table grants nothing.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// What a mailed token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    /// Confirms the account's email.
    VerifyEmail,
    /// Sets a new password.
    ResetPassword,
}

/// A mailed token: random, stored hashed, expiring, single use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeToken {
    /// The SHA-256 of the token (the token itself is only in the mail).
    pub token_hash: String,
    /// Whose.
    pub user_id: UserId,
    /// What it is for.
    pub purpose: TokenPurpose,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was used; it works once.
    pub used_at: Option<DateTime<Utc>>,
}

/// A refresh token of one sign-in's family. Using it rotates it (it is revoked and replaced);
/// presenting a revoked one means it was stolen or replayed, and revokes the whole family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshToken {
    /// The SHA-256 of the token.
    pub token_hash: String,
    /// The sign-in it belongs to: its rotations share it.
    pub family_id: TokenFamilyId,
    /// Whose.
    pub user_id: UserId,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked (rotated, signed out, or its family ended).
    pub revoked_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Ada@Example.COM ").as_deref(),
            Some("ada@example.com")
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@example..com",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn passwords_are_8_to_128_characters() {
        assert!(check_password("1234567", "password").is_err());
        assert!(check_password("12345678", "password").is_ok());
        assert!(check_password(&"é".repeat(128), "password").is_ok());
        assert!(check_password(&"x".repeat(129), "password").is_err());
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), a);
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn addresses_need_what_their_use_needs() {
        let delivery = Address {
            country: "us".into(),
            region: Some("tx".into()),
            postal_code: Some("73301".into()),
            ..Default::default()
        };
        let ok = delivery.clone().validated(false).unwrap();
        assert_eq!(
            (ok.country.as_str(), ok.region.as_deref()),
            ("US", Some("TX"))
        );
        let err = delivery.validated(true).unwrap_err();
        assert_eq!(err.fields().collect::<Vec<_>>(), vec!["line1", "city"]);
        let err = Address {
            country: "USA".into(),
            ..Default::default()
        }
        .validated(false)
        .unwrap_err();
        assert_eq!(
            err.fields().collect::<Vec<_>>(),
            vec!["country", "postal_code"]
        );
    }
}
