//! The default policy set over a table of requests and the decisions expected of it, and
//! the loading rules (schema validation, ids, step-up annotations, hot reload).

use std::time::Duration;

use anyid_policy::{Decision, Engine, Loa, LoadError, PolicySet, Reason, Request};
use serde_json::{Value, json};

/// Tuesday 8 December 2026, 10:00 in Seoul.
const WORKING: Duration = Duration::from_secs(1_796_691_600);
/// The same day, 22:00 in Seoul.
const NIGHT: Duration = Duration::from_secs(1_796_734_800);
/// Christmas 2026 (a Friday, a public holiday), 10:00 in Seoul.
const HOLIDAY: Duration = Duration::from_secs(1_798_160_400);

fn engine() -> Engine {
    match Engine::with_defaults() {
        Ok(engine) => engine,
        Err(e) => panic!("the default policies must load: {e}"),
    }
}

fn request(value: Value) -> Request {
    match serde_json::from_value(value.clone()) {
        Ok(request) => request,
        Err(e) => panic!("bad test request {value}: {e}"),
    }
}

fn official(extra: Value) -> Value {
    let mut official = json!({
        "type": "official", "id": "kim", "role": "caseworker",
        "agency": {"id": "mapo-gu", "jurisdiction": ["11"]},
        "citizen": "citizen-kim", "household": "h-1"
    });
    merge(&mut official, extra);
    official
}

fn record(extra: Value) -> Value {
    let mut record = json!({
        "type": "citizen_record", "id": "r-9", "owner": "citizen-lee",
        "region": "11", "household": "h-2"
    });
    merge(&mut record, extra);
    record
}

fn merge(into: &mut Value, extra: Value) {
    if let (Some(into), Value::Object(extra)) = (into.as_object_mut(), extra) {
        into.extend(extra);
    }
}

fn lookup(principal: Value, resource: Value, context: Value) -> Request {
    request(json!({
        "principal": principal, "action": "access_personal_data",
        "resource": resource, "context": context
    }))
}

