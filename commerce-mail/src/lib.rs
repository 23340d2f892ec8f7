//! Mail adapters for the core's `Mailer` port.
//!
//! - [`FileMailer`] writes each message as a file into a directory: development, tests and
//!   shops that hand mail to another system by folder. The example server's default.
//! - [`SmtpMailer`] (feature `smtp`) sends through an SMTP relay with lettre.

#![warn(missing_docs)]
// docs.rs marks each item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use commerce_core::ports::{Mail, MailError, Mailer};
use tokio::io::AsyncWriteExt;

#[cfg(feature = "smtp")]
mod smtp;
#[cfg(feature = "smtp")]
#[cfg_attr(docsrs, doc(cfg(feature = "smtp")))]
pub use smtp::{SmtpConfig, SmtpMailer, SmtpSecurity};

/// Writes each message to `<dir>/<UTC time>-<random>.eml` as a plain RFC 5322 message.
pub struct FileMailer {
    dir: PathBuf,
    from: String,
}

impl FileMailer {
    /// Creates the directory if needed.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use commerce_core::ports::{Mail, Mailer};
    /// use commerce_mail::FileMailer;
    ///
    /// # let dir = std::env::temp_dir().join(format!("commerce-doc-{}", uuid::Uuid::new_v4().simple()));
    /// // `dir` is the folder, such as "data/mail"; give the mailer to `Commerce::builder(..).mailer(..)`.
    /// let mailer = FileMailer::new(&dir, "Corner Shop <shop@corner.example>")?;
    /// mailer.send(&Mail {
    ///     to: "ada@example.com".into(),
    ///     subject: "Your order 1001".into(),
    ///     text: "Thank you!".into(),
    ///     html: None,
    /// }).await?;
    ///
    /// let file = std::fs::read_dir(&dir)?.next().unwrap()?.path();
    /// let message = std::fs::read_to_string(&file)?;
    /// assert!(message.contains("To: ada@example.com\r\n"));
    /// assert!(message.contains("Subject: Your order 1001\r\n"));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn new(dir: impl Into<PathBuf>, from: impl Into<String>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            from: from.into(),
        })
    }

    /// The directory the mail is written to, one file per message.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Header values come from users (names, addresses): a line break in one would start a new
/// header, so they are flattened.
fn header_value(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

/// Line ends as mail wants them.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// The message as it is written: headers, a blank line, the text with CRLF line ends; with an
/// HTML part, a multipart/alternative of the text and the HTML.
pub fn render(mail: &Mail, from: &str, date: chrono::DateTime<chrono::Utc>) -> String {
    let headers = format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMIME-Version: 1.0\r\n",
        header_value(from),
        header_value(&mail.to),
        header_value(&mail.subject),
        date.to_rfc2822(),
    );
    let plain = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n";
    match &mail.html {
        None => format!("{headers}{plain}\r\n{}\r\n", crlf(&mail.text)),
        Some(html) => {
            // A boundary that cannot occur in either part.
            let boundary = format!("=_commerce_{}", uuid::Uuid::new_v4().simple());
            format!(
                "{headers}Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n\
                 --{boundary}\r\n{plain}\r\n{}\r\n\
                 --{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n\
                 --{boundary}--\r\n",
                crlf(&mail.text),
                crlf(html)
            )
        }
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let now = chrono::Utc::now();
        let name = format!(
            "{}-{}.eml",
            now.format("%Y%m%dT%H%M%S%.6fZ"),
            uuid::Uuid::new_v4().simple()
        );
        // Written under a temporary name and renamed, so a reader never sees half a message.
        let partial = self.dir.join(format!(".{name}.part"));
        let done = self.dir.join(&name);
        let write = async {
            let mut file = tokio::fs::File::create(&partial).await?;
            file.write_all(render(mail, &self.from, now).as_bytes())
                .await?;
            file.sync_all().await?;
            tokio::fs::rename(&partial, &done).await
        };
        write.await.map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            MailError(format!("{}: {e}", done.display()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_message_is_one_complete_file() {
        let dir = std::env::temp_dir().join(format!("commerce-mail-{}", uuid::Uuid::new_v4()));
        let mailer = FileMailer::new(&dir, "shop@example.com").unwrap();
        for i in 0..3 {
            mailer
                .send(&Mail {
                    to: "ana@example.com".into(),
                    subject: format!("Hello\r\nBcc: evil@example.com {i}"),
                    text: "line one\nline two".into(),
                    html: None,
                })
                .await
                .unwrap();
        }
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 3);
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.starts_with("From: shop@example.com\r\nTo: ana@example.com\r\n"));
        // The injected header stayed inside the subject.
        assert!(text.contains("Subject: Hello  Bcc: evil@example.com 0\r\n"));
        assert!(!text.contains("\r\nBcc:"));
        assert!(text.ends_with("\r\n\r\nline one\r\nline two\r\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_message_with_html_carries_both_parts() {
        let text = render(
            &Mail {
                to: "ana@example.com".into(),
                subject: "Order CM-1 is confirmed".into(),
                text: "Thank you.".into(),
                html: Some("<p>Thank you.</p>".into()),
            },
            "shop@example.com",
            chrono::Utc::now(),
        );
        assert!(text.contains("Content-Type: multipart/alternative; boundary=\"=_commerce_"));
        let plain = text.find("Content-Type: text/plain").unwrap();
        let html = text.find("Content-Type: text/html").unwrap();
        assert!(plain < html, "the text first, the richer part last");
        assert!(text.contains("\r\n\r\nThank you.\r\n"));
        assert!(text.contains("<p>Thank you.</p>"));
        assert!(text.trim_end().ends_with("--"));
    }

    #[tokio::test]
    async fn an_unwritable_directory_is_an_error_not_a_panic() {
        let dir = std::env::temp_dir().join(format!("commerce-mail-{}", uuid::Uuid::new_v4()));
        let mailer = FileMailer::new(&dir, "shop@example.com").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let sent = mailer
            .send(&Mail {
                to: "a@example.com".into(),
                subject: "s".into(),
                text: "t".into(),
                html: None,
            })
            .await;
        assert!(sent.is_err());
    }
}
