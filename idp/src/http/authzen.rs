//! The AuthZEN decision API over HTTPS (AuthZEN Authorization API 1.0 §10-12):
//! `POST /access/v1/evaluation`, `POST /access/v1/evaluations` and the metadata document
//! `/.well-known/authzen-configuration`. Callers present a client-credentials access token
//! of this provider with the `authzen` scope; a denial is 200 with `"decision": false`, and
//! HTTP errors are for the request as a whole (401, 403, 400 as problem details).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
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
        let (pdp, caller, request) = accept::<Evaluation>(&state, &headers, address, &body).await?;
        Ok(pdp.evaluate(&caller, &request).await.to_json())
    };
    respond(answer.await, &headers)
}

pub async fn post_evaluations(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = async {
        let (pdp, caller, request) =
            accept::<Evaluations>(&state, &headers, address, &body).await?;
        pdp.evaluations(&caller, &request)
            .await
            .map_err(|m| Box::new(problem(ApiError::BadRequest(m))))
    };
    respond(answer.await, &headers)
}

/// The decision point, the authenticated caller and its request, or the refusal.
async fn accept<'a, T: serde::de::DeserializeOwned>(
    state: &'a AppState,
    headers: &HeaderMap,
    address: std::net::IpAddr,
    body: &[u8],
) -> Result<(Pdp<'a>, Caller, T), Refusal> {
    let caller = authenticate(state, headers, address).await?;
    let request = parse(body)?;
    let pdp = Pdp {
        op: state.provider(),
    };
    Ok((pdp, caller, request))
}

/// The calling relying party, from its bearer token (401), which must carry the `authzen`
/// scope (403) and belong to no citizen (a client-credentials token).
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    address: std::net::IpAddr,
) -> Result<Caller, Refusal> {
    let client = calling_client(
        state,
        headers,
        SCOPE,
        "the decision API needs a client-credentials token with the authzen scope",
    )
    .await?;
    Ok(Caller { client, address })
}

/// The relying party calling with a client-credentials access token of this provider that
/// carries `scope`: 401 without a valid token, 403 (`insufficient_scope`, saying `needs`)
/// without the scope or with a citizen's token.
pub(super) async fn calling_client(
    state: &AppState,
    headers: &HeaderMap,
    scope: &str,
    needs: &'static str,
) -> Result<std::sync::Arc<crate::store::ClientRecord>, Refusal> {
    let op = state.provider();
    let Some(token) = extract::bearer(headers) else {
        return Err(Box::new(bearer_error(None)));
    };
    let claims = verify_access_token(&op, token)
        .await
        .map_err(|e| Box::new(bearer_error(Some(e))))?;
    if claims.gid.is_some() || !parse_scope(&claims.scope).iter().any(|s| s == scope) {
        return Err(Box::new(bearer_error(Some(OAuthError::new(
            ErrorCode::InsufficientScope,
            needs,
        )))));
    }
    op.clients
        .get(op.store, &claims.client_id, op.now())
        .await
        .map_err(|e| Box::new(problem(ApiError::from(e))))?
        .ok_or_else(|| {
            Box::new(bearer_error(Some(OAuthError::invalid_token(
                "the token's client no longer exists",
            ))))
        })
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(problem(ApiError::BadRequest(format!(
            "the body is not an AuthZEN request: {e}"
        ))))
    })
}

/// The answer as JSON, or the refusal; the caller's `X-Request-ID` comes back on either
/// (§12.1.8).
fn respond(answer: Result<Value, Refusal>, headers: &HeaderMap) -> Response {
    let mut response = match answer {
        Ok(body) => {
            let mut ok = Json(body).into_response();
            ok.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            ok
        }
        Err(refusal) => *refusal,
    };
    if let Some(id) = headers.get(REQUEST_ID) {
        response.headers_mut().insert(REQUEST_ID, id.clone());
    }
    response
}
