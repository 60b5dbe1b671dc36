//! Assurance levels: a relying party asking for a level gets it through a step-up with a
//! stronger method (same citizen, same pairwise `sub`, `acr` as achieved), or a clear
//! `unmet_authentication_requirements` when no enabled method reaches it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid_adapters::Loa;
use anyid_tests::browser::param;
use anyid_tests::certificates::{dev_pki, sign_in_as};
use anyid_tests::upstream::FakeOidcProvider;
use anyid_tests::{Browser, Rp, TestServer, backends, rp_registration};
use openidconnect::core::CoreIdTokenClaims;
use serde_json::json;

const REDIRECT: &str = "http://127.0.0.1:1/callback";
const HIGH: &str = "urn:anyid:loa:high";

/// A login through the Kakao-like upstream: low assurance.
async fn social_login(browser: &Browser, op: &TestServer, rp: &Rp) -> CoreIdTokenClaims {
    let p = rp.start(&[], &[]);
    let (_, page) = browser.open(p.url.as_str(), op.issuer()).await.page();
    let landing = browser.choose(op.issuer(), &page, "kakao").await;
    let cb = browser
        .finish_consent(op.issuer(), landing)
        .await
        .callback();
    let low = rp.sign_in_claims(&cb, &p).await;
    assert_eq!(
        low.auth_context_ref().unwrap().as_str(),
        "urn:anyid:loa:low"
    );
    low
}

#[tokio::test]
async fn a_social_session_steps_up_to_high_and_keeps_the_same_subject() {
    for backend in backends() {
        let kakao = FakeOidcProvider::start().await;
        kakao.set_subject("k-1", json!({"nickname": "길동"}));
        let gov = FakeOidcProvider::start().await;
        let ci = "C".repeat(88);
        gov.set_subject("gov-1", json!({"ci": ci}));
        kakao.set_subject("k-1", json!({"nickname": "길동", "ci": ci}));
        let op = TestServer::start_with(backend, |c| {
            let mut social = kakao.config("kakao");
            social.strong_identifier_claim = Some("ci".into());
            c.upstreams.push(social);
            let mut high = gov.config("gov");
            high.loa = Loa::High;
            high.strong_identifier_claim = Some("ci".into());
            c.upstreams.push(high);
        })
        .await
        .unwrap();
        let rp = op.relying_party("Land registry", "127.0.0.1").await;
        let browser = Browser::new();

        let low = social_login(&browser, &op, &rp).await;

        // The relying party asks for high: the step-up page offers only high methods.
        let p = rp.start(&[], &[("acr_values", HIGH)]);
        let (_, page) = browser.open(p.url.as_str(), op.issuer()).await.page();
        assert!(page.contains("role=\"status\""), "a step-up notice: {page}");
        assert!(page.contains("data-method=\"gov\""));
        assert!(!page.contains("data-method=\"kakao\"") && !page.contains("data-method=\"dev\""));
        let landing = browser.choose(op.issuer(), &page, "gov").await;
        let cb = browser
            .finish_consent(op.issuer(), landing)
            .await
            .callback();
        let high = rp.sign_in_claims(&cb, &p).await;
        assert_eq!(
            high.auth_context_ref().unwrap().as_str(),
            HIGH,
            "{backend:?}"
        );
        assert_eq!(
            high.subject(),
            low.subject(),
            "{backend:?}: the same citizen, the same pairwise sub"
        );
        assert!(high.auth_time() >= low.auth_time());

        // The high session now serves a second high request without a page.
        let p = rp.start(
            &[],
            &[(
                "claims",
                r#"{"id_token":{"acr":{"essential":true,"values":["urn:anyid:loa:high"]}}}"#,
            )],
        );
        let cb = browser.open(p.url.as_str(), op.issuer()).await.callback();
        assert_eq!(
            rp.sign_in_claims(&cb, &p)
                .await
                .auth_context_ref()
                .unwrap()
                .as_str(),
            HIGH
        );
        op.stop().await;
    }
}

