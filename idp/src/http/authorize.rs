//! The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2) and the pages of a login
//! flow: the method chooser, the dev method, and consent.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::extract::{self, cookie, set_cookie};
use super::pages;
use crate::crypto;
use crate::login;
use crate::oidc::params::Params;
use crate::oidc::session::{browser_cookie_name, cookie_name};
use crate::state::AppState;

/// The browser-binding cookie lasts a year; it identifies nothing but the browser.
const BROWSER_COOKIE_AGE: i64 = 365 * 24 * 3600;

pub async fn get_authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match extract::query(query.as_deref().unwrap_or_default()) {
        Ok(params) => authorize(state, headers, params).await,
        Err(e) => bad_request(&e.description),
    }
}

/// OIDC Core §3.1.2.1: the authorization endpoint also accepts POST.
pub async fn post_authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match extract::form(&headers, &body) {
        Ok(params) => authorize(state, headers, params).await,
        Err(e) => bad_request(&e.description),
    }
}

async fn authorize(state: AppState, headers: HeaderMap, params: Params) -> Response {
    let browser_name = browser_cookie_name(&state);
    let (browser, new_browser) = match cookie(&headers, browser_name) {
        Some(b) => (b.to_owned(), false),
        None => match crypto::random_token() {
            Ok(b) => (b, true),
            Err(_) => return server_error(),
        },
    };
    let session = cookie(&headers, cookie_name(&state));
    let mut response = match login::authorize(&state, &params, session, &browser).await {
        Ok(step) => pages::step(step),
        Err(e) => oauth_page(e),
    };
    if new_browser {
        add_cookie(
            &mut response,
            &set_cookie(
                browser_name,
                &browser,
                state.secure_cookies(),
                Some(BROWSER_COOKIE_AGE),
            ),
        );
    }
    response
}

pub async fn get_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match extract::query(query.as_deref().unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => return bad_request(&e.description),
    };
    let Some(flow) = params.get("flow") else {
        return bad_request("This address needs a sign-in in progress.");
    };
    let browser = cookie(&headers, browser_cookie_name(&state));
    let session = cookie(&headers, cookie_name(&state));
    match login::resume(&state, flow, browser, session).await {
        Ok(step) => pages::step(step),
        Err(e) => oauth_page(e),
    }
}

/// The dev method: a demo citizen was picked.
pub async fn post_login_dev(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !state.config.dev_login {
        return pages::error(
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no page at this address.",
        );
    }
    let params = match extract::form(&headers, &body) {
        Ok(p) => p,
        Err(e) => return bad_request(&e.description),
    };
    let (Some(flow), Some(csrf), Some(choice)) = (
        params.get("flow"),
        params.get("csrf"),
        params.get("citizen"),
    ) else {
        return bad_request("The form is incomplete.");
    };
    let identity = match anyid_adapters::dev::complete(choice) {
        Ok(identity) => identity,
        Err(_) => return bad_request("Unknown demo citizen."),
    };
    let browser = cookie(&headers, browser_cookie_name(&state));
    match login::complete_login(&state, flow, csrf, browser, identity).await {
        Ok((step, session_token)) => {
            let mut response = see_other(pages::step(step));
            if let Some(token) = session_token {
                add_cookie(
                    &mut response,
                    &set_cookie(cookie_name(&state), &token, state.secure_cookies(), None),
                );
            }
            response
        }
        Err(e) => oauth_page(e),
    }
}

pub async fn post_consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match extract::form(&headers, &body) {
        Ok(p) => p,
        Err(e) => return bad_request(&e.description),
    };
    let (Some(flow), Some(csrf), Some(decision)) = (
        params.get("flow"),
        params.get("csrf"),
        params.get("decision"),
    ) else {
        return bad_request("The form is incomplete.");
    };
    let browser = cookie(&headers, browser_cookie_name(&state));
    let session = cookie(&headers, cookie_name(&state));
    match login::decide_consent(&state, flow, csrf, browser, session, decision == "allow").await {
        Ok(step) => see_other(pages::step(step)),
        Err(e) => oauth_page(e),
    }
}

/// After a form post, redirects are 303 so the browser follows with GET.
fn see_other(mut response: Response) -> Response {
    if response.status().is_redirection() {
        *response.status_mut() = StatusCode::SEE_OTHER;
    }
    response
}

fn add_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn bad_request(detail: &str) -> Response {
    pages::error(StatusCode::BAD_REQUEST, "The request is not valid", detail)
}

fn server_error() -> Response {
    pages::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Any-ID could not complete your request. Please try again.",
    )
}

/// A domain failure during a browser flow: a page, never a redirect.
fn oauth_page(e: crate::error::OAuthError) -> Response {
    if let Some(cause) = &e.cause {
        tracing::error!(error = e.code.as_str(), cause = %cause, "login flow failed");
    }
    let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let detail = if status.is_server_error() {
        "Any-ID could not complete your request. Please try again."
    } else {
        e.description.as_ref()
    };
    pages::error(status, "Sign-in could not continue", detail)
}
