//! Rate limits, per replica.
//!
//! - [`FailureLimiter`] throttles repeated failures (wrong client secrets) per key: GCRA over
//!   a bounded table, time passed in, failing closed. Keys are hashed, so a long random key
//!   (a made-up client id) costs the same few bytes as any other.
//! - [`RequestLimiter`] bounds how often unauthenticated requests that create server-side
//!   state may arrive: per source (governor, keyed) and in total (governor, direct).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Whether a key may go on failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Open,
    /// Over its failure budget: more failures are refused until `retry_after` has passed.
    Throttled {
        retry_after: Duration,
    },
}

impl Verdict {
    pub fn is_throttled(self) -> bool {
        matches!(self, Verdict::Throttled { .. })
    }
}

/// Counts failures per key with GCRA: each failure adds `period / burst` to the key's debt,
/// which drains in real time; a failure that would take the debt past `period` is refused. Successes are
/// not counted, so a busy legitimate caller is never slowed by this.
///
/// Fails closed: a poisoned lock, or a full table that cannot make room for a new key,
/// answers `Throttled`.
pub struct FailureLimiter {
    interval: Duration,
    limit: Duration,
    max_keys: usize,
    hasher: RandomState,
    /// Key hash -> theoretical arrival time (time since the epoch the caller uses).
    debts: Mutex<HashMap<u64, Duration>>,
}

impl FailureLimiter {
    /// Allow `burst` failures per `period` per key, for at most `max_keys` keys at once.
    pub fn new(burst: u32, period: Duration, max_keys: usize) -> Self {
        let burst = burst.max(1);
        let interval = (period / burst).max(Duration::from_millis(1));
        Self {
            interval,
            limit: interval * burst,
            max_keys: max_keys.max(1),
            hasher: RandomState::new(),
            debts: Mutex::new(HashMap::new()),
        }
    }

    fn key(&self, parts: &[&str]) -> u64 {
        let mut h = self.hasher.build_hasher();
        for part in parts {
            part.hash(&mut h);
        }
        h.finish()
    }

    /// GCRA: one more failure at `now` fits if the debt it leaves is within the limit.
    fn next(&self, tat: Duration, now: Duration) -> Result<Duration, Verdict> {
        let next = tat.max(now) + self.interval;
        let debt = next - now;
        if debt > self.limit {
            Err(Verdict::Throttled {
                retry_after: debt - self.limit,
            })
        } else {
            Ok(next)
        }
    }

    /// Whether one more failure of the key made of `parts` would be refused at `now`.
    pub fn check(&self, parts: &[&str], now: Duration) -> Verdict {
        let Ok(debts) = self.debts.lock() else {
            return self.closed();
        };
        let tat = debts.get(&self.key(parts)).copied().unwrap_or(now);
        self.next(tat, now).err().unwrap_or(Verdict::Open)
    }

    /// How much of its budget the key made of `parts` has spent at `now`: each failure adds
    /// `period / burst`, which drains in real time.
    pub fn debt(&self, parts: &[&str], now: Duration) -> Duration {
        let Ok(debts) = self.debts.lock() else {
            return self.limit;
        };
        debts
            .get(&self.key(parts))
            .map_or(Duration::ZERO, |tat| tat.saturating_sub(now))
    }

    /// Count a failure of the key made of `parts` at `now`: `Open` if it was within the
    /// budget, `Throttled` if it was over (a refused failure adds no debt).
    pub fn record_failure(&self, parts: &[&str], now: Duration) -> Verdict {
        let key = self.key(parts);
        let Ok(mut debts) = self.debts.lock() else {
            return self.closed();
        };
        if !debts.contains_key(&key) && debts.len() >= self.max_keys {
            debts.retain(|_, tat| *tat > now);
            if debts.len() >= self.max_keys {
                return self.closed();
            }
        }
        let tat = debts.entry(key).or_insert(now);
        match self.next(*tat, now) {
            Ok(next) => {
                *tat = next;
                Verdict::Open
            }
            Err(throttled) => throttled,
        }
    }

    /// Drop keys whose debt has drained, bounding memory.
    pub fn forget_recovered(&self, now: Duration) {
        if let Ok(mut debts) = self.debts.lock() {
            debts.retain(|_, tat| *tat > now);
        }
    }

