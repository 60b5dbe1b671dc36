//! How long what a login gave a relying party lasts: a code is redeemable only while the
//! session it was issued under is live and the consent behind it stands; a refresh token
//! ends with the session unless the citizen granted `offline_access` (OIDC Core §11); and a
//! code used twice at once always leaves its grant revoked (RFC 6749 §4.1.2), on every
//! backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::store::{AccountStore, CodeRecord, GrantRecord, GrantStore, SessionStore};
use anyid_tests::browser::hidden;
use anyid_tests::{Backend, Browser, Rp, TestServer, per_backend};
use base64::Engine;
use openidconnect::{OAuth2TokenResponse, RefreshToken};
use reqwest::StatusCode;
use serde_json::Value;

const REDIRECT: &str = "http://127.0.0.1:1/callback";

/// Sign out of the SSO session the way a person does: the sign-out page, confirmed.
async fn sign_out(browser: &Browser, op: &TestServer) {
    let (_, page) = browser.open(&op.url("/logout"), op.issuer()).await.page();
    let (status, _) = browser
        .submit(op.issuer(), "/logout", &[("csrf", &hidden(&page, "csrf"))])
        .await
        .page();
    assert_eq!(status, StatusCode::OK);
}

async fn userinfo(op: &TestServer, access_token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(op.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
}

per_backend!(
    #[tokio::test]
    async fn a_code_issued_before_sign_out_or_consent_withdrawal_is_refused(backend: Backend) {
        let op = TestServer::start(backend).await.unwrap();
        let rp = op.relying_party("Records office", "127.0.0.1").await;

        // Signed out between the redirect and the redemption.
        let browser = Browser::new();
        let p = rp.start(&[], &[]);
        let cb = browser
            .sign_in(p.url.as_str(), op.issuer(), "hong")
            .await
            .callback();
        sign_out(&browser, &op).await;
        assert!(
            rp.redeem(&cb, &p).await.is_err(),
            "{backend:?}: the session is over"
        );

        // Consent withdrawn in the portal between the redirect and the redemption.
        let browser = Browser::new();
        let p = rp.start(&[], &[]);
        let cb = browser
            .sign_in(p.url.as_str(), op.issuer(), "kim")
            .await
            .callback();
        let (_, portal) = browser.open(&op.url("/account"), op.issuer()).await.page();
        browser
            .submit(
                op.issuer(),
                "/account/action",
                &[
                    ("csrf", &hidden(&portal, "csrf")),
                    ("withdraw", &rp.client_id),
                ],
            )
            .await
            .page();
        assert!(
            rp.redeem(&cb, &p).await.is_err(),
            "{backend:?}: the consent is withdrawn"
        );

        // Otherwise the code is good.
        let p = rp.start(&[], &[]);
        let (_, consent) = browser.open(p.url.as_str(), op.issuer()).await.page();
        let cb = browser
            .finish_consent(
                op.issuer(),
                anyid_tests::Landing::Page {
                    status: StatusCode::OK,
                    url: url::Url::parse(op.issuer()).unwrap(),
                    body: consent,
                },
            )
            .await
            .callback();
        assert!(rp.redeem(&cb, &p).await.is_ok(), "{backend:?}");
        op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn refresh_tokens_end_with_the_session_unless_offline_access_was_granted(
        backend: Backend,
    ) {
        let op = TestServer::start(backend).await.unwrap();
        let rp = op.relying_party("Records office", "127.0.0.1").await;
        let browser = Browser::new();
        let tokens = async |scopes: &[&str]| {
            let p = rp.start(scopes, &[]);
            let landing = browser.open(p.url.as_str(), op.issuer()).await;
            let landing = match landing {
                anyid_tests::Landing::Page { ref body, .. }
                    if body.contains("action=\"/login/dev\"") =>
                {
                    browser.sign_in(p.url.as_str(), op.issuer(), "hong").await
                }
                other => other,
            };
            let cb = browser
                .finish_consent(op.issuer(), landing)
                .await
                .callback();
            rp.redeem(&cb, &p).await.unwrap()
        };
        let online = tokens(&[]).await;
        let offline = tokens(&["offline_access"]).await;
        let refresh = async |token: &RefreshToken| {
            rp.client()
                .exchange_refresh_token(token)
                .unwrap()
                .request_async(&rp.http)
                .await
        };
        // While the session lives, both refresh.
        let online = refresh(online.refresh_token().unwrap()).await.unwrap();
        let offline = refresh(offline.refresh_token().unwrap()).await.unwrap();

        // Signed out: the session-bound token stops, the offline one goes on.
        sign_out(&browser, &op).await;
        assert!(
            refresh(online.refresh_token().unwrap()).await.is_err(),
            "{backend:?}: no offline_access, no refresh after sign-out"
        );
        let offline = refresh(offline.refresh_token().unwrap()).await.unwrap();
        assert_eq!(
            userinfo(&op, offline.access_token().secret()).await,
            StatusCode::OK
        );

        // A session that simply expires ends a session-bound token too.
        let browser = Browser::new();
        let p = rp.start(&[], &[]);
        let cb = browser
            .sign_in(p.url.as_str(), op.issuer(), "hong")
            .await
            .callback();
        let online = rp.redeem(&cb, &p).await.unwrap();
        op.clock.advance(11 * 3600);
        assert!(
            refresh(online.refresh_token().unwrap()).await.is_err(),
            "{backend:?}: the session expired"
        );
        assert!(refresh(offline.refresh_token().unwrap()).await.is_ok());
        op.stop().await;
    }
);

/// Mint a code for the signed-in citizen's session as `issue_code` does.
async fn code_for(op: &TestServer, rp: &Rp, grant: &GrantRecord, verifier: &str) -> String {
    let code = uuid::Uuid::new_v4().simple().to_string();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    let now = op.state().now();
    let record = CodeRecord {
        code_hash: anyid::crypto::secret_hash(&code),
        grant: GrantRecord {
            id: uuid::Uuid::now_v7().to_string(),
            created_at: now,
            ..grant.clone()
        },
        redirect_uri: REDIRECT.into(),
        code_challenge: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest),
        nonce: None,
        expires_at: now + 60,
    };
    assert_eq!(record.grant.client_id, rp.client_id);
    op.state().store.insert_code(&record, now).await.unwrap();
    code
}

per_backend!(
    /// Two redemptions of one code race; whichever wins, the replay must find and revoke the
    /// grant the winner recorded, so the winner's tokens stop.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_code_redeemed_twice_at_once_always_ends_revoked(backend: Backend) {
        let op = TestServer::start(backend).await.unwrap();
        let rp = op.relying_party("Records office", "127.0.0.1").await;
        let browser = Browser::new();
        let p = rp.start(&[], &[]);
        let cb = browser
            .sign_in(p.url.as_str(), op.issuer(), "hong")
            .await
            .callback();
        rp.redeem(&cb, &p).await.unwrap();
        let store = &op.state().store;
        let citizen = store
            .citizen_by_identity(anyid_adapters::dev::ISSUER, "hong")
            .await
            .unwrap()
            .unwrap();
        let session = store
            .sessions_of(&citizen, op.state().now())
            .await
            .unwrap()
            .remove(0);
        let grant = GrantRecord {
            id: String::new(),
            client_id: rp.client_id.clone(),
            citizen_id: citizen,
            session_id: session.id,
            scope: "openid".into(),
            auth_time: session.auth_time,
            acr: session.acr,
            amr: session.amr,
            created_at: 0,
            revoked_at: None,
        };
        let http = reqwest::Client::new();
        let verifier = "v".repeat(50);
        for round in 0..30 {
            let code = code_for(&op, &rp, &grant, &verifier).await;
            let redeem = || {
                http.post(op.url("/token"))
                    .basic_auth(&rp.client_id, Some(&rp.client_secret))
                    .form(&[
                        ("grant_type", "authorization_code"),
                        ("code", code.as_str()),
                        ("redirect_uri", REDIRECT),
                        ("code_verifier", verifier.as_str()),
                    ])
                    .send()
            };
            let (a, b) = tokio::join!(redeem(), redeem());
            let mut winners = Vec::new();
            for response in [a.unwrap(), b.unwrap()] {
                let status = response.status();
                let body: Value = response.json().await.unwrap();
                match status {
                    StatusCode::OK => {
                        winners.push(body["access_token"].as_str().unwrap().to_owned())
                    }
                    _ => assert_eq!(body["error"], "invalid_grant", "{body}"),
                }
            }
            assert_eq!(winners.len(), 1, "{backend:?} round {round}");
            assert_eq!(
                userinfo(&op, &winners[0]).await,
                StatusCode::UNAUTHORIZED,
                "{backend:?} round {round}: the replay revoked the grant"
            );
        }
        op.stop().await;
    }
);
