//! The policy decision point: [`Engine::evaluate`]`(request, now) -> Outcome`, pure. `idp`
//! gathers the facts, asks, enforces the answer and logs it.
//!
//! Three sources decide, and the strictest wins:
//! - the limits: a caller over its budget is denied (`anyid:limits`);
//! - the protocol's assurance rules (DESIGN §4): the levels a relying party asks for and its
//!   own minimum, step-up only to a level some enabled method reaches (OpenID Connect EAP
//!   ACR Values §5) (`anyid:assurance`). They are not policy: a deployment cannot switch
//!   off what the protocol promises relying parties;
//! - the Cedar policy set (DESIGN §6), which the deployment writes and reloads at run time.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;

use crate::calendar::{Calendar, LocalTime};
use crate::cedar::{Derived, LoadError, PolicySet};
use crate::facts::{Action, Agency, Request};
use crate::loa::Loa;
use crate::zones::Zones;

/// A login this recent (seconds) is fresh: logging in again would prove nothing new.
pub const FRESH_LOGIN_S: u64 = 60;

/// The id under which the limits appear in an outcome.
pub const LIMITS: &str = "anyid:limits";
/// The id under which the protocol's assurance rules appear in an outcome.
pub const ASSURANCE: &str = "anyid:assurance";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", content = "detail", rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Deny(Reason),
    /// Authenticate (again) at this level first.
    StepUp(Loa),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No enabled method reaches the level required (`unmet_authentication_requirements`).
    UnmetAssurance,
    /// Too many requests or failures; try again after the duration.
    Throttled(#[serde(serialize_with = "whole_seconds")] Duration),
    /// A `forbid` policy applies (its reason is in the outcome).
    Forbidden,
    /// No policy permits the request.
    NotPermitted,
    /// A policy failed to evaluate; the request is denied (fail closed).
    PolicyError,
}

/// A decision and what made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    #[serde(flatten)]
    pub decision: Decision,
    /// The policies that determined it: Cedar policy ids, [`LIMITS`], [`ASSURANCE`].
    pub policies: Vec<String>,
    /// What they mean (their `@reason`), and any evaluation errors.
    pub reasons: Vec<String>,
    /// The network zone of the source address.
    pub zone: String,
    pub time: LocalTime,
}

/// The policy set in force, with the calendar, zones and agencies it is evaluated with.
/// The set can be replaced while requests are evaluated; a set that does not load leaves
/// the old one.
#[derive(Debug)]
pub struct Engine {
    policies: RwLock<Arc<PolicySet>>,
    calendar: Calendar,
    zones: Zones,
    agencies: Vec<Agency>,
}

impl Engine {
    pub fn new(
        policies: PolicySet,
        calendar: Calendar,
        zones: Zones,
        agencies: Vec<Agency>,
    ) -> Self {
        Self {
            policies: RwLock::new(Arc::new(policies)),
            calendar,
            zones,
            agencies,
        }
    }

    /// The built-in policy set, Korean calendar, no zones, no agencies.
    pub fn with_defaults() -> Result<Self, LoadError> {
        Ok(Self::new(
            PolicySet::defaults()?,
            Calendar::default(),
            Zones::default(),
            Vec::new(),
        ))
    }

    /// The agency `id` as configured; one the configuration does not describe serves no
    /// region.
    pub fn agency(&self, id: &str) -> Agency {
        self.agencies
            .iter()
            .find(|a| a.id == id)
            .cloned()
            .unwrap_or_else(|| Agency {
                id: id.to_owned(),
                national: false,
                jurisdiction: Vec::new(),
            })
    }

