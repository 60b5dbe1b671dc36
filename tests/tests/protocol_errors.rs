//! Every refusal answers with the exact RFC error code on the right channel: a page when the
//! redirect URI cannot be trusted, a redirect to the registered URI otherwise, JSON with the
//! right status at the token endpoint, and a bearer challenge at userinfo.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid_tests::browser::param;
use anyid_tests::rp::{Pending, SIGNING_ALGS};
use anyid_tests::{Backend, Browser, Landing, Rp, TestServer, per_backend};
use openidconnect::core::CoreErrorResponseType;
use openidconnect::{OAuth2TokenResponse, RequestTokenError};
use reqwest::StatusCode;
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:1/callback";

struct Setup {
    op: TestServer,
    rp: Rp,
    raw: reqwest::Client,
}

async fn setup(backend: anyid_tests::Backend) -> Setup {
    let op = TestServer::start(backend).await.unwrap();
    let rp = op.relying_party("Permits office", "127.0.0.1").await;
    Setup {
        op,
        rp,
        raw: reqwest::Client::new(),
    }
}

/// Sign in and return the callback with its pending request.
async fn code(s: &Setup, browser: &Browser) -> (url::Url, Pending) {
    let pending = s.rp.start(&["offline_access"], &[]);
    let callback = browser
        .sign_in(pending.url.as_str(), s.op.issuer(), "hong")
        .await
        .callback();
    (callback, pending)
}

fn token_error<T>(
    result: Result<
        T,
        RequestTokenError<
            impl std::error::Error,
            openidconnect::StandardErrorResponse<CoreErrorResponseType>,
        >,
    >,
) -> CoreErrorResponseType {
    match result {
        Err(RequestTokenError::ServerResponse(e)) => e.error().clone(),
        Err(other) => panic!("expected an OAuth error response, got {other:?}"),
        Ok(_) => panic!("expected an OAuth error response, got success"),
    }
}

