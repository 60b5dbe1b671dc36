//! The UserInfo endpoint, OIDC Core §5.3, with bearer tokens per RFC 6750.

use serde_json::{Map, Value};

use super::claims::released;
use super::parse_scope;
use super::subject::subject_for;
use super::tokens::verify_access_token;
use crate::error::{ErrorCode, OAuthError};
use crate::oidc::Provider;
use crate::store::{AccountStore, ClientStore, GrantStore};

/// The claims for the citizen behind `access_token`, as the token's client may see them.
pub async fn userinfo(
    op: &Provider<'_>,
    access_token: &str,
) -> Result<Map<String, Value>, OAuthError> {
    let claims = verify_access_token(op, access_token).await?;
    let scopes = parse_scope(&claims.scope);
    // OIDC Core §5.3: userinfo needs an access token issued for the openid scope.
    if claims.gid.is_none() || !scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "the access token does not grant access to userinfo",
        ));
    }
    let revoked = || OAuthError::invalid_token("the access token was revoked");
    let client = op
        .store
        .client(&claims.client_id)
        .await?
        .ok_or_else(revoked)?;
    let gid = claims.gid.as_deref().unwrap_or_default();
    let grant = op.store.grant(gid).await?.ok_or_else(revoked)?;
    let citizen = op
        .store
        .citizen(&grant.citizen_id)
        .await?
        .ok_or_else(revoked)?;
    // The citizen suspended processing: nothing is released (`login::rights`).
    if citizen.suspended_at.is_some() {
        return Err(OAuthError::invalid_token("the account is suspended"));
    }
    let mut out = released(&scopes, &citizen.claims);
    // OIDC Core §5.3.2: `sub` equals the ID token's `sub`.
    out.insert(
        "sub".into(),
        Value::String(subject_for(op.secrets, &client, &citizen.id)),
    );
    Ok(out)
}
