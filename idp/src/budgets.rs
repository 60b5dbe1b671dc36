//! Request budgets (GCRA) that can be shared by every replica. Without Redis each replica
//! keeps its own budget (`policy::limits`), so N replicas allow up to N times the configured
//! rate; with `limits.redis_url` the budget lives in Redis and the total is exact: one Lua
//! script does the GCRA step atomically on Redis's own clock, so replicas' clocks do not
//! matter. If Redis cannot be reached, the replica falls back to its own budget for that
//! request (logged), rather than refusing everyone or allowing without limit.

use std::sync::Arc;
use std::time::Duration;

use anyid_policy::limits::{FailureLimiter, Verdict};
use tokio::sync::Mutex;

/// GCRA step. KEYS[1]: the budget; ARGV[1]: emission interval (ms); ARGV[2]: burst.
/// Returns 0 when the request fits, else how many ms until it would.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local limit = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local debt = new_tat - now
if debt > limit then return debt - limit end
redis.call('SET', KEYS[1], new_tat, 'PX', debt)
return 0
";

/// How much of its budget a key has spent. KEYS[1]: the budget. Returns the debt in ms.
const DEBT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then return 0 end
return tat - now
";

/// A connection to the Redis that holds the shared budgets.
pub struct SharedBudgets {
    client: redis::Client,
    connection: Mutex<Option<redis::aio::MultiplexedConnection>>,
    gcra: redis::Script,
    debt: redis::Script,
}

impl SharedBudgets {
    pub fn new(url: &str) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: Mutex::new(None),
            gcra: redis::Script::new(GCRA),
            debt: redis::Script::new(DEBT),
        })
    }

    async fn connection(&self) -> Result<redis::aio::MultiplexedConnection, redis::RedisError> {
        let mut held = self.connection.lock().await;
        if let Some(c) = held.as_ref() {
            return Ok(c.clone());
        }
        let c = self.client.get_multiplexed_async_connection().await?;
        *held = Some(c.clone());
        Ok(c)
    }

    /// Run `script` on `key` with `args`; a number of milliseconds comes back.
    async fn run(
        &self,
        script: &redis::Script,
        key: &str,
        args: &[u64],
    ) -> Result<Duration, redis::RedisError> {
        let mut c = self.connection().await?;
        let mut invocation = script.key(key);
        for arg in args {
            invocation.arg(*arg);
        }
        let ms: i64 = invocation.invoke_async(&mut c).await.inspect_err(|_| {
            // A broken connection is opened again by the next request.
            if let Ok(mut held) = self.connection.try_lock() {
                *held = None;
            }
        })?;
        Ok(Duration::from_millis(u64::try_from(ms).unwrap_or_default()))
    }

    /// One GCRA step for `key`; `Ok(None)` when it fits, `Ok(Some(wait))` when not.
    async fn take(
        &self,
        key: &str,
        interval: Duration,
        burst: u32,
    ) -> Result<Option<Duration>, redis::RedisError> {
        let interval_ms = u64::try_from(interval.as_millis().max(1)).unwrap_or(u64::MAX);
        let wait = self
            .run(&self.gcra, key, &[interval_ms, u64::from(burst)])
            .await?;
        Ok((!wait.is_zero()).then_some(wait))
    }

    /// How much of its budget `key` has spent.
    async fn debt(&self, key: &str) -> Result<Duration, redis::RedisError> {
        self.run(&self.debt, key, &[]).await
    }
}

/// One kind of budget: `burst` requests per `period` per key.
pub struct Budget {
    name: &'static str,
    burst: u32,
    period: Duration,
    local: FailureLimiter,
    shared: Option<Arc<SharedBudgets>>,
}

impl Budget {
    /// `burst` per `period` per key (0: no budget, every request fits).
    pub fn new(
        name: &'static str,
        burst: u32,
        period: Duration,
        shared: Option<Arc<SharedBudgets>>,
    ) -> Self {
        Self {
            name,
            burst,
            period,
            local: FailureLimiter::new(burst.max(1), period, 100_000),
            shared,
        }
    }

    fn interval(&self) -> Duration {
        self.period / self.burst.max(1)
    }

    fn shared_key(&self, key: &str) -> String {
        format!("anyid:budget:{}:{key}", self.name)
    }

    fn unreachable(&self, e: &redis::RedisError) {
        tracing::warn!(
            cause = %e,
            budget = self.name,
            "the shared limiter is unreachable; this replica's own budget applies"
        );
    }

    /// Spend one request of `key`'s budget at `now` (this replica's clock, for the local
    /// budget); `Some(wait)` when it is spent.
    pub async fn take(&self, key: &str, now: Duration) -> Option<Duration> {
        if self.burst == 0 {
            return None;
        }
        if let Some(shared) = &self.shared {
            match shared
                .take(&self.shared_key(key), self.interval(), self.burst)
                .await
            {
                Ok(verdict) => return verdict,
                Err(e) => self.unreachable(&e),
            }
        }
        match self.local.record_failure(&[key], now) {
            Verdict::Open => None,
            Verdict::Throttled { retry_after } => Some(retry_after),
        }
    }