per_backend!(
    #[tokio::test]
    async fn an_unregistered_redirect_uri_gets_an_error_page_and_never_a_redirect(
        backend: Backend,
    ) {
        let s = setup(backend).await;
        let browser = Browser::new();
        for evil in [
            "https://evil.example/callback",
            "http://127.0.0.1:1/callback/extra",
            "http://127.0.0.1:1/callback?x=1",
        ] {
            let mut pending = s.rp.start(&[], &[]);
            let url = pending
                .url
                .as_str()
                .replace(&urlencode(REDIRECT), &urlencode(evil));
            pending.url = url.parse().unwrap();
            let landing = browser.open(pending.url.as_str(), s.op.issuer()).await;
            let Landing::Page { status, body, .. } = landing else {
                panic!("{backend:?}: redirected for {evil}");
            };
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert!(body.contains("role=\"alert\""), "{body}");
        }
        // Unknown client: also a page.
        let url = format!(
            "{}/authorize?client_id=nobody&redirect_uri={}&response_type=code&scope=openid",
            s.op.issuer(),
            urlencode(REDIRECT)
        );
        let (status, _) = browser.open(&url, s.op.issuer()).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        s.op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn authorization_requests_without_pkce_s256_are_refused_at_the_redirect_uri(
        backend: Backend,
    ) {
        let s = setup(backend).await;
        let browser = Browser::new();
        let pending = s.rp.start(&[], &[]);
        let stripped: String = pending
            .url
            .query_pairs()
            .filter(|(k, _)| !k.starts_with("code_challenge"))
            .map(|(k, v)| format!("{}={}", k, urlencode(&v)))
            .collect::<Vec<_>>()
            .join("&");
        let url = format!("{}/authorize?{stripped}", s.op.issuer());
        let callback = browser.open(&url, s.op.issuer()).await.callback();
        assert!(callback.as_str().starts_with(REDIRECT));
        assert_eq!(
            param(&callback, "error").as_deref(),
            Some("invalid_request")
        );
        assert_eq!(
            param(&callback, "state").as_deref(),
            Some(pending.state.secret().as_str())
        );
        // plain is refused too.
        let plain = pending
            .url
            .as_str()
            .replace("code_challenge_method=S256", "code_challenge_method=plain");
        let callback = browser.open(&plain, s.op.issuer()).await.callback();
        assert_eq!(
            param(&callback, "error").as_deref(),
            Some("invalid_request")
        );
        // Implicit flow is not offered.
        let implicit = pending
            .url
            .as_str()
            .replace("response_type=code", "response_type=token");
        let callback = browser.open(&implicit, s.op.issuer()).await.callback();
        assert_eq!(
            param(&callback, "error").as_deref(),
            Some("unsupported_response_type")
        );
        s.op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn a_wrong_code_verifier_is_invalid_grant(backend: Backend) {
        let s = setup(backend).await;
        let (callback, pending) = code(&s, &Browser::new()).await;
        let wrong = Pending {
            verifier: openidconnect::PkceCodeVerifier::new("x".repeat(64)),
            ..pending
        };
        assert_eq!(
            token_error(s.rp.redeem(&callback, &wrong).await),
            CoreErrorResponseType::InvalidGrant
        );
        s.op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn a_reused_code_is_refused_and_revokes_the_tokens_from_its_first_use(backend: Backend) {
        let s = setup(backend).await;
        let (callback, pending) = code(&s, &Browser::new()).await;
        let first = s.rp.redeem(&callback, &pending).await.unwrap();
        let again = s.rp.redeem(&callback, &pending).await;
        assert_eq!(token_error(again), CoreErrorResponseType::InvalidGrant);
        // RFC 6749 §4.1.2: the first use's tokens are revoked.
        let userinfo = s
            .raw
            .get(s.op.url("/userinfo"))
            .bearer_auth(first.access_token().secret())
            .send()
            .await
            .unwrap();
        assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);
        let refresh =
            s.rp.client()
                .exchange_refresh_token(first.refresh_token().unwrap())
                .unwrap()
                .request_async(&s.rp.http)
                .await;
        assert_eq!(token_error(refresh), CoreErrorResponseType::InvalidGrant);
        s.op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn an_expired_code_is_invalid_grant(backend: Backend) {
        let s = setup(backend).await;
        let (callback, pending) = code(&s, &Browser::new()).await;
        s.op.clock.advance(61);
        assert_eq!(
            token_error(s.rp.redeem(&callback, &pending).await),
            CoreErrorResponseType::InvalidGrant
        );
        s.op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn a_wrong_client_secret_is_401_invalid_client_with_a_challenge(backend: Backend) {
        let s = setup(backend).await;
        let (callback, pending) = code(&s, &Browser::new()).await;
        let impostor = Rp {
            client_secret: "not-the-secret".into(),
            ..Rp::discover(s.op.issuer(), &s.rp.client_id, "x", REDIRECT)
                .await
                .unwrap()
        };
        let result = impostor
            .client()
            .exchange_code(Rp::code_of(&callback))
            .unwrap()
            .set_pkce_verifier(pending.verifier)
            .request_async(&impostor.http)
            .await;
        assert_eq!(token_error(result), CoreErrorResponseType::InvalidClient);
        for (auth, body) in [
            (
                Some((s.rp.client_id.as_str(), "wrong")),
                "grant_type=client_credentials".to_owned(),
            ),
            (
                None,
                format!(
                    "grant_type=client_credentials&client_id={}&client_secret=wrong",
                    s.rp.client_id
                ),
            ),
            (None, "grant_type=client_credentials".to_owned()),
        ] {
            let mut request = s
                .raw
                .post(s.op.url("/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            if let Some((id, secret)) = auth {
                request = request.basic_auth(id, Some(secret));
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert!(response.headers().get("www-authenticate").is_some());
            assert_eq!(response.headers()["cache-control"], "no-store");
            let json: Value = response.json().await.unwrap();
            assert_eq!(json["error"], "invalid_client");
        }
        s.op.stop().await;
    }
);

/// Anyone who knows a relying party's public `client_id` can send wrong secrets. Those
/// failures are throttled (429 with `Retry-After`), but a correct credential always
/// succeeds, at every endpoint that authenticates clients, even from the same address.
#[tokio::test]
async fn failed_client_authentications_are_throttled_without_locking_out_the_client() {
    let op = TestServer::start(anyid_tests::Backend::Sqlite)
        .await
        .unwrap();
    let (id, secret) = op
        .add_client(json!({"name": "Service", "grant_types": ["client_credentials"]}))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let post = |path: &str, secret: &str, body: &[(&str, &str)]| {
        http.post(op.url(path))
            .basic_auth(&id, Some(secret))
            .form(body)
            .send()
    };
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..60 {
        let r = post("/token", "guess", &[("grant_type", "client_credentials")])
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = r.headers().get("retry-after").cloned();
            let json: Value = r.json().await.unwrap();
            assert_eq!(json["error"], "invalid_client");
            statuses.push(StatusCode::TOO_MANY_REQUESTS);
        } else {
            statuses.push(r.status());
        }
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "failures are throttled: {statuses:?}"
    );
    let wait: u64 = retry_after
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");

    // The client itself is never locked out.
    let token = post("/token", &secret, &[("grant_type", "client_credentials")])
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::OK);
    let token: Value = token.json().await.unwrap();
    let access = token["access_token"].as_str().unwrap();
    for path in ["/introspect", "/revoke"] {
        let r = post(path, &secret, &[("token", access)]).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    op.stop().await;
}

per_backend!(
    #[tokio::test]
    async fn a_reused_rotated_refresh_token_revokes_the_whole_family(backend: Backend) {
        let s = setup(backend).await;
        let (callback, pending) = code(&s, &Browser::new()).await;
        let tokens = s.rp.redeem(&callback, &pending).await.unwrap();
        let client = s.rp.client();
        let old = tokens.refresh_token().unwrap().clone();
        let rotated = client
            .exchange_refresh_token(&old)
            .unwrap()
            .request_async(&s.rp.http)
            .await
            .unwrap();
        let new = rotated.refresh_token().unwrap().clone();
        let replay = client
            .exchange_refresh_token(&old)
            .unwrap()
            .request_async(&s.rp.http)
            .await;
        assert_eq!(token_error(replay), CoreErrorResponseType::InvalidGrant);
        let after = client
            .exchange_refresh_token(&new)
            .unwrap()
            .request_async(&s.rp.http)
            .await;
        assert_eq!(
            token_error(after),
            CoreErrorResponseType::InvalidGrant,
            "the family is revoked"
        );
        let userinfo = s
            .raw
            .get(s.op.url("/userinfo"))
            .bearer_auth(rotated.access_token().secret())
            .send()
            .await
            .unwrap();
        assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);
        s.op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn userinfo_without_or_with_a_bad_bearer_is_401_with_a_challenge(backend: Backend) {
        let s = setup(backend).await;
        let missing = s.raw.get(s.op.url("/userinfo")).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            missing.headers()["www-authenticate"],
            "Bearer realm=\"anyid\""
        );
        for bad in ["garbage", "a.b.c", &forged_token(&s).await] {
            let response = s
                .raw
                .get(s.op.url("/userinfo"))
                .bearer_auth(bad)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad}");
            let challenge = response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                challenge.starts_with("Bearer realm=\"anyid\", error=\"invalid_token\""),
                "{challenge}"
            );
        }
        // POST with a form token (RFC 6750 §2.2) is read too.
        let post = s
            .raw
            .post(s.op.url("/userinfo"))
            .form(&[("access_token", "garbage")])
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), StatusCode::UNAUTHORIZED);
        // A client_credentials token has no citizen: it is not for userinfo.
        let (id, secret) = s
        .op
        .add_client(serde_json::json!({"name": "Batch job", "grant_types": ["client_credentials"], "scopes": ["records.read"]}))
        .await
        .unwrap();
        let token: Value = s
            .raw
            .post(s.op.url("/token"))
            .basic_auth(&id, Some(&secret))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "records.read"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(token["scope"], "records.read");
        let response = s
            .raw
            .get(s.op.url("/userinfo"))
            .bearer_auth(token["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        s.op.stop().await;
    }
);

/// A token signed by a key Any-ID does not have, with a believable header and claims.
async fn forged_token(s: &Setup) -> String {
    let (callback, pending) = code(s, &Browser::new()).await;
    let real = s.rp.redeem(&callback, &pending).await.unwrap();
    let secret = real.access_token().secret().clone();
    let mut parts: Vec<&str> = secret.split('.').collect();
    let fake_sig = "A".repeat(86);
    parts[2] = &fake_sig;
    parts.join(".")
}

per_backend!(
    #[tokio::test]
    async fn prompt_none_without_a_session_is_login_required(backend: Backend) {
        let s = setup(backend).await;
        let pending = s.rp.start(&[], &[("prompt", "none")]);
        let callback = Browser::new()
            .open(pending.url.as_str(), s.op.issuer())
            .await
            .callback();
        assert!(callback.as_str().starts_with(REDIRECT));
        assert_eq!(param(&callback, "error").as_deref(), Some("login_required"));
        assert_eq!(param(&callback, "iss").as_deref(), Some(s.op.issuer()));
        s.op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn malformed_and_oversized_requests_get_a_clear_4xx(backend: Backend) {
        let s = setup(backend).await;
        let token = s.op.url("/token");
        let cases: Vec<(reqwest::RequestBuilder, StatusCode, Option<&str>)> = vec![
            (
                s.raw
                    .post(&token)
                    .header("content-type", "application/json")
                    .body("{}"),
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
            ),
            (
                s.raw
                    .post(&token)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(vec![0xff, 0xfe, 0x3d]),
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
            ),
            (
                s.raw.post(&token).form(&[("grant_type", "password")]),
                StatusCode::BAD_REQUEST,
                Some("unsupported_grant_type"),
            ),
            (
                s.raw
                    .post(&token)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("grant_type=a&grant_type=b"),
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
            ),
            (
                s.raw
                    .post(&token)
                    .form(&[("grant_type", "authorization_code")])
                    .header("authorization", "Basic !!!"),
                StatusCode::UNAUTHORIZED,
                Some("invalid_client"),
            ),
            (
                s.raw.post(&token).form(&[
                    ("grant_type", "client_credentials"),
                    ("scope", &"x".repeat(5000)),
                ]),
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
            ),
            (
                s.raw
                    .post(&token)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(vec![b'a'; 70 * 1024]),
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
            ),
            (
                s.raw.post(s.op.url("/introspect")).form(&[("token", "x")]),
                StatusCode::UNAUTHORIZED,
                Some("invalid_client"),
            ),
            (
                s.raw.post(s.op.url("/revoke")).form(&[("token", "x")]),
                StatusCode::UNAUTHORIZED,
                Some("invalid_client"),
            ),
        ];
        for (request, status, code) in cases {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), status);
            // Answers made by outer layers (413 here) carry the security headers too.
            assert_eq!(response.headers()["x-content-type-options"], "nosniff");
            assert!(response.headers().contains_key("content-security-policy"));
            if let Some(code) = code {
                let json: Value = response.json().await.unwrap();
                assert_eq!(json["error"], code);
            }
        }
        // Authorization endpoint: repeated or oversized parameters are a page, never a redirect.
        let browser = Browser::new();
        let base = format!(
            "{}/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid",
            s.op.issuer(),
            s.rp.client_id,
            urlencode(REDIRECT)
        );
        for url in [
            format!("{base}&scope=email"),
            format!("{base}&state={}", "s".repeat(5000)),
            format!("{base}&nonce=%ZZ%"),
        ] {
            match browser.open(&url, s.op.issuer()).await {
                Landing::Page { status, .. } => {
                    assert!(status.is_client_error(), "{url}: {status}")
                }
                Landing::RelyingParty(to) => {
                    // A malformed escape still parses; it must then be a normal refusal.
                    assert!(param(&to, "error").is_some(), "{url} -> {to}");
                }
            }
        }
        s.op.stop().await;
    }
);

per_backend!(
    #[tokio::test]
    async fn id_tokens_and_access_tokens_fail_validation_when_tampered(backend: Backend) {
        let s = setup(backend).await;
        let (callback, pending) = code(&s, &Browser::new()).await;
        let tokens = s.rp.redeem(&callback, &pending).await.unwrap();
        let client = s.rp.client();
        let verifier = client.id_token_verifier().set_allowed_algs(SIGNING_ALGS);
        let other_nonce = openidconnect::Nonce::new("not-the-nonce".into());
        assert!(
            tokens
                .extra_fields()
                .id_token()
                .unwrap()
                .claims(&verifier, &other_nonce)
                .is_err()
        );
        let introspected = s
            .raw
            .post(s.op.url("/introspect"))
            .basic_auth(&s.rp.client_id, Some(&s.rp.client_secret))
            .form(&[("token", format!("{}x", tokens.access_token().secret()))])
            .send()
            .await
            .unwrap();
        let json: Value = introspected.json().await.unwrap();
        assert_eq!(json["active"], false);
        s.op.stop().await;
    }
);

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
