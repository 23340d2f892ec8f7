//! A webhook sender that keeps what it is asked to send and answers as told, for tests.

use std::collections::VecDeque;

use super::*;

/// Keeps every request and answers each with the next scripted answer (a 200 when the
/// script has run out).
#[derive(Default)]
pub struct RecordingWebhookSender {
    sent: Mutex<Vec<WebhookRequest>>,
    answers: Mutex<VecDeque<WebhookAnswer>>,
}

impl RecordingWebhookSender {
    /// A sender that has sent nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The answers the next sends get, in order.
    pub fn answer_with(&self, answers: impl IntoIterator<Item = WebhookAnswer>) {
        self.answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(answers);
    }

    /// Every request sent so far.
    pub fn sent(&self) -> Vec<WebhookRequest> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl WebhookSender for RecordingWebhookSender {
    async fn send(&self, request: WebhookRequest) -> WebhookAnswer {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request);
        self.answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
            .unwrap_or(WebhookAnswer::Status {
                code: 200,
                retry_after: None,
            })
    }
}
