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

/// Times as people read them on pages and readable exports: in the deployment's time zone
/// (`policy.time_zone`), with the zone named. Logs and APIs stay in UTC.
#[derive(Debug, Clone, Copy)]
pub struct LocalTimes(time::UtcOffset);

impl LocalTimes {
    pub fn new(offset: time::UtcOffset) -> Self {
        Self(offset)
    }

    /// `2026-12-07 23:47`, in the time zone.
    pub fn format(&self, t: UnixTime) -> String {
        time::OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .and_then(|d| {
                d.to_offset(self.0)
                    .format(&time::macros::format_description!(
                        "[year]-[month]-[day] [hour]:[minute]"
                    ))
                    .ok()
            })
            .unwrap_or_default()
    }

    /// The day of `t` in the time zone: `2026-12-07`.
    pub fn day(&self, t: UnixTime) -> String {
        time::OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .map(|d| d.to_offset(self.0).date().to_string())
            .unwrap_or_default()
    }

    /// The start of the day `day` (`2026-12-07`) in the time zone.
    pub fn day_start(&self, day: &str) -> Option<UnixTime> {
        let date = time::Date::parse(
            day.trim(),
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()?;
        Some(date.midnight().assume_offset(self.0).unix_timestamp())
    }

    /// The zone's name: `UTC+09:00`.
    pub fn zone(&self) -> String {
        let (h, m, _) = self.0.as_hms();
        if (h, m) == (0, 0) {
            return "UTC".into();
        }
        let sign = if self.0.is_negative() { '-' } else { '+' };
        format!("UTC{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
    }
}

#[cfg(test)]
mod local_times {
    use super::*;

    #[test]
    fn times_read_in_the_zone_and_name_it() {
        let seoul = LocalTimes::new(time::UtcOffset::from_hms(9, 0, 0).unwrap());
        // 2026-12-07 14:47 UTC.
        assert_eq!(seoul.format(1_796_654_820), "2026-12-07 23:47");
        assert_eq!(seoul.zone(), "UTC+09:00");
        assert_eq!(seoul.day(1_796_654_820), "2026-12-07");
        // Midnight in Seoul is 15:00 UTC the day before.
        assert_eq!(seoul.day_start("2026-12-07"), Some(1_796_569_200));
        assert_eq!(seoul.day_start("2026-13-07"), None);
        assert_eq!(seoul.day_start("yesterday"), None);
        let utc = LocalTimes::new(time::UtcOffset::UTC);
        assert_eq!(utc.format(1_796_654_820), "2026-12-07 14:47");
        assert_eq!(utc.zone(), "UTC");
        let newfoundland = LocalTimes::new(time::UtcOffset::from_hms(-3, -30, 0).unwrap());
        assert_eq!(newfoundland.zone(), "UTC-03:30");
    }
}
