//! The AuthZEN decision API for relying parties' back offices (OpenID AuthZEN Authorization
//! API 1.0): an official asks whether they may look at a citizen's record. Each evaluation
//! becomes a policy request (`access_personal_data`) and a personal-data access event, which
//! is stored before the answer leaves: no record, no permit.
//!
//! Shapes (§5): `subject` `{"type": "official", "id", "properties": {"role", "on_duty",
//! "citizen", "household"}}`, `action` `{"name": "view" | "create" | "update" | "delete" |
//! "print" | "download"}`, `resource` `{"type": "citizen_record", "id": <the citizen as the
//! relying party knows them>, "properties": {"region", "household", "data_categories"}}`,
//! `context` `{"purpose", "case_id", "ip", "reason", "record_count"}`. The official's agency
//! is the one the calling relying party is registered with, never what the request says.
//! A decision that is not "allow" is HTTP 200 with `"decision": false` (§7).

use std::net::IpAddr;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use anyid_policy::facts::{Context as PolicyContext, Official, Record};
use anyid_policy::{Action, Decision, Principal, Request as PolicyRequest, Resource};

use crate::audit::event::{AccessRecord, Kind};
use crate::oidc::Provider;
use crate::store::ClientRecord;

/// Operations on a record, as access records name them.
pub const OPERATIONS: [&str; 6] = ["view", "create", "update", "delete", "print", "download"];

/// At most this many evaluations in one `evaluations` request.
pub const MAX_EVALUATIONS: usize = 100;

/// An entity of the request (§5.1-5.3): `type`/`id` or `name`, and properties.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Entity {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub properties: Map<String, Value>,
}

/// One access evaluation request (§6), or one item of `evaluations` (§7), where every part
/// may come from the request's defaults.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Evaluation {
    #[serde(default)]
    pub subject: Option<Entity>,
    #[serde(default)]
    pub action: Option<Entity>,
    #[serde(default)]
    pub resource: Option<Entity>,
    #[serde(default)]
    pub context: Option<Map<String, Value>>,
}

/// The batch request (§7): defaults, the evaluations, and options.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Evaluations {
    #[serde(flatten)]
    pub defaults: Evaluation,
    #[serde(default)]
    pub evaluations: Option<Vec<Evaluation>>,
    #[serde(default)]
    pub options: Map<String, Value>,
}

/// §7.1.2: how a batch is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Semantic {
    ExecuteAll,
    DenyOnFirstDeny,
    PermitOnFirstPermit,
}

impl Semantic {
    pub fn from_options(options: &Map<String, Value>) -> Result<Self, String> {
        match options.get("evaluations_semantic").map(Value::as_str) {
            None | Some(Some("execute_all")) => Ok(Self::ExecuteAll),
            Some(Some("deny_on_first_deny")) => Ok(Self::DenyOnFirstDeny),
            Some(Some("permit_on_first_permit")) => Ok(Self::PermitOnFirstPermit),
            _ => Err(
                "options.evaluations_semantic must be execute_all, deny_on_first_deny \
                      or permit_on_first_permit"
                    .into(),
            ),
        }
    }
}

/// An answer (§6.2): the decision and, for a denial, why.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub decision: bool,
    pub context: Option<Value>,
}

impl Answer {
    pub fn to_json(&self) -> Value {
        let mut out = json!({ "decision": self.decision });
        if let (Some(context), Some(map)) = (&self.context, out.as_object_mut()) {
            map.insert("context".into(), context.clone());
        }
        out
    }

    fn error(status: u16, message: impl Into<String>) -> Self {
        Self {
            decision: false,
            context: Some(json!({ "error": { "status": status, "message": message.into() } })),
        }
    }
}

/// Who is asking: an authenticated relying party holding the `authzen` scope.
pub struct Caller {
    pub client: Arc<ClientRecord>,
    /// Where the call came from (the back office).
    pub address: IpAddr,
}

/// What the API works with.
pub struct Pdp<'a> {
    pub op: Provider<'a>,
}

