//! The whole relying-party journey with the `openidconnect` crate against the real server:
//! discovery, code + PKCE through the dev login, ID token validation, userinfo, refresh with
//! rotation, introspection, revocation and RP-initiated logout — on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid_tests::browser::param;
use anyid_tests::rp::SIGNING_ALGS;
use anyid_tests::{Backend, Browser, Rp, TestServer, per_backend, rp_registration};
use openidconnect::core::CoreUserInfoClaims;
use openidconnect::{
    AccessToken, IntrospectionUrl, LogoutRequest, OAuth2TokenResponse, PostLogoutRedirectUrl,
    TokenIntrospectionResponse, TokenResponse,
};

per_backend!(
    #[tokio::test]
    async fn code_flow_with_pkce_refresh_introspection_revocation_and_logout(backend: Backend) {
        let op = TestServer::start(backend).await.unwrap();
        let (client_id, secret) = op
            .add_client(rp_registration("Records office", "127.0.0.1"))
            .await
            .unwrap();
        let redirect_uri = "http://127.0.0.1:1/callback";
        let rp = Rp::discover(op.issuer(), &client_id, &secret, redirect_uri)
            .await
            .unwrap();
        assert_eq!(rp.metadata.issuer().as_str(), op.issuer());

        // Code + PKCE through the dev login method.
        let pending = rp.start(&["email", "profile", "offline_access"], &[]);
        let browser = Browser::new();
        let callback = browser
            .sign_in(pending.url.as_str(), op.issuer(), "hong")
            .await
            .callback();
        assert!(
            callback.as_str().starts_with(redirect_uri),
            "{backend:?}: {callback}"
        );
        assert_eq!(
            param(&callback, "state").as_deref(),
            Some(pending.state.secret().as_str())
        );
        assert_eq!(param(&callback, "iss").as_deref(), Some(op.issuer()));

        let client = rp.client();
        let tokens = client
            .exchange_code(Rp::code_of(&callback))
            .unwrap()
            .set_pkce_verifier(pending.verifier)
            .request_async(&rp.http)
            .await
            .unwrap();

        // ID token: signature, iss, aud, nonce, exp are checked by openidconnect.
        let verifier = client.id_token_verifier().set_allowed_algs(SIGNING_ALGS);
        let id_token = tokens.id_token().expect("an ID token");
        let claims = id_token.claims(&verifier, &pending.nonce).unwrap();
        assert_eq!(claims.issuer().as_str(), op.issuer());
        assert_eq!(claims.audiences()[0].as_str(), client_id);
        assert_eq!(
            claims.auth_context_ref().unwrap().as_str(),
            "urn:anyid:loa:low"
        );
        assert_eq!(claims.auth_method_refs().unwrap()[0].as_str(), "user");
        assert!(claims.auth_time().is_some());
        let raw: serde_json::Value = jwt_payload(&id_token.to_string());
        assert!(raw["sid"].as_str().is_some_and(|s| !s.is_empty()));
        assert_eq!(raw["nonce"], pending.nonce.secret().as_str());

        // UserInfo: same sub, claims by scope.
        let userinfo: CoreUserInfoClaims = client
            .user_info(tokens.access_token().clone(), None)
            .unwrap()
            .request_async(&rp.http)
            .await
            .unwrap();
        assert_eq!(userinfo.subject(), claims.subject());
        assert_eq!(
            userinfo.email().unwrap().as_str(),
            "hong@demo.anyid.invalid"
        );
        assert!(
            userinfo.phone_number().is_none(),
            "phone scope was not requested"
        );

        // Refresh with rotation.
        let first_refresh = tokens.refresh_token().expect("a refresh token").clone();
        let refreshed = client
            .exchange_refresh_token(&first_refresh)
            .unwrap()
            .request_async(&rp.http)
            .await
            .unwrap();
        let second_refresh = refreshed
            .refresh_token()
            .expect("a rotated refresh token")
            .clone();
        assert_ne!(second_refresh.secret(), first_refresh.secret());
        let refreshed_id = refreshed.id_token().expect("a refreshed ID token");
        let refreshed_claims = refreshed_id
            .claims(&verifier, |_: Option<&openidconnect::Nonce>| Ok(()))
            .unwrap();
        assert_eq!(refreshed_claims.subject(), claims.subject());
        assert_eq!(refreshed_claims.auth_time(), claims.auth_time());

        // Introspection (RFC 7662) of the new access token and refresh token.
        let endpoints = client
            .clone()
            .set_introspection_url(IntrospectionUrl::new(op.url("/introspect")).unwrap());
        let info = endpoints
            .introspect(refreshed.access_token())
            .request_async(&rp.http)
            .await
            .unwrap();
        assert!(info.active());
        assert_eq!(info.client_id().unwrap().as_str(), client_id);
        assert_eq!(info.sub(), Some(claims.subject().as_str()));
        let refresh_as_access = AccessToken::new(second_refresh.secret().clone());
        let info = endpoints
            .introspect(&refresh_as_access)
            .request_async(&rp.http)
            .await
            .unwrap();
        assert!(
            info.active(),
            "a current refresh token introspects as active"
        );

        // Revocation (RFC 7009) of the refresh token revokes its whole grant.
        // (openidconnect refuses a non-https revocation URL, so this one request is built by
        // hand; TLS for the public listener arrives with the mTLS work.)
        let revoked = rp
            .http
            .0
            .post(op.url("/revoke"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[
                ("token", second_refresh.secret().as_str()),
                ("token_type_hint", "refresh_token"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
        let info = endpoints
            .introspect(refreshed.access_token())
            .request_async(&rp.http)
            .await
            .unwrap();
        assert!(
            !info.active(),
            "access tokens of a revoked grant are inactive"
        );
        let after: Result<CoreUserInfoClaims, _> = client
            .user_info(refreshed.access_token().clone(), None)
            .unwrap()
            .request_async(&rp.http)
            .await;
        assert!(after.is_err(), "userinfo refuses a revoked grant's token");
        let again = client
            .exchange_refresh_token(&second_refresh)
            .unwrap()
            .request_async(&rp.http)
            .await;
        assert!(again.is_err(), "a revoked refresh token cannot be used");

        // RP-initiated logout with id_token_hint, registered post_logout_redirect_uri, state.
        let end_session = rp
            .metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()
            .expect("end_session_endpoint");
        let logout_url = LogoutRequest::from(end_session)
            .set_id_token_hint(id_token)
            .set_post_logout_redirect_uri(
                PostLogoutRedirectUrl::new("http://127.0.0.1:1/signed-out".into()).unwrap(),
            )
            .set_state(openidconnect::CsrfToken::new("bye".into()))
            .http_get_url();
        let landing = browser
            .open(logout_url.as_str(), op.issuer())
            .await
            .callback();
        assert!(
            landing
                .as_str()
                .starts_with("http://127.0.0.1:1/signed-out")
        );
        assert_eq!(param(&landing, "state").as_deref(), Some("bye"));

        // The SSO session is over: prompt=none now answers login_required.
        let silent = rp.start(&[], &[("prompt", "none")]);
        let answer = browser
            .open(silent.url.as_str(), op.issuer())
            .await
            .callback();
        assert_eq!(param(&answer, "error").as_deref(), Some("login_required"));
        assert_eq!(
            param(&answer, "state").as_deref(),
            Some(silent.state.secret().as_str())
        );

        op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn one_login_serves_a_second_relying_party_without_asking_again_for_consent(
        backend: Backend,
    ) {
        let op = TestServer::start(backend).await.unwrap();
        let (id_a, secret_a) = op
            .add_client(rp_registration("Tax office", "127.0.0.1"))
            .await
            .unwrap();
        let (id_b, secret_b) = op
            .add_client(rp_registration("Health office", "localhost"))
            .await
            .unwrap();
        let rp_a = Rp::discover(op.issuer(), &id_a, &secret_a, "http://127.0.0.1:1/callback")
            .await
            .unwrap();
        let rp_b = Rp::discover(op.issuer(), &id_b, &secret_b, "http://localhost:1/callback")
            .await
            .unwrap();
        let browser = Browser::new();

        let p = rp_a.start(&[], &[]);
        let cb = browser
            .sign_in(p.url.as_str(), op.issuer(), "kim")
            .await
            .callback();
        let sub_a1 = rp_a.sign_in_claims(&cb, &p).await.subject().to_string();

        // SSO: the session carries over to B (consent is asked once for B).
        let p = rp_b.start(&[], &[]);
        let landing = browser.open(p.url.as_str(), op.issuer()).await;
        let (_, body) = landing.page();
        assert!(
            body.contains("action=\"/consent\""),
            "B asks for consent, not for login"
        );
        let cb = browser
            .sign_in(p.url.as_str(), op.issuer(), "kim")
            .await
            .callback();
        let sub_b = rp_b.sign_in_claims(&cb, &p).await.subject().to_string();

        // A again: no page at all (session and remembered consent).
        let p = rp_a.start(&[], &[]);
        let cb = browser.open(p.url.as_str(), op.issuer()).await.callback();
        let sub_a2 = rp_a.sign_in_claims(&cb, &p).await.subject().to_string();

        // OIDC Core §8.1: pairwise subjects differ across sectors and are stable within one.
        assert_eq!(sub_a1, sub_a2);
        assert_ne!(sub_a1, sub_b);
        op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn rs256_and_public_subject_clients_get_what_they_registered(backend: Backend) {
        let op = TestServer::start(backend).await.unwrap();
        let mut registration = rp_registration("Legacy portal", "127.0.0.1");
        registration["id_token_signed_response_alg"] = "RS256".into();
        registration["subject_type"] = "public".into();
        let (id, secret) = op.add_client(registration).await.unwrap();
        let rp = Rp::discover(op.issuer(), &id, &secret, "http://127.0.0.1:1/callback")
            .await
            .unwrap();
        let pending = rp.start(&[], &[]);
        let cb = Browser::new()
            .sign_in(pending.url.as_str(), op.issuer(), "lee")
            .await
            .callback();
        let client = rp.client();
        let tokens = client
            .exchange_code(Rp::code_of(&cb))
            .unwrap()
            .set_pkce_verifier(pending.verifier)
            .request_async(&rp.http)
            .await
            .unwrap();
        // openidconnect's default verifier accepts RS256 only.
        let claims = tokens
            .id_token()
            .unwrap()
            .claims(&client.id_token_verifier(), &pending.nonce)
            .unwrap();
        let header = jwt_header(&tokens.id_token().unwrap().to_string());
        assert_eq!(header["alg"], "RS256");
        // Public subject: one value for every client, of its own (not the internal id).
        assert!(uuid::Uuid::parse_str(claims.subject().as_str()).is_err());
        assert!(!claims.subject().is_empty());
        op.stop().await;
    }
);

fn jwt_part(token: &str, index: usize) -> serde_json::Value {
    use base64::Engine;
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

fn jwt_payload(token: &str) -> serde_json::Value {
    jwt_part(token, 1)
}

fn jwt_header(token: &str) -> serde_json::Value {
    jwt_part(token, 0)
}

#[tokio::test]
async fn prompt_login_and_max_age_zero_force_a_new_login_with_a_new_auth_time() {
    let op = TestServer::start(anyid_tests::Backend::Sqlite)
        .await
        .unwrap();
    let rp = op.relying_party("Court", "127.0.0.1").await;
    let browser = Browser::new();
    let auth_time = |p: anyid_tests::rp::Pending, cb: url::Url| {
        let rp = &rp;
        async move { rp.sign_in_claims(&cb, &p).await.auth_time().unwrap() }
    };
    let p = rp.start(&[], &[]);
    let cb = browser
        .sign_in(p.url.as_str(), op.issuer(), "hong")
        .await
        .callback();
    let first = auth_time(p, cb).await;

    // Within the session and without a prompt, no login page: the same auth_time.
    op.clock.advance(5);
    let p = rp.start(&[], &[]);
    let cb = browser.open(p.url.as_str(), op.issuer()).await.callback();
    assert_eq!(auth_time(p, cb).await, first);

    for extra in [("prompt", "login"), ("max_age", "0")] {
        op.clock.advance(5);
        let p = rp.start(&[], &[extra]);
        let (_, page) = browser.open(p.url.as_str(), op.issuer()).await.page();
        assert!(
            page.contains("action=\"/login/dev\""),
            "{extra:?} shows the login page"
        );
        let cb = browser
            .sign_in(p.url.as_str(), op.issuer(), "hong")
            .await
            .callback();
        let again = auth_time(p, cb).await;
        assert!(
            again > first,
            "{extra:?}: auth_time moves with the new login"
        );
    }
    op.stop().await;
}
