//! The AuthZEN decision API (OpenID AuthZEN Authorization API 1.0) as a relying party's back
//! office uses it: a client-credentials token with the `authzen` scope (obtained with the
//! `openidconnect` crate), single and batch evaluations with their semantics, the metadata
//! document, refusals of unauthenticated and wrong-scope callers, and every evaluation of
//! `access_personal_data` stored as a personal-data access event.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyid::audit::event::{AccessRecord, Kind};
use anyid::store::AuditStore;
use anyid_policy::calendar::Calendar;
use anyid_tests::{Backend, Rp, TestServer, per_backend};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:1/callback";

/// Seconds from now to the next moment (on the hour) whose Seoul local time satisfies `want`.
fn shift_to(want: impl Fn(&anyid_policy::calendar::LocalTime) -> bool) -> i64 {
    let calendar = Calendar::default();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let start = now - now % 3600 + 3600;
    (0..24 * 14)
        .map(|h| start + h * 3600)
        .find(|t| want(&calendar.local(Duration::from_secs(*t))))
        .map(|t| (t - now) as i64)
        .expect("such an hour within two weeks")
}

/// The access record's entries about `subject` as the back office `client` names them.
async fn recorded(op: &TestServer, client: &str, subject: &str) -> Vec<AccessRecord> {
    op.state()
        .store
        .audit_records_about(&[(client.into(), subject.into())], 0..i64::MAX, &[], 10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.record)
        .collect()
}

/// A server whose agency `mapo-gu` serves region 11, at 10:00 on a working day, with a
/// back office holding an `authzen` token.
async fn back_office(backend: Backend) -> (TestServer, String, Rp) {
    let op = TestServer::start_with(backend, |c| {
        c.policy.agencies.push(anyid_policy::facts::Agency {
            id: "mapo-gu".into(),
            national: false,
            jurisdiction: vec!["11".into()],
        });
    })
    .await
    .unwrap();
    op.clock
        .advance(shift_to(|t| t.working_day && t.hour == 10));
    let (id, secret) = op
        .add_client(json!({
            "name": "Mapo welfare office",
            "grant_types": ["client_credentials"],
            "scopes": ["authzen"],
            "agency": "mapo-gu",
        }))
        .await
        .unwrap();
    let rp = Rp::discover(op.issuer(), &id, &secret, REDIRECT)
        .await
        .unwrap();
    let token = rp.service_token(&["authzen"]).await;
    (op, token, rp)
}

