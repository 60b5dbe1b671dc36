//! The token endpoint, RFC 6749 §3.2. Responses carry `Cache-Control: no-store` (§5.1).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use super::extract::{self, ClientAddress};
use super::respond::oauth_json;
use crate::oidc::grants;
use crate::state::AppState;

pub async fn post_token(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = match extract::form(&headers, &body) {
        Ok(params) => {
            let authorization = extract::authorization(&headers);
            grants::exchange(&state.provider(), authorization, params, source).await
        }
        Err(e) => Err(e),
    };
    let mut response = match result {
        Ok((grant_type, tokens)) => {
            state.metrics.token_issued(grant_type.as_str());
            Json(tokens).into_response()
        }
        Err(e) => oauth_json(e),
    };
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}
