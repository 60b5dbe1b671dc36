//! The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2) and the pages of a login
//! flow: the method chooser, the dev method, upstream methods and their callbacks, consent.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use anyid_adapters::Callback;

use super::extract::{self, cookie, set_cookie};
use super::pages::{self, LAST_METHOD_COOKIE, Prefs, lang_param, remember_lang};
use crate::crypto;
use crate::error::OAuthError;
use crate::i18n::Notice;
use crate::login::{self, certificate, passkey, upstream};
use crate::oidc::params::Params;
use crate::oidc::session::{browser_cookie_name, cookie_name};
use crate::state::AppState;

/// The browser-binding and last-method cookies last a year; they identify nothing but the
/// browser and a choice made on it.
const YEAR: i64 = 365 * 24 * 3600;

pub async fn get_authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Response {
    let prefs = Prefs::from_request(
        &headers,
        lang_param(query.as_deref()).as_deref(),
        Some(uri.to_string()),
    );
    match extract::query(query.as_deref().unwrap_or_default()) {
        Ok(params) => authorize(state, headers, params, prefs).await,
        Err(_) => pages::error(StatusCode::BAD_REQUEST, Notice::BadRequest, &prefs),
    }
}

/// OIDC Core §3.1.2.1: the authorization endpoint also accepts POST.
pub async fn post_authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    match extract::form(&headers, &body) {
        Ok(params) => authorize(state, headers, params, prefs).await,
        Err(_) => pages::error(StatusCode::BAD_REQUEST, Notice::BadRequest, &prefs),
    }
}

async fn authorize(state: AppState, headers: HeaderMap, params: Params, prefs: Prefs) -> Response {
    let Some(browser) = BrowserBinding::read(&state, &headers) else {
        return pages::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Notice::ServerError,
            &prefs,
        );
    };
    let session = cookie(&headers, cookie_name(state.secure_cookies()));
    let mut response =
        match login::authorize(&state.broker(), &params, session, &browser.token).await {
            Ok(step) => pages::step(step, &prefs),
            Err(e) => failure(e, &prefs),
        };
    browser.keep(&state, &mut response);
    remember_lang(response, prefs.switch.as_deref(), state.secure_cookies())
}

/// The browser-binding token that ties login flows to the browser that started them: the
/// browser's own, or a new one that [`BrowserBinding::keep`] sets as a cookie.
pub struct BrowserBinding {
    pub token: String,
    new: bool,
}

impl BrowserBinding {
    pub fn read(state: &AppState, headers: &HeaderMap) -> Option<Self> {
        match cookie(headers, browser_cookie_name(state.secure_cookies())) {
            Some(token) => Some(Self {
                token: token.to_owned(),
                new: false,
            }),
            None => crypto::random_token()
                .ok()
                .map(|token| Self { token, new: true }),
        }
    }

    pub fn keep(&self, state: &AppState, response: &mut Response) {
        if self.new {
            // A session cookie: a flow lives minutes, so the binding need not outlive the
            // browser session (it would be a long-lived identifier of the device otherwise).
            let cookie = set_cookie(
                browser_cookie_name(state.secure_cookies()),
                &self.token,
                state.secure_cookies(),
                None,
            );
            add_cookie(response, &cookie);
        }
    }
}

pub async fn get_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Response {
    let switch = lang_param(query.as_deref());
    let prefs = Prefs::from_request(&headers, switch.as_deref(), Some(uri.to_string()));
    let params = match extract::query(query.as_deref().unwrap_or_default()) {
        Ok(p) => p,
        Err(_) => return pages::error(StatusCode::BAD_REQUEST, Notice::BadRequest, &prefs),
    };
    let Some(flow) = params.get("flow") else {
        return pages::error(StatusCode::BAD_REQUEST, Notice::Stale, &prefs);
    };
    let browser = cookie(&headers, browser_cookie_name(state.secure_cookies()));
    let session = cookie(&headers, cookie_name(state.secure_cookies()));
    let response = match login::resume(&state.broker(), flow, browser, session).await {
        Ok(step) => pages::step(step, &prefs),
        Err(e) => failure(e, &prefs),
    };
    remember_lang(response, switch.as_deref(), state.secure_cookies())
}

