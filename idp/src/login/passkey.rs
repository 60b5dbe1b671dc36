//! Passkey login (usernameless) and registration from the portal, over
//! `adapters::passkey`. Each ceremony's state travels sealed in the page (`kept::carry`),
//! so showing a page writes nothing, and is spent once: any replica can finish it, nobody
//! can replay it.
//!
//! A passkey's assurance is that of the session it was registered under, capped at
//! substantial, unless it was registered within [`HIGH_WINDOW_S`] of a high-assurance login
//! (then it is high): a passkey never proves more than the login that vouched for it.

use anyid_adapters::passkey::{self, Ceremony, PasskeyLogin};
use anyid_policy::Loa;

use super::Broker;
use super::attempts::{self, Proof, Settled};
use super::kept::{self, Carried};
use super::portal::SignedIn;
use super::{
    Authenticated, Step, Visitor, authenticated, error, flow_error, flow_for_form, throttled,
};
use crate::error::OAuthError;
use crate::i18n::Notice;
use crate::oidc::flow::Flow;
use crate::store::{PasskeyEvent, PasskeyRecord, PasskeyStore, PasskeyUse, SsoSession, StoreError};

/// A ceremony must finish within 5 minutes (the WebAuthn timeout webauthn-rs asks for).
pub const CEREMONY_TTL_S: i64 = 300;
/// A passkey registered this soon after a high-assurance login is high.
pub const HIGH_WINDOW_S: i64 = 600;

const LOGIN: &str = "passkey-login";
const REGISTER: &str = "passkey-register";

/// A started ceremony as a page embeds it.
#[derive(Clone)]
pub struct PasskeyOffer {
    pub ceremony: String,
    /// The browser options, JSON.
    pub options: String,
}

crate::redact::debug_without_secrets!(PasskeyOffer { options });

fn offer(
    ctx: &Broker<'_>,
    kind: &str,
    ceremony: Ceremony,
    flow_id: Option<String>,
    citizen_id: Option<String>,
) -> Result<PasskeyOffer, OAuthError> {
    let carried = Carried {
        flow_id,
        citizen_id,
        data: ceremony.state,
        expires_at: ctx.op.now() + CEREMONY_TTL_S,
    };
    Ok(PasskeyOffer {
        ceremony: kept::carry(ctx, kind, &carried)?,
        options: ceremony.options.to_string(),
    })
}

/// A login ceremony for the chooser of `flow`, when passkeys are on.
pub async fn login_offer(
    ctx: &Broker<'_>,
    flow: &Flow,
) -> Result<Option<PasskeyOffer>, OAuthError> {
    let Some(passkeys) = &ctx.passkeys else {
        return Ok(None);
    };
    let ceremony = passkeys.start_login().map_err(OAuthError::server_error)?;
    offer(ctx, LOGIN, ceremony, Some(flow.id.clone()), None).map(Some)
}

async fn event(
    ctx: &Broker<'_>,
    p: &PasskeyRecord,
    kind: &str,
    detail: String,
) -> Result<(), OAuthError> {
    ctx.op
        .store
        .record_passkey_event(&PasskeyEvent {
            passkey_id: p.id.clone(),
            citizen_id: p.citizen_id.clone(),
            at: ctx.op.now(),
            kind: kind.to_owned(),
            detail,
        })
        .await?;
    Ok(())
}

/// What the login form posted.
pub struct LoginAnswer<'a> {
    pub flow_id: &'a str,
    pub csrf: &'a str,
    pub ceremony: &'a str,
    /// The browser's `PublicKeyCredential.toJSON()`.
    pub credential: &'a str,
}

