//! Risk, measured (DESIGN §6, issue 9; the scoring is `anyid_policy::risk`). At every login
//! the signals are read: a device cookie the citizen has not signed in from, an address
//! outside the networks of their recent logins, travel between this login and the previous
//! one faster than an airliner (when a GeoIP database is configured). The session keeps the
//! score; it decays, alerts raise it, and every token and claims decision reads it as
//! `context.risk`. Alerts against officials raise their risk for AuthZEN decisions.
//!
//! The device cookie is a random value; the server keeps only a keyed hash of it together
//! with the citizen id, so the table cannot follow one device across citizens.

use std::net::IpAddr;
use std::path::Path;

use anyid_policy::risk::{self, Signals};

use crate::clock::UnixTime;
use crate::crypto::{self, PurposeKeys};
use crate::store::{AccountStore, RiskStore, SqlStore, StoreError};

/// The device cookie (`__Host-` over https): a random value, kept 400 days (browsers' cap).
pub fn device_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-anyid_device"
    } else {
        "anyid_device"
    }
}

pub const DEVICE_MAX_AGE_S: i64 = 400 * 24 * 3600;

/// How far back login history counts as the citizen's usual networks.
const NETWORK_MEMORY: i64 = 50;

/// How long alerts count (they have long decayed by then).
pub const ALERT_MEMORY_S: i64 = 7 * 24 * 3600;

/// A GeoIP database in MaxMind DB format (GeoLite2/GeoIP2 City, or an operator's own
/// network table with `location.latitude` and `location.longitude`).
pub struct GeoIp(maxminddb::Reader<Vec<u8>>);

impl GeoIp {
    pub fn open(path: &Path) -> Result<Self, maxminddb::MaxMindDbError> {
        maxminddb::Reader::open_readfile(path).map(Self)
    }

    /// Where `address` is, as (latitude, longitude), if the database knows.
    pub fn locate(&self, address: IpAddr) -> Option<(f64, f64)> {
        use maxminddb::PathElement::Key;
        let found = self.0.lookup(address).ok()?;
        let lat: f64 = found
            .decode_path(&[Key("location"), Key("latitude")])
            .ok()??;
        let lon: f64 = found
            .decode_path(&[Key("location"), Key("longitude")])
            .ok()??;
        Some((lat, lon))
    }
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GeoIp")
    }
}

/// The network an address belongs to for comparison: its IPv4 /24 or IPv6 /48, the form
/// login history keeps once addresses are cut (`retention::truncate_address`).
fn network(address: &str) -> Option<String> {
    if address.contains('/') {
        return Some(address.to_owned());
    }
    address
        .parse::<IpAddr>()
        .ok()
        .map(|a| crate::retention::truncate_address(&a.to_string()))
}

/// The keyed hash a device cookie is stored under, for one citizen.
fn device_hash(keys: &PurposeKeys, citizen_id: &str, device: &str) -> Vec<u8> {
    crypto::hmac_sha256(&keys.devices, &[citizen_id.as_bytes(), device.as_bytes()])
}

/// Measure a login's signals against the citizen's history (before this login is recorded)
/// and note the device as theirs.
pub async fn assess_login(
    store: &SqlStore,
    keys: &PurposeKeys,
    geoip: Option<&GeoIp>,
    citizen_id: &str,
    address: Option<&str>,
    device: Option<&str>,
    now: UnixTime,
) -> Result<Signals, StoreError> {
    let history = store.login_events(citizen_id, NETWORK_MEMORY).await?;
    let mut signals = Signals::default();
    if let Some(device) = device {
        let known = store
            .see_device(citizen_id, &device_hash(keys, citizen_id, device), now)
            .await?;
        // A citizen's first login has nothing to compare with.
        signals.new_device = !known && !history.is_empty();
    }
    if let Some(here) = address.and_then(network) {
        let usual = history
            .iter()
            .filter_map(|e| e.address.as_deref().and_then(network));
        signals.new_network = !history.is_empty() && !usual.clone().any(|n| n == here);
    }
    if let (Some(geoip), Some(address), Some(previous)) = (
        geoip,
        address.and_then(|a| a.parse::<IpAddr>().ok()),
        history.first(),
    ) && let (Some(here), Some(there)) = (
        geoip.locate(address),
        previous
            .address
            .as_deref()
            .and_then(|a| a.parse::<IpAddr>().ok())
            .and_then(|a| geoip.locate(a)),
    ) {
        signals.travel_kmh = Some(risk::travel_kmh(there, here, now - previous.at));
    }
    Ok(signals)
}

/// A session's risk now: its score decayed since it was set.
pub fn session_risk(stored: Option<(i64, i64)>, now: UnixTime) -> u8 {
    stored.map_or(0, |(score, at)| {
        risk::decayed(u8::try_from(score.clamp(0, 100)).unwrap_or(100), now - at)
    })
}

/// An alert against an actor: `citizen:<account id>` or `official:<id>`, with a score
/// (1-100) and what it is about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    pub actor: String,
    pub score: u8,
    pub reason: String,
}

impl Alert {
    /// An actor of a known kind, a score of 1-100 and a reason; otherwise why not.
    pub fn check(&self) -> Result<(), &'static str> {
        let actor_ok = self
            .actor
            .strip_prefix("citizen:")
            .is_some_and(|c| !c.is_empty())
            || self
                .actor
                .strip_prefix("official:")
                .is_some_and(|o| o.contains('@'));
        if actor_ok && (1..=100).contains(&self.score) && !self.reason.trim().is_empty() {
            Ok(())
        } else {
            Err(
                "an alert needs an actor (citizen:<account id> or official:<id>@<agency>), a \
                 score of 1-100 and a reason",
            )
        }
    }
}

