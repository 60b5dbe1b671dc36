//! Brokered login end to end: a relying party (openidconnect) sends a citizen to Any-ID, who
//! logs in through a real upstream peer on loopback (a Kakao-like OpenID provider, a
//! Naver-like OAuth 2 provider, an Apple-like form_post provider) and comes back. Every
//! upstream failure ends on a clear error page with nothing half-created.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::store::AccountStore;
use anyid::store::AuditStore;
use anyid_tests::upstream::{Behaviour, FakeNaver, FakeOidcProvider};
use anyid_tests::{Backend, Browser, Landing, Rp, TestServer, per_backend};
use reqwest::StatusCode;
use serde_json::json;

/// Count the citizens and live sessions: nothing may appear after a failed login.
async fn citizens_and_sessions(op: &TestServer) -> (i64, i64) {
    (op.count("citizens").await, op.count("sso_sessions").await)
}

/// Click the provider's button on the chooser and follow it through the upstream and back.
async fn via(
    browser: &Browser,
    op: &TestServer,
    rp: &Rp,
    provider: &str,
) -> (Landing, anyid_tests::rp::Pending) {
    let pending = rp.start(&["email", "profile"], &[]);
    let (_, page) = browser.open(pending.url.as_str(), op.issuer()).await.page();
    assert!(
        page.contains(&format!("data-method=\"{provider}\"")),
        "{page}"
    );
    let landing = browser.choose(op.issuer(), &page, provider).await;
    (landing, pending)
}

per_backend!(
    #[tokio::test]
    async fn a_citizen_logs_in_with_a_kakao_like_provider_and_gets_tokens(backend: Backend) {
        let kakao = FakeOidcProvider::start().await;
        kakao.set_subject(
            "kakao-1001",
            json!({"nickname": "길동", "email": "hong@kakao.example", "email_verified": true}),
        );
        let op = TestServer::start_with(backend, |c| c.upstreams.push(kakao.config("kakao")))
            .await
            .unwrap();
        let rp = op.relying_party("Tax office", "127.0.0.1").await;
        let browser = Browser::new();
        let (landing, pending) = via(&browser, &op, &rp, "kakao").await;
        let callback = browser
            .finish_consent(op.issuer(), landing)
            .await
            .callback();
        let claims = rp.sign_in_claims(&callback, &pending).await;
        assert_eq!(
            claims.auth_context_ref().unwrap().as_str(),
            "urn:anyid:loa:low"
        );
        assert_eq!(claims.auth_method_refs().unwrap()[0].as_str(), "fed");
        let tokens = rp.redeem(&callback, &pending).await;
        assert!(tokens.is_err(), "the code was used once already");
        assert_eq!(citizens_and_sessions(&op).await.0, 1, "{backend:?}");
        op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn every_upstream_failure_ends_on_an_error_page_with_nothing_created(backend: Backend) {
        let kakao = FakeOidcProvider::start().await;
        let op = TestServer::start_with(backend, |c| c.upstreams.push(kakao.config("kakao")))
            .await
            .unwrap();
        let rp = op.relying_party("Tax office", "127.0.0.1").await;
        for behaviour in [
            Behaviour::ErrorResponse,
            Behaviour::WrongState,
            Behaviour::WrongNonce,
            Behaviour::BadSignature,
            Behaviour::UnknownKid,
            Behaviour::WrongAudience,
            Behaviour::Expired,
        ] {
            kakao.set_behaviour(behaviour);
            let browser = Browser::new();
            let (landing, _) = via(&browser, &op, &rp, "kakao").await;
            let Landing::Page { status, body, .. } = landing else {
                panic!("{backend:?} {behaviour:?}: expected an error page");
            };
            assert_eq!(status, StatusCode::BAD_REQUEST, "{behaviour:?}");
            assert!(body.contains("role=\"alert\""), "{behaviour:?}: {body}");
            // A state that matches no login started here cannot be tied to a flow; every
            // other failure offers a way back to the service.
            if behaviour != Behaviour::WrongState {
                assert!(
                    body.contains("http://127.0.0.1:1/callback?error=access_denied"),
                    "{behaviour:?}: a way back to the service"
                );
            }
            assert_eq!(
                citizens_and_sessions(&op).await,
                (0, 0),
                "{backend:?} {behaviour:?}: nothing half-created"
            );
        }
        op.stop().await;
    }
);

#[tokio::test]
async fn same_verified_email_does_not_merge_but_the_same_strong_identifier_does() {
    let kakao = FakeOidcProvider::start().await;
    let naver = FakeNaver::start().await;
    let gov = FakeOidcProvider::start().await;
    let op = TestServer::start_with(anyid_tests::Backend::Sqlite, |c| {
        c.upstreams.push(kakao.config("kakao"));
        c.upstreams.push(naver.config("naver"));
        let mut trusted = gov.config("gov");
        trusted.strong_identifier_claim = Some("ci".into());
        c.upstreams.push(trusted);
    })
    .await
    .unwrap();
    let rp = op.relying_party("Tax office", "127.0.0.1").await;
    kakao.set_subject(
        "k-1",
        json!({"email": "same@example.kr", "email_verified": true}),
    );
    naver.set_profile(json!({"id": "n-1", "email": "same@example.kr", "name": "홍길동"}));

    let sub_of = |provider: &'static str| {
        let (op, rp) = (&op, &rp);
        async move {
            let browser = Browser::new();
            let (landing, pending) = via(&browser, op, rp, provider).await;
            let cb = browser
                .finish_consent(op.issuer(), landing)
                .await
                .callback();
            rp.sign_in_claims(&cb, &pending).await.subject().to_string()
        }
    };
    let by_kakao = sub_of("kakao").await;
    let by_naver = sub_of("naver").await;
    assert_ne!(by_kakao, by_naver, "a shared email never merges accounts");

    let ci = "x".repeat(88);
    gov.set_subject("gov-a", json!({"ci": ci}));
    let first = sub_of("gov").await;
    gov.set_subject("gov-b", json!({"ci": ci}));
    let second = sub_of("gov").await;
    assert_eq!(
        first, second,
        "the same verified strong identifier is one citizen"
    );
    let citizen = op
        .state()
        .store
        .citizen_by_identity(&gov.issuer(), "gov-b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        op.state().store.identities(&citizen).await.unwrap().len(),
        2
    );
    op.stop().await;
}

