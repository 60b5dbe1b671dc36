//! Assurance levels: a relying party asking for a level gets it through a step-up with a
//! stronger method (same citizen, same pairwise `sub`, `acr` as achieved), or a clear
//! `unmet_authentication_requirements` when no enabled method reaches it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::store::AccountStore;
use anyid_policy::Loa;
use anyid_tests::browser::{hidden, param};
use anyid_tests::certificates::{dev_pki, sign, sign_in_as};
use anyid_tests::rp::Pending;
use anyid_tests::scenarios::{kakao_and_gov, social_login, step_up_with_gov};
use anyid_tests::upstream::FakeOidcProvider;
use anyid_tests::{Backend, Browser, Landing, Rp, TestServer, per_backend, rp_registration};
use reqwest::StatusCode;
use serde_json::json;

const REDIRECT: &str = "http://127.0.0.1:1/callback";
const HIGH: &str = "urn:anyid:loa:high";

per_backend!(
    #[tokio::test]
    async fn a_social_session_steps_up_to_high_and_keeps_the_same_subject(backend: Backend) {
        let kakao = FakeOidcProvider::start().await;
        kakao.set_subject("k-1", json!({"nickname": "길동"}));
        let gov = FakeOidcProvider::start().await;
        let ci = "C".repeat(88);
        gov.set_subject("gov-1", json!({"ci": ci}));
        kakao.set_subject("k-1", json!({"nickname": "길동", "ci": ci}));
        let op = kakao_and_gov(backend, &kakao, &gov, true).await;
        let rp = op.relying_party("Land registry", "127.0.0.1").await;
        let browser = Browser::new();

        let low = social_login(&browser, &op, &rp).await;

        // The relying party asks for high: the step-up page offers only high methods.
        let high = step_up_with_gov(&browser, &op, &rp, &[("acr_values", HIGH)]).await;
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
);

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

/// The portal of the citizen signed in in `browser`.
async fn portal(browser: &Browser, op: &TestServer) -> String {
    let (status, page) = browser.open(&op.url("/account"), op.issuer()).await.page();
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("action=\"/account/action\""), "{page}");
    page
}

/// A fresh browser asks for `acr` at `rp` and signs in with the dev certificate `name`.
async fn certificate_login(
    op: &TestServer,
    rp: &Rp,
    acr: Option<&str>,
    name: &str,
) -> (Pending, Landing) {
    let pki = dev_pki(op);
    let browser = Browser::new();
    let extra: Vec<(&str, &str)> = acr.map(|a| ("acr_values", a)).into_iter().collect();
    let p = rp.start(&[], &extra);
    let (_, page) = browser.open(p.url.as_str(), op.issuer()).await.page();
    let landing = sign_in_as(&browser, op, &pki, &page, name).await;
    (p, browser.finish_consent(op.issuer(), landing).await)
}

/// A fresh browser asks for `acr` at `rp` and signs in with upstream `provider`.
async fn upstream_login(
    op: &TestServer,
    rp: &Rp,
    acr: Option<&str>,
    provider: &str,
) -> (Pending, Landing) {
    let browser = Browser::new();
    let extra: Vec<(&str, &str)> = acr.map(|a| ("acr_values", a)).into_iter().collect();
    let p = rp.start(&[], &extra);
    let (_, page) = browser.open(p.url.as_str(), op.issuer()).await.page();
    let landing = browser.choose(op.issuer(), &page, provider).await;
    (p, browser.finish_consent(op.issuer(), landing).await)
}

fn refused_with(landing: Landing, text: &str) {
    let (status, page) = landing.page();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(
        page.contains("role=\"alert\"") && page.contains(text),
        "{page}"
    );
}

per_backend!(
    /// The attack of the binding rule (DESIGN §4) through the step-up page: someone holding a
    /// citizen's low session completes the step-up with a certificate of their own. Before the
    /// rule, the certificate was linked and the relying party received `acr` high for the
    /// victim's `sub`; now the step-up is refused and nothing is linked.
    #[tokio::test]
    async fn a_step_up_with_a_certificate_not_bound_to_the_account_is_refused_and_links_nothing(
        backend: Backend,
    ) {
        let kakao = FakeOidcProvider::start().await;
        kakao.set_subject("k-victim", json!({"nickname": "길동"}));
        let op = TestServer::start_with(backend, |c| c.upstreams.push(kakao.config("kakao")))
            .await
            .unwrap();
        let pki = dev_pki(&op);
        let rp = op.relying_party("Land registry", "127.0.0.1").await;
        let browser = Browser::new();
        let victim = social_login(&browser, &op, &rp).await;

        let p = rp.start(&[], &[("acr_values", HIGH)]);
        let (_, page) = browser.open(p.url.as_str(), op.issuer()).await.page();
        assert!(
            page.contains("길동"),
            "the step-up names the account: {page}"
        );
        let landing = sign_in_as(&browser, &op, &pki, &page, "kim").await;
        refused_with(landing, "연결되어 있지 않아");

        // Nothing was linked: the certificate alone is its own citizen, not the victim.
        let (p, landing) = certificate_login(&op, &rp, Some(HIGH), "kim").await;
        let own = rp.sign_in_claims(&landing.callback(), &p).await;
        assert_ne!(own.subject(), victim.subject(), "{backend:?}");
        op.stop().await;
    }
);

