//! A review's moderation, and the review statuses a client may name.

use super::*;

#[derive(Debug, Object, Deserialize)]
pub struct ReviewStatusBody {
    pub status: Word<ReviewStatus>,
}

impl Choices for ReviewStatus {
    const NAME: &'static str = "review_status";
    fn all() -> Vec<(&'static str, Self)> {
        ReviewStatus::ALL.iter().map(|s| (s.as_str(), *s)).collect()
    }
}
