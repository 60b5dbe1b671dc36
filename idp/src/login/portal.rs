//! The citizen's own account: linked methods (link, unlink — never the last), live sessions
//! (revoke one or all), consents given to relying parties (withdraw), and login history.
//! Revocations take effect on the next token or userinfo request (their grants are revoked).

use super::Broker;
use crate::crypto;
use crate::error::OAuthError;
use crate::i18n::Notice;
use crate::store::{
    AccountStore, ClientStore, ConsentStore, LinkedIdentity, LoginEvent, PasskeyRecord,
    PasskeyStore, RiskStore, SessionStore, SsoSession, Unlink,
};

use super::MethodChoice;
use super::passkey::{self, PasskeyOffer};

pub struct PortalView {
    pub csrf: String,
    pub name: String,
    pub current_session: String,
    /// The details released to services the citizen allows (`profile`).
    pub profile: serde_json::Value,
    /// The citizen's choice of method per unit (`profile::UNITS`).
    pub sources: serde_json::Value,
    pub suspended_at: Option<crate::clock::UnixTime>,
    /// This session may resume a suspended account / delete the account (`rights`).
    pub may_resume: bool,
    pub may_delete: bool,
    pub identities: Vec<LinkedIdentity>,
    /// Methods not linked yet that can be linked.
    pub linkable: Vec<MethodChoice>,
    pub sessions: Vec<SsoSession>,
    /// Each live session's risk now (`crate::risk`): session id -> (score, signals).
    pub session_risks: std::collections::HashMap<String, (u8, Vec<String>)>,
    pub consents: Vec<ConsentItem>,
    pub history: Vec<LoginEvent>,
    pub passkeys: Vec<PasskeyRecord>,
    /// A registration ceremony for a new passkey, when passkeys are on.
    pub passkey_offer: Option<PasskeyOffer>,
    /// A challenge to register a certificate with, when certificate login is on.
    pub certificate_challenge: Option<String>,
}

impl PortalView {
    /// A view with nothing in it (pages that show a part of one fill that part).
    pub fn empty() -> Self {
        Self {
            csrf: String::new(),
            name: String::new(),
            current_session: String::new(),
            profile: serde_json::Value::Null,
            sources: serde_json::Value::Null,
            suspended_at: None,
            may_resume: false,
            may_delete: false,
            identities: Vec::new(),
            linkable: Vec::new(),
            sessions: Vec::new(),
            session_risks: Default::default(),
            consents: Vec::new(),
            history: Vec::new(),
            passkeys: Vec::new(),
            passkey_offer: None,
            certificate_challenge: None,
        }
    }
}

pub struct ConsentItem {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
}

/// How many past logins the portal lists.
const HISTORY: i64 = 50;

pub async fn view(ctx: &Broker<'_>, session: &SsoSession) -> Result<PortalView, OAuthError> {
    let name = super::account::display_name(ctx, &session.citizen_id).await?;
    let identities = ctx.op.store.identities(&session.citizen_id).await?;
    let now = ctx.op.now();
    let linkable = ctx
        .upstreams
        .iter()
        .filter(|u| !identities.iter().any(|i| i.method == u.id()))
        .map(|u| MethodChoice {
            id: u.id().to_owned(),
            name_ko: u.display_name("ko").to_owned(),
            name_en: u.display_name("en").to_owned(),
            available: u.available(now),
        })
        .collect();
    let mut consents = Vec::new();
    for c in ctx.op.store.consents_of(&session.citizen_id).await? {
        let client_name = ctx
            .op
            .store
            .client(&c.client_id)
            .await?
            .map(|r| r.name)
            .unwrap_or_else(|| c.client_id.clone());
        consents.push(ConsentItem {
            client_id: c.client_id,
            client_name,
            scopes: crate::oidc::parse_scope(&c.scopes),
        });
    }
    let citizen = ctx.op.store.citizen(&session.citizen_id).await?;
    let suspended_at = citizen.as_ref().and_then(|c| c.suspended_at);
    Ok(PortalView {
        csrf: csrf(ctx, session),
        current_session: session.id.clone(),
        profile: citizen.map(|c| c.claims).unwrap_or_default(),
        sources: ctx.op.store.claim_sources(&session.citizen_id).await?,
        suspended_at,
        may_resume: suspended_at.is_some_and(|at| session.auth_time > at),
        may_delete: super::rights::may_delete(ctx, session),
        identities,
        linkable,
        sessions: ctx.op.store.sessions_of(&session.citizen_id, now).await?,
        session_risks: ctx
            .op
            .store
            .session_risks(&session.citizen_id, now)
            .await?
            .into_iter()
            .map(|r| {
                let score = crate::risk::session_risk(Some((i64::from(r.risk), r.at)), now);
                (r.session_id, (score, r.signals))
            })
            .collect(),
        consents,
        history: ctx
            .op
            .store
            .login_events(&session.citizen_id, HISTORY)
            .await?,
        passkeys: ctx.op.store.passkeys_of(&session.citizen_id).await?,
        passkey_offer: passkey::registration_offer(ctx, session, &name).await?,
        certificate_challenge: super::certificate::link_offer(ctx, &session.citizen_id)?,
        name,
    })
}

