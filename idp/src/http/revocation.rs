//! Token revocation, RFC 7009 §2, for authenticated clients.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::extract::{self, ClientAddress};
use super::respond::oauth_json;
use crate::error::OAuthError;
use crate::oidc::{client_auth, revocation};
use crate::state::AppState;

pub async fn post_revoke(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match run(&state, source, &headers, &body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => oauth_json(e),
    }
}

async fn run(
    state: &AppState,
    source: std::net::IpAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), OAuthError> {
    let mut params = extract::form(headers, body)?;
    let client = client_auth::authenticate_request(
        &state.provider(),
        extract::authorization(headers),
        &mut params,
        source,
    )
    .await?;
    client_auth::permit(
        &state.provider(),
        &client,
        anyid_policy::Action::Revoke,
        source,
    )?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    revocation::revoke(
        &state.provider(),
        &client,
        token,
        params.get("token_type_hint"),
    )
    .await
}