async fn post(op: &TestServer, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", op.issuer()))
        .header("X-Request-ID", "req-42")
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn lookup(record: &str, purpose: Option<&str>) -> Value {
    let mut request = json!({
        "subject": {"type": "official", "id": "kim", "properties": {"role": "caseworker"}},
        "action": {"name": "view"},
        "resource": {"type": "citizen_record", "id": record,
            "properties": {"region": "11", "data_categories": ["income", "household"]}},
        "context": {"ip": "10.1.2.3"}
    });
    if let Some(purpose) = purpose {
        request["context"]["purpose"] = purpose.into();
    }
    request
}

per_backend!(
    #[tokio::test]
    async fn an_official_lookup_is_decided_by_policy_and_recorded(backend: Backend) {
        let (op, token, rp) = back_office(backend).await;

        let allowed = post(
            &op,
            "/access/v1/evaluation",
            Some(&token),
            lookup("c-1", Some("benefit review")),
        )
        .await;
        assert_eq!(allowed.status(), 200);
        assert_eq!(allowed.headers()["x-request-id"], "req-42", "§12.1.8");
        assert_eq!(
            allowed.json::<Value>().await.unwrap(),
            json!({"decision": true})
        );

        // A denial is 200 with decision false, and says why.
        let denied = post(
            &op,
            "/access/v1/evaluation",
            Some(&token),
            lookup("c-2", None),
        )
        .await;
        assert_eq!(denied.status(), 200);
        let denied: Value = denied.json().await.unwrap();
        assert_eq!(denied["decision"], false, "{backend:?}: {denied}");
        assert!(
            denied["context"]["reason"]
                .as_str()
                .unwrap()
                .contains("purpose")
        );

        // Both are in the access record, with who, whose record (as the back office names
        // them), what, why, and the decision.
        let events = recorded(&op, &rp.client_id, "c-1").await;
        assert_eq!(events.len(), 1, "{backend:?}");
        let e = &events[0];
        assert_eq!(e.kind, Kind::Decision);
        assert_eq!(e.actor_id.as_deref(), Some("kim"));
        assert_eq!(e.client_id.as_deref(), Some(rp.client_id.as_str()));
        assert_eq!(e.reporter, rp.client_id);
        assert_eq!(e.actor_agency.as_deref(), Some("mapo-gu"));
        assert_eq!(e.actor_role.as_deref(), Some("caseworker"));
        assert_eq!(e.action, "view");
        assert_eq!(e.data_categories, ["household", "income"]);
        assert_eq!(e.purpose.as_deref(), Some("benefit review"));
        assert_eq!(e.outcome, "success");
        assert_eq!(e.source_ip, Some([10, 1, 2, 3].into()));
        let refused = recorded(&op, &rp.client_id, "c-2").await;
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].outcome, "denied");
        assert!(
            refused[0]
                .policies
                .contains(&"personal-data-needs-a-purpose".to_owned())
        );

        // Outside the agency's jurisdiction.
        let mut elsewhere = lookup("c-3", Some("benefit review"));
        elsewhere["resource"]["properties"]["region"] = "26".into();
        let answer: Value = post(&op, "/access/v1/evaluation", Some(&token), elsewhere)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer["decision"], false);
        op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn batches_follow_their_evaluation_semantics(backend: Backend) {
        let (op, token, rp) = back_office(backend).await;
        // §7.1.1 defaults: one subject, action and context; three records, the second out
        // of the agency's region.
        let batch = |semantic: Option<&str>| {
            let mut body = json!({
                "subject": {"type": "official", "id": "lee"},
                "action": {"name": "view"},
                "context": {"purpose": "audit"},
                "evaluations": [
                    {"resource": {"type": "citizen_record", "id": "b-1", "properties": {"region": "11"}}},
                    {"resource": {"type": "citizen_record", "id": "b-2", "properties": {"region": "26"}}},
                    {"resource": {"type": "citizen_record", "id": "b-3", "properties": {"region": "11"}}}
                ]
            });
            if let Some(s) = semantic {
                body["options"] = json!({"evaluations_semantic": s});
            }
            body
        };
        let decisions = |answer: Value| -> Vec<bool> {
            answer["evaluations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["decision"].as_bool().unwrap())
                .collect()
        };
        let all = post(&op, "/access/v1/evaluations", Some(&token), batch(None)).await;
        assert_eq!(all.status(), 200);
        assert_eq!(
            decisions(all.json().await.unwrap()),
            [true, false, true],
            "{backend:?}"
        );
        let and = post(
            &op,
            "/access/v1/evaluations",
            Some(&token),
            batch(Some("deny_on_first_deny")),
        )
        .await;
        assert_eq!(decisions(and.json().await.unwrap()), [true, false]);
        let or = post(
            &op,
            "/access/v1/evaluations",
            Some(&token),
            batch(Some("permit_on_first_permit")),
        )
        .await;
        assert_eq!(decisions(or.json().await.unwrap()), [true]);
        let bad = post(
            &op,
            "/access/v1/evaluations",
            Some(&token),
            batch(Some("sometimes")),
        )
        .await;
        assert_eq!(bad.status(), 400);

        // An evaluation overrides a default (§7.1.1): the third asks for a download.
        let mut overriding = batch(None);
        overriding["evaluations"][2]["action"] = json!({"name": "download"});
        let answer: Value = post(&op, "/access/v1/evaluations", Some(&token), overriding)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer["evaluations"].as_array().unwrap().len(), 3);
        let b3 = recorded(&op, &rp.client_id, "b-3").await;
        assert!(b3.iter().any(|e| e.action == "download"));

        // A shape this API does not know is a per-evaluation error, closed (§7.2).
        let odd = json!({"evaluations": [
            {"subject": {"type": "user", "id": "alice@acmecorp.com"},
             "action": {"name": "can_read"}, "resource": {"type": "todo", "id": "1"}}
        ]});
        let answer: Value = post(&op, "/access/v1/evaluations", Some(&token), odd)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer["evaluations"][0]["decision"], false);
        assert_eq!(answer["evaluations"][0]["context"]["error"]["status"], 400);
        op.stop().await;
    }
);

