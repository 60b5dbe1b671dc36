//! Login attempts that name a credential (a certificate's signed challenge, a passkey's
//! assertion): limits per credential and per method, slowing down, and a lockout, none of
//! which tells whether the credential belongs to an account (issue 9).
//!
//! An attempt is keyed by what it claims (a keyed hash of the method and the certificate or
//! credential id), never by the account that may hold it: an attempt at a credential nobody
//! registered is counted, slowed and locked exactly like one at a registered credential.
//! A locked credential is answered exactly like a wrong proof (the same page, the same
//! delay), after the proof was checked as usual, so the work done is the same too.
//!
//! Trust decision, with the attacker's best move against it:
//! - *Guessing a proof*: infeasible for signatures, and bounded anyway by
//!   `login_failures_before_lockout` per `lockout_minutes` (exact across replicas with the
//!   shared limiter). Test: `tests/tests/zero_trust.rs`
//!   `a_locked_certificate_answers_like_a_wrong_signature_for_known_and_unknown_accounts`.
//! - *Enumerating accounts*: the key, the counting, the delays and the answers are the same
//!   whether or not an account holds the credential (same test).
//! - *Locking a citizen out*: certificates are public (one travels with every signature),
//!   so anyone holding a citizen's certificate can keep its signed-challenge login locked
//!   with one bad signature per `lockout_minutes / login_failures_before_lockout`. Accepted:
//!   the lock is per credential and short, the citizen's other methods stay open (mutual
//!   TLS with the same certificate proves the key in the handshake and is not locked), and
//!   the failures raise the risk of whoever signs in with that credential next, which the
//!   security team sees.

use std::time::{Duration, Instant};

use super::{Broker, Visitor};
use crate::audit::event::{AccessRecord, Kind};
use crate::crypto;
use crate::error::OAuthError;

/// The most a failed attempt waits, in multiples of the configured delay.
const MAX_DELAY_FACTOR: u32 = 32;

/// An attempt under way: admitted by the limits, to be settled once its proof is checked.
pub struct Attempt {
    key: String,
    arrived: Instant,
    method: String,
    address: Option<std::net::IpAddr>,
}

/// How a credential's proof came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The proof holds.
    Holds,
    /// A wrong proof (signature, assertion): counts toward the lockout.
    Wrong,
    /// Refused for another reason the presenter cannot change by retrying (an expired or
    /// revoked certificate): not counted.
    Refused,
}

/// What to do with a settled attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Go on; `recent_failures` at this credential went before (a risk signal).
    Admitted { recent_failures: u32 },
    /// Answer with the method's wrong-proof page: a wrong proof, or a locked credential.
    Refused,
    /// Answer with the refusal's own page.
    Explained,
}

/// Admit an attempt of `method` at `credential` (a certificate, a credential id), or say how
/// long to wait (429): per method from everyone, and per credential.
pub async fn begin(
    ctx: &Broker<'_>,
    method: &str,
    credential: &[u8],
    visitor: &Visitor<'_>,
) -> Result<Attempt, Duration> {
    let arrived = Instant::now();
    admit_method(ctx, method).await?;
    let budgets = ctx.op.budgets;
    let now = ctx.op.clock.since_epoch();
    let key = crypto::b64(&crypto::hmac_sha256(
        &ctx.op.secrets.attempts,
        &[method.as_bytes(), credential],
    ));
    if let Some(wait) = budgets.login_per_account.take(&key, now).await {
        return Err(wait);
    }
    Ok(Attempt {
        key,
        arrived,
        method: method.to_owned(),
        address: visitor.address.as_deref().and_then(|a| a.parse().ok()),
    })
}

/// Admit one more login with `method` from everyone together, or say how long to wait.
pub async fn admit_method(ctx: &Broker<'_>, method: &str) -> Result<(), Duration> {
    let now = ctx.op.clock.since_epoch();
    match ctx.op.budgets.login_per_method.take(method, now).await {
        Some(wait) => Err(wait),
        None => Ok(()),
    }
}

impl Attempt {
    /// Settle the attempt once its proof was checked: count a wrong proof, refuse any proof
    /// of a locked credential, and answer refusals no sooner than the delay their count
    /// calls for. A refusal is a failed login in the access record (who tried is unknown:
    /// the credential may belong to nobody).
    pub async fn settle(self, ctx: &Broker<'_>, proof: Proof) -> Result<Settled, OAuthError> {
        let failures = &ctx.op.budgets.login_failures;
        let now = ctx.op.clock.since_epoch();
        let locked = failures.exhausted(&self.key, now).await;
        let settled = match proof {
            Proof::Holds if !locked => {
                let recent_failures = failures.spent(&self.key, now).await;
                return Ok(Settled::Admitted { recent_failures });
            }
            Proof::Wrong => {
                // Refused when already locked: a locked credential's debt does not grow.
                let _ = failures.take(&self.key, now).await;
                Settled::Refused
            }
            Proof::Holds => Settled::Refused,
            Proof::Refused if locked => Settled::Refused,
            Proof::Refused => Settled::Explained,
        };
        ctx.op
            .record(vec![AccessRecord {
                source_ip: self.address,
                method: Some(self.method.clone()),
                ..AccessRecord::own(Kind::Login, "login", "failure", ctx.op.now_ms())
            }])
            .await?;
        let spent = failures.spent(&self.key, now).await;
        tokio::time::sleep_until(
            (self.arrived + delay(ctx.op.budgets.failure_delay, spent)).into(),
        )
        .await;
        Ok(settled)
    }
}

/// How long a refused attempt takes to answer, after `failures` recent failures at its
/// credential: the base delay for the first two, then doubling.
pub fn delay(base: Duration, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(2).min(MAX_DELAY_FACTOR.ilog2());
    base * (1 << doublings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_wait_the_base_delay_then_twice_as_long_with_each_failure_up_to_a_cap() {
        let base = Duration::from_millis(250);
        let waits: Vec<u64> = (0..10).map(|n| delay(base, n).as_millis() as u64).collect();
        assert_eq!(
            waits,
            [250, 250, 250, 500, 1000, 2000, 4000, 8000, 8000, 8000]
        );
    }
}
