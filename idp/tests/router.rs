//! The protocol-error table, in process: the public router driven with `oneshot`, with no
//! socket and no peer address (STYLE 11, the middle tier), on a dev-mode state over a SQLite
//! file in a temporary folder. Each refusal answers on the right channel: a page when the
//! redirect URI cannot be trusted, a redirect to the registered URI with the RFC 6749
//! §4.1.2.1 code, `state` and `iss` (RFC 9207) otherwise, JSON at the token endpoint (RFC 6749
//! §5.2), and a bearer challenge at userinfo (RFC 6750 §3). `tests/tests/protocol_errors.rs`
//! walks the same table over sockets with real peers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use anyid::clients::{self, Admin, NewClient, Registered};
use anyid::clock::{Clock, ShiftedClock};
use anyid::config::{Config, ConfigFile, Mode};
use anyid::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode, header};
use tower::ServiceExt;

const REDIRECT: &str = "https://permits.example/callback";
const STATE: &str = "state-1";
/// RFC 7636 Appendix B.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const FORM: &str = "application/x-www-form-urlencoded";

/// Changes to a valid authorization request: `(name, Some(value))` sets a parameter,
/// `(name, None)` removes it.
type Change<'a> = &'a [(&'a str, Option<&'a str>)];
/// A form body as name-value pairs.
type Form<'a> = &'a [(&'a str, &'a str)];
/// A client id and secret for `client_secret_basic`, if any.
type Basic<'a> = Option<(&'a str, &'a str)>;

/// The public router of a dev-mode Any-ID with one registered relying party.
struct App {
    router: Router,
    state: AppState,
    clock: Arc<ShiftedClock>,
    client_id: String,
    client_secret: String,
    _data_dir: tempfile::TempDir,
}

impl App {
    async fn new() -> Self {
        Self::with_issuer(None).await
    }

    /// With the issuer `issuer` (`None`: dev's own on loopback).
    async fn with_issuer(issuer: Option<&str>) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let file = ConfigFile {
            data_dir: data_dir.path().to_path_buf(),
            issuer: issuer.map(str::to_owned),
            ..ConfigFile::default()
        };
        anyid::config::dev::prepare(&file).unwrap();
        let config = Config::resolve(file, Mode::Dev).unwrap();
        let clock = Arc::new(ShiftedClock::default());
        let state = anyid::server::build(config, clock.clone()).await.unwrap();
        let mut app = Self {
            router: anyid::http::public_router(state.clone()),
            state,
            clock,
            client_id: String::new(),
            client_secret: String::new(),
            _data_dir: data_dir,
        };
        let registered = app
            .register(NewClient {
                name: "Permits office".into(),
                redirect_uris: vec![REDIRECT.into()],
                ..NewClient::default()
            })
            .await;
        app.client_id = registered.client.client_id;
        app.client_secret = registered.client_secret;
        app
    }

    /// Register a client through the domain, as the operator.
    async fn register(&self, new: NewClient) -> Registered {
        clients::add(
            &Admin::operator(),
            &self.state.store,
            &new,
            self.state.config.mode,
            self.clock.now(),
        )
        .await
        .unwrap()
    }

    /// One request through the whole router; every answer carries the security headers.
    async fn send(&self, request: Request<Body>) -> Response<Body> {
        let response = self.router.clone().oneshot(request).await.unwrap();
        assert_security_headers(response.headers());
        response
    }

    /// `GET /authorize` with a valid request for the relying party, changed by `change`.
    async fn authorize(&self, change: Change<'_>) -> Response<Body> {
        let mut params = vec![
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("state", STATE),
            ("nonce", "nonce-1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        for &(name, value) in change {
            params.retain(|(n, _)| *n != name);
            if let Some(value) = value {
                params.push((name, value));
            }
        }
        let query = serde_urlencoded::to_string(&params).unwrap();
        self.send(get(&format!("/authorize?{query}"))).await
    }

    /// `POST /token` with `body` as a form and `Authorization: Basic` for `credentials`.
    async fn token(&self, credentials: Basic<'_>, body: Form<'_>) -> Answer {
        let mut request = Request::post("/token").header(header::CONTENT_TYPE, FORM);
        if let Some((id, secret)) = credentials {
            request = request.header(header::AUTHORIZATION, basic(id, secret));
        }
        let body = serde_urlencoded::to_string(body).unwrap();
        Answer::of(self.send(request.body(Body::from(body)).unwrap()).await).await
    }
}

/// A response with its body read.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    async fn of(response: Response<Body>) -> Self {
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        Self {
            status: parts.status,
            headers: parts.headers,
            body: body.to_vec(),
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(&name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("no {name} header"))
    }
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    let pair = format!("{id}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn assert_security_headers(headers: &HeaderMap) {
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
}

