//! The admin plane: the JSON API (clients, policies, the decision log) and a small page of
//! recent decisions. Every handler takes the [`Admin`] capability the clients module
//! requires, made only from a valid admin token that policy then allows (`admin`, DESIGN
//! §6). Errors are RFC 9457 problem details.
//!
//! **The admin token as a login.** The token is a 256-bit secret only operators hold, shown
//! with every request; policy sees it as an operator's fresh login at `high`, from the
//! request's address and network zone. *Attacker's best move:* steal the token (from a
//! config file or a shell history) and administer from anywhere. Zero trust answers with the
//! zone: every admin request is decided with its source address, so a deployment confines
//! administration to its admin network with one `forbid` (see the README), and every admin
//! decision lands in the decision log.

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use anyid_policy::facts::{Context as PolicyContext, Principal, Resource};
use anyid_policy::{Action, Decision, Loa, Request as PolicyRequest};

use super::extract::{ClientAddress, basic_credentials, bearer};
use super::respond::problem;
use crate::admins::{self, Caller, Presented, Role};
use crate::audit::event::{AccessRecord, Kind};
use crate::clients::{self, Admin, ClientError, NewClient};
use crate::decisions::DecisionQuery;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::DecisionStore;
use axum::middleware::Next;

/// The admin capability of a call the [`gate`] let through (it put the caller in the
/// request's extensions).
pub struct AdminToken(Admin);

impl FromRequestParts<AppState> for AdminToken {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .map(|caller| AdminToken(Admin::authenticated(caller)))
            .ok_or_else(|| problem(ApiError::Unauthorized))
    }
}

/// The admin page's capability: the same, for the page's handler.
pub struct AdminPage;

impl FromRequestParts<AppState> for AdminPage {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        AdminToken::from_request_parts(parts, state)
            .await
            .map(|_| AdminPage)
    }
}

/// Every admin call and console action goes through here: the caller is authenticated
/// (`admins`), policy decides with their address, an auditor may only read, and the call —
/// permitted or refused, whenever it presents a credential — is appended to the access
/// record before anything else happens. A call that cannot be recorded is refused.
pub async fn gate(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    mut request: axum::extract::Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let basic = basic_credentials(headers);
    let presented = Presented {
        user: basic.as_ref().map(|(user, _)| user.as_str()),
        secret: bearer(headers).or(basic.as_ref().map(|(_, password)| password.as_str())),
    };
    let action = format!("{} {}", request.method(), request.uri().path());
    let caller =
        admins::authenticate(&state.store, state.config.admin_token.as_ref(), presented).await;
    let (caller, refusal) = match caller {
        Err(e) => return problem(ApiError::from(e)),
        // No credential at all (a browser before its Basic prompt, a scanner): answered, not
        // recorded, so the unauthenticated cannot fill the record.
        Ok(None) if presented.secret.is_none() => return ask_for_credentials(),
        Ok(None) => (None, Some(ApiError::Unauthorized)),
        Ok(Some(caller)) => {
            let refusal = permit_admin(&state, source, &caller.name)
                .err()
                .or_else(|| {
                    (caller.role == Role::Auditor && request.method() != axum::http::Method::GET)
                        .then(|| ApiError::Forbidden("an auditor may only read".into()))
                });
            (Some(caller), refusal)
        }
    };
    let record = AccessRecord {
        actor_id: caller
            .as_ref()
            .map(|c| c.name.clone())
            .or_else(|| presented.claimed()),
        actor_role: caller.as_ref().map(|c| c.role.name().to_owned()),
        source_ip: Some(source),
        ..AccessRecord::own(
            Kind::Admin,
            &action,
            if refusal.is_none() {
                "success"
            } else {
                "denied"
            },
            state.provider().now_ms(),
        )
    };
    if let Err(e) = state.provider().record(vec![record]).await {
        tracing::error!(cause = %e.description, "an admin call was not recorded; refusing it");
        return problem(ApiError::Internal("the call could not be recorded".into()));
    }
    match (caller, refusal) {
        (Some(caller), None) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        (_, Some(ApiError::Unauthorized)) | (None, None) => ask_for_credentials(),
        (_, Some(refusal)) => problem(refusal),
    }
}

/// 401, asking browsers for the admin credentials (HTTP Basic, RFC 7617) on the page.
fn ask_for_credentials() -> Response {
    let mut refused = problem(ApiError::Unauthorized);
    refused.headers_mut().insert(
        axum::http::header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static(
            "Basic realm=\"Any-ID administration\", charset=\"UTF-8\"",
        ),
    );
    refused
}