    /// How many keys are tracked.
    pub fn len(&self) -> usize {
        self.debts.lock().map(|d| d.len()).unwrap_or(self.max_keys)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn closed(&self) -> Verdict {
        Verdict::Throttled {
            retry_after: self.limit,
        }
    }
}

/// Failure budgets for client authentication: per client and source address (someone who
/// knows a public `client_id` cannot spend the budget of the client's own servers), and per
/// source across clients (one source trying many client ids).
pub struct AuthFailureLimits {
    per_client: FailureLimiter,
    per_source: FailureLimiter,
}

impl AuthFailureLimits {
    /// `burst` failures per `period` per client and source; ten times that per source.
    pub fn new(burst: u32, period: Duration, max_keys: usize) -> Self {
        Self {
            per_client: FailureLimiter::new(burst, period, max_keys),
            per_source: FailureLimiter::new(burst.saturating_mul(10), period, max_keys),
        }
    }

    /// Record a failed authentication of `client_id` from `source` at `now`.
    pub fn record(&self, client_id: &str, source: IpAddr, now: Duration) -> Verdict {
        let source = source_key(source).to_string();
        let per_client = self.per_client.record_failure(&[client_id, &source], now);
        let per_source = self.per_source.record_failure(&[&source], now);
        match (per_client, per_source) {
            (Verdict::Throttled { retry_after: a }, Verdict::Throttled { retry_after: b }) => {
                Verdict::Throttled {
                    retry_after: a.max(b),
                }
            }
            (Verdict::Open, other) | (other, Verdict::Open) => other,
        }
    }

    pub fn forget_recovered(&self, now: Duration) {
        self.per_client.forget_recovered(now);
        self.per_source.forget_recovered(now);
    }
}

/// The source a request limit counts: an IPv4 address, or the /64 an IPv6 address is in
/// (one subscriber usually holds a whole /64).
pub fn source_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                IpAddr::from(octets)
            }
        },
    }
}

/// Limits on requests that create server-side state before anyone is authenticated (login
/// flows, ceremonies, upstream starts): `per_source` per minute from one source (see
/// [`source_key`]) and `global` per second in total, each with a burst of the same size.
pub struct RequestLimiter {
    per_source: DefaultKeyedRateLimiter<IpAddr>,
    global: DefaultDirectRateLimiter,
}

