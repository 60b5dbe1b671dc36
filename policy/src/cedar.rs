//! The Cedar policy set (DESIGN §6): loading and validating it against Any-ID's schema, and
//! asking it about one request.
//!
//! Each policy names itself with `@id` and says what it means with `@reason`; a `forbid`
//! may carry `@step_up("high")` (a login at that level lifts it). Loading refuses a set that
//! does not parse, lacks or repeats an id, or does not validate against the schema in strict
//! mode, so a policy can never meet a request of a type it did not expect (Cedar skips a
//! policy whose evaluation errs, which for a `forbid` would fail open).

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context as CedarContext, Effect, Entities, Entity, EntityId, EntityTypeName,
    EntityUid, Policy, PolicyId, PolicySet as CedarPolicySet, RestrictedExpression, Schema,
    ValidationMode, Validator,
};

use crate::calendar::LocalTime;
use crate::facts::{Agency, ClientFacts, Principal, Record, Request, Resource};
use crate::loa::Loa;

/// Any-ID's schema: what `idp` sends. Operators write policies against it; they do not
/// change it.
pub const SCHEMA: &str = include_str!("../policies/schema.cedarschema");

/// The default policy set, as `(file name, text)`.
pub const DEFAULT_POLICIES: &[(&str, &str)] = &[
    ("baseline.cedar", include_str!("../policies/baseline.cedar")),
    (
        "assurance.cedar",
        include_str!("../policies/assurance.cedar"),
    ),
    (
        "personal_data.cedar",
        include_str!("../policies/personal_data.cedar"),
    ),
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoadError {
    #[error("the schema does not parse: {0}")]
    Schema(String),
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: a policy has no @id annotation")]
    MissingId { file: String },
    #[error("{file}: policy id {id:?} is used twice")]
    DuplicateId { file: String, id: String },
    #[error("{id}: @step_up must be \"low\", \"substantial\" or \"high\" on a forbid policy")]
    StepUp { id: String },
    #[error("the policies do not validate against the schema:\n{0}")]
    Invalid(String),
    #[error("no policies: at least one permit is needed, or every request is denied")]
    Empty,
}

/// What one policy means, from its annotations.
#[derive(Debug, Clone)]
pub struct PolicyInfo {
    pub reason: String,
    pub step_up: Option<Loa>,
    pub forbid: bool,
    pub file: String,
}

impl PolicyInfo {
    pub fn effect(&self) -> &'static str {
        if self.forbid { "forbid" } else { "permit" }
    }
}

/// One policy as listings show it (`anyid policy check`, the admin API).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PolicySummary<'a> {
    pub id: &'a str,
    pub effect: &'static str,
    pub file: &'a str,
    pub reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_up: Option<Loa>,
}

/// A validated policy set and the schema it was validated against.
#[derive(Debug)]
pub struct PolicySet {
    policies: CedarPolicySet,
    info: HashMap<String, PolicyInfo>,
    schema: Schema,
    names: Names,
    authorizer: Authorizer,
}

/// What Cedar answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub allowed: bool,
    /// The policies that determined it: the permits that allowed it, or the forbids that
    /// denied it (empty: nothing permitted it).
    pub determining: Vec<String>,
    /// Evaluation errors (the request is then denied: fail closed).
    pub errors: Vec<String>,
}

/// The facts the engine derives for every request.
#[derive(Debug, Clone, Copy)]
pub struct Derived<'a> {
    pub zone: &'a str,
    pub time: LocalTime,
}

impl PolicySet {
    /// The built-in default set.
    pub fn defaults() -> Result<Self, LoadError> {
        let files: Vec<(String, String)> = DEFAULT_POLICIES
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect();
        Self::load(&files)
    }