/// Whether policy lets the administrator `name` administer from `source`.
fn permit_admin(state: &AppState, source: std::net::IpAddr, name: &str) -> Result<(), ApiError> {
    let request = PolicyRequest {
        principal: Principal::Operator { id: name.into() },
        action: Action::Admin,
        resource: Resource::Console,
        context: PolicyContext {
            ip: Some(source),
            acr: Some(Loa::High),
            amr: vec!["pop".into()],
            auth_age_s: Some(0),
            ..PolicyContext::default()
        },
    };
    match state.provider().decide(&request) {
        Decision::Allow => Ok(()),
        Decision::StepUp(level) => Err(ApiError::Forbidden(format!(
            "administration needs a login at level {}",
            level.name()
        ))),
        Decision::Deny(_) => Err(ApiError::Forbidden(
            "the provider's policy does not allow this administration".into(),
        )),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/clients", get(list_clients).post(post_client))
        .route("/clients/{id}", get(get_client).delete(delete_client))
        .route("/clients/{id}/secret", post(post_client_secret))
        .route("/policies", get(list_policies))
        .route("/policies/reload", post(post_policies_reload))
        .route("/decisions", get(list_decisions))
        .route("/risk", get(get_risk))
        .route("/risk/alerts", post(post_alert))
        .route("/audit/proof/inclusion", get(get_inclusion_proof))
        .route("/audit/proof/consistency", get(get_consistency_proof))
}

/// The numbers `first` (required) and `second` (default: the access record's size) of a
/// proof query.
async fn proof_range(
    state: &AppState,
    query: Option<&str>,
    first: &str,
    second: &str,
) -> Result<(u64, u64), ApiError> {
    use crate::store::AuditStore;
    let params: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
    let number = |name: &str| {
        params
            .get(name)
            .map(|text| {
                text.parse::<u64>()
                    .map_err(|_| ApiError::BadRequest(format!("{name} must be a whole number")))
            })
            .transpose()
    };
    let a = number(first)?.ok_or_else(|| ApiError::BadRequest(format!("give {first}")))?;
    let b = match number(second)? {
        Some(b) => b,
        None => state.store.audit_frontier().await?.size(),
    };
    Ok((a, b))
}

fn proof_answer<T: serde::Serialize>(
    proof: Result<T, crate::audit::proofs::ProofError>,
) -> Response {
    use crate::audit::proofs::ProofError;
    match proof {
        Ok(proof) => Json(proof).into_response(),
        Err(e @ (ProofError::Tree(_) | ProofError::Pruned { .. })) => {
            problem(ApiError::BadRequest(e.to_string()))
        }
        Err(ProofError::Store(e)) => problem(e.into()),
    }
}

/// `?seq=N&size=M`: the inclusion proof of event N in the access record's tree of M events
/// (RFC 9162 §2.1.3; M defaults to the record's size).
async fn get_inclusion_proof(
    AdminToken(_): AdminToken,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Response {
    match proof_range(&state, query.as_deref(), "seq", "size").await {
        Ok((seq, size)) => {
            proof_answer(crate::audit::proofs::inclusion(&state.store, seq, size).await)
        }
        Err(e) => problem(e),
    }
}

/// `?old=M&new=N`: the consistency proof between the record's trees of M and N events
/// (RFC 9162 §2.1.4; N defaults to the record's size).
async fn get_consistency_proof(
    AdminToken(_): AdminToken,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Response {
    match proof_range(&state, query.as_deref(), "old", "new").await {
        Ok((old, new)) => {
            proof_answer(crate::audit::proofs::consistency(&state.store, old, new).await)
        }
        Err(e) => problem(e),
    }
}

/// Raise an alert against an actor (`citizen:<account id>` or `official:<id>@<agency>`):
/// their next decisions see the higher risk (a citizen's sessions at once).
async fn post_alert(
    AdminToken(_): AdminToken,
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Response {
    use crate::risk::AlertSink;
    let alert: crate::risk::Alert = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return problem(ApiError::BadRequest(format!("invalid alert JSON: {e}"))),
    };
    if let Err(why) = alert.check() {
        return problem(ApiError::BadRequest(why.into()));
    }
    match state.store.raise(&alert, state.now()).await {
        Ok(()) => (StatusCode::CREATED, Json(alert)).into_response(),
        Err(e) => problem(e.into()),
    }
}

/// `?citizen=<account id>`: the live sessions' risk (score now, signals) and the alerts;
/// `?actor=official:<id>@<agency>`: an official's risk and alerts.
async fn get_risk(
    AdminToken(_): AdminToken,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Response {
    let params: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let actor = match (params.get("citizen"), params.get("actor")) {
        (Some(citizen), None) => format!("citizen:{citizen}"),
        (None, Some(actor)) => actor.clone(),
        _ => return problem(ApiError::BadRequest("give citizen or actor".into())),
    };
    match crate::risk::report(&state.store, &actor, state.now()).await {
        Ok(report) => Json(report).into_response(),
        Err(e) => problem(e.into()),
    }
}

/// The decision log, newest first, filtered by `action`, `decision`, `principal` (or
/// `citizen`, an account id), `since` and `before` (Unix seconds), at most `limit` (100;
/// 1000 at most).
async fn list_decisions(
    AdminToken(_): AdminToken,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Response {
    let mut query: DecisionQuery = match serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
    {
        Ok(q) => q,
        Err(e) => return problem(ApiError::BadRequest(format!("invalid query: {e}"))),
    };
    if let Some(citizen) = query.citizen.take() {
        let pseudonym = crate::decisions::pseudonym(&state.config.purpose_keys, &citizen);
        query.principal = Some(format!("citizen:{pseudonym}"));
    }
    match state.store.decisions(&query).await {
        Ok(list) => Json(serde_json::json!({ "decisions": list })).into_response(),
        Err(e) => problem(e.into()),
    }
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

#[derive(askama::Template)]
#[template(path = "admin_decisions.html")]
struct DecisionsPage<'a> {
    lang: &'a str,
    other_lang: &'a str,
    switch_url: &'a str,
    t: &'a crate::i18n::Text,
    /// (action, chosen in the filter)
    actions: Vec<(&'static str, bool)>,
    /// (decision, label, chosen in the filter)
    kinds: Vec<(&'static str, &'static str, bool)>,
    /// (decision, label, how many) among the rows shown.
    counts: Vec<(&'static str, &'static str, usize)>,
    total: usize,
    /// When, action, decision, who, on what, zone, policies.
    rows: Vec<(String, String, String, String, String, String, String)>,
    /// The time zone times are shown in.
    zone: String,
}

/// `GET /admin/decisions`: the latest decisions as a page, with the share of each kind.
pub async fn get_decisions_page(
    _: AdminPage,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let raw = query.as_deref().unwrap_or("");
    let switch = super::pages::lang_param(query.as_deref());
    let prefs = super::pages::Prefs::from_request(&headers, switch.as_deref(), None);
    let f = super::pages::Frame::new(&prefs, None);
    let mut query: DecisionQuery = serde_urlencoded::from_str(raw).unwrap_or_default();
    query.action = query.action.filter(|a| !a.is_empty());
    query.decision = query.decision.filter(|d| !d.is_empty());
    query.limit = Some(200);
    let list = match state.store.decisions(&query).await {
        Ok(list) => list,
        Err(e) => return problem(e.into()),
    };
    let kinds = [
        ("allow", f.t.admin_allow),
        ("deny", f.t.admin_deny),
        ("step_up", f.t.admin_step_up),
    ];
    let counts = kinds
        .iter()
        .map(|(k, label)| (*k, *label, list.iter().filter(|r| r.decision == *k).count()))
        .collect();
    let label = |k: &str| {
        kinds
            .iter()
            .find(|(d, _)| *d == k)
            .map_or(k, |(_, l)| *l)
            .to_owned()
    };
    super::pages::render(&DecisionsPage {
        lang: f.lang,
        other_lang: f.other_lang,
        switch_url: &f.switch_url,
        t: f.t,
        actions: [
            "login",
            "issue_token",
            "release_claims",
            "introspect",
            "revoke",
            "manage_account",
            "access_personal_data",
            "admin",
        ]
        .into_iter()
        .map(|a| (a, query.action.as_deref() == Some(a)))
        .collect(),
        total: list.len().max(1),
        rows: list
            .iter()
            .map(|r| {
                let decision = match &r.detail {
                    Some(d) => format!("{} ({d})", label(&r.decision)),
                    None => label(&r.decision),
                };
                (
                    state.local_times().format(r.at),
                    r.action.clone(),
                    decision,
                    r.principal.clone(),
                    r.resource.clone(),
                    r.zone.clone(),
                    r.policies.join(", "),
                )
            })
            .collect(),
        counts,
        zone: state.local_times().zone(),
        kinds: kinds
            .iter()
            .map(|(k, label)| (*k, *label, query.decision.as_deref() == Some(*k)))
            .collect(),
    })
}
