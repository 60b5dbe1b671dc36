//! The end-session endpoint, RP-Initiated Logout 1.0 §2 (GET and POST).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::extract::{self, cookie};
use super::pages::{self, Frame, Prefs};
use crate::i18n::{Notice, Text};
use crate::oidc::logout::{LogoutOutcome, end_session};
use crate::oidc::params::Params;
use crate::oidc::session::cookie_name;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "logout_confirm.html")]
struct ConfirmPage<'a> {
    lang: &'a str,
    other_lang: &'a str,
    switch_url: &'a str,
    t: &'a Text,
    csrf: &'a str,
    params: &'a [(String, String)],
}

pub async fn get_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match extract::query(query.as_deref().unwrap_or_default()) {
        Ok(params) => run(&state, &headers, params, false).await,
        Err(_) => pages::error(
            StatusCode::BAD_REQUEST,
            Notice::BadRequest,
            &Prefs::from_request(&headers, None, None),
        ),
    }
}

pub async fn post_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match extract::form(&headers, &body) {
        Ok(params) => run(&state, &headers, params, true).await,
        Err(_) => pages::error(
            StatusCode::BAD_REQUEST,
            Notice::BadRequest,
            &Prefs::from_request(&headers, None, None),
        ),
    }
}

async fn run(state: &AppState, headers: &HeaderMap, params: Params, posted: bool) -> Response {
    let prefs = Prefs::from_request(headers, None, None);
    let session = cookie(headers, cookie_name(state.secure_cookies()));
    let csrf = if posted { params.get("csrf") } else { None };
    match end_session(&state.provider(), &params, session, csrf).await {
        Ok(LogoutOutcome::Done { redirect }) => {
            let mut response = match redirect {
                Some(location) => Redirect::to(&location).into_response(),
                None => pages::message(&prefs, |t| t.signed_out_title, |t| t.signed_out_body),
            };
            if posted && response.status().is_redirection() {
                *response.status_mut() = StatusCode::SEE_OTHER;
            }
            extract::sign_out_browser(&mut response, state.secure_cookies());
            response
        }
        Ok(LogoutOutcome::Confirm { csrf, params }) => {
            let ui_locales = params
                .iter()
                .find(|(k, _)| k == "ui_locales")
                .map(|(_, v)| v.as_str());
            let f = Frame::new(&prefs, ui_locales);
            pages::render(&ConfirmPage {
                lang: f.lang,
                other_lang: f.other_lang,
                switch_url: &f.switch_url,
                t: f.t,
                csrf: &csrf,
                params: &params,
            })
        }
        Ok(LogoutOutcome::Refused { notice }) => {
            pages::error(StatusCode::BAD_REQUEST, notice, &prefs)
        }
        Err(e) => {
            tracing::error!(error = e.code.as_str(), cause = ?e.cause, "logout failed");
            pages::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                Notice::ServerError,
                &prefs,
            )
        }
    }
}
