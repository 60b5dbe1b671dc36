//! Account resolution and linking (DESIGN §5). A verified identity maps to one citizen:
//! - an identity seen before (unique on issuer + subject) is its citizen;
//! - a new identity carrying a verified strong identifier (a national identity-linking value
//!   such as CI) joins the citizen with the same strong identifier, compared as a keyed hash;
//! - otherwise the first login creates a citizen. Accounts never merge on email.
//!
//! A citizen's profile claims are the merge of what their methods verified: new values win,
//! missing ones keep what was stored (Apple sends the name only once).

use anyid_adapters::VerifiedIdentity;
use serde_json::Value;

use crate::crypto;
use crate::error::OAuthError;
use crate::state::Core;
use crate::store::{AccountStore, Citizen, IdentityLink, StoreError, Unlink};

/// The keyed hash under which a strong identifier is stored and compared; the value itself
/// is never stored or logged.
fn strong_id_hash(core: &Core, identity: &VerifiedIdentity) -> Option<Vec<u8>> {
    identity.strong_identifier.as_ref().map(|s| {
        crypto::hmac_sha256(
            &core.config.subject_secret.0,
            &[b"anyid strong-id v1", s.0.as_bytes()],
        )
    })
}

fn link_of(identity: &VerifiedIdentity) -> IdentityLink {
    IdentityLink {
        method: identity.method.clone(),
        issuer: identity.issuer.clone(),
        subject: identity.subject.clone(),
        loa: identity.loa.acr().to_owned(),
        claims: identity.claims.clone(),
    }
}

/// Merge freshly verified claims over stored ones: present values replace, absent ones stay.
pub fn merge_claims(stored: &Value, fresh: &Value) -> Value {
    let mut out = stored.as_object().cloned().unwrap_or_default();
    if let Some(fresh) = fresh.as_object() {
        for (k, v) in fresh {
            if !v.is_null() {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// The citizen for a completed login, creating or joining an account as described above.
pub async fn resolve(core: &Core, identity: &VerifiedIdentity) -> Result<String, OAuthError> {
    let now = core.now();
    let strong = strong_id_hash(core, identity);
    if let Some(id) = core
        .store
        .citizen_by_identity(&identity.issuer, &identity.subject)
        .await?
    {
        core.store
            .touch_identity(&identity.issuer, &identity.subject, &identity.claims, now)
            .await?;
        if let Some(hash) = &strong
            && core.store.citizen_by_strong_id(hash).await?.is_none()
        {
            core.store.set_strong_id(&id, hash).await?;
        }
        refresh_profile(core, &id, &identity.claims).await?;
        return Ok(id);
    }
    if let Some(hash) = &strong
        && let Some(id) = core.store.citizen_by_strong_id(hash).await?
    {
        // Same verified strong identifier: the same person, another method.
        match core.store.link_identity(&id, &link_of(identity), now).await {
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
        refresh_profile(core, &id, &identity.claims).await?;
        return Ok(id);
    }
    let citizen = Citizen {
        id: uuid::Uuid::now_v7().to_string(),
        claims: identity.claims.clone(),
        created_at: now,
    };
    match core
        .store
        .create_citizen(&citizen, &link_of(identity), strong.as_deref())
        .await
    {
        Ok(()) => Ok(citizen.id),
        // A concurrent first login created it: use theirs.
        Err(StoreError::Conflict(_)) => core
            .store
            .citizen_by_identity(&identity.issuer, &identity.subject)
            .await?
            .ok_or_else(|| OAuthError::server_error("identity vanished after a conflict")),
        Err(e) => Err(e.into()),
    }
}

/// What the citizen is called on our pages: their name, else nickname, else nothing.
pub async fn display_name(core: &Core, citizen_id: &str) -> Result<String, OAuthError> {
    let citizen = core.store.citizen(citizen_id).await?;
    Ok(citizen
        .as_ref()
        .and_then(|c| c.claims.get("name").or_else(|| c.claims.get("nickname")))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned())
}

async fn refresh_profile(core: &Core, citizen_id: &str, fresh: &Value) -> Result<(), OAuthError> {
    if let Some(citizen) = core.store.citizen(citizen_id).await? {
        let merged = merge_claims(&citizen.claims, fresh);
        if merged != citizen.claims {
            core.store
                .update_citizen_claims(citizen_id, &merged)
                .await?;
        }
    }
    Ok(())
}

/// Why an explicit link was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkOutcome {
    Linked,
    AlreadyYours,
    /// The identity belongs to another citizen: linking it would merge accounts.
    BelongsToAnother,
}

/// Link a method the logged-in citizen just completed.
pub async fn link(
    core: &Core,
    citizen_id: &str,
    identity: &VerifiedIdentity,
) -> Result<LinkOutcome, OAuthError> {
    match core
        .store
        .citizen_by_identity(&identity.issuer, &identity.subject)
        .await?
    {
        Some(owner) if owner == citizen_id => return Ok(LinkOutcome::AlreadyYours),
        Some(_) => return Ok(LinkOutcome::BelongsToAnother),
        None => {}
    }
    if let Some(hash) = strong_id_hash(core, identity) {
        match core.store.citizen_by_strong_id(&hash).await? {
            Some(owner) if owner != citizen_id => return Ok(LinkOutcome::BelongsToAnother),
            Some(_) => {}
            None => {
                core.store.set_strong_id(citizen_id, &hash).await?;
            }
        }
    }
    match core
        .store
        .link_identity(citizen_id, &link_of(identity), core.now())
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Ok(LinkOutcome::BelongsToAnother),
        Err(e) => return Err(e.into()),
    }
    refresh_profile(core, citizen_id, &identity.claims).await?;
    Ok(LinkOutcome::Linked)
}

pub async fn unlink(
    core: &Core,
    citizen_id: &str,
    identity_id: &str,
) -> Result<Unlink, OAuthError> {
    Ok(core.store.unlink_identity(citizen_id, identity_id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fresh_claims_win_and_missing_ones_are_kept() {
        let stored = json!({"name": "Hong", "email": "old@x"});
        let fresh = json!({"email": "new@x", "picture": null});
        assert_eq!(
            merge_claims(&stored, &fresh),
            json!({"name": "Hong", "email": "new@x"})
        );
    }
}
