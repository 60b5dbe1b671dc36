//! Zero trust on every request (DESIGN §6): the policy decision point decides logins and
//! token requests with the relying party's facts; the default policies make a relying party
//! flagged sensitive require a high-assurance login.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid_tests::browser::{hidden, param, without_flow_ids};
use anyid_tests::certificates::{citizen_of, dev_pki, post_signature, sign};
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

/// Hong signs in at `rp` (profile), which asks userinfo with the access token it got.
async fn hong_userinfo(op: &TestServer, rp: &Rp) -> reqwest::Response {
    let pending = rp.start(&["profile"], &[]);
    let callback = Browser::new()
        .sign_in(pending.url.as_str(), op.issuer(), "hong")
        .await
        .callback();
    let tokens = rp.redeem(&callback, &pending).await.unwrap();
    reqwest::Client::new()
        .get(op.url("/userinfo"))
        .bearer_auth(openidconnect::OAuth2TokenResponse::access_token(&tokens).secret())
        .send()
        .await
        .unwrap()
}

/// Demo citizen Hong's account id.
async fn hong_account(op: &TestServer) -> String {
    anyid::store::AccountStore::citizen_by_identity(
        &op.state().store,
        anyid_adapters::dev::ISSUER,
        "hong",
    )
    .await
    .unwrap()
    .expect("Hong has signed in")
}

