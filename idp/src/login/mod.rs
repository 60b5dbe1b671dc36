//! Login orchestration: from a validated authorization request through the method chooser,
//! a login method, account resolution and consent, to the authorization code. Every step
//! reads and moves the persisted flow (see `oidc::flow`); nothing here knows HTTP.
//!
//! The citizen portal signs in through the same flow with a built-in target
//! ([`PORTAL_CLIENT`]) that ends at `/account` instead of issuing a code.

pub mod account;
pub mod attempts;
pub mod certificate;
pub mod chooser;
pub mod consent;
pub mod history;
pub mod kept;
pub mod passkey;
pub mod portal;
pub mod profile;
pub mod rights;
pub mod upstream;

pub use chooser::{LoginView, MethodChoice};
use chooser::{login_page, reachable};

use anyid_adapters::VerifiedIdentity;
use anyid_adapters::certificate::CertificateLogin;
use anyid_adapters::passkey::Passkeys;
use anyid_adapters::upstream::Upstream;
use anyid_policy::facts::{ClientFacts, Context as PolicyContext};
use anyid_policy::{Action, Decision, Loa, Principal, Reason, Request as PolicyRequest, Resource};

use self::account::{LinkOutcome, Resolution};

use crate::audit::event::{AccessRecord, Kind};
use crate::error::{ErrorCode, OAuthError};
use crate::i18n::Notice;
use crate::oidc::authorize::{self, AuthorizationRequest, Prompt, Rejection, append_query};
use crate::oidc::flow::{self, Flow, FlowState};
use crate::oidc::grants::authorization_code;
use crate::oidc::params::Params;
use crate::oidc::{Provider, session};

use crate::store::{AccountStore, ClientStore, LoginEvent, RiskStore, SsoSession};

/// What login orchestration works with: the protocol domain, the login methods configured
/// (upstream providers, passkeys, certificates, the dev method) and the key that protects
/// state carried in pages. The application state lends one per request (`Core::broker`).
#[derive(Clone, Copy)]
pub struct Broker<'a> {
    pub op: Provider<'a>,
    /// Upstream identity providers, in the order of the configuration.
    pub upstreams: &'a [Upstream],
    pub passkeys: Option<&'a Passkeys>,
    pub certificates: Option<&'a CertificateLogin>,
    /// Whether the dev method (demo citizens) is on.
    pub dev_login: bool,
    /// The mutual-TLS listener's public URL, when it runs.
    pub mtls_url: Option<&'a str>,
    /// The key-encryption key, from which the keys of carried state are derived.
    pub key_encryption_key: &'a [u8],
    /// This server's origin (scheme, host, port), as certificate challenges name it.
    pub origin: &'a str,
    /// The GeoIP database of the travel risk signal, when configured.
    pub geoip: Option<&'a crate::risk::GeoIp>,
}

impl Broker<'_> {
    /// An enabled upstream provider by id.
    pub fn upstream(&self, id: &str) -> Option<&Upstream> {
        self.upstreams
            .iter()
            .find(|u| u.id() == id && u.config().enabled)
    }
}

/// The flow target of the citizen's own account portal.
pub const PORTAL_CLIENT: &str = "anyid-account";

/// What the browser should see next.
#[derive(Debug)]
pub enum Step {
    /// Go back to the relying party's registered redirect URI (a code or an error), or to a
    /// page of Any-ID itself.
    Redirect(String),
    LoginPage(LoginView),
    ConsentPage(consent::ConsentView),
    /// Explain; never redirect to an unverified address. With a flow, offer a way back.
    ErrorPage {
        notice: Notice,
        ways: Option<WaysBack>,
    },
    /// Too many attempts (a method, a credential): wait this long, or choose another way.
    Throttled {
        wait: std::time::Duration,
        ways: Option<WaysBack>,
    },
}

/// Where a person can go from an error inside a login flow.
#[derive(Debug, Clone)]
pub struct WaysBack {
    /// Back to the method chooser of the same flow.
    pub retry: String,
    /// Back to the relying party (its registered redirect URI, with `access_denied`).
    pub service: String,
}

fn error(notice: Notice) -> Step {
    Step::ErrorPage { notice, ways: None }
}

