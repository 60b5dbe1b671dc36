//! A Kakao-like OpenID provider on loopback (and, with `form_post`, an Apple-like one):
//! discovery, JWKS of RS256 keys it generates, an authorization endpoint that consents at
//! once, a token endpoint that checks client authentication, the code and the PKCE verifier
//! and signs an ID token with the request's nonce, and userinfo. Every failure an adapter
//! must survive is a [`Behaviour`]; keys can be rotated, or withheld and published later. The
//! last authorization and token requests are kept for tests to read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyid_adapters::upstream::{
    APPLE_CLIENT_SECRET_AUDIENCE, AppleConfig, DisplayName, Kind, Preset, UpstreamConfig,
};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value, json};

use super::keys::{EcKey, RsaKey};
use super::{
    Behaviour, SLOW, bearer, client_credentials, form_post, found, random_token, unix_now,
    with_query,
};

pub const CLIENT_ID: &str = "anyid-test-client";
pub const CLIENT_SECRET: &str = "upstream-client-secret";
pub const APPLE_TEAM_ID: &str = "TEAM000001";
pub const APPLE_KEY_ID: &str = "APPLEKEY01";

/// One authorization waiting for its code to be redeemed.
struct Grant {
    redirect_uri: String,
    nonce: Option<String>,
    challenge: Option<String>,
}

struct Peer {
    base: String,
    form_post: bool,
    apple_key: Option<EcKey>,
    state: Mutex<PeerState>,
    discovery_fetches: AtomicUsize,
    jwks_fetches: AtomicUsize,
    token_requests: AtomicUsize,
}

struct PeerState {
    behaviour: Behaviour,
    subject: String,
    claims: Map<String, Value>,
    userinfo: Map<String, Value>,
    user_field: Option<String>,
    iss_claim: Option<String>,
    signing: RsaKey,
    published: Vec<Jwk>,
    /// Signs forgeries and never-published keys.
    stranger: RsaKey,
    key_counter: usize,
    codes: HashMap<String, Grant>,
    access_tokens: HashMap<String, String>,
    last_authorization: HashMap<String, String>,
    last_token_request: HashMap<String, String>,
}

