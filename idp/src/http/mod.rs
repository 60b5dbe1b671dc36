//! HTTP: the only module that knows axum. Two routers (public and admin planes), shared
//! middleware (security headers, metrics, body limits, panics caught), and one file per
//! endpoint; handlers extract, call one domain function, and map the result.

pub mod admin;
mod audit;
mod authorize;
mod authzen;
pub mod demo;
mod discovery;
mod extract;
mod health;
mod history;
mod introspection;
mod logout;
pub mod mtls;
mod pages;
mod portal;
mod respond;
mod revocation;
mod token;
mod userinfo;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use self::extract::ClientAddress;
use crate::state::AppState;

/// Request bodies larger than this are refused with 413.
const BODY_LIMIT: usize = 64 * 1024;
/// The access-record intake takes batches of up to 1,000 events.
const INTAKE_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The public plane: protocol endpoints, login pages, the demo relying party in dev.
pub fn public_router(state: AppState) -> Router {
    // Cross-origin reads are fine for these; no credentials are involved (cookies are not
    // used by them).
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let api = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::get_discovery),
        )
        .route("/jwks", get(discovery::get_jwks))
        .route("/token", post(token::post_token))
        .route(
            "/userinfo",
            get(userinfo::get_userinfo).post(userinfo::post_userinfo),
        )
        .route("/introspect", post(introspection::post_introspect))
        .route("/audit/v1/checkpoint", get(audit::get_checkpoint))
        .route("/audit/v1/checkpoint/key", get(audit::get_checkpoint_key))
        .route("/access/v1/evaluation", post(authzen::post_evaluation))
        .route("/access/v1/evaluations", post(authzen::post_evaluations))
        .route(
            "/.well-known/authzen-configuration",
            get(authzen::get_configuration),
        )
        .route("/revoke", post(revocation::post_revoke))
        .layer(cors);
    // Routes that start or continue a login before anyone is signed in: they create
    // server-side state (flows, hand-offs, upstream starts), so they are rate limited.
    let login = Router::new()
        .route(
            "/authorize",
            get(authorize::get_authorize).post(authorize::post_authorize),
        )
        .route("/login", get(authorize::get_login))
        .route("/login/dev", post(authorize::post_login_dev))
        .route(
            "/login/upstream/{provider}",
            post(authorize::post_login_upstream),
        )
        .route(
            "/login/callback/{provider}",
            get(authorize::get_login_callback).post(authorize::post_login_callback),
        )
        .route("/login/passkey", post(authorize::post_login_passkey))
        .route(
            "/login/certificate",
            post(authorize::post_login_certificate),
        )
        .route(
            "/login/certificate/return",
            get(authorize::get_login_certificate_return),
        )
        .route("/consent", post(authorize::post_consent))
        .route("/account", get(portal::get_account))
        .route("/account/confirm", get(portal::get_account_confirm))
        .route("/account/history", get(history::get_history))
        .route("/account/history.csv", get(history::get_history_csv))
        .route_layer(middleware::from_fn_with_state(state.clone(), limit_logins));
    let mut router = Router::new()
        .merge(api)
        .merge(login)
        .route("/account/action", post(portal::post_account_action))
        .route("/account/delete", post(portal::post_account_delete))
        .route("/account/{file}", get(portal::get_account_export))
        .route("/account/passkeys", post(portal::post_account_passkey))
        .route(
            "/account/certificate",
            post(portal::post_account_certificate),
        )
        .route("/account/link/{provider}", post(portal::post_account_link))
        .route("/logout", get(logout::get_logout).post(logout::post_logout))
        .route("/static/anyid.css", get(pages::get_stylesheet))
        .route("/static/passkey.js", get(pages::get_passkey_script))
        .route("/healthz", get(health::get_healthz))
        .route("/readyz", get(health::get_readyz))
        .route("/", get(pages::get_home));
    if state.demo.is_some() {
        router = router.merge(demo::router());
    }
    // Every route but the intake keeps the small body limit.
    let intake = Router::new()
        .route("/audit/v1/events", post(audit::post_events))
        .layer(RequestBodyLimitLayer::new(INTAKE_BODY_LIMIT));
    let router = router
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .merge(intake);
    with_common_layers(router.fallback(pages::not_found), state, INTAKE_BODY_LIMIT)
}

