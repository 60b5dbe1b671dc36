//! A Naver-like OAuth 2 provider on loopback (korea-any-id.md §1.2): `/oauth2.0/authorize`
//! consents at once, `/oauth2.0/token` wants `state` again and answers `expires_in` as a
//! string (and its errors with status 200, as Naver does), `/v1/nid/me` answers the real
//! `resultcode` envelope. The last authorization and token requests are kept for tests to
//! read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyid_adapters::upstream::{DisplayName, Kind, Preset, UpstreamConfig};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{Behaviour, SLOW, bearer, found, random_token, with_query};

pub const CLIENT_ID: &str = "naver-test-client";
pub const CLIENT_SECRET: &str = "naver-test-secret";

struct Peer {
    base: String,
    state: Mutex<PeerState>,
    token_requests: AtomicUsize,
}

struct PeerState {
    behaviour: Behaviour,
    /// The `response` object of the profile envelope.
    profile: Value,
    /// code -> (state, redirect_uri)
    codes: HashMap<String, (String, String)>,
    access_tokens: Vec<String>,
    last_authorization: HashMap<String, String>,
    last_token_request: HashMap<String, String>,
}

/// The handle of a running Naver-like provider; the server stops when it is dropped.
pub struct FakeNaver {
    peer: Arc<Peer>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeNaver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeNaver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let peer = Arc::new(Peer {
            base,
            state: Mutex::new(PeerState {
                behaviour: Behaviour::Normal,
                profile: json!({
                    "id": "naver-32742776", "nickname": "길동이", "name": "홍길동",
                    "email": "hong@naver.example", "gender": "M", "age": "30-39",
                    "birthday": "03-01", "birthyear": "1990",
                    "profile_image": "https://img.example/naver.png",
                    "mobile": "010-1234-5678", "mobile_e164": "+821012345678"
                }),
                codes: HashMap::new(),
                access_tokens: Vec::new(),
                last_authorization: HashMap::new(),
                last_token_request: HashMap::new(),
            }),
            token_requests: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/oauth2.0/authorize", get(authorize))
            .route("/oauth2.0/token", post(token))
            .route("/v1/nid/me", get(me))
            .with_state(peer.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { peer, task }
    }

    pub fn base(&self) -> String {
        self.peer.base.clone()
    }

    /// The issuer the OAuth 2 adapter synthesises for this provider and client (R-NAVER-3).
    pub fn issuer(&self) -> String {
        format!("{}?client_id={CLIENT_ID}", self.peer.base)
    }

    /// Preset `naver` with its endpoints pointing here.
    pub fn config(&self, id: &str) -> UpstreamConfig {
        let b = &self.peer.base;
        UpstreamConfig {
            id: id.to_owned(),
            kind: Kind::Oauth2,
            preset: Preset::Naver,
            authorization_endpoint: Some(format!("{b}/oauth2.0/authorize")),
            token_endpoint: Some(format!("{b}/oauth2.0/token")),
            profile_endpoint: Some(format!("{b}/v1/nid/me")),
            client_id: CLIENT_ID.into(),
            client_secret: Some(CLIENT_SECRET.into()),
            display_name: DisplayName {
                ko: "네이버".into(),
                en: "Naver".into(),
            },
            ..UpstreamConfig::default()
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PeerState> {
        self.peer.state.lock().expect("peer state")
    }

    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.state().behaviour = behaviour;
    }

    /// The `response` object the profile API returns next.
    pub fn set_profile(&self, profile: Value) {
        self.state().profile = profile;
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

async fn authorize(State(peer): Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    let (Some(redirect_uri), Some(state)) = (q.get("redirect_uri"), q.get("state")) else {
        return super::json(StatusCode::BAD_REQUEST, json!({"error": "invalid_request"}));
    };
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || q.get("response_type").map(String::as_str) != Some("code")
    {
        return super::json(StatusCode::BAD_REQUEST, json!({"error": "invalid_request"}));
    }
    let mut s = peer.state.lock().expect("peer state");
    s.last_authorization = q.clone();
    let echoed = if s.behaviour == Behaviour::WrongState {
        "not-the-state".to_owned()
    } else {
        state.clone()
    };
    if s.behaviour == Behaviour::ErrorResponse {
        return found(&with_query(
            redirect_uri,
            &[
                ("state", &echoed),
                ("error", "access_denied"),
                ("error_description", "Canceled By User"),
            ],
        ));
    }
    let code = random_token();
    s.codes
        .insert(code.clone(), (state.clone(), redirect_uri.clone()));
    found(&with_query(
        redirect_uri,
        &[("code", &code), ("state", &echoed)],
    ))
}

/// Naver answers token errors with status 200.
fn token_error(error: &str, description: &str) -> Response {
    super::json(
        StatusCode::OK,
        json!({"error": error, "error_description": description}),
    )
}

async fn token(State(peer): Shared, Form(form): Form<HashMap<String, String>>) -> Response {
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
    let field = |k: &str| form.get(k).map(String::as_str);
    if field("grant_type") != Some("authorization_code") {
        return token_error("unsupported_grant_type", "grant_type");
    }
    if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(CLIENT_SECRET) {
        return token_error("invalid_client", "client authentication failed");
    }
    let mut s = peer.state.lock().expect("peer state");
    let Some((state, _)) = field("code").and_then(|c| s.codes.remove(c)) else {
        return token_error("invalid_request", "no valid authorization code");
    };
    // Naver's guide: `state` is required on the token request too.
    if field("state") != Some(state.as_str()) {
        return token_error("invalid_request", "no valid state");
    }
    let access_token = random_token();
    s.access_tokens.push(access_token.clone());
    super::json(
        StatusCode::OK,
        json!({"access_token": access_token, "refresh_token": random_token(), "token_type": "bearer", "expires_in": "3600"}),
    )
}

async fn me(State(peer): Shared, headers: HeaderMap) -> Response {
    let s = peer.state.lock().expect("peer state");
    if !bearer(&headers).is_some_and(|t| s.access_tokens.contains(&t)) {
        return super::json(
            StatusCode::UNAUTHORIZED,
            json!({"resultcode": "024", "message": "Authentication failed / 인증에 실패했습니다."}),
        );
    }
    if s.behaviour == Behaviour::BadResultCode {
        return super::json(
            StatusCode::OK,
            json!({"resultcode": "024", "message": "Authentication failed"}),
        );
    }
    super::json(
        StatusCode::OK,
        json!({"resultcode": "00", "message": "success", "response": s.profile}),
    )
}
