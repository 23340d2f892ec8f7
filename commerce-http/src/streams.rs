//! Caps on open order event streams: each holds a connection and a task for as long as its
//! client keeps it, so one user, or everyone together, may hold only so many.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commerce_core::ids::UserId;

use crate::problem::ApiError;

/// How many order event streams may be open, and how often an open one checks that its
/// user may still watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Streams one user may hold open at once (default 10); past it, 429.
    pub per_user: usize,
    /// Streams open at once in all (default 10,000); past it, 429.
    pub total: usize,
    /// How often an open stream checks that its token still speaks for its user [30 s]: a
    /// deactivated user's streams, or those of a token ended by a password reset or role
    /// change, close within this.
    pub recheck_every: Duration,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            per_user: 10,
            total: 10_000,
            recheck_every: Duration::from_secs(30),
        }
    }
}

/// What a refused stream waits before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// The streams open now, per user and in all.
pub(crate) struct OpenStreams {
    pub(crate) limits: StreamLimits,
    open: Mutex<(HashMap<UserId, usize>, usize)>,
}

/// One open stream's place, given back when the stream ends (its response is dropped).
pub(crate) struct StreamSlot {
    streams: Arc<OpenStreams>,
    user: UserId,
}

impl OpenStreams {
    pub(crate) fn new(limits: StreamLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            open: Mutex::new((HashMap::new(), 0)),
        })
    }

    /// A place for one more stream of `user`, or 429 past a cap.
    pub(crate) fn open(self: &Arc<Self>, user: UserId) -> Result<StreamSlot, ApiError> {
        let mut open = self
            .open
            .lock()
            .map_err(|_| ApiError::rate_limited(RETRY_AFTER, "streams are not available"))?;
        let (per_user, total) = &mut *open;
        if *total >= self.limits.total {
            return Err(ApiError::rate_limited(
                RETRY_AFTER,
                "too many order event streams are open; try again shortly",
            ));
        }
        let mine = per_user.entry(user).or_default();
        if *mine >= self.limits.per_user {
            return Err(ApiError::rate_limited(
                RETRY_AFTER,
                format!(
                    "at most {} order event streams may be open at once per user",
                    self.limits.per_user
                ),
            ));
        }
        *mine += 1;
        *total += 1;
        Ok(StreamSlot {
            streams: self.clone(),
            user,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.streams.open.lock() {
            let (per_user, total) = &mut *open;
            *total = total.saturating_sub(1);
            if let Some(mine) = per_user.get_mut(&self.user) {
                *mine -= 1;
                if *mine == 0 {
                    per_user.remove(&self.user);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_per_user_and_in_all_and_places_come_back() {
        let streams = OpenStreams::new(StreamLimits {
            per_user: 2,
            total: 3,
            recheck_every: Duration::from_secs(30),
        });
        let (ana, bo) = (UserId::random(), UserId::random());
        let a1 = streams.open(ana).unwrap();
        let _a2 = streams.open(ana).unwrap();
        assert!(streams.open(ana).is_err(), "a third for one user");
        let _b1 = streams.open(bo).unwrap();
        assert!(streams.open(bo).is_err(), "a fourth in all");
        drop(a1);
        let _b2 = streams.open(bo).unwrap();
    }
}
