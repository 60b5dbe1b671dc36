//! What Any-ID keeps, says and releases about citizens: linking values stored only as keyed
//! hashes, no certificate names as `name`, no value that links a citizen across relying
//! parties despite pairwise subjects.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::login::account::hashed_subject;
use anyid::store::AccountStore;
use anyid_tests::browser::hidden;
use anyid_tests::certificates::{dev_pki, namespace_of, sign_in_as, uri_of};
use anyid_tests::{Backend, Browser, Landing, TestServer, per_backend};
use openidconnect::TokenResponse;

per_backend!(
    /// With `strong_identifier = true` (the dev default), a certificate's identity value is a
    /// national linking value: after a certificate login it is in no table, and the account
    /// is found under its keyed hash. The certificate's name is not the citizen's `name`.
    #[tokio::test]
    async fn a_certificate_linking_value_is_stored_nowhere(backend: Backend) {
        let op = TestServer::start(backend).await.unwrap();
        let pki = dev_pki(&op);
        let rp = op.relying_party("Land registry", "127.0.0.1").await;
        let browser = Browser::new();
        let pending = rp.start(&["profile"], &[]);
        let (_, page) = browser.open(pending.url.as_str(), op.issuer()).await.page();
        let landing = sign_in_as(&browser, &op, &pki, &page, "hong").await;
        let callback = browser
            .finish_consent(op.issuer(), landing)
            .await
            .callback();
        let tokens = rp.redeem(&callback, &pending).await.unwrap();
        let claims = tokens
            .id_token()
            .unwrap()
            .claims(&rp.client().id_token_verifier(), &pending.nonce)
            .unwrap();
        assert!(
            claims.name().is_none(),
            "{backend:?}: no name from a certificate"
        );

        let value = uri_of(&pki, "hong");
        let dump = op.dump().await;
        assert!(
            dump.contains("identities:"),
            "{backend:?}: the dump reads the tables"
        );
        let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
        let found: Vec<&str> = dump
            .lines()
            .filter(|l| l.contains(&value) || l.contains(&hex) || l.contains("Dev citizen hong"))
            .collect();
        assert!(
            found.is_empty(),
            "{backend:?}: the linking value or the certificate's name is stored: {found:#?}"
        );
        let keys = &op.state().config.purpose_keys;
        let issuer = namespace_of(&pki, "hong");
        let store = &op.state().store;
        assert!(
            store
                .citizen_by_identity(&issuer, &hashed_subject(keys, &issuer, &value))
                .await
                .unwrap()
                .is_some(),
            "{backend:?}: the account is found under the keyed hash"
        );
        op.stop().await;
    }
);

