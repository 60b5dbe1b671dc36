//! The admin JSON API (client management), on the admin plane. Every handler takes the
//! [`Admin`] capability the clients module requires, made only from a valid admin bearer
//! token. Errors are RFC 9457
//! problem details.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::extract::bearer;
use super::respond::problem;
use crate::clients::{self, Admin, ClientError, NewClient};
use crate::error::ApiError;
use crate::state::AppState;

/// The admin capability, made from the request's bearer token (or a 401 problem).
pub struct AdminToken(Admin);

impl FromRequestParts<AppState> for AdminToken {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Admin::with_token(state.config.admin_token.as_ref(), bearer(&parts.headers))
            .map(AdminToken)
            .ok_or_else(|| problem(ApiError::Unauthorized))
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/clients", get(list_clients).post(post_client))
        .route("/clients/{id}", get(get_client).delete(delete_client))
        .route("/clients/{id}/secret", post(post_client_secret))
        .route("/policies", get(list_policies))
        .route("/policies/reload", post(post_policies_reload))
}

/// The policies in force: id, effect, file, reason and step-up level.
async fn list_policies(AdminToken(_): AdminToken, State(state): State<AppState>) -> Response {
    let set = state.policy.policies();
    Json(serde_json::json!({ "policies": set.summaries() })).into_response()
}

/// Read the policy folder again. An invalid set is refused (422, with the reason) and the
/// set in force stays.
async fn post_policies_reload(
    AdminToken(_): AdminToken,
    State(state): State<AppState>,
) -> Response {
    match crate::policy::reload(&state.policy, &state.config.policy, "admin API") {
        Ok(n) => Json(serde_json::json!({ "policies": n })).into_response(),
        Err(e) => problem(ApiError::Unprocessable(e.to_string())),
    }
}

fn api_error(e: ClientError) -> Response {
    problem(match e {
        ClientError::Invalid(m) => ApiError::BadRequest(m),
        ClientError::NotFound(id) => ApiError::NotFound(format!("client {id}")),
        ClientError::Store(e) => e.into(),
        ClientError::Random => ApiError::Internal("random generator failed".into()),
    })
}

async fn list_clients(AdminToken(admin): AdminToken, State(state): State<AppState>) -> Response {
    match clients::list(&admin, &state.store).await {
        Ok(list) => Json(list).into_response(),
        Err(e) => api_error(e),
    }
}

async fn post_client(
    AdminToken(admin): AdminToken,
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Response {
    let new: NewClient = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => return problem(ApiError::BadRequest(format!("invalid client JSON: {e}"))),
    };
    match clients::add(&admin, &state.store, &new, state.config.mode, state.now()).await {
        Ok(registered) => (StatusCode::CREATED, Json(registered)).into_response(),
        Err(e) => api_error(e),
    }
}

async fn get_client(
    AdminToken(admin): AdminToken,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    match clients::show(&admin, &state.store, &id).await {
        Ok(view) => Json(view).into_response(),
        Err(e) => api_error(e),
    }
}

async fn delete_client(
    AdminToken(admin): AdminToken,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let removed = clients::remove(&admin, &state.store, &id, state.now()).await;
    state.client_cache.forget(&id);
    match removed {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => api_error(e),
    }
}

async fn post_client_secret(
    AdminToken(admin): AdminToken,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let rotated = clients::rotate_secret(&admin, &state.store, &id, state.now()).await;
    state.client_cache.forget(&id);
    match rotated {
        Ok(registered) => Json(registered).into_response(),
        Err(e) => api_error(e),
    }
}
