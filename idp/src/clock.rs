//! Explicit time: every expiry, TTL and `auth_time` reads a [`Clock`], so tests move time
//! instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, UTC.
pub type UnixTime = i64;

pub trait Clock: Send + Sync + 'static {
    /// Time since the Unix epoch, as precise as the clock is (rate limits need better than
    /// seconds).
    fn since_epoch(&self) -> Duration;

    fn now(&self) -> UnixTime {
        self.since_epoch().as_secs() as UnixTime
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn since_epoch(&self) -> Duration {
        system_now()
    }
}

fn system_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// The wall clock plus an offset that tests can advance.
#[derive(Debug, Default)]
pub struct ShiftedClock {
    offset: AtomicI64,
}

impl ShiftedClock {
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn since_epoch(&self) -> Duration {
        let offset = self.offset.load(Ordering::SeqCst);
        let shift = Duration::from_secs(offset.unsigned_abs());
        if offset >= 0 {
            system_now() + shift
        } else {
            system_now().saturating_sub(shift)
        }
    }
}

#[cfg(test)]
mod shifted_clock {
    use super::*;

    #[test]
    fn advancing_moves_now_forward() {
        let clock = ShiftedClock::default();
        let before = clock.now();
        clock.advance(120);
        assert!(clock.now() >= before + 120);
    }
}
