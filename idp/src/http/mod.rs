//! HTTP: the only module that knows axum. Two routers (public and admin planes), shared
//! middleware (security headers, metrics, body limits, panics caught), and one file per
//! endpoint; handlers extract, call one domain function, and map the result.

pub mod admin;
mod authorize;
pub mod demo;
mod discovery;
mod extract;
mod health;
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

use crate::state::AppState;

/// Request bodies larger than this are refused with 413.
const BODY_LIMIT: usize = 64 * 1024;

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
        .route("/revoke", post(revocation::post_revoke))
        .layer(cors);
    let mut router = Router::new()
        .merge(api)
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
        .route("/account", get(portal::get_account))
        .route("/account/action", post(portal::post_account_action))
        .route("/account/passkeys", post(portal::post_account_passkey))
        .route(
            "/account/certificate",
            post(portal::post_account_certificate),
        )
        .route("/account/link/{provider}", post(portal::post_account_link))
        .route("/consent", post(authorize::post_consent))
        .route("/logout", get(logout::get_logout).post(logout::post_logout))
        .route("/static/anyid.css", get(pages::get_stylesheet))
        .route("/static/passkey.js", get(pages::get_passkey_script))
        .route("/login/passkey", post(authorize::post_login_passkey))
        .route(
            "/login/certificate",
            post(authorize::post_login_certificate),
        )
        .route(
            "/login/certificate/return",
            get(authorize::get_login_certificate_return),
        )
        .route("/healthz", get(health::get_healthz))
        .route("/readyz", get(health::get_readyz))
        .route("/", get(pages::get_home));
    if state.demo.is_some() {
        router = router.merge(demo::router());
    }
    with_common_layers(router.fallback(pages::not_found), state)
}

/// The mutual-TLS listener: certificate login only.
pub fn mtls_router(state: AppState) -> Router {
    let router = Router::new()
        .route("/login/certificate", get(mtls::get_login_certificate))
        .route("/healthz", get(health::get_healthz));
    with_common_layers(router.fallback(pages::not_found), state)
}

/// The admin plane: client management API and metrics, on its own listener.
pub fn admin_router(state: AppState) -> Router {
    let router = Router::new()
        .nest("/admin/v1", admin::router())
        .route("/metrics", get(health::get_metrics))
        .route("/healthz", get(health::get_healthz))
        .route("/readyz", get(health::get_readyz));
    with_common_layers(router, state)
}

fn with_common_layers(router: Router<AppState>, state: AppState) -> Router {
    router
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(respond::panic_response))
        .with_state(state)
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

/// Strict CSP, anti-framing and no caching unless a handler chose otherwise.
async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
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
    if state.secure_cookies() {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    response
}
