//! The one mapping from domain errors to HTTP responses: OAuth JSON errors (RFC 6749 §5.2),
//! bearer-token challenges (RFC 6750 §3), and problem details for the admin API (RFC 9457).
//! Causes are logged here, never sent.

use std::any::Any;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{ApiError, ErrorCode, OAuthError};

fn log_cause(e: &OAuthError) {
    if let Some(cause) = &e.cause {
        if e.code == ErrorCode::ServerError {
            tracing::error!(error = e.code.as_str(), cause = %cause, "request failed");
        } else {
            tracing::warn!(error = e.code.as_str(), cause = %cause, "request refused");
        }
    }
}

fn status(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST)
}

/// A JSON OAuth error from the token, introspection or revocation endpoint.
pub fn oauth_json(e: OAuthError) -> Response {
    log_cause(&e);
    let body = json!({ "error": e.code.as_str(), "error_description": e.description });
    if let Some(wait) = e.retry_after {
        return too_many_requests(wait, Json(body));
    }
    let mut response = (status(e.code), Json(body)).into_response();
    if e.code == ErrorCode::InvalidClient {
        // RFC 6749 §5.2: 401 carries a challenge for the scheme the client may use.
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"anyid\""),
        );
    }
    response
}

/// 429 with `Retry-After` in whole seconds, rounded up (RFC 6585 §4, RFC 9110 §10.2.3).
pub fn too_many_requests(wait: std::time::Duration, body: impl IntoResponse) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// A protected-resource error (RFC 6750 §3). Without any token the challenge has no error
/// code (§3.1).
pub fn bearer_error(e: Option<OAuthError>) -> Response {
    let (status_code, challenge, body) = match e {
        // RFC 6750 §3.1: no error information when the request carried no token at all.
        None => (
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"anyid\"".to_owned(),
            json!({}),
        ),
        Some(e) => {
            log_cause(&e);
            let desc = e.description.replace(['"', '\\'], "");
            // RFC 9470 §3: a step-up challenge names the acr values to log in with.
            let acr = e
                .acr_values
                .as_deref()
                .map(|a| format!(", acr_values=\"{a}\""))
                .unwrap_or_default();
            (
                status(e.code),
                format!(
                    "Bearer realm=\"anyid\", error=\"{}\", error_description=\"{desc}\"{acr}",
                    e.code.as_str()
                ),
                json!({ "error": e.code.as_str(), "error_description": e.description }),
            )
        }
    };
    let mut response = (status_code, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// RFC 9457 problem details.
pub fn problem(e: ApiError) -> Response {
    if let ApiError::Internal(cause) = &e {
        tracing::error!(cause = %cause, "admin request failed");
    }
    let status_code = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let detail = match &e {
        ApiError::Internal(_) => "the server could not complete the request".to_owned(),
        other => other.to_string(),
    };
    let body = json!({
        "type": "about:blank",
        "title": e.title(),
        "status": status_code.as_u16(),
        "detail": detail,
    });
    let mut response = (status_code, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if matches!(e, ApiError::Unauthorized) {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"anyid-admin\""),
        );
    }
    response
}

/// A panic is a bug: answer 500 without details and log it.
pub fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": "server_error" })),
    )
        .into_response()
}