/// The dev method: a demo citizen was picked.
pub async fn post_login_dev(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    if !state.config.dev_login {
        return pages::error(StatusCode::NOT_FOUND, Notice::NotFound, &prefs);
    }
    let Ok(params) = extract::form(&headers, &body) else {
        return incomplete(&prefs);
    };
    let Some([flow, csrf, choice]) = params.all(["flow", "csrf", "citizen"]) else {
        return incomplete(&prefs);
    };
    let Ok(identity) = anyid_adapters::dev::complete(choice) else {
        return incomplete(&prefs);
    };
    let visitor = visitor(&state, &headers, peer);
    match login::complete_dev_login(&state.broker(), flow, csrf, &visitor, identity).await {
        Ok((step, session_token)) => {
            let mut response = see_other(pages::step(step, &prefs));
            start_session(&state, &mut response, session_token, &visitor);
            response
        }
        Err(e) => failure(e, &prefs),
    }
}

/// A passkey answer from the chooser (the page's script posts it with the form).
pub async fn post_login_passkey(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let Ok(params) = extract::form(&headers, &body) else {
        return incomplete(&prefs);
    };
    let Some([flow_id, csrf, ceremony, credential]) =
        params.all(["flow", "csrf", "ceremony", "credential"])
    else {
        return incomplete(&prefs);
    };
    let answer = passkey::LoginAnswer {
        flow_id,
        csrf,
        ceremony,
        credential,
    };
    let visitor = visitor(&state, &headers, peer);
    let result = passkey::finish_login(&state.broker(), answer, &visitor).await;
    logged_in(&state, result, &prefs, &visitor)
}

/// A signed challenge from the chooser's certificate form.
pub async fn post_login_certificate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let Ok(params) = extract::form(&headers, &body) else {
        return incomplete(&prefs);
    };
    let Some([flow_id, csrf, challenge, signature]) =
        params.all(["flow", "csrf", "challenge", "signature"])
    else {
        return incomplete(&prefs);
    };
    let answer = certificate::SignedAnswer {
        flow_id,
        csrf,
        challenge,
        signature,
    };
    let visitor = visitor(&state, &headers, peer);
    let result = certificate::finish_signed(&state.broker(), answer, &visitor).await;
    logged_in(&state, result, &prefs, &visitor)
}

/// Back from the mutual-TLS listener with its hand-off token.
pub async fn get_login_certificate_return(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let params = extract::query(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let Some(token) = params.get("token") else {
        return incomplete(&prefs);
    };
    let visitor = visitor(&state, &headers, peer);
    let result = certificate::finish_tls(&state.broker(), token, &visitor).await;
    logged_in(&state, result, &prefs, &visitor)
}

/// The cookies and address a login request came with.
fn visitor<'a>(state: &AppState, headers: &'a HeaderMap, peer: SocketAddr) -> login::Visitor<'a> {
    login::Visitor {
        browser: cookie(headers, browser_cookie_name(state.secure_cookies())),
        session: cookie(headers, cookie_name(state.secure_cookies())),
        // The citizen's address, not a trusted proxy's.
        address: Some(
            extract::client_address(Some(peer.ip()), headers, &state.config.trusted_proxies)
                .to_string(),
        ),
        device: cookie(
            headers,
            crate::risk::device_cookie_name(state.secure_cookies()),
        )
        .map(str::to_owned)
        .or_else(|| crypto::random_token().ok()),
    }
}

/// The response to a finished login method: the next step, with the new session's cookie.
fn logged_in(
    state: &AppState,
    result: Result<(login::Step, Option<String>), OAuthError>,
    prefs: &Prefs,
    visitor: &login::Visitor<'_>,
) -> Response {
    match result {
        Ok((step, session_token)) => {
            let mut response = see_other(pages::step(step, prefs));
            start_session(state, &mut response, session_token, visitor);
            response
        }
        Err(e) => failure(e, prefs),
    }
}

/// An upstream method's button on the chooser: start it.
pub async fn post_login_upstream(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let Ok(params) = extract::form(&headers, &body) else {
        return incomplete(&prefs);
    };
    let Some([flow, csrf]) = params.all(["flow", "csrf"]) else {
        return incomplete(&prefs);
    };
    let browser = cookie(&headers, browser_cookie_name(state.secure_cookies()));
    match upstream::begin_login(&state.broker(), &provider, flow, csrf, browser).await {
        Ok(step) => see_other(pages::step(step, &prefs)),
        Err(e) => failure(e, &prefs),
    }
}