#[tokio::test]
async fn without_a_method_that_reaches_the_level_the_relying_party_gets_unmet_authentication_requirements()
 {
    let kakao = FakeOidcProvider::start().await;
    let op = TestServer::start_with(anyid_tests::Backend::Sqlite, |c| {
        c.upstreams.push(kakao.config("kakao"));
        // Passkeys and certificates could reach high: this server offers only social login.
        c.passkeys.enabled = false;
        c.certificates.enabled = Some(false);
    })
    .await
    .unwrap();
    let rp = op.relying_party("Land registry", "127.0.0.1").await;
    let p = rp.start(&[], &[("acr_values", HIGH)]);
    let cb = Browser::new()
        .open(p.url.as_str(), op.issuer())
        .await
        .callback();
    assert_eq!(
        param(&cb, "error").as_deref(),
        Some("unmet_authentication_requirements")
    );
    assert_eq!(
        param(&cb, "state").as_deref(),
        Some(p.state.secret().as_str())
    );

    // A client's own minimum works the same way, without any acr_values.
    let mut strict = rp_registration("Court", "127.0.0.1");
    strict["min_acr"] = "urn:anyid:loa:substantial".into();
    let (id, secret) = op.add_client(strict).await.unwrap();
    let rp = Rp::discover(op.issuer(), &id, &secret, REDIRECT)
        .await
        .unwrap();
    let p = rp.start(&[], &[]);
    let cb = Browser::new()
        .open(p.url.as_str(), op.issuer())
        .await
        .callback();
    assert_eq!(
        param(&cb, "error").as_deref(),
        Some("unmet_authentication_requirements")
    );

    // An acr value nobody knows is refused too.
    let p = rp.start(&[], &[("acr_values", "urn:example:gold")]);
    let cb = Browser::new()
        .open(p.url.as_str(), op.issuer())
        .await
        .callback();
    assert_eq!(
        param(&cb, "error").as_deref(),
        Some("unmet_authentication_requirements")
    );
    op.stop().await;
}

#[tokio::test]
async fn a_social_session_steps_up_with_a_certificate_and_keeps_the_same_subject() {
    for backend in backends() {
        let kakao = FakeOidcProvider::start().await;
        kakao.set_subject("k-9", json!({"nickname": "길동"}));
        let op = TestServer::start_with(backend, |c| c.upstreams.push(kakao.config("kakao")))
            .await
            .unwrap();
        let pki = dev_pki(&op);
        let rp = op.relying_party("Land registry", "127.0.0.1").await;
        let browser = Browser::new();

        let low = social_login(&browser, &op, &rp).await;

        // High is asked for: the step-up page offers the certificate and says whose account
        // the certificate will join.
        let p = rp.start(&[], &[("acr_values", HIGH)]);
        let (_, page) = browser.open(p.url.as_str(), op.issuer()).await.page();
        assert!(page.contains("action=\"/login/certificate\""), "{page}");
        assert!(!page.contains("data-method=\"kakao\""));
        assert!(page.contains("길동"), "signed in as: {page}");
        let landing = sign_in_as(&browser, &op, &pki, &page, "hong").await;
        let cb = browser
            .finish_consent(op.issuer(), landing)
            .await
            .callback();
        let high = rp.sign_in_claims(&cb, &p).await;
        assert_eq!(
            high.auth_context_ref().unwrap().as_str(),
            HIGH,
            "{backend:?}"
        );
        assert_eq!(
            high.subject(),
            low.subject(),
            "{backend:?}: same pairwise sub"
        );
        assert!(high.auth_time() > low.auth_time() || high.auth_time() == low.auth_time());

        // The certificate is now one of the citizen's methods: alone, it reaches the same sub.
        let other = Browser::new();
        let p = rp.start(&[], &[("acr_values", HIGH)]);
        let (_, page) = other.open(p.url.as_str(), op.issuer()).await.page();
        let landing = sign_in_as(&other, &op, &pki, &page, "hong").await;
        let cb = other.finish_consent(op.issuer(), landing).await.callback();
        assert_eq!(rp.sign_in_claims(&cb, &p).await.subject(), low.subject());
        op.stop().await;
    }
}
