//! The admin JSON API (client management), on the admin plane. Every handler takes an
//! [`Admin`] capability, which only a valid admin bearer token produces. Errors are RFC 9457
//! problem details.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::extract::bearer;
use super::respond::problem;
use crate::clients::{self, ClientError, NewClient};
use crate::crypto::constant_time_eq;
use crate::error::ApiError;
use crate::state::AppState;

/// Proof that the request carried the admin token.
pub struct Admin(());

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let expected = state
            .config
            .admin_token
            .as_ref()
            .map(|t| t.expose().as_bytes());
        match (expected, bearer(&parts.headers)) {
            (Some(expected), Some(given)) if constant_time_eq(expected, given.as_bytes()) => {
                Ok(Admin(()))
            }
            _ => Err(problem(ApiError::Unauthorized)),
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/clients", get(list_clients).post(post_client))
        .route("/clients/{id}", get(get_client).delete(delete_client))
        .route("/clients/{id}/secret", post(post_client_secret))
}

fn api_error(e: ClientError) -> Response {
    problem(match e {
        ClientError::Invalid(m) => ApiError::BadRequest(m),
        ClientError::NotFound(id) => ApiError::NotFound(format!("client {id}")),
        ClientError::Store(e) => e.into(),
        ClientError::Random => ApiError::Internal("random generator failed".into()),
    })
}

async fn list_clients(_: Admin, State(state): State<AppState>) -> Response {
    match clients::list(&state.store).await {
        Ok(list) => Json(list).into_response(),
        Err(e) => api_error(e),
    }
}

async fn post_client(_: Admin, State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let new: NewClient = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => return problem(ApiError::BadRequest(format!("invalid client JSON: {e}"))),
    };
    match clients::add(&state.store, &new, state.now()).await {
        Ok(registered) => (StatusCode::CREATED, Json(registered)).into_response(),
        Err(e) => api_error(e),
    }
}

async fn get_client(_: Admin, State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match clients::show(&state.store, &id).await {
        Ok(view) => Json(view).into_response(),
        Err(e) => api_error(e),
    }
}

async fn delete_client(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let removed = clients::remove(&state.store, &id, state.now()).await;
    state.client_cache.forget(&id);
    match removed {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => api_error(e),
    }
}

async fn post_client_secret(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let rotated = clients::rotate_secret(&state.store, &id, state.now()).await;
    state.client_cache.forget(&id);
    match rotated {
        Ok(registered) => Json(registered).into_response(),
        Err(e) => api_error(e),
    }
}
