//! Sending mail.

use super::*;

/// A message to one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The message as plain text (always sent).
    pub text: String,
    /// The same message as HTML, sent beside the text (multipart/alternative) when present.
    pub html: Option<String>,
}

/// The mail was not sent (refused, unreachable server, unwritable directory).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mail could not be sent: {0}")]
pub struct MailError(pub String);

/// Sends the shop's mail (`commerce-mail`'s files or SMTP). A failure is reported and
/// logged by the engine; it never undoes what the mail was about (the order stands).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message, or says why not.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}
