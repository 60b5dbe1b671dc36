//! Rate limits (GCRA via governor), per replica. Keys are chosen by the caller: a client id,
//! an account, an address prefix.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Throttles a key that keeps failing (wrong client secrets): after `burst` failures within
/// `period`, the key is refused without checking until the limiter lets one more through.
/// Successes are not counted, so a busy legitimate client is never slowed by this.
pub struct FailureLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    blocked: Mutex<HashMap<String, Instant>>,
}

impl FailureLimiter {
    pub fn new(burst: u32, period: Duration) -> Self {
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let per_failure = (period / burst.get()).max(Duration::from_millis(1));
        let quota = Quota::with_period(per_failure)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// False while `key` is throttled.
    pub fn may_try(&self, key: &str) -> bool {
        let Ok(mut blocked) = self.blocked.lock() else {
            return true;
        };
        match blocked.get(key) {
            Some(until) if *until > Instant::now() => false,
            Some(_) => {
                blocked.remove(key);
                true
            }
            None => true,
        }
    }

    /// Record a failure for `key`; returns false when the key has just become throttled.
    pub fn record_failure(&self, key: &str) -> bool {
        match self.limiter.check_key(&key.to_owned()) {
            Ok(()) => true,
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                if let Ok(mut blocked) = self.blocked.lock() {
                    blocked.insert(key.to_owned(), Instant::now() + wait);
                }
                false
            }
        }
    }

    /// Drop state for keys that have recovered, bounding memory.
    pub fn forget_recovered(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        if let Ok(mut blocked) = self.blocked.lock() {
            let now = Instant::now();
            blocked.retain(|_, until| *until > now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_throttled_after_its_burst_of_failures_and_others_are_not() {
        let limiter = FailureLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limiter.may_try("a"));
            assert!(limiter.record_failure("a"));
        }
        assert!(!limiter.record_failure("a"));
        assert!(!limiter.may_try("a"));
        assert!(limiter.may_try("b"));
    }
}
