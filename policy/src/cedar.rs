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
    ActionConstraint, Authorizer, Context as CedarContext, Effect, Entities, Entity, EntityId,
    EntityTypeName, EntityUid, Policy, PolicyId, PolicySet as CedarPolicySet, PrincipalConstraint,
    ResourceConstraint, RestrictedExpression, Schema, ValidationMode, Validator,
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
    /// By Cedar action name, then principal type: the policies that can apply.
    slices: HashMap<String, HashMap<String, Slice>>,
}

/// The policies that can apply to the requests of one action by one type of principal,
/// picked at load from their scopes: a policy whose scope cannot match such a request
/// cannot change its answer (Cedar: a policy applies only when its scope and conditions
/// hold), so leaving it out changes no decision and saves evaluating it.
#[derive(Debug)]
struct Slice {
    policies: CedarPolicySet,
    /// When every policy of the slice is a permit whose scope holds for every such request
    /// and that has no conditions, the answer is known without asking Cedar: allowed by
    /// these policies (sorted).
    settled: Option<Vec<String>>,
    /// The context attributes its policies read (`None`: all); only those are built.
    reads: Option<HashSet<String>>,
}

impl Slice {
    /// The slice of `policies` for `action` by principals of type `principal`, whose
    /// resources are of `resources` types (from the schema).
    fn new(
        policies: &CedarPolicySet,
        action: &EntityUid,
        principal: &EntityTypeName,
        resources: &[&EntityTypeName],
    ) -> Result<Self, LoadError> {
        let mut slice = CedarPolicySet::new();
        let mut settled = Some(Vec::new());
        let mut reads = Some(HashSet::new());
        for policy in policies.policies() {
            let Some(unconditional) = applies(policy, action, principal, resources) else {
                continue;
            };
            reads = reads.zip(context_reads(policy)).map(|(mut all, more)| {
                all.extend(more);
                all
            });
            slice
                .add(policy.clone())
                .map_err(|e| LoadError::Invalid(e.to_string()))?;
            settled = settled.filter(|_| unconditional && policy.effect() == Effect::Permit);
            if let Some(ids) = settled.as_mut() {
                ids.push(policy.id().to_string());
            }
        }
        if let Some(ids) = settled.as_mut() {
            ids.sort_unstable();
        }
        Ok(Self {
            policies: slice,
            settled,
            reads,
        })
    }
}

/// The context attributes `policy` reads, or `None` when it uses `context` as a whole.
/// Read from Cedar's JSON form of the policy, where `context.x`, `context["x"]` and
/// `context has x` are `.` and `has` nodes whose `left` is `{"Var": "context"}`.
fn context_reads(policy: &Policy) -> Option<HashSet<String>> {
    let json = policy.to_json().ok()?;
    let mut reads = HashSet::new();
    attribute_reads(&json, &mut reads).then_some(reads)
}

/// Collect the context attributes read under `node`; false when `context` is used other
/// than by attribute.
fn attribute_reads(node: &serde_json::Value, reads: &mut HashSet<String>) -> bool {
    use serde_json::Value;
    match node {
        Value::Object(map) => {
            if map.get("Var").and_then(Value::as_str) == Some("context") {
                return false;
            }
            map.iter().all(|(key, value)| {
                let of_context = matches!(key.as_str(), "." | "has")
                    && value
                        .get("left")
                        .and_then(|left| left.get("Var"))
                        .and_then(Value::as_str)
                        == Some("context");
                match (of_context, value.get("attr").and_then(Value::as_str)) {
                    (true, Some(attr)) => {
                        reads.insert(attr.to_owned());
                        true
                    }
                    (true, None) => false,
                    (false, _) => attribute_reads(value, reads),
                }
            })
        }
        Value::Array(items) => items.iter().all(|item| attribute_reads(item, reads)),
        _ => true,
    }
}