impl Pdp<'_> {
    /// Evaluate one request.
    pub async fn evaluate(&self, caller: &Caller, request: &Evaluation) -> Answer {
        let (mut facts, event) = match self.facts(caller, request) {
            Ok(parsed) => parsed,
            Err(message) => return Answer::error(400, message),
        };
        // Alerts raised against this official (the security team, the detectors).
        let actor = format!(
            "official:{}@{}",
            event.actor_id.as_deref().unwrap_or_default(),
            event.actor_agency.as_deref().unwrap_or_default()
        );
        facts.context.risk = match crate::risk::recent_actor_risk(
            self.op.store,
            self.op.recent,
            &actor,
            self.op.now(),
        )
        .await
        {
            Ok(risk) => risk,
            Err(e) => {
                tracing::error!(cause = %e, "an official's risk could not be read; denying");
                return Answer::error(500, "the request could not be evaluated; try again");
            }
        };
        let outcome = self.op.decide_outcome(&facts);
        let decision = outcome.decision == Decision::Allow;
        let event = AccessRecord {
            outcome: if decision { "success" } else { "denied" }.into(),
            policies: outcome.policies.clone(),
            ..event
        };
        // Recorded before answering; without the record, no permit (fail closed).
        if let Err(e) = self.op.record(vec![event]).await {
            tracing::error!(cause = %e, "a personal-data access event was not recorded; denying");
            return Answer::error(500, "the access could not be recorded; try again");
        }
        if decision {
            return Answer {
                decision,
                context: None,
            };
        }
        let mut context = json!({ "reason": outcome.reasons.first().cloned().unwrap_or_default() });
        if let (Decision::StepUp(level), Some(map)) = (outcome.decision, context.as_object_mut()) {
            map.insert("acr_values".into(), level.acr().into());
        }
        Answer {
            decision,
            context: Some(context),
        }
    }

    /// Answer an `evaluations` request (§7): without evaluations, the single evaluation of
    /// its own tuple; otherwise `{"evaluations": [...]}` in request order, stopping where
    /// the semantic says (§7.1.2). An error is for the request as a whole.
    pub async fn evaluations(
        &self,
        caller: &Caller,
        request: &Evaluations,
    ) -> Result<Value, String> {
        let semantic = Semantic::from_options(&request.options)?;
        let items = request.evaluations.as_deref().unwrap_or_default();
        if items.is_empty() {
            return Ok(self.evaluate(caller, &request.defaults).await.to_json());
        }
        if items.len() > MAX_EVALUATIONS {
            return Err(format!("at most {MAX_EVALUATIONS} evaluations per request"));
        }
        let mut answers = Vec::with_capacity(items.len());
        for item in items {
            let merged = merge(&request.defaults, item);
            let answer = self.evaluate(caller, &merged).await;
            let stop = match semantic {
                Semantic::ExecuteAll => false,
                Semantic::DenyOnFirstDeny => !answer.decision,
                Semantic::PermitOnFirstPermit => answer.decision,
            };
            answers.push(answer.to_json());
            if stop {
                break;
            }
        }
        Ok(json!({ "evaluations": answers }))
    }

    /// The policy request and the access event (without its decision) for `request`.
    fn facts(
        &self,
        caller: &Caller,
        request: &Evaluation,
    ) -> Result<(PolicyRequest, AccessRecord), String> {
        let subject = request.subject.as_ref().ok_or("subject is required")?;
        let action = request.action.as_ref().ok_or("action is required")?;
        let resource = request.resource.as_ref().ok_or("resource is required")?;
        if subject.kind.as_deref() != Some("official") {
            return Err("subject.type must be \"official\"".into());
        }
        if resource.kind.as_deref() != Some("citizen_record") {
            return Err("resource.type must be \"citizen_record\"".into());
        }
        let actor = non_empty(subject.id.as_deref()).ok_or("subject.id is required")?;
        let whose = non_empty(resource.id.as_deref()).ok_or("resource.id is required")?;
        let operation = action.name.as_deref().ok_or("action.name is required")?;
        if !OPERATIONS.contains(&operation) {
            return Err(format!(
                "action.name must be one of {}",
                OPERATIONS.join(", ")
            ));
        }
        let context = request.context.clone().unwrap_or_default();
        let text = |map: &Map<String, Value>, key: &str| -> Result<Option<String>, String> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(non_empty(Some(s)).map(str::to_owned)),
                Some(_) => Err(format!("{key} must be a string")),
            }
        };
        let role = text(&subject.properties, "role")?.unwrap_or_default();
        let on_duty = match subject.properties.get("on_duty") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err("subject.properties.on_duty must be true or false".into()),
        };
        let categories: Vec<String> = match resource.properties.get("data_categories") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or("resource.properties.data_categories must be a list of strings")?,
            Some(_) => return Err("resource.properties.data_categories must be a list".into()),
        };
        let ip = match text(&context, "ip")? {
            Some(ip) => Some(
                ip.parse::<IpAddr>()
                    .map_err(|_| "context.ip is not an address")?,
            ),
            None => None,
        };
        let purpose = text(&context, "purpose")?;
        let case_id = text(&context, "case_id")?;
        // The agency the relying party is registered with, as configured.
        let agency = self
            .op
            .policy
            .agency(caller.client.agency.as_deref().unwrap_or_default());
        let facts = PolicyRequest {
            principal: Principal::Official(Official {
                id: actor.to_owned(),
                agency: agency.clone(),
                role: role.clone(),
                on_duty,
                citizen: text(&subject.properties, "citizen")?,
                household: text(&subject.properties, "household")?,
            }),
            action: Action::AccessPersonalData,
            resource: Resource::CitizenRecord(Record {
                id: whose.to_owned(),
                owner: Some(whose.to_owned()),
                region: text(&resource.properties, "region")?,
                household: text(&resource.properties, "household")?,
            }),
            context: PolicyContext {
                ip: ip.or(Some(caller.address)),
                purpose: purpose.clone(),
                case_id: case_id.clone(),
                operation: Some(operation.to_owned()),
                ..PolicyContext::default()
            },
        };
        let reason = text(&context, "reason")?;
        let record_count = match context.get("record_count") {
            None | Some(Value::Null) => None,
            Some(n) => Some(n.as_u64().ok_or("context.record_count must be a count")?),
        };
        // The record of the lookup (its outcome comes with the decision), as its back office
        // would report it: the subject in the caller's namespace, so the caller is the
        // reporter.
        let mut marks = Vec::new();
        if operation == "download" && reason.is_none() {
            marks.push("download_without_reason".to_owned());
        }
        let mut data_categories = categories;
        data_categories.sort();
        data_categories.dedup();
        let event = AccessRecord {
            reporter: caller.client.id.clone(),
            actor_id: Some(actor.to_owned()),
            actor_agency: caller.client.agency.clone(),
            actor_role: non_empty(Some(&role)).map(str::to_owned),
            source_ip: Some(ip.unwrap_or(caller.address)),
            subject_id: Some(whose.to_owned()),
            data_categories,
            purpose,
            case_id,
            record_count,
            reason,
            marks,
            client_id: Some(caller.client.id.clone()),
            ..AccessRecord::own(Kind::Decision, operation, "", self.op.now_ms())
        };
        Ok((facts, event))
    }
}

