//! SMTP through lettre: implicit TLS (port 465), STARTTLS (587) or plain (a local relay).

use async_trait::async_trait;
use commerce_core::ports::{Mail, MailError, Mailer};
use lettre::message::{header::ContentType, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// TLS from the first byte (usually port 465).
    Tls,
    /// Plain, upgraded with STARTTLS, which is required (usually port 587).
    StartTls,
    /// No encryption: only for a relay on the same machine or network.
    Plain,
}

/// Where and how mail is sent (`SmtpConfig::from_url` reads the server's
/// `COMMERCE_SMTP_URL`).
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// The server's host name (checked against its TLS certificate).
    pub host: String,
    /// Its port: usually 465 with [`SmtpSecurity::Tls`], 587 with `StartTls`, 25 plain.
    pub port: u16,
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// The account to authenticate as, if the server wants one.
    pub username: Option<String>,
    /// Its password; never logged.
    pub password: Option<String>,
    /// The sender, e.g. `Shop <shop@example.com>`.
    pub from: String,
}

impl SmtpConfig {
    /// Reads `smtp://[user:pass@]host[:port]` (plain), `smtp+starttls://...` or
    /// `smtps://...` (implicit TLS).
    pub fn from_url(url: &str, from: &str) -> Result<SmtpConfig, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("{url}: expected smtp://, smtp+starttls:// or smtps://"))?;
        let (security, default_port) = match scheme {
            "smtp" => (SmtpSecurity::Plain, 25),
            "smtp+starttls" => (SmtpSecurity::StartTls, 587),
            "smtps" => (SmtpSecurity::Tls, 465),
            other => return Err(format!("{other}: expected smtp, smtp+starttls or smtps")),
        };
        let rest = rest.trim_end_matches('/');
        let (credentials, host_port) = match rest.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, rest),
        };
        let (username, password) = match credentials {
            Some(c) => {
                let (u, p) = c.split_once(':').unwrap_or((c, ""));
                (Some(u.to_string()), Some(p.to_string()))
            }
            None => (None, None),
        };
        let (host, port) = match host_port.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse::<u16>()
                    .map_err(|_| format!("{p}: not a port number"))?,
            ),
            None => (host_port.to_string(), default_port),
        };
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        Ok(SmtpConfig {
            host,
            port,
            security,
            username,
            password,
            from: from.to_string(),
        })
    }
}

/// The mail port over SMTP: each mail is sent as it is asked for, as a multipart message
/// (text and HTML); a refused or unreachable server is a `MailError`, which the engine logs
/// without undoing what the mail was about.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// A mailer for `config`; fails when the sender or the TLS settings cannot be used.
    /// Nothing is sent, and the server not reached, until the first mail.
    ///
    /// ```
    /// use commerce_mail::{SmtpConfig, SmtpMailer, SmtpSecurity};
    ///
    /// // From the environment in a real shop (the server's COMMERCE_SMTP_URL).
    /// let config = SmtpConfig::from_url("smtp+starttls://shop:secret@mail.example:587", "Shop <shop@example.com>")?;
    /// assert_eq!((config.port, config.security), (587, SmtpSecurity::StartTls));
    /// let mailer = SmtpMailer::new(config)?; // give it to `Commerce::builder(..).mailer(..)`
    /// # drop(mailer);
    /// // A sender that is not an address is refused here, not at the first mail.
    /// let bad = SmtpConfig::from_url("smtps://mail.example", "not an address")?;
    /// assert!(SmtpMailer::new(bad).is_err());
    /// # Ok::<(), String>(())
    /// ```
    pub fn new(config: SmtpConfig) -> Result<SmtpMailer, String> {
        let builder = match config.security {
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host),
            SmtpSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
            }
            SmtpSecurity::Plain => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &config.host,
            )),
        }
        .map_err(|e| e.to_string())?;
        let mut builder = builder.port(config.port);
        if let Some(user) = config.username {
            builder =
                builder.credentials(Credentials::new(user, config.password.unwrap_or_default()));
        }
        let from = config
            .from
            .parse::<Mailbox>()
            .map_err(|e| format!("{}: {e}", config.from))?;
        Ok(SmtpMailer {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to = mail
            .to
            .parse::<Mailbox>()
            .map_err(|e| MailError(format!("{}: {e}", mail.to)))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone());
        let message = match &mail.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                html.clone(),
            )),
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(mail.text.clone()),
        }
        .map_err(|e| MailError(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    #[test]
    fn urls_name_the_security_and_default_ports() {
        let c = SmtpConfig::from_url("smtps://u:p@mail.example.com", "a@b.c").unwrap();
        assert_eq!((c.security, c.port), (SmtpSecurity::Tls, 465));
        assert_eq!(
            (c.username.as_deref(), c.password.as_deref()),
            (Some("u"), Some("p"))
        );
        let c = SmtpConfig::from_url("smtp+starttls://mail.example.com:2525", "a@b.c").unwrap();
        assert_eq!((c.security, c.port), (SmtpSecurity::StartTls, 2525));
        let c = SmtpConfig::from_url("smtp://127.0.0.1", "a@b.c").unwrap();
        assert_eq!(
            (c.security, c.port, c.host.as_str()),
            (SmtpSecurity::Plain, 25, "127.0.0.1")
        );
        assert!(SmtpConfig::from_url("http://x", "a@b.c").is_err());
        assert!(SmtpConfig::from_url("smtp://x:notaport", "a@b.c").is_err());
    }

    /// A minimal SMTP server on loopback that accepts one message and hands back its data.
    async fn one_message_server() -> (u16, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let (read, mut write) = socket.into_split();
            let mut lines = BufReader::new(read).lines();
            write.write_all(b"220 test ESMTP\r\n").await.unwrap();
            let mut data = String::new();
            let mut in_data = false;
            while let Ok(Some(line)) = lines.next_line().await {
                if in_data {
                    if line == "." {
                        in_data = false;
                        write.write_all(b"250 queued\r\n").await.unwrap();
                    } else {
                        data.push_str(&line);
                        data.push('\n');
                    }
                    continue;
                }
                let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                let reply: &[u8] = match verb.as_str() {
                    "EHLO" | "HELO" => b"250 test\r\n",
                    "DATA" => {
                        in_data = true;
                        b"354 go on\r\n"
                    }
                    "QUIT" => {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    }
                    _ => b"250 ok\r\n",
                };
                write.write_all(reply).await.unwrap();
            }
            data
        });
        (port, task)
    }

    #[tokio::test]
    async fn a_message_reaches_an_smtp_server() {
        let (port, server) = one_message_server().await;
        let mailer = SmtpMailer::new(
            SmtpConfig::from_url(
                &format!("smtp://127.0.0.1:{port}"),
                "Shop <shop@example.com>",
            )
            .unwrap(),
        )
        .unwrap();
        mailer
            .send(&Mail {
                to: "ana@example.com".into(),
                subject: "Verify your email".into(),
                text: "token abc123".into(),
                html: None,
            })
            .await
            .unwrap();
        drop(mailer);
        let data = tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .unwrap()
            .unwrap();
        assert!(data.contains("Subject: Verify your email"), "{data}");
        assert!(data.contains("token abc123"), "{data}");
    }
}
