//! Certificate login over both transports with the dev CA the server generated for itself:
//! a signed challenge (CMS SignedData from the reference signer) and mutual TLS (a client
//! certificate in the browser). A valid certificate logs in at its policy's level; expired,
//! not-yet-valid, revoked, unknown-issuer, wrong-policy and wrong-usage certificates, a
//! policy from a CA not bound to it, stale, replayed or mismatched challenges and tampered
//! signatures are refused with a clear message, and nothing is created. Two CAs handing out
//! the same identity value give two citizens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::store::AccountStore;
use anyid_adapters::Loa;
use anyid_adapters::certificate::PolicyLevel;
use anyid_certs::dev::DevPki;
use anyid_tests::browser::hidden;
use anyid_tests::certificates::{
    citizen_of, credentials, dev_pki, namespace_of, post_signature, sign,
};
use anyid_tests::{Backend, Browser, Landing, Rp, TestServer, per_backend};
use base64::Engine;
use reqwest::StatusCode;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Open the relying party's login page; returns its flow and the page.
async fn chooser(
    browser: &Browser,
    op: &TestServer,
    rp: &Rp,
) -> (anyid_tests::rp::Pending, String) {
    let p = rp.start(&[], &[]);
    let (status, page) = browser.open(p.url.as_str(), op.issuer()).await.page();
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("action=\"/login/certificate\""), "{page}");
    (p, page)
}

/// Open the chooser and post the signature `signer` makes over its challenge.
async fn answer_with(
    browser: &Browser,
    op: &TestServer,
    rp: &Rp,
    signer: impl FnOnce(&str) -> String,
) -> (anyid_tests::rp::Pending, Landing) {
    let (p, page) = chooser(browser, op, rp).await;
    let challenge = hidden(&page, "challenge");
    let signature = signer(&challenge);
    (
        p,
        post_signature(browser, op, &page, &challenge, &signature).await,
    )
}

/// A refusal page saying `message`, with nobody signed in and no account for `name`.
async fn assert_refused(
    op: &TestServer,
    pki: &DevPki,
    browser: &Browser,
    landing: Landing,
    message: &str,
    name: &str,
) {
    let (status, body) = landing.page();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
    assert!(
        body.contains(message),
        "{name}: expected {message:?} in {body}"
    );
    assert!(body.contains("/login?flow="), "{name}: a way back");
    assert_nothing_created(op, pki, browser, name).await;
}

/// No account for dev citizen `name`'s identity, and `browser` is not signed in.
async fn assert_nothing_created(op: &TestServer, pki: &DevPki, browser: &Browser, name: &str) {
    assert!(
        citizen_of(op, pki, name).await.is_none(),
        "{name}: no account"
    );
    let (_, account) = browser.open(&op.url("/account"), op.issuer()).await.page();
    assert!(
        account.contains("action=\"/login/dev\""),
        "{name}: not signed in"
    );
}

const REFUSALS: [(&str, &str); 7] = [
    ("expired", "유효기간이 지났습니다"),
    ("future", "아직 유효하지 않습니다"),
    ("revoked", "폐지되었습니다"),
    ("stranger", "신뢰할 수 없습니다"),
    ("wrong-policy", "인증서 정책"),
    ("wrong-usage", "전자서명 용도가 아니어서"),
    // Hong's identity values and an accepted policy, from a CA not bound to it.
    ("other-ca", "인증서 정책"),
];