/// Finish a usernameless login for its flow.
pub async fn finish_login(
    ctx: &Broker<'_>,
    answer: LoginAnswer<'_>,
    visitor: &Visitor<'_>,
) -> Result<(Step, Option<String>), OAuthError> {
    let flow = match flow_for_form(ctx, answer.flow_id, answer.csrf, visitor.browser).await? {
        Ok(flow) => flow,
        Err(step) => return Ok((step, None)),
    };
    let refuse = |notice| Ok((flow_error(ctx, &flow, notice), None));
    let Some(passkeys) = &ctx.passkeys else {
        return Ok((error(Notice::NotFound), None));
    };
    let Some(kept) = kept::spend_carried(ctx, LOGIN, answer.ceremony).await? else {
        return refuse(Notice::Stale);
    };
    if kept.flow_id.as_deref() != Some(flow.id.as_str()) {
        return refuse(Notice::LoginMismatch);
    }
    let assertion = match passkeys.identify(answer.credential) {
        Ok(a) => a,
        Err(e) => {
            tracing::info!(error = %e, "passkey login refused");
            return refuse(Notice::PasskeyFailed);
        }
    };
    // Counted, slowed and locked per credential id whether or not it is registered, and
    // answered alike (`attempts`).
    let attempt =
        match attempts::begin(ctx, passkey::METHOD, &assertion.credential_id, visitor).await {
            Ok(attempt) => attempt,
            Err(wait) => return Ok((throttled(ctx, &flow, wait), None)),
        };
    let stored = ctx
        .op
        .store
        .passkey_by_credential(&assertion.credential_id)
        .await?
        .filter(|p| p.citizen_id == assertion.user.to_string());
    let verified = match &stored {
        Some(stored) => passkeys
            .finish_login(&assertion, &kept.data, &stored.data)
            .map_err(|e| e.to_string()),
        None => Err("no passkey with this credential id and user".to_owned()),
    };
    if let (Some(stored), Err(e)) = (&stored, &verified) {
        event(ctx, stored, "refused", e.clone()).await?;
    }
    let proof = if verified.is_ok() {
        Proof::Holds
    } else {
        Proof::Wrong
    };
    let settled = attempt.settle(ctx, proof).await?;
    let (Some(stored), Ok(verified), Settled::Admitted { recent_failures }) =
        (stored, verified.as_ref(), settled)
    else {
        if let Err(e) = &verified {
            tracing::info!(error = %e, "passkey login refused");
        }
        return refuse(Notice::PasskeyFailed);
    };
    if let Some(current) = super::step_up_session(ctx, &flow, visitor.session).await?
        && current.citizen_id != stored.citizen_id
    {
        return refuse(Notice::LinkedElsewhere);
    }
    let now = ctx.op.now();
    ctx.op
        .store
        .use_passkey(
            &stored.id,
            &PasskeyUse {
                data: verified.updated.clone(),
                sign_count: i64::from(verified.counter),
                backed_up: verified.backed_up,
                at: now,
            },
        )
        .await?;
    for (kind, detail) in changes(&stored, verified) {
        event(ctx, &stored, kind, detail).await?;
    }
    let loa = Loa::from_acr(&stored.loa).unwrap_or_default();
    // RFC 8176: a key the authenticator may sync is a software key; user verification
    // (required) makes it a second factor.
    let key = if verified.backup_eligible {
        "swk"
    } else {
        "hwk"
    };
    let login = Authenticated {
        citizen_id: stored.citizen_id,
        loa,
        amr: vec![key.into(), "user".into(), "mfa".into()],
        method: passkey::METHOD.into(),
        address: visitor.address.clone(),
        device: visitor.device.clone(),
        recent_failures,
    };
    authenticated(ctx, &flow, login).await
}

/// What a verified login changed on a stored passkey: the events to record.
fn changes(stored: &PasskeyRecord, verified: &PasskeyLogin) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if verified.backed_up != stored.backed_up {
        let detail = format!("backed_up {} -> {}", stored.backed_up, verified.backed_up);
        out.push(("backup_state", detail));
    }
    if i64::from(verified.counter) != stored.sign_count {
        out.push((
            "counter",
            format!("{} -> {}", stored.sign_count, verified.counter),
        ));
    }
    out
}

/// The level a passkey registered now, under `session`, proves.
pub fn level_for(session: &SsoSession, now: i64) -> Loa {
    let level = Loa::from_acr(&session.acr).unwrap_or_default();
    if level == Loa::High && now - session.auth_time <= HIGH_WINDOW_S {
        Loa::High
    } else {
        level.min(Loa::Substantial)
    }
}

/// A registration ceremony for the signed-in citizen's portal, when passkeys are on.
pub async fn registration_offer(
    ctx: &Broker<'_>,
    session: &SsoSession,
    display_name: &str,
) -> Result<Option<PasskeyOffer>, OAuthError> {
    let Some(passkeys) = &ctx.passkeys else {
        return Ok(None);
    };
    let user = uuid::Uuid::parse_str(&session.citizen_id).map_err(OAuthError::server_error)?;
    let existing = ctx
        .op
        .store
        .passkeys_of(&session.citizen_id)
        .await?
        .into_iter()
        .map(|p| p.credential_id)
        .collect();
    // The authenticator shows these names in its account picker; no personal identifier.
    let label = if display_name.is_empty() {
        "Any-ID"
    } else {
        display_name
    };
    let ceremony = passkeys
        .start_registration(user, label, label, existing)
        .map_err(OAuthError::server_error)?;
    offer(
        ctx,
        REGISTER,
        ceremony,
        None,
        Some(session.citizen_id.clone()),
    )
    .map(Some)
}

/// A passkey name: 1 to 64 characters, no control characters.
pub fn valid_name(name: &str) -> Option<&str> {
    let name = name.trim();
    let count = name.chars().count();
    ((1..=64).contains(&count) && !name.chars().any(char::is_control)).then_some(name)
}