/// Whether `policy`'s scope can match a request of `action` by a principal of type
/// `principal` on a resource of one of `resources`' types: `None` if it cannot, `Some(true)`
/// if it matches every such request and has no conditions, `Some(false)` if it depends on
/// the request. (The schema has no action groups, so `action in [...]` is membership.)
fn applies(
    policy: &Policy,
    action: &EntityUid,
    principal: &EntityTypeName,
    resources: &[&EntityTypeName],
) -> Option<bool> {
    let action_matches = match policy.action_constraint() {
        ActionConstraint::Any => true,
        ActionConstraint::Eq(uid) => uid == *action,
        ActionConstraint::In(uids) => uids.contains(action),
    };
    let (principal_matches, principal_always) = match policy.principal_constraint() {
        PrincipalConstraint::Any => (true, true),
        PrincipalConstraint::Is(ty) => (ty == *principal, true),
        PrincipalConstraint::Eq(uid) => (uid.type_name() == principal, false),
        PrincipalConstraint::IsIn(ty, _) => (ty == *principal, false),
        PrincipalConstraint::In(_) => (true, false),
    };
    let (resource_matches, resource_always) = match policy.resource_constraint() {
        ResourceConstraint::Any => (true, true),
        ResourceConstraint::Is(ty) => (
            resources.contains(&&ty),
            resources.iter().all(|r| **r == ty),
        ),
        ResourceConstraint::Eq(uid) => (resources.contains(&uid.type_name()), false),
        ResourceConstraint::IsIn(ty, _) => (resources.contains(&&ty), false),
        ResourceConstraint::In(_) => (true, false),
    };
    (action_matches && principal_matches && resource_matches)
        .then(|| principal_always && resource_always && !policy.has_non_scope_constraint())
}