per_backend!(
    #[tokio::test]
    async fn a_signed_challenge_logs_in_at_the_policy_level_and_bad_certificates_are_refused(
        backend: Backend,
    ) {
        let op = TestServer::start(backend).await.unwrap();
        let pki = dev_pki(&op);
        let rp = op.relying_party("Land registry", "127.0.0.1").await;

        for (name, acr) in [
            ("hong", "urn:anyid:loa:high"),
            ("kim", "urn:anyid:loa:high"),
            ("lee", "urn:anyid:loa:substantial"),
        ] {
            let browser = Browser::new();
            let (p, landing) = answer_with(&browser, &op, &rp, |c| sign(&pki, name, c)).await;
            let cb = browser
                .finish_consent(op.issuer(), landing)
                .await
                .callback();
            let claims = rp.sign_in_claims(&cb, &p).await;
            assert_eq!(
                claims.auth_context_ref().unwrap().as_str(),
                acr,
                "{backend:?} {name}"
            );
        }

        for (name, message) in REFUSALS {
            let browser = Browser::new();
            let (_, landing) = answer_with(&browser, &op, &rp, |c| sign(&pki, name, c)).await;
            assert_refused(&op, &pki, &browser, landing, message, name).await;
        }
        op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn challenges_are_single_use_short_lived_and_bound_to_the_signature(backend: Backend) {
        let op = TestServer::start(backend).await.unwrap();
        let pki = dev_pki(&op);
        let rp = op.relying_party("Land registry", "127.0.0.1").await;
        let stale = "확인 문자열이 만료되었거나 이미 사용되었습니다";
        let altered = "서명이 승인되지 않았습니다";

        // Used once: a second flow cannot present the same challenge and signature.
        let browser = Browser::new();
        let (_, page) = chooser(&browser, &op, &rp).await;
        let challenge = hidden(&page, "challenge");
        let signature = sign(&pki, "hong", &challenge);
        let landing = post_signature(&browser, &op, &page, &challenge, &signature).await;
        browser
            .finish_consent(op.issuer(), landing)
            .await
            .callback();
        let thief = Browser::new();
        let (_, page) = chooser(&thief, &op, &rp).await;
        let landing = post_signature(&thief, &op, &page, &challenge, &signature).await;
        let (status, body) = landing.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains(stale), "replayed: {body}");
        let (_, account) = thief.open(&op.url("/account"), op.issuer()).await.page();
        assert!(
            account.contains("action=\"/login/dev\""),
            "the thief is not signed in"
        );

        // Expired: more than two minutes old.
        let browser = Browser::new();
        let (_, page) = chooser(&browser, &op, &rp).await;
        let challenge = hidden(&page, "challenge");
        let signature = sign(&pki, "kim", &challenge);
        op.clock.advance(121);
        let landing = post_signature(&browser, &op, &page, &challenge, &signature).await;
        assert_refused(&op, &pki, &browser, landing, stale, "kim").await;

        // A signature over a different challenge.
        let browser = Browser::new();
        let other = |_: &str| sign(&pki, "kim", "another challenge");
        let (_, landing) = answer_with(&browser, &op, &rp, other).await;
        assert_refused(&op, &pki, &browser, landing, altered, "kim").await;

        // Tampered SignedData: a flipped byte in the signature, then in the middle.
        for at_end in [true, false] {
            let browser = Browser::new();
            let tampered = |c: &str| {
                let mut der = B64.decode(sign(&pki, "kim", c)).unwrap();
                let i = if at_end { der.len() - 2 } else { der.len() / 2 };
                der[i] ^= 0x01;
                B64.encode(&der)
            };
            let (_, landing) = answer_with(&browser, &op, &rp, tampered).await;
            let (status, body) = landing.page();
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert!(
                body.contains(altered) || body.contains("서명 형식을 읽을 수 없습니다"),
                "tampered: {body}"
            );
            assert_nothing_created(&op, &pki, &browser, "kim").await;
        }

        // Not a signature at all.
        let browser = Browser::new();
        let garbage = |_: &str| "not base64 at all!".to_owned();
        let (_, landing) = answer_with(&browser, &op, &rp, garbage).await;
        assert_refused(
            &op,
            &pki,
            &browser,
            landing,
            "서명 형식을 읽을 수 없습니다",
            "kim",
        )
        .await;
        op.stop().await;
    }
);