/// The decision log's entries for `query` (`/admin/v1/decisions?…`), waiting for the group
/// commit that writes them off the request path.
async fn logged(op: &TestServer, query: &str, at_least: usize) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let listed = op
            .admin_get(&format!("/admin/v1/decisions?{query}"))
            .await
            .unwrap();
        let rows = listed["decisions"].as_array().cloned().unwrap_or_default();
        if rows.len() >= at_least {
            return rows;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{query}: {} of {at_least} decisions logged",
            rows.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

per_backend!(
    /// Every decision is logged with who asked, for what, the outcome and the determining
    /// policies, and is listed through the admin API (filtered) and on the admin page.
    #[tokio::test]
    async fn every_decision_is_logged_and_listed_for_the_security_team(backend: Backend) {
        let op = TestServer::start(backend).await.unwrap();
        let rp = op.relying_party("Library", "127.0.0.1").await;
        let userinfo = hong_userinfo(&op, &rp).await;
        assert_eq!(userinfo.status(), 200);

        let issued = logged(&op, "action=issue_token", 1).await;
        let citizen = hong_account(&op).await;
        let hers = logged(&op, &format!("action=issue_token&citizen={citizen}"), 1).await;
        assert_eq!(
            hers[0]["id"], issued[0]["id"],
            "{backend:?}: found by account id"
        );
        assert!(
            !serde_json::to_string(&issued).unwrap().contains(&citizen),
            "{backend:?}: a pseudonym, not the account id"
        );
        let record = &issued[0];
        assert_eq!(record["decision"], "allow", "{backend:?}: {record}");
        assert!(
            record["principal"]
                .as_str()
                .unwrap()
                .starts_with("citizen:")
        );
        assert_eq!(record["resource"], format!("client:{}", rp.client_id));
        assert!(
            record["policies"]
                .as_array()
                .unwrap()
                .contains(&"baseline-tokens".into()),
            "{record}"
        );
        logged(&op, "action=release_claims&decision=allow", 1).await;
        logged(&op, "action=login", 1).await;
        let two = logged(&op, "decision=allow&limit=2", 2).await;
        assert_eq!(two.len(), 2, "{backend:?}: the limit holds");
        assert!(two.iter().all(|d| d["decision"] == "allow"), "{two:?}");
        assert!(
            logged(&op, "decision=deny", 0).await.is_empty(),
            "{backend:?}: nothing was denied, and the filter shows nothing"
        );

        // The page asks a browser for the admin token (HTTP Basic) and shows the decisions.
        let page = op.admin_url("/admin/decisions?action=issue_token");
        let challenge = reqwest::get(&page).await.unwrap();
        assert_eq!(challenge.status(), 401);
        assert!(
            challenge.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic"),
            "{:?}",
            challenge.headers()
        );
        let shown = reqwest::Client::new()
            .get(&page)
            .basic_auth("operator", Some(op.admin_token()))
            .send()
            .await
            .unwrap();
        assert_eq!(shown.status(), 200);
        let html = shown.text().await.unwrap();
        assert!(
            html.contains("<meter") && html.contains("baseline-tokens"),
            "{html}"
        );
        let wrong = reqwest::Client::new()
            .get(&page)
            .basic_auth("operator", Some("not-the-token"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        logged(&op, "action=admin", 1).await;
        op.stop().await;
    }
);

/// A deployment's policies reach userinfo (a step-up is RFC 9470's challenge),
/// introspection and the admin API (confined to the admin network); each refusal is logged.
#[tokio::test]
async fn userinfo_introspection_and_administration_follow_the_policies_in_force() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in anyid_policy::cedar::DEFAULT_POLICIES {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    std::fs::write(
        dir.path().join("deployment.cedar"),
        r#"@id("claims-need-substantial") @reason("claims need a substantial login")
           @step_up("substantial")
           forbid (principal is AnyId::Citizen, action == AnyId::Action::"release_claims", resource)
           when { context.acr < 2 };
           @id("no-introspection-for-sensitive") @reason("sensitive services do not introspect")
           forbid (principal is AnyId::Client, action == AnyId::Action::"introspect", resource)
           when { resource.sensitive };"#,
    )
    .unwrap();
    let policy_dir = dir.path().to_path_buf();
    let op = TestServer::start_with(Backend::Sqlite, |c| {
        c.policy.dir = Some(policy_dir);
        c.policy.zones.push(anyid::config::ZoneConfig {
            name: "admin".into(),
            ranges: vec!["10.0.0.0/8".into()],
        });
    })
    .await
    .unwrap();
    let rp = op.relying_party("Library", "127.0.0.1").await;
    let userinfo = hong_userinfo(&op, &rp).await;
    assert_eq!(userinfo.status(), 401);
    let challenge = userinfo.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains("error=\"insufficient_user_authentication\"")
            && challenge.contains("acr_values=\"urn:anyid:loa:substantial\""),
        "{challenge}"
    );
    logged(&op, "action=release_claims&decision=step_up", 1).await;

    // A sensitive service may not introspect, even its own token.
    let (id, secret) = op
        .add_client(serde_json::json!({
            "name": "Records office", "grant_types": ["client_credentials"],
            "scopes": ["records"], "sensitive": true
        }))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(op.url("/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "records")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let introspected = http
        .post(op.url("/introspect"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", token["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(introspected.status(), 400);
    let body: serde_json::Value = introspected.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized_client", "{body}");

    // Administration only from the admin network: this loopback caller is refused.
    std::fs::write(
        dir.path().join("admin.cedar"),
        r#"@id("admin-from-admin-network") @reason("administration only from the admin network")
           forbid (principal, action == AnyId::Action::"admin", resource)
           unless { context.zone == "admin" };"#,
    )
    .unwrap();
    let reload = http
        .post(op.admin_url("/admin/v1/policies/reload"))
        .bearer_auth(op.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(reload.status(), 200);
    let refused = http
        .get(op.admin_url("/admin/v1/clients"))
        .bearer_auth(op.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let query = anyid::decisions::DecisionQuery {
            action: Some("admin".into()),
            decision: Some("deny".into()),
            ..Default::default()
        };
        let denied = anyid::store::DecisionStore::decisions(&op.state().store, &query)
            .await
            .unwrap();
        if let Some(d) = denied.first() {
            assert_eq!(d.policies, vec!["admin-from-admin-network".to_owned()]);
            assert_eq!(d.zone, "internet", "loopback is in no configured zone");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the denial is logged");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    op.stop().await;
}

/// A login at `rp` as demo citizen `who` from `browser`; the callback and its request.
async fn login_from(
    browser: &Browser,
    op: &TestServer,
    rp: &Rp,
    who: &str,
) -> (url::Url, anyid_tests::rp::Pending) {
    let pending = rp.start(&["profile", "offline_access"], &[("prompt", "consent")]);
    let callback = browser
        .sign_in(pending.url.as_str(), op.issuer(), who)
        .await
        .callback();
    (callback, pending)
}

per_backend!(
    /// Risk: Hong signs in from Seoul. Ten minutes later someone signs in as Hong from
    /// Frankfurt on a new device: impossible travel. That session is high risk and gets no
    /// token; the portal and the admin API say why. The Seoul session is unaffected until the
    /// security team raises an alert against Hong; then its refresh token is refused too.
    #[tokio::test]
    async fn a_high_risk_session_is_refused_tokens(backend: Backend) {
        let dir = tempfile::tempdir().unwrap();
        let geoip = dir.path().join("cities.mmdb");
        anyid_tests::geoip::write(
            &geoip,
            &[
                ("203.0.113.0".parse().unwrap(), 24, (37.5665, 126.978)),
                ("198.51.100.0".parse().unwrap(), 24, (50.1109, 8.6821)),
            ],
        )
        .unwrap();
        let op = TestServer::start_with(backend, |c| {
            c.trusted_proxies = vec!["127.0.0.1".into()];
            c.risk.geoip_database = Some(geoip);
        })
        .await
        .unwrap();
        let rp = op.relying_party("Tax office", "127.0.0.1").await;

        let seoul = Browser::behind_proxy_for("203.0.113.10");
        let (callback, pending) = login_from(&seoul, &op, &rp, "hong").await;
        let tokens = rp.redeem(&callback, &pending).await.unwrap();

        op.clock.advance(600);
        let frankfurt = Browser::behind_proxy_for("198.51.100.20");
        let (callback, pending) = login_from(&frankfurt, &op, &rp, "hong").await;
        let refused = rp.redeem(&callback, &pending).await;
        assert!(
            refused.is_err(),
            "{backend:?}: no token for the risky session"
        );
        let (_, page) = frankfurt
            .open(&op.url("/account"), op.issuer())
            .await
            .page();
        assert!(
            page.contains("너무 짧은 시간에 너무 먼 곳"),
            "{backend:?}: {page}"
        );

        let citizen = hong_account(&op).await;
        let risk = op
            .admin_get(&format!("/admin/v1/risk?citizen={citizen}"))
            .await
            .unwrap();
        let sessions = risk["sessions"].as_array().unwrap();
        let high = sessions
            .iter()
            .find(|s| s["risk"].as_u64().unwrap() >= 70)
            .unwrap_or_else(|| panic!("{backend:?}: a high-risk session in {risk}"));
        let signals = high["signals"].to_string();
        assert!(
            signals.contains("impossible_travel") && signals.contains("new_device"),
            "{signals}"
        );
        logged(&op, "action=issue_token&decision=deny", 1).await;

        // The Seoul session still refreshes, until an alert raises Hong's risk.
        let refresh = |token: openidconnect::RefreshToken| {
            let rp = &rp;
            async move {
                rp.client()
                    .exchange_refresh_token(&token)
                    .unwrap()
                    .request_async(&rp.http)
                    .await
            }
        };
        let first = openidconnect::OAuth2TokenResponse::refresh_token(&tokens)
            .unwrap()
            .clone();
        let refreshed = refresh(first).await.expect("the Seoul session refreshes");
        let rotated = openidconnect::OAuth2TokenResponse::refresh_token(&refreshed)
            .unwrap()
            .clone();
        let raised = reqwest::Client::new()
            .post(op.admin_url("/admin/v1/risk/alerts"))
            .bearer_auth(op.admin_token())
            .json(&json!({"actor": format!("citizen:{citizen}"), "score": 80,
                          "reason": "the account is being taken over"}))
            .send()
            .await
            .unwrap();
        assert_eq!(raised.status(), 201);
        let after = refresh(rotated).await;
        assert!(after.is_err(), "{backend:?}: the alert stops the session");
        let denied = logged(&op, "action=issue_token&decision=deny", 2).await;
        assert!(
            denied[0]["policies"]
                .to_string()
                .contains("no-tokens-for-risky-sessions"),
            "{denied:?}"
        );
        op.stop().await;
    }
);

/// A client over its token budget gets 429 with `Retry-After`, the refusal is decided and
/// logged, and the budget recovers as time passes.
#[tokio::test]
async fn a_client_over_its_token_budget_waits_and_recovers() {
    let op = TestServer::start_with(Backend::Sqlite, |c| {
        c.limits.token_per_client_per_minute = 3;
    })
    .await
    .unwrap();
    let (id, secret) = op
        .add_client(
            json!({"name": "Records", "grant_types": ["client_credentials"],
                           "scopes": ["records"]}),
        )
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let ask = || {
        http.post(op.url("/token"))
            .basic_auth(&id, Some(&secret))
            .form(&[("grant_type", "client_credentials"), ("scope", "records")])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(ask().await.unwrap().status(), 200);
    }
    let over = ask().await.unwrap();
    assert_eq!(over.status(), 429);
    let wait = i64::try_from(anyid_tests::retry_after(&over, 20)).unwrap();
    let body: serde_json::Value = over.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request", "{body}");
    let throttled = logged(&op, "action=issue_token&decision=deny", 1).await;
    assert_eq!(throttled[0]["detail"], "throttled", "{throttled:?}");
    // Another client's budget is its own.
    let (other, other_secret) = op
        .add_client(
            json!({"name": "Archive", "grant_types": ["client_credentials"],
                           "scopes": ["records"]}),
        )
        .await
        .unwrap();
    let elsewhere = http
        .post(op.url("/token"))
        .basic_auth(&other, Some(&other_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "records")])
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 200);
    op.clock.advance(wait);
    assert_eq!(
        ask().await.unwrap().status(),
        200,
        "recovered after Retry-After"
    );
    op.stop().await;
}

/// The chooser of a new login at `rp` in `browser`, its challenge, and dev citizen
/// `name`'s right or wrong signature (over another text than the challenge).
async fn certificate_form(
    browser: &Browser,
    op: &TestServer,
    rp: &Rp,
    name: &str,
    right: bool,
) -> (String, String, String) {
    let pki = dev_pki(op);
    let p = rp.start(&[], &[]);
    let (_, page) = browser.open(p.url.as_str(), op.issuer()).await.page();
    let challenge = hidden(&page, "challenge");
    let signed = sign(
        &pki,
        name,
        if right {
            &challenge
        } else {
            "not the challenge"
        },
    );
    (page, challenge, signed)
}

/// One certificate login attempt: where it lands, consent allowed.
async fn certificate_attempt(
    browser: &Browser,
    op: &TestServer,
    rp: &Rp,
    name: &str,
    right: bool,
) -> anyid_tests::Landing {
    let (page, challenge, signed) = certificate_form(browser, op, rp, name, right).await;
    let landing = post_signature(browser, op, &page, &challenge, &signed).await;
    browser.finish_consent(op.issuer(), landing).await
}

/// Repeated wrong signatures lock a certificate for a while; the locked certificate's
/// right signature gets exactly the answer of a wrong one, and a certificate nobody holds
/// an account with goes through exactly the same answers (no account enumeration). Once
/// the lock lifts the citizen signs in, and the session carries the failures as a risk.
#[tokio::test]
async fn a_locked_certificate_answers_like_a_wrong_signature_for_known_and_unknown_accounts() {
    let op = TestServer::start_with(Backend::Sqlite, |c| {
        c.limits.login_failures_before_lockout = 3;
        c.limits.lockout_minutes = 3;
        c.limits.login_failure_delay_ms = 5;
    })
    .await
    .unwrap();
    let pki = dev_pki(&op);
    let rp = op.relying_party("Land registry", "127.0.0.1").await;
    // Hong has an account; Kim has never signed in.
    certificate_attempt(&Browser::new(), &op, &rp, "hong", true)
        .await
        .callback();
    let hong = citizen_of(&op, &pki, "hong").await.expect("Hong's account");
    assert!(citizen_of(&op, &pki, "kim").await.is_none());

    let mut answers = Vec::new();
    for name in ["hong", "kim"] {
        let browser = Browser::new();
        let mut seen = Vec::new();
        for right in [false, false, false, true] {
            let landing = certificate_attempt(&browser, &op, &rp, name, right).await;
            let (status, body) = landing.page();
            assert_eq!(status, 400, "{name}: {body}");
            assert!(
                body.contains("서명이 승인되지 않았습니다"),
                "{name}: {body}"
            );
            seen.push(without_flow_ids(&body));
        }
        assert!(
            seen.iter().all(|b| *b == seen[0]),
            "{name}: the locked certificate's right signature is answered like a wrong one"
        );
        let (_, account) = browser.open(&op.url("/account"), op.issuer()).await.page();
        assert!(
            account.contains("action=\"/login/dev\""),
            "{name}: not signed in"
        );
        answers.push(seen);
    }
    assert_eq!(answers[0], answers[1], "known and unknown accounts alike");
    assert!(
        citizen_of(&op, &pki, "kim").await.is_none(),
        "nothing created"
    );

    // One failure's worth drains in a minute (3 per 3 minutes): the lock lifts.
    op.clock.advance(61);
    certificate_attempt(&Browser::new(), &op, &rp, "hong", true)
        .await
        .callback();
    let risk = op
        .admin_get(&format!("/admin/v1/risk?citizen={hong}"))
        .await
        .unwrap();
    let sessions = risk["sessions"].as_array().unwrap();
    assert!(
        sessions
            .iter()
            .any(|s| s["signals"].to_string().contains("failed_attempts")),
        "{risk}"
    );
    op.stop().await;
}

/// Attempts at one credential over its budget get 429 with `Retry-After` and a page that
/// says what to do, whatever the signature; the budget recovers as time passes.
#[tokio::test]
async fn attempts_at_one_certificate_over_their_budget_wait_and_recover() {
    let op = TestServer::start_with(Backend::Sqlite, |c| {
        c.limits.login_per_account_per_minute = 2;
    })
    .await
    .unwrap();
    let rp = op.relying_party("Land registry", "127.0.0.1").await;
    let browser = Browser::new();
    for _ in 0..2 {
        let (status, body) = certificate_attempt(&browser, &op, &rp, "lee", false)
            .await
            .page();
        assert_eq!(status, 400, "{body}");
    }
    let (page, challenge, signed) = certificate_form(&browser, &op, &rp, "lee", true).await;
    let over = browser
        .post(
            &op.url("/login/certificate"),
            &[
                ("flow", &hidden(&page, "flow")),
                ("csrf", &hidden(&page, "csrf")),
                ("challenge", &challenge),
                ("signature", &signed),
            ],
        )
        .await;
    assert_eq!(over.status(), 429);
    let wait = i64::try_from(anyid_tests::retry_after(&over, 30)).unwrap();
    let body = over.text().await.unwrap();
    assert!(body.contains("로그인 시도가 너무 많았습니다"), "{body}");
    assert!(body.contains("/login?flow="), "a way back: {body}");
    // Another certificate's budget is its own.
    certificate_attempt(&Browser::new(), &op, &rp, "hong", true)
        .await
        .callback();
    op.clock.advance(wait);
    certificate_attempt(&Browser::new(), &op, &rp, "lee", true)
        .await
        .callback();
    op.stop().await;
}