#[tokio::test]
async fn an_untrusted_redirect_uri_gets_an_error_page_and_never_a_redirect() {
    let app = App::new().await;
    let cases: [(&str, Change); 6] = [
        (
            "another host",
            &[("redirect_uri", Some("https://evil.example/callback"))],
        ),
        (
            "a longer path",
            &[("redirect_uri", Some("https://permits.example/callback/x"))],
        ),
        (
            "an added query",
            &[("redirect_uri", Some("https://permits.example/callback?x=1"))],
        ),
        ("no redirect_uri", &[("redirect_uri", None)]),
        ("an unknown client", &[("client_id", Some("nobody"))]),
        ("no client_id", &[("client_id", None)]),
    ];
    for (case, change) in cases {
        let answer = Answer::of(app.authorize(change).await).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{case}");
        assert!(
            !answer.headers.contains_key(header::LOCATION),
            "{case}: redirected"
        );
        assert!(
            answer.header(header::CONTENT_TYPE).starts_with("text/html"),
            "{case}"
        );
        let page = String::from_utf8(answer.body).unwrap();
        assert!(page.contains("role=\"alert\""), "{case}: {page}");
    }
}

#[tokio::test]
async fn refusals_at_a_trusted_redirect_uri_carry_the_rfc_code_the_state_and_the_issuer() {
    let app = App::new().await;
    let cases: [(&str, Change, &str); 6] = [
        (
            "no PKCE challenge",
            &[("code_challenge", None), ("code_challenge_method", None)],
            "invalid_request",
        ),
        (
            "a plain PKCE challenge",
            &[("code_challenge_method", Some("plain"))],
            "invalid_request",
        ),
        (
            "the implicit flow",
            &[("response_type", Some("token"))],
            "unsupported_response_type",
        ),
        (
            "no openid scope",
            &[("scope", Some("email profile"))],
            "invalid_scope",
        ),
        (
            "an unsupported prompt",
            &[("prompt", Some("create"))],
            "invalid_request",
        ),
        (
            "prompt=none with another value",
            &[("prompt", Some("none login"))],
            "invalid_request",
        ),
    ];
    for (case, change, code) in cases {
        let response = app.authorize(change).await;
        assert!(response.status().is_redirection(), "{case}");
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        let location = url::Url::parse(location).unwrap();
        assert!(
            location.as_str().starts_with(REDIRECT),
            "{case}: {location}"
        );
        let param = |name: &str| {
            location
                .query_pairs()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.into_owned())
        };
        assert_eq!(param("error").as_deref(), Some(code), "{case}");
        assert_eq!(param("state").as_deref(), Some(STATE), "{case}");
        assert_eq!(
            param("iss").as_deref(),
            Some(app.state.issuer.as_str()),
            "{case}"
        );
        assert_eq!(param("code"), None, "{case}");
    }
}

#[tokio::test]
async fn the_token_endpoint_refuses_in_json_with_the_rfc_code_and_never_caches_an_answer() {
    let app = App::new().await;
    let (id, secret) = (app.client_id.as_str(), app.client_secret.as_str());
    let unknown_code = [
        ("grant_type", "authorization_code"),
        ("code", "never-issued"),
        ("redirect_uri", REDIRECT),
        ("code_verifier", &"v".repeat(64)),
    ];
    let client_credentials = [("grant_type", "client_credentials")];
    let secret_in_form = [
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", "wrong"),
    ];
    let cases: [(&str, Basic, Form, StatusCode, &str); 5] = [
        (
            "an unsupported grant type",
            Some((id, secret)),
            &[("grant_type", "password")],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            "no client credentials",
            None,
            &client_credentials,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "a wrong secret (client_secret_basic)",
            Some((id, "wrong")),
            &client_credentials,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "a wrong secret (client_secret_post)",
            None,
            &secret_in_form,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "an unknown code",
            Some((id, secret)),
            &unknown_code,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
    ];
    for (case, credentials, body, status, code) in cases {
        let answer = app.token(credentials, body).await;
        assert_eq!(answer.status, status, "{case}");
        assert_eq!(answer.json()["error"], code, "{case}");
        assert_eq!(answer.header(header::CACHE_CONTROL), "no-store", "{case}");
        // RFC 6749 §5.2: a 401 carries a challenge for the scheme the client may use.
        if status == StatusCode::UNAUTHORIZED {
            assert!(
                answer.header(header::WWW_AUTHENTICATE).starts_with("Basic"),
                "{case}"
            );
        }
    }
    // RFC 6749 §5.1: tokens are never cached either.
    let service = app
        .register(NewClient {
            name: "Batch job".into(),
            grant_types: vec!["client_credentials".into()],
            ..NewClient::default()
        })
        .await;
    let issued = app
        .token(
            Some((&service.client.client_id, &service.client_secret)),
            &client_credentials,
        )
        .await;
    assert_eq!(issued.status, StatusCode::OK);
    assert!(issued.json()["access_token"].is_string());
    assert_eq!(issued.header(header::CACHE_CONTROL), "no-store");
}

#[tokio::test]
async fn a_token_request_that_is_not_a_form_is_invalid_request() {
    let app = App::new().await;
    for content_type in [Some("application/json"), Some("text/plain"), None] {
        let mut request = Request::post("/token").header(
            header::AUTHORIZATION,
            basic(&app.client_id, &app.client_secret),
        );
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let body = Body::from("grant_type=client_credentials");
        let answer = Answer::of(app.send(request.body(body).unwrap()).await).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{content_type:?}");
        assert_eq!(
            answer.json()["error"],
            "invalid_request",
            "{content_type:?}"
        );
        assert_eq!(answer.header(header::CACHE_CONTROL), "no-store");
    }
}

#[tokio::test]
async fn userinfo_challenges_a_missing_or_bad_bearer_token() {
    let app = App::new().await;
    // RFC 6750 §3.1: a request without any token gets a challenge with no error code.
    let missing = Answer::of(app.send(get("/userinfo")).await).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing.header(header::WWW_AUTHENTICATE),
        "Bearer realm=\"anyid\""
    );
    assert!(
        !String::from_utf8_lossy(&missing.body).contains("error"),
        "no error information either: {:?}",
        missing.body
    );
    let bad = [
        Request::get("/userinfo")
            .header(header::AUTHORIZATION, "Bearer garbage")
            .body(Body::empty())
            .unwrap(),
        Request::get("/userinfo")
            .header(header::AUTHORIZATION, "Bearer a.b.c")
            .body(Body::empty())
            .unwrap(),
        // RFC 6750 §2.2: the token in a form body.
        Request::post("/userinfo")
            .header(header::CONTENT_TYPE, FORM)
            .body(Body::from("access_token=garbage"))
            .unwrap(),
    ];
    for request in bad {
        let case = format!("{} {:?}", request.method(), request.headers());
        let answer = Answer::of(app.send(request).await).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{case}");
        let challenge = answer.header(header::WWW_AUTHENTICATE);
        assert!(
            challenge.starts_with("Bearer realm=\"anyid\", error=\"invalid_token\""),
            "{case}: {challenge}"
        );
    }
}

