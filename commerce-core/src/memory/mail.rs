//! A mailer that keeps every mail.

use super::*;

/// Keeps every mail sent, for tests and examples.
#[derive(Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Mail>>,
}

impl MemoryMailer {
    /// Every mail sent so far, oldest first.
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.sent
            .lock()
            .map_err(|_| MailError("outbox unavailable".into()))?
            .push(mail.clone());
        Ok(())
    }
}