per_backend!(
    #[tokio::test]
    async fn apple_like_form_post_login_keeps_the_name_sent_only_on_the_first_login(
        backend: Backend,
    ) {
        let apple = FakeOidcProvider::start_apple().await;
        apple.set_subject(
            "001234.apple",
            json!({"email": "x7k2@privaterelay.appleid.com", "email_verified": "true"}),
        );
        apple.set_user_field(Some(
            json!({"name": {"firstName": "Gildong", "lastName": "Hong"}}),
        ));
        let op = TestServer::start_with(backend, |c| c.upstreams.push(apple.config("apple")))
            .await
            .unwrap();
        let rp = op.relying_party("Tax office", "127.0.0.1").await;
        let userinfo_name = |browser: Browser| {
            let (op, rp) = (&op, &rp);
            async move {
                let (landing, pending) = via(&browser, op, rp, "apple").await;
                let callback = browser
                    .finish_consent(op.issuer(), landing)
                    .await
                    .callback();
                let tokens = rp.redeem(&callback, &pending).await.unwrap();
                use openidconnect::OAuth2TokenResponse;
                let info: serde_json::Value = reqwest::Client::new()
                    .get(op.url("/userinfo"))
                    .bearer_auth(tokens.access_token().secret())
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                info["name"].as_str().map(str::to_owned)
            }
        };
        assert_eq!(
            userinfo_name(Browser::new()).await.as_deref(),
            Some("Gildong Hong"),
            "{backend:?}"
        );
        apple.set_user_field(None);
        assert_eq!(
            userinfo_name(Browser::new()).await.as_deref(),
            Some("Gildong Hong"),
            "{backend:?}: kept"
        );
        op.stop().await;
    }
);

#[tokio::test]
async fn naver_refusals_and_timeouts_end_on_an_error_page_and_a_failing_provider_disables_only_its_button()
 {
    let kakao = FakeOidcProvider::start().await;
    let naver = FakeNaver::start().await;
    let op = TestServer::start_with(anyid_tests::Backend::Sqlite, |c| {
        c.upstreams.push(kakao.config("kakao"));
        c.upstreams.push(naver.config("naver"));
    })
    .await
    .unwrap();
    let rp = op.relying_party("Tax office", "127.0.0.1").await;
    for behaviour in [Behaviour::BadResultCode, Behaviour::Slow] {
        naver.set_behaviour(behaviour);
        let (landing, _) = via(&Browser::new(), &op, &rp, "naver").await;
        let (status, body) = landing.page();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{behaviour:?}");
        assert!(body.contains("role=\"alert\""), "{behaviour:?}");
        assert_eq!(
            citizens_and_sessions(&op).await,
            (0, 0),
            "{behaviour:?}: nothing half-created"
        );
    }
    // Each refusal is a failed login in the access record, with the provider and without
    // a citizen.
    let failed: Vec<_> = op
        .state()
        .store
        .audit_records(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.record)
        .filter(|r| r.kind == anyid::audit::event::Kind::Login)
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.iter().all(|r| r.outcome == "failure"
        && r.method.as_deref() == Some("naver")
        && r.actor_id.is_none()
        && r.source_ip.is_some()));
    // Naver's token endpoint keeps failing: after a few failures its button is disabled,
    // with a message, and Kakao still works.
    naver.set_behaviour(Behaviour::TokenServerError);
    for _ in 0..3 {
        let _ = via(&Browser::new(), &op, &rp, "naver").await;
    }
    let browser = Browser::new();
    let pending = rp.start(&[], &[]);
    let (_, page) = browser.open(pending.url.as_str(), op.issuer()).await.page();
    let naver_button = page
        .split("data-method=\"naver\"")
        .nth(1)
        .unwrap()
        .split('>')
        .next()
        .unwrap();
    assert!(naver_button.contains("disabled"), "{page}");
    assert!(page.contains("id=\"unavailable-naver\""));
    let kakao_button = page
        .split("data-method=\"kakao\"")
        .nth(1)
        .unwrap()
        .split('>')
        .next()
        .unwrap();
    assert!(!kakao_button.contains("disabled"));
    let landing = browser.choose(op.issuer(), &page, "kakao").await;
    let callback = browser
        .finish_consent(op.issuer(), landing)
        .await
        .callback();
    assert!(
        anyid_tests::browser::param(&callback, "code").is_some(),
        "the other provider still works"
    );
    op.stop().await;
}