    /// Parse and validate `files` (`(name, text)`) against [`SCHEMA`].
    pub fn load(files: &[(String, String)]) -> Result<Self, LoadError> {
        let (schema, _warnings) =
            Schema::from_cedarschema_str(SCHEMA).map_err(|e| LoadError::Schema(e.to_string()))?;
        let mut policies = CedarPolicySet::new();
        let mut info = HashMap::new();
        for (file, text) in files {
            let parsed = CedarPolicySet::from_str(text).map_err(|e| LoadError::Parse {
                file: file.clone(),
                message: render(&e),
            })?;
            if parsed.templates().next().is_some() {
                return Err(LoadError::Parse {
                    file: file.clone(),
                    message: "templates are not supported; write static policies".into(),
                });
            }
            let mut in_file: Vec<&Policy> = parsed.policies().collect();
            // The parser numbers policies in file order ("policy0", "policy1", ...); the
            // set iterates in no fixed order, and messages should name the first offender.
            in_file.sort_by_key(|p| {
                let id = p.id().to_string();
                id.trim_start_matches("policy")
                    .parse::<usize>()
                    .unwrap_or(usize::MAX)
            });
            for policy in in_file {
                let id = policy
                    .annotation("id")
                    .filter(|id| !id.trim().is_empty())
                    .ok_or_else(|| LoadError::MissingId { file: file.clone() })?
                    .to_owned();
                if info.contains_key(&id) {
                    return Err(LoadError::DuplicateId {
                        file: file.clone(),
                        id,
                    });
                }
                let forbid = policy.effect() == Effect::Forbid;
                let step_up = match policy.annotation("step_up") {
                    None => None,
                    Some(level) => Some(
                        parse_level(level)
                            .filter(|_| forbid)
                            .ok_or_else(|| LoadError::StepUp { id: id.clone() })?,
                    ),
                };
                let reason = policy.annotation("reason").unwrap_or(&id).to_owned();
                policies
                    .add(policy.new_id(PolicyId::new(&id)))
                    .map_err(|e| LoadError::Parse {
                        file: file.clone(),
                        message: e.to_string(),
                    })?;
                info.insert(
                    id,
                    PolicyInfo {
                        reason,
                        step_up,
                        forbid,
                        file: file.clone(),
                    },
                );
            }
        }
        if !info.values().any(|i| !i.forbid) {
            return Err(LoadError::Empty);
        }
        let result = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        if !result.validation_passed() {
            let messages: Vec<String> = result
                .validation_errors()
                .map(|e| format!("  {}: {}", e.policy_id(), render(e)))
                .collect();
            return Err(LoadError::Invalid(messages.join("\n")));
        }
        Ok(Self {
            policies,
            info,
            schema,
            names: Names::new()?,
            authorizer: Authorizer::new(),
        })
    }

    pub fn info(&self, id: &str) -> Option<&PolicyInfo> {
        self.info.get(id)
    }

