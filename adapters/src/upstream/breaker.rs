//! The per-provider circuit breaker (korea-any-id.md §8 "Scale and resilience"): after
//! [`THRESHOLD`] consecutive back-channel failures (unreachable, timeout, 5xx, a success
//! answer that is garbage) the provider is switched off for [`OPEN_S`] seconds, so the login
//! page stops sending people to a provider that is down; then one trial call goes through
//! (half-open) and its outcome closes or reopens the breaker. Only those count: a 4xx or 429
//! answer, an OAuth error such as `invalid_grant`, an answer that does not verify and a
//! person's own refusal (`access_denied`) are answers from a provider that is up. Anyone can
//! post a made-up code to our callback and make the provider answer `invalid_grant`; were
//! that a failure, a few such posts would switch the provider off for everyone. Time is the
//! caller's `now` (Unix seconds), so tests move it instead of sleeping.

/// Consecutive failures that open the breaker.
pub const THRESHOLD: u32 = 3;
/// How long an open breaker refuses calls.
pub const OPEN_S: i64 = 30;
/// A half-open trial that never reported back is given up after this long.
pub const TRIAL_S: i64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: i64,
    },
    /// One trial call is in flight since `since`.
    HalfOpen {
        since: i64,
    },
}

#[derive(Debug, Clone)]
pub struct Breaker {
    state: State,
}

impl Default for Breaker {
    fn default() -> Self {
        Self {
            state: State::Closed { failures: 0 },
        }
    }
}

impl Breaker {
    #[cfg(test)]
    pub fn state(&self) -> State {
        self.state
    }

    /// Would a call be let through now? (Does not take the half-open trial.)
    pub fn available(&self, now: i64) -> bool {
        match self.state {
            State::Closed { .. } => true,
            State::Open { until } => now >= until,
            State::HalfOpen { since } => now.saturating_sub(since) >= TRIAL_S,
        }
    }

    /// Ask to make a back-channel call; after the open window this takes the one trial.
    pub fn try_pass(&mut self, now: i64) -> bool {
        match self.state {
            State::Closed { .. } => true,
            State::Open { until } if now < until => false,
            State::HalfOpen { since } if now.saturating_sub(since) < TRIAL_S => false,
            State::Open { .. } | State::HalfOpen { .. } => {
                self.state = State::HalfOpen { since: now };
                true
            }
        }
    }

    pub fn success(&mut self) {
        self.state = State::Closed { failures: 0 };
    }

    /// Returns true when this failure opened the breaker.
    pub fn failure(&mut self, now: i64) -> bool {
        match self.state {
            State::Closed { failures } if failures + 1 < THRESHOLD => {
                self.state = State::Closed {
                    failures: failures + 1,
                };
                false
            }
            State::Open { .. } => false,
            State::Closed { .. } | State::HalfOpen { .. } => {
                self.state = State::Open {
                    until: now.saturating_add(OPEN_S),
                };
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_three_consecutive_failures_and_a_success_resets_the_count() {
        let mut b = Breaker::default();
        assert!(b.try_pass(0));
        assert!(!b.failure(0));
        assert!(!b.failure(1));
        b.success();
        assert!(!b.failure(2));
        assert!(!b.failure(3));
        assert!(b.available(3));
        assert!(b.failure(4), "the third consecutive failure opens it");
        assert_eq!(b.state(), State::Open { until: 4 + OPEN_S });
        assert!(!b.available(5));
        assert!(!b.try_pass(4 + OPEN_S - 1));
    }

    #[test]
    fn half_open_lets_exactly_one_trial_through() {
        let mut b = Breaker::default();
        for t in 0..3 {
            b.failure(t);
        }
        let reopen = 2 + OPEN_S;
        assert!(b.available(reopen));
        assert!(b.try_pass(reopen), "the trial");
        assert_eq!(b.state(), State::HalfOpen { since: reopen });
        assert!(!b.available(reopen + 1));
        assert!(!b.try_pass(reopen + 1), "only one trial at a time");
        b.success();
        assert_eq!(b.state(), State::Closed { failures: 0 });
        assert!(b.try_pass(reopen + 2));
    }

    #[test]
    fn a_failed_trial_reopens_and_a_lost_trial_is_given_up() {
        let mut b = Breaker::default();
        for t in 0..3 {
            b.failure(t);
        }
        let t = 2 + OPEN_S;
        assert!(b.try_pass(t));
        assert!(b.failure(t));
        assert_eq!(b.state(), State::Open { until: t + OPEN_S });
        assert!(b.try_pass(t + OPEN_S));
        // The trial never reports: after TRIAL_S another caller may try.
        assert!(!b.try_pass(t + OPEN_S + TRIAL_S - 1));
        assert!(b.try_pass(t + OPEN_S + TRIAL_S));
    }

    #[test]
    fn time_going_backwards_keeps_it_open() {
        let mut b = Breaker::default();
        for _ in 0..3 {
            b.failure(100);
        }
        assert!(!b.try_pass(50));
        assert!(!b.available(i64::MIN));
    }
}