/// `GET /authorize`: validate, then continue an existing session or start a login flow.
pub async fn authorize(
    ctx: &Broker<'_>,
    params: &Params,
    session_token: Option<&str>,
    browser_token: &str,
) -> Result<Step, OAuthError> {
    let client = match params.get("client_id") {
        Some(id) => ctx.op.store.client(id).await?,
        None => None,
    };
    let request = match authorize::validate(params, client.as_ref()) {
        Ok(request) => request,
        Err(Rejection::Page { notice }) => return Ok(error(notice)),
        Err(Rejection::Redirect(e)) => return Ok(Step::Redirect(e.location(ctx.op.issuer))),
    };
    let now = ctx.op.now();
    let current = session::current(&ctx.op, session_token).await?;
    let facts = relying_party(ctx, &request).await?;
    let (session, step_up) =
        match decide(ctx, &request, &facts, current.as_ref(), Action::Authorize) {
            Decision::Allow => (
                current.filter(|s| session::satisfies(s, &request, now)),
                None,
            ),
            Decision::StepUp(_) => (None, current),
            Decision::Deny(reason) => return Ok(refused(ctx, &request, reason)),
        };

    // OIDC Core §3.1.2.1: prompt=none never shows a page.
    if request.prompt.none {
        let Some(session) = session else {
            return Ok(redirect_error(
                ctx,
                &request,
                ErrorCode::LoginRequired,
                "the citizen is not logged in",
            ));
        };
        if !consent::covers(ctx, &session.citizen_id, &request).await? {
            return Ok(redirect_error(
                ctx,
                &request,
                ErrorCode::ConsentRequired,
                "consent is required",
            ));
        }
        return authorization_code::issue(&ctx.op, &request, &session)
            .await
            .map(Step::Redirect);
    }
    start_flow(ctx, &request, session, step_up.as_ref(), browser_token).await
}

/// What policy says about going on for `request` with `authenticated` (a session, or the
/// level a login just proved).
fn decide(
    ctx: &Broker<'_>,
    request: &AuthorizationRequest,
    client: &ClientFacts,
    authenticated: Option<&SsoSession>,
    action: Action,
) -> Decision {
    let proved = authenticated.map(|s| {
        (
            s.citizen_id.as_str(),
            Loa::from_acr(&s.acr).unwrap_or_default(),
        )
    });
    decide_level(ctx, request, client, proved, action)
}

/// What policy knows about the relying party of `request` (the portal is none).
async fn relying_party(
    ctx: &Broker<'_>,
    request: &AuthorizationRequest,
) -> Result<ClientFacts, OAuthError> {
    if request.client_id != PORTAL_CLIENT
        && let Some(client) = ctx
            .op
            .clients
            .get(ctx.op.store, &request.client_id, ctx.op.now())
            .await?
    {
        return Ok(ctx.op.client_facts(&client));
    }
    Ok(ClientFacts {
        id: request.client_id.clone(),
        ..ClientFacts::default()
    })
}

/// The level a login for `request` must reach: what the relying party requires, raised
/// by policy (a sensitive relying party, say); or why policy refuses the login outright.
fn level_needed(
    ctx: &Broker<'_>,
    request: &AuthorizationRequest,
    client: &ClientFacts,
) -> Result<Loa, Reason> {
    match decide_level(ctx, request, client, None, Action::Authorize) {
        Decision::StepUp(level) => Ok(level.max(request.required_loa())),
        Decision::Allow => Ok(request.required_loa()),
        Decision::Deny(reason) => Err(reason),
    }
}

/// The same, for `proved`: the citizen and the level of a session or a login just made.
fn decide_level(
    ctx: &Broker<'_>,
    request: &AuthorizationRequest,
    client: &ClientFacts,
    proved: Option<(&str, Loa)>,
    action: Action,
) -> Decision {
    let facts = PolicyRequest {
        principal: match proved {
            Some((citizen, _)) => Principal::Citizen {
                id: citizen.to_owned(),
            },
            None => Principal::Visitor,
        },
        action,
        resource: Resource::Client(client.clone()),
        context: PolicyContext {
            acr: proved.map(|(_, level)| level),
            // The relying party's minimum is already folded into the required level.
            requested: vec![request.required_loa()],
            reachable: reachable(ctx),
            ..PolicyContext::default()
        },
    };
    ctx.op.decide(&facts)
}

/// Whether `current` is a live session below the level `request` requires: the login that
/// follows is a step-up of the same citizen.
fn stepping_up(
    ctx: &Broker<'_>,
    request: &AuthorizationRequest,
    client: &ClientFacts,
    current: &SsoSession,
) -> bool {
    matches!(
        decide(ctx, request, client, Some(current), Action::Authorize),
        Decision::StepUp(_)
    )
}