/// The portal forms' CSRF token, bound to the session.
pub fn csrf(ctx: &Broker<'_>, session: &SsoSession) -> String {
    crypto::b64(&crypto::hmac_sha256(
        &ctx.op.secrets.portal_csrf,
        &[session.id.as_bytes()],
    ))
}

fn csrf_ok(ctx: &Broker<'_>, session: &SsoSession, presented: &str) -> bool {
    crypto::constant_time_eq(csrf(ctx, session).as_bytes(), presented.as_bytes())
}

/// Proof that a portal form came from the signed-in citizen: a live session and the form's
/// CSRF token bound to it. Only [`signed_in`] makes one, and every portal action takes one,
/// so an action cannot be reached without the check.
pub struct SignedIn(SsoSession);

impl SignedIn {
    pub fn session(&self) -> &SsoSession {
        &self.0
    }

    pub fn citizen_id(&self) -> &str {
        &self.0.citizen_id
    }
}

/// Why a portal form was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSignedIn {
    /// No live session: sign in first.
    NoSession,
    /// The form's CSRF token is not this session's.
    WrongForm,
    /// Policy does not let this session manage the account (DESIGN §6).
    NotAllowed,
}

/// Whether policy lets `session` manage its citizen's own account (`manage_account`).
pub fn permitted(ctx: &Broker<'_>, session: &SsoSession) -> bool {
    use anyid_policy::facts::{Context, Record};
    use anyid_policy::{Action, Decision, Loa, Principal, Request, Resource};
    let request = Request {
        principal: Principal::Citizen {
            id: session.citizen_id.clone(),
        },
        action: Action::ManageAccount,
        resource: Resource::CitizenRecord(Record {
            id: session.citizen_id.clone(),
            owner: Some(session.citizen_id.clone()),
            region: None,
            household: None,
        }),
        context: Context {
            acr: Loa::from_acr(&session.acr),
            amr: session.amr.clone(),
            auth_age_s: Some(u64::try_from(ctx.op.now() - session.auth_time).unwrap_or(0)),
            ..Context::default()
        },
    };
    ctx.op.decide(&request) == Decision::Allow
}

/// Check a portal form: the session cookie's live session, and the form's CSRF token.
pub async fn signed_in(
    ctx: &Broker<'_>,
    session_token: Option<&str>,
    csrf: Option<&str>,
) -> Result<Result<SignedIn, NotSignedIn>, OAuthError> {
    let Some(session) = crate::oidc::session::current(&ctx.op, session_token).await? else {
        return Ok(Err(NotSignedIn::NoSession));
    };
    if !csrf.is_some_and(|c| csrf_ok(ctx, &session, c)) {
        return Ok(Err(NotSignedIn::WrongForm));
    }
    if !permitted(ctx, &session) {
        return Ok(Err(NotSignedIn::NotAllowed));
    }
    Ok(Ok(SignedIn(session)))
}

#[derive(Debug)]
pub enum Action {
    RevokeSession(String),
    RevokeAllSessions,
    WithdrawConsent(String),
    Unlink(String),
    RenamePasskey {
        id: String,
        name: String,
    },
    RemovePasskey(String),
    /// Release `unit` (`name`, `email`, `phone`) from this linked identity.
    ChooseSource {
        unit: String,
        identity: String,
    },
    Suspend,
    Resume,
}

/// Carry out an action for the signed-in citizen; `Err(notice)` explains a refusal.
pub async fn act(
    ctx: &Broker<'_>,
    signed_in: &SignedIn,
    action: Action,
) -> Result<Result<(), Notice>, OAuthError> {
    let now = ctx.op.now();
    let citizen = signed_in.citizen_id();
    match action {
        Action::RevokeSession(id) => {
            // Only the citizen's own sessions.
            if ctx
                .op
                .store
                .sessions_of(citizen, now)
                .await?
                .iter()
                .any(|s| s.id == id)
            {
                ctx.op.store.revoke_session(&id, now).await?;
            }
        }
        Action::RevokeAllSessions => {
            for s in ctx.op.store.sessions_of(citizen, now).await? {
                ctx.op.store.revoke_session(&s.id, now).await?;
            }
        }
        Action::WithdrawConsent(client_id) => {
            ctx.op
                .store
                .revoke_consent(citizen, &client_id, now)
                .await?;
        }
        Action::Unlink(identity_id) => {
            match super::account::unlink(ctx, citizen, &identity_id).await? {
                Unlink::Done | Unlink::NotFound => {}
                Unlink::LastMethod => return Ok(Err(Notice::LastMethod)),
            }
        }
        Action::RenamePasskey { id, name } => {
            return passkey::rename(ctx, signed_in, &id, &name).await;
        }
        Action::RemovePasskey(id) => passkey::remove(ctx, signed_in, &id).await?,
        Action::ChooseSource { unit, identity } => {
            if super::profile::choose(&ctx.op, citizen, &unit, &identity).await?
                == super::profile::Choice::Refused
            {
                return Ok(Err(Notice::NotFound));
            }
        }
        Action::Suspend => super::rights::suspend(ctx, citizen).await?,
        Action::Resume => {
            if super::rights::resume(ctx, signed_in.session())
                .await?
                .is_err()
            {
                return Ok(Err(Notice::SignInAgain));
            }
        }
    }
    Ok(Ok(()))
}
