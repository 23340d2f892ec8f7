//! The time and new ids.

use super::*;

/// The time. Times are kept to the microsecond (what PostgreSQL stores), so a value read
/// back from any store equals the one written.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, to the microsecond.
    fn now(&self) -> DateTime<Utc>;
}

/// New ids and entropy (tests swap it for predictable ones).
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A new id, never handed out before (v4 or v7 UUIDs).
    fn new_id(&self) -> Uuid;
    /// Entropy for order numbers and similar short codes.
    fn random_u64(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        use chrono::SubsecRound;
        Utc::now().trunc_subsecs(6)
    }
}

/// Random v4 ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn new_id(&self) -> Uuid {
        Uuid::new_v4()
    }
    fn random_u64(&self) -> u64 {
        let mut b = [0u8; 8];
        // The OS source failing is not recoverable in any useful way; fall back to the v4 bits.
        if getrandom::fill(&mut b).is_err() {
            b.copy_from_slice(&Uuid::new_v4().as_bytes()[..8]);
        }
        u64::from_le_bytes(b)
    }
}