/// §7.1.1: a value given in an evaluation takes precedence over the request's default.
fn merge(defaults: &Evaluation, item: &Evaluation) -> Evaluation {
    Evaluation {
        subject: item.subject.clone().or_else(|| defaults.subject.clone()),
        action: item.action.clone().or_else(|| defaults.action.clone()),
        resource: item.resource.clone().or_else(|| defaults.resource.clone()),
        context: item.context.clone().or_else(|| defaults.context.clone()),
    }
}

fn non_empty(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_semantics_are_read_from_the_options() {
        let options = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(
            Semantic::from_options(&Map::new()),
            Ok(Semantic::ExecuteAll)
        );
        assert_eq!(
            Semantic::from_options(&options(
                json!({"evaluations_semantic": "deny_on_first_deny"})
            )),
            Ok(Semantic::DenyOnFirstDeny)
        );
        assert_eq!(
            Semantic::from_options(&options(
                json!({"evaluations_semantic": "permit_on_first_permit", "other": 1})
            )),
            Ok(Semantic::PermitOnFirstPermit)
        );
        assert!(Semantic::from_options(&options(json!({"evaluations_semantic": "all"}))).is_err());
    }

    #[test]
    fn an_evaluation_takes_the_defaults_it_does_not_override() {
        let defaults: Evaluation = serde_json::from_value(json!({
            "subject": {"type": "official", "id": "kim"},
            "action": {"name": "view"},
            "context": {"purpose": "audit"}
        }))
        .unwrap_or_default();
        let item: Evaluation = serde_json::from_value(json!({
            "action": {"name": "download"},
            "resource": {"type": "citizen_record", "id": "c-1"}
        }))
        .unwrap_or_default();
        let merged = merge(&defaults, &item);
        assert_eq!(merged.subject.and_then(|s| s.id).as_deref(), Some("kim"));
        assert_eq!(
            merged.action.and_then(|a| a.name).as_deref(),
            Some("download")
        );
        assert_eq!(merged.resource.and_then(|r| r.id).as_deref(), Some("c-1"));
        assert!(merged.context.is_some_and(|c| c.contains_key("purpose")));
    }
}