per_backend!(
    #[tokio::test]
    async fn a_citizen_links_and_unlinks_a_method_in_the_portal_but_cannot_take_anothers(
        backend: Backend,
    ) {
        let kakao = FakeOidcProvider::start().await;
        kakao.set_subject("k-linked", json!({"nickname": "길동"}));
        let op = TestServer::start_with(backend, |c| c.upstreams.push(kakao.config("kakao")))
            .await
            .unwrap();
        let browser = Browser::new();
        // Signed in with the dev method, the portal offers Kakao to link.
        let (_, page) = browser
            .sign_in(&op.url("/account"), op.issuer(), "hong")
            .await
            .page();
        let csrf = anyid_tests::browser::hidden(&page, "csrf");
        let (status, page) = browser
            .submit(op.issuer(), "/account/link/kakao", &[("csrf", &csrf)])
            .await
            .page();
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("role=\"status\""), "linked: {page}");
        assert_eq!(
            page.matches("name=\"unlink\"").count(),
            2,
            "{backend:?}: two methods"
        );
        // Logging in with Kakao now reaches the same citizen.
        let citizen = op
            .state()
            .store
            .citizen_by_identity(&kakao.issuer(), "k-linked")
            .await
            .unwrap();
        let dev = op
            .state()
            .store
            .citizen_by_identity(anyid_adapters::dev::ISSUER, "hong")
            .await
            .unwrap();
        assert_eq!(citizen, dev, "{backend:?}");

        // Another citizen cannot link the same Kakao account.
        let other = Browser::new();
        let (_, page) = other
            .sign_in(&op.url("/account"), op.issuer(), "kim")
            .await
            .page();
        let csrf = anyid_tests::browser::hidden(&page, "csrf");
        let (status, body) = other
            .submit(op.issuer(), "/account/link/kakao", &[("csrf", &csrf)])
            .await
            .page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("role=\"alert\""));

        // Unlink Kakao again; the dev method stays.
        let (_, page) = browser.open(&op.url("/account"), op.issuer()).await.page();
        let csrf = anyid_tests::browser::hidden(&page, "csrf");
        let kakao_row = page
            .split("name=\"unlink\" value=\"")
            .nth(2)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let (_, page) = browser
            .submit(
                op.issuer(),
                "/account/action",
                &[("csrf", &csrf), ("unlink", &kakao_row)],
            )
            .await
            .page();
        // One method left: no unlink button, and the reason instead.
        assert_eq!(page.matches("name=\"unlink\"").count(), 0, "{backend:?}");
        assert!(
            page.contains("유일한 로그인 방법입니다"),
            "{backend:?}: {page}"
        );
        op.stop().await;
    }
);

per_backend!(
    /// An address and its `verified` flag are one unit: a later login that brings another
    /// address without a flag must not leave the old flag on the new address.
    #[tokio::test]
    async fn a_verified_flag_does_not_carry_over_to_a_new_address(backend: Backend) {
        let kakao = FakeOidcProvider::start().await;
        kakao.set_subject(
            "kakao-7",
            json!({"email": "me@kakao.example", "email_verified": true}),
        );
        let op = TestServer::start_with(backend, |c| c.upstreams.push(kakao.config("kakao")))
            .await
            .unwrap();
        let rp = op.relying_party("Tax office", "127.0.0.1").await;
        let userinfo = async |browser: &Browser| {
            let (landing, pending) = via(browser, &op, &rp, "kakao").await;
            let callback = browser
                .finish_consent(op.issuer(), landing)
                .await
                .callback();
            let tokens = rp.redeem(&callback, &pending).await.unwrap();
            use openidconnect::OAuth2TokenResponse;
            reqwest::Client::new()
                .get(op.url("/userinfo"))
                .bearer_auth(tokens.access_token().secret())
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        };
        let first = userinfo(&Browser::new()).await;
        assert_eq!(first["email_verified"], true, "{backend:?}: {first}");

        kakao.set_subject("kakao-7", json!({"email": "someone-else@example.com"}));
        let second = userinfo(&Browser::new()).await;
        assert_eq!(second["email"], "someone-else@example.com");
        assert_ne!(
            second["email_verified"], true,
            "{backend:?}: the old flag must not vouch for the new address: {second}"
        );
        op.stop().await;
    }
);