per_backend!(
    /// A browser presenting dev citizen `name`'s certificate (or none) to the mTLS listener.
    /// A challenge names this origin, its purpose and its flow (or account) under the server's
    /// tag, so a signer can show what it signs and a signature made for one flow, purpose or
    /// account is refused in any other; a changed challenge fails the tag.
    #[tokio::test]
    async fn a_challenge_is_bound_to_its_origin_purpose_and_flow(backend: Backend) {
        use anyid_certs::challenge::{Challenge, Purpose};
        let op = TestServer::start(backend).await.unwrap();
        let pki = dev_pki(&op);
        let rp = op.relying_party("Land registry", "127.0.0.1").await;
        let stale = "확인 문자열이 만료되었거나 이미 사용되었습니다";

        let browser = Browser::new();
        let (_, first) = chooser(&browser, &op, &rp).await;
        let issued = hidden(&first, "challenge");
        let decoded = Challenge::decode(&issued).expect("an Any-ID challenge");
        let origin = url::Url::parse(op.issuer())
            .unwrap()
            .origin()
            .ascii_serialization();
        assert_eq!(decoded.challenge.origin, origin, "{backend:?}");
        assert_eq!(decoded.challenge.purpose, Purpose::Login);
        assert_eq!(decoded.challenge.bound_to, hidden(&first, "flow"));

        // Signed for the first flow, posted in a second one: refused.
        let (_, second) = chooser(&browser, &op, &rp).await;
        let signature = sign(&pki, "kim", &issued);
        let landing = post_signature(&browser, &op, &second, &issued, &signature).await;
        assert_refused(&op, &pki, &browser, landing, stale, "kim").await;

        // Rebound to the second flow by hand: the tag no longer matches.
        let mut moved = decoded.challenge.clone();
        moved.bound_to = hidden(&second, "flow");
        let tag = decoded.tag.clone();
        let forged = moved.encode(|_| tag).unwrap();
        let landing =
            post_signature(&browser, &op, &second, &forged, &sign(&pki, "kim", &forged)).await;
        assert_refused(&op, &pki, &browser, landing, stale, "kim").await;

        // The portal's challenge registers a certificate to the signed-in account and is
        // useless for logging in; a login challenge cannot register a certificate.
        let owner = Browser::new();
        let (_, portal) = owner
            .sign_in(&op.url("/account"), op.issuer(), "hong")
            .await
            .page();
        let register = hidden(&portal, "challenge");
        let decoded = Challenge::decode(&register).unwrap();
        assert_eq!(decoded.challenge.purpose, Purpose::Register);
        assert_eq!(decoded.challenge.origin, origin);
        let (_, third) = chooser(&browser, &op, &rp).await;
        let landing = post_signature(
            &browser,
            &op,
            &third,
            &register,
            &sign(&pki, "kim", &register),
        )
        .await;
        assert_refused(&op, &pki, &browser, landing, stale, "kim").await;
        let login = hidden(&third, "challenge");
        let (_, after) = owner
            .submit(
                op.issuer(),
                "/account/certificate",
                &[
                    ("csrf", &hidden(&portal, "csrf")),
                    ("challenge", &login),
                    ("signature", &sign(&pki, "kim", &login)),
                ],
            )
            .await
            .page();
        assert!(after.contains("role=\"alert\""), "{backend:?}: {after}");
        assert!(
            after.contains("유일한 로그인 방법입니다"),
            "nothing linked: {after}"
        );
        op.stop().await;
    }
);

fn tls_browser(pki: &DevPki, name: Option<&str>) -> Browser {
    let root = reqwest::Certificate::from_pem(&std::fs::read(&pki.root).unwrap()).unwrap();
    let mut builder = reqwest::Client::builder().tls_certs_only([root]);
    if let Some(name) = name {
        let (key, chain) = credentials(pki, name);
        let identity = reqwest::Identity::from_pem(format!("{key}\n{chain}").as_bytes()).unwrap();
        builder = builder.identity(identity);
    }
    Browser::from_builder(builder)
}

/// From the chooser, follow the link to the mTLS listener.
async fn tls_login(
    browser: &Browser,
    op: &TestServer,
    rp: &Rp,
) -> (anyid_tests::rp::Pending, Landing) {
    let (p, page) = chooser(browser, op, rp).await;
    let start = page
        .find("data-method=\"certificate-tls\"")
        .map(|_| ())
        .and(page.find("href=\"https://"));
    let start = start.expect("a link to the mTLS listener") + "href=\"".len();
    let end = page[start..].find('"').unwrap() + start;
    let link = page[start..end].replace("&amp;", "&");
    assert!(link.contains("/login/certificate?flow="), "{link}");
    (p, browser.open(&link, op.issuer()).await)
}

