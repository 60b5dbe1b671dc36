//! What Any-ID keeps, says and releases about citizens: linking values stored only as keyed
//! hashes, no certificate names as `name`, no value that links a citizen across relying
//! parties despite pairwise subjects.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::login::account::hashed_subject;
use anyid::store::AccountStore;
use anyid_tests::certificates::{dev_pki, namespace_of, sign_in_as, uri_of};
use anyid_tests::{Backend, Browser, TestServer, per_backend};
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