per_backend!(
    /// The same attack through both portal paths: from the victim's low session, link a
    /// high-level provider account and register a certificate, both the attacker's own. Each
    /// is linked, but vouched at low: alone, it signs in to the victim's account at low, and a
    /// relying party asking for high does not get it.
    #[tokio::test]
    async fn methods_linked_in_the_portal_from_a_low_session_prove_only_low_for_that_account(
        backend: Backend,
    ) {
        let kakao = FakeOidcProvider::start().await;
        kakao.set_subject("k-victim", json!({"nickname": "길동"}));
        let gov = FakeOidcProvider::start().await;
        gov.set_subject("gov-attacker", json!({}));
        let op = kakao_and_gov(backend, &kakao, &gov, false).await;
        let pki = dev_pki(&op);
        let rp = op.relying_party("Land registry", "127.0.0.1").await;
        let browser = Browser::new();
        let victim = social_login(&browser, &op, &rp).await;

        // "Link another method": the attacker's high-level provider account.
        let page = portal(&browser, &op).await;
        let csrf = hidden(&page, "csrf");
        let (_, page) = browser
            .submit(op.issuer(), "/account/link/gov", &[("csrf", &csrf)])
            .await
            .page();
        assert!(page.contains("role=\"status\""), "linked: {page}");
        // "Register a certificate": the attacker's certificate.
        let challenge = hidden(&page, "challenge");
        let (_, page) = browser
            .submit(
                op.issuer(),
                "/account/certificate",
                &[
                    ("csrf", &hidden(&page, "csrf")),
                    ("challenge", &challenge),
                    ("signature", &sign(&pki, "kim", &challenge)),
                ],
            )
            .await
            .page();
        assert!(page.contains("role=\"status\""), "registered: {page}");
        assert_eq!(
            page.matches("name=\"unlink\"").count(),
            3,
            "{backend:?}: both linked"
        );
        let citizen = op
            .state()
            .store
            .citizen_by_identity(&kakao.issuer(), "k-victim")
            .await
            .unwrap()
            .unwrap();
        let levels: Vec<Loa> = op
            .state()
            .store
            .identities(&citizen)
            .await
            .unwrap()
            .iter()
            .map(|i| i.proves())
            .collect();
        assert_eq!(levels, [Loa::Low; 3], "{backend:?}");

        // Asked for high, neither reaches it for the victim's account.
        let (_, landing) = upstream_login(&op, &rp, Some(HIGH), "gov").await;
        refused_with(landing, "더 낮은 수준의 로그인 중에");
        let (_, landing) = certificate_login(&op, &rp, Some(HIGH), "kim").await;
        refused_with(landing, "더 낮은 수준의 로그인 중에");

        // Unasked, each signs in to the victim's account at low.
        for (p, landing) in [
            upstream_login(&op, &rp, None, "gov").await,
            certificate_login(&op, &rp, None, "kim").await,
        ] {
            let claims = rp.sign_in_claims(&landing.callback(), &p).await;
            assert_eq!(claims.subject(), victim.subject(), "{backend:?}");
            assert_eq!(
                claims.auth_context_ref().unwrap().as_str(),
                "urn:anyid:loa:low",
                "{backend:?}"
            );
        }
        op.stop().await;
    }
);

per_backend!(
    /// A link whose strong identifier is not the account's is another person's credential: it
    /// is refused, and nothing is linked.
    #[tokio::test]
    async fn a_link_with_another_strong_identifier_is_refused(backend: Backend) {
        let kakao = FakeOidcProvider::start().await;
        kakao.set_subject("k-1", json!({"nickname": "길동", "ci": "A".repeat(88)}));
        let gov = FakeOidcProvider::start().await;
        gov.set_subject("gov-2", json!({"ci": "B".repeat(88)}));
        let op = kakao_and_gov(backend, &kakao, &gov, true).await;
        let rp = op.relying_party("Land registry", "127.0.0.1").await;
        let browser = Browser::new();
        let first = social_login(&browser, &op, &rp).await;
        let page = portal(&browser, &op).await;
        let (_, page) = browser
            .submit(
                op.issuer(),
                "/account/link/gov",
                &[("csrf", &hidden(&page, "csrf"))],
            )
            .await
            .page();
        assert!(page.contains("role=\"alert\""), "{backend:?}: {page}");
        assert!(page.contains("다른 사람"), "{page}");
        // The other person's method is still their own account.
        let (p, landing) = upstream_login(&op, &rp, None, "gov").await;
        let other = rp.sign_in_claims(&landing.callback(), &p).await;
        assert_ne!(other.subject(), first.subject(), "{backend:?}");
        op.stop().await;
    }
);