    /// The ids of the policies in the set, sorted.
    pub fn ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.info.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }

    /// The policy `id` as listings show it.
    pub fn summary<'a>(&'a self, id: &'a str) -> Option<PolicySummary<'a>> {
        self.info.get(id).map(|info| PolicySummary {
            id,
            effect: info.effect(),
            file: &info.file,
            reason: &info.reason,
            step_up: info.step_up,
        })
    }

    /// Every policy, by id.
    pub fn summaries(&self) -> Vec<PolicySummary<'_>> {
        self.ids()
            .into_iter()
            .filter_map(|id| self.summary(id))
            .collect()
    }

    /// Ask Cedar about `request`.
    pub fn authorize(&self, request: &Request, derived: Derived<'_>) -> Answer {
        match self.cedar_request(request, derived) {
            Ok((cedar, entities)) => {
                let response = self
                    .authorizer
                    .is_authorized(&cedar, &self.policies, &entities);
                let mut determining: Vec<String> = response
                    .diagnostics()
                    .reason()
                    .map(|id| id.to_string())
                    .collect();
                determining.sort_unstable();
                Answer {
                    allowed: response.decision() == cedar_policy::Decision::Allow,
                    determining,
                    errors: response
                        .diagnostics()
                        .errors()
                        .map(|e| e.to_string())
                        .collect(),
                }
            }
            Err(message) => Answer {
                allowed: false,
                determining: Vec::new(),
                errors: vec![message],
            },
        }
    }

    fn cedar_request(
        &self,
        request: &Request,
        derived: Derived<'_>,
    ) -> Result<(cedar_policy::Request, Entities), String> {
        let n = &self.names;
        let mut entities = Vec::new();
        let principal = match &request.principal {
            Principal::Visitor => n.uid(&n.visitor, "visitor"),
            Principal::Citizen { id } => n.uid(&n.citizen, id),
            Principal::Client { id } => self.client_entity(
                &mut entities,
                &ClientFacts {
                    id: id.clone(),
                    ..ClientFacts::default()
                },
            )?,
            Principal::Operator { id } => n.uid(&n.operator, id),
            Principal::Official(official) => {
                let agency = agency_entity(n, &mut entities, &official.agency)?;
                let uid = n.uid(&n.official, &official.id);
                let mut attrs = HashMap::from([
                    (
                        "agency".to_owned(),
                        RestrictedExpression::new_entity_uid(agency.clone()),
                    ),
                    ("role".to_owned(), string(&official.role)),
                    (
                        "on_duty".to_owned(),
                        RestrictedExpression::new_bool(official.on_duty),
                    ),
                ]);
                if let Some(citizen) = &official.citizen {
                    attrs.insert(
                        "citizen".into(),
                        RestrictedExpression::new_entity_uid(n.uid(&n.citizen, citizen)),
                    );
                }
                if let Some(household) = &official.household {
                    attrs.insert("household".into(), string(household));
                }
                entities.push(entity(uid.clone(), attrs, [agency])?);
                uid
            }
        };
        let resource = match &request.resource {
            Resource::Client(client) => {
                if matches!(&request.principal, Principal::Client { id } if *id == client.id) {
                    // The client asking about itself: one entity, with the resource's facts.
                    entities.retain(|e: &Entity| e.uid() != n.uid(&n.client, &client.id));
                }
                self.client_entity(&mut entities, client)?
            }
            Resource::CitizenRecord(record) => record_entity(n, &mut entities, record)?,
            Resource::ClaimSet { client, categories } => {
                let client = self.client_entity(&mut entities, client)?;
                let uid = n.uid(&n.claim_set, "claims");
                let attrs = HashMap::from([
                    (
                        "client".to_owned(),
                        RestrictedExpression::new_entity_uid(client),
                    ),
                    (
                        "categories".to_owned(),
                        RestrictedExpression::new_set(categories.iter().map(|c| string(c))),
                    ),
                ]);
                entities.push(entity(uid.clone(), attrs, [])?);
                uid
            }
            Resource::Console => n.uid(&n.console, "console"),
        };
        let context = self.context(request, derived)?;
        let action = n.action(request.action.cedar_name());
        // Requests are built from typed facts, so they fit the schema by construction; debug
        // builds (every test) check that, release builds skip the check's cost. A request
        // that did not fit would make policies err, and an error denies (fail closed).
        let schema = cfg!(debug_assertions).then_some(&self.schema);
        let cedar = cedar_policy::Request::new(principal, action, resource, context, schema)
            .map_err(|e| format!("the request does not fit the schema: {e}"))?;
        // Entities referenced but not described (a citizen, the console) need no attributes.
        let entities = Entities::from_entities(dedup(entities), schema)
            .map_err(|e| format!("the entities do not fit the schema: {e}"))?;
        Ok((cedar, entities))
    }

    fn client_entity(
        &self,
        entities: &mut Vec<Entity>,
        client: &ClientFacts,
    ) -> Result<EntityUid, String> {
        let n = &self.names;
        let uid = n.uid(&n.client, &client.id);
        let mut attrs = HashMap::from([(
            "sensitive".to_owned(),
            RestrictedExpression::new_bool(client.sensitive),
        )]);
        if let Some(agency) = &client.agency {
            let agency = agency_entity(n, entities, agency)?;
            attrs.insert(
                "agency".into(),
                RestrictedExpression::new_entity_uid(agency),
            );
        }
        entities.push(entity(uid.clone(), attrs, [])?);
        Ok(uid)
    }

    fn context(&self, request: &Request, derived: Derived<'_>) -> Result<CedarContext, String> {
        let c = &request.context;
        let time = derived.time;
        let mut pairs = vec![
            ("zone".to_owned(), string(derived.zone)),
            ("acr".to_owned(), long(c.acr.map_or(0, level_number))),
            (
                "amr".to_owned(),
                RestrictedExpression::new_set(c.amr.iter().map(|m| string(m))),
            ),
            (
                "known_device".to_owned(),
                RestrictedExpression::new_bool(c.known_device),
            ),
            ("risk".to_owned(), long(i64::from(c.risk.min(100)))),
            (
                "time".to_owned(),
                RestrictedExpression::new_record([
                    ("hour".to_owned(), long(i64::from(time.hour))),
                    ("minute".to_owned(), long(i64::from(time.minute))),
                    ("weekday".to_owned(), long(i64::from(time.weekday))),
                    (
                        "working_day".to_owned(),
                        RestrictedExpression::new_bool(time.working_day),
                    ),
                    (
                        "working_hours".to_owned(),
                        RestrictedExpression::new_bool(time.working_hours),
                    ),
                ])
                .map_err(|e| e.to_string())?,
            ),
            (
                "rate_limited".to_owned(),
                RestrictedExpression::new_bool(c.throttled.is_some()),
            ),
        ];
        if let Some(ip) = c.ip {
            pairs.push((
                "ip".to_owned(),
                RestrictedExpression::new_ip(ip.to_string()),
            ));
        }
        for (key, value) in [
            ("auth_age_s", c.auth_age_s),
            ("session_age_s", c.session_age_s),
        ] {
            if let Some(seconds) = value {
                pairs.push((
                    key.to_owned(),
                    long(i64::try_from(seconds).unwrap_or(i64::MAX)),
                ));
            }
        }
        for (key, value) in [
            ("purpose", &c.purpose),
            ("case_id", &c.case_id),
            ("operation", &c.operation),
        ] {
            if let Some(text) = value {
                pairs.push((key.to_owned(), string(text)));
            }
        }
        CedarContext::from_pairs(pairs).map_err(|e| e.to_string())
    }
}