/// The mutual-TLS listener: certificate login only.
pub fn mtls_router(state: AppState) -> Router {
    let router = Router::new()
        .route("/login/certificate", get(mtls::get_login_certificate))
        .route_layer(middleware::from_fn_with_state(state.clone(), limit_logins))
        .route("/healthz", get(health::get_healthz));
    with_common_layers(router.fallback(pages::not_found), state, BODY_LIMIT)
}

/// The admin plane: client management API and metrics, on its own listener.
pub fn admin_router(state: AppState) -> Router {
    // Every admin call and console action passes the gate (authenticated, decided, recorded).
    let gated = Router::new()
        .nest("/admin/v1", admin::router())
        .route("/admin/decisions", get(admin::get_decisions_page))
        .route_layer(middleware::from_fn_with_state(state.clone(), admin::gate));
    let router = gated
        .route("/static/anyid.css", get(pages::get_stylesheet))
        .route("/metrics", get(health::get_metrics))
        .route("/healthz", get(health::get_healthz))
        .route("/readyz", get(health::get_readyz));
    with_common_layers(router, state, BODY_LIMIT)
}

/// The layers every plane shares: metrics outermost (they count every answer), then
/// [`protected`].
fn with_common_layers(router: Router<AppState>, state: AppState, body_limit: usize) -> Router {
    let hsts = state.secure_cookies();
    protected(router.with_state(state.clone()), hsts, body_limit)
        .layer(middleware::from_fn_with_state(state, observe))
}

/// Security headers around the body limit, the request timeout and caught panics, so the
/// answers those layers make themselves (413, 408, 500) carry the headers too.
fn protected(router: Router, hsts: bool, body_limit: usize) -> Router {
    router
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(respond::panic_response))
        .layer(middleware::from_fn(move |request, next| {
            security_headers(hsts, request, next)
        }))
}

/// Admit a login request from its address, or answer 429 with a page: the same answer for
/// every route and every request, so it tells nothing about clients or flows.
async fn limit_logins(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    request: Request,
    next: Next,
) -> Response {
    match state.login_limits.admit(address) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let prefs = pages::Prefs::from_request(request.headers(), None, None);
            let page = pages::error(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                crate::i18n::Notice::TooManyRequests,
                &prefs,
            );
            respond::too_many_requests(wait, page)
        }
    }
}

/// Count and time every request per route template; never log query strings or bodies.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .request(&route, method.as_str(), status, elapsed);
    tracing::debug!(method = %method, route = %route, status, latency_us = elapsed.as_micros() as u64, "request");
    response
}

/// Strict CSP, anti-framing and no caching unless a handler chose otherwise; HSTS when
/// served over https.
async fn security_headers(hsts: bool, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    // No inline script or style anywhere (the one script, for WebAuthn, is a file); form
    // posts may redirect to relying parties, so no form-action (browsers apply it to the
    // redirect chain).
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
        set(headers, header::PRAGMA, "no-cache");
    }
    if hsts {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    /// Answers made by the protective layers themselves carry every security header.
    #[tokio::test]
    async fn a_caught_panic_and_an_oversized_body_still_carry_the_security_headers() {
        async fn boom() -> &'static str {
            panic!("a bug")
        }
        let router = protected(
            Router::new()
                .route("/boom", get(boom))
                .route("/echo", post(|body: axum::body::Bytes| async move { body })),
            true,
            BODY_LIMIT,
        );
        let panicked = Request::builder()
            .uri("/boom")
            .body(axum::body::Body::empty())
            .unwrap();
        let oversized = Request::builder()
            .method("POST")
            .uri("/echo")
            .header(header::CONTENT_LENGTH, BODY_LIMIT + 1)
            .body(axum::body::Body::from(vec![b'a'; BODY_LIMIT + 1]))
            .unwrap();
        for (request, status) in [
            (panicked, axum::http::StatusCode::INTERNAL_SERVER_ERROR),
            (oversized, axum::http::StatusCode::PAYLOAD_TOO_LARGE),
        ] {
            let response = router.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), status);
            let headers = response.headers();
            assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{status}");
            assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
            assert!(headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
        }
    }
}
