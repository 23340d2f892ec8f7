//! Signing outbound webhooks exactly as Standard Webhooks 1.0 says
//! (<https://www.standardwebhooks.com>), so that a receiver verifies them with any of its
//! libraries: `webhook-signature` is `v1,` and the base64 HMAC-SHA256 of
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed by the base64-decoded part of a
//! `whsec_...` secret; while a secret is being rotated both sign, space-separated.
//!
//! Pure: no clock and no I/O (the caller passes the timestamp), so a relay on any storage and a
//! receiver in a test use the same code.
//!
//! ```
//! use commerce_core::webhook_signing::{verify, WebhookSecret};
//!
//! let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let body = br#"{"test": 2432232314}"#;
//! let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
//! assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
//! // The receiver's side, a minute later:
//! verify(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", &signature, body, 1614265390)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = hmac::Hmac<Sha256>;

/// The prefix of a secret's text form.
pub const SECRET_PREFIX: &str = "whsec_";

/// The random bytes of a secret this engine makes (the specification asks for 24 to 64).
pub const SECRET_BYTES: usize = 32;

/// How far a receiver lets a timestamp stray from its clock, the specification's default:
/// older deliveries are refused as replays.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// Why a secret's text is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// It does not start with `whsec_`.
    #[error("a webhook secret starts with `whsec_`")]
    Prefix,
    /// The rest is not base64.
    #[error("a webhook secret is `whsec_` and base64")]
    Base64,
    /// Too short or too long.
    #[error("a webhook secret holds 24 to 64 bytes")]
    Length,
    /// The system gave no randomness.
    #[error("no randomness to make a secret from: {0}")]
    Random(String),
}

/// Why a delivery's signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The timestamp is not a number.
    #[error("the webhook-timestamp is not a number of seconds")]
    Timestamp,
    /// The timestamp is too far from now.
    #[error("the webhook-timestamp is too far from now (a replay, or a clock far off)")]
    Stale,
    /// No signature matches the body.
    #[error("no signature matches")]
    NoMatch,
}

/// A webhook endpoint's signing key. Its `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

impl WebhookSecret {
    /// A new secret of [`SECRET_BYTES`] random bytes from the operating system.
    pub fn generate() -> Result<WebhookSecret, SecretError> {
        let mut key = vec![0u8; SECRET_BYTES];
        getrandom::fill(&mut key).map_err(|e| SecretError::Random(e.to_string()))?;
        Ok(WebhookSecret { key })
    }

    /// Reads `whsec_` + base64 (standard alphabet, padded or not).
    pub fn parse(text: &str) -> Result<WebhookSecret, SecretError> {
        let encoded = text
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretError::Prefix)?;
        let key = STANDARD
            .decode(encoded)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded))
            .map_err(|_| SecretError::Base64)?;
        WebhookSecret::from_key(key)
    }

    /// The text form shown to the shop once: `whsec_` + base64.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// The key's bytes, for whoever stores it (encrypted).
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// From stored key bytes.
    pub fn from_key(key: Vec<u8>) -> Result<WebhookSecret, SecretError> {
        if !(24..=64).contains(&key.len()) {
            return Err(SecretError::Length);
        }
        Ok(WebhookSecret { key })
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        // HMAC takes a key of any length; the constructor cannot fail.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// `v1,` + the base64 signature of one delivery attempt.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let digest = self.mac(id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", STANDARD.encode(digest))
    }
}

