//! A data subject's rights over what Any-ID holds about them (Personal Information Protection
//! Act art. 35-37): see and download all of it, correct it (choose which linked method's
//! name, email or phone is released: `profile::choose`), suspend processing and resume it,
//! and delete the account.
//!
//! **Who may act.** Every action needs the signed-in citizen's session and the form's CSRF
//! token (`portal::SignedIn`). *Attacker's best move:* holding a stolen session (a phished
//! social account, a cookie), destroy the citizen's account for good, or undo a suspension
//! the citizen made to stop exactly that thief. So deletion, which cannot be undone, needs a
//! high-assurance sign-in within the last [`FRESH_S`] seconds, and resuming needs a sign-in
//! made after the suspension: a session that was already live when the citizen suspended
//! cannot resume (`tests/tests/citizen_rights.rs` runs both attacks). Suspending needs only
//! the session: the worst a thief does with it is stop the account, which the citizen undoes.

use serde::Serialize;
use serde_json::Value;

use super::Broker;
use crate::clock::UnixTime;
use crate::error::OAuthError;
use crate::store::{
    AccountStore, ClientStore, ConsentStore, LoginEvent, PasskeyStore, SessionStore, SsoSession,
};
use anyid_policy::Loa;

/// How recent the high-assurance sign-in that deletes an account must be.
pub const FRESH_S: i64 = 600;

/// The most sign-in history rows an export carries (the portal lists 50).
const EXPORT_HISTORY: i64 = 100_000;

/// Everything Any-ID holds about a citizen, for the download (art. 35). No secrets: no
/// identity subjects (a keyed hash for some), credential keys, token or session hashes.
#[derive(Debug, Serialize)]
pub struct Export {
    pub generated_at: UnixTime,
    pub account: AccountFacts,
    /// The details released to services the citizen allows.
    pub profile: Value,
    /// The citizen's choice of method per unit (`name`, `email`, `phone`).
    pub profile_sources: Value,
    pub sign_in_methods: Vec<MethodFacts>,
    pub consents: Vec<ConsentFacts>,
    pub sessions: Vec<SessionFacts>,
    pub passkeys: Vec<PasskeyFacts>,
    pub sign_in_history: Vec<LoginEvent>,
}

#[derive(Debug, Serialize)]
pub struct AccountFacts {
    pub id: String,
    pub created_at: UnixTime,
    pub suspended_at: Option<UnixTime>,
    /// Whether a national identity-linking value is linked (only its keyed hash is kept).
    pub linking_value_held: bool,
}

#[derive(Debug, Serialize)]
pub struct MethodFacts {
    pub id: String,
    pub method: String,
    pub issuer: String,
    pub level: String,
    pub vouched_level: String,
    pub verified_claims: Value,
    pub linked_at: UnixTime,
    pub last_used_at: UnixTime,
}

#[derive(Debug, Serialize)]
pub struct ConsentFacts {
    pub client_id: String,
    pub service: String,
    pub scopes: Vec<String>,
    pub granted_at: UnixTime,
}