/// Every slice of `policies`: one per action and principal type the schema allows.
fn slices(
    policies: &CedarPolicySet,
    schema: &Schema,
) -> Result<HashMap<String, HashMap<String, Slice>>, LoadError> {
    let mut out: HashMap<String, HashMap<String, Slice>> = HashMap::new();
    for action in schema.actions() {
        let resources: Vec<&EntityTypeName> = schema
            .resources_for_action(action)
            .map(Iterator::collect)
            .unwrap_or_default();
        for principal in schema.principals_for_action(action).into_iter().flatten() {
            out.entry(action.id().unescaped().to_owned())
                .or_default()
                .insert(
                    principal.to_string(),
                    Slice::new(policies, action, principal, &resources)?,
                );
        }
    }
    Ok(out)
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
            slices: slices(&policies, &schema)?,
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

    /// Ask Cedar about `request`: only the policies that can apply to it, and not at all
    /// when those are permits that apply to every such request.
    pub fn authorize(&self, request: &Request, derived: Derived<'_>) -> Answer {
        let slice = self
            .slices
            .get(request.action.cedar_name())
            .and_then(|by_principal| by_principal.get(self.names.principal_type(request)));
        if let Some(Slice {
            settled: Some(ids), ..
        }) = slice
        {
            return Answer {
                allowed: !ids.is_empty(),
                determining: ids.clone(),
                errors: Vec::new(),
            };
        }
        // A request the schema does not describe meets the whole set (and, in debug
        // builds, the schema check that refuses it).
        let policies = slice.map_or(&self.policies, |s| &s.policies);
        let reads = slice.and_then(|s| s.reads.as_ref());
        match self.cedar_request(request, derived, reads) {
            Ok((cedar, entities)) => {
                let response = self.authorizer.is_authorized(&cedar, policies, &entities);
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

    /// The Cedar request and entities of `request`, with the context attributes in `reads`
    /// (`None`: all of them).
    fn cedar_request(
        &self,
        request: &Request,
        derived: Derived<'_>,
        reads: Option<&HashSet<String>>,
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
        let action = n.action(request.action.cedar_name());
        // Requests are built from typed facts, so they fit the schema by construction; debug
        // builds (every test) check that, with every context attribute, and release builds
        // skip the check's cost. A request that did not fit would make policies err, and an
        // error denies (fail closed).
        let check = cfg!(debug_assertions).then_some(&self.schema);
        if let (Some(schema), Some(_)) = (check, reads) {
            cedar_policy::Request::new(
                principal.clone(),
                action.clone(),
                resource.clone(),
                self.context(request, derived, None)?,
                Some(schema),
            )
            .map_err(|e| format!("the request does not fit the schema: {e}"))?;
        }
        // Only what the policies read: a context without the other attributes would not
        // fit the schema, so it was checked whole above.
        let context = self.context(request, derived, reads)?;
        let cedar = cedar_policy::Request::new(
            principal,
            action,
            resource,
            context,
            check.filter(|_| reads.is_none()),
        )
        .map_err(|e| format!("the request does not fit the schema: {e}"))?;
        // Entities referenced but not described (a citizen, the console) need no attributes.
        let entities = Entities::from_entities(dedup(entities), check)
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

    /// The context of `request`, with the attributes in `reads` (`None`: all of them).
    fn context(
        &self,
        request: &Request,
        derived: Derived<'_>,
        reads: Option<&HashSet<String>>,
    ) -> Result<CedarContext, String> {
        let c = &request.context;
        let time = derived.time;
        let mut pairs: Vec<(String, RestrictedExpression)> = Vec::new();
        // Each value is built only when a policy reads it (an IP address costs the most).
        let mut put = |key: &str, value: &dyn Fn() -> Option<RestrictedExpression>| {
            if reads.is_none_or(|r| r.contains(key))
                && let Some(value) = value()
            {
                pairs.push((key.to_owned(), value));
            }
        };
        put("zone", &|| Some(string(derived.zone)));
        put("acr", &|| Some(long(c.acr.map_or(0, level_number))));
        put("amr", &|| {
            Some(RestrictedExpression::new_set(
                c.amr.iter().map(|m| string(m)),
            ))
        });
        put("known_device", &|| {
            Some(RestrictedExpression::new_bool(c.known_device))
        });
        put("risk", &|| Some(long(i64::from(c.risk.min(100)))));
        put("time", &|| {
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
            .ok()
        });
        put("rate_limited", &|| {
            Some(RestrictedExpression::new_bool(c.throttled.is_some()))
        });
        put("ip", &|| {
            c.ip.map(|ip| RestrictedExpression::new_ip(ip.to_string()))
        });
        put("auth_age_s", &|| {
            c.auth_age_s
                .map(|s| long(i64::try_from(s).unwrap_or(i64::MAX)))
        });
        put("session_age_s", &|| {
            c.session_age_s
                .map(|s| long(i64::try_from(s).unwrap_or(i64::MAX)))
        });
        put("purpose", &|| c.purpose.as_deref().map(string));
        put("case_id", &|| c.case_id.as_deref().map(string));
        put("operation", &|| c.operation.as_deref().map(string));
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
    /// Visitor, Citizen, Official, Client, Operator, displayed.
    type_names: [String; 5],
}

impl Names {
    fn new() -> Result<Self, LoadError> {
        let name = |n: &str| {
            EntityTypeName::from_str(&format!("AnyId::{n}"))
                .map_err(|e| LoadError::Schema(e.to_string()))
        };
        let (visitor, citizen, official, client, operator) = (
            name("Visitor")?,
            name("Citizen")?,
            name("Official")?,
            name("Client")?,
            name("Operator")?,
        );
        Ok(Self {
            type_names: [&visitor, &citizen, &official, &client, &operator]
                .map(ToString::to_string),
            visitor,
            citizen,
            official,
            agency: name("Agency")?,
            client,
            operator,
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

    /// The principal's entity type, as `EntityTypeName` displays it.
    fn principal_type(&self, request: &Request) -> &str {
        match &request.principal {
            Principal::Visitor => &self.type_names[0],
            Principal::Citizen { .. } => &self.type_names[1],
            Principal::Official(_) => &self.type_names[2],
            Principal::Client { .. } => &self.type_names[3],
            Principal::Operator { .. } => &self.type_names[4],
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Action, Context, Official};
    use proptest::prelude::*;

    /// Policies with every kind of scope, beside the defaults.
    const SCOPES: &str = r#"
        @id("x-one-client") @reason("x")
        forbid (principal == AnyId::Client::"blocked", action, resource);
        @id("x-agency-officials") @reason("x")
        forbid (principal in AnyId::Agency::"mapo-gu", action == AnyId::Action::"access_personal_data", resource)
        when { context.risk > 50 };
        @id("x-officials-of-an-agency") @reason("x")
        forbid (principal is AnyId::Official in AnyId::Agency::"jung-gu", action, resource is AnyId::CitizenRecord);
        @id("x-one-record") @reason("x")
        forbid (principal, action, resource == AnyId::CitizenRecord::"r-sealed");
        @id("x-operators") @reason("x")
        permit (principal is AnyId::Operator, action, resource is AnyId::Console);
        @id("x-night-in-an-office") @reason("x")
        forbid (principal, action == AnyId::Action::"login", resource)
        when { context["time"].hour < 6 && context has ip && context.ip.isInRange(ip("10.0.0.0/8")) };
    "#;

    fn sets() -> Vec<PolicySet> {
        let mut files: Vec<(String, String)> = DEFAULT_POLICIES
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        let defaults = PolicySet::load(&files).unwrap();
        files.push(("scopes.cedar".into(), SCOPES.into()));
        vec![defaults, PolicySet::load(&files).unwrap()]
    }

    fn pick<T: Clone>(options: &[T], i: usize) -> T {
        options[i % options.len()].clone()
    }

    /// A request of `action` with facts chosen by `n`, on the resource type the schema gives
    /// the action; the principal of any type the action allows.
    fn request(action: Action, principal: usize, n: [usize; 6]) -> Request {
        let agency = pick(&["mapo-gu", "jung-gu", "molit"], n[0]);
        let agency = Agency {
            id: agency.into(),
            national: agency == "molit",
            jurisdiction: vec!["11".into()],
        };
        let client = ClientFacts {
            id: pick(&["rp", "blocked"], n[1]).into(),
            sensitive: n[1].is_multiple_of(3),
            agency: (n[2].is_multiple_of(2)).then(|| agency.clone()),
            minimum: None,
        };
        let record = Record {
            id: pick(&["r-1", "r-sealed"], n[1]).into(),
            owner: (n[2].is_multiple_of(2)).then(|| "c-1".into()),
            region: pick(&[None, Some("11".into()), Some("26".into())], n[3]),
            household: pick(&[None, Some("h-1".into())], n[4]),
        };
        let resource = match action {
            Action::ReleaseClaims => Resource::ClaimSet {
                client,
                categories: vec!["profile".into()],
            },
            Action::ManageAccount | Action::AccessPersonalData => Resource::CitizenRecord(record),
            Action::Admin => Resource::Console,
            _ => Resource::Client(client),
        };
        let principal = match principal {
            0 => Principal::Visitor,
            1 => Principal::Citizen { id: "c-1".into() },
            2 => Principal::Official(Official {
                id: "kim".into(),
                agency,
                role: "caseworker".into(),
                on_duty: n[4].is_multiple_of(2),
                citizen: (n[5].is_multiple_of(2)).then(|| "c-1".into()),
                household: (n[5].is_multiple_of(3)).then(|| "h-1".into()),
            }),
            3 => Principal::Client {
                id: pick(&["rp", "blocked"], n[2]).into(),
            },
            _ => Principal::Operator { id: "op".into() },
        };
        Request {
            principal,
            action,
            resource,
            context: Context {
                ip: pick(
                    &[
                        None,
                        Some([10, 1, 2, 3].into()),
                        Some([203, 0, 113, 7].into()),
                    ],
                    n[2],
                ),
                acr: pick(
                    &[
                        None,
                        Some(Loa::Low),
                        Some(Loa::Substantial),
                        Some(Loa::High),
                    ],
                    n[3],
                ),
                auth_age_s: pick(&[None, Some(30), Some(5_000)], n[4]),
                risk: pick(&[0, 40, 80], n[5]),
                purpose: pick(
                    &[None, Some("benefit".into()), Some("emergency".into())],
                    n[0],
                ),
                ..Context::default()
            },
        }
    }

    proptest! {
        /// Deciding with the slice of the policies that can apply (or without Cedar when
        /// they settle it) answers exactly as the whole set does.
        #[test]
        fn slices_answer_every_request_as_the_whole_set_does(
            action in 0usize..9,
            principal in 0usize..5,
            n in proptest::array::uniform6(0usize..6),
            working_hours in any::<bool>(),
        ) {
            let actions = [
                Action::Authorize, Action::Login, Action::IssueToken, Action::ReleaseClaims,
                Action::Introspect, Action::Revoke, Action::ManageAccount,
                Action::AccessPersonalData, Action::Admin,
            ];
            let request = request(actions[action], principal, n);
            let derived = Derived {
                zone: "internet",
                time: LocalTime {
                    hour: if working_hours { 10 } else { 3 },
                    minute: 0,
                    weekday: 2,
                    working_day: true,
                    working_hours,
                },
            };
            for set in sets() {
                let sliced = set.authorize(&request, derived);
                let whole = match set.cedar_request(&request, derived, None) {
                    Ok((cedar, entities)) => {
                        let r = set.authorizer.is_authorized(&cedar, &set.policies, &entities);
                        let mut ids: Vec<String> =
                            r.diagnostics().reason().map(|id| id.to_string()).collect();
                        ids.sort_unstable();
                        let errors = r.diagnostics().errors().count();
                        (r.decision() == cedar_policy::Decision::Allow, ids, errors)
                    }
                    // Outside the schema: no slice, the same path for both.
                    Err(_) => (sliced.allowed, sliced.determining.clone(), sliced.errors.len()),
                };
                prop_assert_eq!(
                    (sliced.allowed, sliced.determining.clone(), sliced.errors.len()),
                    whole,
                    "{:?}", request
                );
            }
        }
    }

    #[test]
    fn the_context_attributes_a_policy_reads_are_found_in_every_form() {
        let reads = |text: &str| {
            let policy = Policy::from_str(text).unwrap();
            context_reads(&policy).map(|r| {
                let mut r: Vec<String> = r.into_iter().collect();
                r.sort();
                r
            })
        };
        assert_eq!(
            reads(
                r#"forbid (principal, action, resource) when { context.risk > 1 &&
                   context["time"].hour < 6 } unless { context has purpose &&
                   context.purpose == "emergency" };"#
            ),
            Some(vec!["purpose".into(), "risk".into(), "time".into()])
        );
        assert_eq!(
            reads("permit (principal, action, resource);"),
            Some(Vec::new())
        );
        assert_eq!(
            reads("permit (principal, action, resource) when { context == {} };"),
            None,
            "the whole context"
        );
    }

    #[test]
    fn a_client_asking_for_a_token_is_settled_without_cedar_and_a_citizen_is_not() {
        let set = &sets()[0];
        let slice = |principal: &str| &set.slices["issue_token"][principal];
        assert_eq!(
            slice("AnyId::Client").settled.as_deref(),
            Some(&["baseline-tokens".to_owned()][..])
        );
        assert!(slice("AnyId::Citizen").settled.is_none());
        assert!(
            !set.slices["login"].contains_key("AnyId::Official"),
            "not in the schema"
        );
    }
}