#[tokio::test]
async fn callers_without_a_token_or_the_scope_are_refused_and_the_metadata_is_published() {
    let (op, token, _) = back_office(Backend::Sqlite).await;
    let none = post(&op, "/access/v1/evaluation", None, lookup("c-1", Some("x"))).await;
    assert_eq!(none.status(), 401);
    assert!(
        none.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let forged = post(
        &op,
        "/access/v1/evaluation",
        Some("not-a-token"),
        lookup("c-1", Some("x")),
    )
    .await;
    assert_eq!(forged.status(), 401);

    // A client-credentials token without the authzen scope.
    let (id, secret) = op
        .add_client(json!({"name": "Reports", "grant_types": ["client_credentials"], "scopes": ["reports"]}))
        .await
        .unwrap();
    let other = Rp::discover(op.issuer(), &id, &secret, REDIRECT)
        .await
        .unwrap();
    let wrong = other.service_token(&["reports"]).await;
    let refused = post(
        &op,
        "/access/v1/evaluation",
        Some(&wrong),
        lookup("c-1", Some("x")),
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert!(
        refused.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
    // No decision was recorded for refused callers (only the admin calls that set up the
    // back office are in the record).
    let records = op.state().store.audit_records(0, 100).await.unwrap();
    assert!(!records.is_empty());
    assert!(records.iter().all(|r| r.record.kind == Kind::Admin));

    let ok = post(
        &op,
        "/access/v1/evaluation",
        Some(&token),
        lookup("c-1", Some("x")),
    )
    .await;
    assert_eq!(ok.status(), 200);

    let metadata: Value =
        reqwest::get(format!("{}/.well-known/authzen-configuration", op.issuer()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(metadata["issuer"], op.issuer());
    assert_eq!(
        metadata["access_evaluation_endpoint"],
        format!("{}/access/v1/evaluation", op.issuer())
    );
    assert_eq!(
        metadata["access_evaluations_endpoint"],
        format!("{}/access/v1/evaluations", op.issuer())
    );
    op.stop().await;
}

per_backend!(
    /// An alert against an official (from the security team now, the anomaly detectors
    /// later) raises their risk: their next lookup is denied, and says why.
    #[tokio::test]
    async fn an_alert_against_an_official_stops_their_lookups(backend: Backend) {
        let (op, token, _rp) = back_office(backend).await;
        let ask = || {
            post(
                &op,
                "/access/v1/evaluation",
                Some(&token),
                lookup("c-1", Some("benefit review")),
            )
        };
        assert_eq!(ask().await.json::<Value>().await.unwrap()["decision"], true);
        let raised = reqwest::Client::new()
            .post(op.admin_url("/admin/v1/risk/alerts"))
            .bearer_auth(op.admin_token())
            .json(&json!({"actor": "official:kim@mapo-gu", "score": 90,
                          "reason": "bulk lookups of one neighbourhood"}))
            .send()
            .await
            .unwrap();
        assert_eq!(raised.status(), 201);
        let denied: Value = ask().await.json().await.unwrap();
        assert_eq!(denied["decision"], false, "{backend:?}: {denied}");
        assert!(
            denied["context"]["reason"]
                .as_str()
                .unwrap()
                .contains("alert"),
            "{denied}"
        );
        let risk = op
            .admin_get("/admin/v1/risk?actor=official:kim@mapo-gu")
            .await
            .unwrap();
        assert!(risk["risk"].as_u64().unwrap() >= 70, "{risk}");
        assert_eq!(
            risk["alerts"][0]["reason"],
            "bulk lookups of one neighbourhood"
        );
        op.stop().await;
    }
);