/// The `webhook-signature` header: one signature per secret, space-separated (two while a
/// secret is rotated, so a receiver holding either verifies).
pub fn signature_header(
    secrets: &[&WebhookSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a receiver does: the timestamp within [`TOLERANCE_SECONDS`] of `now`, and one of the
/// header's `v1` signatures made with `secret` (compared in constant time).
pub fn verify(
    secret: &WebhookSecret,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    let at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::Timestamp)?;
    if (now - at).abs() > TOLERANCE_SECONDS {
        return Err(VerifyError::Stale);
    }
    let expected = secret.mac(id, at, body);
    let matches = signatures.split(' ').any(|candidate| {
        candidate
            .strip_prefix("v1,")
            .and_then(|b64| STANDARD.decode(b64).ok())
            .is_some_and(|bytes| expected.clone().verify_slice(&bytes).is_ok())
    });
    if matches {
        Ok(())
    } else {
        Err(VerifyError::NoMatch)
    }
}

/// The key that seals endpoints' secrets at rest (AES-256-GCM), held by the server (its
/// settings), never by the database: a dump of the database alone cannot sign a delivery.
/// Encrypting rather than keeping a derived key, because HMAC needs the secret itself to sign.
#[derive(Clone)]
pub struct SealingKey {
    cipher: aes_gcm::Aes256Gcm,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

/// Why a sealing key or a sealed secret cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The key is not 32 bytes in hex or base64.
    #[error("a sealing key is 32 bytes, written as 64 hex digits or base64")]
    KeyFormat,
    /// The secret was sealed with another key, or is damaged.
    #[error("the stored secret cannot be opened with this key (another server's key, or damaged)")]
    Open,
    /// The system gave no randomness.
    #[error("no randomness to seal with: {0}")]
    Random(String),
}

/// The bytes of a nonce, written before the ciphertext.
const NONCE_BYTES: usize = 12;

impl SealingKey {
    /// From the key's 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<SealingKey, SealError> {
        use aes_gcm::KeyInit as _;
        let cipher = aes_gcm::Aes256Gcm::new_from_slice(bytes).map_err(|_| SealError::KeyFormat)?;
        Ok(SealingKey { cipher })
    }

    /// From a setting: 64 hex digits, or base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<SealingKey, SealError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| SealError::KeyFormat)?
        } else {
            STANDARD.decode(text).map_err(|_| SealError::KeyFormat)?
        };
        SealingKey::from_bytes(&bytes)
    }

    /// A new random key, as 64 hex digits (for a server to keep in its settings).
    pub fn generate_text() -> Result<String, SealError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| SealError::Random(e.to_string()))?;
        Ok(key.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The secret encrypted with a fresh random nonce (nonce first).
    pub fn seal(&self, secret: &WebhookSecret) -> Result<Vec<u8>, SealError> {
        use aes_gcm::aead::Aead as _;
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| SealError::Random(e.to_string()))?;
        let sealed = self
            .cipher
            .encrypt(aes_gcm::Nonce::from_slice(&nonce), secret.key())
            .map_err(|_| SealError::Open)?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// The secret back; `Open` for bytes sealed with another key or changed since.
    pub fn open(&self, sealed: &[u8]) -> Result<WebhookSecret, SealError> {
        use aes_gcm::aead::Aead as _;
        if sealed.len() <= NONCE_BYTES {
            return Err(SealError::Open);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let key = self
            .cipher
            .decrypt(aes_gcm::Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SealError::Open)?;
        WebhookSecret::from_key(key).map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's own library tests.
    const VECTORS: [(&str, &str, i64, &str, &str); 2] = [
        (
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
        (
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            r#"{"email":"test@example.com","username":"test_user"}"#,
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        ),
    ];

    #[test]
    fn the_specifications_test_vectors_sign_and_verify() {
        for (secret, id, timestamp, body, signature) in VECTORS {
            let secret = WebhookSecret::parse(secret).unwrap();
            assert_eq!(secret.sign(id, timestamp, body.as_bytes()), signature);
            let at = timestamp.to_string();
            assert_eq!(
                verify(&secret, id, &at, signature, body.as_bytes(), timestamp + 10),
                Ok(())
            );
        }
    }

    #[test]
    fn a_changed_body_id_or_old_timestamp_does_not_verify() {
        let (secret, id, timestamp, body, signature) = VECTORS[0];
        let secret = WebhookSecret::parse(secret).unwrap();
        let at = timestamp.to_string();
        let check = |id: &str, body: &str, now: i64| {
            verify(&secret, id, &at, signature, body.as_bytes(), now)
        };
        assert_eq!(
            check(id, r#"{"test": 2432232315}"#, timestamp),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            check("msg_other", body, timestamp),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            check(id, body, timestamp + TOLERANCE_SECONDS + 1),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(&secret, id, "soon", signature, body.as_bytes(), timestamp),
            Err(VerifyError::Timestamp)
        );
    }

    #[test]
    fn while_rotating_both_secrets_sign_and_either_verifies() {
        let (old, new) = (
            WebhookSecret::generate().unwrap(),
            WebhookSecret::generate().unwrap(),
        );
        assert_ne!(old, new);
        let header = signature_header(&[&new, &old], "msg_1", 1_700_000_000, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        for secret in [&old, &new] {
            assert_eq!(
                verify(secret, "msg_1", "1700000000", &header, b"{}", 1_700_000_000),
                Ok(())
            );
        }
        let stranger = WebhookSecret::generate().unwrap();
        assert_eq!(
            verify(
                &stranger,
                "msg_1",
                "1700000000",
                &header,
                b"{}",
                1_700_000_000
            ),
            Err(VerifyError::NoMatch)
        );
    }

    #[test]
    fn secrets_round_trip_as_text_and_never_show_in_debug() {
        let secret = WebhookSecret::generate().unwrap();
        let text = secret.expose();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text).unwrap(), secret);
        assert_eq!(
            WebhookSecret::from_key(secret.key().to_vec()).unwrap(),
            secret
        );
        assert_eq!(format!("{secret:?}"), "WebhookSecret(..)");
        assert_eq!(
            WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Err(SecretError::Prefix)
        );
        assert_eq!(
            WebhookSecret::parse("whsec_not base64!"),
            Err(SecretError::Base64)
        );
        assert_eq!(
            WebhookSecret::parse("whsec_c2hvcnQ="),
            Err(SecretError::Length)
        );
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key() {
        let key = SealingKey::parse(&SealingKey::generate_text().unwrap()).unwrap();
        let secret = WebhookSecret::generate().unwrap();
        let sealed = key.seal(&secret).unwrap();
        assert!(!sealed
            .windows(secret.key().len())
            .any(|w| w == secret.key()));
        assert_eq!(key.open(&sealed).unwrap(), secret);
        // Two seals of one secret differ (a fresh nonce each).
        assert_ne!(key.seal(&secret).unwrap(), sealed);
        let other = SealingKey::from_bytes(&[7u8; 32]).unwrap();
        assert_eq!(other.open(&sealed), Err(SealError::Open));
        let mut damaged = sealed.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert_eq!(key.open(&damaged), Err(SealError::Open));
        assert_eq!(key.open(&[1, 2, 3]), Err(SealError::Open));
    }

    #[test]
    fn sealing_keys_are_read_as_hex_or_base64_of_32_bytes() {
        let hex = "00".repeat(32);
        assert!(SealingKey::parse(&hex).is_ok());
        assert!(SealingKey::parse(&STANDARD.encode([9u8; 32])).is_ok());
        assert_eq!(
            SealingKey::parse("short").unwrap_err(),
            SealError::KeyFormat
        );
        assert_eq!(
            SealingKey::parse(&STANDARD.encode([9u8; 16])).unwrap_err(),
            SealError::KeyFormat
        );
    }
}