/// The answer to an authorization request policy refuses.
fn refused(ctx: &Broker<'_>, request: &AuthorizationRequest, reason: Reason) -> Step {
    match reason {
        // No enabled method reaches the required assurance (EAP ACR Values §5).
        Reason::UnmetAssurance => redirect_error(
            ctx,
            request,
            ErrorCode::UnmetAuthenticationRequirements,
            "no enabled login method reaches the requested assurance",
        ),
        _ => redirect_error(
            ctx,
            request,
            ErrorCode::AccessDenied,
            "the provider's policy does not allow this login",
        ),
    }
}

async fn start_flow(
    ctx: &Broker<'_>,
    request: &AuthorizationRequest,
    session: Option<SsoSession>,
    step_up: Option<&SsoSession>,
    browser_token: &str,
) -> Result<Step, OAuthError> {
    let flow = flow::create(&ctx.op, request, browser_token).await?;
    match session {
        Some(session) => {
            match flow::advance(&ctx.op, &flow, FlowState::Authenticated, Some(&session.id)).await?
            {
                Some(flow) => after_authentication(ctx, &flow, &session).await,
                None => Ok(error(Notice::Stale)),
            }
        }
        None => login_page(ctx, &flow, step_up).await,
    }
}

/// `GET /account` without a session: sign in to the portal through a login flow.
pub async fn portal_sign_in(
    ctx: &Broker<'_>,
    browser_token: &str,
    ui_locales: Option<String>,
) -> Result<Step, OAuthError> {
    start_flow(
        ctx,
        &portal_request(ctx, ui_locales),
        None,
        None,
        browser_token,
    )
    .await
}

/// `GET /login?flow=…`: show whatever the flow needs now.
pub async fn resume(
    ctx: &Broker<'_>,
    flow_id: &str,
    browser_token: Option<&str>,
    session_token: Option<&str>,
) -> Result<Step, OAuthError> {
    let Some(flow) = flow::load(&ctx.op, flow_id).await? else {
        return Ok(error(Notice::Stale));
    };
    if !flow.started_by(browser_token) {
        return Ok(error(Notice::WrongBrowser));
    }
    match flow.state {
        FlowState::Requested => {
            let current = session::current(&ctx.op, session_token).await?;
            let facts = relying_party(ctx, &flow.request).await?;
            let step_up = current.filter(|s| stepping_up(ctx, &flow.request, &facts, s));
            login_page(ctx, &flow, step_up.as_ref()).await
        }
        FlowState::Authenticated => match flow_session(ctx, &flow, session_token).await? {
            Some(session) => after_authentication(ctx, &flow, &session).await,
            None => login_page(ctx, &flow, None).await,
        },
        FlowState::Completed => Ok(error(Notice::Stale)),
    }
}

/// A live flow of this browser, checked against the form's CSRF token.
pub async fn flow_for_form(
    ctx: &Broker<'_>,
    flow_id: &str,
    csrf: &str,
    browser_token: Option<&str>,
) -> Result<Result<Flow, Step>, OAuthError> {
    let Some(flow) = flow::load(&ctx.op, flow_id).await? else {
        return Ok(Err(error(Notice::Stale)));
    };
    if !flow.started_by(browser_token) || !flow.csrf_ok(csrf) {
        return Ok(Err(error(Notice::WrongBrowser)));
    }
    if flow.state == FlowState::Completed {
        return Ok(Err(error(Notice::Stale)));
    }
    Ok(Ok(flow))
}

impl Broker<'_> {
    /// A login method's name in `language`.
    pub fn method_name(&self, method: &str, language: crate::i18n::Lang) -> String {
        let korean = language == crate::i18n::Lang::Ko;
        let t = language.text();
        match self.upstreams.iter().find(|u| u.id() == method) {
            Some(u) => u.display_name(if korean { "ko" } else { "en" }).to_owned(),
            None => match method {
                anyid_adapters::dev::METHOD if korean => "데모 시민",
                anyid_adapters::dev::METHOD => "Demo citizen",
                anyid_adapters::passkey::METHOD => t.passkey_heading,
                anyid_adapters::certificate::METHOD => t.cert_heading,
                other => other,
            }
            .to_owned(),
        }
    }
}

