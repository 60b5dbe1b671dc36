//! Liveness, readiness and Prometheus metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

pub async fn get_healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers and signing keys are loaded.
pub async fn get_readyz(State(state): State<AppState>) -> Response {
    let db = state.store.ping().await.is_ok();
    let keys = !state.keys.current().kids().is_empty();
    if db && keys {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

pub async fn get_metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
