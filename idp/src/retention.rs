//! Retention (issue 14): what Any-ID keeps about citizens goes when it has served its
//! purpose, by the periods in `[retention]`. Run with the periodic purge; every step is
//! idempotent, so a failed sweep is simply retried on the next tick.

use std::net::IpAddr;

use crate::clock::UnixTime;
use crate::config::RetentionConfig;
use crate::store::{AccountStore, AuditStore, DecisionStore, RetentionStore, SqlStore, StoreError};

const DAY_S: i64 = 24 * 3600;

/// What one sweep removed or cut.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub login_events: u64,
    pub addresses_truncated: u64,
    pub grants: u64,
    pub consents: u64,
    pub passkey_events: u64,
    pub dormant_accounts: u64,
    pub decisions: u64,
    /// Forgotten devices and expired alerts.
    pub risk_records: u64,
    /// Access-record events past their retention (`store::AuditStore::prune_audit`).
    pub access_records: u64,
}

impl Swept {
    pub fn any(&self) -> bool {
        *self != Self::default()
    }
}

/// The instant `days` before `now`; `None` when `days` is 0 (kept without limit).
fn cutoff(now: UnixTime, days: u32) -> Option<UnixTime> {
    (days > 0).then(|| now - i64::from(days) * DAY_S)
}

/// An address cut to its network: an IPv4 /24 or an IPv6 /48, in CIDR notation; enough to
/// tell a citizen "from your office network" without pointing at one device.
pub fn truncate_address(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
        // Not an address: keep nothing of it.
        Err(_) => "-/0".to_owned(),
    }
}

/// Remove and cut what the configured periods say has been kept long enough.
pub async fn sweep(
    store: &SqlStore,
    config: &RetentionConfig,
    now: UnixTime,
) -> Result<Swept, StoreError> {
    let mut swept = Swept::default();
    if let Some(before) = cutoff(now, config.login_history_days) {
        swept.login_events = store.delete_login_events_before(before).await?;
    }
    if let Some(before) = cutoff(now, config.login_address_days) {
        loop {
            let batch = store.untruncated_addresses_before(before, 500).await?;
            if batch.is_empty() {
                break;
            }
            for (id, address) in &batch {
                store
                    .set_login_address(id, &truncate_address(address))
                    .await?;
            }
            swept.addresses_truncated += batch.len() as u64;
        }
    }
    if let Some(before) = cutoff(now, config.ended_grant_days) {
        swept.grants = store.delete_ended_grants_before(before).await?;
    }
    if let Some(before) = cutoff(now, config.consent_days) {
        swept.consents = store.expire_consents_before(before, now).await?;
    }
    if let Some(before) = cutoff(now, config.removed_passkey_days) {
        swept.passkey_events = store.delete_removed_passkey_events_before(before).await?;
    }
    if let Some(before) = cutoff(now, config.dormant_account_days) {
        loop {
            let batch = store.dormant_citizens(before, 500).await?;
            if batch.is_empty() {
                break;
            }
            for id in &batch {
                store.delete_citizen(id).await?;
            }
            swept.dormant_accounts += batch.len() as u64;
        }
    }
    swept.risk_records = store
        .forget_risk_before(
            cutoff(now, config.known_device_days),
            cutoff(now, config.risk_alert_days),
        )
        .await?;
    if let Some(before) = cutoff(now, config.decision_log_days) {
        swept.decisions = store.delete_decisions_before(before).await?;
    }
    if let Some(before) = cutoff(now, config.access_record_days) {
        swept.access_records = store.prune_audit(before.saturating_mul(1000)).await?;
    }
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_cut_to_their_network() {
        assert_eq!(truncate_address("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(
            truncate_address("2001:db8:85a3:8d3:1319:8a2e:370:7348"),
            "2001:db8:85a3::/48"
        );
        assert_eq!(truncate_address("not an address"), "-/0");
        // A cut address is left alone by the store query (it holds a '/').
        assert!(truncate_address("10.1.2.3").contains('/'));
    }

    #[test]
    fn zero_days_means_no_limit() {
        assert_eq!(cutoff(1_000_000, 0), None);
        assert_eq!(cutoff(1_000_000, 1), Some(1_000_000 - DAY_S));
    }
}
