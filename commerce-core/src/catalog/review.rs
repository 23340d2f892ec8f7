//! Reviews and the rating they make.

use super::*;

/// A customer's review; shown once approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Its id.
    pub id: ReviewId,
    /// The product reviewed.
    pub product_id: ProductId,
    /// Who wrote it: a customer who bought the product.
    pub user_id: UserId,
    /// 1 to 5 stars.
    pub rating: u8,
    /// Its title.
    pub title: String,
    /// What they wrote.
    pub body: String,
    /// Whether it is shown (only approved ones count in the rating).
    pub status: ReviewStatus,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// Where a review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// Waiting to be looked at (reviews are approved when written; staff may set this).
    Pending,
    /// Shown, and counted in the product's rating.
    Approved,
    /// Hidden by the staff.
    Rejected,
}

impl ReviewStatus {
    /// Every status.
    pub const ALL: [ReviewStatus; 3] = [
        ReviewStatus::Pending,
        ReviewStatus::Approved,
        ReviewStatus::Rejected,
    ];

    /// Its name in the API (`approved`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ReviewStatus::Pending => "pending",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Rejected => "rejected",
        }
    }

    /// The status of that name.
    pub fn parse(s: &str) -> Option<ReviewStatus> {
        ReviewStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What a customer sends to review a product.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewReview {
    /// 1 to 5 stars.
    pub rating: u8,
    /// A title (at most `MAX_REVIEW_TITLE_CHARS`).
    pub title: String,
    /// What they have to say.
    pub body: String,
}

impl Review {
    /// A review checked: a rating of 1 to 5, a title and a body within their limits.
    pub fn new(
        id: ReviewId,
        product_id: ProductId,
        user_id: UserId,
        draft: NewReview,
        status: ReviewStatus,
        now: DateTime<Utc>,
    ) -> Result<Review, ValidationErrors> {
        let NewReview {
            rating,
            title,
            body,
        } = draft;
        let (title, body) = (title.as_str(), body.as_str());
        let mut errors = ValidationErrors::new();
        if !(1..=5).contains(&rating) {
            errors.add("rating", "must be 1 to 5");
        }
        if title.trim().chars().count() > MAX_REVIEW_TITLE_CHARS {
            errors.add("title", "at most 200 characters");
        }
        if body.chars().count() > MAX_REVIEW_TEXT_CHARS {
            errors.add("body", "at most 10,000 characters");
        }
        check_text(&mut errors, "title", title, Lines::One);
        check_text(&mut errors, "body", body, Lines::Many);
        errors.into_result(Review {
            id,
            product_id,
            user_id,
            rating,
            title: title.trim().to_string(),
            body: body.to_string(),
            status,
            created_at: now,
        })
    }
}

/// The mean of approved reviews, as a product shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Rating {
    /// The mean of approved reviews, two decimals, 0 with none.
    pub average: Decimal,
    /// How many approved reviews.
    pub count: u32,
}

/// The average of approved reviews, rounded half-even to two decimals.
pub fn rating_of(reviews: &[Review]) -> Rating {
    let approved = reviews
        .iter()
        .filter(|r| r.status == ReviewStatus::Approved);
    let (sum, count) = approved.fold((0u64, 0u32), |(s, c), r| (s + u64::from(r.rating), c + 1));
    Rating::from_totals(sum, count)
}

impl Rating {
    /// From the sum and count of approved ratings (what a database aggregates).
    pub fn from_totals(sum: u64, count: u32) -> Rating {
        if count == 0 {
            return Rating::default();
        }
        Rating {
            average: (Decimal::from(sum) / Decimal::from(count)).round_dp(2),
            count,
        }
    }
}
