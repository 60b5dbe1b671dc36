//! Dev mode's demo relying party at `/demo`: a small website that signs people in with
//! Any-ID through the public protocol (authorize, token and userinfo over HTTP), so a newcomer
//! can watch the whole flow. It keeps its state in a cookie and holds no special access.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;

use super::extract::{self, cookie, set_cookie};
use super::pages;
use crate::crypto;
use crate::oidc::authorize::append_query;
use crate::state::AppState;

const COOKIE: &str = "anyid_demo_rp";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/demo", get(get_demo))
        .route("/demo/login", get(get_demo_login))
        .route("/demo/callback", get(get_demo_callback))
}

struct SignedIn {
    id_token_claims: String,
    userinfo: String,
    logout_url: String,
}

/// What the demo page shows.
enum Demo {
    Start,
    SignedIn(SignedIn),
    /// Why the sign-in failed, in the page's language.
    Failed(String),
}

#[derive(Template)]
#[template(path = "demo.html")]
struct DemoPage<'a> {
    lang: &'a str,
    other_lang: &'a str,
    switch_url: &'a str,
    t: &'a crate::i18n::Text,
    result: Demo,
}

/// The demo page in the visitor's language (`?lang=` switches and is remembered, as on
/// every other page).
fn page(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    result: impl FnOnce(&crate::i18n::Text) -> Demo,
) -> Response {
    let switch = pages::lang_param(query);
    let prefs = pages::Prefs::from_request(headers, switch.as_deref(), Some("/demo".into()));
    let f = pages::Frame::new(&prefs, None);
    let result = result(f.t);
    let status = if matches!(result, Demo::Failed(_)) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = pages::render(&DemoPage {
        lang: f.lang,
        other_lang: f.other_lang,
        switch_url: &f.switch_url,
        t: f.t,
        result,
    });
    *response.status_mut() = status;
    pages::remember_lang(response, switch.as_deref(), state.secure_cookies())
}

async fn get_demo(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    page(&state, &headers, query.as_deref(), |_| Demo::Start)
}

/// `?prompt=login|consent` is passed on, so the demo can show those pages again;
/// `?acr=substantial|high` asks for that assurance level (a step-up, from a weaker session).
async fn get_demo_login(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let param = |name: &str, allowed: &[&str]| {
        url::form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
            .find(|(k, v)| k == name && allowed.contains(&v.as_ref()))
            .map(|(_, v)| v.into_owned())
    };
    let prompt = param("prompt", &["login", "consent"]);
    let acr = param("acr", &["substantial", "high"]).map(|l| format!("urn:anyid:loa:{l}"));
    let Some(demo) = &state.demo else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (Ok(st), Ok(nonce), Ok(verifier)) = (
        crypto::random_token(),
        crypto::random_token(),
        crypto::random_token(),
    ) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let challenge = crypto::b64(&crypto::sha256(verifier.as_bytes()));
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", demo.client_id.as_str()),
        ("redirect_uri", demo.redirect_uri.as_str()),
        ("scope", "openid profile email phone address"),
        ("state", st.as_str()),
        ("nonce", nonce.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    if let Some(prompt) = &prompt {
        params.push(("prompt", prompt));
    }
    if let Some(acr) = &acr {
        params.push(("acr_values", acr));
    }
    let url = append_query(&state.endpoint("/authorize"), &params);
    let mut response = Redirect::to(&url).into_response();
    let value = format!("{st}.{nonce}.{verifier}");
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        COOKIE,
        &value,
        state.secure_cookies(),
        Some(600),
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    id_token: String,
}

async fn get_demo_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(demo) = state.demo.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let fail = |why: fn(&crate::i18n::Text) -> String| {
        page(&state, &headers, None, |t| Demo::Failed(why(t)))
    };
    let Ok(params) = extract::query(query.as_deref().unwrap_or_default()) else {
        return fail(|t| t.demo_fail_malformed.into());
    };
    if let Some(error) = params.get("error") {
        let error = error.to_owned();
        return page(&state, &headers, None, |t| {
            Demo::Failed(format!("{} {error}", t.demo_fail_refused))
        });
    }
    let Some((st, nonce, verifier)) = cookie(&headers, COOKIE).and_then(split3) else {
        return fail(|t| t.demo_fail_state_missing.into());
    };
    if params.get("state") != Some(st) {
        return fail(|t| t.demo_fail_state_mismatch.into());
    }
    let Some(code) = params.get("code") else {
        return fail(|t| t.demo_fail_no_code.into());
    };
    let token = demo
        .http
        .post(state.endpoint("/token"))
        .basic_auth(&demo.client_id, Some(&demo.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &demo.redirect_uri),
            ("code_verifier", verifier),
        ])
        .send()
        .await;
    let tokens: TokenAnswer = match token {
        Ok(r) if r.status().is_success() => match r.json().await {
            Ok(t) => t,
            Err(_) => return fail(|t| t.demo_fail_token.into()),
        },
        _ => return fail(|t| t.demo_fail_token.into()),
    };
    let Some(claims) =
        state
            .keys
            .current()
            .verify::<Value>(&tokens.id_token, "JWT", &state.issuer, false)
    else {
        return fail(|t| t.demo_fail_id_token.into());
    };
    if claims["nonce"] != nonce || claims["aud"] != demo.client_id.as_str() {
        return fail(|t| t.demo_fail_id_token.into());
    }
    let userinfo: Value = match demo
        .http
        .get(state.endpoint("/userinfo"))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => r.json().await.unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let logout_url = append_query(
        &state.endpoint("/logout"),
        &[
            ("id_token_hint", &tokens.id_token),
            ("post_logout_redirect_uri", &demo.home),
            ("state", st),
        ],
    );
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let signed_in = SignedIn {
        id_token_claims: pretty(&claims),
        userinfo: pretty(&userinfo),
        logout_url,
    };
    let mut response = page(&state, &headers, None, |_| Demo::SignedIn(signed_in));
    if let Ok(v) = HeaderValue::from_str(&extract::clear_cookie(COOKIE, state.secure_cookies())) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn split3(value: &str) -> Option<(&str, &str, &str)> {
    let mut parts = value.splitn(3, '.');
    Some((parts.next()?, parts.next()?, parts.next()?))
}
