//! The access-record intake over HTTPS: `POST /audit/v1/events` for relying parties whose
//! client-credentials token carries `audit:write`. The answer says what became of each
//! event; it comes only after the accepted ones are committed.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::authzen::calling_client;
use super::respond::problem;
use crate::audit::intake::{self, MAX_BATCH};
use crate::error::ApiError;
use crate::state::AppState;

/// The scope a relying party needs to report access events.
pub const SCOPE: &str = "audit:write";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    /// Each event is read on its own (`intake::take`), so one bad event is one error.
    events: Vec<Box<RawValue>>,
}

pub async fn post_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client = match calling_client(
        &state,
        &headers,
        SCOPE,
        "reporting access events needs a client-credentials token with the audit:write scope",
    )
    .await
    {
        Ok(client) => client,
        Err(refusal) => return *refusal,
    };
    let batch: Batch = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(e) => {
            return problem(ApiError::BadRequest(format!(
                "the body must be {{\"events\": [ … ]}}: {e}"
            )));
        }
    };
    if batch.events.len() > MAX_BATCH {
        return problem(ApiError::BadRequest(format!(
            "at most {MAX_BATCH} events per request; this one has {}",
            batch.events.len()
        )));
    }
    match intake::take(
        &state.audit_log,
        state.clock.as_ref(),
        &client.id,
        batch.events,
    )
    .await
    {
        Ok(answer) => {
            let mut response = Json(answer).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => problem(ApiError::Internal(format!(
            "the events could not be stored ({e}); none of this batch is recorded, send it again"
        ))),
    }
}

/// `GET /audit/v1/checkpoint`: the latest signed checkpoint of the access record
/// (c2sp.org/tlog-checkpoint), for anyone to keep and compare later.
pub async fn get_checkpoint(State(state): State<AppState>) -> Response {
    use crate::store::CheckpointStore;
    match state.store.latest_checkpoint().await {
        Ok(Some((_, note))) => text(note),
        Ok(None) => problem(ApiError::NotFound(
            "a checkpoint (the record is empty)".into(),
        )),
        Err(e) => problem(e.into()),
    }
}

/// `GET /audit/v1/checkpoint/key`: the key checkpoints are signed with, as
/// c2sp.org/signed-note verifiers take it.
pub async fn get_checkpoint_key(State(state): State<AppState>) -> Response {
    text(format!("{}\n", state.log_key.verifier_key()))
}

fn text(body: String) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