/// Who is at the other end of a login request: the browser-binding and session cookies it
/// presented, and its address (for the citizen's login history).
#[derive(Clone, Default)]
pub struct Visitor<'a> {
    pub browser: Option<&'a str>,
    pub session: Option<&'a str>,
    pub address: Option<String>,
    /// The device cookie's value (`crate::risk`); a new one when the browser had none.
    pub device: Option<String>,
}

crate::redact::debug_without_secrets!(Visitor<'a> { address });

/// The dev method's form: a demo citizen was picked.
pub async fn complete_dev_login(
    ctx: &Broker<'_>,
    flow_id: &str,
    csrf: &str,
    visitor: &Visitor<'_>,
    identity: VerifiedIdentity,
) -> Result<(Step, Option<String>), OAuthError> {
    match flow_for_form(ctx, flow_id, csrf, visitor.browser).await? {
        Ok(flow) => finish_login(ctx, &flow, identity, visitor, 0).await,
        Err(step) => Ok((step, None)),
    }
}

/// A login method verified `identity` for `flow` (after `recent_failures` failed attempts
/// at the same credential): resolve the account, start a session, continue the flow.
/// Returns the next step and the new session's cookie token.
///
/// During a step-up (a live session below the level the flow requires) the identity must
/// already prove that level for the signed-in citizen, or prove the same person by a
/// matching strong identifier (then it is linked): a relying party never sees the `sub`
/// change under a step-up, and never gets a level for a `sub` that the method's binding did
/// not reach (DESIGN §4). A credential that is not bound to the account is refused with a
/// page saying so, and nothing is linked: linking it from the weaker session would bind it
/// only at that session's level, which cannot satisfy the step-up either.
pub async fn finish_login(
    ctx: &Broker<'_>,
    flow: &Flow,
    identity: VerifiedIdentity,
    visitor: &Visitor<'_>,
    recent_failures: u32,
) -> Result<(Step, Option<String>), OAuthError> {
    let facts = relying_party(ctx, &flow.request).await?;
    // Refused before anything is linked or a session exists.
    let required = match level_needed(ctx, &flow.request, &facts) {
        Ok(level) => level,
        Err(reason) => return Ok((refused(ctx, &flow.request, reason), None)),
    };
    // Only methods reaching the required assurance are offered; anything else is refused
    // before an account or a session exists.
    if identity.loa < required {
        return Ok((flow_error(ctx, flow, Notice::InsufficientAssurance), None));
    }
    let (citizen_id, loa) = match step_up_session(ctx, flow, visitor.session).await? {
        Some(current) => {
            let session = Loa::from_acr(&current.acr).unwrap_or_default();
            match account::link(ctx, &current.citizen_id, &identity, session, required).await? {
                LinkOutcome::Linked(loa) | LinkOutcome::AlreadyYours(loa) => {
                    (current.citizen_id, loa)
                }
                refused => {
                    let notice = refused.refusal().unwrap_or(Notice::StepUpNotBound);
                    return Ok((flow_error(ctx, flow, notice), None));
                }
            }
        }
        None => match account::resolve(ctx, &identity).await? {
            Resolution::Citizen { id, loa } => (id, loa),
            Resolution::Refused(notice) => return Ok((flow_error(ctx, flow, notice), None)),
        },
    };
    // The method reaches the level, but its binding to this account does not.
    if loa < required {
        return Ok((flow_error(ctx, flow, Notice::BoundBelowLevel), None));
    }
    let login = Authenticated {
        citizen_id,
        loa,
        amr: identity.amr,
        method: identity.method,
        address: visitor.address.clone(),
        device: visitor.device.clone(),
        recent_failures,
    };
    authenticated(ctx, flow, login).await
}

/// The signed-in session `flow` steps up from, if it is one.
pub async fn step_up_session(
    ctx: &Broker<'_>,
    flow: &Flow,
    session_token: Option<&str>,
) -> Result<Option<SsoSession>, OAuthError> {
    let facts = relying_party(ctx, &flow.request).await?;
    Ok(session::current(&ctx.op, session_token)
        .await?
        .filter(|s| stepping_up(ctx, &flow.request, &facts, s)))
}

/// Who a login method proved, at which level and how.
pub struct Authenticated {
    pub citizen_id: String,
    pub loa: Loa,
    pub amr: Vec<String>,
    pub method: String,
    pub address: Option<String>,
    pub device: Option<String>,
    /// Failed attempts at the credential shortly before (a risk signal).
    pub recent_failures: u32,
}

/// Start the session of a completed login, record it in the citizen's history, and move
/// the flow on.
pub async fn authenticated(
    ctx: &Broker<'_>,
    flow: &Flow,
    login: Authenticated,
) -> Result<(Step, Option<String>), OAuthError> {
    let facts = relying_party(ctx, &flow.request).await?;
    let proved = Some((login.citizen_id.as_str(), login.loa));
    if decide_level(ctx, &flow.request, &facts, proved, Action::Login) != Decision::Allow {
        return Ok((flow_error(ctx, flow, Notice::InsufficientAssurance), None));
    }
    let (session, token) =
        session::start(&ctx.op, &login.citizen_id, login.loa.acr(), login.amr).await?;
    // Measured against the history before this login is added to it.
    let signals = crate::risk::assess_login(
        ctx.op.store,
        ctx.op.secrets,
        ctx.geoip,
        &login.citizen_id,
        login.address.as_deref(),
        login.device.as_deref(),
        session.auth_time,
    )
    .await?;
    let signals = anyid_policy::risk::Signals {
        recent_failures: login.recent_failures,
        ..signals
    };
    let names: Vec<String> = signals.names().into_iter().map(str::to_owned).collect();
    ctx.op
        .store
        .set_session_risk(&session.id, signals.score(), session.auth_time, &names)
        .await?;
    let client_id =
        (flow.request.client_id != PORTAL_CLIENT).then(|| flow.request.client_id.clone());
    // In the access record too: the citizen signed in, how, at which level, from where. The
    // record names them by the logs' pseudonym: it outlives a deleted account (a legal
    // record), and then nothing links the pseudonym to anyone.
    let pseudonym = crate::decisions::pseudonym(ctx.op.secrets, &login.citizen_id);
    ctx.op
        .record(vec![AccessRecord {
            actor_id: Some(pseudonym.clone()),
            subject_id: Some(pseudonym),
            source_ip: login.address.as_deref().and_then(|a| a.parse().ok()),
            client_id: client_id.clone(),
            method: Some(login.method.clone()),
            level: Some(login.loa.name().to_owned()),
            ..AccessRecord::own(Kind::Login, "login", "success", ctx.op.now_ms())
        }])
        .await?;
    ctx.op
        .store
        .record_login(&LoginEvent {
            id: uuid::Uuid::now_v7().to_string(),
            citizen_id: login.citizen_id,
            at: session.auth_time,
            method: login.method,
            acr: session.acr.clone(),
            client_id,
            address: login.address,
        })
        .await?;
    let step =
        match flow::advance(&ctx.op, flow, FlowState::Authenticated, Some(&session.id)).await? {
            Some(flow) => after_authentication(ctx, &flow, &session).await?,
            None => error(Notice::Stale),
        };
    Ok((step, Some(token)))
}

/// The login request of the portal (Any-ID's own account page, not a relying party).
fn portal_request(ctx: &Broker<'_>, ui_locales: Option<String>) -> AuthorizationRequest {
    AuthorizationRequest {
        client_id: PORTAL_CLIENT.into(),
        redirect_uri: ctx.op.endpoint("/account"),
        scopes: vec!["openid".into()],
        state: None,
        nonce: None,
        code_challenge: String::new(),
        prompt: Prompt::default(),
        max_age: None,
        acr_values: Vec::new(),
        required_acr: None,
        login_hint: None,
        ui_locales,
    }
}

/// Sign in again to the portal, to exercise a right that needs a fresh sign-in
/// (`rights::NeedsSignIn`): at any level after a suspension, at high before a deletion.
pub async fn portal_confirm(
    ctx: &Broker<'_>,
    browser_token: &str,
    current: &SsoSession,
    need: Loa,
    ui_locales: Option<String>,
) -> Result<Step, OAuthError> {
    let request = AuthorizationRequest {
        // OIDC Core §3.1.2.1: a new sign-in even with a live session.
        prompt: Prompt {
            login: true,
            ..Prompt::default()
        },
        max_age: Some(0),
        required_acr: Some(need.acr().to_owned()),
        ..portal_request(ctx, ui_locales)
    };
    let step_up = (Loa::from_acr(&current.acr).unwrap_or_default() < need).then_some(current);
    start_flow(ctx, &request, None, step_up, browser_token).await
}

/// The consent form was submitted.
pub async fn decide_consent(
    ctx: &Broker<'_>,
    flow_id: &str,
    csrf: &str,
    browser_token: Option<&str>,
    session_token: Option<&str>,
    allow: bool,
) -> Result<Step, OAuthError> {
    let flow = match flow_for_form(ctx, flow_id, csrf, browser_token).await? {
        Ok(flow) => flow,
        Err(step) => return Ok(step),
    };
    if flow.state != FlowState::Authenticated {
        return Ok(error(Notice::Stale));
    }
    let Some(session) = flow_session(ctx, &flow, session_token).await? else {
        return login_page(ctx, &flow, None).await;
    };
    if flow::advance(&ctx.op, &flow, FlowState::Completed, None)
        .await?
        .is_none()
    {
        return Ok(error(Notice::Stale));
    }
    if !allow {
        return Ok(redirect_error(
            ctx,
            &flow.request,
            ErrorCode::AccessDenied,
            "the citizen declined",
        ));
    }
    // Suspended while the consent page was open.
    if rights::suspended(ctx, &session.citizen_id).await? {
        return Ok(flow_error(ctx, &flow, Notice::AccountSuspended));
    }
    consent::remember(ctx, &session.citizen_id, &flow.request).await?;
    authorization_code::issue(&ctx.op, &flow.request, &session)
        .await
        .map(Step::Redirect)
}

/// Too many attempts inside a flow: say how long to wait, and offer the ways back.
pub fn throttled(ctx: &Broker<'_>, flow: &Flow, wait: std::time::Duration) -> Step {
    Step::Throttled {
        wait,
        ways: Some(ways_back(ctx, flow)),
    }
}

/// An error inside a flow: explain, and offer to retry or to go back to the service.
pub fn flow_error(ctx: &Broker<'_>, flow: &Flow, notice: Notice) -> Step {
    Step::ErrorPage {
        notice,
        ways: Some(ways_back(ctx, flow)),
    }
}

/// Back to the method chooser of `flow`, or to its service.
fn ways_back(ctx: &Broker<'_>, flow: &Flow) -> WaysBack {
    let retry = append_query(&ctx.op.endpoint("/login"), &[("flow", &flow.id)]);
    let service = if flow.request.client_id == PORTAL_CLIENT {
        ctx.op.endpoint("/account")
    } else {
        flow.request
            .error_redirect(
                ErrorCode::AccessDenied,
                "the citizen did not complete the login",
            )
            .location(ctx.op.issuer)
    };
    WaysBack { retry, service }
}

async fn after_authentication(
    ctx: &Broker<'_>,
    flow: &Flow,
    session: &SsoSession,
) -> Result<Step, OAuthError> {
    if flow.request.client_id == PORTAL_CLIENT {
        if flow::advance(&ctx.op, flow, FlowState::Completed, None)
            .await?
            .is_none()
        {
            return Ok(error(Notice::Stale));
        }
        return Ok(Step::Redirect(flow.request.redirect_uri.clone()));
    }
    // A suspended account signs in to nothing but its own portal (`rights`).
    if rights::suspended(ctx, &session.citizen_id).await? {
        return Ok(flow_error(ctx, flow, Notice::AccountSuspended));
    }
    if !flow.request.prompt.consent
        && consent::covers(ctx, &session.citizen_id, &flow.request).await?
    {
        if flow::advance(&ctx.op, flow, FlowState::Completed, None)
            .await?
            .is_none()
        {
            return Ok(error(Notice::Stale));
        }
        return authorization_code::issue(&ctx.op, &flow.request, session)
            .await
            .map(Step::Redirect);
    }
    let Some(client) = ctx.op.store.client(&flow.request.client_id).await? else {
        // Removed while the citizen was signing in.
        return Ok(error(Notice::UnknownClient));
    };
    Ok(Step::ConsentPage(
        consent::ConsentView::new(ctx, flow, &client).await?,
    ))
}

/// The live session the flow was authenticated with, if this browser still holds it.
async fn flow_session(
    ctx: &Broker<'_>,
    flow: &Flow,
    session_token: Option<&str>,
) -> Result<Option<SsoSession>, OAuthError> {
    Ok(session::current(&ctx.op, session_token)
        .await?
        .filter(|s| flow.session_id.as_deref() == Some(s.id.as_str())))
}

fn redirect_error(
    ctx: &Broker<'_>,
    request: &AuthorizationRequest,
    code: ErrorCode,
    description: &'static str,
) -> Step {
    Step::Redirect(
        request
            .error_redirect(code, description)
            .location(ctx.op.issuer),
    )
}
