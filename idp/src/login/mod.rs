//! Login orchestration: from a validated authorization request through the method chooser,
//! a login method, account resolution and consent, to the authorization code. Every step
//! reads and moves the persisted flow (see `oidc::flow`); nothing here knows HTTP.

pub mod account;
pub mod consent;

use anyid_adapters::VerifiedIdentity;

use crate::crypto;
use crate::error::{ErrorCode, OAuthError};
use crate::oidc::authorize::{self, AuthorizationRequest, Rejection, append_query};
use crate::oidc::flow::{self, Flow, FlowState};
use crate::oidc::params::Params;
use crate::oidc::session;
use crate::state::Core;
use crate::store::{ClientStore, CodeRecord, GrantRecord, GrantStore, SsoSession};

/// What the browser should see next.
#[derive(Debug)]
pub enum Step {
    /// Go back to the relying party's registered redirect URI (a code or an error).
    Redirect(String),
    LoginPage(LoginView),
    ConsentPage(consent::ConsentView),
    /// Explain; never redirect to an unverified address.
    ErrorPage {
        detail: &'static str,
    },
}

#[derive(Debug)]
pub struct LoginView {
    pub flow_id: String,
    pub csrf: String,
    pub client_name: String,
    pub ui_locales: Option<String>,
    /// Whether the dev method (demo citizens) is offered.
    pub dev_login: bool,
}

/// `GET /authorize`: validate, then continue an existing session or start a login flow.
pub async fn authorize(
    core: &Core,
    params: &Params,
    session_token: Option<&str>,
    browser_token: &str,
) -> Result<Step, OAuthError> {
    let client = match params.get("client_id") {
        Some(id) => core.store.client(id).await?,
        None => None,
    };
    let request = match authorize::validate(params, client.as_ref()) {
        Ok(request) => request,
        Err(Rejection::Page { detail }) => return Ok(Step::ErrorPage { detail }),
        Err(Rejection::Redirect(e)) => return Ok(Step::Redirect(e.location(&core.issuer))),
    };
    let now = core.now();
    let session = session::current(core, session_token)
        .await?
        .filter(|s| session::satisfies(s, &request, now));

    // OIDC Core §3.1.2.1: prompt=none never shows a page.
    if request.prompt.none {
        let Some(session) = session else {
            return Ok(redirect_error(
                core,
                &request,
                ErrorCode::LoginRequired,
                "the citizen is not logged in",
            ));
        };
        if !consent::covers(core, &session.citizen_id, &request).await? {
            return Ok(redirect_error(
                core,
                &request,
                ErrorCode::ConsentRequired,
                "consent is required",
            ));
        }
        return issue_code(core, &request, &session)
            .await
            .map(Step::Redirect);
    }

    let flow = flow::create(core, &request, browser_token).await?;
    match session {
        Some(session) => {
            match flow::advance(core, &flow, FlowState::Authenticated, Some(&session.id)).await? {
                Some(flow) => after_authentication(core, &flow, &session).await,
                None => Ok(Step::ErrorPage { detail: STALE }),
            }
        }
        None => login_page(core, &flow).await,
    }
}

const STALE: &str = "This sign-in has expired or was already completed. Please start again from the service you were using.";
const WRONG_BROWSER: &str = "This sign-in was started in another browser or tab that is no longer active. Please start again from the service you were using.";

/// `GET /login?flow=…`: show whatever the flow needs now.
pub async fn resume(
    core: &Core,
    flow_id: &str,
    browser_token: Option<&str>,
    session_token: Option<&str>,
) -> Result<Step, OAuthError> {
    let Some(flow) = flow::load(core, flow_id).await? else {
        return Ok(Step::ErrorPage { detail: STALE });
    };
    if !flow.started_by(browser_token) {
        return Ok(Step::ErrorPage {
            detail: WRONG_BROWSER,
        });
    }
    match flow.state {
        FlowState::Requested => login_page(core, &flow).await,
        FlowState::Authenticated => match flow_session(core, &flow, session_token).await? {
            Some(session) => after_authentication(core, &flow, &session).await,
            None => login_page(core, &flow).await,
        },
        FlowState::Completed => Ok(Step::ErrorPage { detail: STALE }),
    }
}

/// A login method finished: resolve the account, start a session, continue the flow.
/// Returns the next step and the new session's cookie token.
pub async fn complete_login(
    core: &Core,
    flow_id: &str,
    csrf: &str,
    browser_token: Option<&str>,
    identity: VerifiedIdentity,
) -> Result<(Step, Option<String>), OAuthError> {
    let Some(flow) = flow::load(core, flow_id).await? else {
        return Ok((Step::ErrorPage { detail: STALE }, None));
    };
    if !flow.started_by(browser_token) || !flow.csrf_ok(csrf) {
        return Ok((
            Step::ErrorPage {
                detail: WRONG_BROWSER,
            },
            None,
        ));
    }
    let citizen_id = account::resolve(core, &identity).await?;
    let (session, token) =
        session::start(core, &citizen_id, identity.loa.acr(), identity.amr.clone()).await?;
    let step = match flow::advance(core, &flow, FlowState::Authenticated, Some(&session.id)).await?
    {
        Some(flow) => after_authentication(core, &flow, &session).await?,
        None => Step::ErrorPage { detail: STALE },
    };
    Ok((step, Some(token)))
}

