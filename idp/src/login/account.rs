//! Account resolution: a verified identity maps to one citizen. The first login with an
//! identity creates the citizen; identities are unique on (issuer, subject).

use anyid_adapters::VerifiedIdentity;

use crate::error::OAuthError;
use crate::state::Core;
use crate::store::{AccountStore, Citizen, IdentityLink, StoreError};

pub async fn resolve(core: &Core, identity: &VerifiedIdentity) -> Result<String, OAuthError> {
    let now = core.now();
    if let Some(id) = core
        .store
        .citizen_by_identity(&identity.issuer, &identity.subject)
        .await?
    {
        core.store
            .touch_identity(&identity.issuer, &identity.subject, now)
            .await?;
        return Ok(id);
    }
    let citizen = Citizen {
        id: uuid::Uuid::now_v7().to_string(),
        claims: identity.claims.clone(),
        created_at: now,
    };
    let link = IdentityLink {
        method: identity.method.clone(),
        issuer: identity.issuer.clone(),
        subject: identity.subject.clone(),
        loa: identity.loa.acr().to_owned(),
    };
    match core.store.create_citizen(&citizen, &link).await {
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
