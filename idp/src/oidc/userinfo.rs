//! The UserInfo endpoint, OIDC Core §5.3, with bearer tokens per RFC 6750.

use anyid_policy::facts::{Context as PolicyContext, Principal, Resource};
use anyid_policy::{Action, Decision, Loa, Reason, Request as PolicyRequest};
use serde_json::{Map, Value};

use super::claims::released;
use super::parse_scope;
use super::subject::subject_for;
use super::tokens::verify_access_token;
use crate::error::{ErrorCode, OAuthError};
use crate::oidc::Provider;
use crate::store::{AccountStore, ClientRecord, ClientStore, GrantRecord, GrantStore, RiskStore};

/// Whether policy lets `client` have the citizen's claims under `grant` (DESIGN §6). A
/// step-up answers RFC 9470's challenge: log in again at that level for a new token.
fn permit_release(
    op: &Provider<'_>,
    client: &ClientRecord,
    grant: &GrantRecord,
    scopes: &[String],
    source: std::net::IpAddr,
    risk: u8,
) -> Result<(), OAuthError> {
    let request = PolicyRequest {
        principal: Principal::Citizen {
            id: grant.citizen_id.clone(),
        },
        action: Action::ReleaseClaims,
        resource: Resource::ClaimSet {
            client: op.client_facts(client),
            categories: scopes.to_vec(),
        },
        context: PolicyContext {
            ip: Some(source),
            acr: Loa::from_acr(&grant.acr),
            amr: grant.amr.clone(),
            auth_age_s: Some(u64::try_from(op.now() - grant.auth_time).unwrap_or(0)),
            risk,
            ..PolicyContext::default()
        },
    };
    match op.decide(&request) {
        Decision::Allow => Ok(()),
        Decision::StepUp(level) => Err(OAuthError::insufficient_user_authentication(level)),
        Decision::Deny(Reason::Throttled(wait)) => Err(OAuthError {
            retry_after: Some(wait),
            ..OAuthError::invalid_token("too many requests; try again later")
        }),
        Decision::Deny(_) => Err(OAuthError::invalid_token(
            "the provider's policy does not release claims for this token",
        )),
    }
}

/// The claims for the citizen behind `access_token`, as the token's client may see them.
pub async fn userinfo(
    op: &Provider<'_>,
    access_token: &str,
    source: std::net::IpAddr,
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
    let risk =
        crate::risk::session_risk(op.store.risk_of_session(&grant.session_id).await?, op.now());
    permit_release(op, &client, &grant, &scopes, source, risk)?;
    let mut out = released(&scopes, &citizen.claims);
    // Recorded before it leaves: which client received which details.
    op.record(vec![super::tokens::release(
        op,
        &client,
        &citizen.id,
        "userinfo",
        std::iter::once("sub".to_owned())
            .chain(out.keys().cloned())
            .collect(),
    )])
    .await?;
    // OIDC Core §5.3.2: `sub` equals the ID token's `sub`.
    out.insert(
        "sub".into(),
        Value::String(subject_for(op.secrets, &client, &citizen.id)),
    );
    Ok(out)
}
