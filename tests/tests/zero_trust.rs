//! Zero trust on every request (DESIGN §6): the policy decision point decides logins and
//! token requests with the relying party's facts; the default policies make a relying party
//! flagged sensitive require a high-assurance login.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid_tests::browser::param;
use anyid_tests::scenarios::{kakao_and_gov, social_login, step_up_with_gov};
use anyid_tests::upstream::FakeOidcProvider;
use anyid_tests::{Backend, Browser, Rp, TestServer, per_backend, rp_registration};
use serde_json::json;

const REDIRECT: &str = "http://127.0.0.1:1/callback";
const HIGH: &str = "urn:anyid:loa:high";

/// A relying party flagged sensitive.
async fn sensitive_rp(op: &TestServer) -> Rp {
    let mut registration = rp_registration("Health records", "127.0.0.1");
    registration["sensitive"] = true.into();
    let (id, secret) = op.add_client(registration).await.unwrap();
    Rp::discover(op.issuer(), &id, &secret, REDIRECT)
        .await
        .unwrap()
}

per_backend!(
    #[tokio::test]
    async fn a_sensitive_relying_party_makes_a_low_session_step_up_to_high(backend: Backend) {
        let kakao = FakeOidcProvider::start().await;
        let gov = FakeOidcProvider::start().await;
        let ci = "C".repeat(88);
        kakao.set_subject("k-1", json!({"nickname": "길동", "ci": ci}));
        gov.set_subject("gov-1", json!({"ci": ci}));
        let op = kakao_and_gov(backend, &kakao, &gov, true).await;
        let ordinary = op.relying_party("Library", "127.0.0.1").await;
        let sensitive = sensitive_rp(&op).await;
        let browser = Browser::new();

        // A social login (low) is enough for the ordinary relying party.
        social_login(&browser, &op, &ordinary).await;

        // The sensitive one asks for nothing, yet policy requires high: the low session
        // steps up, and only the high method is offered.
        let high = step_up_with_gov(&browser, &op, &sensitive, &[]).await;
        assert_eq!(
            high.auth_context_ref().unwrap().as_str(),
            HIGH,
            "{backend:?}"
        );
        op.stop().await;
    }
);

#[tokio::test]
async fn a_sensitive_relying_party_without_a_high_method_gets_unmet_authentication_requirements() {
    let kakao = FakeOidcProvider::start().await;
    let op = TestServer::start_with(Backend::Sqlite, |c| {
        c.upstreams.push(kakao.config("kakao"));
        c.passkeys.enabled = false;
        c.certificates.enabled = Some(false);
    })
    .await
    .unwrap();
    let sensitive = sensitive_rp(&op).await;
    let p = sensitive.start(&[], &[]);
    let cb = Browser::new()
        .open(p.url.as_str(), op.issuer())
        .await
        .callback();
    assert_eq!(
        param(&cb, "error").as_deref(),
        Some("unmet_authentication_requirements")
    );
    // The same server serves an ordinary relying party at low.
    let ordinary = op.relying_party("Library", "127.0.0.1").await;
    let p = ordinary.start(&[], &[]);
    let (_, page) = Browser::new()
        .open(p.url.as_str(), op.issuer())
        .await
        .page();
    assert!(page.contains("data-method=\"kakao\""));
    op.stop().await;
}

/// Whether an authorization request of `rp` reaches the login page (or is refused).
async fn login_allowed(op: &TestServer, rp: &Rp) -> bool {
    let p = rp.start(&[], &[]);
    match Browser::new().open(p.url.as_str(), op.issuer()).await {
        anyid_tests::Landing::Page { .. } => true,
        anyid_tests::Landing::RelyingParty(cb) => {
            assert_eq!(param(&cb, "error").as_deref(), Some("access_denied"));
            false
        }
    }
}

async fn policy_ids(op: &TestServer) -> Vec<String> {
    let listed = op.admin_get("/admin/v1/policies").await.unwrap();
    listed["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn policies_reload_through_the_admin_api_and_on_sighup_and_a_bad_set_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in anyid_policy::cedar::DEFAULT_POLICIES {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let policy_dir = dir.path().to_path_buf();
    let op = TestServer::start_with(Backend::Sqlite, |c| c.policy.dir = Some(policy_dir))
        .await
        .unwrap();
    let rp = op.relying_party("Library", "127.0.0.1").await;
    assert!(login_allowed(&op, &rp).await);
    let reload = || async {
        reqwest::Client::new()
            .post(op.admin_url("/admin/v1/policies/reload"))
            .bearer_auth(op.admin_token())
            .send()
            .await
            .unwrap()
    };

    // A good set: this relying party is closed.
    let closed = format!(
        r#"@id("library-closed") @reason("the library is closed")
           forbid (principal, action == AnyId::Action::"login", resource == AnyId::Client::"{}");"#,
        rp.client_id
    );
    std::fs::write(dir.path().join("closed.cedar"), closed).unwrap();
    let answer = reload().await;
    assert_eq!(answer.status(), 200);
    assert!(!login_allowed(&op, &rp).await, "the new set is in force");

    // A bad set is refused with the reason, and the set in force stays.
    std::fs::write(
        dir.path().join("broken.cedar"),
        "@id(\"b\") forbid (principal",
    )
    .unwrap();
    let answer = reload().await;
    assert_eq!(answer.status(), 422);
    let problem: serde_json::Value = answer.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("broken.cedar"),
        "{problem}"
    );
    assert!(!login_allowed(&op, &rp).await, "still closed");
    assert!(policy_ids(&op).await.contains(&"library-closed".to_owned()));

    // SIGHUP reloads too: with both files gone, the library opens again.
    std::fs::remove_file(dir.path().join("broken.cedar")).unwrap();
    std::fs::remove_file(dir.path().join("closed.cedar")).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while policy_ids(&op).await.contains(&"library-closed".to_owned()) {
        assert!(
            std::time::Instant::now() < deadline,
            "SIGHUP did not reload"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(login_allowed(&op, &rp).await);

    // Without a token, the admin API says nothing.
    let anonymous = reqwest::Client::new()
        .post(op.admin_url("/admin/v1/policies/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    op.stop().await;
}