per_backend!(
    #[tokio::test]
    async fn mutual_tls_logs_in_the_same_citizen_and_bad_certificates_are_refused(
        backend: Backend,
    ) {
        let op = TestServer::start(backend).await.unwrap();
        let pki = dev_pki(&op);
        let rp = op.relying_party("Land registry", "127.0.0.1").await;

        // Hong by signed challenge, then by mutual TLS: one citizen, one pairwise sub.
        let browser = Browser::new();
        let (p, landing) = answer_with(&browser, &op, &rp, |c| sign(&pki, "hong", c)).await;
        let cb = browser
            .finish_consent(op.issuer(), landing)
            .await
            .callback();
        let signed = rp.sign_in_claims(&cb, &p).await;

        let browser = tls_browser(&pki, Some("hong"));
        let (p, landing) = tls_login(&browser, &op, &rp).await;
        let cb = browser
            .finish_consent(op.issuer(), landing)
            .await
            .callback();
        let tls = rp.sign_in_claims(&cb, &p).await;
        assert_eq!(
            tls.auth_context_ref().unwrap().as_str(),
            "urn:anyid:loa:high"
        );
        assert_eq!(
            tls.subject(),
            signed.subject(),
            "{backend:?}: the same citizen"
        );

        for (name, message) in REFUSALS {
            let browser = tls_browser(&pki, Some(name));
            let (_, landing) = tls_login(&browser, &op, &rp).await;
            assert_refused(&op, &pki, &browser, landing, message, name).await;
        }

        // No certificate at all.
        let browser = tls_browser(&pki, None);
        let (_, landing) = tls_login(&browser, &op, &rp).await;
        let (status, body) = landing.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.contains("브라우저가 인증서를 보내지 않았습니다"),
            "{body}"
        );

        // The hand-off token works once, and only for the browser that started the flow.
        let owner = tls_browser(&pki, Some("kim"));
        let (_, page) = chooser(&owner, &op, &rp).await;
        let start = page.find("href=\"https://").unwrap() + "href=\"".len();
        let end = page[start..].find('"').unwrap() + start;
        let link = page[start..end].replace("&amp;", "&");
        let unknown = format!("{}?flow=unknown", link.split('?').next().unwrap());
        let (status, _) = owner.open(&unknown, op.issuer()).await.page();
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "no hand-off for an unknown flow"
        );
        let response = owner.http.get(&link).send().await.unwrap();
        let handoff = response.headers()["location"].to_str().unwrap().to_owned();
        let other = Browser::new();
        let (status, _) = other.open(&handoff, op.issuer()).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST, "another browser");
        let (status, _) = owner.open(&handoff, op.issuer()).await.page();
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "used once (the other browser spent it)"
        );
        op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn a_fingerprint_identity_logs_in_only_after_its_citizen_registered_it(backend: Backend) {
        let op =
            TestServer::start_with(backend, |c| c.certificates.identity = "fingerprint".into())
                .await
                .unwrap();
        let pki = dev_pki(&op);
        let rp = op.relying_party("Land registry", "127.0.0.1").await;

        // Not registered: refused, nothing created.
        let stranger = Browser::new();
        let (_, landing) = answer_with(&stranger, &op, &rp, |c| sign(&pki, "hong", c)).await;
        let (status, body) = landing.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.contains("어떤 계정에도 등록되어 있지 않습니다"),
            "{body}"
        );

        // Hong signs in with the demo method and registers the certificate in the portal.
        let owner = Browser::new();
        let p = rp.start(&[], &[]);
        let cb = owner
            .sign_in(p.url.as_str(), op.issuer(), "hong")
            .await
            .callback();
        let demo = rp.sign_in_claims(&cb, &p).await;
        let (_, page) = owner.open(&op.url("/account"), op.issuer()).await.page();
        assert!(page.contains("action=\"/account/certificate\""), "{page}");
        let challenge = hidden(&page, "challenge");
        // A signature over another challenge registers nothing.
        let wrong = sign(&pki, "hong", "something else");
        let (_, after) = owner
            .submit(
                op.issuer(),
                "/account/certificate",
                &[
                    ("csrf", &hidden(&page, "csrf")),
                    ("challenge", &challenge),
                    ("signature", &wrong),
                ],
            )
            .await
            .page();
        assert!(after.contains("role=\"alert\""), "{after}");
        let challenge = hidden(&after, "challenge");
        let signature = sign(&pki, "hong", &challenge);
        let (_, after) = owner
            .submit(
                op.issuer(),
                "/account/certificate",
                &[
                    ("csrf", &hidden(&after, "csrf")),
                    ("challenge", &challenge),
                    ("signature", &signature),
                ],
            )
            .await
            .page();
        assert!(after.contains("role=\"status\""), "{after}");

        // Now the certificate alone signs Hong in: the same pairwise sub, at the level of
        // the (demo, low) session that registered it (DESIGN §4 binding rule).
        let fresh = Browser::new();
        let (p, landing) = answer_with(&fresh, &op, &rp, |c| sign(&pki, "hong", c)).await;
        let cb = fresh.finish_consent(op.issuer(), landing).await.callback();
        let claims = rp.sign_in_claims(&cb, &p).await;
        assert_eq!(claims.subject(), demo.subject(), "{backend:?}");
        assert_eq!(
            claims.auth_context_ref().unwrap().as_str(),
            "urn:anyid:loa:low"
        );
        op.stop().await;
    }
);

