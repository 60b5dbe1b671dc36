//! The UserInfo endpoint (OIDC Core §5.3), GET and POST, bearer tokens per RFC 6750 §2.1 and
//! §2.2.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::extract::{self, ClientAddress};
use super::respond::bearer_error;
use crate::oidc::userinfo::userinfo;
use crate::state::AppState;

pub async fn get_userinfo(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
) -> Response {
    answer(&state, extract::bearer(&headers), source).await
}

pub async fn post_userinfo(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(token) = extract::bearer(&headers) {
        return answer(&state, Some(token), source).await;
    }
    // RFC 6750 §2.2: the token may come as a form parameter instead.
    let params = if body.is_empty() {
        None
    } else {
        extract::form(&headers, &body).ok()
    };
    let token = params.as_ref().and_then(|p| p.get("access_token"));
    answer(&state, token, source).await
}

async fn answer(state: &AppState, token: Option<&str>, source: std::net::IpAddr) -> Response {
    let Some(token) = token else {
        return bearer_error(None);
    };
    match userinfo(&state.provider(), token, source).await {
        Ok(claims) => Json(claims).into_response(),
        Err(e) => bearer_error(Some(e)),
    }
}