/// Cedar entity type names, parsed once.
#[derive(Debug)]
struct Names {
    visitor: EntityTypeName,
    citizen: EntityTypeName,
    official: EntityTypeName,
    agency: EntityTypeName,
    client: EntityTypeName,
    operator: EntityTypeName,
    console: EntityTypeName,
    record: EntityTypeName,
    claim_set: EntityTypeName,
    action: EntityTypeName,
}

impl Names {
    fn new() -> Result<Self, LoadError> {
        let name = |n: &str| {
            EntityTypeName::from_str(&format!("AnyId::{n}"))
                .map_err(|e| LoadError::Schema(e.to_string()))
        };
        Ok(Self {
            visitor: name("Visitor")?,
            citizen: name("Citizen")?,
            official: name("Official")?,
            agency: name("Agency")?,
            client: name("Client")?,
            operator: name("Operator")?,
            console: name("Console")?,
            record: name("CitizenRecord")?,
            claim_set: name("ClaimSet")?,
            action: name("Action")?,
        })
    }

    fn uid(&self, ty: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
    }

    fn action(&self, name: &str) -> EntityUid {
        self.uid(&self.action, name)
    }
}

fn agency_entity(
    n: &Names,
    entities: &mut Vec<Entity>,
    agency: &Agency,
) -> Result<EntityUid, String> {
    let uid = n.uid(&n.agency, &agency.id);
    let attrs = HashMap::from([
        (
            "national".to_owned(),
            RestrictedExpression::new_bool(agency.national),
        ),
        (
            "jurisdiction".to_owned(),
            RestrictedExpression::new_set(agency.jurisdiction.iter().map(|j| string(j))),
        ),
    ]);
    entities.push(entity(uid.clone(), attrs, [])?);
    Ok(uid)
}

fn record_entity(
    n: &Names,
    entities: &mut Vec<Entity>,
    record: &Record,
) -> Result<EntityUid, String> {
    let uid = n.uid(&n.record, &record.id);
    let mut attrs = HashMap::new();
    if let Some(owner) = &record.owner {
        attrs.insert(
            "owner".to_owned(),
            RestrictedExpression::new_entity_uid(n.uid(&n.citizen, owner)),
        );
    }
    for (key, value) in [("region", &record.region), ("household", &record.household)] {
        if let Some(text) = value {
            attrs.insert(key.to_owned(), string(text));
        }
    }
    entities.push(entity(uid.clone(), attrs, [])?);
    Ok(uid)
}

/// One entity per uid: the same agency may come with the official and the client.
fn dedup(entities: Vec<Entity>) -> Vec<Entity> {
    let mut seen = HashSet::new();
    entities
        .into_iter()
        .filter(|e| seen.insert(e.uid()))
        .collect()
}

fn entity(
    uid: EntityUid,
    attrs: HashMap<String, RestrictedExpression>,
    parents: impl IntoIterator<Item = EntityUid>,
) -> Result<Entity, String> {
    Entity::new(uid, attrs, parents.into_iter().collect()).map_err(|e| e.to_string())
}

fn string(text: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(text.to_owned())
}

fn long(n: i64) -> RestrictedExpression {
    RestrictedExpression::new_long(n)
}

/// Levels as the schema numbers them: 1 low, 2 substantial, 3 high (0 is none).
pub fn level_number(level: Loa) -> i64 {
    match level {
        Loa::Low => 1,
        Loa::Substantial => 2,
        Loa::High => 3,
    }
}

fn parse_level(text: &str) -> Option<Loa> {
    Loa::ALL.into_iter().find(|l| l.name() == text.trim())
}

/// Cedar's errors carry their detail in miette diagnostics; one line each.
fn render(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
