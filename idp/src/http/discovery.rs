//! `/.well-known/openid-configuration` (OIDC Discovery 1.0 §4) and `/jwks` (RFC 7517).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

const JSON: &str = "application/json";

pub async fn get_discovery(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, JSON),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        axum::body::Bytes::from_owner(state.discovery.clone()),
    )
        .into_response()
}

pub async fn get_jwks(State(state): State<AppState>) -> Response {
    (
        // Short: relying parties pick up a rotated key soon after it is added.
        [
            (header::CONTENT_TYPE, JSON),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        axum::body::Bytes::from_owner(state.keys.current().jwks_json()),
    )
        .into_response()
}