/// The `sid` claim of an ID token, as the relying party received it.
fn sid_of(id_token: &str) -> String {
    use base64::Engine;
    let payload = id_token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

per_backend!(
    /// One browser session signs in to two relying parties in different sectors: neither
    /// `sub` nor `sid` is the same for both, and each one's ID token still ends the session
    /// when presented as its logout hint. Two public-subject clients share a `sub` that is
    /// not the internal account id.
    #[tokio::test]
    async fn relying_parties_cannot_join_their_records_on_sub_or_sid(backend: Backend) {
        let op = TestServer::start(backend).await.unwrap();
        let tax = op.relying_party("Tax office", "127.0.0.1").await;
        let clinic = op.relying_party("Clinic", "localhost").await;
        let browser = Browser::new();
        let mut seen = Vec::new();
        for (i, rp) in [&tax, &clinic].into_iter().enumerate() {
            let pending = rp.start(&[], &[]);
            let landing = if i == 0 {
                browser
                    .sign_in(pending.url.as_str(), op.issuer(), "hong")
                    .await
            } else {
                browser.open(pending.url.as_str(), op.issuer()).await
            };
            let callback = browser
                .finish_consent(op.issuer(), landing)
                .await
                .callback();
            let tokens = rp.redeem(&callback, &pending).await.unwrap();
            let id_token = tokens.id_token().unwrap();
            let claims = id_token
                .claims(&rp.client().id_token_verifier(), &pending.nonce)
                .unwrap();
            seen.push((
                claims.subject().to_string(),
                sid_of(&id_token.to_string()),
                id_token.to_string(),
            ));
        }
        assert_ne!(seen[0].0, seen[1].0, "{backend:?}: pairwise subjects");
        assert_ne!(seen[0].1, seen[1].1, "{backend:?}: per-client session ids");

        // The clinic's hint (its own sid) ends the one session without a confirmation page.
        let logout = format!("{}?id_token_hint={}", op.url("/logout"), seen[1].2);
        let (status, page) = browser.open(&logout, op.issuer()).await.page();
        assert_eq!(status, 200, "{backend:?}: {page}");
        assert!(
            !page.contains("name=\"csrf\""),
            "{backend:?}: no confirmation: {page}"
        );
        let pending = tax.start(&[], &[]);
        let (_, page) = browser.open(pending.url.as_str(), op.issuer()).await.page();
        assert!(
            page.contains("action=\"/login/dev\""),
            "{backend:?}: signed out"
        );

        let mut public_subjects = Vec::new();
        for host in ["127.0.0.1", "localhost"] {
            let mut registration = anyid_tests::rp_registration("Registry", host);
            registration["subject_type"] = "public".into();
            let (id, secret) = op.add_client(registration).await.unwrap();
            let rp = anyid_tests::Rp::discover(
                op.issuer(),
                &id,
                &secret,
                &format!("http://{host}:1/callback"),
            )
            .await
            .unwrap();
            let pending = rp.start(&[], &[]);
            let landing = Browser::new()
                .sign_in(pending.url.as_str(), op.issuer(), "lee")
                .await;
            let callback = landing.callback();
            public_subjects.push(
                rp.sign_in_claims(&callback, &pending)
                    .await
                    .subject()
                    .to_string(),
            );
        }
        assert_eq!(
            public_subjects[0], public_subjects[1],
            "{backend:?}: one public subject"
        );
        assert!(
            uuid::Uuid::parse_str(&public_subjects[0]).is_err(),
            "{backend:?}: not the internal account id"
        );
        op.stop().await;
    }
);

/// Serve `body` as JSON at `/sector.json` on loopback; the document's URL.
async fn sector_document(body: serde_json::Value) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/sector.json",
        axum::routing::get(move || async move { axum::Json(body) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/sector.json")
}

/// The consent page a relying party registered with `registration` shows to a signed-in
/// citizen, in English; and its `sub` once allowed.
async fn consent_page_of(
    op: &TestServer,
    browser: &Browser,
    registration: serde_json::Value,
    redirect_host: &str,
) -> (String, String) {
    let (id, secret) = op.add_client(registration).await.unwrap();
    let rp = anyid_tests::Rp::discover(
        op.issuer(),
        &id,
        &secret,
        &format!("http://{redirect_host}:1/callback"),
    )
    .await
    .unwrap();
    let pending = rp.start(
        &["profile", "email", "offline_access"],
        &[("ui_locales", "en"), ("prompt", "consent")],
    );
    let mut landing = browser.open(pending.url.as_str(), op.issuer()).await;
    if let Landing::Page { body, .. } = &landing
        && body.contains("action=\"/login/dev\"")
    {
        let (flow, csrf) = (hidden(body, "flow"), hidden(body, "csrf"));
        landing = browser
            .submit(
                op.issuer(),
                "/login/dev",
                &[("flow", &flow), ("csrf", &csrf), ("citizen", "hong")],
            )
            .await;
    }
    let consent = match &landing {
        Landing::Page { body, .. } if body.contains("action=\"/consent\"") => body.clone(),
        other => panic!("expected the consent page, got {other:?}"),
    };
    let callback = browser
        .finish_consent(op.issuer(), landing)
        .await
        .callback();
    let sub = rp
        .sign_in_claims(&callback, &pending)
        .await
        .subject()
        .to_string();
    (consent, sub)
}

per_backend!(
    /// The consent page says what the law asks and only what is true: the recipient, its
    /// purpose and retention (or that it stated none), every claim the scopes release, who
    /// else sees the identifier, and that the citizen may refuse. A sector identifier URI is
    /// fetched and checked (OIDC Core §8.1) and makes its clients one sector.
    #[tokio::test]
    async fn the_consent_page_says_what_the_law_asks_and_only_what_is_true(backend: Backend) {
        let op = TestServer::start(backend).await.unwrap();
        let browser = Browser::new();

        let mut tax = anyid_tests::rp_registration("Tax office", "127.0.0.1");
        tax["purpose"] = "Filing and checking your tax returns".into();
        tax["retention"] = "5 years after the tax year".into();
        tax["policy_uri"] = "https://tax.example/privacy".into();
        tax["agency"] = "National Tax Service".into();
        let (page, _) = consent_page_of(&op, &browser, tax, "127.0.0.1").await;
        for text in [
            "Tax office (National Tax Service)",
            "Filing and checking your tax returns",
            "5 years after the tax year",
            "href=\"https://tax.example/privacy\"",
            "You may refuse",
            "only this service sees",
            "date of birth",
            "website",
            "time zone",
            "when these were last updated",
            "email address",
            "whether it was verified",
            "while you are not using the service",
        ] {
            assert!(
                page.contains(text),
                "{backend:?}: {text:?} missing from {page}"
            );
        }
        assert!(
            !page.contains("each time a service reads"),
            "{backend:?}: reads are not recorded per service yet"
        );

        // A second client on the same host shares the sector, so the same `sub`.
        let (page, _) = consent_page_of(
            &op,
            &browser,
            anyid_tests::rp_registration("Tax refunds", "127.0.0.1"),
            "127.0.0.1",
        )
        .await;
        assert!(
            page.contains("the same at every service of 127.0.0.1"),
            "{backend:?}: {page}"
        );
        assert!(!page.contains("only this service sees"), "{backend:?}");
        assert!(
            page.contains("The service has not stated this."),
            "{backend:?}: no purpose or retention registered"
        );

        // A sector identifier URI listing both redirect URIs: one sector for two hosts.
        let listed = sector_document(serde_json::json!([
            "http://localhost:1/callback",
            "http://[::1]:1/callback"
        ]))
        .await;
        let mut subs = Vec::new();
        for (name, host) in [("Clinic", "localhost"), ("Clinic app", "[::1]")] {
            let mut registration = anyid_tests::rp_registration(name, host);
            registration["sector_identifier_uri"] = listed.clone().into();
            let (page, sub) = consent_page_of(&op, &browser, registration, host).await;
            subs.push(sub);
            if name == "Clinic app" {
                assert!(
                    page.contains("every service of 127.0.0.1"),
                    "{backend:?}: {page}"
                );
            }
        }
        assert_eq!(subs[0], subs[1], "{backend:?}: one sector, one sub");

        let unlisted = sector_document(serde_json::json!(["http://localhost:1/other"])).await;
        let mut registration = anyid_tests::rp_registration("Stranger", "localhost");
        registration["sector_identifier_uri"] = unlisted.into();
        let refused = op.add_client(registration).await.unwrap_err().to_string();
        assert!(
            refused.contains("does not list the redirect URI"),
            "{refused}"
        );
        let mut registration = anyid_tests::rp_registration("Stranger", "localhost");
        registration["sector_identifier_uri"] = "http://127.0.0.1:1/nothing.json".into();
        assert!(
            op.add_client(registration).await.is_err(),
            "unreachable document"
        );
        op.stop().await;
    }
);
