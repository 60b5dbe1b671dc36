//! "Who used my data" (issue 10): one citizen's logins, the details released to a relying
//! party (ID token, userinfo), an official's lookup Any-ID decided (AuthZEN) and an access
//! the relying party's back office reported — all in the one access record, shown on
//! `/account/history` with the service named and a sentence each, filtered by period and
//! kind, and downloadable as CSV. Another citizen, and the same `sub` from another
//! reporter, are not shown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::audit::event::Kind;
use anyid::store::AuditStore;
use anyid_tests::{Backend, Browser, Rp, TestServer, per_backend};
use openidconnect::OAuth2TokenResponse;
use reqwest::StatusCode;
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:1/callback";

/// The RFC 3339 time `ago_s` seconds before the server's clock, in Seoul time.
fn ts(op: &TestServer, ago_s: i64) -> String {
    let now = op.state().clock.now() - ago_s;
    time::OffsetDateTime::from_unix_timestamp(now)
        .unwrap()
        .to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

async fn page(browser: &Browser, op: &TestServer, path: &str) -> (StatusCode, String) {
    browser.open(&op.url(path), op.issuer()).await.page()
}

per_backend!(
    #[tokio::test]
    async fn a_citizen_sees_who_used_their_data_named_explained_and_downloadable(backend: Backend) {
        let op = TestServer::start_with(backend, |c| {
            c.policy.agencies.push(anyid_policy::facts::Agency {
                id: "mapo-gu".into(),
                national: true,
                jurisdiction: Vec::new(),
            });
        })
        .await
        .unwrap();
        // One relying party: a website citizens sign in to, whose back office also reports
        // its officials' accesses and asks Any-ID before lookups.
        let (id, secret) = op
            .add_client(json!({
                "name": "Mapo welfare office",
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "client_credentials"],
                "scopes": ["openid", "profile", "email", "audit:write", "authzen"],
                "agency": "mapo-gu",
            }))
            .await
            .unwrap();
        let rp = Rp::discover(op.issuer(), &id, &secret, REDIRECT)
            .await
            .unwrap();
        let browser = Browser::new();
        let http = reqwest::Client::new();

        // hong signs in to the website, which reads userinfo.
        let p = rp.start(&["profile", "email"], &[]);
        let cb = browser
            .sign_in(p.url.as_str(), op.issuer(), "hong")
            .await
            .callback();
        let tokens = rp.redeem(&cb, &p).await.unwrap();
        let userinfo: Value = http
            .get(op.url("/userinfo"))
            .bearer_auth(tokens.access_token().secret())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sub = userinfo["sub"].as_str().unwrap().to_owned();

        // The back office asks before a lookup, and reports a download.
        let service = rp.service_token(&["authzen", "audit:write"]).await;
        let decided = http
            .post(op.url("/access/v1/evaluation"))
            .bearer_auth(&service)
            .json(&json!({
                "subject": {"type": "official", "id": "kim", "properties": {"role": "caseworker"}},
                "action": {"name": "view"},
                "resource": {"type": "citizen_record", "id": sub,
                             "properties": {"data_categories": ["income"]}},
                "context": {"purpose": "emergency"}
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(decided.status(), StatusCode::OK);
        let reported = http
            .post(op.url("/audit/v1/events"))
            .bearer_auth(&service)
            .json(&json!({"events": [
                {"event_id": "d-1", "ts": ts(&op, 600), "kind": "access", "actor_id": "lee",
                 "actor_agency": "mapo-gu", "actor_role": "auditor", "outcome": "success",
                 "subject_id": sub, "action": "download", "data_categories": ["health"],
                 "purpose": "annual audit", "record_count": 1},
                {"event_id": "old-1", "ts": ts(&op, 400 * 86_400), "kind": "access",
                 "actor_id": "lee", "outcome": "success", "subject_id": sub,
                 "action": "print", "data_categories": ["address"]}
            ]}))
            .send()
            .await
            .unwrap();
        assert_eq!(reported.status(), StatusCode::OK, "{backend:?}");

        // Another reporter using the same string names someone else; another citizen's
        // login is theirs.
        let (other_id, other_secret) = op
            .add_client(json!({
                "name": "Tax office",
                "grant_types": ["client_credentials"],
                "scopes": ["audit:write"],
            }))
            .await
            .unwrap();
        let other = Rp::discover(op.issuer(), &other_id, &other_secret, REDIRECT)
            .await
            .unwrap()
            .service_token(&["audit:write"])
            .await;
        let foreign = http
            .post(op.url("/audit/v1/events"))
            .bearer_auth(&other)
            .json(&json!({"events": [
                {"event_id": "t-1", "ts": ts(&op, 60), "kind": "access", "actor_id": "park",
                 "outcome": "success", "subject_id": sub, "action": "view",
                 "data_categories": ["tax"], "purpose": "snooping"}
            ]}))
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), StatusCode::OK);
        Browser::new()
            .sign_in(&op.url("/account"), op.issuer(), "kim")
            .await;

        // Every event is in the one log: logins, releases, the decision, the reports.
        let store = &op.state().store;
        let size = store.audit_frontier().await.unwrap().size();
        let records = store.audit_records(0, 100).await.unwrap();
        assert_eq!(records.len() as u64, size);
        let kinds: Vec<Kind> = records.iter().map(|r| r.record.kind).collect();
        for kind in [Kind::Login, Kind::Release, Kind::Decision, Kind::Access] {
            assert!(kinds.contains(&kind), "{backend:?}: {kind:?} in {kinds:?}");
        }
        let releases: Vec<&str> = records
            .iter()
            .filter(|r| r.record.kind == Kind::Release)
            .map(|r| r.record.action.as_str())
            .collect();
        assert_eq!(releases, ["id_token", "userinfo"]);

        // The page, in English: the service by name, each entry explained, not the
        // other reporter's entry nor the other citizen's login, nor what is older than a
        // year.
        browser
            .sign_in(&op.url("/account"), op.issuer(), "hong")
            .await;
        let (status, body) = page(&browser, &op, "/account/history?lang=en").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("Mapo welfare office received these details about you"),
            "{body}"
        );
        assert!(body.contains("You signed in with"), "{body}");
        assert!(
            body.contains(
                "used Mapo welfare office to download your record (health) for: annual audit"
            ),
            "{body}"
        );
        assert!(body.contains("Any-ID allowed it"), "{body}");
        // Officials are not named by default: their role and agency are.
        assert!(!body.contains(">lee"), "{body}");
        assert!(body.contains("An official (auditor) (mapo-gu)"), "{body}");
        assert!(
            !body.contains("snooping") && !body.contains("Tax office"),
            "{body}"
        );
        assert!(
            !body.contains("print"),
            "older than the default year: {body}"
        );

        // Filters: only officials; a period reaching back further shows the old print.
        let (_, officials) = page(&browser, &op, "/account/history?lang=en&show=officials").await;
        assert!(!officials.contains("received these details"));
        assert!(officials.contains("annual audit"));
        let (_, longer) = page(
            &browser,
            &op,
            "/account/history?lang=en&from=2000-01-01&to=2099-12-31",
        )
        .await;
        assert!(
            longer.contains("to print your record (address)"),
            "{longer}"
        );
        let (_, bad) = page(&browser, &op, "/account/history?lang=en&from=soon").await;
        assert!(bad.contains("could not be read"), "{bad}");

        // Korean.
        let (_, korean) = page(&browser, &op, "/account/history?lang=ko").await;
        assert!(korean.contains("내 정보 이용 내역"));
        assert!(
            korean.contains("Mapo welfare office에 내 정보가 제공되었습니다"),
            "{korean}"
        );

        // The CSV has a header and one row per entry shown.
        let csv = browser
            .get(&op.url("/account/history.csv?lang=en&show=officials"))
            .await;
        assert_eq!(csv.status(), StatusCode::OK);
        assert!(
            csv.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let text = csv.text().await.unwrap();
        let mut rows = csv_rows(&text);
        let header = rows.remove(0);
        assert_eq!(header[1], "Who");
        assert_eq!(rows.len(), 2, "the decision and the download: {text}");
        assert!(rows.iter().any(|r| r[6] == "annual audit"));

        // Signed out: the page and the CSV send to sign-in and give nothing.
        let stranger = Browser::new();
        for path in ["/account/history", "/account/history.csv"] {
            let answer = stranger.get(&op.url(path)).await;
            assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{path}");
            assert_eq!(answer.headers()["location"], "/account", "{path}");
        }
    }
);

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}
