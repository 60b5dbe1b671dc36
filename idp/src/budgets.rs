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

/// A connection to the Redis that holds the shared budgets.
pub struct SharedBudgets {
    client: redis::Client,
    connection: Mutex<Option<redis::aio::MultiplexedConnection>>,
    script: redis::Script,
}

impl SharedBudgets {
    pub fn new(url: &str) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: Mutex::new(None),
            script: redis::Script::new(GCRA),
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

    /// One GCRA step for `key`; `Ok(None)` when it fits, `Ok(Some(wait))` when not.
    async fn take(
        &self,
        key: &str,
        interval: Duration,
        burst: u32,
    ) -> Result<Option<Duration>, redis::RedisError> {
        let mut c = self.connection().await?;
        let wait_ms: i64 = self
            .script
            .key(key)
            .arg(interval.as_millis().max(1) as u64)
            .arg(burst)
            .invoke_async(&mut c)
            .await
            .inspect_err(|_| {
                // A broken connection is opened again by the next request.
                if let Ok(mut held) = self.connection.try_lock() {
                    *held = None;
                }
            })?;
        Ok((wait_ms > 0).then(|| Duration::from_millis(wait_ms as u64)))
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

    /// Spend one request of `key`'s budget at `now` (this replica's clock, for the local
    /// budget); `Some(wait)` when it is spent.
    pub async fn take(&self, key: &str, now: Duration) -> Option<Duration> {
        if self.burst == 0 {
            return None;
        }
        if let Some(shared) = &self.shared {
            let interval = self.period / self.burst;
            match shared
                .take(
                    &format!("anyid:budget:{}:{key}", self.name),
                    interval,
                    self.burst,
                )
                .await
            {
                Ok(verdict) => return verdict,
                Err(e) => tracing::warn!(
                    cause = %e,
                    budget = self.name,
                    "the shared limiter is unreachable; this replica's own budget applies"
                ),
            }
        }
        match self.local.record_failure(&[key], now) {
            Verdict::Open => None,
            Verdict::Throttled { retry_after } => Some(retry_after),
        }
    }
}

/// The budgets the provider keeps.
pub struct Budgets {
    /// Token requests per authenticated client.
    pub token_per_client: Budget,
}

impl Budgets {
    pub fn new(limits: &crate::config::LimitsConfig, shared: Option<Arc<SharedBudgets>>) -> Self {
        Self {
            token_per_client: Budget::new(
                "token",
                limits.token_per_client_per_minute,
                Duration::from_secs(60),
                shared,
            ),
        }
    }
}