/// The consent form was submitted.
pub async fn decide_consent(
    core: &Core,
    flow_id: &str,
    csrf: &str,
    browser_token: Option<&str>,
    session_token: Option<&str>,
    allow: bool,
) -> Result<Step, OAuthError> {
    let Some(flow) = flow::load(core, flow_id).await? else {
        return Ok(Step::ErrorPage { detail: STALE });
    };
    if !flow.started_by(browser_token) || !flow.csrf_ok(csrf) {
        return Ok(Step::ErrorPage {
            detail: WRONG_BROWSER,
        });
    }
    if flow.state != FlowState::Authenticated {
        return Ok(Step::ErrorPage { detail: STALE });
    }
    let Some(session) = flow_session(core, &flow, session_token).await? else {
        return login_page(core, &flow).await;
    };
    if flow::advance(core, &flow, FlowState::Completed, None)
        .await?
        .is_none()
    {
        return Ok(Step::ErrorPage { detail: STALE });
    }
    if !allow {
        return Ok(redirect_error(
            core,
            &flow.request,
            ErrorCode::AccessDenied,
            "the citizen declined",
        ));
    }
    consent::remember(core, &session.citizen_id, &flow.request).await?;
    issue_code(core, &flow.request, &session)
        .await
        .map(Step::Redirect)
}

async fn after_authentication(
    core: &Core,
    flow: &Flow,
    session: &SsoSession,
) -> Result<Step, OAuthError> {
    if !flow.request.prompt.consent
        && consent::covers(core, &session.citizen_id, &flow.request).await?
    {
        if flow::advance(core, flow, FlowState::Completed, None)
            .await?
            .is_none()
        {
            return Ok(Step::ErrorPage { detail: STALE });
        }
        return issue_code(core, &flow.request, session)
            .await
            .map(Step::Redirect);
    }
    let client = core.store.client(&flow.request.client_id).await?;
    Ok(Step::ConsentPage(consent::ConsentView::new(
        flow,
        client.map(|c| c.name).unwrap_or_default(),
    )))
}

async fn login_page(core: &Core, flow: &Flow) -> Result<Step, OAuthError> {
    let client = core.store.client(&flow.request.client_id).await?;
    Ok(Step::LoginPage(LoginView {
        flow_id: flow.id.clone(),
        csrf: flow.csrf.clone(),
        client_name: client.map(|c| c.name).unwrap_or_default(),
        ui_locales: flow.request.ui_locales.clone(),
        dev_login: core.config.dev_login,
    }))
}

/// The live session the flow was authenticated with, if this browser still holds it.
async fn flow_session(
    core: &Core,
    flow: &Flow,
    session_token: Option<&str>,
) -> Result<Option<SsoSession>, OAuthError> {
    Ok(session::current(core, session_token)
        .await?
        .filter(|s| flow.session_id.as_deref() == Some(s.id.as_str())))
}

fn redirect_error(
    core: &Core,
    request: &AuthorizationRequest,
    code: ErrorCode,
    description: &'static str,
) -> Step {
    Step::Redirect(
        request
            .error_redirect(code, description)
            .location(&core.issuer),
    )
}

/// Issue a single-use code bound to the client, redirect URI, PKCE challenge and nonce
/// (RFC 6749 §4.1.2), and return the redirect to the client.
async fn issue_code(
    core: &Core,
    request: &AuthorizationRequest,
    session: &SsoSession,
) -> Result<String, OAuthError> {
    let now = core.now();
    let code = crypto::random_token()?;
    let record = CodeRecord {
        code_hash: crypto::secret_hash(&code),
        grant: GrantRecord {
            id: uuid::Uuid::now_v7().to_string(),
            client_id: request.client_id.clone(),
            citizen_id: session.citizen_id.clone(),
            session_id: session.id.clone(),
            scope: request.scopes.join(" "),
            auth_time: session.auth_time,
            acr: session.acr.clone(),
            amr: session.amr.clone(),
            created_at: now,
            revoked_at: None,
        },
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        expires_at: now + crate::oidc::CODE_TTL_S,
    };
    core.store.insert_code(&record, now).await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    // RFC 9207: the issuer identifies who answered.
    pairs.push(("iss", &core.issuer));
    Ok(append_query(&request.redirect_uri, &pairs))
}