/// What the security team sees of an actor's risk: the score from alerts, each live
/// session's score now and why (citizens), and the alerts.
#[derive(Debug, serde::Serialize)]
pub struct RiskReport {
    pub actor: String,
    pub risk: u8,
    pub sessions: Vec<SessionReport>,
    pub alerts: Vec<AlertReport>,
}

#[derive(Debug, serde::Serialize)]
pub struct SessionReport {
    pub session: String,
    pub risk: u8,
    pub signals: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct AlertReport {
    pub score: u8,
    pub reason: String,
    pub at: UnixTime,
}

/// The report on `actor`; its sessions when it is a citizen (`citizen:<account id>`).
pub async fn report(
    store: &SqlStore,
    actor: &str,
    now: UnixTime,
) -> Result<RiskReport, StoreError> {
    let sessions = match actor.strip_prefix("citizen:") {
        Some(citizen) => store
            .session_risks(citizen, now)
            .await?
            .into_iter()
            .map(|s| SessionReport {
                risk: session_risk(Some((i64::from(s.risk), s.at)), now),
                session: s.session_id,
                signals: s.signals,
            })
            .collect(),
        None => Vec::new(),
    };
    let alerts = store
        .alerts_of(actor, now - ALERT_MEMORY_S)
        .await?
        .into_iter()
        .map(|(score, reason, at)| AlertReport { score, reason, at })
        .collect();
    Ok(RiskReport {
        actor: actor.to_owned(),
        risk: actor_risk(store, actor, now).await?,
        sessions,
        alerts,
    })
}

/// Where alerts go: the security team's API today, the anomaly detectors (issue 11) next.
/// Raising one makes the actor's next decisions see the higher risk.
#[allow(async_fn_in_trait)]
pub trait AlertSink {
    async fn raise(&self, alert: &Alert, now: UnixTime) -> Result<(), StoreError>;
}

impl AlertSink for SqlStore {
    async fn raise(&self, alert: &Alert, now: UnixTime) -> Result<(), StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        self.record_alert(&id, &alert.actor, alert.score, &alert.reason, now)
            .await?;
        // A citizen's live sessions carry the alert at once: their token and claims
        // decisions read only the session.
        if let Some(citizen) = alert.actor.strip_prefix("citizen:") {
            for s in self.session_risks(citizen, now).await? {
                let raised = risk::combined([
                    session_risk(Some((i64::from(s.risk), s.at)), now),
                    alert.score,
                ]);
                let mut signals = s.signals.clone();
                if !signals.iter().any(|n| n == "alert") {
                    signals.push("alert".into());
                }
                self.set_session_risk(&s.session_id, raised, now, &signals)
                    .await?;
            }
        }
        Ok(())
    }
}

/// [`actor_risk`], as read a moment ago (`cache`): the request path's form.
pub async fn recent_actor_risk(
    store: &SqlStore,
    recent: &crate::cache::Recents,
    actor: &str,
    now: UnixTime,
) -> Result<u8, StoreError> {
    let changes = store.changes().alerts();
    if let Some(risk) = recent.risks.get(&actor.to_owned(), changes) {
        return Ok(risk);
    }
    let risk = actor_risk(store, actor, now).await?;
    recent.risks.put(actor.to_owned(), risk, changes);
    Ok(risk)
}

/// An actor's risk from the alerts raised against them, each decayed since it was raised.
pub async fn actor_risk(store: &SqlStore, actor: &str, now: UnixTime) -> Result<u8, StoreError> {
    let alerts = store.alerts_of(actor, now - ALERT_MEMORY_S).await?;
    Ok(risk::combined(
        alerts
            .iter()
            .map(|(score, _, at)| risk::decayed(*score, now - at)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_compare_cut_and_whole_addresses_alike() {
        assert_eq!(network("203.0.113.77").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(network("203.0.113.0/24").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(network("nonsense"), None);
    }

    #[test]
    fn alerts_name_a_known_kind_of_actor_with_a_score_and_a_reason() {
        let alert = |actor: &str, score: u8, reason: &str| Alert {
            actor: actor.into(),
            score,
            reason: reason.into(),
        };
        assert!(alert("citizen:c-1", 50, "takeover").check().is_ok());
        assert!(alert("official:kim@mapo-gu", 100, "bulk").check().is_ok());
        assert!(alert("citizen:", 50, "x").check().is_err());
        assert!(alert("official:kim", 50, "x").check().is_err(), "no agency");
        assert!(alert("visitor:x", 50, "x").check().is_err());
        assert!(alert("citizen:c-1", 0, "x").check().is_err());
        assert!(alert("citizen:c-1", 101, "x").check().is_err());
        assert!(alert("citizen:c-1", 50, "  ").check().is_err());
    }

    #[test]
    fn a_session_risk_decays_from_when_it_was_set() {
        assert_eq!(session_risk(None, 100), 0);
        assert_eq!(session_risk(Some((80, 0)), 0), 80);
        assert_eq!(session_risk(Some((80, 0)), risk::HALF_LIFE_S), 40);
        assert_eq!(session_risk(Some((900, 0)), 0), 100);
    }
}