#[derive(Debug, Serialize)]
pub struct SessionFacts {
    pub signed_in_at: UnixTime,
    pub expires_at: UnixTime,
    pub level: String,
    pub methods: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct PasskeyFacts {
    pub name: String,
    pub level: String,
    pub synced: bool,
    pub registered_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

/// What Any-ID holds about `citizen_id`, or `None` if there is no such citizen.
pub async fn export(ctx: &Broker<'_>, citizen_id: &str) -> Result<Option<Export>, OAuthError> {
    let store = ctx.op.store;
    let Some(citizen) = store.citizen(citizen_id).await? else {
        return Ok(None);
    };
    let now = ctx.op.now();
    let mut consents = Vec::new();
    for c in store.consents_of(citizen_id).await? {
        let service = store
            .client(&c.client_id)
            .await?
            .map_or_else(|| c.client_id.clone(), |r| r.name);
        consents.push(ConsentFacts {
            scopes: crate::oidc::parse_scope(&c.scopes),
            client_id: c.client_id,
            service,
            granted_at: c.granted_at,
        });
    }
    Ok(Some(Export {
        generated_at: now,
        account: AccountFacts {
            id: citizen.id.clone(),
            created_at: citizen.created_at,
            suspended_at: citizen.suspended_at,
            linking_value_held: store.strong_id_of(citizen_id).await?.is_some(),
        },
        profile: citizen.claims,
        profile_sources: store.claim_sources(citizen_id).await?,
        sign_in_methods: store
            .identities(citizen_id)
            .await?
            .into_iter()
            .map(|i| MethodFacts {
                id: i.id,
                method: i.method,
                issuer: i.issuer,
                level: i.loa,
                vouched_level: i.vouched_loa,
                verified_claims: i.claims,
                linked_at: i.created_at,
                last_used_at: i.last_used_at,
            })
            .collect(),
        consents,
        sessions: store
            .sessions_of(citizen_id, now)
            .await?
            .into_iter()
            .map(|s| SessionFacts {
                signed_in_at: s.auth_time,
                expires_at: s.expires_at,
                level: s.acr,
                methods: s.amr,
            })
            .collect(),
        passkeys: store
            .passkeys_of(citizen_id)
            .await?
            .into_iter()
            .map(|p| PasskeyFacts {
                name: p.name,
                level: p.loa,
                synced: p.backup_eligible,
                registered_at: p.created_at,
                last_used_at: p.last_used_at,
            })
            .collect(),
        sign_in_history: store.login_events(citizen_id, EXPORT_HISTORY).await?,
    }))
}

/// Stop all processing: services' grants (their refresh and access tokens) and pending codes
/// end now, and no service login is allowed until the citizen resumes.
pub async fn suspend(ctx: &Broker<'_>, citizen_id: &str) -> Result<(), OAuthError> {
    let now = ctx.op.now();
    ctx.op.store.set_suspended(citizen_id, Some(now)).await?;
    ctx.op.store.revoke_grants_of(citizen_id, now).await?;
    tracing::info!("a citizen suspended their account");
    Ok(())
}

/// Why a right could not be exercised from this session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeedsSignIn {
    /// A sign-in made after the suspension (see the module's note).
    Again,
    /// A high-assurance sign-in within [`FRESH_S`].
    FreshHigh,
}

/// Resume processing; needs a sign-in made after the suspension.
pub async fn resume(
    ctx: &Broker<'_>,
    session: &SsoSession,
) -> Result<Result<(), NeedsSignIn>, OAuthError> {
    let citizen = ctx.op.store.citizen(&session.citizen_id).await?;
    match citizen.and_then(|c| c.suspended_at) {
        Some(at) if session.auth_time <= at => Ok(Err(NeedsSignIn::Again)),
        Some(_) => {
            ctx.op
                .store
                .set_suspended(&session.citizen_id, None)
                .await?;
            tracing::info!("a citizen resumed their account");
            Ok(Ok(()))
        }
        None => Ok(Ok(())),
    }
}

/// Whether `session` may delete its account now: a high-assurance sign-in within
/// [`FRESH_S`].
pub fn may_delete(ctx: &Broker<'_>, session: &SsoSession) -> bool {
    Loa::from_acr(&session.acr) == Some(Loa::High) && ctx.op.now() - session.auth_time <= FRESH_S
}

/// Delete the account and everything kept about it (`AccountStore::delete_citizen`): every
/// grant, code, refresh token and session with it. Access records of services stay.
pub async fn delete(
    ctx: &Broker<'_>,
    session: &SsoSession,
) -> Result<Result<(), NeedsSignIn>, OAuthError> {
    if !may_delete(ctx, session) {
        return Ok(Err(NeedsSignIn::FreshHigh));
    }
    ctx.op.store.delete_citizen(&session.citizen_id).await?;
    tracing::info!("a citizen deleted their account");
    Ok(Ok(()))
}

/// Whether the citizen suspended their account (services get nothing).
pub async fn suspended(ctx: &Broker<'_>, citizen_id: &str) -> Result<bool, OAuthError> {
    Ok(ctx
        .op
        .store
        .citizen(citizen_id)
        .await?
        .is_some_and(|c| c.suspended_at.is_some()))
}