#[test]
fn the_default_policies_decide_the_table() {
    let engine = engine();
    let client = |sensitive: bool| json!({"type": "client", "id": "rp", "sensitive": sensitive});
    let purpose = json!({"purpose": "welfare-benefit", "case_id": "2026-77"});
    let emergency = json!({"purpose": "emergency"});
    let forbidden = Decision::Deny(Reason::Forbidden);
    let table: Vec<(&str, Request, Duration, Decision)> = vec![
        (
            "a citizen at low logs in to an ordinary relying party",
            request(
                json!({"principal": {"type": "citizen", "id": "c1"}, "action": "login",
                "resource": client(false), "context": {"acr": "low"}}),
            ),
            WORKING,
            Decision::Allow,
        ),
        (
            "a sensitive relying party makes a low session step up to high",
            request(
                json!({"principal": {"type": "citizen", "id": "c1"}, "action": "authorize",
                "resource": client(true), "context": {"acr": "low", "reachable": "high"}}),
            ),
            WORKING,
            Decision::StepUp(Loa::High),
        ),
        (
            "a sensitive relying party accepts a high session",
            request(
                json!({"principal": {"type": "citizen", "id": "c1"}, "action": "authorize",
                "resource": client(true), "context": {"acr": "high", "reachable": "high"}}),
            ),
            WORKING,
            Decision::Allow,
        ),
        (
            "a sensitive relying party is unreachable when no method reaches high",
            request(
                json!({"principal": {"type": "visitor"}, "action": "authorize",
                "resource": client(true), "context": {"reachable": "substantial"}}),
            ),
            WORKING,
            Decision::Deny(Reason::UnmetAssurance),
        ),
        (
            "acr_values above the session step up (the protocol's rule)",
            request(
                json!({"principal": {"type": "citizen", "id": "c1"}, "action": "authorize",
                "resource": client(false),
                "context": {"acr": "low", "requested": ["substantial"], "reachable": "high"}}),
            ),
            WORKING,
            Decision::StepUp(Loa::Substantial),
        ),
        (
            "tokens for a sensitive relying party need a high login",
            request(
                json!({"principal": {"type": "citizen", "id": "c1"}, "action": "issue_token",
                "resource": client(true), "context": {"acr": "substantial"}}),
            ),
            WORKING,
            Decision::StepUp(Loa::High),
        ),
        (
            "a high-risk session gets no token",
            request(
                json!({"principal": {"type": "citizen", "id": "c1"}, "action": "issue_token",
                "resource": client(false), "context": {"acr": "high", "risk": 85}}),
            ),
            WORKING,
            forbidden,
        ),
        (
            "a high-risk session gets no claims",
            request(
                json!({"principal": {"type": "citizen", "id": "c1"}, "action": "release_claims",
                "resource": {"type": "claim_set", "client": {"id": "rp"}, "categories": ["email"]},
                "context": {"acr": "high", "risk": 70}}),
            ),
            WORKING,
            forbidden,
        ),
        (
            "a moderately risky session still gets its token",
            request(
                json!({"principal": {"type": "citizen", "id": "c1"}, "action": "issue_token",
                "resource": client(false), "context": {"acr": "low", "risk": 40}}),
            ),
            WORKING,
            Decision::Allow,
        ),
        (
            "client credentials for a sensitive relying party (no citizen involved)",
            request(
                json!({"principal": {"type": "client", "id": "rp"}, "action": "issue_token",
                "resource": client(true)}),
            ),
            WORKING,
            Decision::Allow,
        ),
        (
            "an operator with a recent high login administers",
            request(
                json!({"principal": {"type": "operator", "id": "op"}, "action": "admin",
                "resource": {"type": "console"}, "context": {"acr": "high", "auth_age_s": 120}}),
            ),
            WORKING,
            Decision::Allow,
        ),
        (
            "an operator whose high login is an hour old logs in again",
            request(
                json!({"principal": {"type": "operator", "id": "op"}, "action": "admin",
                "resource": {"type": "console"}, "context": {"acr": "high", "auth_age_s": 3600}}),
            ),
            WORKING,
            Decision::StepUp(Loa::High),
        ),
        (
            "an operator at substantial steps up to high",
            request(
                json!({"principal": {"type": "operator", "id": "op"}, "action": "admin",
                "resource": {"type": "console"}, "context": {"acr": "substantial", "auth_age_s": 10}}),
            ),
            WORKING,
            Decision::StepUp(Loa::High),
        ),
        (
            "an official with a purpose, in hours, in jurisdiction",
            lookup(official(json!({})), record(json!({})), purpose.clone()),
            WORKING,
            Decision::Allow,
        ),
        (
            "an official flagged by an alert (risk 80) is stopped until the alert decays",
            lookup(
                official(json!({})),
                record(json!({})),
                json!({"purpose": "welfare-benefit", "risk": 80}),
            ),
            WORKING,
            forbidden,
        ),
        (
            "an official without a purpose",
            lookup(official(json!({})), record(json!({})), json!({})),
            WORKING,
            forbidden,
        ),
        (
            "an official with an empty purpose",
            lookup(
                official(json!({})),
                record(json!({})),
                json!({"purpose": ""}),
            ),
            WORKING,
            forbidden,
        ),
        (
            "an official at night",
            lookup(official(json!({})), record(json!({})), purpose.clone()),
            NIGHT,
            forbidden,
        ),
        (
            "an official on a public holiday",
            lookup(official(json!({})), record(json!({})), purpose.clone()),
            HOLIDAY,
            forbidden,
        ),
        (
            "an official at night in an emergency",
            lookup(official(json!({})), record(json!({})), emergency.clone()),
            NIGHT,
            Decision::Allow,
        ),
        (
            "an official on the duty roster at night",
            lookup(
                official(json!({"on_duty": true})),
                record(json!({})),
                purpose.clone(),
            ),
            NIGHT,
            Decision::Allow,
        ),
        (
            "an official outside the agency's jurisdiction",
            lookup(
                official(json!({})),
                record(json!({"region": "26"})),
                purpose.clone(),
            ),
            WORKING,
            forbidden,
        ),
        (
            "a record without a region is only for national agencies",
            lookup(
                official(json!({})),
                json!({"type": "citizen_record", "id": "r-1", "owner": "citizen-lee"}),
                purpose.clone(),
            ),
            WORKING,
            forbidden,
        ),
        (
            "a national agency looks anywhere",
            lookup(
                official(json!({"agency": {"id": "nts", "national": true}})),
                record(json!({"region": "26"})),
                purpose.clone(),
            ),
            WORKING,
            Decision::Allow,
        ),
        (
            "an official looking up their own record",
            lookup(
                official(json!({})),
                record(json!({"owner": "citizen-kim"})),
                purpose.clone(),
            ),
            WORKING,
            forbidden,
        ),
        (
            "an official looking up their own household, even in an emergency",
            lookup(
                official(json!({})),
                record(json!({"household": "h-1"})),
                emergency.clone(),
            ),
            WORKING,
            forbidden,
        ),
        (
            "a citizen manages their own account",
            request(
                json!({"principal": {"type": "citizen", "id": "c1"}, "action": "manage_account",
                "resource": {"type": "citizen_record", "id": "c1", "owner": "c1"}}),
            ),
            WORKING,
            Decision::Allow,
        ),
        (
            "a citizen cannot manage another's account",
            request(
                json!({"principal": {"type": "citizen", "id": "c1"}, "action": "manage_account",
                "resource": {"type": "citizen_record", "id": "c2", "owner": "c2"}}),
            ),
            WORKING,
            Decision::Deny(Reason::NotPermitted),
        ),
        (
            "a throttled caller is denied whatever else holds",
            request(
                json!({"principal": {"type": "client", "id": "rp"}, "action": "issue_token",
                "resource": client(false), "context": {"throttled_s": 3}}),
            ),
            WORKING,
            Decision::Deny(Reason::Throttled(Duration::from_secs(3))),
        ),
    ];
    let mut failures = Vec::new();
    for (case, request, now, expected) in &table {
        let outcome = engine.evaluate(request, *now);
        if outcome.decision != *expected {
            failures.push(format!(
                "{case}: expected {expected:?}, got {:?} by {:?} ({:?})",
                outcome.decision, outcome.policies, outcome.reasons
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_outcome_names_the_policies_that_decided_it() {
    let engine = engine();
    let outcome = engine.evaluate(
        &lookup(
            official(json!({})),
            record(json!({"owner": "citizen-kim"})),
            json!({}),
        ),
        NIGHT,
    );
    assert_eq!(outcome.decision, Decision::Deny(Reason::Forbidden));
    assert_eq!(
        outcome.policies,
        [
            "personal-data-in-working-hours",
            "personal-data-needs-a-purpose",
            "personal-data-not-own-record"
        ]
    );
    assert!(outcome.reasons.iter().any(|r| r.contains("own record")));
    assert_eq!((outcome.time.hour, outcome.zone.as_str()), (22, "internet"));

    let allowed = engine.evaluate(
        &lookup(
            official(json!({})),
            record(json!({})),
            json!({"purpose": "audit"}),
        ),
        WORKING,
    );
    assert_eq!(allowed.policies, ["baseline-officials"]);
}

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect()
}

#[test]
fn policies_that_do_not_fit_the_schema_are_refused() {
    let permit = r#"@id("all") permit (principal, action, resource);"#;
    // An attribute the schema does not have.
    let typo = r#"@id("typo") forbid (principal, action == AnyId::Action::"login", resource)
        when { resource.sensitiv };"#;
    assert!(matches!(
        PolicySet::load(&files(&[("a.cedar", permit), ("b.cedar", typo)])),
        Err(LoadError::Invalid(message)) if message.contains("typo")
    ));
    // An entity type that does not exist.
    let unknown = r#"@id("u") permit (principal is AnyId::Robot, action, resource);"#;
    assert!(matches!(
        PolicySet::load(&files(&[("u.cedar", unknown)])),
        Err(LoadError::Invalid(_))
    ));
    // Comparing a level with a string.
    let mistyped =
        r#"@id("m") forbid (principal, action, resource) when { context.acr == "high" };"#;
    assert!(matches!(
        PolicySet::load(&files(&[("a.cedar", permit), ("m.cedar", mistyped)])),
        Err(LoadError::Invalid(_))
    ));
    assert!(matches!(
        PolicySet::load(&files(&[("p.cedar", "permit (principal, action, resource)")])),
        Err(LoadError::Parse { file, .. }) if file == "p.cedar"
    ));
    assert_eq!(
        PolicySet::load(&files(&[(
            "n.cedar",
            "permit (principal, action, resource);"
        )]))
        .err(),
        Some(LoadError::MissingId {
            file: "n.cedar".into()
        })
    );
    assert_eq!(
        PolicySet::load(&files(&[("a.cedar", permit), ("b.cedar", permit)])).err(),
        Some(LoadError::DuplicateId {
            file: "b.cedar".into(),
            id: "all".into()
        })
    );
    let bad_step = r#"@id("s") @step_up("platinum") forbid (principal, action, resource);"#;
    assert_eq!(
        PolicySet::load(&files(&[("a.cedar", permit), ("s.cedar", bad_step)])).err(),
        Some(LoadError::StepUp { id: "s".into() })
    );
    let forbid_only = r#"@id("f") forbid (principal, action, resource);"#;
    assert_eq!(
        PolicySet::load(&files(&[("f.cedar", forbid_only)])).err(),
        Some(LoadError::Empty)
    );
}

#[test]
fn a_reload_applies_a_good_set_and_keeps_the_old_one_when_the_new_one_is_bad() {
    let engine = engine();
    let login = request(
        json!({"principal": {"type": "citizen", "id": "c1"}, "action": "login",
        "resource": {"type": "client", "id": "rp"}, "context": {"acr": "low"}}),
    );
    assert_eq!(engine.evaluate(&login, WORKING).decision, Decision::Allow);

    // A deployment that closes logins outside working hours.
    let mut closed = files(cedar_defaults());
    closed.push((
        "hours.cedar".into(),
        r#"@id("logins-in-office-hours") @reason("closed")
           forbid (principal, action == AnyId::Action::"login", resource)
           unless { context.time.working_hours };"#
            .into(),
    ));
    assert_eq!(engine.reload(&closed), Ok(()));
    assert_eq!(engine.evaluate(&login, WORKING).decision, Decision::Allow);
    let night = engine.evaluate(&login, NIGHT);
    assert_eq!(night.decision, Decision::Deny(Reason::Forbidden));
    assert_eq!(night.policies, ["logins-in-office-hours"]);

    // A broken set is refused and the one in force stays.
    let mut broken = closed.clone();
    broken.push(("broken.cedar".into(), "forbid (principal".into()));
    assert!(matches!(
        engine.reload(&broken),
        Err(LoadError::Parse { .. })
    ));
    assert_eq!(
        engine.evaluate(&login, NIGHT).decision,
        Decision::Deny(Reason::Forbidden)
    );
    assert!(engine.policies().ids().contains(&"logins-in-office-hours"));
}

fn cedar_defaults() -> &'static [(&'static str, &'static str)] {
    anyid_policy::cedar::DEFAULT_POLICIES
}

#[test]
fn a_forbid_that_fires_right_after_a_login_at_its_level_is_a_denial_not_a_step_up() {
    let engine = engine();
    let mut set = files(cedar_defaults());
    set.push((
        "zone.cedar".into(),
        r#"@id("admin-from-inside") @step_up("high")
           forbid (principal, action == AnyId::Action::"admin", resource)
           unless { context.zone == "internal" };"#
            .into(),
    ));
    assert_eq!(engine.reload(&set), Ok(()));
    let admin = request(
        json!({"principal": {"type": "operator", "id": "op"}, "action": "admin",
        "resource": {"type": "console"}, "context": {"acr": "high", "auth_age_s": 5}}),
    );
    // Just logged in at high: logging in again would not move the operator inside.
    assert_eq!(
        engine.evaluate(&admin, WORKING).decision,
        Decision::Deny(Reason::Forbidden)
    );
    // An older login is asked to log in again (it may come from inside then).
    let stale = request(
        json!({"principal": {"type": "operator", "id": "op"}, "action": "admin",
        "resource": {"type": "console"}, "context": {"acr": "high", "auth_age_s": 600}}),
    );
    assert_eq!(
        engine.evaluate(&stale, WORKING).decision,
        Decision::StepUp(Loa::High)
    );
}
