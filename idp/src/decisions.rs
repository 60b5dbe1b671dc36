//! The decision log (DESIGN §6): every policy decision (allow, deny, step-up) with a summary
//! of the request, the policies that determined it and what they mean; no secrets, no claim
//! values. Citizens appear under a pseudonym (a keyed hash of their account id): one
//! citizen's decisions can be followed, an operator who knows the account id can find them
//! ([`pseudonym`]), and once the account is deleted nothing links them to anyone. Written in group commits off the request path: a decision is made synchronously
//! and must not wait for storage. When the queue is full (storage far behind), the record is
//! dropped and counted (`anyid_decisions_dropped_total`) and a warning logged, never lost
//! without a trace.

use anyid_policy::facts::{Principal, Resource};
use anyid_policy::{Decision, Outcome, Request};
use serde::Serialize;

use crate::batch::GroupWriter;
use crate::clock::UnixTime;

/// One logged decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionRecord {
    pub id: String,
    pub at: UnixTime,
    /// The Cedar action (`issue_token`, `login`, …).
    pub action: String,
    /// `allow`, `deny` or `step_up`.
    pub decision: String,
    /// For a step-up, the level asked for; for a denial, why (`forbidden`, `throttled`, …).
    pub detail: Option<String>,
    /// `citizen:<pseudonym>`, `official:<id>@<agency>`, `client:<id>`, `operator:<id>`,
    /// `visitor`.
    pub principal: String,
    /// `client:<id>`, `citizen_record:<pseudonym>`, `claim_set:<client id>`, `console`.
    pub resource: String,
    pub zone: String,
    pub policies: Vec<String>,
    pub reasons: Vec<String>,
}

/// The decision log's name for a citizen.
pub fn pseudonym(keys: &crate::crypto::PurposeKeys, citizen_id: &str) -> String {
    let mac = crate::crypto::hmac_sha256(&keys.log_pseudonyms, &[citizen_id.as_bytes()]);
    crate::crypto::b64(&mac[..16])
}

impl DecisionRecord {
    pub fn new(
        request: &Request,
        outcome: &Outcome,
        id: String,
        at: UnixTime,
        keys: &crate::crypto::PurposeKeys,
    ) -> Self {
        let citizen = |id: &str| pseudonym(keys, id);
        let (decision, detail) = match &outcome.decision {
            Decision::Allow => ("allow", None),
            Decision::StepUp(level) => ("step_up", Some(level.name().to_owned())),
            Decision::Deny(reason) => (
                "deny",
                serde_json::to_value(reason).ok().map(|v| match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Object(o) => o.keys().next().cloned().unwrap_or_default(),
                    other => other.to_string(),
                }),
            ),
        };
        Self {
            id,
            at,
            action: request.action.cedar_name().to_owned(),
            decision: decision.to_owned(),
            detail,
            principal: match &request.principal {
                Principal::Visitor => "visitor".to_owned(),
                Principal::Citizen { id } => format!("citizen:{}", citizen(id)),
                Principal::Official(o) => format!("official:{}@{}", o.id, o.agency.id),
                Principal::Client { id } => format!("client:{id}"),
                Principal::Operator { id } => format!("operator:{id}"),
            },
            resource: match &request.resource {
                Resource::Client(c) => format!("client:{}", c.id),
                Resource::CitizenRecord(r) => format!("citizen_record:{}", citizen(&r.id)),
                Resource::ClaimSet { client, .. } => format!("claim_set:{}", client.id),
                Resource::Console => "console".to_owned(),
            },
            zone: outcome.zone.clone(),
            policies: outcome.policies.clone(),
            reasons: outcome.reasons.clone(),
        }
    }
}

/// Which decisions to list, newest first.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecisionQuery {
    pub action: Option<String>,
    pub decision: Option<String>,
    pub principal: Option<String>,
    /// A citizen's account id: their decisions (looked up by pseudonym).
    pub citizen: Option<String>,
    /// Unix seconds: only decisions at or after it.
    pub since: Option<UnixTime>,
    /// Only decisions before this Unix second (paging back).
    pub before: Option<UnixTime>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

impl DecisionQuery {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(100).clamp(1, 1000)
    }
}

/// Where decisions are sent to be stored.
#[derive(Clone)]
pub struct DecisionLog {
    writer: GroupWriter<DecisionRecord>,
    metrics: crate::telemetry::Metrics,
}

impl DecisionLog {
    pub fn new(writer: GroupWriter<DecisionRecord>, metrics: crate::telemetry::Metrics) -> Self {
        Self { writer, metrics }
    }

    /// Queue a record without waiting (see the module's note on a full queue).
    pub fn record(&self, record: DecisionRecord) {
        if !self.writer.offer(record) {
            self.metrics.decision_dropped();
            tracing::warn!("the decision log is behind; a decision record was dropped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyid_policy::facts::{ClientFacts, Context};
    use anyid_policy::{Action, Loa, Reason};

    #[test]
    fn a_record_names_the_request_and_its_outcome_without_context_values() {
        let request = Request {
            principal: Principal::Citizen { id: "c-1".into() },
            action: Action::IssueToken,
            resource: Resource::Client(ClientFacts {
                id: "tax".into(),
                ..ClientFacts::default()
            }),
            context: Context {
                ip: Some("203.0.113.9".parse().unwrap()),
                ..Context::default()
            },
        };
        let outcome = Outcome {
            decision: Decision::StepUp(Loa::High),
            policies: vec!["sensitive-client-tokens-require-high".into()],
            reasons: vec!["tokens for a sensitive service need a high-assurance login".into()],
            zone: "internet".into(),
            time: anyid_policy::calendar::LocalTime {
                hour: 10,
                minute: 0,
                weekday: 1,
                working_day: true,
                working_hours: true,
            },
        };
        let keys = crate::crypto::PurposeKeys::derive(b"k", None);
        let r = DecisionRecord::new(&request, &outcome, "d-1".into(), 7, &keys);
        assert_eq!(r.action, "issue_token");
        assert_eq!(r.decision, "step_up");
        assert_eq!(r.detail.as_deref(), Some("high"));
        assert_eq!(r.principal, format!("citizen:{}", pseudonym(&keys, "c-1")));
        assert!(!r.principal.contains("c-1"));
        assert_eq!(r.resource, "client:tax");
        assert!(!serde_json::to_string(&r).unwrap().contains("203.0.113.9"));
        let denied = Outcome {
            decision: Decision::Deny(Reason::Throttled(std::time::Duration::from_secs(3))),
            ..outcome
        };
        let r = DecisionRecord::new(&request, &denied, "d-2".into(), 7, &keys);
        assert_eq!(
            (r.decision.as_str(), r.detail.as_deref()),
            ("deny", Some("throttled"))
        );
    }
}
