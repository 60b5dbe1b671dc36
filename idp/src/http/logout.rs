//! The end-session endpoint, RP-Initiated Logout 1.0 §2 (GET and POST).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::extract::{self, clear_cookie, cookie};
use super::pages::{self, LogoutConfirmPage};
use crate::oidc::logout::{LogoutOutcome, end_session};
use crate::oidc::params::Params;
use crate::oidc::session::cookie_name;
use crate::state::AppState;

pub async fn get_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match extract::query(query.as_deref().unwrap_or_default()) {
        Ok(params) => run(&state, &headers, params, false).await,
        Err(e) => pages::error(
            StatusCode::BAD_REQUEST,
            "The request is not valid",
            &e.description,
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
        Err(e) => pages::error(
            StatusCode::BAD_REQUEST,
            "The request is not valid",
            &e.description,
        ),
    }
}

async fn run(state: &AppState, headers: &HeaderMap, params: Params, posted: bool) -> Response {
    let session = cookie(headers, cookie_name(state));
    let csrf = if posted { params.get("csrf") } else { None };
    match end_session(state, &params, session, csrf).await {
        Ok(LogoutOutcome::Done { redirect }) => {
            let mut response = match redirect {
                Some(location) => Redirect::to(&location).into_response(),
                None => pages::message(
                    "You are signed out",
                    "You have signed out of Any-ID in this browser.",
                ),
            };
            if posted && response.status().is_redirection() {
                *response.status_mut() = StatusCode::SEE_OTHER;
            }
            if let Ok(value) =
                HeaderValue::from_str(&clear_cookie(cookie_name(state), state.secure_cookies()))
            {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Ok(LogoutOutcome::Confirm { csrf, params }) => pages::render(&LogoutConfirmPage {
            lang: pages::lang(),
            csrf: &csrf,
            params: &params,
        }),
        Ok(LogoutOutcome::Refused { detail }) => pages::error(
            StatusCode::BAD_REQUEST,
            "Sign-out could not continue",
            detail,
        ),
        Err(e) => {
            tracing::error!(error = e.code.as_str(), cause = ?e.cause, "logout failed");
            pages::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Any-ID could not sign you out. Please try again.",
            )
        }
    }
}
