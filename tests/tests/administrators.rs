//! Administrators' own credentials (issue 10): each administrator's token works for them
//! alone, an auditor may only read, a removed administrator's token stops at once, and every
//! admin call — permitted or refused — is in the access record with who, when, from where
//! and what, before it is carried out. The shared admin token still works, recorded as such.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::admins::{self, Role};
use anyid::audit::event::{AccessRecord, Kind};
use anyid::store::AuditStore;
use anyid_tests::{Backend, TestServer, per_backend};
use reqwest::StatusCode;

/// The access record's admin events, in order.
async fn admin_events(op: &TestServer) -> Vec<AccessRecord> {
    op.state()
        .store
        .audit_records(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.record)
        .filter(|r| r.kind == Kind::Admin)
        .collect()
}

async fn call(
    op: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .request(method, op.admin_url(path))
        .bearer_auth(token)
        .json(&serde_json::json!({"name": "Library", "redirect_uris": ["https://library.example/cb"]}))
        .send()
        .await
        .unwrap()
}

per_backend!(
    #[tokio::test]
    async fn each_administrator_acts_under_their_own_name_and_every_call_is_recorded(
        backend: Backend,
    ) {
        let op = TestServer::start(backend).await.unwrap();
        let store = &op.state().store;
        let now = op.state().clock.now();
        let kim = admins::add(store, "kim", Role::Admin, now).await.unwrap();
        let lee = admins::add(store, "lee", Role::Auditor, now).await.unwrap();
        assert!(kim.starts_with("kim."));
        // Names are never reused.
        assert!(admins::add(store, "kim", Role::Admin, now).await.is_err());

        // kim registers a client; lee may read but not write.
        let made = call(&op, reqwest::Method::POST, "/admin/v1/clients", &kim).await;
        assert_eq!(made.status(), StatusCode::CREATED, "{backend:?}");
        let read = call(&op, reqwest::Method::GET, "/admin/v1/clients", &lee).await;
        assert_eq!(read.status(), StatusCode::OK);
        let refused = call(&op, reqwest::Method::POST, "/admin/v1/clients", &lee).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        // HTTP Basic with the name and the secret works too.
        let (_, secret) = kim.split_once('.').unwrap();
        let basic = reqwest::Client::new()
            .get(op.admin_url("/admin/v1/policies"))
            .basic_auth("kim", Some(secret))
            .send()
            .await
            .unwrap();
        assert_eq!(basic.status(), StatusCode::OK);
        // Another administrator's secret under kim's name, a guessed one, and none.
        let (_, lee_secret) = lee.split_once('.').unwrap();
        for wrong in [format!("kim.{lee_secret}"), "kim.guess".to_owned()] {
            let answer = call(&op, reqwest::Method::GET, "/admin/v1/clients", &wrong).await;
            assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        }
        // The shared token, recorded under its own name.
        let shared = call(
            &op,
            reqwest::Method::GET,
            "/admin/v1/policies",
            &op.admin_token(),
        )
        .await;
        assert_eq!(shared.status(), StatusCode::OK);
        // No credential at all: refused, and not recorded.
        let bare = reqwest::Client::new()
            .get(op.admin_url("/admin/v1/clients"))
            .send()
            .await
            .unwrap();
        assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
        assert!(
            bare.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
        // Removed: kim's token stops at once.
        admins::remove(store, "kim", now).await.unwrap();
        let gone = call(&op, reqwest::Method::GET, "/admin/v1/clients", &kim).await;
        assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);

        // Every call is in the record, in order: who (or who was claimed), the outcome,
        // what, from where.
        let events = admin_events(&op).await;
        let seen: Vec<(Option<&str>, &str, &str)> = events
            .iter()
            .map(|e| (e.actor_id.as_deref(), e.outcome.as_str(), e.action.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (Some("kim"), "success", "POST /admin/v1/clients"),
                (Some("lee"), "success", "GET /admin/v1/clients"),
                (Some("lee"), "denied", "POST /admin/v1/clients"),
                (Some("kim"), "success", "GET /admin/v1/policies"),
                (Some("kim"), "denied", "GET /admin/v1/clients"),
                (Some("kim"), "denied", "GET /admin/v1/clients"),
                (Some("admin-token"), "success", "GET /admin/v1/policies"),
                (Some("kim"), "denied", "GET /admin/v1/clients"),
            ],
            "{backend:?}"
        );
        assert!(
            events
                .iter()
                .all(|e| e.source_ip == Some([127, 0, 0, 1].into()))
        );
        assert_eq!(events[1].actor_role.as_deref(), Some("auditor"));
        // The record still verifies.
        let report = anyid::audit::verify::verify(store, &[], |_, _| {})
            .await
            .unwrap();
        assert!(report.findings.is_empty());
    }
);