/// The handle of a running provider; the server stops when it is dropped.
pub struct FakeOidcProvider {
    peer: Arc<Peer>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOidcProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeOidcProvider {
    /// A Kakao-like provider (query response mode, `client_secret_basic` or `_post`).
    pub async fn start() -> Self {
        Self::launch(false).await
    }

    /// An Apple-like provider: `form_post` answers, the `user` field on first login, client
    /// secrets that must be ES256 JWTs signed with its team key.
    pub async fn start_apple() -> Self {
        Self::launch(true).await
    }

    async fn launch(apple: bool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let signing = RsaKey::generate("key-1");
        let (claims, user_field) = if apple {
            (
                json!({"email": "x7k2@privaterelay.appleid.com", "email_verified": "true", "is_private_email": "true"}),
                Some(json!({"name": {"firstName": "Gildong", "lastName": "Hong"}, "email": "x7k2@privaterelay.appleid.com"}).to_string()),
            )
        } else {
            (
                json!({"nickname": "길동", "picture": "https://img.example/p.jpg"}),
                None,
            )
        };
        let peer = Arc::new(Peer {
            base,
            form_post: apple,
            apple_key: apple.then(EcKey::generate),
            state: Mutex::new(PeerState {
                behaviour: Behaviour::Normal,
                subject: "user-1001".into(),
                claims: claims.as_object().cloned().unwrap_or_default(),
                userinfo: Map::new(),
                user_field,
                iss_claim: None,
                published: vec![signing.jwk.clone()],
                signing,
                stranger: RsaKey::generate("stranger"),
                key_counter: 1,
                codes: HashMap::new(),
                access_tokens: HashMap::new(),
                last_authorization: HashMap::new(),
                last_token_request: HashMap::new(),
            }),
            discovery_fetches: AtomicUsize::new(0),
            jwks_fetches: AtomicUsize::new(0),
            token_requests: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(peer.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { peer, task }
    }

    /// The issuer (the base URL, no trailing slash).
    pub fn issuer(&self) -> String {
        self.peer.base.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.peer.base)
    }

    /// A generic OIDC `[[upstream]]` table pointing at this provider (Apple-like: preset
    /// `apple` with its team key).
    pub fn config(&self, id: &str) -> UpstreamConfig {
        let mut config = UpstreamConfig {
            id: id.to_owned(),
            kind: Kind::Oidc,
            preset: Preset::Generic,
            issuer: Some(self.issuer()),
            client_id: CLIENT_ID.into(),
            client_secret: Some(CLIENT_SECRET.into()),
            display_name: DisplayName {
                ko: format!("{id} 로그인"),
                en: format!("{id} login"),
            },
            ..UpstreamConfig::default()
        };
        if let Some(key) = &self.peer.apple_key {
            config.preset = Preset::Apple;
            config.client_secret = None;
            config.apple = Some(AppleConfig {
                team_id: APPLE_TEAM_ID.into(),
                key_id: APPLE_KEY_ID.into(),
                private_key_file: None,
                private_key_pem: Some(key.pem.clone()),
            });
        }
        config
    }

    /// The same table with another preset (its endpoints still pointing here).
    pub fn config_with_preset(&self, id: &str, preset: Preset) -> UpstreamConfig {
        UpstreamConfig {
            preset,
            ..self.config(id)
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PeerState> {
        self.peer.state.lock().expect("peer state")
    }

    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.state().behaviour = behaviour;
    }

    /// Who logs in next, and the extra ID token claims about them.
    pub fn set_subject(&self, subject: &str, claims: Value) {
        let mut s = self.state();
        s.subject = subject.to_owned();
        s.claims = claims.as_object().cloned().unwrap_or_default();
    }

    /// Extra claims only userinfo returns.
    pub fn set_userinfo(&self, claims: Value) {
        self.state().userinfo = claims.as_object().cloned().unwrap_or_default();
    }

    /// Apple-like: the `user` JSON posted beside the code (`None`: not a first login).
    pub fn set_user_field(&self, user: Option<Value>) {
        self.state().user_field = user.map(|u| u.to_string());
    }

    /// Put another `iss` in ID tokens (Google's legacy `accounts.google.com`, say).
    pub fn set_iss_claim(&self, iss: Option<&str>) {
        self.state().iss_claim = iss.map(str::to_owned);
    }

    /// Sign with a new key from now on; `publish` puts it in the JWKS at once (a rotation),
    /// otherwise it appears only after [`Self::publish_signing_key`]. Returns its `kid`.
    pub fn rotate_key(&self, publish: bool) -> String {
        let mut s = self.state();
        s.key_counter += 1;
        let key = RsaKey::generate(&format!("key-{}", s.key_counter));
        if publish {
            s.published = vec![key.jwk.clone()];
        }
        let kid = key.kid.clone();
        s.signing = key;
        kid
    }

    /// Add the current signing key to the JWKS (next to the older ones).
    pub fn publish_signing_key(&self) {
        let mut s = self.state();
        let jwk = s.signing.jwk.clone();
        if !s
            .published
            .iter()
            .any(|k| k.common.key_id == jwk.common.key_id)
        {
            s.published.push(jwk);
        }
    }

    pub fn discovery_fetches(&self) -> usize {
        self.peer.discovery_fetches.load(Ordering::SeqCst)
    }

    pub fn jwks_fetches(&self) -> usize {
        self.peer.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn token_requests(&self) -> usize {
        self.peer.token_requests.load(Ordering::SeqCst)
    }

    /// The query of the last authorization request.
    pub fn last_authorization(&self) -> HashMap<String, String> {
        self.state().last_authorization.clone()
    }

    /// The form of the last token request (without `client_secret`).
    pub fn last_token_request(&self) -> HashMap<String, String> {
        self.state().last_token_request.clone()
    }
}

type Shared = State<Arc<Peer>>;

async fn discovery(State(peer): Shared) -> Response {
    peer.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    let b = &peer.base;
    let auth_methods = if peer.form_post {
        json!(["client_secret_post"])
    } else {
        json!(["client_secret_basic", "client_secret_post"])
    };
    super::json(
        StatusCode::OK,
        json!({
            "issuer": b,
            "authorization_endpoint": format!("{b}/authorize"),
            "token_endpoint": format!("{b}/token"),
            "userinfo_endpoint": format!("{b}/userinfo"),
            "jwks_uri": format!("{b}/jwks"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": auth_methods,
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": ["iss", "aud", "sub", "exp", "iat", "nonce", "nickname", "picture", "email"]
        }),
    )
}

async fn jwks(State(peer): Shared) -> Response {
    peer.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let keys = peer.state.lock().expect("peer state").published.clone();
    super::json(
        StatusCode::OK,
        serde_json::to_value(JwkSet { keys }).unwrap_or_default(),
    )
}

async fn authorize(State(peer): Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    let (Some(redirect_uri), Some(state)) = (q.get("redirect_uri"), q.get("state")) else {
        return super::json(StatusCode::BAD_REQUEST, json!({"error": "invalid_request"}));
    };
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || q.get("response_type").map(String::as_str) != Some("code")
        || !q
            .get("scope")
            .is_some_and(|s| s.split(' ').any(|x| x == "openid"))
    {
        return super::json(StatusCode::BAD_REQUEST, json!({"error": "invalid_request"}));
    }
    if peer.form_post && q.get("response_mode").map(String::as_str) != Some("form_post") {
        return super::json(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": "form_post required"}),
        );
    }
    let challenge = match (q.get("code_challenge"), q.get("code_challenge_method")) {
        (Some(c), Some(m)) if m == "S256" => Some(c.clone()),
        (None, _) => None,
        _ => return super::json(StatusCode::BAD_REQUEST, json!({"error": "invalid_request"})),
    };
    let mut s = peer.state.lock().expect("peer state");
    s.last_authorization = q.clone();
    let mut answer: Vec<(&str, String)> = match s.behaviour {
        Behaviour::ErrorResponse => vec![
            ("error", "access_denied".into()),
            ("error_description", "The user denied the request".into()),
        ],
        _ => {
            let code = random_token();
            s.codes.insert(
                code.clone(),
                Grant {
                    redirect_uri: redirect_uri.clone(),
                    nonce: q.get("nonce").cloned(),
                    challenge,
                },
            );
            vec![("code", code)]
        }
    };
    let state = if s.behaviour == Behaviour::WrongState {
        "not-the-state".to_owned()
    } else {
        state.clone()
    };
    answer.push(("state", state));
    if peer.form_post
        && answer[0].0 == "code"
        && let Some(user) = &s.user_field
    {
        answer.push(("user", user.clone()));
    }
    let fields: Vec<(&str, &str)> = answer.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if peer.form_post {
        form_post(redirect_uri, &fields)
    } else {
        found(&with_query(redirect_uri, &fields))
    }
}

fn client_ok(peer: &Peer, headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let Some((id, secret)) = client_credentials(headers, form) else {
        return false;
    };
    if id != CLIENT_ID {
        return false;
    }
    match &peer.apple_key {
        None => secret == CLIENT_SECRET,
        Some(key) => {
            // Apple checks its client secret JWT: ES256 with the team's key.
            let Ok(header) = jsonwebtoken::decode_header(&secret) else {
                return false;
            };
            let mut v = Validation::new(Algorithm::ES256);
            v.set_audience(&[APPLE_CLIENT_SECRET_AUDIENCE]);
            v.set_issuer(&[APPLE_TEAM_ID]);
            v.sub = Some(CLIENT_ID.into());
            v.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
            header.kid.as_deref() == Some(APPLE_KEY_ID)
                && jsonwebtoken::decode::<Value>(&secret, &key.decoding, &v).is_ok_and(|d| {
                    let (iat, exp) = (d.claims["iat"].as_i64(), d.claims["exp"].as_i64());
                    matches!((iat, exp), (Some(i), Some(e)) if e - i <= 15_777_000)
                })
        }
    }
}

fn s256(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

async fn token(
    State(peer): Shared,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    peer.token_requests.fetch_add(1, Ordering::SeqCst);
    let behaviour = {
        let mut s = peer.state.lock().expect("peer state");
        s.last_token_request = form.clone();
        s.last_token_request.remove("client_secret");
        s.behaviour
    };
    match behaviour {
        Behaviour::TokenServerError => {
            return super::json(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "server_error"}),
            );
        }
        Behaviour::TokenPage(status) => return super::page(status),
        Behaviour::Slow => tokio::time::sleep(SLOW).await,
        _ => {}
    }
    if !client_ok(&peer, &headers, &form) {
        return super::json(StatusCode::UNAUTHORIZED, json!({"error": "invalid_client"}));
    }
    let invalid_grant = || super::json(StatusCode::BAD_REQUEST, json!({"error": "invalid_grant"}));
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return super::json(
            StatusCode::BAD_REQUEST,
            json!({"error": "unsupported_grant_type"}),
        );
    }
    let mut s = peer.state.lock().expect("peer state");
    let Some(grant) = form.get("code").and_then(|c| s.codes.remove(c)) else {
        return invalid_grant();
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return invalid_grant();
    }
    // RFC 7636 §4.6.
    if let Some(challenge) = &grant.challenge
        && form.get("code_verifier").map(|v| s256(v)).as_ref() != Some(challenge)
    {
        return invalid_grant();
    }
    let now = unix_now();
    let (iat, exp) = if behaviour == Behaviour::Expired {
        (now - 3600, now - 1800)
    } else {
        (now, now + 600)
    };
    let mut claims = json!({
        "iss": s.iss_claim.clone().unwrap_or_else(|| peer.base.clone()),
        "sub": s.subject,
        "aud": if behaviour == Behaviour::WrongAudience { "another-client" } else { CLIENT_ID },
        "iat": iat,
        "exp": exp,
        "auth_time": now,
    });
    let nonce = match behaviour {
        Behaviour::WrongNonce => Some("not-the-nonce".to_owned()),
        _ => grant.nonce.clone(),
    };
    if let (Some(nonce), Some(map)) = (nonce, claims.as_object_mut()) {
        map.insert("nonce".into(), nonce.into());
    }
    if let Some(map) = claims.as_object_mut() {
        for (k, v) in &s.claims {
            map.entry(k.clone()).or_insert(v.clone());
        }
    }
    let id_token = match behaviour {
        Behaviour::BadSignature => s.stranger.sign(&s.signing.kid, &claims),
        Behaviour::UnknownKid => s.stranger.sign("never-published", &claims),
        _ => s.signing.sign(&s.signing.kid, &claims),
    };
    let access_token = random_token();
    let subject = s.subject.clone();
    s.access_tokens.insert(access_token.clone(), subject);
    super::json(
        StatusCode::OK,
        json!({"access_token": access_token, "token_type": "bearer", "expires_in": 600, "id_token": id_token}),
    )
}

async fn userinfo(State(peer): Shared, headers: HeaderMap) -> Response {
    let s = peer.state.lock().expect("peer state");
    let Some(subject) = bearer(&headers).and_then(|t| s.access_tokens.get(&t).cloned()) else {
        return super::json(StatusCode::UNAUTHORIZED, json!({"error": "invalid_token"}));
    };
    let mut body = s.claims.clone();
    body.extend(s.userinfo.clone());
    body.insert("sub".into(), subject.into());
    super::json(StatusCode::OK, Value::Object(body))
}