/// Finish a registration for the signed-in citizen.
pub async fn register(
    ctx: &Broker<'_>,
    signed_in: &SignedIn,
    ceremony: &str,
    credential: &str,
    name: &str,
) -> Result<Result<(), Notice>, OAuthError> {
    let session = signed_in.session();
    let Some(name) = valid_name(name) else {
        return Ok(Err(Notice::PasskeyName));
    };
    let Some(passkeys) = &ctx.passkeys else {
        return Ok(Err(Notice::NotFound));
    };
    let Some(kept) = kept::spend_carried(ctx, REGISTER, ceremony).await? else {
        return Ok(Err(Notice::Stale));
    };
    if kept.citizen_id.as_deref() != Some(session.citizen_id.as_str()) {
        return Ok(Err(Notice::WrongBrowser));
    }
    let new = match passkeys.finish_registration(credential, &kept.data) {
        Ok(new) => new,
        Err(e) => {
            tracing::info!(error = %e, "passkey registration refused");
            return Ok(Err(Notice::PasskeyFailed));
        }
    };
    let now = ctx.op.now();
    let record = PasskeyRecord {
        id: uuid::Uuid::now_v7().to_string(),
        citizen_id: session.citizen_id.clone(),
        credential_id: new.credential_id,
        name: name.to_owned(),
        loa: level_for(session, now).acr().to_owned(),
        data: new.data,
        sign_count: 0,
        backup_eligible: new.backup_eligible,
        backed_up: new.backed_up,
        created_at: now,
        last_used_at: None,
    };
    match ctx.op.store.insert_passkey(&record).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Ok(Err(Notice::PasskeyExists)),
        Err(e) => return Err(e.into()),
    }
    let detail = format!("level {}, session level {}", record.loa, session.acr);
    event(ctx, &record, "registered", detail).await?;
    Ok(Ok(()))
}

/// Rename or remove one of the signed-in citizen's passkeys.
pub async fn rename(
    ctx: &Broker<'_>,
    signed_in: &SignedIn,
    id: &str,
    name: &str,
) -> Result<Result<(), Notice>, OAuthError> {
    let Some(name) = valid_name(name) else {
        return Ok(Err(Notice::PasskeyName));
    };
    ctx.op
        .store
        .rename_passkey(signed_in.citizen_id(), id, name)
        .await?;
    Ok(Ok(()))
}

pub async fn remove(ctx: &Broker<'_>, signed_in: &SignedIn, id: &str) -> Result<(), OAuthError> {
    if ctx
        .op
        .store
        .remove_passkey(signed_in.citizen_id(), id)
        .await?
    {
        ctx.op
            .store
            .record_passkey_event(&PasskeyEvent {
                passkey_id: id.to_owned(),
                citizen_id: signed_in.citizen_id().to_owned(),
                at: ctx.op.now(),
                kind: "removed".into(),
                detail: String::new(),
            })
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(acr: &str, auth_time: i64) -> SsoSession {
        SsoSession {
            id: "s".into(),
            citizen_id: "c".into(),
            auth_time,
            acr: acr.into(),
            amr: vec![],
            created_at: auth_time,
            expires_at: auth_time + 3600,
        }
    }

    #[test]
    fn a_passkey_proves_no_more_than_the_login_that_vouched_for_it() {
        let now = 10_000;
        assert_eq!(level_for(&session(Loa::Low.acr(), now), now), Loa::Low);
        assert_eq!(
            level_for(&session(Loa::Substantial.acr(), now), now),
            Loa::Substantial
        );
        assert_eq!(
            level_for(&session(Loa::High.acr(), now - 60), now),
            Loa::High
        );
        assert_eq!(
            level_for(&session(Loa::High.acr(), now - HIGH_WINDOW_S - 1), now),
            Loa::Substantial
        );
    }

    #[test]
    fn counter_and_backup_state_changes_become_events() {
        let stored = PasskeyRecord {
            id: "p".into(),
            citizen_id: "c".into(),
            credential_id: vec![1],
            name: "n".into(),
            loa: Loa::Low.acr().into(),
            data: "{}".into(),
            sign_count: 4,
            backup_eligible: true,
            backed_up: false,
            created_at: 0,
            last_used_at: None,
        };
        let login = |counter, backed_up| PasskeyLogin {
            updated: None,
            counter,
            backup_eligible: true,
            backed_up,
        };
        assert!(changes(&stored, &login(4, false)).is_empty());
        let kinds = |l| {
            changes(&stored, &l)
                .into_iter()
                .map(|(k, _)| k)
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(login(5, false)), ["counter"]);
        assert_eq!(kinds(login(4, true)), ["backup_state"]);
        assert_eq!(kinds(login(9, true)), ["backup_state", "counter"]);
    }

    #[test]
    fn passkey_names_are_short_printable_text() {
        assert_eq!(valid_name("  Phone "), Some("Phone"));
        assert_eq!(valid_name(""), None);
        assert_eq!(valid_name("a\u{7}b"), None);
        assert_eq!(valid_name(&"가".repeat(64)), Some("가".repeat(64).as_str()));
        assert_eq!(valid_name(&"가".repeat(65)), None);
    }
}