fn callback_of(params: &Params) -> Callback {
    let field = |k: &str| params.get(k).map(str::to_owned);
    Callback {
        code: field("code"),
        state: field("state"),
        error: field("error"),
        error_description: field("error_description"),
        user: field("user"),
    }
}

/// The upstream sends the browser back here (query response mode).
pub async fn get_login_callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let Ok(params) = extract::query(query.as_deref().unwrap_or_default()) else {
        return incomplete(&prefs);
    };
    let visitor = visitor(&state, &headers, peer);
    match upstream::finish(&state.broker(), &provider, callback_of(&params), &visitor).await {
        Ok(done) => {
            let mut response = pages::step(done.step, &prefs);
            start_session(&state, &mut response, done.session_token, &visitor);
            if let Some(method) = done.method.filter(|m| state.upstream(m).is_some()) {
                let remembered = set_cookie(
                    LAST_METHOD_COOKIE,
                    &method,
                    state.secure_cookies(),
                    Some(YEAR),
                );
                add_cookie(&mut response, &remembered);
            }
            response
        }
        Err(e) => failure(e, &prefs),
    }
}

/// `response_mode=form_post` (Apple): keep the answer, then continue with a GET.
pub async fn post_login_callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let Ok(params) = extract::form(&headers, &body) else {
        return incomplete(&prefs);
    };
    match upstream::keep_form_post(&state.broker(), &provider, &callback_of(&params)).await {
        Ok(step) => see_other(pages::step(step, &prefs)),
        Err(e) => failure(e, &prefs),
    }
}

pub async fn post_consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let Ok(params) = extract::form(&headers, &body) else {
        return incomplete(&prefs);
    };
    let Some([flow, csrf, decision]) = params.all(["flow", "csrf", "decision"]) else {
        return incomplete(&prefs);
    };
    let browser = cookie(&headers, browser_cookie_name(state.secure_cookies()));
    let session = cookie(&headers, cookie_name(state.secure_cookies()));
    match login::decide_consent(
        &state.broker(),
        flow,
        csrf,
        browser,
        session,
        decision == "allow",
    )
    .await
    {
        Ok(step) => see_other(pages::step(step, &prefs)),
        Err(e) => failure(e, &prefs),
    }
}

/// A page form that cannot be read or lacks a field.
pub fn incomplete(prefs: &Prefs) -> Response {
    pages::error(StatusCode::BAD_REQUEST, Notice::BadRequest, prefs)
}

/// Give the browser the cookie of the SSO session it just started, and its device cookie
/// (`crate::risk`: new, or kept for another 400 days).
fn start_session(
    state: &AppState,
    response: &mut Response,
    token: Option<String>,
    visitor: &login::Visitor<'_>,
) {
    if let (Some(_), Some(device)) = (&token, &visitor.device) {
        add_cookie(
            response,
            &set_cookie(
                crate::risk::device_cookie_name(state.secure_cookies()),
                device,
                state.secure_cookies(),
                Some(crate::risk::DEVICE_MAX_AGE_S),
            ),
        );
    }
    if let Some(token) = token {
        add_cookie(
            response,
            &set_cookie(
                cookie_name(state.secure_cookies()),
                &token,
                state.secure_cookies(),
                None,
            ),
        );
    }
}

/// After a form post, redirects are 303 so the browser follows with GET.
pub fn see_other(mut response: Response) -> Response {
    if response.status().is_redirection() {
        *response.status_mut() = StatusCode::SEE_OTHER;
    }
    response
}

pub fn add_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// A domain failure during a browser flow: a page, never a redirect. The cause is logged.
pub fn failure(e: OAuthError, prefs: &Prefs) -> Response {
    if let Some(cause) = &e.cause {
        tracing::error!(error = e.code.as_str(), cause = %cause, "login flow failed");
    }
    let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let notice = if status.is_server_error() {
        Notice::ServerError
    } else {
        Notice::BadRequest
    };
    pages::error(status, notice, prefs)
}