    /// How many of its `burst` the key has spent recently (each one drains after
    /// `period / burst`), at `now`.
    pub async fn spent(&self, key: &str, now: Duration) -> u32 {
        if self.burst == 0 {
            return 0;
        }
        let debt = match &self.shared {
            Some(shared) => match shared.debt(&self.shared_key(key)).await {
                Ok(debt) => debt,
                Err(e) => {
                    self.unreachable(&e);
                    self.local.debt(&[key], now)
                }
            },
            None => self.local.debt(&[key], now),
        };
        let interval = self.interval().as_millis().max(1);
        u32::try_from(debt.as_millis().div_ceil(interval)).unwrap_or(u32::MAX)
    }

    /// Whether the key's budget is spent: the next [`Budget::take`] would be refused.
    pub async fn exhausted(&self, key: &str, now: Duration) -> bool {
        self.burst > 0 && self.spent(key, now).await >= self.burst
    }
}

/// The budgets the provider keeps.
pub struct Budgets {
    /// Token requests per authenticated client.
    pub token_per_client: Budget,
    /// Login attempts per credential, and per method.
    pub login_per_account: Budget,
    pub login_per_method: Budget,
    /// Failed login attempts per credential: when spent, the credential is locked.
    pub login_failures: Budget,
    /// The least time a failed attempt takes to answer.
    pub failure_delay: Duration,
}

impl Budgets {
    pub fn new(limits: &crate::config::LimitsConfig, shared: Option<Arc<SharedBudgets>>) -> Self {
        const MINUTE: Duration = Duration::from_secs(60);
        let budget = |name, burst, period| Budget::new(name, burst, period, shared.clone());
        Self {
            token_per_client: budget("token", limits.token_per_client_per_minute, MINUTE),
            login_per_account: budget("login-account", limits.login_per_account_per_minute, MINUTE),
            login_per_method: budget(
                "login-method",
                limits.login_per_method_per_second,
                Duration::from_secs(1),
            ),
            login_failures: budget(
                "login-failures",
                limits.login_failures_before_lockout,
                MINUTE * limits.lockout_minutes,
            ),
            failure_delay: Duration::from_millis(u64::from(limits.login_failure_delay_ms)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn at(seconds: u64) -> Duration {
        Duration::from_secs(1_000_000 + seconds)
    }

    #[tokio::test]
    async fn a_budget_counts_what_a_key_spent_and_says_when_it_is_exhausted() {
        let failures = Budget::new("test", 3, 3 * MINUTE, None);
        assert_eq!(failures.spent("a", at(0)).await, 0);
        for _ in 0..3 {
            assert_eq!(failures.take("a", at(0)).await, None);
        }
        assert_eq!(failures.spent("a", at(0)).await, 3);
        assert!(failures.exhausted("a", at(0)).await);
        assert!(!failures.exhausted("b", at(0)).await);
        // One take's worth drains in a minute.
        assert_eq!(failures.spent("a", at(60)).await, 2);
        assert!(!failures.exhausted("a", at(60)).await);
        let none = Budget::new("none", 0, MINUTE, None);
        assert_eq!(none.take("a", at(0)).await, None);
        assert!(!none.exhausted("a", at(0)).await);
    }

    /// Two replicas' budgets on one Redis count one total (needs `ANYID_TEST_REDIS_URL`).
    #[tokio::test]
    async fn budgets_on_one_redis_count_one_total_for_every_replica() {
        let Some(url) = std::env::var("ANYID_TEST_REDIS_URL")
            .ok()
            .filter(|v| !v.is_empty())
        else {
            eprintln!(
                "budgets_on_one_redis_count_one_total_for_every_replica: SKIPPED, nothing \
                 checked: ANYID_TEST_REDIS_URL is not set (no Redis)"
            );
            return;
        };
        let replica = || {
            let shared = Arc::new(SharedBudgets::new(&url).unwrap());
            Budget::new("test-failures", 5, 5 * MINUTE, Some(shared))
        };
        let (a, b) = (replica(), replica());
        let key = uuid::Uuid::new_v4().to_string();
        for _ in 0..3 {
            assert_eq!(a.take(&key, at(0)).await, None);
        }
        for _ in 0..2 {
            assert_eq!(b.take(&key, at(0)).await, None);
        }
        assert_eq!(a.spent(&key, at(0)).await, 5);
        assert!(b.exhausted(&key, at(0)).await);
        let wait = a.take(&key, at(0)).await.expect("over the shared budget");
        assert!(wait > Duration::ZERO && wait <= MINUTE, "{wait:?}");
    }
}