#[tokio::test]
async fn a_certificate_without_the_configured_identity_attribute_is_refused_and_says_why() {
    let op = TestServer::start_with(anyid_tests::Backend::Sqlite, |c| {
        c.certificates.identity = "san_other_name:1.2.3.4".into()
    })
    .await
    .unwrap();
    let pki = dev_pki(&op);
    let rp = op.relying_party("Land registry", "127.0.0.1").await;
    let browser = Browser::new();
    let (_, landing) = answer_with(&browser, &op, &rp, |c| sign(&pki, "hong", c)).await;
    let (status, body) = landing.page();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("본인을 확인하는 데 쓰는 정보가 없어"),
        "{body}"
    );
    op.stop().await;
}

per_backend!(
    #[tokio::test]
    async fn the_same_serial_number_from_two_cas_bound_to_the_policy_is_two_citizens(
        backend: Backend,
    ) {
        // Production-like: the subject serial number identifies (it is no national linking
        // value), and the high policy is bound to both dev CAs.
        let op = TestServer::start_with(backend, |c| {
            let pki = anyid_certs::dev::load_or_generate(
                &c.data_dir.join("certs"),
                std::time::SystemTime::now(),
            )
            .unwrap();
            let certs = &mut c.certificates;
            certs.enabled = Some(true);
            certs.trust_anchors = vec![pki.root.clone()];
            certs.intermediates = vec![pki.intermediate.clone()];
            certs.identity = "subject_serial_number".into();
            certs.strong_identifier = false;
            certs.crls = pki
                .crl_paths
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            certs.policies = vec![PolicyLevel {
                oid: anyid_certs::dev::DEV_POLICY_HIGH.into(),
                loa: Loa::High,
                issuers: vec![pki.intermediate.clone(), pki.other_intermediate.clone()],
            }];
            c.mtls.certificate = Some(pki.server_cert.clone());
            c.mtls.private_key = Some(pki.server_key.clone());
        })
        .await
        .unwrap();
        let pki = dev_pki(&op);
        let rp = op.relying_party("Land registry", "127.0.0.1").await;
        let mut subjects = Vec::new();
        for name in ["hong", "other-ca", "hong"] {
            let browser = Browser::new();
            let (p, landing) = answer_with(&browser, &op, &rp, |c| sign(&pki, name, c)).await;
            let cb = browser
                .finish_consent(op.issuer(), landing)
                .await
                .callback();
            let claims = rp.sign_in_claims(&cb, &p).await;
            assert_eq!(
                claims.auth_context_ref().unwrap().as_str(),
                "urn:anyid:loa:high"
            );
            subjects.push(claims.subject().to_string());
        }
        assert_ne!(subjects[0], subjects[1], "{backend:?}: two citizens");
        assert_eq!(subjects[0], subjects[2], "{backend:?}: hong again");
        let store = &op.state().store;
        let hong = store
            .citizen_by_identity(&namespace_of(&pki, "hong"), "DEV0001")
            .await
            .unwrap()
            .expect("hong's identity");
        let twin = store
            .citizen_by_identity(&namespace_of(&pki, "other-ca"), "DEV0001")
            .await
            .unwrap()
            .expect("the other CA's identity");
        assert_ne!(hong, twin, "{backend:?}");
        op.stop().await;
    }
);
