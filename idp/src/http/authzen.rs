//! The AuthZEN decision API over HTTPS (AuthZEN Authorization API 1.0 §10-12):
//! `POST /access/v1/evaluation`, `POST /access/v1/evaluations` and the metadata document
//! `/.well-known/authzen-configuration`. Callers present a client-credentials access token
//! of this provider with the `authzen` scope; a denial is 200 with `"decision": false`, and
//! HTTP errors are for the request as a whole (401, 403, 400 as problem details).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::extract::{self, ClientAddress};
use super::respond::{bearer_error, problem};
use crate::authzen::{Caller, Evaluation, Evaluations, Pdp};
use crate::error::{ApiError, ErrorCode, OAuthError};
use crate::oidc::parse_scope;
use crate::oidc::tokens::verify_access_token;
use crate::state::AppState;

/// The scope a relying party needs to call the decision API.
pub const SCOPE: &str = "authzen";

const REQUEST_ID: &str = "x-request-id";

/// An answer that ends the request before any evaluation (401, 403, 400).
type Refusal = Box<Response>;

/// §11: the policy decision point's metadata; its issuer is this provider's.
pub async fn get_configuration(State(state): State<AppState>) -> Response {
    let mut response = Json(json!({
        "issuer": state.issuer,
        "access_evaluation_endpoint": state.endpoint("/access/v1/evaluation"),
        "access_evaluations_endpoint": state.endpoint("/access/v1/evaluations"),
    }))
    .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

pub async fn post_evaluation(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = async {
        let caller = authenticate(&state, &headers, address).await?;
        let request: Evaluation = parse(&body)?;
        let answer = pdp(&state).evaluate(&caller, &request).await;
        Ok::<_, Refusal>(Json(answer.to_json()).into_response())
    }
    .await;
    with_request_id(answer.unwrap_or_else(|r| *r), &headers)
}

pub async fn post_evaluations(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = async {
        let caller = authenticate(&state, &headers, address).await?;
        let request: Evaluations = parse(&body)?;
        let pdp = pdp(&state);
        // Without evaluations, the request is a single evaluation of its own tuple.
        if request.evaluations.as_ref().is_none_or(Vec::is_empty) {
            let answer = pdp.evaluate(&caller, &request.defaults).await;
            return Ok(Json(answer.to_json()).into_response());
        }
        let answers = pdp
            .evaluate_all(&caller, &request)
            .await
            .map_err(|m| Box::new(problem(ApiError::BadRequest(m))))?;
        let list: Vec<Value> = answers.iter().map(|a| a.to_json()).collect();
        Ok::<_, Refusal>(Json(json!({ "evaluations": list })).into_response())
    }
    .await;
    with_request_id(answer.unwrap_or_else(|r| *r), &headers)
}

fn pdp(state: &AppState) -> Pdp<'_> {
    Pdp {
        op: state.provider(),
        config: &state.config.policy,
        access_log: &state.access_log,
    }
}

/// The calling relying party, from its bearer token (401), which must carry the `authzen`
/// scope (403) and belong to no citizen (a client-credentials token).
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    address: std::net::IpAddr,
) -> Result<Caller, Refusal> {
    let op = state.provider();
    let Some(token) = extract::bearer(headers) else {
        return Err(Box::new(bearer_error(None)));
    };
    let claims = verify_access_token(&op, token)
        .await
        .map_err(|e| Box::new(bearer_error(Some(e))))?;
    if claims.gid.is_some() || !parse_scope(&claims.scope).iter().any(|s| s == SCOPE) {
        return Err(Box::new(bearer_error(Some(OAuthError::new(
            ErrorCode::InsufficientScope,
            "the decision API needs a client-credentials token with the authzen scope",
        )))));
    }
    let client = op
        .clients
        .get(op.store, &claims.client_id, op.now())
        .await
        .map_err(|e| Box::new(problem(ApiError::from(e))))?
        .ok_or_else(|| {
            Box::new(bearer_error(Some(OAuthError::invalid_token(
                "the token's client no longer exists",
            ))))
        })?;
    Ok(Caller {
        client,
        address,
        request_id: headers
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(200).collect()),
    })
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(problem(ApiError::BadRequest(format!(
            "the body is not an AuthZEN request: {e}"
        ))))
    })
}

/// §12.1.8: the caller's `X-Request-ID` comes back on the answer.
fn with_request_id(mut response: Response, headers: &HeaderMap) -> Response {
    if let Some(id) = headers.get(REQUEST_ID) {
        response.headers_mut().insert(REQUEST_ID, id.clone());
    }
    if response.status() == StatusCode::OK {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
