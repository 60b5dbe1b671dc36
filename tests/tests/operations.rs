//! What operators and browsers rely on around the protocol: discovery metadata, security
//! headers and cookies, the admin API and its authentication, metrics, readiness, and key
//! rotation while the server runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::store::KeyStore;
use anyid_tests::{Backend, Browser, Rp, TestServer, per_backend};
use openidconnect::OAuth2TokenResponse;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn discovery_advertises_exactly_what_is_implemented() {
    let op = TestServer::start(anyid_tests::Backend::Sqlite)
        .await
        .unwrap();
    let response = reqwest::get(op.url("/.well-known/openid-configuration"))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
    let d: Value = response.json().await.unwrap();
    assert_eq!(d["issuer"], op.issuer());
    assert_eq!(d["response_types_supported"], json!(["code"]));
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["subject_types_supported"], json!(["pairwise", "public"]));
    assert_eq!(
        d["id_token_signing_alg_values_supported"],
        json!(["ES256", "RS256"])
    );
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
    ] {
        assert!(
            d[endpoint].as_str().unwrap().starts_with(op.issuer()),
            "{endpoint}"
        );
    }
    let jwks: Value = reqwest::get(op.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert!(keys.iter().any(|k| k["alg"] == "ES256" && k["kty"] == "EC"));
    assert!(
        keys.iter()
            .any(|k| k["alg"] == "RS256" && k["kty"] == "RSA")
    );
    assert!(
        keys.iter().all(|k| k.get("d").is_none()),
        "no private material"
    );
    op.stop().await;
}

