//! The citizen's own account: linked methods (link, unlink — never the last), live sessions
//! (revoke one or all), consents given to relying parties (withdraw), and login history.
//! Revocations take effect on the next token or userinfo request (their grants are revoked).

use crate::crypto;
use crate::error::OAuthError;
use crate::i18n::Notice;
use crate::state::Core;
use crate::store::{
    AccountStore, ClientStore, ConsentStore, LinkedIdentity, LoginEvent, PasskeyRecord,
    PasskeyStore, SessionStore, SsoSession, Unlink,
};

use super::MethodChoice;
use super::passkey::{self, PasskeyOffer};

pub struct PortalView {
    pub csrf: String,
    pub name: String,
    pub current_session: String,
    pub identities: Vec<LinkedIdentity>,
    /// Methods not linked yet that can be linked.
    pub linkable: Vec<MethodChoice>,
    pub sessions: Vec<SsoSession>,
    pub consents: Vec<ConsentItem>,
    pub history: Vec<LoginEvent>,
    pub passkeys: Vec<PasskeyRecord>,
    /// A registration ceremony for a new passkey, when passkeys are on.
    pub passkey_offer: Option<PasskeyOffer>,
    /// A challenge to register a certificate with, when certificate login is on.
    pub certificate_challenge: Option<String>,
}

pub struct ConsentItem {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
}

/// How many past logins the portal lists.
const HISTORY: i64 = 50;

pub async fn view(core: &Core, session: &SsoSession) -> Result<PortalView, OAuthError> {
    let name = super::account::display_name(core, &session.citizen_id).await?;
    let identities = core.store.identities(&session.citizen_id).await?;
    let now = core.now();
    let linkable = core
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
    for c in core.store.consents_of(&session.citizen_id).await? {
        let client_name = core
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
    Ok(PortalView {
        csrf: csrf(core, session),
        current_session: session.id.clone(),
        identities,
        linkable,
        sessions: core.store.sessions_of(&session.citizen_id, now).await?,
        consents,
        history: core
            .store
            .login_events(&session.citizen_id, HISTORY)
            .await?,
        passkeys: core.store.passkeys_of(&session.citizen_id).await?,
        passkey_offer: passkey::registration_offer(core, session, &name).await?,
        certificate_challenge: super::certificate::link_offer(core, &session.citizen_id)?,
        name,
    })
}

/// The portal forms' CSRF token, bound to the session.
pub fn csrf(core: &Core, session: &SsoSession) -> String {
    crypto::b64(&crypto::hmac_sha256(
        &core.config.subject_secret.0,
        &[b"anyid portal csrf", session.id.as_bytes()],
    ))
}

fn csrf_ok(core: &Core, session: &SsoSession, presented: &str) -> bool {
    crypto::constant_time_eq(csrf(core, session).as_bytes(), presented.as_bytes())
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
}

/// Check a portal form: the session cookie's live session, and the form's CSRF token.
pub async fn signed_in(
    core: &Core,
    session_token: Option<&str>,
    csrf: Option<&str>,
) -> Result<Result<SignedIn, NotSignedIn>, OAuthError> {
    let Some(session) = crate::oidc::session::current(core, session_token).await? else {
        return Ok(Err(NotSignedIn::NoSession));
    };
    if !csrf.is_some_and(|c| csrf_ok(core, &session, c)) {
        return Ok(Err(NotSignedIn::WrongForm));
    }
    Ok(Ok(SignedIn(session)))
}

#[derive(Debug)]
pub enum Action {
    RevokeSession(String),
    RevokeAllSessions,
    WithdrawConsent(String),
    Unlink(String),
    RenamePasskey { id: String, name: String },
    RemovePasskey(String),
}

/// Carry out an action for the signed-in citizen; `Err(notice)` explains a refusal.
pub async fn act(
    core: &Core,
    signed_in: &SignedIn,
    action: Action,
) -> Result<Result<(), Notice>, OAuthError> {
    let now = core.now();
    let citizen = signed_in.citizen_id();
    match action {
        Action::RevokeSession(id) => {
            // Only the citizen's own sessions.
            if core
                .store
                .sessions_of(citizen, now)
                .await?
                .iter()
                .any(|s| s.id == id)
            {
                core.store.revoke_session(&id, now).await?;
            }
        }
        Action::RevokeAllSessions => {
            for s in core.store.sessions_of(citizen, now).await? {
                core.store.revoke_session(&s.id, now).await?;
            }
        }
        Action::WithdrawConsent(client_id) => {
            core.store.revoke_consent(citizen, &client_id, now).await?;
        }
        Action::Unlink(identity_id) => {
            match super::account::unlink(core, citizen, &identity_id).await? {
                Unlink::Done | Unlink::NotFound => {}
                Unlink::LastMethod => return Ok(Err(Notice::LastMethod)),
            }
        }
        Action::RenamePasskey { id, name } => {
            return passkey::rename(core, signed_in, &id, &name).await;
        }
        Action::RemovePasskey(id) => passkey::remove(core, signed_in, &id).await?,
    }
    Ok(Ok(()))
}