impl RequestLimiter {
    pub fn new(per_source_per_minute: u32, global_per_second: u32) -> Self {
        let per_source = NonZeroU32::new(per_source_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let global = NonZeroU32::new(global_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            per_source: RateLimiter::keyed(Quota::per_minute(per_source)),
            global: RateLimiter::direct(Quota::per_second(global)),
        }
    }

    /// Admit one request from `address`, or say how long to wait.
    pub fn admit(&self, address: IpAddr) -> Result<(), Duration> {
        let clock = DefaultClock::default();
        self.per_source
            .check_key(&source_key(address))
            .map_err(|not_until| not_until.wait_time_from(clock.now()))?;
        self.global
            .check()
            .map_err(|not_until| not_until.wait_time_from(clock.now()))
    }

    /// Drop sources that are back within their quota, bounding memory.
    pub fn forget_recovered(&self) {
        self.per_source.retain_recent();
        self.per_source.shrink_to_fit();
    }

    /// How many sources are tracked.
    pub fn sources(&self) -> usize {
        self.per_source.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn at(seconds: u64) -> Duration {
        Duration::from_secs(1_000_000 + seconds)
    }

    #[test]
    fn a_key_is_throttled_after_its_burst_of_failures_and_others_are_not() {
        let limiter = FailureLimiter::new(3, MINUTE, 100);
        for _ in 0..3 {
            assert_eq!(
                limiter.record_failure(&["a", "1.2.3.4"], at(0)),
                Verdict::Open
            );
        }
        assert!(limiter.check(&["a", "1.2.3.4"], at(0)).is_throttled());
        assert!(
            limiter
                .record_failure(&["a", "1.2.3.4"], at(0))
                .is_throttled()
        );
        assert_eq!(limiter.check(&["a", "5.6.7.8"], at(0)), Verdict::Open);
        assert_eq!(limiter.check(&["b", "1.2.3.4"], at(0)), Verdict::Open);
    }

    #[test]
    fn a_throttled_key_recovers_as_time_passes_and_says_when() {
        let limiter = FailureLimiter::new(3, MINUTE, 100);
        for _ in 0..3 {
            limiter.record_failure(&["a"], at(0));
        }
        let Verdict::Throttled { retry_after } = limiter.check(&["a"], at(0)) else {
            panic!("throttled");
        };
        assert!(retry_after > Duration::ZERO && retry_after <= MINUTE);
        // Failures refused while throttled do not deepen the debt.
        for _ in 0..10 {
            assert!(limiter.record_failure(&["a"], at(1)).is_throttled());
        }
        // One failure's worth (20 s) drains: one more failure fits, the next does not.
        assert_eq!(limiter.record_failure(&["a"], at(20)), Verdict::Open);
        assert!(limiter.record_failure(&["a"], at(20)).is_throttled());
        assert_eq!(limiter.debt(&["a"], at(20)), MINUTE);
        assert_eq!(
            limiter.debt(&["a"], at(50)),
            MINUTE - Duration::from_secs(30)
        );
        assert_eq!(limiter.debt(&["b"], at(50)), Duration::ZERO);
        limiter.forget_recovered(at(200));
        assert!(limiter.is_empty());
    }

    #[test]
    fn parts_are_keyed_without_ambiguity_and_long_keys_cost_nothing_extra() {
        let limiter = FailureLimiter::new(1, MINUTE, 100);
        let long = "x".repeat(100_000);
        limiter.record_failure(&[&long, "ip"], at(0));
        assert!(limiter.check(&[&long, "ip"], at(0)).is_throttled());
        limiter.record_failure(&["ab", "c"], at(0));
        assert_eq!(limiter.check(&["a", "bc"], at(0)), Verdict::Open);
    }

    #[test]
    fn a_full_table_makes_room_from_recovered_keys_or_fails_closed() {
        let limiter = FailureLimiter::new(5, MINUTE, 2);
        assert_eq!(limiter.record_failure(&["a"], at(0)), Verdict::Open);
        assert_eq!(limiter.record_failure(&["b"], at(0)), Verdict::Open);
        assert!(
            limiter.record_failure(&["c"], at(0)).is_throttled(),
            "no room: closed"
        );
        assert_eq!(limiter.len(), 2, "memory stays bounded");
        // Once a and b have drained, c gets their room.
        assert_eq!(limiter.record_failure(&["c"], at(60)), Verdict::Open);
        assert_eq!(limiter.len(), 1);
    }

    #[test]
    fn client_failures_count_per_client_and_source_and_per_source_overall() {
        let limits = AuthFailureLimits::new(2, MINUTE, 100);
        let attacker = IpAddr::from([198, 51, 100, 9]);
        let client_host = IpAddr::from([192, 0, 2, 1]);
        limits.record("rp", attacker, at(0));
        limits.record("rp", attacker, at(0));
        assert!(limits.record("rp", attacker, at(0)).is_throttled());
        // The client's own host still has its whole budget.
        assert_eq!(limits.record("rp", client_host, at(0)), Verdict::Open);
        // One source spraying client ids runs out across them.
        let sprayer = IpAddr::from([203, 0, 113, 5]);
        let verdicts: Vec<Verdict> = (0..21)
            .map(|i| limits.record(&format!("client-{i}"), sprayer, at(0)))
            .collect();
        assert!(verdicts[..20].iter().all(|v| *v == Verdict::Open));
        assert!(verdicts[20].is_throttled());
    }

    #[test]
    fn ipv6_sources_count_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source_key(a), source_key(b));
        assert_ne!(source_key(a), source_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(source_key(mapped), IpAddr::from([192, 0, 2, 7]));
    }

    #[test]
    fn a_source_over_its_quota_waits_and_others_go_on() {
        let limiter = RequestLimiter::new(3, 1000);
        let one = IpAddr::from([192, 0, 2, 1]);
        for _ in 0..3 {
            assert!(limiter.admit(one).is_ok());
        }
        let wait = limiter.admit(one).expect_err("over quota");
        assert!(wait > Duration::ZERO && wait <= MINUTE);
        assert!(limiter.admit(IpAddr::from([192, 0, 2, 2])).is_ok());
        assert_eq!(limiter.sources(), 2);
    }

    #[test]
    fn the_global_quota_holds_for_everyone() {
        let limiter = RequestLimiter::new(1000, 2);
        assert!(limiter.admit(IpAddr::from([192, 0, 2, 1])).is_ok());
        assert!(limiter.admit(IpAddr::from([192, 0, 2, 2])).is_ok());
        assert!(limiter.admit(IpAddr::from([192, 0, 2, 3])).is_err());
    }
}