#[tokio::test]
async fn pages_are_locked_down_and_cookies_are_http_only() {
    let op = TestServer::start(anyid_tests::Backend::Sqlite)
        .await
        .unwrap();
    let rp = op.relying_party("Library", "127.0.0.1").await;
    let pending = rp.start(&[], &[]);
    let response = reqwest::get(pending.url.as_str()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let h = response.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
    let cookie = h["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let body = response.text().await.unwrap();
    assert!(
        body.contains("data-method=\"dev\""),
        "every login method carries data-method"
    );
    assert!(body.contains("name=\"csrf\""), "forms carry a CSRF token");
    // The only script is the passkey file from our own origin, never inline.
    let scripts: Vec<&str> = body
        .match_indices("<script")
        .map(|(i, _)| &body[i..])
        .collect();
    assert!(!scripts.is_empty(), "the passkey script");
    for script in scripts {
        assert!(
            script.starts_with("<script src=\"/static/passkey.js\" defer></script>"),
            "{script}"
        );
    }
    op.stop().await;
}

#[tokio::test]
async fn a_login_form_posted_without_its_csrf_token_or_from_another_browser_is_refused() {
    let op = TestServer::start(anyid_tests::Backend::Sqlite)
        .await
        .unwrap();
    let rp = op.relying_party("Museum", "127.0.0.1").await;
    let victim = Browser::new();
    let pending = rp.start(&[], &[]);
    let (_, page) = victim.open(pending.url.as_str(), op.issuer()).await.page();
    let flow = anyid_tests::browser::hidden(&page, "flow");
    let csrf = anyid_tests::browser::hidden(&page, "csrf");
    let (status, _) = victim
        .submit(
            op.issuer(),
            "/login/dev",
            &[("flow", &flow), ("csrf", "forged"), ("citizen", "hong")],
        )
        .await
        .page();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Another browser (an attacker who started the flow and sends the link) cannot use it.
    let attacker = Browser::new();
    let (status, _) = attacker
        .submit(
            op.issuer(),
            "/login/dev",
            &[("flow", &flow), ("csrf", &csrf), ("citizen", "hong")],
        )
        .await
        .page();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The right browser with the right token still completes.
    let landing = victim
        .submit(
            op.issuer(),
            "/login/dev",
            &[("flow", &flow), ("csrf", &csrf), ("citizen", "hong")],
        )
        .await;
    let (status, body) = landing.page();
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("action=\"/consent\""));
    op.stop().await;
}

per_backend!(
    #[tokio::test]
    async fn the_admin_api_needs_its_token_and_manages_clients(backend: Backend) {
        let op = TestServer::start(backend).await.unwrap();
        let http = reqwest::Client::new();
        let anonymous = http
            .get(op.admin_url("/admin/v1/clients"))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            anonymous.headers()["content-type"],
            "application/problem+json"
        );
        let wrong = http
            .get(op.admin_url("/admin/v1/clients"))
            .bearer_auth("x".repeat(43))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        // The admin plane is not on the public listener.
        let public = http
            .get(op.url("/admin/v1/clients"))
            .bearer_auth(op.admin_token())
            .send()
            .await
            .unwrap();
        assert_eq!(public.status(), StatusCode::NOT_FOUND);

        let bad = http
            .post(op.admin_url("/admin/v1/clients"))
            .bearer_auth(op.admin_token())
            .json(&json!({"name": "x", "redirect_uris": ["ftp://x"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let problem: Value = bad.json().await.unwrap();
        assert_eq!(problem["status"], 400);
        assert!(problem["detail"].as_str().unwrap().contains("ftp://x"));

        let (id, secret) = op.add_client(json!({"name": "Service", "grant_types": ["client_credentials"], "scopes": ["api"]})).await.unwrap();
        let token = |secret: String| {
            let http = http.clone();
            let url = op.url("/token");
            let id = id.clone();
            async move {
                http.post(url)
                    .basic_auth(id, Some(secret))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        assert_eq!(token(secret.clone()).await, StatusCode::OK);
        let rotated: Value = http
            .post(op.admin_url(&format!("/admin/v1/clients/{id}/secret")))
            .bearer_auth(op.admin_token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
        assert_eq!(
            token(secret).await,
            StatusCode::UNAUTHORIZED,
            "the old secret stops working"
        );
        assert_eq!(token(new_secret.clone()).await, StatusCode::OK);
        let listed = op.admin_get("/admin/v1/clients").await.unwrap();
        assert!(
            listed
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["client_id"] == id.as_str())
        );
        let deleted = http
            .delete(op.admin_url(&format!("/admin/v1/clients/{id}")))
            .bearer_auth(op.admin_token())
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        assert_eq!(token(new_secret).await, StatusCode::UNAUTHORIZED);
        let missing = http
            .get(op.admin_url(&format!("/admin/v1/clients/{id}")))
            .bearer_auth(op.admin_token())
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        op.stop().await;
    }
);

#[tokio::test]
async fn health_readiness_and_metrics_are_served() {
    let op = TestServer::start(anyid_tests::Backend::Sqlite)
        .await
        .unwrap();
    assert_eq!(
        reqwest::get(op.url("/healthz")).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        reqwest::get(op.url("/readyz")).await.unwrap().status(),
        StatusCode::OK
    );
    let (id, secret) = op
        .add_client(json!({"name": "Svc", "grant_types": ["client_credentials"]}))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let r = http
            .post(op.url("/token"))
            .basic_auth(&id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let metrics = reqwest::get(op.admin_url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("anyid_tokens_issued_total{grant_type=\"client_credentials\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "anyid_http_requests_total{endpoint=\"/token\",method=\"POST\",status=\"200\"} 3"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("anyid_http_request_duration_seconds_bucket{endpoint=\"/token\""),
        "{metrics}"
    );
    assert!(!metrics.contains(&secret));
    op.stop().await;
}

per_backend!(
    #[tokio::test]
    async fn rotated_keys_are_picked_up_and_old_tokens_stay_valid_until_they_expire(
        backend: Backend,
    ) {
        let op = TestServer::start(backend).await.unwrap();
        let rp = op.relying_party("Archive", "127.0.0.1").await;
        let browser = Browser::new();
        let pending = rp.start(&[], &[]);
        let cb = browser
            .sign_in(pending.url.as_str(), op.issuer(), "hong")
            .await
            .callback();
        let old = rp
            .client()
            .exchange_code(Rp::code_of(&cb))
            .unwrap()
            .set_pkce_verifier(pending.verifier)
            .request_async(&rp.http)
            .await
            .unwrap();
        let old_kids: Vec<String> = op.state().keys.current().kids();

        // Another process (the CLI) rotates; the server reloads its keys.
        let state = op.state();
        let kek = *state.config.key_encryption_key.as_aes_key().unwrap();
        anyid::keys::rotate(&state.store, &kek, state.now(), 360)
            .await
            .unwrap();
        state.keys.reload(&state.store, state.now()).await.unwrap();
        let jwks: Value = reqwest::get(op.url("/jwks"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            jwks["keys"].as_array().unwrap().len(),
            4,
            "old and new keys are published"
        );

        let userinfo = reqwest::Client::new()
            .get(op.url("/userinfo"))
            .bearer_auth(old.access_token().secret())
            .send()
            .await
            .unwrap();
        assert_eq!(
            userinfo.status(),
            StatusCode::OK,
            "a token signed by the previous key still works"
        );

        let pending = rp.start(&[], &[]);
        let cb = browser
            .open(pending.url.as_str(), op.issuer())
            .await
            .callback();
        let new = rp
            .client()
            .exchange_code(Rp::code_of(&cb))
            .unwrap()
            .set_pkce_verifier(pending.verifier)
            .request_async(&rp.http)
            .await
            .unwrap();
        let kid = jsonwebtoken::decode_header(new.access_token().secret())
            .unwrap()
            .kid
            .unwrap();
        assert!(
            !old_kids.contains(&kid),
            "new tokens are signed with the new key"
        );

        // Once the old keys' time has passed they leave the JWKS.
        op.clock.advance(361);
        state.keys.reload(&state.store, state.now()).await.unwrap();
        let jwks: Value = reqwest::get(op.url("/jwks"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
        assert_eq!(state.store.keys().await.unwrap().len(), 4);
        op.stop().await;
    }
);

#[tokio::test]
async fn a_secret_rotated_by_another_process_stops_working_within_a_second() {
    let op = TestServer::start(anyid_tests::Backend::Sqlite)
        .await
        .unwrap();
    let (id, secret) = op
        .add_client(json!({"name": "Batch", "grant_types": ["client_credentials"]}))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let token = |secret: String| {
        let (http, url, id) = (http.clone(), op.url("/token"), id.clone());
        async move {
            http.post(url)
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(token(secret.clone()).await, StatusCode::OK);
    // The CLI rotates through the database, behind the server's back.
    let state = op.state();
    let rotated = anyid::clients::rotate_secret(
        &anyid::clients::Admin::operator(),
        &state.store,
        &id,
        state.now(),
    )
    .await
    .unwrap();
    op.clock.advance(1);
    assert_eq!(
        token(secret).await,
        StatusCode::UNAUTHORIZED,
        "the cached registration expired"
    );
    assert_eq!(token(rotated.client_secret).await, StatusCode::OK);
    op.stop().await;
}