/// The cookies an answer sets, by name.
fn set_cookies(response: &Response<Body>) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// Over https every cookie is `Secure` (the binding and session ones `__Host-`); the
/// browser binding lasts the browser session only; the language choice is `Secure` too;
/// signing out clears the session and the last-used method.
#[tokio::test]
async fn cookies_are_secure_short_lived_and_cleared_at_sign_out() {
    let app = App::with_issuer(Some("https://id.example.test")).await;
    let cookies = set_cookies(&app.authorize(&[("lang", Some("en"))]).await);
    let binding = cookies
        .iter()
        .find(|c| c.starts_with("__Host-"))
        .unwrap_or_else(|| panic!("a binding cookie in {cookies:?}"));
    assert!(
        binding.contains("; Secure") && binding.contains("HttpOnly"),
        "{binding}"
    );
    assert!(!binding.contains("Max-Age"), "a session cookie: {binding}");
    let lang = cookies
        .iter()
        .find(|c| c.starts_with("anyid_lang="))
        .unwrap_or_else(|| panic!("a language cookie in {cookies:?}"));
    assert!(
        lang.contains("; Secure") && lang.contains("HttpOnly"),
        "{lang}"
    );

    let cookies = set_cookies(&app.send(get("/logout?lang=en")).await);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("anyid_last_method=;") && c.contains("Max-Age=0")),
        "the last-used method is forgotten: {cookies:?}"
    );
}

/// The demo pages speak the browser's language like every other page, switch with
/// `?lang=` and remember it, and explain a failed sign-in in the same language.
#[tokio::test]
async fn the_demo_pages_speak_the_browsers_language() {
    let app = App::new().await;
    let page = |uri: &str, accept: &str| {
        Request::get(uri)
            .header(header::ACCEPT_LANGUAGE, accept)
            .body(Body::empty())
            .unwrap()
    };
    for (accept, lang, title, other) in [
        ("ko-KR,ko;q=0.9", "ko", "데모 서비스", "Sign in with Any-ID"),
        ("en-US,en;q=0.8", "en", "Demo service", "Any-ID로 로그인"),
    ] {
        let demo = Answer::of(app.send(page("/demo", accept)).await).await;
        let body = String::from_utf8(demo.body).unwrap();
        assert_eq!(demo.status, StatusCode::OK);
        assert!(body.contains(&format!("lang=\"{lang}\"")), "{body}");
        assert!(body.contains(title) && !body.contains(other), "{body}");
    }
    let switched = Answer::of(app.send(page("/demo?lang=en", "ko-KR")).await).await;
    assert!(String::from_utf8_lossy(&switched.body).contains("Sign in with Any-ID"));
    assert!(switched.header(header::SET_COOKIE).contains("lang=en"));
    let failed = Answer::of(
        app.send(page("/demo/callback?error=access_denied", "ko-KR"))
            .await,
    )
    .await;
    let body = String::from_utf8(failed.body).unwrap();
    assert_eq!(failed.status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("데모 로그인에 실패했습니다"), "{body}");
}