    /// The set in force.
    pub fn policies(&self) -> Arc<PolicySet> {
        match self.policies.read() {
            Ok(set) => Arc::clone(&set),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Load `files` and put them in force; on error the set in force stays.
    pub fn reload(&self, files: &[(String, String)]) -> Result<(), LoadError> {
        let set = Arc::new(PolicySet::load(files)?);
        match self.policies.write() {
            Ok(mut current) => *current = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
        Ok(())
    }

    /// Decide `request` at `now` (time since the Unix epoch).
    pub fn evaluate(&self, request: &Request, now: Duration) -> Outcome {
        let zone = self.zones.classify(request.context.ip).to_owned();
        let time = self.calendar.local(now);
        let outcome = |decision, policies: Vec<String>, reasons: Vec<String>| Outcome {
            decision,
            policies,
            reasons,
            zone: zone.clone(),
            time,
        };
        if let Some(wait) = request.context.throttled {
            return outcome(
                Decision::Deny(Reason::Throttled(wait)),
                vec![LIMITS.into()],
                vec!["too many requests".into()],
            );
        }

        let set = self.policies();
        let answer = set.authorize(request, Derived { zone: &zone, time });
        let acr = request.context.acr;
        let (mut decision, mut policies, mut reasons) = if !answer.errors.is_empty() {
            (
                Decision::Deny(Reason::PolicyError),
                answer.determining,
                answer.errors,
            )
        } else if answer.allowed {
            (Decision::Allow, answer.determining, Vec::new())
        } else if answer.determining.is_empty() {
            (
                Decision::Deny(Reason::NotPermitted),
                Vec::new(),
                vec!["no policy permits this request".into()],
            )
        } else {
            let infos: Vec<_> = answer
                .determining
                .iter()
                .filter_map(|id| set.info(id))
                .collect();
            let reasons = infos.iter().map(|i| i.reason.clone()).collect();
            // A step-up lifts the forbids only if every one of them names a level, and a
            // fresh login at the highest could change the answer: a forbid that fired just
            // after a login at that level would fire again.
            let levels: Option<Vec<Loa>> = infos.iter().map(|i| i.step_up).collect();
            let step = levels.and_then(|l| l.into_iter().max()).filter(|level| {
                let fresh = request
                    .context
                    .auth_age_s
                    .is_some_and(|age| age <= FRESH_LOGIN_S);
                acr < Some(*level) || !fresh
            });
            let decision = match step {
                Some(level) => Decision::StepUp(level),
                None => Decision::Deny(Reason::Forbidden),
            };
            (decision, answer.determining, reasons)
        };

        if matches!(request.action, Action::Authorize | Action::Login) {
            let protocol = assurance(request);
            if protocol != Decision::Allow {
                decision = strictest(decision, protocol);
                policies.push(ASSURANCE.into());
                reasons.push(
                    match protocol {
                        Decision::Deny(_) => "no enabled login method reaches the level asked for",
                        _ => "the relying party asks for a higher level than the session proves",
                    }
                    .into(),
                );
            }
            // A step-up, from either source, must be to a level some method reaches.
            if let Decision::StepUp(level) = decision
                && request.action == Action::Authorize
                && request.context.reachable.is_none_or(|best| best < level)
            {
                decision = Decision::Deny(Reason::UnmetAssurance);
            }
        }
        outcome(decision, policies, reasons)
    }
}

/// The protocol's rule: the session (or login) must prove the level the relying party
/// requires.
fn assurance(request: &Request) -> Decision {
    let minimum = match &request.resource {
        crate::facts::Resource::Client(client) => client.minimum,
        _ => None,
    };
    let required = required_level(&request.context.requested, minimum);
    if request.context.acr.is_some_and(|level| level >= required) {
        return Decision::Allow;
    }
    if request.action == Action::Authorize
        && request.context.reachable.is_none_or(|best| best < required)
    {
        return Decision::Deny(Reason::UnmetAssurance);
    }
    Decision::StepUp(required)
}

fn strictest(a: Decision, b: Decision) -> Decision {
    match (a, b) {
        (deny @ Decision::Deny(_), _) | (_, deny @ Decision::Deny(_)) => deny,
        (Decision::StepUp(x), Decision::StepUp(y)) => Decision::StepUp(x.max(y)),
        (step @ Decision::StepUp(_), _) | (_, step @ Decision::StepUp(_)) => step,
        _ => Decision::Allow,
    }
}

/// The lowest level a login must reach: the least of the requested levels (any of them
/// satisfies the relying party), raised to its own minimum.
pub fn required_level(requested: &[Loa], client_minimum: Option<Loa>) -> Loa {
    let floor = requested.iter().copied().min();
    floor.max(client_minimum).unwrap_or_default()
}

fn whole_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs() + u64::from(d.subsec_nanos() > 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{ClientFacts, Context, Principal, Resource};

    const NOW: Duration = Duration::from_secs(1_800_000_000);

    fn decide(action: Action, requested: &[Loa], session: Option<Loa>, reachable: Loa) -> Decision {
        let Ok(engine) = Engine::with_defaults() else {
            return Decision::Deny(Reason::PolicyError);
        };
        let request = Request {
            principal: match session {
                Some(_) => Principal::Citizen { id: "c".into() },
                None => Principal::Visitor,
            },
            action,
            resource: Resource::Client(ClientFacts {
                id: "rp".into(),
                ..ClientFacts::default()
            }),
            context: Context {
                requested: requested.to_vec(),
                acr: session,
                reachable: Some(reachable),
                ..Context::default()
            },
        };
        engine.evaluate(&request, NOW).decision
    }

    #[test]
    fn the_least_requested_level_is_required_raised_to_the_clients_minimum() {
        assert_eq!(required_level(&[], None), Loa::Low);
        assert_eq!(
            required_level(&[Loa::High, Loa::Substantial], None),
            Loa::Substantial
        );
        assert_eq!(required_level(&[Loa::Low], Some(Loa::High)), Loa::High);
    }

    #[test]
    fn a_session_that_reaches_the_level_goes_on_and_a_weaker_one_steps_up() {
        let authorize =
            |requested, session| decide(Action::Authorize, requested, session, Loa::High);
        assert_eq!(authorize(&[], Some(Loa::Low)), Decision::Allow);
        assert_eq!(
            authorize(&[Loa::High], Some(Loa::Low)),
            Decision::StepUp(Loa::High)
        );
        assert_eq!(
            authorize(&[Loa::Substantial], None),
            Decision::StepUp(Loa::Substantial)
        );
    }

    #[test]
    fn a_level_no_enabled_method_reaches_is_unmet_even_with_a_session() {
        for session in [None, Some(Loa::Low)] {
            assert_eq!(
                decide(Action::Authorize, &[Loa::High], session, Loa::Substantial),
                Decision::Deny(Reason::UnmetAssurance)
            );
        }
    }

    #[test]
    fn a_login_below_the_level_is_sent_back_to_step_up() {
        assert_eq!(
            decide(Action::Login, &[Loa::High], Some(Loa::High), Loa::High),
            Decision::Allow
        );
        assert_eq!(
            decide(
                Action::Login,
                &[Loa::High],
                Some(Loa::Substantial),
                Loa::High
            ),
            Decision::StepUp(Loa::High)
        );
    }

    #[test]
    fn the_strictest_decision_wins() {
        let deny = Decision::Deny(Reason::Forbidden);
        assert_eq!(strictest(Decision::StepUp(Loa::High), deny), deny);
        assert_eq!(
            strictest(
                Decision::StepUp(Loa::Substantial),
                Decision::StepUp(Loa::High)
            ),
            Decision::StepUp(Loa::High)
        );
        assert_eq!(
            strictest(Decision::Allow, Decision::StepUp(Loa::Low)),
            Decision::StepUp(Loa::Low)
        );
        assert_eq!(strictest(Decision::Allow, Decision::Allow), Decision::Allow);
    }
}
